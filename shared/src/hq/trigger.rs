//! A file dropped under `hq/` in the bucket is imported, event-triggered like the other
//! stages: the reconcile function's queue also carries `hq/` notifications (see
//! `infra/template.yaml`), and its handler hands them here ([`split_event`]).
//!
//! The folder names the kind of rows without a kind column: `hq/activity/…`, `hq/cases/…`,
//! `hq/instructions/…`; anything else is an activity report. The format comes from the
//! extension (`.csv`, `.json`, `.jsonl`, `.xlsx`). Each import's report is written beside the
//! data as `hq-reports/{path under hq/}.json`, and a marker (`DONE#hq#{key}`) remembers the
//! size imported, so `pantau run`'s scan of the folder imports each file once.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use serde_json::{Value, json};

use super::RecordKind;
use super::import::{Format, ImportContext, ImportError, ImportReport, import_bytes};
use crate::events::{for_each_object, objects_in};
use crate::registry::Registry;
use crate::store::{BlobError, BlobMeta, BlobStore, Condition, Key, Table, TableError};

pub const HQ_PREFIX: &str = "hq/";
pub const HQ_REPORTS_PREFIX: &str = "hq-reports/";
const MARKER_STAGE: &str = "hq";
const MARKER_SK: &str = "DONE";

/// Splits an SQS batch into the messages naming `hq/` objects and the rest (a message names
/// one object; one naming both kinds goes with the rest's handler too, which ignores keys
/// it does not own, and here).
pub fn split_event(event: SqsEvent) -> (SqsEvent, SqsEvent) {
    let (mut hq, mut rest) = (SqsEvent::default(), SqsEvent::default());
    for message in event.records {
        let names_hq = objects_in(&message)
            .map(|objects| objects.iter().any(|o| o.key.starts_with(HQ_PREFIX)))
            .unwrap_or(false);
        if names_hq {
            hq.records.push(message);
        } else {
            rest.records.push(message);
        }
    }
    (hq, rest)
}

/// The kind of rows without a kind column, from the folder.
pub fn default_kind(key: &str) -> RecordKind {
    let folder = key
        .strip_prefix(HQ_PREFIX)
        .and_then(|rest| rest.split_once('/'))
        .map(|(folder, _)| folder.to_ascii_lowercase())
        .unwrap_or_default();
    match folder.as_str() {
        "cases" | "kasus" | "citizen-cases" => RecordKind::CitizenCase,
        "instructions" | "instruksi" | "crisis-instructions" => RecordKind::CrisisInstruction,
        _ => RecordKind::ActivityReport,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("marker for {key}: {error}")]
    Marker { key: String, error: TableError },
}

impl crate::events::Retryable for TriggerError {
    fn is_retryable(&self) -> bool {
        match self {
            TriggerError::Import(e) => e.is_retryable(),
            TriggerError::Blob(e) => e.is_retryable(),
            TriggerError::Marker { error, .. } => error.is_retryable(),
        }
    }
}

/// Imports `hq/` objects.
#[derive(Clone)]
pub struct HqImporter {
    pub blobs: Arc<dyn BlobStore>,
    pub table: Arc<dyn Table>,
    pub registry: Arc<Registry>,
}

impl HqImporter {
    /// One SQS batch of `hq/` notifications; retryable failures are redelivered.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        for_each_object(event, |object| async move {
            self.import_object(&object.key).await.map(|_| ())
        })
        .await
    }

    /// Imports one object and writes its report; None when the key is not a file under
    /// `hq/` (or is gone). A file refused whole still gets a report saying why.
    pub async fn import_object(&self, key: &str) -> Result<Option<Value>, TriggerError> {
        if !key.starts_with(HQ_PREFIX) || key.ends_with('/') {
            return Ok(None);
        }
        let Some(blob) = self.blobs.get(key).await? else {
            return Ok(None);
        };
        let size = blob.body.len() as u64;
        let outcome = match Format::from_name(key) {
            None => Err(ImportError::UnknownFormat {
                source_name: key.to_owned(),
                detail: "name it .csv, .json, .jsonl or .xlsx".into(),
            }),
            Some(format) => {
                let ctx = ImportContext {
                    table: self.table.as_ref(),
                    registry: &self.registry,
                    default_kind: default_kind(key),
                    source: key.to_owned(),
                };
                import_bytes(&ctx, format, &blob.body).await
            }
        };
        let report = match outcome {
            Ok(report) => report_json(&report),
            Err(e) if e.is_retryable() => return Err(e.into()),
            Err(e) => json!({"source": key, "error": e.to_string()}),
        };
        tracing::info!(%key, report = %report, "hq file imported");
        let report_key = format!(
            "{HQ_REPORTS_PREFIX}{}.json",
            key.strip_prefix(HQ_PREFIX).unwrap_or(key)
        );
        self.blobs
            .put(
                &report_key,
                Bytes::from(serde_json::to_vec_pretty(&report).unwrap_or_default()),
                &BlobMeta {
                    content_type: Some("application/json".into()),
                    ..BlobMeta::default()
                },
            )
            .await?;
        self.mark(key, size).await?;
        Ok(Some(report))
    }

    async fn mark(&self, key: &str, size: u64) -> Result<(), TriggerError> {
        let mut item = crate::store::Item::new();
        item.insert(
            "pk".into(),
            json!(crate::schema::done_pk(MARKER_STAGE, key)),
        );
        item.insert("sk".into(), json!(MARKER_SK));
        item.insert("size".into(), json!(size));
        self.table
            .put(item, Condition::None)
            .await
            .map_err(|error| TriggerError::Marker {
                key: key.to_owned(),
                error,
            })
    }

    /// Imports every file under `hq/` not imported yet at its present size (`pantau run`
    /// calls this at start and on each tick, for files put in the folder by hand).
    pub async fn scan(&self) -> Result<Vec<Value>, TriggerError> {
        let mut reports = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.blobs.list(HQ_PREFIX, after.as_deref(), 1000).await?;
            for key in &page.keys {
                let Some(info) = self.blobs.head(key).await? else {
                    continue;
                };
                let marker = self
                    .table
                    .get(&Key::new(
                        crate::schema::done_pk(MARKER_STAGE, key),
                        MARKER_SK,
                    ))
                    .await
                    .map_err(|error| TriggerError::Marker {
                        key: key.clone(),
                        error,
                    })?;
                let done = marker
                    .as_ref()
                    .and_then(|m| m.get("size"))
                    .and_then(Value::as_u64)
                    == Some(info.size);
                if !done && let Some(report) = self.import_object(key).await? {
                    reports.push(report);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(reports),
            }
        }
    }
}

/// The report as JSON, with `columns` as an object (header → field).
pub fn report_json(report: &ImportReport) -> Value {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    let columns: serde_json::Map<String, Value> = report
        .columns
        .iter()
        .map(|(header, field)| (header.clone(), json!(field)))
        .collect();
    value["columns"] = Value::Object(columns);
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{s3_put_notification, sqs_event};
    use crate::store::disk::DiskBlobStore;
    use crate::store::sqlite::SqliteTable;

    #[test]
    fn kinds_from_folders_and_events_split_by_prefix() {
        assert_eq!(
            default_kind("hq/cases/2026-03.csv"),
            RecordKind::CitizenCase
        );
        assert_eq!(
            default_kind("hq/instructions/sudan.xlsx"),
            RecordKind::CrisisInstruction
        );
        assert_eq!(default_kind("hq/maret.csv"), RecordKind::ActivityReport);
        let now = chrono::Utc::now();
        let event = sqs_event([
            (
                "a".to_string(),
                s3_put_notification("b", "hq/x.csv", 1, now),
            ),
            (
                "b".to_string(),
                s3_put_notification("b", "items/2026/01/01/tokyo/s/x.jsonl", 1, now),
            ),
        ]);
        let (hq, rest) = split_event(event);
        assert_eq!(hq.records.len(), 1);
        assert_eq!(rest.records.len(), 1);
        assert_eq!(hq.records[0].message_id.as_deref(), Some("a"));
    }

    #[tokio::test]
    async fn a_dropped_file_is_imported_once_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blobs: Arc<dyn BlobStore> =
            Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
        let table: Arc<dyn Table> =
            Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
        let registry = Arc::new(Registry::load_default().unwrap());
        let csv = "perwakilan,tanggal,judul,WNI dibantu\n\
                   tokyo,2026-03-02,Pendampingan WNI sakit,2\n\
                   atlantis,2026-03-02,Salah,1\n";
        blobs
            .put("hq/cases/maret.csv", Bytes::from(csv), &BlobMeta::default())
            .await
            .unwrap();
        let importer = HqImporter {
            blobs: blobs.clone(),
            table,
            registry,
        };
        let event = sqs_event([(
            "m".to_string(),
            s3_put_notification(
                "b",
                "hq/cases/maret.csv",
                csv.len() as u64,
                chrono::Utc::now(),
            ),
        )]);
        let response = importer.handle(event).await;
        assert!(response.batch_item_failures.is_empty());
        let report = blobs
            .get("hq-reports/cases/maret.csv.json")
            .await
            .unwrap()
            .expect("report written");
        let report: Value = serde_json::from_slice(&report.body).unwrap();
        assert_eq!(report["imported"], 1, "{report}");
        assert_eq!(report["rejected"], 1);
        assert_eq!(report["rejections"][0]["row"], 3);
        assert_eq!(report["rejections"][0]["column"], "perwakilan");
        // Already imported at this size: the scan leaves it alone.
        assert!(importer.scan().await.unwrap().is_empty());
        // A new file in the folder is picked up by the scan.
        blobs
            .put("hq/extra.csv", Bytes::from(csv), &BlobMeta::default())
            .await
            .unwrap();
        let reports = importer.scan().await.unwrap();
        assert_eq!(reports.len(), 1);
        // Same rows as activity reports: different records (the kind is part of the id).
        assert_eq!(reports[0]["imported"], 1);
    }
}
