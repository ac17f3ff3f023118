//! A file dropped under `hq/` in the bucket is imported, event-triggered like the other
//! stages: the reconcile function's queue also carries `hq/` notifications (see
//! `infra/template.yaml`), and its handler hands them here ([`split_event`]).
//!
//! The folder names the kind of rows without a kind column: `hq/activity/…`, `hq/cases/…`,
//! `hq/instructions/…`; anything else is an activity report. The format comes from the
//! extension (`.csv`, `.json`, `.jsonl`, `.xlsx`). Each import's report is written beside the
//! data as `hq-reports/{path under hq/}.json`, and a marker (`DONE#hq#{key}`) remembers the
//! file as imported (its size; on disk also its modification time), so `pantau run`, which
//! also imports the files put by hand in its drop folder `data/bucket/hq/`, imports each once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use serde_json::{Value, json};

use super::RecordKind;
use super::import::{
    Format, ImportContext, ImportError, ImportReport, import_bytes, import_reader,
};
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
        let stamp = blob.body.len().to_string();
        let report = self.import_body(key, Body::Bytes(blob.body)).await?;
        self.mark(key, &stamp).await?;
        Ok(Some(report))
    }

    /// Imports `body` as `key` and writes the report under `hq-reports/`.
    async fn import_body(&self, key: &str, body: Body) -> Result<Value, TriggerError> {
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
                match (body, format) {
                    (Body::Bytes(bytes), _) => import_bytes(&ctx, format, &bytes).await,
                    // A file on disk: CSV is streamed, whatever its size.
                    (Body::File(path), Format::Csv) => match std::fs::File::open(&path) {
                        Ok(file) => import_reader(&ctx, Box::new(file)).await,
                        Err(e) => Err(ImportError::Unreadable {
                            source_name: key.to_owned(),
                            format,
                            detail: e.to_string(),
                        }),
                    },
                    (Body::File(path), _) => match std::fs::read(&path) {
                        Ok(bytes) => import_bytes(&ctx, format, &bytes).await,
                        Err(e) => Err(ImportError::Unreadable {
                            source_name: key.to_owned(),
                            format,
                            detail: e.to_string(),
                        }),
                    },
                }
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
        Ok(report)
    }

    /// Remembers that `key` was imported as it was (`stamp`: its size, and for a file on
    /// disk its modification time).
    async fn mark(&self, key: &str, stamp: &str) -> Result<(), TriggerError> {
        let mut item = crate::store::Item::new();
        item.insert(
            "pk".into(),
            json!(crate::schema::done_pk(MARKER_STAGE, key)),
        );
        item.insert("sk".into(), json!(MARKER_SK));
        item.insert("stamp".into(), json!(stamp));
        self.table
            .put(item, Condition::None)
            .await
            .map_err(|error| TriggerError::Marker {
                key: key.to_owned(),
                error,
            })
    }

    async fn imported_as(&self, key: &str, stamp: &str) -> Result<bool, TriggerError> {
        let marker = self
            .table
            .get(&Key::new(
                crate::schema::done_pk(MARKER_STAGE, key),
                MARKER_SK,
            ))
            .await
            .map_err(|error| TriggerError::Marker {
                key: key.to_owned(),
                error,
            })?;
        Ok(marker
            .as_ref()
            .and_then(|m| m.get("stamp"))
            .and_then(Value::as_str)
            == Some(stamp))
    }

    /// Imports every object under `hq/` not imported yet at its present size (objects another
    /// process put without a notification).
    pub async fn scan(&self) -> Result<Vec<Value>, TriggerError> {
        let mut reports = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.blobs.list(HQ_PREFIX, after.as_deref(), 1000).await?;
            for key in &page.keys {
                let Some(info) = self.blobs.head(key).await? else {
                    continue;
                };
                if !self.imported_as(key, &info.size.to_string()).await?
                    && let Some(report) = self.import_object(key).await?
                {
                    reports.push(report);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(reports),
            }
        }
    }

    /// Imports the files of a drop folder (`pantau run`: `data/bucket/hq/`) not imported yet
    /// as they are now, each as the key `hq/{path in the folder}`; reports go to the store's
    /// `hq-reports/`. Called at start and on every tick.
    pub async fn import_folder(&self, folder: &Path) -> Result<Vec<Value>, TriggerError> {
        let mut files = Vec::new();
        collect_files(folder, folder, &mut files);
        files.sort();
        let mut reports = Vec::new();
        for (relative, path) in files {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let stamp = format!("{}@{modified}", meta.len());
            let key = format!("{HQ_PREFIX}{relative}");
            if self.imported_as(&key, &stamp).await? {
                continue;
            }
            reports.push(self.import_body(&key, Body::File(path)).await?);
            self.mark(&key, &stamp).await?;
        }
        Ok(reports)
    }
}

/// What an import reads: an object's bytes, or a file on disk (streamed when CSV).
enum Body {
    Bytes(Bytes),
    File(PathBuf),
}

/// Every file under `dir` (hidden ones and partial downloads left out), with its path
/// relative to `root` in `/` form.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with('~') || name.ends_with(".part") {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((parts.join("/"), path));
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

        // A drop folder on disk: imported once, again only when the file changes.
        let folder = dir.path().join("drop");
        std::fs::create_dir_all(folder.join("instructions")).unwrap();
        std::fs::write(
            folder.join("instructions/sd.csv"),
            "negara,tanggal,judul\nSD,2026-03-06,Siapkan rencana kontinjensi\n",
        )
        .unwrap();
        std::fs::write(folder.join(".~lock.sd.csv#"), "").unwrap();
        let reports = importer.import_folder(&folder).await.unwrap();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0]["imported"], 1, "{}", reports[0]);
        assert_eq!(reports[0]["source"], "hq/instructions/sd.csv");
        assert!(importer.import_folder(&folder).await.unwrap().is_empty());
        assert!(
            blobs
                .get("hq-reports/instructions/sd.csv.json")
                .await
                .unwrap()
                .is_some()
        );
    }
}
