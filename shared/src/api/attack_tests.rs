//! The API under attack: missing, wrong and revoked keys, hostile parameters, tampered and
//! replayed cursors, oversized bodies, floods and panics. Each test prints one
//! `RELIABILITY\tarea\twhat was tried\thow many\toutcome` line per attack for `make reliability`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use super::access::{self, Caller};
use super::limits::{LimitsConfig, RateLimiter};
use super::tests::{Fixture, TEST_KEY, fixture, get, get_with, send};
use super::{ApiState, ItemsParams, router};
use crate::store::sqlite::SqliteTable;
use crate::store::{
    Condition, Item, Key, Page, Query, Table, TableError, TransactOp, Update, WriteOp,
};

fn report(area: &str, tried: &str, count: usize, outcome: &str) {
    println!("RELIABILITY\t{area}\t{tried}\t{count}\t{outcome}");
}

/// Log lines written while a test runs on this thread, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures this thread's logs until the guard drops (the tests run on one thread).
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every data route with its parameters filled for the fixture (Tokyo has items).
fn keyed_uris(f: &Fixture) -> Vec<String> {
    let item = f.items[0].identity();
    vec![
        "/missions".into(),
        "/missions/tokyo".into(),
        "/missions/tokyo/items".into(),
        "/missions/tokyo/activity".into(),
        format!("/items/{item}"),
        format!("/stories/{item}"),
        "/countries/JP/missions".into(),
        "/countries/JP/items".into(),
        "/search?q=berita".into(),
        "/reports/silent-missions".into(),
        "/reports/source-health".into(),
        "/crises".into(),
        "/crises/crs_0000000000000000".into(),
        "/reports/response-latency".into(),
    ]
}

/// A key-shaped random secret that was never issued.
fn random_key() -> String {
    use base64::Engine;
    let bytes = access::random_bytes(32).unwrap();
    format!(
        "pantau_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[tokio::test]
async fn reliability_api_refuses_missing_wrong_and_revoked_keys_without_leaking_them() {
    let f = fixture().await;
    let (logs, _guard) = Logs::capture();
    let revoked = access::create_key(f.state.table.as_ref(), "leaver")
        .await
        .unwrap();
    access::revoke_key(f.state.table.as_ref(), &revoked.info.id)
        .await
        .unwrap();
    let uris = keyed_uris(&f);
    let mut presented = vec![revoked.secret.clone(), TEST_KEY.to_owned()];

    // Every data route, without a key, with an empty one, a wrong one and a revoked one.
    let mut refused = 0;
    for uri in &uris {
        let wrong = random_key();
        presented.push(wrong.clone());
        let cases: [&[(&str, &str)]; 5] = [
            &[],
            &[("x-api-key", "")],
            &[("x-api-key", "   ")],
            &[("x-api-key", wrong.as_str())],
            &[("x-api-key", revoked.secret.as_str())],
        ];
        for headers in cases {
            let (status, content_type, _, body) = send(&f.app, uri, headers).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri} {headers:?}");
            assert_eq!(content_type, "application/problem+json");
            let body = String::from_utf8_lossy(&body);
            assert!(!body.contains(&wrong[7..]) && !body.contains(&revoked.secret[7..]));
            refused += 1;
        }
        let (status, _, _) = get(&f.app, uri).await;
        assert!(
            status.is_success() || status == StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    report(
        "api",
        "missing, empty, wrong and revoked keys on every data route",
        refused,
        &format!(
            "all 401 problem+json over {} routes, no key echoed",
            uris.len()
        ),
    );

    // Many wrong keys, as a guesser would send them.
    let guesses = 500;
    for _ in 0..guesses {
        let wrong = random_key();
        let (status, _, _, body) = send(&f.app, "/missions", &[("x-api-key", &wrong)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(!String::from_utf8_lossy(&body).contains(&wrong[7..]));
        presented.push(wrong);
    }
    report("api", "random wrong keys", guesses, "all 401, no body leak");

    // Revocation takes effect on the very next request: nothing caches a key's validity.
    let keys = 20;
    for n in 0..keys {
        let key = access::create_key(f.state.table.as_ref(), &format!("desk {n}"))
            .await
            .unwrap();
        presented.push(key.secret.clone());
        let with_key = [("x-api-key", key.secret.as_str())];
        assert_eq!(
            get_with(&f.app, "/missions/tokyo/items", &with_key).await.0,
            StatusCode::OK
        );
        access::revoke_key(f.state.table.as_ref(), &key.info.id)
            .await
            .unwrap();
        let response = get_with(&f.app, "/missions/tokyo/items", &with_key).await;
        super::tests::assert_problem(response, StatusCode::UNAUTHORIZED, "revoked");
    }
    report(
        "api",
        "keys revoked between two requests",
        keys,
        "all refused 401 on the next request",
    );

    let logged = logs.text();
    for secret in &presented {
        assert!(!logged.contains(&secret[7..]), "a key reached the log");
    }
    report(
        "api",
        "keys presented, then searched for in the log (all levels)",
        presented.len(),
        "none found",
    );
}

/// A table that remembers the partitions and keys it was asked for, and panics on a query
/// when told to (to see what the API answers when a handler panics).
struct SpyTable {
    inner: SqliteTable,
    touched: Mutex<Vec<String>>,
    panic_on_query: std::sync::atomic::AtomicBool,
}

impl SpyTable {
    fn new(inner: SqliteTable) -> SpyTable {
        SpyTable {
            inner,
            touched: Mutex::new(Vec::new()),
            panic_on_query: Default::default(),
        }
    }

    fn take_touched(&self) -> Vec<String> {
        std::mem::take(&mut *self.touched.lock().unwrap())
    }
}

#[async_trait]
impl Table for SpyTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.touched.lock().unwrap().push(key.pk.clone());
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, TableError> {
        if self
            .panic_on_query
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            panic!("spy table: secret connection string pantau-db-password-1234");
        }
        self.touched.lock().unwrap().push(query.partition.clone());
        self.inner.query(query).await
    }
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        self.inner.batch_write(ops).await
    }
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        self.inner.transact_write(ops).await
    }
}

/// The fixture's data copied into a spying table, and a router over it.
async fn spied(f: &Fixture) -> (Arc<SpyTable>, Router) {
    let spy = Arc::new(SpyTable::new(SqliteTable::in_memory().unwrap()));
    // The fixture's items again, reconciled into the spy from the same blobs.
    let reconciler = crate::reconcile::Reconciler {
        blobs: f.blobs.clone(),
        table: spy.clone(),
        registry: f.state.registry.clone(),
    };
    for key in ["items/1.jsonl", "items/2.jsonl"] {
        reconciler.reconcile_object(key).await.unwrap();
    }
    access::store_key(spy.as_ref(), TEST_KEY, "tests")
        .await
        .unwrap();
    // No rate limit: these tests send many requests with one key on purpose.
    let unlimited = LimitsConfig {
        rate_per_second: 0.0,
        ..LimitsConfig::default()
    };
    let state = ApiState {
        table: spy.clone(),
        limits: Arc::new(RateLimiter::new(unlimited)),
        ..f.state.clone()
    };
    (spy, router(state))
}

/// Every byte but the unreserved ones percent-encoded, for a path segment or a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Values an attacker puts where the API builds table keys, ranges and filters.
fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "'",
        "\"",
        "' OR '1'='1",
        "\" OR 1=1 --",
        "#",
        "#pk",
        ":",
        ":v0",
        "pk = :pk OR begins_with(pk, :x)",
        "MISSION#tokyo",
        "tokyo#",
        "tokyo",
        "JP",
        "canberra\u{0}tokyo",
        "\u{0}",
        "%00",
        "../tokyo",
        "*",
        "{\"S\":\"tokyo\"}",
        "$",
        "\r\nx-api-key: stolen",
        "\u{202e}oykot",
        "\u{200b}tokyo",
        "東京",
        "🇯🇵",
        "2025-03-01T00:00:00Z#",
        "9999999999999999999999",
        "-1",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.push("a".repeat(10_000));
    values.push("#:'".repeat(3_000));
    values
}

#[tokio::test]
async fn reliability_api_parameter_injection_is_refused_or_literal_and_stays_in_its_partition() {
    let f = fixture().await;
    let (spy, app) = spied(&f).await;
    let story = f.items[0].identity();
    let query_slots: Vec<(String, &[&str])> = vec![
        (
            "/missions/canberra/items".into(),
            &[
                "limit", "cursor", "role", "language", "since", "until", "format",
            ],
        ),
        (
            "/countries/AU/items".into(),
            &[
                "limit", "cursor", "role", "language", "since", "until", "format",
            ],
        ),
        ("/missions/canberra/activity".into(), &["days", "format"]),
        (format!("/stories/{story}"), &["limit", "cursor", "format"]),
        (
            "/search?q=berita".into(),
            &[
                "mission", "country", "topic", "role", "language", "since", "until", "limit",
                "cursor", "format",
            ],
        ),
        ("/search".into(), &["q"]),
        ("/reports/silent-missions".into(), &["days", "format"]),
        ("/reports/response-latency".into(), &["days", "format"]),
        ("/crises".into(), &["country", "state", "limit", "format"]),
        ("/missions".into(), &["format"]),
    ];
    let path_slots = [
        "/missions/{}",
        "/missions/{}/items",
        "/missions/{}/activity",
        "/items/{}",
        "/stories/{}",
        "/countries/{}/missions",
        "/countries/{}/items",
        "/crises/{}",
    ];
    let mut uris: Vec<(String, bool)> = Vec::new();
    for value in hostile_values() {
        let v = encode(&value);
        for (path, names) in &query_slots {
            let join = if path.contains('?') { '&' } else { '?' };
            for name in *names {
                // Canberra and Australia have no items: anything of Tokyo's would be a leak.
                let scoped = path.contains("canberra") || path.contains("/AU/");
                uris.push((format!("{path}{join}{name}={v}"), scoped));
            }
            // The value as a parameter's name, too.
            uris.push((format!("{path}{join}{v}=1"), false));
        }
        for slot in path_slots {
            if !v.is_empty() {
                uris.push((slot.replace("{}", &v), false));
            }
        }
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (uri, scoped) in &uris {
        spy.take_touched();
        let (status, content_type, _, bytes) = send(&app, uri, &[("x-api-key", TEST_KEY)]).await;
        *statuses.entry(status.as_u16()).or_default() += 1;
        assert!(
            matches!(status.as_u16(), 200 | 400 | 404),
            "{uri}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        if status != StatusCode::OK {
            assert_eq!(content_type, "application/problem+json", "{uri}");
        }
        let touched = spy.take_touched();
        if *scoped {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if let Some(items) = body["items"].as_array() {
                assert!(items.is_empty(), "{uri} answered another mission's items");
            }
            let foreign: Vec<_> = touched
                .iter()
                .filter(|p| p.contains("tokyo") || p.ends_with("#JP"))
                .collect();
            assert!(foreign.is_empty(), "{uri} read {foreign:?}");
        }
    }
    let outcome = statuses
        .iter()
        .map(|(s, n)| format!("{n}×{s}"))
        .collect::<Vec<_>>()
        .join(", ");
    report(
        "api",
        "quotes, #, :, NUL, CRLF, bidi, unicode and 10k-char values in every parameter and path segment",
        uris.len(),
        &format!("{outcome}; never 5xx, no other partition read"),
    );
}

#[tokio::test]
async fn reliability_api_refuses_tampered_and_replayed_cursors() {
    let f = fixture().await;
    let other = access::create_key(f.state.table.as_ref(), "other desk")
        .await
        .unwrap();
    let (_, _, first) = get(&f.app, "/missions/tokyo/items?limit=2&role=official").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let same = "/missions/tokyo/items?limit=2&role=official";
    assert_eq!(
        get(&f.app, &format!("{same}&cursor={cursor}")).await.0,
        StatusCode::OK
    );

    // Replays: the same cursor with other filters, on other routes, with another key.
    let replays = [
        format!("/missions/tokyo/items?cursor={cursor}"),
        format!("/missions/tokyo/items?role=media&cursor={cursor}"),
        format!("/missions/tokyo/items?role=official&language=id&cursor={cursor}"),
        format!("/missions/tokyo/items?role=official&until=2025-03-02T00:00:00Z&cursor={cursor}"),
        format!("/missions/canberra/items?role=official&cursor={cursor}"),
        format!("/countries/JP/items?role=official&cursor={cursor}"),
        format!("/search?q=berita&role=official&cursor={cursor}"),
        format!("/stories/{}?cursor={cursor}", f.items[0].identity()),
    ];
    for uri in &replays {
        let response = get(&f.app, uri).await;
        super::tests::assert_problem(response, StatusCode::BAD_REQUEST, "cursor");
    }
    let response = get_with(
        &f.app,
        &format!("{same}&cursor={cursor}"),
        &[("x-api-key", &other.secret)],
    )
    .await;
    super::tests::assert_problem(response, StatusCode::BAD_REQUEST, "this key");
    report(
        "api",
        "cursors replayed with other filters, routes, missions or another key",
        replays.len() + 1,
        "all 400 problem+json",
    );

    // Expired: a cursor the API signed for this very query 25 hours ago.
    let scope = Caller::of_secret(TEST_KEY).bind(
        ItemsParams::parse(Some("role=official"))
            .unwrap()
            .cursor_scope("tokyo"),
    );
    let (signed, _) = cursor.rsplit_once('.').unwrap();
    let (table_cursor, _) = signed.rsplit_once('.').unwrap();
    let table_cursor = crate::store::Cursor(table_cursor.to_owned());
    let fresh = f.state.cursors.sign(&scope, &table_cursor);
    assert_eq!(
        get(&f.app, &format!("{same}&cursor={fresh}")).await.0,
        StatusCode::OK,
        "the scope rebuilt here is the handler's"
    );
    let stale = f.state.cursors.sign_at(
        &scope,
        &table_cursor,
        chrono::Utc::now() - chrono::Duration::hours(25),
    );
    let response = get(&f.app, &format!("{same}&cursor={stale}")).await;
    super::tests::assert_problem(response, StatusCode::BAD_REQUEST, "expired");
    report(
        "api",
        "cursor presented after its expiry",
        1,
        "400 problem+json",
    );

    // Tampered: every character of the cursor changed in turn.
    let bytes = cursor.as_bytes();
    let mut tampered = 0;
    for i in 0..bytes.len() {
        let mut edited = bytes.to_vec();
        edited[i] = match edited[i] {
            b'A' => b'B',
            b'.' => b'_',
            _ => b'A',
        };
        let edited = String::from_utf8(edited).unwrap();
        let response = get(&f.app, &format!("{same}&cursor={edited}")).await;
        super::tests::assert_problem(response, StatusCode::BAD_REQUEST, "cursor");
        tampered += 1;
    }
    report(
        "api",
        "cursors with one character changed (every position)",
        tampered,
        "all 400 problem+json",
    );
}

#[tokio::test]
async fn reliability_api_refuses_oversized_bodies() {
    let f = fixture().await;
    let max = f.state.limits.config().max_body_bytes;
    let request = |uri: &str, body: Body, length: Option<usize>| {
        let mut r = Request::get(uri).header("x-api-key", TEST_KEY);
        if let Some(n) = length {
            r = r.header(header::CONTENT_LENGTH, n);
        }
        r.body(body).unwrap()
    };
    let cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
        // Declared too long: refused before a byte is read.
        (
            "/missions",
            request("/missions", Body::from(vec![b'x'; max + 1]), Some(max + 1)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "/health",
            request("/health", Body::from(vec![b'x'; max * 64]), Some(max * 64)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        // Streamed without a length: refused once the limit is passed.
        (
            "/missions/tokyo/items",
            request(
                "/missions/tokyo/items",
                Body::from_stream(futures::stream::iter(
                    (0..1024).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 1024])),
                )),
                None,
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        // A small body is ignored: every route is a GET.
        (
            "/missions",
            request("/missions", Body::from("{}"), Some(2)),
            StatusCode::OK,
        ),
    ];
    let tried = cases.len();
    for (uri, request, expected) in cases {
        let response = f.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), expected, "{uri}");
        if expected != StatusCode::OK {
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
        }
    }
    report(
        "api",
        &format!(
            "request bodies over {max} bytes (declared, streamed up to 1 MiB) and a small one"
        ),
        tried,
        "oversized all 413 problem+json, the small one 200",
    );
}

#[tokio::test]
async fn reliability_api_rate_limits_each_key() {
    let f = fixture().await;
    let (rate, burst) = (5.0, 20);
    let state = ApiState {
        limits: Arc::new(RateLimiter::new(LimitsConfig {
            rate_per_second: rate,
            burst,
            ..LimitsConfig::default()
        })),
        ..f.state.clone()
    };
    let app = router(state);
    let other = access::create_key(f.state.table.as_ref(), "quiet desk")
        .await
        .unwrap();
    let flood = 1000;
    let started = Instant::now();
    let (mut served, mut limited) = (0usize, 0usize);
    for _ in 0..flood {
        let (status, content_type, headers, _) =
            send(&app, "/missions/tokyo", &[("x-api-key", TEST_KEY)]).await;
        match status {
            StatusCode::OK => served += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert_eq!(content_type, "application/problem+json");
                let retry: u64 = headers[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(retry >= 1);
            }
            other => panic!("{other}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The burst, plus what refilled while the flood ran.
    let allowed = burst as usize + (elapsed * rate).ceil() as usize;
    assert!(
        served >= burst as usize && served <= allowed,
        "{served} > {allowed}"
    );
    // Another key is not slowed by the flood.
    let (status, _, _) = get_with(&app, "/missions/tokyo", &[("x-api-key", &other.secret)]).await;
    assert_eq!(status, StatusCode::OK);
    // Unkeyed routes are not counted against anyone.
    assert_eq!(get(&app, "/health").await.0, StatusCode::OK);
    report(
        "api",
        &format!("request flood from one key (limit {rate}/s, burst {burst})"),
        flood,
        &format!(
            "{served} served, {limited} 429 problem+json with Retry-After; another key still served"
        ),
    );
}

#[tokio::test]
async fn reliability_api_answers_a_panic_with_a_bare_500() {
    let f = fixture().await;
    let (spy, app) = spied(&f).await;
    spy.panic_on_query
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let uris = keyed_uris(&f);
    let mut panicked = 0;
    for uri in &uris {
        let (status, content_type, _, body) = send(&app, uri, &[("x-api-key", TEST_KEY)]).await;
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("password") && !body.contains("spy table"),
            "{uri}"
        );
        assert!(
            !body.contains("panicked at") && !body.contains(".rs:"),
            "{uri}"
        );
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            assert_eq!(content_type, "application/problem+json");
            panicked += 1;
        }
    }
    // Most routes query the table; the few that only `get` answer normally.
    assert!(panicked >= uris.len() / 2, "{panicked}");
    // The router keeps serving afterwards.
    spy.panic_on_query
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(get(&app, "/missions/tokyo/items").await.0, StatusCode::OK);
    report(
        "api",
        "handlers panicking (table query panics with a secret in its message)",
        panicked,
        "all 500 problem+json without message or trace; served again afterwards",
    );
}
