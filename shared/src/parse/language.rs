//! Which language an item is written in.
//!
//! The text decides when it says enough: whatlang (trigram and script models, 69 languages,
//! Indonesian, English, Japanese and Arabic among them) reads the title and the start of the
//! summary or body. What the source declared (the feed's or page's own tag, else the
//! registry's language for the source) is the prior: it stands when the text is short or
//! the detector is unsure, unless the text is plainly in another script (a Japanese title
//! in a source declared `id` is Japanese).

use whatlang::Lang;

use super::primary_language;
use crate::model::NormalizedItem;

/// Letters of text below which the declared language is trusted over the detector.
const SHORT_TEXT_LETTERS: usize = 60;

/// Without a declared language, shorter texts get no language at all.
const TOO_SHORT_TO_GUESS: usize = 12;

/// How much of the item's text is read: the language does not change halfway through.
const SAMPLE_CHARS: usize = 1500;

/// The language of `text` (ISO 639-1 where it has one: `id`, `en`, `ja`, `ar`), with
/// `declared` (any language tag) as the prior.
pub fn detect(text: &str, declared: Option<&str>) -> Option<String> {
    let declared = declared.and_then(primary_language);
    let sample = match text.char_indices().nth(SAMPLE_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    // Letters and whether most are Latin, in one pass (each was a pass of its own).
    let (latin, other) = letters_by_script(sample);
    let letters = latin + other;
    let text_is_latin = latin > other;
    // A short text in the declared language's script keeps the declared language whatever
    // the detector says (see below), so the detector, most of a feed's parse time, is
    // skipped for it.
    if let Some(declared) = &declared
        && letters < SHORT_TEXT_LETTERS
        && letters > 0
        && text_is_latin != NON_LATIN.contains(&declared.as_str())
    {
        return Some(declared.clone());
    }
    // Undeclared and too short to guess: no language, whatever the detector would say.
    if declared.is_none() && letters < TOO_SHORT_TO_GUESS {
        return None;
    }
    // Text plainly in English or Indonesian by its function words, as declared (or with
    // nothing declared), is what the detector would find too; it is not asked (the detector
    // was most of a feed's parse time, and long texts cost it most).
    if let Some(plain) = plain_english_or_indonesian(sample)
        && declared.as_deref().is_none_or(|d| d == plain)
        && text_is_latin
    {
        return Some(plain.to_owned());
    }
    let Some(info) = whatlang::detect(sample) else {
        return declared;
    };
    let detected = iso_639_1(info.lang());
    let Some(declared) = declared else {
        return (letters >= TOO_SHORT_TO_GUESS).then(|| detected.to_owned());
    };
    if declared == detected {
        return Some(declared);
    }
    let script_disagrees = text_is_latin == NON_LATIN.contains(&declared.as_str());
    // A script says much about a language except for Latin, which dozens share: a short Latin
    // text is guessed from only when the guess is reliable.
    let script_guess_holds = !text_is_latin || info.is_reliable();
    let text_decides = (letters >= SHORT_TEXT_LETTERS && info.is_reliable())
        || (script_disagrees
            && letters > 0
            && script_guess_holds
            && detected_script_matches(detected, text_is_latin));
    if text_decides {
        Some(detected.to_owned())
    } else if script_disagrees && letters > 0 {
        // The declared language cannot be right (wrong script) and the text is too short to
        // tell: unknown rather than wrong.
        None
    } else {
        Some(declared)
    }
}

/// Sets `item.language` from its text, its own tag or `source_language` as the prior.
pub fn assign(item: &mut NormalizedItem, source_language: Option<&str>) {
    let declared = item.language.clone();
    let declared = declared.as_deref().or(source_language);
    let mut text = item.title.clone();
    for part in [item.summary.as_deref(), item.body.as_deref()]
        .into_iter()
        .flatten()
    {
        if text.chars().count() >= SAMPLE_CHARS {
            break;
        }
        text.push('\n');
        text.push_str(part);
    }
    item.language = detect(&text, declared);
}

/// A function word of English or Indonesian (and Malay, which whatlang reads as Indonesian):
/// frequent short words that are rare in other languages' text. The number tells them apart.
#[derive(Clone, Copy)]
enum FunctionWord {
    English(u8),
    Indonesian(u8),
}

/// Which function word `word` is, in any case. None for every other word.
fn function_word(word: &str) -> Option<FunctionWord> {
    use FunctionWord::{English, Indonesian};
    // The longest function word has eight letters; a word is lowered into a small buffer
    // (the check runs on every word of a text, so it must not allocate).
    const LONGEST: usize = 8;
    if word.len() > LONGEST || !word.is_ascii() {
        return None;
    }
    let mut lower = [0u8; LONGEST];
    for (to, from) in lower.iter_mut().zip(word.bytes()) {
        *to = from.to_ascii_lowercase();
    }
    Some(match &lower[..word.len()] {
        b"the" => English(0),
        b"of" => English(1),
        b"and" => English(2),
        b"to" => English(3),
        b"in" => English(4),
        b"is" => English(5),
        b"that" => English(6),
        b"for" => English(7),
        b"on" => English(8),
        b"with" => English(9),
        b"as" => English(10),
        b"by" => English(11),
        b"at" => English(12),
        b"from" => English(13),
        b"this" => English(14),
        b"be" => English(15),
        b"are" => English(16),
        b"was" => English(17),
        b"were" => English(18),
        b"it" => English(19),
        b"its" => English(20),
        b"an" => English(21),
        b"or" => English(22),
        b"has" => English(23),
        b"have" => English(24),
        b"had" => English(25),
        b"will" => English(26),
        b"not" => English(27),
        b"but" => English(28),
        b"which" => English(29),
        b"their" => English(30),
        b"they" => English(31),
        b"he" => English(32),
        b"she" => English(33),
        b"we" => English(34),
        b"yang" => Indonesian(0),
        b"dan" => Indonesian(1),
        b"di" => Indonesian(2),
        b"ke" => Indonesian(3),
        b"dari" => Indonesian(4),
        b"untuk" => Indonesian(5),
        b"dengan" => Indonesian(6),
        b"pada" => Indonesian(7),
        b"ini" => Indonesian(8),
        b"itu" => Indonesian(9),
        b"dalam" => Indonesian(10),
        b"tidak" => Indonesian(11),
        b"akan" => Indonesian(12),
        b"juga" => Indonesian(13),
        b"oleh" => Indonesian(14),
        b"sebagai" => Indonesian(15),
        b"adalah" => Indonesian(16),
        b"atau" => Indonesian(17),
        b"telah" => Indonesian(18),
        b"bahwa" => Indonesian(19),
        b"karena" => Indonesian(20),
        b"para" => Indonesian(21),
        b"kami" => Indonesian(22),
        b"kita" => Indonesian(23),
        b"mereka" => Indonesian(24),
        b"ia" => Indonesian(25),
        b"tersebut" => Indonesian(26),
        b"secara" => Indonesian(27),
        b"dapat" => Indonesian(28),
        b"lebih" => Indonesian(29),
        _ => return None,
    })
}

/// `en` or `id` when the text's function words leave no doubt: at least eight words, a fifth
/// of them function words of the one language, at least three different ones, and the other
/// language's at most a quarter as many. None when unsure (the detector decides).
fn plain_english_or_indonesian(sample: &str) -> Option<&'static str> {
    let (mut words, mut english, mut indonesian) = (0usize, 0usize, 0usize);
    // Which function words occur, as bits.
    let (mut english_seen, mut indonesian_seen) = (0u64, 0u64);
    for word in sample.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() {
            continue;
        }
        words += 1;
        match function_word(word) {
            Some(FunctionWord::English(at)) => {
                english += 1;
                english_seen |= 1 << at;
            }
            Some(FunctionWord::Indonesian(at)) => {
                indonesian += 1;
                indonesian_seen |= 1 << at;
            }
            None => {}
        }
    }
    let plain = |count: usize, seen: u64, other: usize| {
        words >= 8 && seen.count_ones() >= 3 && count * 5 >= words && other * 4 <= count
    };
    if plain(english, english_seen, indonesian) {
        Some("en")
    } else if plain(indonesian, indonesian_seen, english) {
        Some("id")
    } else {
        None
    }
}

/// Languages whose usual script is not Latin.
const NON_LATIN: &[&str] = &[
    "ja", "zh", "ko", "ar", "fa", "ur", "he", "yi", "ru", "uk", "be", "bg", "sr", "mk", "el", "ka",
    "hy", "th", "km", "my", "lo", "hi", "mr", "ne", "bn", "ta", "te", "kn", "ml", "gu", "pa", "si",
    "am", "or",
];

fn detected_script_matches(detected: &str, text_is_latin: bool) -> bool {
    text_is_latin != NON_LATIN.contains(&detected)
}

/// The letters of `text` in the Latin script (ASCII or the Latin extensions) and in any
/// other; the text is Latin when more than half are.
fn letters_by_script(text: &str) -> (usize, usize) {
    let (mut latin, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if (c as u32) < 0x0250 || ('\u{1E00}'..='\u{1EFF}').contains(&c) {
            latin += 1;
        } else {
            other += 1;
        }
    }
    (latin, other)
}

/// whatlang's ISO 639-3 codes → the two-letter codes the rest of Pantau uses.
fn iso_639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real sentences of the kind Pantau reads: an embassy notice in Indonesian, a news
    // lead in English, a Japanese ministry notice, an Arabic news lead.
    const INDONESIAN: &str = "Kedutaan Besar Republik Indonesia di Tokyo mengimbau seluruh \
        warga negara Indonesia untuk melakukan lapor diri dan selalu waspada terhadap \
        perkembangan situasi keamanan setempat.";
    const ENGLISH: &str = "The Embassy of the Republic of Indonesia in London held a trade \
        and investment forum on Tuesday, attended by more than two hundred business leaders \
        from both countries.";
    const JAPANESE: &str = "外務省は、在留邦人に対し、最新の治安情報に注意し、不要不急の外出を\
        控えるよう呼びかけています。";
    const ARABIC: &str = "أعلنت وزارة الخارجية اليوم عن افتتاح سفارة جديدة في العاصمة، وذلك في \
        إطار تعزيز العلاقات الثنائية بين البلدين.";

    #[test]
    fn long_texts_speak_for_themselves() {
        for (text, want) in [
            (INDONESIAN, "id"),
            (ENGLISH, "en"),
            (JAPANESE, "ja"),
            (ARABIC, "ar"),
        ] {
            assert_eq!(detect(text, None).as_deref(), Some(want), "{text}");
            // A wrong declaration does not override a text that says enough.
            let wrong = if want == "en" { "id" } else { "en" };
            assert_eq!(detect(text, Some(wrong)).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn the_declared_language_holds_for_short_latin_text() {
        // Four words could be several languages: the source's word stands.
        assert_eq!(
            detect("Pameran Batik di Tokyo", Some("id")).as_deref(),
            Some("id")
        );
        assert_eq!(
            detect("Batik Exhibition Tokyo", Some("en-GB")).as_deref(),
            Some("en")
        );
        assert_eq!(detect("", Some("ja")).as_deref(), Some("ja"));
        assert_eq!(detect("OK", None), None, "too short to guess");
    }

    #[test]
    fn another_script_overrides_the_declared_language_even_when_short() {
        assert_eq!(
            detect("大使館からのお知らせ", Some("id")).as_deref(),
            Some("ja")
        );
        assert_eq!(detect("سفارة إندونيسيا", Some("en")).as_deref(), Some("ar"));
        // Latin text in a source declared Japanese is not Japanese.
        assert_eq!(detect(INDONESIAN, Some("ja")).as_deref(), Some("id"));
    }

    #[test]
    fn function_words_decide_plain_english_and_indonesian() {
        let indonesian = "Menteri Luar Negeri mengatakan bahwa pemerintah akan terus \
            memberikan perlindungan kepada warga negara Indonesia yang berada di luar negeri \
            dan tidak akan membiarkan mereka tanpa bantuan.";
        assert_eq!(plain_english_or_indonesian(ENGLISH), Some("en"));
        assert_eq!(plain_english_or_indonesian(indonesian), Some("id"));
        // Too few function words (a notice of names and nouns), too few words, too few
        // different function words, another language: unsure, the detector decides.
        assert_eq!(plain_english_or_indonesian(INDONESIAN), None);
        assert_eq!(plain_english_or_indonesian("The cat and the hat"), None);
        assert_eq!(
            plain_english_or_indonesian("bloffo bliff by te bloffo bliff by te bloffo bliff by te"),
            None
        );
        assert_eq!(plain_english_or_indonesian(JAPANESE), None);
        let german = "Die Botschaft der Republik Indonesien in Berlin hat am Dienstag ein \
            Forum veranstaltet, an dem mehr als zweihundert Unternehmer teilnahmen.";
        assert_eq!(plain_english_or_indonesian(german), None);
        // What it decides is what the detector says.
        for text in [ENGLISH, indonesian] {
            let plain = plain_english_or_indonesian(text).unwrap();
            let info = whatlang::detect(text).unwrap();
            assert_eq!(iso_639_1(info.lang()), plain, "{text}");
        }
    }

    fn item(title: &str) -> NormalizedItem {
        use crate::model::SourceKind;
        use crate::parse::{ParseInput, new_item, test_support};
        let meta = test_support::meta(SourceKind::Feed, "london", "https://example.org/");
        let input = ParseInput {
            body: b"",
            meta: &meta,
            raw_key: "raw/k.xml",
            time_zone: "UTC",
            source_language: None,
        };
        new_item(&input, title.to_owned())
    }

    #[test]
    fn items_take_the_language_of_their_text() {
        let mut english = item("KBRI London gelar forum");
        english.summary = Some(ENGLISH.into());
        english.language = Some("id".into());
        assign(&mut english, Some("id"));
        assert_eq!(english.language.as_deref(), Some("en"));

        let mut short = item("Forum Bisnis");
        assign(&mut short, Some("id"));
        assert_eq!(
            short.language.as_deref(),
            Some("id"),
            "the source's language"
        );
    }
}
