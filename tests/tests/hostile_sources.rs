//! The real scraper (scrape.rs) with the real fetcher limits, on the embedded store (SQLite and
//! disk blobs in a tempdir), against a registry of hostile sources on loopback
//! (`pantau_tests::hostile`). Every source must end in bounded time with the right recorded
//! state, the healthy sources must still be fetched, and a cycle over unchanged sources must
//! write nothing.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pantau::fetch::{FetchPolicy, Fetcher, decode_to_utf8};
use pantau::model::{RawMeta, Source, SourceState};
use pantau::registry::Registry;
use pantau::scrape::{self, CycleReport, ScrapeConfig, Scraper};
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::{BlobStore, Table};
use pantau_tests::hostile::{self, HostileServer, paths};
use serde_json::json;

/// The fetch timeout of the suite: short, so the slow drip costs seconds, not minutes.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BODY: usize = 1024 * 1024;
const MAX_REDIRECTS: usize = 3;
const PAGE_SIZE: u32 = 5;
const BACKFILL_PAGES: u32 = 3;
/// Minutes; every source has this cadence, so backoff is 2 × cadence after one failure.
const CADENCE_MINUTES: u64 = 1;
/// Far more than a cycle needs (the slowest source is bounded by `FETCH_TIMEOUT`), far less
/// than a hang.
const CYCLE_BOUND: Duration = Duration::from_secs(30);

/// (source id, path on the hostile server, conditional GET)
const FEEDS: &[(&str, &str, bool)] = &[
    ("ok", paths::OK_FEED, true),
    ("slow-drip", paths::SLOW_DRIP, true),
    ("endless", paths::ENDLESS, true),
    ("gzip-bomb", paths::GZIP_BOMB, true),
    ("redirect-loop", paths::REDIRECT_LOOP, true),
    ("escape", paths::ESCAPE, true),
    ("too-many-requests", paths::TOO_MANY_REQUESTS, true),
    ("unavailable", paths::UNAVAILABLE, true),
    ("server-error", paths::SERVER_ERROR, true),
    ("honest-etag", paths::HONEST_ETAG, true),
    ("lying-etag", paths::LYING_ETAG, true),
    ("lying-etag-unconditional", paths::LYING_ETAG, false),
    ("no-validators", paths::NO_VALIDATORS, true),
    ("cp1252-declared-utf8", paths::CP1252_DECLARED_UTF8, true),
    ("cp1252-undeclared", paths::CP1252_UNDECLARED, true),
    (
        "sjis-declared-latin1",
        paths::SHIFT_JIS_DECLARED_LATIN1,
        true,
    ),
    ("sjis-undeclared", paths::SHIFT_JIS_UNDECLARED, true),
    ("sjis-prolog", paths::SHIFT_JIS_PROLOG, true),
    ("robots-disallowed", paths::ROBOTS_DISALLOWED, true),
];
const PORTAL_SOURCE: &str = "portal-forever";

/// Sources that fail every cycle, and the kind of error each must record.
const FAILING: &[(&str, &str)] = &[
    ("slow-drip", "timeout"),
    ("endless", "too_large"),
    ("gzip-bomb", "too_large"),
    ("redirect-loop", "too_many_redirects"),
    ("escape", "blocked"),
    ("too-many-requests", "status 429"),
    ("unavailable", "status 503"),
    ("server-error", "status 500"),
    ("robots-disallowed", "disallowed_by_robots"),
];

fn registry(server: &HostileServer) -> Registry {
    let mut sources: Vec<Source> = FEEDS
        .iter()
        .map(|(id, path, conditional)| {
            source(json!({
                "id": id,
                "kind": "feed",
                "role": "media",
                "url": server.url(path),
                "cadence_minutes": CADENCE_MINUTES,
                "conditional_get": conditional,
            }))
        })
        .collect();
    sources.push(source(json!({
        "id": PORTAL_SOURCE,
        "kind": "kemlu_portal",
        "role": "official",
        "url": server.url(paths::PAGINATES_FOREVER_API),
        "cadence_minutes": CADENCE_MINUTES,
        "portal": "forever",
        "section": "berita",
    })));
    Registry {
        global_sources: sources,
        ..Registry::default()
    }
}

/// Built through serde, so fields added to `Source` later take their registry defaults.
fn source(value: serde_json::Value) -> Source {
    serde_json::from_value(value).expect("a valid source")
}

/// Production's fetcher with the suite's short limits, allowing exactly 127.0.0.1.
fn fetch_policy() -> FetchPolicy {
    FetchPolicy {
        timeout: FETCH_TIMEOUT,
        connect_timeout: Duration::from_secs(1),
        max_body_bytes: MAX_BODY,
        max_redirects: MAX_REDIRECTS,
        allow_private_networks: false,
        allowed_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        obey_robots: true,
        // Every source is on one host: let them overlap, or the slow ones queue the rest.
        per_host_min_interval: Duration::ZERO,
        per_host_max_in_flight: 8,
        ..FetchPolicy::default()
    }
}

struct World {
    server: HostileServer,
    scraper: Scraper,
    table: Arc<dyn Table>,
    blobs: Arc<dyn BlobStore>,
    raw_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let server = HostileServer::start().await.expect("hostile server");
    let dir = tempfile::tempdir().expect("tempdir");
    let raw_dir = dir.path().join("raw");
    let table: Arc<dyn Table> =
        Arc::new(SqliteTable::open(&dir.path().join("pantau.sqlite")).expect("sqlite"));
    let blobs: Arc<dyn BlobStore> = Arc::new(DiskBlobStore::new(&raw_dir).expect("disk blobs"));
    let scraper = Scraper {
        registry: Arc::new(registry(&server)),
        blobs: blobs.clone(),
        table: table.clone(),
        fetcher: Fetcher::new(fetch_policy()).expect("fetcher"),
        config: ScrapeConfig {
            portal_page_size: PAGE_SIZE,
            backfill_pages: BACKFILL_PAGES,
            max_concurrent_sources: 32,
            // The endless API's publications have no details worth fetching: the checks below
            // count its list pages (details have their own tests in shared/src/scrape/).
            fetch_portal_details: false,
            // No cycle budget (the default): every due source is started.
            ..ScrapeConfig::default()
        },
    };
    World {
        server,
        scraper,
        table,
        blobs,
        raw_dir,
        _dir: dir,
    }
}

impl World {
    /// One cycle at `now`, under a timeout: a hang fails the test instead of stalling it.
    async fn cycle(&self, now: DateTime<Utc>) -> (CycleReport, Duration) {
        let started = Instant::now();
        let report = tokio::time::timeout(CYCLE_BOUND, self.scraper.run_cycle(now))
            .await
            .expect("the cycle ends in bounded time");
        let took = started.elapsed();
        eprintln!(
            "cycle at {now}: {took:?}: due {} fetched {} changed {} unchanged {} not_modified {} failed {} written {}",
            report.due,
            report.fetched,
            report.changed,
            report.unchanged,
            report.not_modified,
            report.failed.len(),
            report.written.len()
        );
        (report, took)
    }

    async fn states(&self) -> HashMap<String, SourceState> {
        scrape::load_states(self.table.as_ref())
            .await
            .expect("states")
            .into_iter()
            .map(|s| (s.source.clone(), s))
            .collect()
    }

    /// Raw objects on disk (files under the blob root that are not metadata sidecars).
    fn raw_files(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| {
                            let path = e.path();
                            if path.is_dir() { count(&path) } else { 1 }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.raw_dir)
    }
}

/// The kind of failure a recorded `last_error` message names. The state keeps the message
/// (`owner/source: <FetchError>`); these are the `FetchError` Display forms.
fn error_kind(message: &str) -> String {
    // First match wins: "could not connect" before "refused" (a connection can be refused).
    let kinds = [
        ("could not connect", "connect"),
        ("timed out", "timeout"),
        ("body larger than", "too_large"),
        ("more than", "too_many_redirects"),
        (": refused http", "blocked"),
        ("disallowed by", "disallowed_by_robots"),
    ];
    if let Some((_, kind)) = kinds.iter().find(|(needle, _)| message.contains(needle)) {
        return (*kind).to_owned();
    }
    match message.split("HTTP status ").nth(1) {
        Some(rest) => format!("status {}", rest.trim()),
        None => format!("other: {message}"),
    }
}

fn secs_between(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> i64 {
    to.map(|t| (t - from).num_seconds()).unwrap_or(i64::MIN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sources_end_in_bounded_time_with_the_right_state() {
    let world = world().await;
    let cadence = CADENCE_MINUTES as i64 * 60;

    // Cycle 1: everything is new, so everything is due.
    let now = Utc::now();
    let (first, took) = world.cycle(now).await;
    assert!(took < Duration::from_secs(20), "first cycle took {took:?}");
    let total = FEEDS.len() + 1;
    assert_eq!(first.due, total);
    assert_eq!(first.deferred, 0);
    assert_eq!(first.failed.len(), FAILING.len(), "{:#?}", first.failed);
    assert_eq!(first.fetched, total - FAILING.len());
    // Every healthy source wrote: ok, honest, both lying, no-validators, 5 charsets, and the
    // portal (3 pages).
    assert_eq!(first.changed, total - FAILING.len(), "{first:#?}");

    let states = world.states().await;
    assert_eq!(states.len(), total, "one state per source");
    for (id, kind) in FAILING {
        let state = &states[*id];
        let error = state.last_error.as_deref().unwrap_or("");
        assert_eq!(error_kind(error), *kind, "{id}: {error}");
        assert_eq!(state.consecutive_failures, 1, "{id}");
        assert!(state.last_success_at.is_none(), "{id}");
        assert!(!state.backfilled, "{id}");
    }
    for (id, _, _) in FEEDS
        .iter()
        .filter(|(id, _, _)| !FAILING.iter().any(|(f, _)| f == id))
    {
        let state = &states[*id];
        assert_eq!(
            state.consecutive_failures, 0,
            "{id}: {:?}",
            state.last_error
        );
        assert_eq!(state.last_success_at, Some(now), "{id}");
        assert_eq!(state.validators.len(), 1, "{id}");
        // Success: the cadence ±10% (no source sends a longer hint).
        let due_in = secs_between(now, state.next_due_at);
        assert!(
            (cadence * 9 / 10 - 1..=cadence * 11 / 10 + 1).contains(&due_in),
            "{id}: {due_in}"
        );
    }

    // Retry-After wins over the shorter backoff (2 × cadence), in seconds and as a date.
    let retry_after = |id: &str| secs_between(now, states[id].next_due_at);
    let want = hostile::TOO_MANY_REQUESTS_RETRY_AFTER.as_secs() as i64;
    assert!(
        retry_after("too-many-requests") >= want,
        "429: {}",
        retry_after("too-many-requests")
    );
    assert!(retry_after("too-many-requests") <= want + 5);
    let want = hostile::UNAVAILABLE_RETRY_AFTER.as_secs() as i64;
    // An HTTP date has whole seconds, and the server stamped it a moment before `now` moved.
    assert!(
        retry_after("unavailable") >= want - 30,
        "503: {}",
        retry_after("unavailable")
    );
    assert!(retry_after("unavailable") <= want + 5);
    // No hint: exponential backoff, 2^1 × cadence ±10%.
    let backoff = retry_after("server-error");
    assert!(
        (2 * cadence * 9 / 10 - 1..=2 * cadence * 11 / 10 + 1).contains(&backoff),
        "500: {backoff}"
    );

    // Validators: the honest and lying ETags are kept; the no-validators feed has its hash only.
    let validators = |id: &str| {
        states[id]
            .validators
            .values()
            .next()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(validators("honest-etag").etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        validators("lying-etag").etag.as_deref(),
        Some("\"forever\"")
    );
    assert_eq!(validators("no-validators").etag, None);
    assert!(validators("no-validators").sha256.is_some());

    // The guard: the redirect to 127.0.0.2 was refused before any byte went there.
    assert_eq!(world.server.requests_via_host("127.0.0.2"), 0);
    let escape = states["escape"].last_error.as_deref().unwrap_or("");
    assert!(escape.contains("127.0.0.2"), "{escape}");
    // robots.txt: read (once), and the disallowed feed never requested.
    assert_eq!(world.server.requests(paths::ROBOTS_DISALLOWED), 0);
    assert_eq!(world.server.requests("/robots.txt"), 1);
    // The redirect loop stopped after the allowed hops (first request + MAX_REDIRECTS).
    assert_eq!(world.server.requests("/redirect-loop/"), MAX_REDIRECTS + 1);
    // The API that paginates for ever: the backfill reads its configured pages, no more.
    let portal = &states[PORTAL_SOURCE];
    assert_eq!(
        world.server.requests(paths::PAGINATES_FOREVER_API),
        BACKFILL_PAGES as usize
    );
    assert_eq!(portal.validators.len(), BACKFILL_PAGES as usize);
    assert!(portal.backfilled);

    // Charsets: raw objects keep the bytes as served; the metadata says what was declared
    // (wrongly or not at all); decoding with the declared charset never fails.
    let charsets = [
        (
            "cp1252-declared-utf8",
            "cp1252-declared-utf8.xml",
            Some("UTF-8"),
        ),
        ("cp1252-undeclared", "cp1252-undeclared.xml", None),
        (
            "sjis-declared-latin1",
            "sjis-declared-latin1.xml",
            Some("windows-1252"),
        ),
        ("sjis-undeclared", "sjis-undeclared.xml", None),
        ("sjis-prolog", "sjis-prolog.xml", Some("Shift_JIS")),
    ];
    for (id, case, recorded) in charsets {
        let key = first
            .written
            .iter()
            .find(|k| k.contains(&format!("/{id}/")))
            .unwrap_or_else(|| panic!("{id}: no raw object in {:#?}", first.written));
        let blob = world
            .blobs
            .get(key)
            .await
            .expect("get")
            .expect("raw object");
        let (_, served) = hostile::charset_case(case).expect("a charset case");
        assert_eq!(
            blob.body.as_ref(),
            served.as_slice(),
            "{id}: bytes as served"
        );
        let meta = RawMeta::from_metadata(&blob.meta.metadata).expect("raw metadata");
        assert_eq!(meta.charset.as_deref(), recorded, "{id}");
        let (text, _) = decode_to_utf8(&blob.body, meta.charset.as_deref());
        assert!(text.contains("<title>charset</title>"), "{id}: {text}");
    }
    // Declared right, decoded right.
    let sjis = first
        .written
        .iter()
        .find(|k| k.contains("/sjis-prolog/"))
        .expect("sjis");
    let blob = world
        .blobs
        .get(sjis)
        .await
        .expect("get")
        .expect("raw object");
    assert!(
        decode_to_utf8(&blob.body, Some("Shift_JIS"))
            .0
            .contains("日本 東京")
    );

    // Cycle 2, nothing changed upstream: every source is due again, nothing is written.
    let raw_before = world.raw_files();
    assert!(raw_before >= first.written.len());
    let (second, took) = world.cycle(now + chrono::Duration::days(2)).await;
    assert!(took < Duration::from_secs(20), "second cycle took {took:?}");
    assert_eq!(second.due, total);
    assert!(second.written.is_empty(), "{:#?}", second.written);
    assert_eq!(
        world.raw_files(),
        raw_before,
        "a cycle over unchanged sources writes nothing"
    );
    assert_eq!(second.fetched, total - FAILING.len());
    assert_eq!(second.unchanged, second.fetched);
    // ok, honest and lying (conditional) answer 304; the rest are unchanged by hash.
    assert_eq!(second.not_modified, 3, "{second:#?}");
    let states = world.states().await;
    for (id, kind) in FAILING {
        assert_eq!(states[*id].consecutive_failures, 2, "{id}");
        assert_eq!(
            error_kind(states[*id].last_error.as_deref().unwrap_or("")),
            *kind
        );
    }
    // The portal, backfilled, reads page 1 only.
    assert_eq!(
        world.server.requests(paths::PAGINATES_FOREVER_API),
        BACKFILL_PAGES as usize + 1
    );

    // Cycle 3: the honest and the lying feed change. The honest ETag tells; the lying one
    // fools the source that trusts validators, and the per-source switch (conditional GET
    // off) lets the content hash see the change.
    world.server.set_honest_body("second version");
    world.server.set_lying_body("second version");
    let (third, _) = world.cycle(now + chrono::Duration::days(4)).await;
    let wrote = |id: &str| {
        third
            .written
            .iter()
            .filter(|k| k.contains(&format!("/{id}/")))
            .count()
    };
    assert_eq!(wrote("honest-etag"), 1);
    assert_eq!(wrote("lying-etag-unconditional"), 1);
    assert_eq!(
        wrote("lying-etag"),
        0,
        "a lying 304 is believed when validators are trusted"
    );
    assert_eq!(third.written.len(), 2, "{:#?}", third.written);
    // Three failures in a row: the always-failing sources now count as unhealthy.
    assert_eq!(third.unhealthy_sources, FAILING.len());
}
