//! The scrape stage's politeness and bookkeeping on real adapters (a disk blob store in a
//! temporary folder, SQLite in memory) against a real HTTP server on loopback: robots.txt,
//! the cycle budget, `Expires`, charsets in the raw metadata, and the cycle's byte counts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::*;
use crate::fetch::FetchPolicy;
use crate::fetch::tests::{loopback_policy, serve};
use crate::model::{Mission, MissionKind, Role, Source};
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn feed(id: &str, url: Url) -> Source {
    Source {
        id: id.into(),
        kind: SourceKind::Feed,
        role: Role::Media,
        url: url.to_string(),
        cadence_minutes: 60,
        portal: None,
        section: None,
        language: None,
        time_zone: None,
        conditional_get: true,
        list: Default::default(),
    }
}

struct Harness {
    scraper: Scraper,
    blobs: Arc<DiskBlobStore>,
    table: Arc<SqliteTable>,
    _dir: tempfile::TempDir,
}

fn harness(sources: Vec<Source>, policy: FetchPolicy, config: ScrapeConfig) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let table = Arc::new(SqliteTable::in_memory().unwrap());
    let registry = Registry {
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
    };
    Harness {
        scraper: Scraper {
            registry: Arc::new(registry),
            blobs: blobs.clone(),
            table: table.clone(),
            fetcher: Fetcher::new(policy).unwrap(),
            config,
        },
        blobs,
        table,
        _dir: dir,
    }
}

impl Harness {
    async fn state(&self, source: &str) -> SourceState {
        let item = self
            .table
            .get(&state_key("tokyo", source))
            .await
            .unwrap()
            .expect("state written");
        serde_json::from_value(Value::Object(item)).unwrap()
    }
    async fn put_state(&self, state: SourceState) {
        self.table
            .put(state_item(&state).unwrap(), Condition::None)
            .await
            .unwrap();
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[tokio::test]
async fn robots_txt_is_fetched_once_per_host_and_a_disallowed_source_fails_for_good() {
    let robots_hits = counter();
    let hits = robots_hits.clone();
    let base = serve(
        Router::new()
            .route(
                "/robots.txt",
                get(move || {
                    hits.fetch_add(1, Ordering::SeqCst);
                    async {
                        "User-agent: *\nDisallow: /\n\nUser-agent: Pantau\nDisallow: /private/\n"
                    }
                }),
            )
            .route("/public.xml", get(|| async { "<rss>open</rss>" }))
            .route("/other.xml", get(|| async { "<rss>other</rss>" }))
            .route("/private/feed.xml", get(|| async { "<rss>secret</rss>" })),
    )
    .await;
    let h = harness(
        vec![
            feed("open", base.join("public.xml").unwrap()),
            feed("other", base.join("other.xml").unwrap()),
            feed("closed", base.join("private/feed.xml").unwrap()),
        ],
        loopback_policy(),
        ScrapeConfig::default(),
    );
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!((report.due, report.fetched, report.changed), (3, 2, 2));
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    let failure = &report.failed[0];
    assert_eq!(failure.source, "closed");
    assert!(
        failure.error.contains("disallowed by") && failure.error.contains("/robots.txt"),
        "{}",
        failure.error
    );
    // Three sources on one host, fetched concurrently: one robots.txt request.
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1);
    let closed = h.state("closed").await;
    assert_eq!(closed.consecutive_failures, 1);
    assert!(closed.last_error.unwrap().contains("disallowed by"));
    assert!(h.blobs.list("raw/", None, 100).await.unwrap().keys.len() == 2);

    // The error is a non-retryable fetch error.
    let src = h
        .scraper
        .registry
        .sources()
        .find(|s| s.source.id == "closed")
        .unwrap();
    let err = h.scraper.scrape_source(src, t0()).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(matches!(
        err,
        ScrapeError::Fetch {
            error: FetchError::DisallowedByRobots { .. },
            ..
        }
    ));
    // Still within the TTL: no second robots.txt request.
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn robots_txt_missing_or_broken_allows_everything() {
    for robots_status in [StatusCode::NOT_FOUND, StatusCode::SERVICE_UNAVAILABLE] {
        let base = serve(
            Router::new()
                .route("/robots.txt", get(move || async move { robots_status }))
                .route("/feed.xml", get(|| async { "<rss/>" })),
        )
        .await;
        let h = harness(
            vec![feed("f", base.join("feed.xml").unwrap())],
            loopback_policy(),
            ScrapeConfig::default(),
        );
        let report = h.scraper.run_cycle(t0()).await;
        assert_eq!(report.fetched, 1, "{robots_status}: {:?}", report.failed);
    }
}

#[tokio::test]
async fn a_spent_budget_defers_the_rest_oldest_due_first() {
    let order = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = order.clone();
    let base = serve(Router::new().route(
        "/{name}",
        get(
            move |axum::extract::Path(name): axum::extract::Path<String>| {
                let seen = seen.clone();
                async move {
                    if name == "robots.txt" {
                        return StatusCode::NOT_FOUND.into_response();
                    }
                    seen.lock().unwrap().push(name);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    "<rss/>".into_response()
                }
            },
        ),
    ))
    .await;
    let sources = ["a", "b", "c", "d"]
        .map(|id| feed(id, base.join(id).unwrap()))
        .to_vec();
    let config = ScrapeConfig {
        max_concurrent_sources: 1,
        cycle_budget: Some(Duration::from_millis(250)),
        ..ScrapeConfig::default()
    };
    let mut h = harness(sources, loopback_policy(), config);
    // Due times: c never fetched, then b (oldest), d, a (most recent).
    for (id, minutes_ago) in [("a", 5), ("b", 50), ("d", 20)] {
        h.put_state(SourceState {
            owner: "tokyo".into(),
            source: id.into(),
            next_due_at: Some(t0() - chrono::Duration::minutes(minutes_ago)),
            backfilled: true,
            ..SourceState::default()
        })
        .await;
    }
    let started = Instant::now();
    let report = h.scraper.run_cycle(t0()).await;
    eprintln!("budgeted cycle: {report:?} in {:?}", started.elapsed());
    assert_eq!((report.due, report.fetched, report.deferred), (4, 1, 3));
    assert_eq!(*order.lock().unwrap(), ["c"]);
    // Deferred sources are untouched: still due, no attempt recorded.
    let b = h.state("b").await;
    assert_eq!(b.last_attempt_at, None);

    // Without a budget the rest go, oldest-due first.
    h.scraper.config.cycle_budget = None;
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!((report.fetched, report.deferred), (3, 0));
    assert_eq!(*order.lock().unwrap(), ["c", "b", "d", "a"]);
}

#[tokio::test]
async fn expires_pushes_the_next_due_time_and_the_cycle_counts_bytes_and_304s() {
    let base = serve(Router::new().route(
        "/feed.xml",
        get(|headers: HeaderMap| async move {
            if headers.get(header::IF_NONE_MATCH).is_some() {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            (
                [
                    (header::ETAG, "\"e1\""),
                    // Six hours of freshness by the server's own clock.
                    (header::DATE, "Sun, 01 Jun 2025 00:00:00 GMT"),
                    (header::EXPIRES, "Sun, 01 Jun 2025 06:00:00 GMT"),
                ],
                "<rss>twenty-one bytes</rss>",
            )
                .into_response()
        }),
    ))
    .await;
    let h = harness(
        vec![feed("f", base.join("feed.xml").unwrap())],
        loopback_policy(),
        ScrapeConfig::default(),
    );
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(report.changed, 1);
    assert_eq!(report.bytes, "<rss>twenty-one bytes</rss>".len() as u64);
    assert_eq!(report.not_modified, 0);
    let next = h.state("f").await.next_due_at.unwrap();
    // The cadence is an hour; Expires asks for six (jitter never goes below the hint).
    assert!(next >= t0() + chrono::Duration::hours(6), "{next}");
    assert!(next <= t0() + chrono::Duration::minutes(6 * 66), "{next}");

    let report = h.scraper.run_cycle(next).await;
    assert_eq!(
        (
            report.fetched,
            report.unchanged,
            report.not_modified,
            report.bytes
        ),
        (1, 1, 1, 0)
    );
}

#[tokio::test]
async fn the_declared_charset_is_recorded_and_the_bytes_kept_as_served() {
    // "Café" in windows-1252, declared only by the XML prolog.
    let body: &'static [u8] = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>Caf\xE9</rss>";
    let base = serve(Router::new().route(
        "/feed.xml",
        get(move || async move { ([(header::CONTENT_TYPE, "application/rss+xml")], body) }),
    ))
    .await;
    let h = harness(
        vec![feed("f", base.join("feed.xml").unwrap())],
        loopback_policy(),
        ScrapeConfig::default(),
    );
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(report.written.len(), 1);
    let object = h.blobs.get(&report.written[0]).await.unwrap().unwrap();
    assert_eq!(&object.body[..], body);
    let meta = RawMeta::from_metadata(&object.meta.metadata).unwrap();
    assert_eq!(meta.charset.as_deref(), Some("windows-1252"));
    let (text, _) = crate::fetch::decode_to_utf8(&object.body, meta.charset.as_deref());
    assert!(text.contains("Café"), "{text}");
}
