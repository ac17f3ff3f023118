//! The matching report of a mission (or every mission) over a period: match rate, unmatched
//! on both sides, figure disagreements. Served as JSON and CSV by `GET /reports/hq-matching`
//! and printed by `pantau hq report`.
//!
//! Reads are key and range queries only: the mission's records (GSI1 `HQM#{mission}`, by
//! date) and its official items (GSI1 `MITEMS#{mission}`, by publication time, widened by the
//! matching window on both sides).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};
use serde::Serialize;

use super::matching::{self, FigureDisagreement, MatchConfig, Publication};
use super::{HqRecord, RecordKind, mission_records};
use crate::model::{Mission, Role};
use crate::reconcile::read::{self, ItemFilter, ReadError};
use crate::store::Table;

/// At most this many publications are read per mission and period.
pub const MAX_PUBLICATIONS_READ: usize = 3000;
/// The longest period one report covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// One mission's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissionSummary {
    pub mission: String,
    pub records: usize,
    pub publications: usize,
    pub matched: usize,
    /// Matched records over records; null with no records.
    pub match_rate: Option<f64>,
    pub unmatched_records: usize,
    pub unmatched_publications: usize,
    pub figure_disagreements: usize,
    /// A read cap was reached: the counts are of what was read.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordRef {
    pub id: String,
    pub mission: Option<String>,
    pub kind: RecordKind,
    pub date: NaiveDate,
    pub title: String,
    pub reference: Option<String>,
}

impl From<&HqRecord> for RecordRef {
    fn from(r: &HqRecord) -> RecordRef {
        RecordRef {
            id: r.id.clone(),
            mission: r.mission.clone(),
            kind: r.kind,
            date: r.date,
            title: r.title.clone(),
            reference: r.reference.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchRow {
    pub record: RecordRef,
    pub publication: Publication,
    pub score: f64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisagreementRow {
    pub mission: String,
    #[serde(flatten)]
    pub disagreement: FigureDisagreement,
    pub record_title: String,
    pub publication_title: String,
    pub publication_url: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchingReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub window_days: i64,
    pub records: usize,
    pub publications: usize,
    pub matched: usize,
    pub match_rate: Option<f64>,
    pub missions: Vec<MissionSummary>,
    pub matches: Vec<MatchRow>,
    pub unmatched_records: Vec<RecordRef>,
    pub unmatched_publications: Vec<Publication>,
    pub figure_disagreements: Vec<DisagreementRow>,
}

fn rate(matched: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| ((matched as f64 / of as f64) * 1000.0).round() / 1000.0)
}

/// A mission's official publications whose day (in its zone) is within `from..=to`.
pub async fn publications(
    table: &dyn Table,
    mission: &Mission,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<Publication>, bool), ReadError> {
    let zone = crate::parse::date::zone(&mission.time_zone).unwrap_or(chrono_tz::UTC);
    let start = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let since = start(from);
    let until = to
        .succ_opt()
        .and_then(start)
        .map(|t| t - Duration::milliseconds(1));
    let filter = ItemFilter {
        role: Some(Role::Official),
        since,
        until,
        ..ItemFilter::default()
    };
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = read::mission_items(table, &mission.id, &filter, 200, cursor).await?;
        for stored in &page.items {
            out.push(Publication::from_item(&stored.id, &stored.item, zone));
        }
        match page.next {
            Some(_) if out.len() >= MAX_PUBLICATIONS_READ => return Ok((out, true)),
            Some(next) => cursor = Some(next),
            None => return Ok((out, false)),
        }
    }
}

/// The report for `missions` over `from..=to`.
pub async fn build(
    table: &dyn Table,
    missions: &[&Mission],
    from: NaiveDate,
    to: NaiveDate,
    config: &MatchConfig,
) -> Result<MatchingReport, ReadError> {
    let mut report = MatchingReport {
        from,
        to,
        window_days: config.window_days,
        records: 0,
        publications: 0,
        matched: 0,
        match_rate: None,
        missions: Vec::new(),
        matches: Vec::new(),
        unmatched_records: Vec::new(),
        unmatched_publications: Vec::new(),
        figure_disagreements: Vec::new(),
    };
    for mission in missions {
        let (records, records_cut) = mission_records(table, &mission.id, from, to).await?;
        // Publications a few days outside the period can still answer a record inside it.
        let wide_from = from - Duration::days(config.window_days);
        let wide_to = to + Duration::days(config.window_days);
        let (publications, publications_cut) =
            publications(table, mission, wide_from, wide_to).await?;
        if records.is_empty() && publications.is_empty() {
            continue;
        }
        let noise = matching::mission_noise(Some(mission));
        let outcome = matching::match_all(&records, &publications, &noise, config);
        let records_by_id: HashMap<&str, &HqRecord> =
            records.iter().map(|r| (r.id.as_str(), r)).collect();
        let publications_by_id: HashMap<&str, &Publication> = publications
            .iter()
            .map(|p| (p.item_id.as_str(), p))
            .collect();
        let in_period = |p: &Publication| p.day >= from && p.day <= to;
        let mut disagreements = 0;
        for m in &outcome.matches {
            let (Some(record), Some(publication)) = (
                records_by_id.get(m.record_id.as_str()),
                publications_by_id.get(m.item_id.as_str()),
            ) else {
                continue;
            };
            for d in matching::compare_figures(record, publication) {
                disagreements += 1;
                report.figure_disagreements.push(DisagreementRow {
                    mission: mission.id.clone(),
                    disagreement: d,
                    record_title: record.title.clone(),
                    publication_title: publication.title.clone(),
                    publication_url: publication.url.clone(),
                });
            }
            report.matches.push(MatchRow {
                record: RecordRef::from(*record),
                publication: (*publication).clone(),
                score: m.score,
                reasons: m.reasons.clone(),
            });
        }
        let unmatched_publications: Vec<Publication> = outcome
            .unmatched_publications
            .iter()
            .filter_map(|id| publications_by_id.get(id.as_str()))
            .filter(|p| in_period(p))
            .map(|p| (*p).clone())
            .collect();
        let in_period_publications = publications.iter().filter(|p| in_period(p)).count();
        let summary = MissionSummary {
            mission: mission.id.clone(),
            records: records.len(),
            publications: in_period_publications,
            matched: outcome.matches.len(),
            match_rate: rate(outcome.matches.len(), records.len()),
            unmatched_records: outcome.unmatched_records.len(),
            unmatched_publications: unmatched_publications.len(),
            figure_disagreements: disagreements,
            truncated: records_cut || publications_cut,
        };
        report.records += summary.records;
        report.publications += summary.publications;
        report.matched += summary.matched;
        report.missions.push(summary);
        report.unmatched_records.extend(
            outcome
                .unmatched_records
                .iter()
                .filter_map(|id| records_by_id.get(id.as_str()))
                .map(|r| RecordRef::from(*r)),
        );
        report.unmatched_publications.extend(unmatched_publications);
    }
    report.match_rate = rate(report.matched, report.records);
    Ok(report)
}

/// The CSV columns: one line per match, unmatched record, unmatched publication and figure
/// disagreement, told apart by `section`.
pub const CSV_COLUMNS: [&str; 14] = [
    "section",
    "mission",
    "record_id",
    "record_date",
    "record_kind",
    "record_title",
    "item_id",
    "published_at",
    "publication_title",
    "score",
    "reasons",
    "figure",
    "recorded",
    "published",
];

/// The report as CSV rows (cells are neutralized by `api::csv` when written).
pub fn csv_rows(report: &MatchingReport) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let blank = || String::new();
    for m in &report.matches {
        rows.push(vec![
            "match".into(),
            m.publication.mission.clone(),
            m.record.id.clone(),
            m.record.date.to_string(),
            m.record.kind.as_str().into(),
            m.record.title.clone(),
            m.publication.item_id.clone(),
            crate::schema::sortable_time(m.publication.published_at),
            m.publication.title.clone(),
            m.score.to_string(),
            m.reasons.join("; "),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for r in &report.unmatched_records {
        rows.push(vec![
            "unmatched_record".into(),
            r.mission.clone().unwrap_or_default(),
            r.id.clone(),
            r.date.to_string(),
            r.kind.as_str().into(),
            r.title.clone(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for p in &report.unmatched_publications {
        rows.push(vec![
            "unmatched_publication".into(),
            p.mission.clone(),
            blank(),
            blank(),
            blank(),
            blank(),
            p.item_id.clone(),
            crate::schema::sortable_time(p.published_at),
            p.title.clone(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for d in &report.figure_disagreements {
        rows.push(vec![
            "figure_disagreement".into(),
            d.mission.clone(),
            d.disagreement.record_id.clone(),
            blank(),
            blank(),
            d.record_title.clone(),
            d.disagreement.item_id.clone(),
            blank(),
            d.publication_title.clone(),
            blank(),
            d.disagreement.published_text.clone(),
            d.disagreement.kind.as_str().into(),
            d.disagreement.recorded.to_string(),
            d.disagreement.published.to_string(),
        ]);
    }
    rows
}
