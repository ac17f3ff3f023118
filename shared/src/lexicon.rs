//! Text folding and term matching shared by [`crate::topics`], [`crate::places`] and
//! [`crate::stories`].
//!
//! Text is folded once (lower case, accents removed, anything not a letter or digit a word
//! break) and split into words. A [`Lexicon`] holds terms written as words with two markers:
//! `evakuasi~` also matches the root with Indonesian affixes (`dievakuasi`, `mengevakuasi`,
//! `penculikan` from `culik~`), and `evacuat*` matches any word starting with `evacuat`. Terms of
//! several words match consecutive words. Matching takes the longest terms first and a word
//! belongs to one match only, so `perdagangan orang` (trafficking) is not also `perdagangan`
//! (trade) and `korea utara` is not also `korea`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Lower case, accents folded to ASCII where Latin letters carry them, punctuation and
/// symbols turned into spaces. Letters of other scripts are kept (lower-cased).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        for lower in c.to_lowercase() {
            match fold_char(lower) {
                Some(folded) => out.push_str(folded),
                None if lower.is_alphanumeric() => out.push(lower),
                None => out.push(' '),
            }
        }
    }
    out
}

/// The words of a text, folded.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split_whitespace().map(str::to_owned).collect()
}

/// ASCII for the accented Latin letters news text in Pantau's languages uses
/// (Turkish, Vietnamese, European names); None for everything else.
fn fold_char(c: char) -> Option<&'static str> {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ'
        | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ'
        | 'ệ' => "e",
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' | 'ỉ' | 'ị' | 'ĩ' => "i",
        'ł' | 'ľ' | 'ĺ' | 'ļ' => "l",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'ơ' | 'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ'
        | 'ộ' | 'ớ' | 'ờ' | 'ở' | 'ỡ' | 'ợ' => "o",
        'œ' => "oe",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' | 'ư' | 'ụ' | 'ủ' | 'ũ' | 'ứ' | 'ừ' | 'ử'
        | 'ữ' | 'ự' => "u",
        'ý' | 'ÿ' | 'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        // Apostrophes join (`people's` → `peoples`, `ma'had` → `mahad`) rather than split.
        '\'' | '’' | 'ʼ' | '`' => "",
        _ => return None,
    };
    Some(folded)
}

/// Indonesian prefixes and suffixes tried around a `~` root. `ke-…-an` and `pe-…-an` come
/// from combining them.
const PREFIXES: [&str; 16] = [
    "di", "me", "mem", "men", "meng", "menge", "pe", "pem", "pen", "peng", "penge", "ter", "ber",
    "per", "ke", "se",
];
const SUFFIXES: [&str; 8] = ["kan", "i", "an", "nya", "kannya", "annya", "lah", "anlah"];

/// One word of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WordPattern {
    Exact(String),
    /// `evacuat*`
    Prefix(String),
    /// `evakuasi~`: the root, or the root with Indonesian affixes.
    Affixed(String),
}

impl WordPattern {
    fn parse(word: &str) -> WordPattern {
        if let Some(stem) = word.strip_suffix('*') {
            WordPattern::Prefix(fold(stem).trim().to_owned())
        } else if let Some(root) = word.strip_suffix('~') {
            WordPattern::Affixed(fold(root).trim().to_owned())
        } else {
            WordPattern::Exact(word.to_owned())
        }
    }

    fn matches(&self, word: &str) -> bool {
        match self {
            WordPattern::Exact(w) => w == word,
            WordPattern::Prefix(stem) => word.starts_with(stem.as_str()),
            WordPattern::Affixed(root) => affixed_form_of(word, root),
        }
    }
}

/// Whether `word` is `root` with Indonesian affixes: `di`+`evakuasi`, `peng`+`evakuasi`+`an`,
/// and the nasal forms `me`/`pe` make of roots in p, t, k, s (`tahan` → `menahan`,
/// `pulang` → `pemulangan`, `sandera` → `menyandera`).
fn affixed_form_of(word: &str, root: &str) -> bool {
    if word == root {
        return true;
    }
    let nasal = nasal_stem(root);
    for prefix in std::iter::once("").chain(PREFIXES) {
        let Some(rest) = word.strip_prefix(prefix) else {
            continue;
        };
        let mut stems = vec![root];
        if prefix == "me" || prefix == "pe" {
            stems.extend(nasal.as_deref());
        }
        for stem in stems {
            let Some(tail) = rest.strip_prefix(stem) else {
                continue;
            };
            if tail.is_empty() && !prefix.is_empty() || SUFFIXES.contains(&tail) {
                return true;
            }
        }
    }
    false
}

/// The stem `me-`/`pe-` make of a root whose first consonant melts: `p` → `m`, `t` → `n`,
/// `k` → `ng`, `s` → `ny`.
fn nasal_stem(root: &str) -> Option<String> {
    let mut chars = root.chars();
    let first = chars.next()?;
    let rest = chars.as_str();
    let nasal = match first {
        'p' => "m",
        't' => "n",
        'k' => "ng",
        's' => "ny",
        _ => return None,
    };
    Some(format!("{nasal}{rest}"))
}

/// Where in an item a term was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Body,
}

/// One term found: which entry, the term as the lexicon writes it, the words it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'a, K> {
    pub key: &'a K,
    pub term: &'a str,
    /// The folded words matched, space-separated (`dievakuasi` for the term `evakuasi~`).
    pub matched: String,
    /// Index of the first word matched.
    pub position: usize,
}

#[derive(Debug, Clone)]
struct Entry<K> {
    term: String,
    words: Vec<WordPattern>,
    key: K,
}

/// Terms, each with a key (a tag id, a country code), matched against folded words.
#[derive(Debug, Clone)]
pub struct Lexicon<K> {
    entries: Vec<Entry<K>>,
    /// Entries by their first word when it is exact, so a text is not matched term by term.
    by_first_word: HashMap<String, Vec<usize>>,
    /// Entries whose first word is a prefix or a root: tried at every word.
    others: Vec<usize>,
}

impl<K> Default for Lexicon<K> {
    fn default() -> Self {
        Lexicon {
            entries: Vec::new(),
            by_first_word: HashMap::new(),
            others: Vec::new(),
        }
    }
}

impl<K> Lexicon<K> {
    /// Adds a term (`gunung api`, `evakuasi~`, `evacuat*`); it is folded like text is.
    /// A term that folds to nothing is ignored.
    pub fn add(&mut self, term: &str, key: K) {
        let words: Vec<WordPattern> = term
            .split_whitespace()
            .flat_map(|w| {
                // Fold each written word but keep its marker: `gunung-api` is two words.
                let marker = w.chars().last().filter(|c| *c == '*' || *c == '~');
                let folded: Vec<String> = fold(w).split_whitespace().map(str::to_owned).collect();
                let n = folded.len();
                folded
                    .into_iter()
                    .enumerate()
                    .map(move |(i, f)| match marker {
                        Some(m) if i + 1 == n => WordPattern::parse(&format!("{f}{m}")),
                        _ => WordPattern::Exact(f),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        if words.is_empty() {
            return;
        }
        let index = self.entries.len();
        match &words[0] {
            WordPattern::Exact(first) => self
                .by_first_word
                .entry(first.clone())
                .or_default()
                .push(index),
            _ => self.others.push(index),
        }
        self.entries.push(Entry {
            term: term.to_owned(),
            words,
            key,
        });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every term found in `words`, longest first, no word used twice; returned in text order.
    pub fn find<'a>(&'a self, words: &[String]) -> Vec<Hit<'a, K>> {
        // (position, length, entry) of every match, then keep them greedily by length.
        let mut candidates = Vec::new();
        for (position, word) in words.iter().enumerate() {
            let indexed = self.by_first_word.get(word).into_iter().flatten();
            for &index in indexed.chain(self.others.iter()) {
                let entry = &self.entries[index];
                let n = entry.words.len();
                if position + n > words.len() {
                    continue;
                }
                let all = entry
                    .words
                    .iter()
                    .zip(&words[position..position + n])
                    .all(|(pattern, word)| pattern.matches(word));
                if all {
                    candidates.push((position, n, index));
                }
            }
        }
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)).then(a.2.cmp(&b.2)));
        let mut used = vec![false; words.len()];
        let mut hits = Vec::new();
        for (position, n, index) in candidates {
            let span = position..position + n;
            if used[span.clone()].iter().any(|u| *u) {
                continue;
            }
            used[span.clone()].iter_mut().for_each(|u| *u = true);
            let entry = &self.entries[index];
            hits.push(Hit {
                key: &entry.key,
                term: &entry.term,
                matched: words[span].join(" "),
                position,
            });
        }
        hits.sort_by_key(|h| h.position);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_lowercases_strips_accents_and_punctuation() {
        assert_eq!(fold("Türkiye: Gempa M7,4!"), "turkiye  gempa m7 4 ");
        assert_eq!(
            words("Việt Nam — São Paulo"),
            ["viet", "nam", "sao", "paulo"]
        );
        assert_eq!(words("People's Court"), ["peoples", "court"]);
        assert_eq!(words("Timor-Leste"), ["timor", "leste"]);
    }

    #[test]
    fn affixed_roots_match_indonesian_verb_and_noun_forms() {
        for word in ["evakuasi", "dievakuasi", "mengevakuasi", "pengevakuasian"] {
            assert!(affixed_form_of(word, "evakuasi"), "{word}");
        }
        for word in ["menahan", "ditahan", "penahanan"] {
            assert!(affixed_form_of(word, "tahan"), "{word}");
        }
        for word in ["menyandera", "disandera", "penyanderaan"] {
            assert!(affixed_form_of(word, "sandera"), "{word}");
        }
        assert!(affixed_form_of("pemulangan", "pulang"));
        assert!(affixed_form_of("kepulangan", "pulang"));
        assert!(affixed_form_of("diculiknya", "culik"));
        // Not a form of the root: other words that merely contain it.
        assert!(!affixed_form_of("evakuasikanlahnya", "evakuasi"));
        assert!(!affixed_form_of("tahun", "tahan"));
    }

    #[test]
    fn longest_terms_win_and_words_are_used_once() {
        let mut lexicon = Lexicon::default();
        lexicon.add("perdagangan", "trade");
        lexicon.add("perdagangan orang", "trafficking");
        lexicon.add("evacuat*", "evacuation");
        lexicon.add("gunung-api", "volcano");
        let text =
            words("Kasus perdagangan orang dan perdagangan kopi; warga dievacuated, gunung api");
        let hits = lexicon.find(&text);
        let keys: Vec<(&str, &str)> = hits.iter().map(|h| (*h.key, h.matched.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("trafficking", "perdagangan orang"),
                ("trade", "perdagangan"),
                ("volcano", "gunung api"),
            ]
        );
        let hits = lexicon.find(&words("Residents were evacuated"));
        assert_eq!(hits[0].term, "evacuat*");
        assert_eq!(hits[0].matched, "evacuated");
    }
}
