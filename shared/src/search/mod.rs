//! Keyword search over items, through the `Table` port only (no scans): an inverted index
//! written at reconcile time, read by [`query::search`].
//!
//! **Terms.** An item's text window is its title, summary and the first
//! [`BODY_PREFIX_BYTES`] of its body. Its words are folded (`crate::lexicon::fold`: lower case,
//! accents gone, so `Türkiye` is `turkiye`), stop words and bare numbers dropped, and stemmed
//! ([`stem::stem`]: `dievakuasi` → `evakuasi`, `kebakarannya` → `bakar`, `floods` → `flood`).
//! The first [`MAX_TERMS_PER_ITEM`] distinct stems, title first, are the item's terms.
//!
//! **Postings.** One record per term of the item's current version:
//! `pk = TERM#{stem}#{yyyy-mm}` (the month of publication keeps partitions bounded),
//! `sk = {published}#{item_id}` (the item id is read from it: [`posting_item_id`]), with
//! `mission`, `country`, `role` (never change for an item, so a query can filter on them
//! before reading the item), `tm` (the version's topics as a 32-bit Bloom mask,
//! [`topic_mask`]: a topic-filtered query reads only the items whose mask has the topic's bit,
//! and a version whose topics changed writes its postings again) and `expires_at`
//! ([`POSTING_TTL_DAYS`] after indexing). A new item costs one write per term; a changed item
//! one per term it did not have before at that time (see [`postings_to_write`]). Postings of an
//! old version stay until they expire: a query re-checks every hit on the current item.
//!
//! **Queries.** Every query word must match (AND): the rarest stem's postings (a probe of at most
//! 100 per word in the newest month decides; ties to the longest) are read
//! newest first, month by month, and each hit's `CURRENT` is read and checked for all the
//! other stems and the filters.

pub mod query;
pub mod stem;

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;

use crate::lexicon;
use crate::model::NormalizedItem;
use crate::schema;
use crate::store::table;
use crate::store::{Item, Table, TableError, WriteOp};

pub use query::{SearchPage, SearchQuery, search};

/// How much of the body is indexed (the lead of a news text says what it is about).
pub const BODY_PREFIX_BYTES: usize = 1500;

/// At most this many postings per item version: bounds the writes (and cost) of one item.
pub const MAX_TERMS_PER_ITEM: usize = 60;

/// Postings live this long after they are written; search covers at least 90 days.
pub const POSTING_TTL_DAYS: i64 = 100;

/// Longest stem indexed; longer "words" are usually URLs or junk and make wide keys.
const MAX_TERM_BYTES: usize = 40;

/// Attribute names of a posting.
pub mod posting_attr {
    /// Postings written before the item id was read from the sort key carry it.
    pub const ITEM_ID: &str = "item_id";
    pub const MISSION: &str = "mission";
    pub const COUNTRY: &str = "country";
    pub const ROLE: &str = "role";
    /// [`super::topic_mask`] of the version indexed; postings written before it was indexed
    /// lack it, and a topic-filtered query reads their item. Short: every posting (37 per
    /// item) repeats the name, and `topic_mask` would cost ~300 bytes per item more.
    pub const TOPIC_MASK: &str = "tm";
}

/// Words too common to find anything with, in Indonesian and English (folded forms).
const STOP_WORDS: &[&str] = &[
    // Indonesian
    "yang", "dan", "di", "ke", "dari", "ini", "itu", "untuk", "dengan", "pada", "dalam", "adalah",
    "akan", "juga", "tidak", "atau", "oleh", "sebagai", "telah", "karena", "bahwa", "para",
    "serta", "tersebut", "kami", "kita", "ia", "dia", "mereka", "ada", "sudah", "bisa", "dapat",
    "lebih", "saat", "hal", "antara", "secara", "yaitu", "agar", "namun", "tetapi", "jika",
    "kepada", "bagi", "hingga", "sejak", "se", "pun", "nya", "lalu", "masih", "sangat", "tak",
    "belum", "sebuah", "seorang", "beberapa", "tahun", "hari", // English
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "at", "by", "from", "is",
    "are", "was", "were", "be", "been", "has", "have", "had", "it", "its", "this", "that", "as",
    "not", "but", "will", "would", "said", "says", "he", "she", "they", "we", "you", "his", "her",
    "their", "our", "which", "who", "also", "than", "into", "about", "after", "over",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// The searchable stems of a text, in order of first appearance, each once.
pub fn text_terms(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for word in lexicon::words(text) {
        if is_stop_word(&word) || word.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let stem = stem::stem(&word);
        if stem.len() > MAX_TERM_BYTES || stem.chars().count() < 2 {
            continue;
        }
        if seen.insert(stem.clone()) {
            out.push(stem);
        }
    }
    out
}

/// The text an item is searched by: title, summary, the start of the body.
fn text_window(item: &NormalizedItem) -> String {
    let mut text = item.title.clone();
    for part in [&item.summary, &item.body].into_iter().flatten() {
        text.push('\n');
        text.push_str(prefix(part, BODY_PREFIX_BYTES));
    }
    text
}

/// Every stem of an item's text window (what a hit is re-checked against).
pub fn item_text_terms(item: &NormalizedItem) -> HashSet<String> {
    text_terms(&text_window(item)).into_iter().collect()
}

/// The terms an item is indexed under: at most [`MAX_TERMS_PER_ITEM`], title first.
pub fn item_terms(item: &NormalizedItem) -> Vec<String> {
    let mut terms = text_terms(&text_window(item));
    terms.truncate(MAX_TERMS_PER_ITEM);
    terms
}

/// `s` cut to at most `max` bytes at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `TERM#{stem}#{yyyy-mm}`: one term's postings for one month of publication.
pub fn term_pk(stem: &str, month: &str) -> String {
    schema::search_term_pk(stem, month)
}

/// `yyyy-mm` of a time.
pub fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// The bit of a topic id in a posting's topic mask: FNV-1a, so it does not depend on the order
/// of the topic table and a new topic moves no other.
fn topic_bit(id: &str) -> u32 {
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    1 << (hash % 32)
}

/// The topics of a version as the bits of a 32-bit number: a mask without a topic's bit
/// rules the item out unread; one with it may still be another topic's (38 topics share 32
/// bits), so the item's `CURRENT` decides. 32 bits: a number every store and JSON reader keeps
/// exact, and ~15 bytes per posting where the ids themselves took ~60.
pub fn topic_mask<'a>(topic_ids: impl IntoIterator<Item = &'a str>) -> u32 {
    topic_ids.into_iter().map(topic_bit).fold(0, |m, b| m | b)
}

/// Whether a posting's mask allows `topic` (true for a posting without one).
pub fn mask_may_hold(posting: &Item, topic: &str) -> bool {
    match posting
        .get(posting_attr::TOPIC_MASK)
        .and_then(Value::as_u64)
    {
        Some(mask) => mask & u64::from(topic_bit(topic)) != 0,
        None => true,
    }
}

/// The posting records of an item's current version with its topics (see the module doc),
/// expiring [`POSTING_TTL_DAYS`] after `now`.
pub fn postings(
    item: &NormalizedItem,
    item_id: &str,
    country: Option<&str>,
    topics: &[&str],
    now: DateTime<Utc>,
) -> Vec<Item> {
    let month = month_of(item.published_at);
    let sk = schema::item_time_sk(item.published_at, item_id);
    let expires_at = (now + chrono::Duration::days(POSTING_TTL_DAYS)).timestamp();
    let mask = Value::from(topic_mask(topics.iter().copied()));
    item_terms(item)
        .into_iter()
        .map(|term| {
            let mut record = Item::new();
            let mut set = |name: &str, value: Value| {
                record.insert(name.into(), value);
            };
            set(table::PK, Value::String(term_pk(&term, &month)));
            set(table::SK, Value::String(sk.clone()));
            set(posting_attr::MISSION, Value::String(item.mission.clone()));
            if let Some(cc) = country {
                set(posting_attr::COUNTRY, Value::String(cc.to_owned()));
            }
            set(posting_attr::ROLE, Value::String(item.role.as_str().into()));
            set(posting_attr::TOPIC_MASK, mask.clone());
            set(table::TTL, Value::from(expires_at));
            record
        })
        .collect()
}

/// The item a posting points at: the part of its sort key after the publication time (older
/// postings also carry it as an attribute).
pub fn posting_item_id(posting: &Item) -> Option<&str> {
    if let Some(Value::String(id)) = posting.get(posting_attr::ITEM_ID) {
        return Some(id);
    }
    let sk = posting.get(table::SK)?.as_str()?;
    sk.split_once('#')
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty())
}

/// The postings worth writing when an item changes from `previous` (its `CURRENT` record
/// before the change): those the previous version did not already have at the same key.
/// A previous record that does not read as an item, or whose topics differ from the new
/// postings' (a topic-filtered query trusts their mask), changes nothing: all are written.
pub fn postings_to_write(postings: &[Item], previous: &Item, item_id: &str) -> Vec<Item> {
    let new_mask = postings
        .first()
        .and_then(|p| p.get(posting_attr::TOPIC_MASK));
    let old_topics = previous
        .get(crate::reconcile::attr::TOPICS)
        .and_then(Value::as_array)
        .map(|ids| Value::from(topic_mask(ids.iter().filter_map(Value::as_str))));
    if new_mask.is_some() && new_mask != old_topics.as_ref() {
        return postings.to_vec();
    }
    let Ok(old) = serde_json::from_value::<NormalizedItem>(Value::Object(previous.clone())) else {
        return postings.to_vec();
    };
    let old_month = month_of(old.published_at);
    let old_sk = schema::item_time_sk(old.published_at, item_id);
    let old_keys: HashSet<String> = item_terms(&old)
        .iter()
        .map(|t| term_pk(t, &old_month))
        .collect();
    postings
        .iter()
        .filter(|p| {
            let pk = p.get(table::PK).and_then(Value::as_str).unwrap_or("");
            let sk = p.get(table::SK).and_then(Value::as_str).unwrap_or("");
            !(sk == old_sk && old_keys.contains(pk))
        })
        .cloned()
        .collect()
}

/// Writes postings (unconditional puts, batched by the adapter).
pub async fn write_postings(table: &dyn Table, postings: Vec<Item>) -> Result<(), TableError> {
    if postings.is_empty() {
        return Ok(());
    }
    table
        .batch_write(postings.into_iter().map(WriteOp::Put).collect())
        .await
}

#[cfg(test)]
mod tests;
