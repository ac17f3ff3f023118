//! Numbers a publication states next to what they count: `120 WNI dievakuasi`, `3 warga negara
//! Indonesia ditahan`, `evacuated 45 Indonesian citizens`, `tiga WNI meninggal dunia`.
//!
//! A figure is a number (digits, with `.` or `,` between thousands, or Indonesian or English
//! number words up to the thousands), followed within two words by who it counts (WNI, warga
//! negara Indonesia, PMI, ABK, mahasiswa, Indonesian citizens, nationals, people...), with a
//! verb saying what happened to them (see `FigureKind::of_word`) in the same sentence, at most
//! six words before the number or after the people. The nearest verb wins. A number without
//! people or without a verb is not a figure: dates, phone numbers, ages and amounts of money
//! stay out.

use serde::Serialize;

use super::FigureKind;

/// One figure found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatedFigure {
    pub count: u64,
    /// Who is counted, as written (folded): `wni`, `warga negara indonesia`, `citizens`.
    pub what: String,
    pub kind: FigureKind,
    /// The verb as written (folded): `dievakuasi`, `evacuated`.
    pub verb: String,
    /// The words around it, for a reader to check.
    pub snippet: String,
}

/// Who a figure can count: phrases of folded words, longest first.
const PEOPLE: &[&str] = &[
    "warga negara indonesia",
    "pekerja migran indonesia",
    "anak buah kapal",
    "indonesian citizens",
    "indonesian nationals",
    "indonesian migrant workers",
    "indonesian workers",
    "indonesian students",
    "migrant workers",
    "warga indonesia",
    "orang wni",
    "wni",
    "pmi",
    "abk",
    "tki",
    "mahasiswa",
    "pelajar",
    "jemaah",
    "warga",
    "orang",
    "indonesians",
    "citizens",
    "nationals",
    "people",
    "persons",
    "students",
    "workers",
    "crew",
    "pilgrims",
];

/// How far (in words) a verb may be from the figure.
const VERB_REACH: usize = 6;

/// One token of a text: a folded word, a number, or a sentence end.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Number(u64),
    Stop,
}

/// Folded words and numbers; `1.200` and `1,200` are one number, a `.` not inside a number
/// ends a sentence.
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while i < chars.len() {
                if chars[i].is_ascii_digit() {
                    digits.push(chars[i]);
                    i += 1;
                } else if matches!(chars[i], '.' | ',')
                    && i + 3 < chars.len() + 1
                    && chars[i + 1..]
                        .iter()
                        .take(3)
                        .filter(|c| c.is_ascii_digit())
                        .count()
                        == 3
                    && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit())
                {
                    // A thousands separator: exactly three digits follow.
                    i += 1;
                } else {
                    break;
                }
            }
            // Digits glued to letters (`2x`, `covid19`) are not counts.
            if chars.get(i).is_some_and(|c| c.is_alphabetic()) {
                while i < chars.len() && chars[i].is_alphanumeric() {
                    i += 1;
                }
                continue;
            }
            match digits.parse() {
                Ok(n) if digits.len() <= 9 => out.push(Token::Number(n)),
                _ => out.push(Token::Word(digits)),
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '-') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `luka-luka`, `warga-negara`: each part a word.
            for part in crate::lexicon::words(&word) {
                out.push(Token::Word(part));
            }
        } else {
            if matches!(c, '.' | '!' | '?' | ';' | '\n') {
                out.push(Token::Stop);
            }
            i += 1;
        }
    }
    out
}

/// Number words: Indonesian (`tiga`, `dua belas`, `dua puluh lima`, `seratus`, `seribu`) and
/// English (`three`, `twelve`, `forty-five`, `two hundred`).
fn number_word(word: &str) -> Option<u64> {
    const UNITS: &[(&str, u64)] = &[
        ("satu", 1),
        ("dua", 2),
        ("tiga", 3),
        ("empat", 4),
        ("lima", 5),
        ("enam", 6),
        ("tujuh", 7),
        ("delapan", 8),
        ("sembilan", 9),
        ("sepuluh", 10),
        ("sebelas", 11),
        ("seratus", 100),
        ("seribu", 1000),
        ("one", 1),
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten", 10),
        ("eleven", 11),
        ("twelve", 12),
        ("thirteen", 13),
        ("fourteen", 14),
        ("fifteen", 15),
        ("sixteen", 16),
        ("seventeen", 17),
        ("eighteen", 18),
        ("nineteen", 19),
        ("twenty", 20),
        ("thirty", 30),
        ("forty", 40),
        ("fifty", 50),
        ("sixty", 60),
        ("seventy", 70),
        ("eighty", 80),
        ("ninety", 90),
    ];
    UNITS.iter().find(|(w, _)| *w == word).map(|(_, n)| *n)
}

/// Multipliers of number words.
fn multiplier(word: &str) -> Option<u64> {
    match word {
        "belas" => Some(0), // `dua belas` = 10 + 2: handled as a special case
        "puluh" => Some(10),
        "ratus" | "hundred" => Some(100),
        "ribu" | "thousand" => Some(1000),
        _ => None,
    }
}

/// Reads number words starting at `start`: the value and how many tokens it took.
fn read_number_words(tokens: &[Token], start: usize) -> Option<(u64, usize)> {
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    let (mut total, mut current, mut used) = (0u64, 0u64, 0usize);
    let mut i = start;
    while let Some(w) = word(i) {
        if let Some(n) = number_word(w) {
            if n >= 1000 {
                total += current.max(1) * n;
                current = 0;
            } else if n == 100 {
                current += 100;
            } else {
                current += n;
            }
        } else if let Some(m) = multiplier(w) {
            if used == 0 {
                break;
            }
            match w {
                "belas" => current += 10,
                "ribu" | "thousand" => {
                    total += current.max(1) * m;
                    current = 0;
                }
                "ratus" | "hundred" => {
                    // `dua ratus`: the units so far become hundreds.
                    let units = current % 100;
                    current = current - units + units.max(1) * m;
                }
                _ => {
                    let units = current % 10;
                    current = current - units + units * m;
                }
            }
        } else if w == "and" && used > 0 {
            // `two hundred and five`
        } else {
            break;
        }
        used += 1;
        i += 1;
    }
    // A lone `and` at the end belongs to the text.
    if used > 0 && word(start + used - 1) == Some("and") {
        used -= 1;
    }
    (used > 0).then_some((total + current, used))
}

/// The people phrase starting at `at`, with its length in words.
fn people_at(tokens: &[Token], at: usize) -> Option<(&'static str, usize)> {
    PEOPLE.iter().find_map(|phrase| {
        let words: Vec<&str> = phrase.split(' ').collect();
        let all = words
            .iter()
            .enumerate()
            .all(|(k, w)| matches!(tokens.get(at + k), Some(Token::Word(t)) if t == w));
        all.then_some((*phrase, words.len()))
    })
}

/// Every figure a text states.
pub fn extract(text: &str) -> Vec<StatedFigure> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (count, number_len) = match &tokens[i] {
            Token::Number(n) => (*n, 1),
            Token::Word(_) => match read_number_words(&tokens, i) {
                Some(found) => found,
                None => {
                    i += 1;
                    continue;
                }
            },
            Token::Stop => {
                i += 1;
                continue;
            }
        };
        // Who: right after the number, or after one word (`45 orang WNI`, `3 of the citizens`).
        let after = i + number_len;
        let people = (0..=2).find_map(|skip| {
            let at = after + skip;
            let gap_ok = (after..at).all(|k| matches!(tokens.get(k), Some(Token::Word(_))));
            if !gap_ok {
                return None;
            }
            people_at(&tokens, at).map(|(p, len)| (p, at, len))
        });
        let Some((what, people_at, people_len)) = people else {
            i += number_len;
            continue;
        };
        let people_end = people_at + people_len;
        if let Some((verb, kind)) = nearest_verb(&tokens, i, people_end) {
            let from = i.saturating_sub(VERB_REACH);
            let to = (people_end + VERB_REACH).min(tokens.len());
            out.push(StatedFigure {
                count,
                what: what.to_owned(),
                kind,
                verb,
                snippet: snippet(&tokens[from..to]),
            });
        }
        i = people_end;
    }
    out
}

/// The verb nearest to the figure in its sentence, before the number or after the people.
fn nearest_verb(
    tokens: &[Token],
    number_at: usize,
    people_end: usize,
) -> Option<(String, FigureKind)> {
    let mut best: Option<(usize, String, FigureKind)> = None;
    let mut consider = |distance: usize, token: &Token| {
        if let Token::Word(w) = token
            && let Some(kind) = FigureKind::of_word(w)
            && best.as_ref().is_none_or(|(d, _, _)| distance < *d)
        {
            best = Some((distance, w.clone(), kind));
        }
    };
    for d in 1..=VERB_REACH {
        let Some(at) = number_at.checked_sub(d) else {
            break;
        };
        if tokens[at] == Token::Stop {
            break;
        }
        consider(d, &tokens[at]);
    }
    for d in 0..VERB_REACH {
        match tokens.get(people_end + d) {
            None | Some(Token::Stop) => break,
            Some(t) => consider(d + 1, t),
        }
    }
    best.map(|(_, w, k)| (w, k))
}

fn snippet(tokens: &[Token]) -> String {
    let parts: Vec<String> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.clone()),
            Token::Number(n) => Some(n.to_string()),
            Token::Stop => None,
        })
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(u64, FigureKind)> {
        extract(text).iter().map(|f| (f.count, f.kind)).collect()
    }

    #[test]
    fn indonesian_figures() {
        assert_eq!(
            found("Sebanyak 120 WNI dievakuasi dari Khartoum menuju Port Sudan."),
            [(120, FigureKind::Evacuated)]
        );
        assert_eq!(
            found("KBRI mencatat 3 warga negara Indonesia ditahan otoritas setempat."),
            [(3, FigureKind::Detained)]
        );
        assert_eq!(
            found("Sebanyak 1.250 WNI telah dipulangkan ke tanah air."),
            [(1250, FigureKind::Repatriated)]
        );
        assert_eq!(
            found("Tiga WNI meninggal dunia dan dua puluh lima WNI luka-luka."),
            [(3, FigureKind::Deceased), (25, FigureKind::Injured)]
        );
        assert_eq!(
            found("KBRI telah mengevakuasi seratus dua puluh orang WNI."),
            [(120, FigureKind::Evacuated)]
        );
    }

    #[test]
    fn english_figures() {
        assert_eq!(
            found("The embassy evacuated 45 Indonesian citizens on Monday."),
            [(45, FigureKind::Evacuated)]
        );
        assert_eq!(
            found("Two hundred and five Indonesian nationals were repatriated."),
            [(205, FigureKind::Repatriated)]
        );
        assert_eq!(
            found("1,200 Indonesian workers have been assisted by the consulate."),
            [(1200, FigureKind::Assisted)]
        );
    }

    #[test]
    fn numbers_that_count_nothing_are_left_out() {
        // A date, a phone number, money, an age, a count with no verb.
        assert!(found("Pada 12 Maret 2026 hotline +62 812 1234 5678 dibuka.").is_empty());
        assert!(found("Bantuan senilai 500 juta rupiah disalurkan.").is_empty());
        assert!(found("Terdapat 2.000 WNI di kota tersebut.").is_empty());
        // The verb of the next sentence does not count.
        assert!(found("Ada 40 WNI di sana. Kemarin dievakuasi bus.").is_empty());
        // Odd input never panics.
        for text in [
            "",
            "1.",
            "1,2,3",
            "dua belas",
            "seribu",
            "9999999999999 WNI dievakuasi",
            "....",
        ] {
            let _ = extract(text);
        }
    }
}
