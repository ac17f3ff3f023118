//! One SQS batch through the reconciler; `hq/` objects (headquarters' files) are imported.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use pantau::reconcile::Reconciler;

pub async fn handle(
    reconciler: &Reconciler,
    event: SqsEvent,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    // The queue also carries headquarters' files dropped under `hq/` (see `pantau::hq`).
    let (hq_event, rest) = pantau::hq::trigger::split_event(event);
    let (mut response, totals) = reconciler.handle_counting(rest).await;
    if !hq_event.records.is_empty() {
        let importer = pantau::hq::trigger::HqImporter {
            blobs: reconciler.blobs.clone(),
            table: reconciler.table.clone(),
            registry: reconciler.registry.clone(),
        };
        let hq_response = importer.handle(hq_event).await;
        response
            .batch_item_failures
            .extend(hq_response.batch_item_failures);
    }
    pantau::metrics::reconcile_batch(
        &pantau::metrics::function_name("reconcile"),
        chrono::Utc::now(),
        &totals,
    )
    .emit();
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use pantau::registry::Registry;
    use pantau::store::disk::DiskBlobStore;
    use pantau::store::sqlite::SqliteTable;
    use pantau::store::{BlobMeta, BlobStore, Key, Table};

    const ITEMS_KEY: &str =
        "items/2026/11/27/tokyo/portal-berita/20261127T010203.456Z-0123456789abcdef.jsonl";

    /// The sample event in `events/` names ITEMS_KEY; its item must land in the table.
    #[tokio::test]
    async fn sample_event_stores_the_items_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
        let table = Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
        let line = r#"{"mission":"tokyo","source":"portal-berita","kind":"kemlu_portal","role":"official","guid":"pelayanan-paspor","url":"https://kemlu.go.id/tokyo/berita/pelayanan-paspor","title":"Pelayanan Paspor","summary":null,"body":"KBRI Tokyo membuka layanan paspor.","published_at":"2026-11-26T01:00:00Z","published_raw":"2026-11-26 10:00:00","time_basis":{"basis":"assumed_zone","zone":"Asia/Tokyo"},"language":"id","authors":[],"categories":[],"images":[],"fetched_at":"2026-11-27T01:02:03.456Z","raw_key":"raw/2026/11/27/tokyo/portal-berita/20261127T010203.456Z-0123456789abcdef.json"}"#;
        blobs
            .put(ITEMS_KEY, format!("{line}\n").into(), &BlobMeta::default())
            .await
            .unwrap();
        let reconciler = Reconciler {
            blobs,
            table: table.clone(),
            registry: Arc::new(Registry::default()),
        };
        let event: SqsEvent =
            serde_json::from_str(include_str!("../events/sqs-s3-items.json")).unwrap();
        let response = handle(&reconciler, event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        let item: pantau::model::NormalizedItem = serde_json::from_str(line).unwrap();
        let current = table
            .get(&Key::new(
                pantau::schema::item_pk(&item.identity()),
                pantau::schema::CURRENT,
            ))
            .await
            .unwrap();
        assert!(current.is_some(), "item not stored");
    }

    /// A headquarters file dropped under `hq/` rides the same queue and is imported.
    #[tokio::test]
    async fn an_hq_file_in_the_batch_is_imported() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
        let table = Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
        let csv = "perwakilan,tanggal,judul\ntokyo,2026-03-02,Kunjungan kerja\n";
        blobs
            .put("hq/maret.csv", csv.into(), &BlobMeta::default())
            .await
            .unwrap();
        let reconciler = Reconciler {
            blobs: blobs.clone(),
            table: table.clone(),
            registry: Arc::new(Registry::load_default().unwrap()),
        };
        let event = pantau::events::sqs_event([(
            "m1".to_string(),
            pantau::events::s3_put_notification("b", "hq/maret.csv", 60, chrono::Utc::now()),
        )]);
        let response = handle(&reconciler, event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        let report = blobs
            .get("hq-reports/maret.csv.json")
            .await
            .unwrap()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&report.body).unwrap();
        assert_eq!(report["imported"], 1, "{report}");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let (records, _) = pantau::hq::mission_records(table.as_ref(), "tokyo", day, day)
            .await
            .unwrap();
        assert_eq!(records.len(), 1);
    }
}
