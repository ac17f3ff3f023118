//! Headquarters records for the alert rule `hq_record_unmatched`: the records of every mission
//! that the matching report finds no publication for, once they are old enough that the
//! mission has had time to publish.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

use super::matching::MatchConfig;
use super::report;
use crate::alerts::{AlertError, HqRecords, UnmatchedRecord};
use crate::model::Mission;
use crate::registry::Registry;
use crate::store::Table;

/// How far back records are looked at: an older record that never matched has long been
/// alerted (or its rule is newer than the record and it no longer matters).
pub const LOOKBACK_DAYS: i64 = 60;

/// The matching report as the alerts' source of unmatched records.
pub struct UnmatchedRecords {
    pub registry: Arc<Registry>,
    pub config: MatchConfig,
}

impl UnmatchedRecords {
    pub fn new(registry: Arc<Registry>) -> UnmatchedRecords {
        UnmatchedRecords {
            registry,
            config: MatchConfig::default(),
        }
    }
}

#[async_trait]
impl HqRecords for UnmatchedRecords {
    async fn unmatched(
        &self,
        table: &dyn Table,
        older_than: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<UnmatchedRecord>, AlertError> {
        let to = (now - older_than).date_naive();
        let from = to - Duration::days(LOOKBACK_DAYS);
        let missions: Vec<&Mission> = self.registry.missions.iter().collect();
        let found = report::build(table, &missions, from, to, &self.config).await?;
        // A country-wide crisis instruction has no mission to publish it: not an omission.
        Ok(found
            .unmatched_records
            .into_iter()
            .filter_map(|r| {
                Some(UnmatchedRecord {
                    date: Utc.from_utc_datetime(&r.date.and_time(NaiveTime::MIN)),
                    record_id: r.id,
                    mission: r.mission?,
                    title: r.title,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hq::{HqRecord, RecordKind, record_id, store_record};
    use crate::store::sqlite::SqliteTable;

    fn record(mission: &str, title: &str, date: chrono::NaiveDate) -> HqRecord {
        let mut r = HqRecord {
            id: String::new(),
            kind: RecordKind::CitizenCase,
            mission: Some(mission.to_owned()),
            country_code: "JP".into(),
            date,
            title: title.to_owned(),
            summary: None,
            category: None,
            reference: Some(title.to_owned()),
            figures: Default::default(),
        };
        r.id = record_id(&r);
        r
    }

    #[tokio::test]
    async fn records_old_enough_and_never_published_are_unmatched() {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("t.sqlite")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 20, 9, 0, 0).unwrap();
        let old = record(
            "tokyo",
            "Pendampingan 4 WNI ditahan di Osaka",
            now.date_naive() - Duration::days(10),
        );
        let fresh = record(
            "tokyo",
            "Evakuasi WNI dari Noto",
            now.date_naive() - Duration::days(1),
        );
        store_record(&table, &old, "test.csv").await.unwrap();
        store_record(&table, &fresh, "test.csv").await.unwrap();

        let source = UnmatchedRecords::new(Arc::new(Registry::load_default().unwrap()));
        let found = source
            .unmatched(&table, Duration::days(3), now)
            .await
            .unwrap();
        let ids: Vec<&str> = found.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(
            ids,
            [old.id.as_str()],
            "only the record older than 3 days: {found:?}"
        );
        assert_eq!(found[0].mission, "tokyo");
        assert_eq!(found[0].title, old.title);
    }
}
