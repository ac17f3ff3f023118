//! The normalize stage: one raw object in, one JSON-lines items object out.
//!
//! A raw object carries its fetch's facts as metadata ([`RawMeta`]); the registry adds the
//! source's time zone and language; [`parse`] turns the bytes into items; every item is
//! written, one JSON object a line, to `keys::items_key_for(raw_key)`. The same raw object
//! always gives the same items object, so a redelivered event rewrites it harmlessly, and a
//! raw object with no items still gets an (empty) items object that says it was seen.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bytes::Bytes;

use crate::events::{Retryable, for_each_object};
use crate::keys;
use crate::metrics::NormalizeTotals;
use crate::model::RawMeta;
use crate::parse::{ParseError, ParseInput, parse};
use crate::registry::Registry;
use crate::store::{BlobError, BlobMeta, BlobStore};

/// The content type of items objects.
pub const ITEMS_CONTENT_TYPE: &str = "application/x-ndjson";
/// The zone for dates without one when the registry knows neither source nor mission.
pub const FALLBACK_TIME_ZONE: &str = "Asia/Jakarta";

pub struct Normalizer {
    pub blobs: Arc<dyn BlobStore>,
    pub registry: Arc<Registry>,
}

/// What one raw object became.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormalizeReport {
    /// Where the items went; None when the key was not a raw object.
    pub items_key: Option<String>,
    pub items: usize,
}

impl NormalizeReport {
    /// A key this stage does not handle (not under `raw/`).
    pub fn skipped() -> NormalizeReport {
        NormalizeReport::default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    #[error("reading raw object {key}: {source}")]
    Read { key: String, source: BlobError },
    /// Not visible yet, or deleted since the event: worth a few more deliveries.
    #[error("raw object {key} does not exist (not visible yet, or deleted)")]
    RawMissing { key: String },
    #[error("raw object {key} has unusable metadata: {reason}")]
    Metadata { key: String, reason: String },
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("encoding the items of {key}: {reason}")]
    Encode { key: String, reason: String },
    #[error("writing items object {key}: {source}")]
    Write { key: String, source: BlobError },
}

impl Retryable for NormalizeError {
    fn is_retryable(&self) -> bool {
        match self {
            NormalizeError::Read { source, .. } | NormalizeError::Write { source, .. } => {
                source.is_retryable()
            }
            NormalizeError::RawMissing { .. } => true,
            NormalizeError::Metadata { .. }
            | NormalizeError::Parse(_)
            | NormalizeError::Encode { .. } => false,
        }
    }
}

impl Normalizer {
    /// Normalizes the raw object at `raw_key` into its items object.
    pub async fn normalize_object(&self, raw_key: &str) -> Result<NormalizeReport, NormalizeError> {
        let Some(items_key) = keys::items_key_for(raw_key) else {
            tracing::debug!(key = raw_key, "not a raw object; ignored");
            return Ok(NormalizeReport::skipped());
        };
        let raw = self
            .blobs
            .get(raw_key)
            .await
            .map_err(|source| NormalizeError::Read {
                key: raw_key.to_owned(),
                source,
            })?
            .ok_or_else(|| NormalizeError::RawMissing {
                key: raw_key.to_owned(),
            })?;
        let meta = RawMeta::from_metadata(&raw.meta.metadata).map_err(|reason| {
            NormalizeError::Metadata {
                key: raw_key.to_owned(),
                reason,
            }
        })?;

        let (time_zone, source_language) = self.source_context(&meta);
        let items = parse(&ParseInput {
            body: &raw.body,
            meta: &meta,
            raw_key,
            time_zone: &time_zone,
            source_language: source_language.as_deref(),
        })?;

        let mut lines = Vec::new();
        for item in &items {
            serde_json::to_writer(&mut lines, item).map_err(|e| NormalizeError::Encode {
                key: raw_key.to_owned(),
                reason: e.to_string(),
            })?;
            lines.push(b'\n');
        }
        let mut items_meta = BlobMeta {
            content_type: Some(ITEMS_CONTENT_TYPE.into()),
            ..BlobMeta::default()
        };
        for (name, value) in [
            ("raw-key", raw_key),
            ("mission", meta.mission.as_str()),
            ("source", meta.source.as_str()),
        ] {
            items_meta
                .metadata
                .insert(name.into(), printable_ascii(value));
        }
        items_meta
            .metadata
            .insert("items".into(), items.len().to_string());
        self.blobs
            .put(&items_key, Bytes::from(lines), &items_meta)
            .await
            .map_err(|source| NormalizeError::Write {
                key: items_key.clone(),
                source,
            })?;
        crate::crash::crashpoint("after_items_write");
        tracing::info!(raw_key, items_key, items = items.len(), "normalized");
        Ok(NormalizeReport {
            items_key: Some(items_key),
            items: items.len(),
        })
    }

    /// The SQS handler: every S3 notification's object, retryable failures redelivered.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_counting(event).await.0
    }

    /// [`Normalizer::handle`], and what the batch did in sum (for the batch's metrics).
    pub async fn handle_counting(&self, event: SqsEvent) -> (SqsBatchResponse, NormalizeTotals) {
        let totals = std::sync::Mutex::new(NormalizeTotals::default());
        let totals_ref = &totals;
        let this = self;
        let response = for_each_object(event, move |object| async move {
            let result = this.normalize_object(&object.key).await;
            if let Ok(mut totals) = totals_ref.lock() {
                totals.record(result.as_ref().ok());
            }
            result.map(|_| ())
        })
        .await;
        let totals = totals.into_inner().unwrap_or_default();
        (response, totals)
    }

    /// The zone for zone-less dates and the language the source publishes in: the source's
    /// when the registry lists it, else its mission's zone, else Jakarta's.
    fn source_context(&self, meta: &RawMeta) -> (String, Option<String>) {
        if let Some(source) = self.registry.source(&meta.mission, &meta.source) {
            return (source.time_zone.to_owned(), source.source.language.clone());
        }
        let zone = self
            .registry
            .mission(&meta.mission)
            .map(|m| m.time_zone.clone())
            .unwrap_or_else(|| FALLBACK_TIME_ZONE.to_owned());
        tracing::warn!(
            mission = %meta.mission,
            source = %meta.source,
            %zone,
            "source not in the registry; assuming its mission's zone"
        );
        (zone, None)
    }
}

/// S3 metadata values must be printable ASCII: percent-encode anything else.
fn printable_ascii(value: &str) -> String {
    const NOT_PRINTABLE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(0x7f);
    percent_encoding::utf8_percent_encode(value, NOT_PRINTABLE).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};
    use serde_json::json;
    use tempfile::TempDir;

    use super::*;
    use crate::events::{s3_put_notification, sqs_event};
    use crate::model::{Mission, MissionKind, NormalizedItem, Role, Source, SourceKind, TimeBasis};
    use crate::store::Blob;
    use crate::store::disk::DiskBlobStore;
    use crate::store::testing::{BlobCall, Fault, FaultyBlobStore, list_all};

    /// A folder of blobs whose calls can be told to fail as a throttled backend would.
    type Blobs = FaultyBlobStore<DiskBlobStore>;

    async fn stored(blobs: &Blobs, key: &str) -> Option<Blob> {
        blobs.inner().get(key).await.unwrap()
    }

    fn source(id: &str, kind: SourceKind, language: Option<&str>) -> Source {
        Source {
            id: id.into(),
            kind,
            role: Role::Official,
            url: "https://example.org/".into(),
            cadence_minutes: 60,
            portal: None,
            section: None,
            language: language.map(Into::into),
            time_zone: None,
            conditional_get: true,
            list: Default::default(),
        }
    }

    fn registry() -> Registry {
        Registry {
            missions: vec![Mission {
                id: "tokyo".into(),
                kind: MissionKind::Kbri,
                city: "Tokyo".into(),
                country: "Jepang".into(),
                country_code: "JP".into(),
                time_zone: "Asia/Tokyo".into(),
                sources: vec![
                    source("portal-berita", SourceKind::KemluPortal, Some("id")),
                    source("nhk", SourceKind::Feed, Some("ja")),
                ],
            }],
            ..Registry::default()
        }
    }

    fn normalizer() -> (Normalizer, Arc<Blobs>, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Arc::new(FaultyBlobStore::new(
            DiskBlobStore::new(dir.path()).unwrap(),
        ));
        let normalizer = Normalizer {
            blobs: blobs.clone(),
            registry: Arc::new(registry()),
        };
        (normalizer, blobs, dir)
    }

    fn fetched_at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-02-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Stores a raw object as the scrape stage would, and returns its key.
    async fn put_raw(
        blobs: &Blobs,
        mission: &str,
        source: &str,
        kind: SourceKind,
        body: &str,
    ) -> String {
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
        let key = keys::raw_key(mission, source, fetched_at(), &sha, "json");
        let meta = RawMeta {
            mission: mission.into(),
            source: source.into(),
            kind,
            role: Role::Official,
            url: "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu\
                  ?slug[]=tokyo&slug[]=berita&portal=tokyo"
                .into(),
            final_url: "https://example.org/feed".into(),
            status: 200,
            content_type: Some("application/json".into()),
            etag: None,
            last_modified: None,
            fetched_at: fetched_at(),
            sha256: sha,
            language: None,
            charset: None,
            article: false,
        };
        let blob_meta = BlobMeta {
            content_type: Some("application/json".into()),
            metadata: meta.to_metadata(),
        };
        blobs
            .put(&key, Bytes::from(body.to_owned()), &blob_meta)
            .await
            .unwrap();
        key
    }

    const PORTAL_PAGE: &str = r#"{"data":{"publication":[
        {"slug":"a","title":"Berita A","title_eng":"News A","publish_date":"2025-01-15 09:30:00",
         "content_detail":"<p>Isi&nbsp;A</p>","content_detail_eng":"<p>Body A</p>"},
        {"slug":"b","title":"Berita B","publish_date":"2025-01-14 18:00:00"}
    ],"meta":{"filtered":2}}}"#;

    async fn read_items(blobs: &Blobs, key: &str) -> Vec<NormalizedItem> {
        let body = stored(blobs, key).await.unwrap().body;
        std::str::from_utf8(&body)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn raw_portal_page_becomes_a_jsonl_items_object() {
        let (normalizer, blobs, _dir) = normalizer();
        let raw_key = put_raw(
            &blobs,
            "tokyo",
            "portal-berita",
            SourceKind::KemluPortal,
            PORTAL_PAGE,
        )
        .await;

        let report = normalizer.normalize_object(&raw_key).await.unwrap();
        let items_key = keys::items_key_for(&raw_key).unwrap();
        assert_eq!(report.items_key.as_deref(), Some(items_key.as_str()));
        assert_eq!(report.items, 3);

        let object = stored(&blobs, &items_key).await.unwrap();
        assert_eq!(
            object.meta.content_type.as_deref(),
            Some(ITEMS_CONTENT_TYPE)
        );
        let expected_meta: BTreeMap<String, String> = [
            ("raw-key", raw_key.as_str()),
            ("items", "3"),
            ("mission", "tokyo"),
            ("source", "portal-berita"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(object.meta.metadata, expected_meta);
        assert!(object.body.ends_with(b"\n"));

        let items = read_items(&blobs, &items_key).await;
        let titles: Vec<_> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Berita A", "News A", "Berita B"]);
        assert_eq!(items[0].body.as_deref(), Some("Isi A"));
        assert_eq!(items[0].raw_key, raw_key);
        // The registry's source is in Tokyo: 09:30 there is 00:30 UTC.
        assert_eq!(
            items[0].published_at,
            DateTime::parse_from_rfc3339("2025-01-15T00:30:00Z").unwrap()
        );
        assert_eq!(
            items[0].time_basis,
            TimeBasis::AssumedZone {
                zone: "Asia/Tokyo".into()
            }
        );

        // A second run (a redelivered event) writes the very same object.
        let first = object.body.clone();
        normalizer.normalize_object(&raw_key).await.unwrap();
        assert_eq!(stored(&blobs, &items_key).await.unwrap().body, first);
    }

    #[tokio::test]
    async fn zero_items_still_write_an_empty_items_object() {
        let (normalizer, blobs, _dir) = normalizer();
        let raw_key = put_raw(
            &blobs,
            "tokyo",
            "portal-berita",
            SourceKind::KemluPortal,
            r#"{"data":{"publication":[]}}"#,
        )
        .await;
        let report = normalizer.normalize_object(&raw_key).await.unwrap();
        assert_eq!(report.items, 0);
        let object = stored(&blobs, report.items_key.as_deref().unwrap())
            .await
            .unwrap();
        assert!(object.body.is_empty());
        assert_eq!(object.meta.metadata["items"], "0");
    }

    #[tokio::test]
    async fn keys_outside_raw_are_skipped_untouched() {
        let (normalizer, blobs, _dir) = normalizer();
        let report = normalizer
            .normalize_object("items/2025/01/01/tokyo/x/y.jsonl")
            .await
            .unwrap();
        assert_eq!(report, NormalizeReport::skipped());
        assert!(list_all(blobs.as_ref(), "").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn zones_fall_back_to_the_mission_then_jakarta() {
        let (normalizer, blobs, _dir) = normalizer();
        let body = r#"{"data":{"publication":[{"slug":"a","title":"A","publish_date":"2025-01-15 09:30:00"}]}}"#;
        let cases = [
            ("tokyo", "unlisted-source", "Asia/Tokyo"),
            ("atlantis", "portal-berita", "Asia/Jakarta"),
        ];
        for (mission, source, zone) in cases {
            let raw_key = put_raw(&blobs, mission, source, SourceKind::KemluPortal, body).await;
            let report = normalizer.normalize_object(&raw_key).await.unwrap();
            let items = read_items(&blobs, report.items_key.as_deref().unwrap()).await;
            assert_eq!(
                items[0].time_basis,
                TimeBasis::AssumedZone { zone: zone.into() },
                "{mission}/{source}"
            );
        }
    }

    #[tokio::test]
    async fn feed_items_take_the_sources_language() {
        let (normalizer, blobs, _dir) = normalizer();
        let rss = r#"<rss version="2.0"><channel><title>t</title>
            <item><title>記事</title><link>https://example.org/a?utm_source=x</link></item>
            </channel></rss>"#;
        let raw_key = put_raw(&blobs, "tokyo", "nhk", SourceKind::Feed, rss).await;
        let report = normalizer.normalize_object(&raw_key).await.unwrap();
        let items = read_items(&blobs, report.items_key.as_deref().unwrap()).await;
        assert_eq!(items[0].language.as_deref(), Some("ja"));
        assert_eq!(items[0].url.as_deref(), Some("https://example.org/a"));
        assert_eq!(items[0].time_basis, TimeBasis::FetchTime);
    }

    #[tokio::test]
    async fn failures_say_whether_to_retry() {
        let (normalizer, blobs, _dir) = normalizer();

        let missing = normalizer
            .normalize_object("raw/2025/02/01/tokyo/portal-berita/gone.json")
            .await
            .unwrap_err();
        assert!(matches!(missing, NormalizeError::RawMissing { .. }));
        assert!(missing.is_retryable());

        let bad_body = put_raw(
            &blobs,
            "tokyo",
            "portal-berita",
            SourceKind::KemluPortal,
            "<html>gateway timeout</html>",
        )
        .await;
        let err = normalizer.normalize_object(&bad_body).await.unwrap_err();
        assert!(
            matches!(err, NormalizeError::Parse(ParseError::NotJson { .. })),
            "{err}"
        );
        assert!(!err.is_retryable());
        assert!(err.to_string().contains(&bad_body), "{err}");

        let no_meta = "raw/2025/02/01/tokyo/portal-berita/no-meta.json";
        blobs
            .put(no_meta, Bytes::from_static(b"{}"), &BlobMeta::default())
            .await
            .unwrap();
        let err = normalizer.normalize_object(no_meta).await.unwrap_err();
        assert!(matches!(err, NormalizeError::Metadata { .. }), "{err}");
        assert!(!err.is_retryable());

        let throttled = put_raw(
            &blobs,
            "tokyo",
            "portal-berita",
            SourceKind::KemluPortal,
            PORTAL_PAGE,
        )
        .await;
        blobs.faults().fail_next(BlobCall::Get, 1, Fault::Retryable);
        let err = normalizer.normalize_object(&throttled).await.unwrap_err();
        assert!(matches!(err, NormalizeError::Read { .. }), "{err}");
        assert!(err.is_retryable());

        // Reading works but writing the items is throttled: retry as well.
        blobs.faults().fail_next(BlobCall::Put, 1, Fault::Retryable);
        let err = normalizer.normalize_object(&throttled).await.unwrap_err();
        assert!(matches!(err, NormalizeError::Write { .. }), "{err}");
        assert!(err.is_retryable());
        assert!(
            err.to_string()
                .contains(&keys::items_key_for(&throttled).unwrap())
        );
        assert_eq!(blobs.faults().injected(), 2);
        // Both failures were transient: the redelivery goes through.
        normalizer.normalize_object(&throttled).await.unwrap();
    }

    #[tokio::test]
    async fn handle_redelivers_only_retryable_failures() {
        let (normalizer, blobs, _dir) = normalizer();
        let good = put_raw(
            &blobs,
            "tokyo",
            "portal-berita",
            SourceKind::KemluPortal,
            PORTAL_PAGE,
        )
        .await;
        let unparseable = put_raw(
            &blobs,
            "tokyo",
            "portal-berita",
            SourceKind::KemluPortal,
            "not json at all",
        )
        .await;
        let missing = "raw/2025/02/01/tokyo/portal-berita/not-yet-visible.json";
        let notification = |key: &str| s3_put_notification(blobs.bucket(), key, 1, fetched_at());
        let event = sqs_event([
            ("m-good".to_string(), notification(&good)),
            ("m-perm".to_string(), notification(&unparseable)),
            ("m-retry".to_string(), notification(missing)),
            ("m-items".to_string(), notification("items/2025/x.jsonl")),
            ("m-junk".to_string(), json!({"not": "an s3 event"})),
        ]);

        let response = normalizer.handle(event).await;
        let redeliver: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(redeliver, ["m-retry"]);
        assert!(
            stored(&blobs, &keys::items_key_for(&good).unwrap())
                .await
                .is_some()
        );
        assert!(
            stored(&blobs, &keys::items_key_for(&unparseable).unwrap())
                .await
                .is_none()
        );
    }
}
