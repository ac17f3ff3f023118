//! One SQS batch through the normalizer.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use pantau::normalize::Normalizer;

pub async fn handle(
    normalizer: &Normalizer,
    event: SqsEvent,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let (response, totals) = normalizer.handle_counting(event).await;
    pantau::metrics::normalize_batch(
        &pantau::metrics::function_name("normalize"),
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

    use pantau::model::{RawMeta, Role, SourceKind};
    use pantau::registry::Registry;
    use pantau::store::disk::DiskBlobStore;
    use pantau::store::{BlobMeta, BlobStore};

    const RAW_KEY: &str =
        "raw/2026/11/27/tokyo/portal-berita/20261127T010203.456Z-0123456789abcdef.json";

    /// The sample event in `events/` names RAW_KEY; a raw object there must become items.
    #[tokio::test]
    async fn sample_event_normalizes_the_object_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
        let meta = RawMeta {
            mission: "tokyo".into(),
            source: "portal-berita".into(),
            kind: SourceKind::KemluPortal,
            role: Role::Official,
            url:
                "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu?portal=tokyo"
                    .into(),
            final_url:
                "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu?portal=tokyo"
                    .into(),
            status: 200,
            content_type: Some("application/json".into()),
            etag: None,
            last_modified: None,
            fetched_at: chrono::Utc::now(),
            sha256: "0123456789abcdef".into(),
            language: Some("id".into()),
            charset: None,
            article: false,
        };
        let body = r#"{"data":{"publication":[{"slug":"pelayanan-paspor","title":"Pelayanan Paspor","title_eng":"","publish_date":"2026-11-26 10:00:00","content_detail":"<p>KBRI Tokyo membuka layanan paspor.</p>"}],"meta":{"filtered":1}}}"#;
        blobs
            .put(
                RAW_KEY,
                body.into(),
                &BlobMeta {
                    content_type: Some("application/json".into()),
                    metadata: meta.to_metadata(),
                },
            )
            .await
            .unwrap();
        let normalizer = Normalizer {
            blobs: blobs.clone(),
            registry: Arc::new(Registry::default()),
        };
        let event: SqsEvent =
            serde_json::from_str(include_str!("../events/sqs-s3-raw.json")).unwrap();
        let response = handle(&normalizer, event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        let items_key = pantau::keys::items_key_for(RAW_KEY).unwrap();
        let items = blobs.get(&items_key).await.unwrap().expect("items object");
        let text = String::from_utf8(items.body.to_vec()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("Pelayanan Paspor"));
    }
}
