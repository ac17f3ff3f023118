//! Headquarters' own records, lined up with what the missions publish.
//!
//! Headquarters keeps records of its own: activity reports the missions send in, citizen
//! protection cases, instructions issued in a crisis. This module takes them in (`import`: CSV,
//! JSON or Excel, through the API, the CLI or a file dropped under `hq/` in the bucket), keeps
//! them in the table (this file), matches each against the mission's official publications
//! (`matching`), compares the numbers both sides state (`figures`) and reports the result per
//! mission and period (`report`), with a crisis's instructions and responses on one timeline
//! (`timeline`). The column schema is documented in `docs/hq-records.md`.
//!
//! Table layout (see also `crate::schema`):
//!
//! | record     | pk            | sk     | gsi1pk / gsi1sk                    | gsi2pk / gsi2sk                  |
//! |------------|---------------|--------|------------------------------------|----------------------------------|
//! | hq record  | `HQREC#{id}`  | `META` | `HQM#{mission}` / `{date}#{id}`    | `HQC#{cc}` / `{date}#{id}`       |
//!
//! A crisis instruction addressed to a country rather than a mission has no GSI1 keys.

pub mod figures;
pub mod import;
pub mod matching;
pub mod report;
#[cfg(test)]
mod scenarios;
pub mod timeline;
pub mod trigger;
pub mod unmatched;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::store::{Condition, Index, Item, Key, Query, SortKeyRange, Table, TableError};

pub use import::{ImportError, ImportReport, Rejection, import_bytes, import_reader};

/// What kind of record headquarters keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A mission's report of something it did (a visit, a service day, an evacuation).
    ActivityReport,
    /// A citizen-protection case (detention, death, assistance to an Indonesian abroad).
    CitizenCase,
    /// An instruction headquarters issued in a crisis, to a mission or a whole country.
    CrisisInstruction,
}

impl RecordKind {
    pub const ALL: [RecordKind; 3] = [
        RecordKind::ActivityReport,
        RecordKind::CitizenCase,
        RecordKind::CrisisInstruction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::ActivityReport => "activity_report",
            RecordKind::CitizenCase => "citizen_case",
            RecordKind::CrisisInstruction => "crisis_instruction",
        }
    }

    /// The kind a cell or parameter names, in English or Indonesian (`laporan kegiatan`,
    /// `kasus WNI`, `instruksi krisis`, `activity`, `case`, `instruction`...).
    pub fn parse(text: &str) -> Option<RecordKind> {
        let folded = crate::lexicon::words(text).join(" ");
        let has = |words: &[&str]| words.iter().any(|w| folded.contains(w));
        if has(&["instruction", "instruksi", "arahan", "directive"]) {
            Some(RecordKind::CrisisInstruction)
        } else if has(&["case", "kasus", "pelindungan", "perlindungan", "protection"]) {
            Some(RecordKind::CitizenCase)
        } else if has(&["activity", "kegiatan", "laporan", "report"]) {
            Some(RecordKind::ActivityReport)
        } else {
            None
        }
    }
}

/// What a figure counts: people something happened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    Evacuated,
    Assisted,
    Detained,
    Repatriated,
    Deceased,
    Injured,
}

impl FigureKind {
    pub const ALL: [FigureKind; 6] = [
        FigureKind::Evacuated,
        FigureKind::Assisted,
        FigureKind::Detained,
        FigureKind::Repatriated,
        FigureKind::Deceased,
        FigureKind::Injured,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FigureKind::Evacuated => "evacuated",
            FigureKind::Assisted => "assisted",
            FigureKind::Detained => "detained",
            FigureKind::Repatriated => "repatriated",
            FigureKind::Deceased => "deceased",
            FigureKind::Injured => "injured",
        }
    }

    /// The kind a folded word names (`dievakuasi`, `evacuated`, `ditahan`, `arrested`...), by
    /// its Indonesian root or English stem.
    pub fn of_word(word: &str) -> Option<FigureKind> {
        const WORDS: &[(&str, FigureKind)] = &[
            ("evakuasi", FigureKind::Evacuated),
            ("evacuat", FigureKind::Evacuated),
            ("dibantu", FigureKind::Assisted),
            ("membantu", FigureKind::Assisted),
            ("bantuan", FigureKind::Assisted),
            ("bantu", FigureKind::Assisted),
            ("didampingi", FigureKind::Assisted),
            ("assist", FigureKind::Assisted),
            ("helped", FigureKind::Assisted),
            ("ditahan", FigureKind::Detained),
            ("penahanan", FigureKind::Detained),
            ("tahanan", FigureKind::Detained),
            ("ditangkap", FigureKind::Detained),
            ("detain", FigureKind::Detained),
            ("arrest", FigureKind::Detained),
            ("dipulangkan", FigureKind::Repatriated),
            ("pemulangan", FigureKind::Repatriated),
            ("memulangkan", FigureKind::Repatriated),
            ("repatria", FigureKind::Repatriated),
            ("meninggal", FigureKind::Deceased),
            ("tewas", FigureKind::Deceased),
            ("wafat", FigureKind::Deceased),
            ("died", FigureKind::Deceased),
            ("killed", FigureKind::Deceased),
            ("deceased", FigureKind::Deceased),
            ("terluka", FigureKind::Injured),
            ("luka", FigureKind::Injured),
            ("injur", FigureKind::Injured),
            ("wounded", FigureKind::Injured),
        ];
        // `evakuasi` ends `dievakuasi`/`mengevakuasi`; English stems start their forms.
        WORDS
            .iter()
            .find(|(w, _)| word.starts_with(w) || word.ends_with(w))
            .map(|(_, kind)| *kind)
    }
}

/// Counts a record states, by what they count.
pub type Figures = BTreeMap<FigureKind, u64>;

/// One headquarters record, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HqRecord {
    /// Deterministic: the same record imported twice has the same id (see [`record_id`]).
    pub id: String,
    pub kind: RecordKind,
    /// The registry mission; None only for a crisis instruction to a whole country.
    pub mission: Option<String>,
    /// ISO 3166-1 alpha-2, upper case: the mission's country, or the instruction's.
    pub country_code: String,
    /// The day it happened (or was issued), as headquarters wrote it.
    pub date: NaiveDate,
    pub title: String,
    pub summary: Option<String>,
    pub category: Option<String>,
    /// Headquarters' own reference (letter number, case number), when it has one.
    pub reference: Option<String>,
    #[serde(default)]
    pub figures: Figures,
}

impl HqRecord {
    /// Title and summary, the text matching reads.
    pub fn text(&self) -> String {
        match &self.summary {
            Some(s) => format!("{}\n{s}", self.title),
            None => self.title.clone(),
        }
    }
}

/// The deterministic id of a record: from its kind, where it belongs and its reference when it
/// has one (so a corrected row replaces the old one), otherwise from the whole normalized row
/// (so the same row imported twice is one record).
pub fn record_id(record: &HqRecord) -> String {
    let place = record
        .mission
        .clone()
        .unwrap_or_else(|| format!("country:{}", record.country_code));
    let basis = match record.reference.as_deref().map(str::trim) {
        Some(reference) if !reference.is_empty() => format!(
            "{}|{place}|ref|{}",
            record.kind.as_str(),
            crate::lexicon::words(reference).join(" ")
        ),
        _ => {
            let figures: Vec<String> = record
                .figures
                .iter()
                .map(|(k, v)| format!("{}={v}", k.as_str()))
                .collect();
            format!(
                "{}|{place}|row|{}|{}|{}|{}|{}",
                record.kind.as_str(),
                record.date,
                crate::lexicon::words(&record.title).join(" "),
                crate::lexicon::words(record.summary.as_deref().unwrap_or("")).join(" "),
                crate::lexicon::words(record.category.as_deref().unwrap_or("")).join(" "),
                figures.join(",")
            )
        }
    };
    let digest = Sha256::digest(basis.as_bytes());
    hex::encode(&digest[..12])
}

pub const RECORD_SK: &str = "META";

pub fn record_pk(id: &str) -> String {
    format!("HQREC#{id}")
}

/// GSI1 partition of a mission's records, sort key `{date}#{id}`.
pub fn mission_records_pk(mission: &str) -> String {
    format!("HQM#{mission}")
}

/// GSI2 partition of a country's records (every record has one), sort key `{date}#{id}`.
pub fn country_records_pk(cc: &str) -> String {
    format!("HQC#{cc}")
}

fn date_sk(date: NaiveDate, id: &str) -> String {
    format!("{}#{id}", date.format("%Y-%m-%d"))
}

/// What storing a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Updated,
    Unchanged,
}

fn content_hash(record: &HqRecord) -> String {
    let json = serde_json::to_vec(record).unwrap_or_default();
    hex::encode(&Sha256::digest(&json)[..12])
}

fn to_item(record: &HqRecord, source: &str) -> Item {
    let mut item = match serde_json::to_value(record) {
        Ok(Value::Object(map)) => map,
        _ => Item::new(),
    };
    let sk = date_sk(record.date, &record.id);
    let mut keys = json!({
        "pk": record_pk(&record.id),
        "sk": RECORD_SK,
        "gsi2pk": country_records_pk(&record.country_code),
        "gsi2sk": sk,
        "content_hash": content_hash(record),
        "imported_from": source,
    });
    if let Some(mission) = &record.mission {
        keys["gsi1pk"] = json!(mission_records_pk(mission));
        keys["gsi1sk"] = json!(sk);
    }
    if let Value::Object(keys) = keys {
        item.extend(keys);
    }
    item
}

fn from_item(item: &Item) -> Option<HqRecord> {
    match serde_json::from_value(Value::Object(item.clone())) {
        Ok(record) => Some(record),
        Err(e) => {
            tracing::error!(pk = ?item.get("pk"), error = %e, "unreadable hq record skipped");
            None
        }
    }
}

/// Stores a record; a record already there with the same content is left alone, so
/// re-importing a file writes nothing and duplicates nothing.
pub async fn store_record(
    table: &dyn Table,
    record: &HqRecord,
    source: &str,
) -> Result<Stored, TableError> {
    let item = to_item(record, source);
    match table.put(item.clone(), Condition::Absent).await {
        Ok(()) => return Ok(Stored::New),
        Err(TableError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e),
    }
    let key = Key::new(record_pk(&record.id), RECORD_SK);
    let existing = table.get(&key).await?;
    let same = existing
        .as_ref()
        .and_then(|e| e.get("content_hash"))
        .is_some_and(|h| Some(h) == item.get("content_hash"));
    if same {
        return Ok(Stored::Unchanged);
    }
    table.put(item, Condition::None).await?;
    Ok(Stored::Updated)
}

/// DynamoDB's cap on the puts of one batch write.
const BATCH_WRITE_MAX: usize = 25;

/// Stores records as [`store_record`] does, but one batch write per 25 new or changed records
/// (one get per record says which), so a large import costs few write transactions. A record
/// repeated within `records` counts once: the later copy is unchanged when identical, else
/// an update that replaces the earlier one.
pub async fn store_records(
    table: &dyn Table,
    records: &[HqRecord],
    source: &str,
) -> Result<Vec<Stored>, TableError> {
    let mut outcomes = Vec::with_capacity(records.len());
    let mut to_write: Vec<Item> = Vec::new();
    let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for record in records {
        let item = to_item(record, source);
        if let Some(&at) = position.get(record.id.as_str()) {
            if to_write[at].get("content_hash") == item.get("content_hash") {
                outcomes.push(Stored::Unchanged);
            } else {
                to_write[at] = item;
                outcomes.push(Stored::Updated);
            }
            continue;
        }
        let key = Key::new(record_pk(&record.id), RECORD_SK);
        let outcome = match table.get(&key).await? {
            None => Stored::New,
            Some(existing) if existing.get("content_hash") == item.get("content_hash") => {
                Stored::Unchanged
            }
            Some(_) => Stored::Updated,
        };
        outcomes.push(outcome);
        if outcome != Stored::Unchanged {
            position.insert(&record.id, to_write.len());
            to_write.push(item);
        }
    }
    for chunk in to_write.chunks(BATCH_WRITE_MAX) {
        let ops = chunk
            .iter()
            .cloned()
            .map(crate::store::WriteOp::Put)
            .collect();
        table.batch_write(ops).await?;
    }
    Ok(outcomes)
}

/// At most this many records are read for one mission or country and period.
pub const MAX_RECORDS_READ: usize = 5000;

/// A mission's records dated `from..=to`, oldest first; the flag is true when the read cap
/// cut the list.
pub async fn mission_records(
    table: &dyn Table,
    mission: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<HqRecord>, bool), TableError> {
    records_in(table, Index::Gsi1, mission_records_pk(mission), from, to).await
}

/// A country's records (its missions' and those addressed to the whole country).
pub async fn country_records(
    table: &dyn Table,
    cc: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<HqRecord>, bool), TableError> {
    records_in(table, Index::Gsi2, country_records_pk(cc), from, to).await
}

async fn records_in(
    table: &dyn Table,
    index: Index,
    partition: String,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<HqRecord>, bool), TableError> {
    // `~` sorts after `#`, so `{to}~` is above every key dated `to`.
    let range = SortKeyRange::Between(
        from.format("%Y-%m-%d").to_string(),
        format!("{}~", to.format("%Y-%m-%d")),
    );
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(index, partition.clone())
                    .range(range.clone())
                    .limit(500)
                    .after(cursor),
            )
            .await?;
        out.extend(page.items.iter().filter_map(from_item));
        match page.cursor {
            Some(_) if out.len() >= MAX_RECORDS_READ => {
                out.truncate(MAX_RECORDS_READ);
                return Ok((out, true));
            }
            Some(c) => cursor = Some(c),
            None => return Ok((out, false)),
        }
    }
}

/// Retry decisions for the bucket trigger.
impl crate::events::Retryable for ImportError {
    fn is_retryable(&self) -> bool {
        ImportError::is_retryable(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTable;

    fn record(reference: Option<&str>, title: &str) -> HqRecord {
        let mut r = HqRecord {
            id: String::new(),
            kind: RecordKind::CitizenCase,
            mission: Some("tokyo".into()),
            country_code: "JP".into(),
            date: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
            title: title.into(),
            summary: None,
            category: None,
            reference: reference.map(str::to_owned),
            figures: Figures::from([(FigureKind::Assisted, 3)]),
        };
        r.id = record_id(&r);
        r
    }

    #[test]
    fn ids_follow_the_reference_or_the_whole_row() {
        // Same reference, corrected title: same record.
        assert_eq!(
            record(Some("B-12/2026"), "a").id,
            record(Some("b 12 2026"), "b").id
        );
        // No reference: the row decides, up to case and punctuation.
        assert_eq!(record(None, "Kasus WNI").id, record(None, "kasus wni.").id);
        assert_ne!(record(None, "Kasus WNI").id, record(None, "Kasus lain").id);
    }

    #[test]
    fn kinds_and_figure_words_in_both_languages() {
        assert_eq!(
            RecordKind::parse("Laporan Kegiatan"),
            Some(RecordKind::ActivityReport)
        );
        assert_eq!(
            RecordKind::parse("kasus WNI"),
            Some(RecordKind::CitizenCase)
        );
        assert_eq!(
            RecordKind::parse("Crisis instruction"),
            Some(RecordKind::CrisisInstruction)
        );
        assert_eq!(RecordKind::parse("banana"), None);
        for (word, kind) in [
            ("dievakuasi", FigureKind::Evacuated),
            ("mengevakuasi", FigureKind::Evacuated),
            ("evacuated", FigureKind::Evacuated),
            ("ditahan", FigureKind::Detained),
            ("arrested", FigureKind::Detained),
            ("dipulangkan", FigureKind::Repatriated),
            ("repatriated", FigureKind::Repatriated),
            ("meninggal", FigureKind::Deceased),
            ("injured", FigureKind::Injured),
        ] {
            assert_eq!(FigureKind::of_word(word), Some(kind), "{word}");
        }
        assert_eq!(FigureKind::of_word("paspor"), None);
    }

    #[tokio::test]
    async fn storing_twice_changes_nothing_and_a_correction_updates() {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("t.sqlite")).unwrap();
        let r = record(Some("B-1"), "Pendampingan WNI");
        assert_eq!(
            store_record(&table, &r, "a.csv").await.unwrap(),
            Stored::New
        );
        assert_eq!(
            store_record(&table, &r, "a.csv").await.unwrap(),
            Stored::Unchanged
        );
        let mut corrected = r.clone();
        corrected.figures.insert(FigureKind::Assisted, 4);
        assert_eq!(
            store_record(&table, &corrected, "b.csv").await.unwrap(),
            Stored::Updated
        );
        let day = r.date;
        let (found, cut) = mission_records(&table, "tokyo", day, day).await.unwrap();
        assert!(!cut);
        assert_eq!(found, vec![corrected.clone()]);
        let (found, _) = country_records(&table, "JP", day, day).await.unwrap();
        assert_eq!(found.len(), 1);
        // In batches: new, repeated in the batch, changed, unchanged.
        let other = record(Some("B-2"), "Kasus lain");
        let mut changed = corrected.clone();
        changed.title = "Pendampingan WNI sakit".into();
        let outcomes = store_records(
            &table,
            &[other.clone(), other.clone(), changed, r.clone(), r.clone()],
            "c.csv",
        )
        .await
        .unwrap();
        assert_eq!(
            outcomes,
            [
                Stored::New,
                Stored::Unchanged,
                Stored::Updated,
                Stored::Updated,
                Stored::Unchanged
            ]
        );
        let (found, _) = mission_records(&table, "tokyo", day, day).await.unwrap();
        assert_eq!(found.len(), 2);
        assert!(found.contains(&r), "the later copy in the batch wins");
        let next = day.succ_opt().unwrap();
        assert!(
            mission_records(&table, "tokyo", next, next)
                .await
                .unwrap()
                .0
                .is_empty()
        );
    }
}
