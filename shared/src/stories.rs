//! Stories: which items report the same thing, and why.
//!
//! A mission republishing the ministry's release, media copying each other, the Indonesian and
//! English versions of one portal post: these are one story. Each item gets a [`Fingerprint`];
//! [`same_story`] compares two and says why they are one story, or None.
//!
//! Candidate lookup is key queries over a time window, never a scan: an item is indexed under
//! its [`Fingerprint::candidate_keys`] and a new item queries its own. [`same_story`] links
//! only items that share a key, so whatever it would link, the index finds.
//!
//! | key | what shares it |
//! |-----|----------------|
//! | `STORY_PUB#{mission}/{source}/{guid}` | the language versions of one portal post |
//! | `STORY_TITLE#{hash}` | equal [`title_key`]s (folded, stopwords gone, words sorted) |
//! | `STORY_BAND#{band}#{value}` | SimHash signatures equal in one of 4 bands of 16 bits |
//! | `STORY_NUM#{digits}` | a number that is not a day of the month (a count, an amount, a hotline) |
//! | `STORY_NAME#{name}` | one of the [`NAME_KEYS`] longest proper names (the same in both languages) |
//! | `STORY_SENT#{hash}` | one of the [`SENTENCE_KEYS`] longest sentences, folded (copied text keeps whole sentences) |
//!
//! The rules, in order; the first that holds is the link's [`LinkReason`]:
//! 1. same publication;
//! 2. body SimHash within [`MAX_BODY_DISTANCE`] bits (near-verbatim copies). Two signatures
//!    within 3 bits differ in at most 3 of the 4 bands, so they share one band exactly
//!    (pigeonhole): the band keys find every pair this rule accepts;
//! 3. equal title keys of at least [`MIN_TITLE_KEY_WORDS`] words (headline copies), unless
//!    the bodies conflict;
//! 4. bodies that share at least [`MIN_CONTAINMENT`] of the smaller one's word pairs
//!    (republished and lightly edited texts), unless they conflict;
//! 5. most numbers and proper names ([`anchors`]) shared (paraphrases and translations;
//!    stricter within one language), unless they conflict.
//!
//! Bodies *conflict* when each has a number the other lacks: the same-site templates (two
//! passport-service notices, two typhoon closures, two Independence Day ceremonies) share
//! nearly all their words and differ exactly in dates, times, counts and quotas, while a
//! republished or copied text drops or adds numbers on one side only.
//!
//! The labeled pairs in `stories/pairs.tsv` (over the documents in `stories/docs.tsv`) measure
//! precision and recall; see the tests.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lexicon;
use crate::model::NormalizedItem;
use crate::schema;

/// Bands the SimHash is cut into for lookup.
pub const BANDS: usize = 4;
/// Bits per band.
pub const BAND_BITS: u32 = 16;
/// The SimHash rule accepts signatures this many bits apart or closer. With 4 bands it must
/// stay below 4 so that banding finds every accepted pair.
pub const MAX_BODY_DISTANCE: u32 = 3;
/// Bodies shorter than this (in words) have no signature and no shingles: too short to
/// compare as text.
pub const MIN_BODY_WORDS: usize = 25;
/// Words per SimHash shingle.
pub const SIMHASH_SHINGLE_WORDS: usize = 3;
/// Words per shingle of the containment rule: pairs survive light editing better than triples.
pub const CONTAINMENT_SHINGLE_WORDS: usize = 2;
/// The containment rule's threshold: shared shingles over the smaller body's shingles.
pub const MIN_CONTAINMENT: f64 = 0.5;
/// A title key needs this many words to match on its own: "Imbauan bagi WNI" is not a story.
pub const MIN_TITLE_KEY_WORDS: usize = 4;
/// Cross-language rule: at least this many anchors shared...
pub const MIN_SHARED_ANCHORS: usize = 5;
/// ...and at least this share of the smaller anchor set.
pub const MIN_ANCHOR_OVERLAP: f64 = 0.6;
/// Same-language anchors rule (paraphrases): at least this many anchors shared...
pub const MIN_SHARED_ANCHORS_SAME_LANGUAGE: usize = 6;
/// ...and at least this share of the smaller anchor set.
pub const MIN_ANCHOR_OVERLAP_SAME_LANGUAGE: f64 = 0.7;
/// At most this many `STORY_NUM#` keys per item (the longest numbers).
pub const MAX_NUMBER_KEYS: usize = 6;
/// `STORY_NAME#` keys per item: its longest proper names.
pub const NAME_KEYS: usize = 4;
/// Names shorter than this make no key.
pub const MIN_NAME_KEY_CHARS: usize = 5;
/// `STORY_SENT#` keys per item: its longest sentences.
pub const SENTENCE_KEYS: usize = 4;
/// Sentences shorter than this (in words) make no key: too generic.
pub const MIN_SENTENCE_WORDS: usize = 8;

/// Words that carry no story: Indonesian and English function words and the words every
/// mission post uses.
const STOPWORDS: &[&str] = &[
    // Indonesian
    "yang", "dan", "di", "ke", "dari", "untuk", "dengan", "pada", "dalam", "ini", "itu", "atau",
    "oleh", "akan", "telah", "sudah", "juga", "tidak", "ada", "para", "bagi", "serta", "tentang",
    "terkait", "kepada", "sebagai", "secara", "setelah", "karena", "agar", "dapat", "bisa",
    "lebih", "hingga", "sejak", "antara", "atas", "melalui", "masih", "kembali", "sebanyak",
    "sekitar", "seluruh", "nya", "pun", "lah", "kata", "ujar", "menurut", "saat", "kini", "belum",
    "sedang", "bahwa", "tersebut", "mereka", "kami", "kita", "ia", "dia", "se",
    // English
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as",
    "is", "are", "was", "were", "be", "been", "has", "have", "had", "it", "its", "this", "that",
    "these", "those", "after", "over", "into", "about", "their", "they", "he", "she", "his", "her",
    "will", "would", "said", "says", "say", "not", "no", "but", "than", "more", "s", "who",
    "which", "while", "up", "out", "all", "some", "also", "amid", "via",
];

fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// The normalized title: folded, stopwords removed, each word once, sorted. Reordered or
/// re-punctuated copies of a headline get the same key.
pub fn title_key(title: &str) -> String {
    let words: BTreeSet<String> = lexicon::words(title)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .collect();
    words.into_iter().collect::<Vec<_>>().join(" ")
}

/// 64-bit SimHash of a text's word shingles (folded words, [`SIMHASH_SHINGLE_WORDS`] at a time).
/// None when the text has fewer than [`MIN_BODY_WORDS`] words.
pub fn simhash(text: &str) -> Option<u64> {
    let words = lexicon::words(text);
    if words.len() < MIN_BODY_WORDS {
        return None;
    }
    let mut counts = [0i32; 64];
    for shingle in words.windows(SIMHASH_SHINGLE_WORDS) {
        let hash = stable_hash(&shingle.join(" "));
        for (bit, count) in counts.iter_mut().enumerate() {
            if hash >> bit & 1 == 1 {
                *count += 1;
            } else {
                *count -= 1;
            }
        }
    }
    let mut signature = 0u64;
    for (bit, count) in counts.iter().enumerate() {
        if *count > 0 {
            signature |= 1 << bit;
        }
    }
    Some(signature)
}

/// FNV-1a, then the SplitMix64 finalizer to spread its bits: stable across builds and
/// platforms (signatures are stored), and every output bit depends on every input byte.
fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// Bits that differ.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The signature cut into [`BANDS`] values of [`BAND_BITS`] bits, lowest bits first.
pub fn band_values(signature: u64) -> [u16; BANDS] {
    std::array::from_fn(|band| (signature >> (band as u32 * BAND_BITS)) as u16)
}

/// The partition keys (`STORY_BAND#{band}#{value}`) an item with this signature is stored
/// under and looks its candidates up in.
pub fn band_keys(signature: u64) -> [String; BANDS] {
    let values = band_values(signature);
    std::array::from_fn(|band| schema::story_band_pk(band, values[band]))
}

/// What [`same_story`] compares. Build it from an item's text ([`Fingerprint::of_item`]); it
/// is cheap to rebuild and serializable to keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub title_key: String,
    /// SimHash of the body; None for short or missing bodies.
    pub simhash: Option<u64>,
    /// Hashes of the body's word pairs, sorted, each once; empty for short or missing bodies.
    pub shingles: Vec<u64>,
    /// Numbers and proper names of the body (or the title when there is no body).
    pub anchors: BTreeSet<String>,
    /// Hashes of the longest sentences of the body (see [`sentence_hashes`]).
    pub sentences: Vec<u64>,
    /// BCP 47 primary tag, when known.
    pub language: Option<String>,
    /// The post this is one language version of (`{mission}/{source}/{guid}`), when the
    /// source publishes several languages under one id.
    pub publication: Option<String>,
}

impl Fingerprint {
    pub fn new(title: &str, body: &str, language: Option<&str>) -> Fingerprint {
        let has_body = !body.trim().is_empty();
        Fingerprint {
            title_key: title_key(title),
            simhash: simhash(body),
            shingles: shingle_hashes(body),
            anchors: anchors(if has_body { body } else { title }),
            sentences: sentence_hashes(body),
            language: language.map(str::to_owned),
            publication: None,
        }
    }

    pub fn with_publication(mut self, publication: Option<String>) -> Fingerprint {
        self.publication = publication;
        self
    }

    /// An item's fingerprint: title, summary and body; a portal item's publication is its
    /// mission, source and slug, shared by its language versions.
    pub fn of_item(item: &NormalizedItem) -> Fingerprint {
        let publication = match (&item.kind, &item.guid) {
            (crate::model::SourceKind::KemluPortal, Some(guid)) if !guid.trim().is_empty() => {
                Some(format!("{}/{}/{}", item.mission, item.source, guid.trim()))
            }
            _ => None,
        };
        Fingerprint::new(
            &item.title,
            &crate::topics::item_body(item),
            item.language.as_deref(),
        )
        .with_publication(publication)
    }

    fn title_key_words(&self) -> usize {
        self.title_key.split(' ').filter(|w| !w.is_empty()).count()
    }

    /// The numbers among the anchors.
    fn numbers(&self) -> impl Iterator<Item = &String> {
        self.anchors
            .iter()
            .filter(|a| a.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The partitions to store this item under and to query for its candidates.
    pub fn candidate_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(publication) = &self.publication {
            keys.push(schema::story_publication_pk(publication));
        }
        if self.title_key_words() >= MIN_TITLE_KEY_WORDS {
            let digest = Sha256::digest(self.title_key.as_bytes());
            keys.push(schema::story_title_pk(&hex::encode(digest)[..16]));
        }
        if let Some(signature) = self.simhash {
            keys.extend(band_keys(signature));
        }
        // Numbers that are not a day of the month, longest first.
        let mut numbers: Vec<&String> = self
            .numbers()
            .filter(|n| n.len() >= 3 || n.parse::<u32>().is_ok_and(|v| v > 31))
            .collect();
        numbers.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        keys.extend(
            numbers
                .into_iter()
                .take(MAX_NUMBER_KEYS)
                .map(|n| schema::story_number_pk(n)),
        );
        // Names, longest first: the rarer ones, and the same in both languages.
        let mut names: Vec<&String> = self
            .anchors
            .iter()
            .filter(|a| {
                a.chars().count() >= MIN_NAME_KEY_CHARS
                    && !a.starts_with(|c: char| c.is_ascii_digit())
                    && !a.starts_with("cc:")
            })
            .collect();
        names.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        keys.extend(
            names
                .into_iter()
                .take(NAME_KEYS)
                .map(|n| schema::story_name_pk(n)),
        );
        keys.extend(
            self.sentences
                .iter()
                .map(|h| schema::story_sentence_pk(&format!("{h:016x}"))),
        );
        keys
    }

    /// Whether each has a number the other lacks (see the module note).
    fn conflicts_with(&self, other: &Fingerprint) -> bool {
        let mine: BTreeSet<&String> = self.numbers().collect();
        let theirs: BTreeSet<&String> = other.numbers().collect();
        !mine.is_subset(&theirs) && !theirs.is_subset(&mine)
    }
}

/// Why two items are one story: recorded on the link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum LinkReason {
    /// Language versions of one post.
    SamePublication { publication: String },
    /// Bodies whose signatures are `distance` bits apart.
    SimilarBody { distance: u32 },
    /// Equal normalized titles, bodies (if any) not in conflict.
    SameTitle { title_key: String },
    /// This share of the smaller body's word pairs is in the other body.
    SharedText { containment: f64 },
    /// Most numbers and names shared (translations, paraphrases).
    SharedAnchors { shared: Vec<String>, overlap: f64 },
}

/// Whether `a` and `b` report the same story, and why. Symmetric.
pub fn same_story(a: &Fingerprint, b: &Fingerprint) -> Option<LinkReason> {
    let keys_a = a.candidate_keys();
    if !b.candidate_keys().iter().any(|k| keys_a.contains(k)) {
        return None;
    }
    same_story_of_candidate(a, b)
}

/// [`same_story`] for a pair known to share a candidate key: `b` was found in one of `a`'s
/// key partitions, where only items with that key are stored. Story grouping judges every
/// candidate it reads this way; recomputing both key lists per candidate (a SHA-256 and a few
/// dozen strings each) was the largest cost of reconciling a new item.
pub fn same_story_of_candidate(a: &Fingerprint, b: &Fingerprint) -> Option<LinkReason> {
    if let (Some(pa), Some(pb)) = (&a.publication, &b.publication)
        && pa == pb
    {
        return Some(LinkReason::SamePublication {
            publication: pa.clone(),
        });
    }
    if let (Some(sa), Some(sb)) = (a.simhash, b.simhash)
        && hamming(sa, sb) <= MAX_BODY_DISTANCE
    {
        return Some(LinkReason::SimilarBody {
            distance: hamming(sa, sb),
        });
    }
    let conflict = a.conflicts_with(b);
    if a.title_key == b.title_key && a.title_key_words() >= MIN_TITLE_KEY_WORDS && !conflict {
        return Some(LinkReason::SameTitle {
            title_key: a.title_key.clone(),
        });
    }
    if conflict {
        return None;
    }
    if let Some(containment) = containment(&a.shingles, &b.shingles)
        && containment >= MIN_CONTAINMENT
    {
        return Some(LinkReason::SharedText { containment });
    }
    // Anchors: the rule for paraphrases and translations, where words differ but the names
    // and numbers do not. Within one language words could have matched, so it asks for more.
    let other_language = matches!((&a.language, &b.language), (Some(la), Some(lb)) if la != lb);
    let (min_shared, min_overlap) = if other_language {
        (MIN_SHARED_ANCHORS, MIN_ANCHOR_OVERLAP)
    } else {
        (
            MIN_SHARED_ANCHORS_SAME_LANGUAGE,
            MIN_ANCHOR_OVERLAP_SAME_LANGUAGE,
        )
    };
    let shared: Vec<String> = a.anchors.intersection(&b.anchors).cloned().collect();
    let smaller = a.anchors.len().min(b.anchors.len()).max(1);
    let overlap = shared.len() as f64 / smaller as f64;
    if shared.len() >= min_shared && overlap >= min_overlap {
        return Some(LinkReason::SharedAnchors { shared, overlap });
    }
    None
}

/// Hashes of the [`SENTENCE_KEYS`] longest sentences of a text (folded words, at least
/// [`MIN_SENTENCE_WORDS`]), longest first, each once.
pub fn sentence_hashes(text: &str) -> Vec<u64> {
    let mut sentences: Vec<Vec<String>> = text
        .split(['.', '!', '?', '\n'])
        .map(lexicon::words)
        .filter(|words| words.len() >= MIN_SENTENCE_WORDS)
        .collect();
    // Longest first; equal lengths in text order, so the choice is stable.
    sentences.sort_by_key(|words| std::cmp::Reverse(words.len()));
    let mut hashes = Vec::new();
    for sentence in sentences {
        let hash = stable_hash(&sentence.join(" "));
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
        if hashes.len() == SENTENCE_KEYS {
            break;
        }
    }
    hashes
}

/// Hashes of a body's word pairs, sorted and unique; empty when the body is short.
pub fn shingle_hashes(text: &str) -> Vec<u64> {
    let words = lexicon::words(text);
    if words.len() < MIN_BODY_WORDS {
        return Vec::new();
    }
    let mut hashes: Vec<u64> = words
        .windows(CONTAINMENT_SHINGLE_WORDS)
        .map(|pair| stable_hash(&pair.join(" ")))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Shared elements over the smaller of two sorted sets; None when either is empty.
fn containment(a: &[u64], b: &[u64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    Some(shared as f64 / a.len().min(b.len()) as f64)
}

/// Words that are capitalized in every post and name nothing particular.
const GENERIC_NAMES: &[&str] = &[
    "kbri",
    "kjri",
    "kri",
    "wni",
    "pmi",
    "ri",
    "indonesia",
    "indonesian",
    "indonesians",
    "embassy",
    "consulate",
    "general",
    "kementerian",
    "luar",
    "negeri",
    "ministry",
    "foreign",
    "affairs",
    "menlu",
    "minister",
    "duta",
    "besar",
    "ambassador",
    "pemerintah",
    "government",
    "republik",
    "republic",
    "kemlu",
    "konsulat",
    "jenderal",
    "consul",
    "hotline",
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "for",
    "from",
    "to",
    "of",
    "and",
    "all",
    "some",
    "most",
    "after",
    "sebanyak",
    "para",
    "dari",
    "di",
    "pada",
    "dalam",
    "usai",
    "sejauh",
    "kami",
    "mereka",
    "januari",
    "februari",
    "maret",
    "april",
    "mei",
    "juni",
    "juli",
    "agustus",
    "september",
    "oktober",
    "november",
    "desember",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "august",
    "october",
    "december",
    "senin",
    "selasa",
    "rabu",
    "kamis",
    "jumat",
    "sabtu",
    "minggu",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Numbers (separators dropped, a phone number whole, so `1.240` and `1,240` agree, `7,4` and `7.4`, `17.42` and
/// `17:42`; years left out, every post of a year has them; `M7,4` read as `74`), country names
/// and demonyms as `cc:{code}` (so `Jepang` and `Japan` agree), and other capitalized names,
/// folded.
pub fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for raw in text.split(|c: char| c.is_whitespace() || "()[]\"“”'‘’;/–—+".contains(c))
    {
        let raw = raw.trim_matches(|c: char| !c.is_alphanumeric());
        // A magnitude: `M7,4`.
        let raw = match raw.strip_prefix('M') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => raw,
        };
        if raw.is_empty() {
            continue;
        }
        if raw.starts_with(|c: char| c.is_ascii_digit()) {
            // A phone number (`81-80-3506-8612`) is one anchor, not four.
            let groups: Vec<&str> = raw.split('-').collect();
            if groups.len() >= 3 && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
                found.insert(groups.concat());
                continue;
            }
            for number in groups {
                let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
                let is_number = number
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':'));
                let is_year =
                    digits.len() == 4 && (digits.starts_with("19") || digits.starts_with("20"));
                if digits.len() >= 2 && is_number && !is_year {
                    found.insert(digits);
                }
            }
            continue;
        }
        if raw.starts_with(char::is_uppercase) {
            for word in lexicon::words(raw) {
                if let Some(code) = crate::places::country_of_word(&word) {
                    found.insert(format!("cc:{}", code.to_ascii_lowercase()));
                } else if word.chars().count() >= 3
                    && !GENERIC_NAMES.contains(&word.as_str())
                    && !is_stopword(&word)
                {
                    found.insert(word);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
