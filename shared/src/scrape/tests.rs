//! The scrape stage against a real HTTP server on loopback, with the embedded stores: a
//! folder of blobs and an in-memory SQLite table, counted, whose query pages are cut short.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::*;
use crate::fetch::FetchPolicy;
use crate::fetch::tests::{loopback_policy, serve};
use crate::model::{Mission, MissionKind, Role, Source};
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::testing::{CountingTable, FaultyTable, list_all};
use crate::store::{Blob, Update};

/// Query pages hold at most this many items, as DynamoDB cuts pages at 1 MB, so
/// `load_states` must follow the cursor.
const PAGE_SIZE: usize = 2;

// ---- fixtures ----------------------------------------------------------------------------

/// A feed whose body, ETag and status the test changes between cycles.
struct FeedFixture {
    body: Mutex<String>,
    etag: Mutex<Option<String>>,
    status: Mutex<StatusCode>,
    retry_after: Mutex<Option<String>>,
    hits: AtomicUsize,
}

impl FeedFixture {
    fn new(body: &str, etag: Option<&str>) -> Arc<FeedFixture> {
        Arc::new(FeedFixture {
            body: Mutex::new(body.to_owned()),
            etag: Mutex::new(etag.map(str::to_owned)),
            status: Mutex::new(StatusCode::OK),
            retry_after: Mutex::new(None),
            hits: AtomicUsize::new(0),
        })
    }
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
    fn respond(&self, headers: &HeaderMap) -> Response {
        self.hits.fetch_add(1, Ordering::SeqCst);
        let status = *self.status.lock().unwrap();
        if status != StatusCode::OK {
            let mut resp = status.into_response();
            if let Some(ra) = self.retry_after.lock().unwrap().clone() {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, ra.parse().unwrap());
            }
            return resp;
        }
        let etag = self.etag.lock().unwrap().clone();
        let sent = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok());
        if etag.is_some() && etag.as_deref() == sent {
            return StatusCode::NOT_MODIFIED.into_response();
        }
        let mut resp = (
            [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
            self.body.lock().unwrap().clone(),
        )
            .into_response();
        if let Some(etag) = etag {
            resp.headers_mut()
                .insert(header::ETAG, etag.parse().unwrap());
        }
        resp
    }
}

/// The portal API: logs each request's query, answers a page whose body names the page and
/// a `version` the test can bump.
#[derive(Default)]
struct PortalFixture {
    queries: Mutex<Vec<Vec<(String, String)>>>,
    version: AtomicUsize,
    /// Publications in the section (60 when unset: more than three pages of 20).
    total: Mutex<Option<usize>>,
}

impl PortalFixture {
    fn with_total(total: usize) -> PortalFixture {
        PortalFixture {
            total: Mutex::new(Some(total)),
            ..PortalFixture::default()
        }
    }
}

async fn fixture_server(feed: Arc<FeedFixture>, portal: Arc<PortalFixture>) -> Url {
    let router = Router::new()
        .route(
            "/feed.xml",
            get(move |headers: HeaderMap| {
                let feed = feed.clone();
                async move { feed.respond(&headers) }
            }),
        )
        .route(
            "/api/contentMenu",
            get(move |RawQuery(query): RawQuery| {
                let portal = portal.clone();
                async move {
                    let pairs: Vec<(String, String)> =
                        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                            .into_owned()
                            .collect();
                    let page = pairs
                        .iter()
                        .find(|(k, _)| k == "page")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let number = |key: &str, default: usize| {
                        pairs
                            .iter()
                            .find(|(k, _)| k == key)
                            .and_then(|(_, v)| v.parse::<usize>().ok())
                            .unwrap_or(default)
                    };
                    let (page_no, limit) = (number("page", 1).max(1), number("limit", 20));
                    portal.queries.lock().unwrap().push(pairs);
                    let version = portal.version.load(Ordering::SeqCst);
                    let total = portal.total.lock().unwrap().unwrap_or(60);
                    let first = (page_no - 1) * limit;
                    let publications: Vec<_> = (first..total.min(first + limit))
                        .map(|n| serde_json::json!({"slug": format!("berita-{n}-{version}"), "title": "Judul"}))
                        .collect();
                    axum::Json(serde_json::json!({
                        "data": {
                            "publication": publications,
                            "meta": {"filtered": total, "page": page}
                        }
                    }))
                }
            }),
        );
    serve(router).await
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

fn source(id: &str, kind: SourceKind, role: Role, url: String) -> Source {
    Source {
        id: id.into(),
        kind,
        role,
        url,
        cadence_minutes: 60,
        portal: None,
        section: None,
        language: None,
        time_zone: None,
        conditional_get: true,
        list: Default::default(),
    }
}

fn registry(sources: Vec<Source>) -> Registry {
    Registry {
        missions: vec![Mission {
            id: "tokyo".into(),
            kind: MissionKind::Kbri,
            city: "Tokyo".into(),
            country: "Jepang".into(),
            country_code: "JP".into(),
            time_zone: "Asia/Tokyo".into(),
            sources,
        }],
        ..Registry::default()
    }
}

struct Harness {
    scraper: Scraper,
    blobs: Arc<DiskBlobStore>,
    table: Arc<CountingTable<FaultyTable<SqliteTable>>>,
    _dir: tempfile::TempDir,
}

fn harness(registry: Registry, policy: FetchPolicy) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let paged = FaultyTable::new(SqliteTable::in_memory().unwrap());
    paged.cap_pages(PAGE_SIZE);
    let table = Arc::new(CountingTable::new(paged));
    let scraper = Scraper {
        registry: Arc::new(registry),
        blobs: blobs.clone(),
        table: table.clone(),
        fetcher: Fetcher::new(policy).unwrap(),
        config: ScrapeConfig::default(),
    };
    Harness {
        scraper,
        blobs,
        table,
        _dir: dir,
    }
}

impl Harness {
    /// The table itself, for the test's own reads and writes, which are not counted.
    fn sqlite(&self) -> &SqliteTable {
        self.table.inner().inner()
    }
    /// A source's state record as stored.
    async fn record(&self, source: &str) -> Item {
        let key = state_key("tokyo", source);
        self.sqlite().get(&key).await.unwrap().unwrap()
    }
    async fn state(&self, source: &str) -> SourceState {
        serde_json::from_value(Value::Object(self.record(source).await)).unwrap()
    }
    /// Makes a source due now by moving its next due time into the past.
    async fn force_due(&self, source: &str) {
        let mut update = Update::default();
        update.set.insert("next_due_at".into(), Value::Null);
        let key = state_key("tokyo", source);
        self.sqlite()
            .update(&key, update, Condition::Present)
            .await
            .unwrap();
    }
    /// Every key in the bucket, in order.
    async fn keys(&self) -> Vec<String> {
        list_all(self.blobs.as_ref(), "").await.unwrap()
    }
    async fn object(&self, key: &str) -> Blob {
        self.blobs.get(key).await.unwrap().unwrap()
    }
}

fn sha_hex(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

// ---- feed --------------------------------------------------------------------------------

#[tokio::test]
async fn a_feed_is_fetched_once_stored_with_its_facts_and_not_again_until_due() {
    let body = "<rss><channel><title>Berita</title></channel></rss>";
    let feed = FeedFixture::new(body, Some("\"v1\""));
    let base = fixture_server(feed.clone(), Arc::default()).await;
    let url = base.join("feed.xml").unwrap().to_string();
    let h = harness(
        registry(vec![source(
            "media-feed",
            SourceKind::Feed,
            Role::Media,
            url.clone(),
        )]),
        loopback_policy(),
    );

    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(
        (report.due, report.fetched, report.changed, report.unchanged),
        (1, 1, 1, 0)
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.written, h.keys().await);
    let expected_key = keys::raw_key("tokyo", "media-feed", t0(), &sha_hex(body), "xml");
    assert_eq!(report.written, vec![expected_key.clone()]);

    let object = h.object(&expected_key).await;
    assert_eq!(&object.body[..], body.as_bytes());
    assert_eq!(
        object.meta.content_type.as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    let meta = RawMeta::from_metadata(&object.meta.metadata).unwrap();
    assert_eq!(
        meta,
        RawMeta {
            mission: "tokyo".into(),
            source: "media-feed".into(),
            kind: SourceKind::Feed,
            role: Role::Media,
            url: url.clone(),
            final_url: url.clone(),
            status: 200,
            content_type: Some("application/rss+xml; charset=utf-8".into()),
            etag: Some("\"v1\"".into()),
            last_modified: None,
            fetched_at: t0(),
            sha256: sha_hex(body),
            language: None,
            charset: Some("UTF-8".into()),
            article: false,
        }
    );

    let state = h.state("media-feed").await;
    assert_eq!(state.owner, "tokyo");
    assert_eq!(state.last_attempt_at, Some(t0()));
    assert_eq!(state.last_success_at, Some(t0()));
    assert_eq!(state.last_change_at, Some(t0()));
    assert_eq!(state.consecutive_failures, 0);
    assert_eq!(state.last_error, None);
    assert!(state.backfilled);
    let due = state.next_due_at.unwrap();
    assert!(
        due >= t0() + minutes(54) && due <= t0() + minutes(66),
        "{due}"
    );
    assert_eq!(
        state.validators[&url],
        Validators {
            etag: Some("\"v1\"".into()),
            last_modified: None,
            sha256: Some(sha_hex(body)),
        }
    );
    // The record sits in the all-sources index.
    let item = h.record("media-feed").await;
    assert_eq!(item[GSI1_PK], "SOURCES");
    assert_eq!(item[GSI1_SK], "tokyo/media-feed");

    // A minute later it is not due: no request, nothing written.
    let report = h.scraper.run_cycle(t0() + minutes(1)).await;
    assert_eq!((report.due, report.fetched), (0, 0));
    assert_eq!(feed.hits(), 1);

    // Due again, the server answers 304 to the stored ETag: nothing written.
    let later = t0() + minutes(120);
    let report = h.scraper.run_cycle(later).await;
    assert_eq!(
        (report.due, report.fetched, report.changed, report.unchanged),
        (1, 1, 0, 1)
    );
    assert_eq!(feed.hits(), 2);
    assert_eq!(h.keys().await.len(), 1);
    let state = h.state("media-feed").await;
    assert_eq!(state.last_success_at, Some(later));
    assert_eq!(state.last_change_at, Some(t0()));
    assert_eq!(state.validators[&url].sha256, Some(sha_hex(body)));
}

#[tokio::test]
async fn without_validators_the_hash_decides_and_a_change_writes_a_new_object() {
    let feed = FeedFixture::new("<rss>one</rss>", None);
    let base = fixture_server(feed.clone(), Arc::default()).await;
    let url = base.join("feed.xml").unwrap().to_string();
    let h = harness(
        registry(vec![source("feed", SourceKind::Feed, Role::Media, url)]),
        loopback_policy(),
    );
    assert_eq!(h.scraper.run_cycle(t0()).await.changed, 1);

    // Same body, no ETag to send: fetched in full, the hash says unchanged.
    h.force_due("feed").await;
    let report = h.scraper.run_cycle(t0() + minutes(5)).await;
    assert_eq!(
        (report.fetched, report.changed, report.unchanged),
        (1, 0, 1)
    );
    assert!(report.written.is_empty());
    assert_eq!(feed.hits(), 2);
    assert_eq!(h.keys().await.len(), 1);

    // A new body is a new raw object.
    *feed.body.lock().unwrap() = "<rss>two</rss>".into();
    h.force_due("feed").await;
    let at = t0() + minutes(10);
    let report = h.scraper.run_cycle(at).await;
    assert_eq!((report.changed, report.unchanged), (1, 0));
    let key = keys::raw_key("tokyo", "feed", at, &sha_hex("<rss>two</rss>"), "xml");
    assert_eq!(report.written, vec![key.clone()]);
    assert_eq!(h.keys().await.len(), 2);
    assert_eq!(&h.object(&key).await.body[..], b"<rss>two</rss>");
    assert_eq!(h.state("feed").await.last_change_at, Some(at));
}

// ---- kemlu portal ------------------------------------------------------------------------

#[tokio::test]
async fn a_portal_source_backfills_on_its_first_run_then_reads_page_one() {
    let portal = Arc::new(PortalFixture::default());
    let base = fixture_server(FeedFixture::new("", None), portal.clone()).await;
    let mut src = source(
        "portal-berita",
        SourceKind::KemluPortal,
        Role::Official,
        base.join("api").unwrap().to_string(),
    );
    src.portal = Some("tokyo".into());
    src.section = Some("berita".into());
    let h = harness(registry(vec![src]), loopback_policy());

    let report = h.scraper.run_cycle(t0()).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.changed, 1);
    assert_eq!(report.written.len(), 3, "one raw object per page");
    {
        let queries = portal.queries.lock().unwrap();
        assert_eq!(queries.len(), 3);
        for (n, query) in queries.iter().enumerate() {
            let values = |k: &str| -> Vec<&str> {
                query
                    .iter()
                    .filter(|(qk, _)| qk == k)
                    .map(|(_, v)| v.as_str())
                    .collect()
            };
            assert_eq!(values("slug[]"), ["tokyo", "berita"]);
            assert_eq!(values("portal"), ["tokyo"]);
            assert_eq!(values("type"), ["menu"]);
            assert_eq!(values("limit"), ["20"]);
            assert_eq!(values("order_by"), ["publish_date"]);
            assert_eq!(values("order_dir"), ["desc"]);
            assert_eq!(values("lang"), ["id"]);
            assert_eq!(values("page"), [(n + 1).to_string().as_str()]);
        }
    }
    let mut pages_seen = Vec::new();
    for key in &report.written {
        assert!(key.ends_with(".json"), "{key}");
        let meta = RawMeta::from_metadata(&h.object(key).await.meta.metadata).unwrap();
        assert_eq!(meta.kind, SourceKind::KemluPortal);
        assert_eq!(meta.role, Role::Official);
        assert_eq!(meta.language.as_deref(), Some("id"));
        assert!(
            meta.url
                .contains("/api/contentMenu?type=menu&slug%5B%5D=tokyo&slug%5B%5D=berita"),
            "{}",
            meta.url
        );
        pages_seen.push(meta.url);
    }
    pages_seen.sort();
    pages_seen.dedup();
    assert_eq!(pages_seen.len(), 3);
    let state = h.state("portal-berita").await;
    assert!(state.backfilled);
    assert_eq!(state.validators.len(), 3);

    // Later runs read page 1 only; unchanged → nothing written.
    let report = h.scraper.run_cycle(t0() + minutes(120)).await;
    assert_eq!((report.fetched, report.unchanged), (1, 1));
    assert!(report.written.is_empty());
    assert_eq!(portal.queries.lock().unwrap().len(), 4);
    let last_page = portal.queries.lock().unwrap()[3]
        .iter()
        .find(|(k, _)| k == "page")
        .map(|(_, v)| v.clone());
    assert_eq!(last_page.as_deref(), Some("1"));
    assert_eq!(h.state("portal-berita").await.validators.len(), 1);

    // A new publication on page 1 is one new raw object.
    portal.version.store(1, Ordering::SeqCst);
    let report = h.scraper.run_cycle(t0() + minutes(240)).await;
    assert_eq!(report.written.len(), 1);
    assert_eq!(portal.queries.lock().unwrap().len(), 5);
}

// ---- failures ----------------------------------------------------------------------------

#[tokio::test]
async fn a_portal_backfill_stops_at_the_first_short_page() {
    // 25 publications, pages of 20: page 2 holds 5, so page 3 is never asked for.
    let portal = Arc::new(PortalFixture::with_total(25));
    let base = fixture_server(FeedFixture::new("", None), portal.clone()).await;
    let mut src = source(
        "portal-berita",
        SourceKind::KemluPortal,
        Role::Official,
        base.join("api").unwrap().to_string(),
    );
    src.section = Some("berita".into());
    let h = harness(registry(vec![src]), loopback_policy());
    let report = h.scraper.run_cycle(t0()).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(portal.queries.lock().unwrap().len(), 2);
    assert_eq!(report.written.len(), 2);
    assert!(h.state("portal-berita").await.backfilled);

    // An empty section costs one request and one raw object, not a page of nothing each.
    let empty = Arc::new(PortalFixture::with_total(0));
    let base = fixture_server(FeedFixture::new("", None), empty.clone()).await;
    let mut src = source(
        "portal-berita",
        SourceKind::KemluPortal,
        Role::Official,
        base.join("api").unwrap().to_string(),
    );
    src.section = Some("berita".into());
    let h = harness(registry(vec![src]), loopback_policy());
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(empty.queries.lock().unwrap().len(), 1);
    assert_eq!(report.written.len(), 1);
}

#[tokio::test]
async fn a_failing_source_backs_off_and_the_others_go_on() {
    let feed = FeedFixture::new("<rss/>", None);
    *feed.status.lock().unwrap() = StatusCode::INTERNAL_SERVER_ERROR;
    let portal = Arc::new(PortalFixture::default());
    let base = fixture_server(feed.clone(), portal.clone()).await;
    let mut healthy = source(
        "portal-berita",
        SourceKind::KemluPortal,
        Role::Official,
        base.join("api").unwrap().to_string(),
    );
    healthy.section = Some("berita".into());
    let mut no_section = healthy.clone();
    no_section.id = "portal-tanpa-seksi".into();
    no_section.section = None;
    let h = harness(
        registry(vec![
            source(
                "broken",
                SourceKind::Feed,
                Role::Media,
                base.join("feed.xml").unwrap().to_string(),
            ),
            source(
                "typo",
                SourceKind::Feed,
                Role::Media,
                "htp//not a url".into(),
            ),
            healthy,
            no_section,
        ]),
        loopback_policy(),
    );

    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!((report.due, report.fetched, report.changed), (4, 1, 1));
    let mut failed: Vec<(&str, &str)> = report
        .failed
        .iter()
        .map(|f| (f.source.as_str(), f.error.as_str()))
        .collect();
    failed.sort();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        failed[0].0 == "broken" && failed[0].1.contains("HTTP status 500"),
        "{failed:?}"
    );
    assert!(
        failed[1].0 == "portal-tanpa-seksi" && failed[1].1.contains("no `section`"),
        "{failed:?}"
    );
    assert!(
        failed[2].0 == "typo" && failed[2].1.contains("invalid URL"),
        "{failed:?}"
    );
    // The portal's slug defaults to the mission id.
    assert!(portal.queries.lock().unwrap()[0].contains(&("portal".into(), "tokyo".into())));

    let state = h.state("broken").await;
    assert_eq!(state.consecutive_failures, 1);
    assert!(state.last_error.as_deref().unwrap().contains("500"));
    assert_eq!(state.last_success_at, None);
    assert!(!state.backfilled);
    // cadence 60 min × 2^1, ±10%.
    let due = state.next_due_at.unwrap();
    assert!(
        due >= t0() + minutes(108) && due <= t0() + minutes(132),
        "{due}"
    );

    // The second failure doubles the wait (4 h ± 10%).
    let report = h.scraper.run_cycle(due).await;
    assert!(report.failed.iter().any(|f| f.source == "broken"));
    let state = h.state("broken").await;
    assert_eq!(state.consecutive_failures, 2);
    let due2 = state.next_due_at.unwrap();
    assert!(
        due2 >= due + minutes(216) && due2 <= due + minutes(264),
        "{due2}"
    );

    // A Retry-After longer than the backoff (8 h) wins.
    *feed.retry_after.lock().unwrap() = Some("36000".into());
    *feed.status.lock().unwrap() = StatusCode::SERVICE_UNAVAILABLE;
    h.scraper.run_cycle(due2).await;
    let state = h.state("broken").await;
    assert_eq!(state.consecutive_failures, 3);
    assert!(state.last_error.as_deref().unwrap().contains("503"));
    assert!(state.next_due_at.unwrap() >= due2 + chrono::Duration::hours(10));
    assert_eq!(feed.hits(), 3);

    // Recovery clears the failure.
    *feed.status.lock().unwrap() = StatusCode::OK;
    h.force_due("broken").await;
    let at = due2 + chrono::Duration::hours(11);
    h.scraper.run_cycle(at).await;
    let state = h.state("broken").await;
    assert_eq!(
        (state.consecutive_failures, state.last_error.clone()),
        (0, None)
    );
    assert_eq!(state.last_success_at, Some(at));
}

#[tokio::test]
async fn loopback_sources_are_refused_when_private_networks_are_not_allowed() {
    let feed = FeedFixture::new("<rss/>", None);
    let base = fixture_server(feed.clone(), Arc::default()).await;
    let h = harness(
        registry(vec![source(
            "feed",
            SourceKind::Feed,
            Role::Media,
            base.join("feed.xml").unwrap().to_string(),
        )]),
        FetchPolicy::default(),
    );
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0].error.contains("refused"),
        "{:?}",
        report.failed
    );
    assert_eq!(feed.hits(), 0);
    assert!(h.keys().await.is_empty());
}

#[tokio::test]
async fn oversized_bodies_fail_the_source_without_a_write() {
    let feed = FeedFixture::new(&"x".repeat(4096), None);
    let base = fixture_server(feed.clone(), Arc::default()).await;
    let h = harness(
        registry(vec![source(
            "feed",
            SourceKind::Feed,
            Role::Media,
            base.join("feed.xml").unwrap().to_string(),
        )]),
        FetchPolicy {
            max_body_bytes: 1024,
            ..loopback_policy()
        },
    );
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0].error.contains("larger than 1024 bytes"),
        "{:?}",
        report.failed
    );
    assert!(h.keys().await.is_empty());
    assert_eq!(h.state("feed").await.consecutive_failures, 1);
}

// ---- states ------------------------------------------------------------------------------

#[tokio::test]
async fn states_are_read_with_one_paginated_query_not_a_get_per_source() {
    let feed = FeedFixture::new("<rss/>", None);
    let base = fixture_server(feed.clone(), Arc::default()).await;
    let url = base.join("feed.xml").unwrap().to_string();
    let sources = (0..5)
        .map(|n| {
            source(
                &format!("feed-{n}"),
                SourceKind::Feed,
                Role::Media,
                format!("{url}?n={n}"),
            )
        })
        .collect();
    let h = harness(registry(sources), loopback_policy());
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!((report.due, report.fetched), (5, 5));

    let states = load_states(h.table.as_ref()).await.unwrap();
    assert_eq!(states.len(), 5);
    let mut names: Vec<&str> = states.iter().map(|s| s.source.as_str()).collect();
    names.sort();
    assert_eq!(names, ["feed-0", "feed-1", "feed-2", "feed-3", "feed-4"]);

    // A cycle with nothing due: only the paginated query (5 states, 2 per page → 3 pages).
    let queries_before = h.table.counts().queries;
    let report = h.scraper.run_cycle(t0() + minutes(1)).await;
    assert_eq!(report.due, 0);
    assert_eq!(h.table.counts().queries - queries_before, 3);
    assert_eq!(h.table.counts().gets, 0);
}

#[tokio::test]
async fn scrape_source_fetches_one_source_now_even_when_not_due() {
    let feed = FeedFixture::new("<rss/>", Some("\"e\""));
    let base = fixture_server(feed.clone(), Arc::default()).await;
    let h = harness(
        registry(vec![source(
            "feed",
            SourceKind::Feed,
            Role::Media,
            base.join("feed.xml").unwrap().to_string(),
        )]),
        loopback_policy(),
    );
    let registry = h.scraper.registry.clone();
    let src = registry.source("tokyo", "feed").unwrap();
    let first = h.scraper.scrape_source(src, t0()).await.unwrap();
    assert_eq!((first.requests, first.written.len()), (1, 1));
    let again = h
        .scraper
        .scrape_source(src, t0() + minutes(1))
        .await
        .unwrap();
    assert_eq!((again.requests, again.unchanged_responses), (1, 1));
    assert!(again.written.is_empty());
    assert_eq!(again.state.last_success_at, Some(t0() + minutes(1)));
}

#[test]
fn delays_follow_cadence_hints_and_backoff() {
    let hour = Duration::from_secs(3600);
    for _ in 0..100 {
        let d = success_delay(hour, None);
        assert!(d >= hour.mul_f64(0.9) && d <= hour.mul_f64(1.1), "{d:?}");
        assert!(success_delay(hour, Some(3 * hour)) >= 3 * hour);
        assert!(success_delay(hour, Some(100 * hour)) <= MAX_DELAY);
        let f3 = failure_delay(hour, 3, None);
        assert!(
            f3 >= (8 * hour).mul_f64(0.9) && f3 <= (8 * hour).mul_f64(1.1),
            "{f3:?}"
        );
        assert!(failure_delay(hour, 30, None) <= MAX_DELAY);
        assert!(failure_delay(hour, 1, Some(10 * hour)) >= 10 * hour);
    }
}

#[test]
fn portal_urls_are_encoded_and_join_the_base_path() {
    let base = Url::parse("https://backpanel.kemlu.go.id/public-content-service/api/").unwrap();
    let url = portal_list_url(&base, "den haag", "berita", 2, 20).unwrap();
    assert_eq!(
        url.as_str(),
        "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu?type=menu\
         &slug%5B%5D=den+haag&slug%5B%5D=berita&portal=den+haag&page=2&limit=20\
         &order_by=publish_date&order_dir=desc&lang=id"
    );
}

/// `unhealthy_sources` counts the sources failing UNHEALTHY_AFTER_FAILURES times in a row,
/// whether they were due this cycle or not, and stops counting one that recovers.
#[tokio::test]
async fn unhealthy_sources_counts_sources_failing_in_a_row() {
    let feed = FeedFixture::new("<rss/>", None);
    *feed.status.lock().unwrap() = StatusCode::INTERNAL_SERVER_ERROR;
    let base = fixture_server(feed.clone(), Arc::new(PortalFixture::default())).await;
    let h = harness(
        registry(vec![source(
            "broken",
            SourceKind::Feed,
            Role::Media,
            base.join("feed.xml").unwrap().to_string(),
        )]),
        loopback_policy(),
    );
    let mut at = t0();
    for failures in 1..=UNHEALTHY_AFTER_FAILURES {
        let report = h.scraper.run_cycle(at).await;
        assert_eq!(report.failed.len(), 1);
        assert_eq!(h.state("broken").await.consecutive_failures, failures);
        let expected = usize::from(failures >= UNHEALTHY_AFTER_FAILURES);
        assert_eq!(
            report.unhealthy_sources, expected,
            "after {failures} failures"
        );
        h.force_due("broken").await;
        at += minutes(1);
    }
    // Not due (backing off): still counted.
    h.scraper.run_cycle(at).await; // the 4th failure sets a new due time
    let report = h.scraper.run_cycle(at + minutes(1)).await;
    assert_eq!((report.due, report.unhealthy_sources), (0, 1));

    *feed.status.lock().unwrap() = StatusCode::OK;
    h.force_due("broken").await;
    let report = h.scraper.run_cycle(at + minutes(2)).await;
    assert_eq!((report.fetched, report.unhealthy_sources), (1, 0));
}

#[test]
fn due_sources_take_turns_by_host_keeping_each_hosts_order() {
    let due = vec!["a/1", "a/2", "a/3", "b/1", "a/4", "c/1", "b/2"];
    let host = |s: &&str| s.split('/').next().unwrap_or("").to_owned();
    assert_eq!(
        interleave_by_host(due, host),
        vec!["a/1", "b/1", "c/1", "a/2", "b/2", "a/3", "a/4"]
    );
    assert_eq!(
        host_of("https://News.Google.com/rss?q=x"),
        "news.google.com"
    );
}
