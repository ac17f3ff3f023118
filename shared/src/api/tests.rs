use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::model::{NormalizedItem, SourceState};
use crate::reconcile::Reconciler;
use crate::reconcile::tests::{at, item, jsonl, official_behind_media, registry};
use crate::schema;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::table;
use crate::store::testing::{Fault, FaultyTable, TableCall};
use crate::store::{BlobMeta, BlobStore, Condition, Table};

pub(super) struct Fixture {
    pub(super) app: Router,
    pub(super) items: Vec<NormalizedItem>,
    pub(super) state: ApiState,
    pub(super) blobs: Arc<DiskBlobStore>,
    pub(super) reconciler: Reconciler,
    /// Keeps the blob folder alive as long as the fixture.
    _dir: tempfile::TempDir,
}

/// The key every request of these tests carries (stored hashed by the fixture).
pub(super) const TEST_KEY: &str = "pantau_test-key-for-the-router-tests";

/// Tokyo with 30 items (every third in English, one media item), one of them edited once;
/// Canberra with none; source states for both.
pub(super) async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(SqliteTable::in_memory().unwrap());
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let insert = |key: &'static str, body: String| {
        let blobs = blobs.clone();
        async move {
            blobs
                .put(key, body.into(), &BlobMeta::default())
                .await
                .unwrap()
        }
    };
    let registry = Arc::new(registry());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    access::store_key(table.as_ref(), TEST_KEY, "tests")
        .await
        .unwrap();
    let base = at("2025-03-01T00:00:00Z");
    let items: Vec<NormalizedItem> = (0..30)
        .map(|n| {
            let published = (base + Duration::hours(n)).to_rfc3339();
            let mut i = item(
                &format!("n{n}"),
                &format!("Berita {n}"),
                &published,
                "2025-03-03T00:00:00Z",
            );
            if n % 3 == 0 {
                i.language = Some("en".into());
            }
            if n == 29 {
                i.role = Role::Media;
            }
            i
        })
        .collect();
    insert("items/1.jsonl", jsonl(&items)).await;
    reconciler.reconcile_object("items/1.jsonl").await.unwrap();
    let mut edited = items[4].clone();
    edited.title = "Berita 4 (ralat)".into();
    edited.fetched_at = at("2025-03-04T00:00:00Z");
    insert("items/2.jsonl", jsonl(&[edited])).await;
    reconciler.reconcile_object("items/2.jsonl").await.unwrap();

    // Canberra's two failures are under the API's own count: its status comes from the
    // unhealthy mark scrape stored (a lower threshold configured there).
    for (owner, failures, error) in [("tokyo", 0, None), ("canberra", 2, Some("HTTP 503"))] {
        let state = SourceState {
            owner: owner.into(),
            source: "portal-berita".into(),
            last_attempt_at: Some(at("2025-03-04T00:00:00Z")),
            last_success_at: Some(at("2025-03-03T00:00:00Z")),
            consecutive_failures: failures,
            last_error: error.map(str::to_owned),
            unhealthy_since: error.map(|_| at("2025-03-04T00:00:00Z")),
            unhealthy_reason: error.map(|e| format!("2 failures in a row; last: {e}")),
            ..SourceState::default()
        };
        let Value::Object(mut record) = serde_json::to_value(&state).unwrap() else {
            unreachable!()
        };
        let mut set = |k: &str, v: String| {
            record.insert(k.into(), Value::String(v));
        };
        set(table::PK, schema::mission_pk(owner));
        set(table::SK, schema::source_sk("portal-berita"));
        set(table::GSI1_PK, schema::ALL_SOURCES.into());
        set(table::GSI1_SK, format!("{owner}/portal-berita"));
        table.put(record, Condition::None).await.unwrap();
    }
    let state = state(table, registry);
    Fixture {
        app: router(state.clone()),
        items,
        state,
        blobs,
        reconciler,
        _dir: dir,
    }
}

fn state(table: Arc<dyn Table>, registry: Arc<Registry>) -> ApiState {
    ApiState {
        table,
        registry,
        cursors: CursorSigner::new(&[42; 32]),
        cors_origins: Vec::new(),
        limits: Arc::new(limits::RateLimiter::new(limits::LimitsConfig::default())),
    }
}

/// GET with the test key.
pub(super) async fn get(app: &Router, uri: &str) -> (StatusCode, String, Value) {
    get_with(app, uri, &[(access::KEY_HEADER, TEST_KEY)]).await
}

pub(super) async fn get_with(
    app: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String, Value) {
    let (status, content_type, _, bytes) = send(app, uri, headers).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, body)
}

/// GET with these headers: status, content type, all headers, body.
pub(super) async fn send(
    app: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String, axum::http::HeaderMap, bytes::Bytes) {
    let mut request = Request::get(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, content_type, headers, bytes)
}

pub(super) fn assert_problem(
    response: (StatusCode, String, Value),
    status: StatusCode,
    mentions: &str,
) {
    let (got, content_type, body) = response;
    assert_eq!(got, status, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(body["title"].is_string());
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains(mentions), "{detail:?} lacks {mentions:?}");
}

#[tokio::test]
async fn health_answers_ok_when_the_table_answers() {
    let f = fixture().await;
    let (status, content_type, body) = get(&f.app, "/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(body, json!({"status": "ok", "table": "ok"}));
}

#[tokio::test]
async fn missions_list_every_mission_with_health() {
    let f = fixture().await;
    let (status, _, body) = get(&f.app, "/missions").await;
    assert_eq!(status, StatusCode::OK);
    let missions = body["missions"].as_array().unwrap();
    assert_eq!(missions.len(), 2);
    let tokyo = &missions[0];
    assert_eq!(tokyo["id"], "tokyo");
    assert_eq!(tokyo["name"], "KBRI Tokyo");
    assert_eq!(tokyo["country_code"], "JP");
    assert_eq!(tokyo["health"]["status"], "ok");
    // Item 29 is media: the last official one is item 28.
    assert_eq!(
        tokyo["health"]["last_official_published_at"],
        "2025-03-02T04:00:00Z"
    );
    assert_eq!(tokyo["sources"][0]["id"], "portal-berita");
    assert_eq!(tokyo["sources"][0]["state"]["consecutive_failures"], 0);
    let canberra = &missions[1];
    assert_eq!(canberra["health"]["status"], "failing");
    assert_eq!(
        canberra["health"]["last_official_published_at"],
        Value::Null
    );
    assert_eq!(canberra["sources"][0]["state"]["last_error"], "HTTP 503");
    assert_eq!(
        canberra["sources"][0]["state"]["unhealthy_reason"],
        "2 failures in a row; last: HTTP 503"
    );
    assert_eq!(tokyo["sources"][0]["state"]["unhealthy_since"], Value::Null);
    assert_eq!(
        canberra["sources"][0]["state"]["last_success_at"],
        "2025-03-03T00:00:00Z"
    );
}

#[tokio::test]
async fn one_mission_or_404() {
    let f = fixture().await;
    let (status, _, body) = get(&f.app, "/missions/canberra").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "canberra");
    assert_eq!(body["sources"][0]["state"]["consecutive_failures"], 2);
    assert_problem(
        get(&f.app, "/missions/atlantis").await,
        StatusCode::NOT_FOUND,
        "atlantis",
    );
    assert_problem(
        get(&f.app, "/missions/atlantis/items").await,
        StatusCode::NOT_FOUND,
        "atlantis",
    );
    assert_problem(
        get(&f.app, "/nowhere").await,
        StatusCode::NOT_FOUND,
        "route",
    );
}

#[tokio::test]
async fn items_page_newest_first_across_cursors_without_dupes() {
    let f = fixture().await;
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut uri = "/missions/tokyo/items?limit=7".to_owned();
    let mut pages = 0;
    loop {
        let (status, _, body) = get(&f.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        for i in items {
            ids.push(i["id"].as_str().unwrap().to_owned());
            times.push(i["published_at"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/missions/tokyo/items?limit=7&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(ids.len(), 30);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 30, "no duplicates");
    assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first");

    let (_, _, body) = get(&f.app, "/missions/tokyo/items").await;
    let first = &body["items"][0];
    let expected = &f.items[29];
    assert_eq!(first["id"], expected.identity());
    for field in [
        "id",
        "mission",
        "source",
        "role",
        "kind",
        "title",
        "summary",
        "body",
        "url",
        "language",
        "published_at",
        "time_basis",
        "published_raw",
        "fetched_at",
        "versions",
    ] {
        assert!(first.get(field).is_some(), "item lacks {field}");
    }
    assert_eq!(first["role"], "media");
    assert_eq!(first["time_basis"], json!({"basis": "stated"}));
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        30,
        "default limit 50"
    );
    assert_eq!(body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn items_filter_by_role_language_and_time() {
    let f = fixture().await;
    let (status, _, body) = get(
        &f.app,
        "/missions/tokyo/items?role=official&language=EN&since=2025-03-01T06:00:00%2B00:00&until=2025-03-01T15:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let titles: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Berita 15", "Berita 12", "Berita 9", "Berita 6"]);
    let (_, _, media) = get(&f.app, "/missions/tokyo/items?role=media").await;
    assert_eq!(media["items"].as_array().unwrap().len(), 1);
    let (_, _, none) = get(&f.app, "/missions/canberra/items").await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["next_cursor"], Value::Null);
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let f = fixture().await;
    let (_, _, first) = get(&f.app, "/missions/tokyo/items?limit=2").await;
    let tokyo_cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let cases = [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("limit=5&limit=6", "limit"),
        ("since=yesterday", "since"),
        ("until=2025-03-01", "until"),
        (
            "since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z",
            "since",
        ),
        ("language=english", "language"),
        ("language=e1", "language"),
        ("role=spy", "role"),
        ("cursor=%%%", "cursor"),
        ("cursor=bm90IGpzb24", "cursor"),
        ("colour=blue", "colour"),
    ];
    for (query, parameter) in cases {
        let response = get(&f.app, &format!("/missions/tokyo/items?{query}")).await;
        assert_eq!(response.2["parameter"], parameter, "{query}");
        assert_problem(response, StatusCode::BAD_REQUEST, parameter);
    }
    // A cursor from another mission's listing.
    let response = get(
        &f.app,
        &format!("/missions/canberra/items?cursor={tokyo_cursor}"),
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "cursor");
}

#[tokio::test]
async fn an_item_with_its_versions_or_404() {
    let f = fixture().await;
    let id = f.items[4].identity();
    let (status, _, body) = get(&f.app, &format!("/items/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["item"]["id"], id);
    assert_eq!(body["item"]["title"], "Berita 4 (ralat)");
    assert_eq!(body["item"]["versions"], 2);
    let versions = body["versions"].as_array().unwrap();
    let titles: Vec<_> = versions
        .iter()
        .map(|v| v["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Berita 4 (ralat)", "Berita 4"]);
    assert_eq!(versions[0]["version_at"], "2025-03-04T00:00:00Z");

    assert_problem(
        get(&f.app, "/items/itm_00000000000000000000").await,
        StatusCode::NOT_FOUND,
        "itm_00000000000000000000",
    );
    assert_problem(
        get(&f.app, "/items/not-an-id").await,
        StatusCode::NOT_FOUND,
        "not-an-id",
    );
}

#[tokio::test]
async fn a_failing_table_is_500_or_503_without_internals() {
    let table = FaultyTable::new(SqliteTable::in_memory().unwrap());
    table
        .faults()
        .fail_always(&TableCall::ALL, Fault::Retryable);
    let app = router(state(Arc::new(table), Arc::new(registry())));
    for uri in [
        "/missions",
        "/missions/tokyo",
        "/missions/tokyo/items",
        "/items/itm_00000000000000000000",
    ] {
        let response = get(&app, uri).await;
        assert!(!response.2.to_string().contains("injected"), "{uri} leaks");
        assert_problem(response, StatusCode::INTERNAL_SERVER_ERROR, "logged");
    }
    let response = get(&app, "/health").await;
    assert!(!response.2.to_string().contains("injected"));
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "table");
}

// Access keys.

#[tokio::test]
async fn data_routes_refuse_a_missing_wrong_or_revoked_key_with_401() {
    let f = fixture().await;
    let revoked = access::create_key(f.state.table.as_ref(), "leaver")
        .await
        .unwrap();
    access::revoke_key(f.state.table.as_ref(), &revoked.info.id)
        .await
        .unwrap();
    let item = format!("/items/{}", f.items[0].identity());
    for uri in [
        "/missions",
        "/missions/tokyo",
        "/missions/tokyo/items",
        item.as_str(),
    ] {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[], "needs an `x-api-key`"),
            (&[("x-api-key", "pantau_wrong")], "not a key"),
            (&[("x-api-key", "")], "empty"),
            (&[("x-api-key", revoked.secret.as_str())], "revoked"),
        ];
        for (headers, mentions) in cases {
            let response = get_with(&f.app, uri, headers).await;
            assert_problem(response, StatusCode::UNAUTHORIZED, mentions);
        }
        let (status, _, _) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri} with the key");
    }
    // A key made by `create_key` works like the fixture's.
    let fresh = access::create_key(f.state.table.as_ref(), "desk")
        .await
        .unwrap();
    let (status, _, _) = get_with(&f.app, "/missions", &[("x-api-key", &fresh.secret)]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn health_openapi_and_the_dashboard_need_no_key() {
    let f = fixture().await;
    for uri in [
        "/health",
        "/openapi.json",
        "/",
        "/assets/app.js",
        "/assets/app.css",
    ] {
        let (status, _, _, _) = send(&f.app, uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
}

// Signed cursors.

#[tokio::test]
async fn tampered_foreign_or_unsigned_cursors_are_400() {
    let f = fixture().await;
    let (_, _, first) = get(&f.app, "/missions/tokyo/items?limit=2&role=official").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // It works with the same filters, whatever the limit or format.
    let (status, _, _) = get(
        &f.app,
        &format!("/missions/tokyo/items?limit=5&role=official&cursor={cursor}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (table_cursor, tag) = cursor.rsplit_once('.').unwrap();
    let mut flipped = table_cursor.as_bytes().to_vec();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{tag}", String::from_utf8(flipped).unwrap());
    let other_key = CursorSigner::new(&[1; 32]).sign(
        &ItemsParams::parse(Some("role=official"))
            .unwrap()
            .cursor_scope("tokyo"),
        &crate::store::Cursor(table_cursor.to_owned()),
    );
    let cases = [
        format!("role=official&cursor={tampered}"),
        // The unsigned table cursor alone, as the API gave it before cursors were signed.
        format!("role=official&cursor={table_cursor}"),
        // Signed with another key.
        format!("role=official&cursor={other_key}"),
        // The same cursor under other filters.
        format!("cursor={cursor}"),
        format!("role=official&language=en&cursor={cursor}"),
        format!("role=official&since=2025-01-01T00:00:00Z&cursor={cursor}"),
    ];
    for query in cases {
        let response = get(&f.app, &format!("/missions/tokyo/items?{query}")).await;
        assert_eq!(response.2["parameter"], "cursor", "{query}");
        assert_problem(response, StatusCode::BAD_REQUEST, "cursor");
    }
    // Another mission's listing.
    let response = get(
        &f.app,
        &format!("/missions/canberra/items?role=official&cursor={cursor}"),
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "cursor");
}

// CSV.

pub(super) fn csv_records(text: &str) -> Vec<Vec<String>> {
    // A small RFC 4180 reader, enough to read back what the API wrote.
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "unterminated last line"
    );
    records
}

#[tokio::test]
async fn lists_as_csv_with_quoting_and_formulas_neutralized() {
    let f = fixture().await;
    let mut hostile = item(
        "evil",
        "=HYPERLINK(\"http://evil.example\",\"klik\")",
        "2025-03-05T00:00:00Z",
        "2025-03-05T01:00:00Z",
    );
    hostile.summary = Some("line one\nline two, with \"quotes\"".into());
    f.blobs
        .put(
            "items/3.jsonl",
            jsonl(&[hostile]).into(),
            &BlobMeta::default(),
        )
        .await
        .unwrap();
    f.reconciler
        .reconcile_object("items/3.jsonl")
        .await
        .unwrap();

    let (status, content_type, headers, bytes) = send(
        &f.app,
        "/missions/tokyo/items?limit=3",
        &[("x-api-key", TEST_KEY), ("accept", "text/csv")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(headers[header::VARY], "accept");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let records = csv_records(&text);
    assert_eq!(records[0][0], "id");
    assert_eq!(records[0][5], "title");
    assert_eq!(records.len(), 4, "header and three rows");
    assert!(records.iter().all(|r| r.len() == records[0].len()));
    assert_eq!(
        records[1][5],
        "'=HYPERLINK(\"http://evil.example\",\"klik\")"
    );
    assert_eq!(records[1][6], "line one\nline two, with \"quotes\"");
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"klik\"\")\""));

    // The next page's cursor rides in a header and works with ?format=csv.
    let next = headers[csv::NEXT_CURSOR_HEADER]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, _, _, bytes) = send(
        &f.app,
        &format!("/missions/tokyo/items?limit=3&format=csv&cursor={next}"),
        &[("x-api-key", TEST_KEY)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page2 = csv_records(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(page2.len(), 4);
    assert_ne!(page2[1][0], records[1][0]);

    // Missions too; `format=json` wins over `Accept`.
    let (_, content_type, _, bytes) =
        send(&f.app, "/missions?format=csv", &[("x-api-key", TEST_KEY)]).await;
    assert!(content_type.starts_with("text/csv"));
    let missions = csv_records(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(missions.len(), 3);
    assert_eq!(missions[1][0], "tokyo");
    assert_eq!(missions[2][7], "failing");
    let (_, content_type, _) = get_with(
        &f.app,
        "/missions?format=json",
        &[("x-api-key", TEST_KEY), ("accept", "text/csv")],
    )
    .await;
    assert_eq!(content_type, "application/json");
    for uri in [
        "/missions?format=xml",
        "/missions?colour=blue",
        "/missions/tokyo/items?format=pdf",
    ] {
        assert_problem(get(&f.app, uri).await, StatusCode::BAD_REQUEST, "parameter");
    }
}

// CORS.

#[tokio::test]
async fn cors_is_closed_unless_origins_are_configured() {
    let f = fixture().await;
    let origin = "https://hq.example.go.id";
    let (_, _, headers, _) = send(
        &f.app,
        "/missions",
        &[("x-api-key", TEST_KEY), ("origin", origin)],
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());

    let mut open = f.state.clone();
    open.cors_origins = parse_origins(&format!("{origin}, http://localhost:3000")).unwrap();
    let app = router(open);
    let (status, _, headers, _) = send(
        &app,
        "/missions",
        &[("x-api-key", TEST_KEY), ("origin", origin)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["access-control-allow-origin"], origin);
    let (_, _, headers, _) = send(
        &app,
        "/missions",
        &[("x-api-key", TEST_KEY), ("origin", "https://evil.example")],
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());
    // A preflight carries no key and is answered.
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/missions")
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(preflight).await.unwrap();
    assert!(response.status().is_success());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allowed.contains("x-api-key"), "{allowed}");

    for bad in ["*", "https://a.example/path", "ftp://a.example", "nonsense"] {
        assert!(parse_origins(bad).is_err(), "{bad}");
    }
}

// OpenAPI.

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let f = fixture().await;
    let (status, _, doc) = get_with(&f.app, "/openapi.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: std::collections::BTreeSet<String> =
        doc["paths"].as_object().unwrap().keys().cloned().collect();
    // The router is built from `OPERATIONS` and `dashboard::ASSETS` only, so what it serves
    // is `openapi::paths()`; the document must list exactly those, and each must answer.
    let served: std::collections::BTreeSet<String> =
        openapi::paths().into_iter().map(str::to_owned).collect();
    assert_eq!(documented, served);
    let item_id = f.items[0].identity();
    for path in &documented {
        let uri = path
            .replace(
                "{id}",
                if path.starts_with("/items") || path.starts_with("/stories") {
                    &item_id
                } else {
                    "tokyo"
                },
            )
            .replace("{cc}", "JP");
        // Required query parameters (`/search`'s `q`) get a plausible value.
        let required: Vec<String> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| format!("{}=berita", p["name"].as_str().unwrap()))
            .collect();
        let uri = if required.is_empty() {
            uri
        } else {
            format!("{uri}?{}", required.join("&"))
        };
        let (status, _, body) = get(&f.app, &uri).await;
        if path == "/crises/{id}" {
            // The fixture has no crisis: the route itself (not the fallback) says so.
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
            assert!(body["detail"].as_str().unwrap().contains("crisis `tokyo`"));
        } else if path == "/alerts/rules/{id}" {
            // Nor an alert rule.
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("alert rule `tokyo`")
            );
        } else {
            assert_eq!(
                status,
                StatusCode::OK,
                "{uri} is documented but answers {body}"
            );
        }
        let op = &doc["paths"][path]["get"];
        let public = op["security"] == json!([]);
        let (status, _, _, _) = send(&f.app, &uri, &[]).await;
        assert_eq!(
            status == StatusCode::UNAUTHORIZED,
            !public,
            "{uri}: documented security disagrees with the router"
        );
        if !public {
            assert!(op["responses"]["401"].is_object(), "{path} documents 401");
        }
        // Every parameter the document names is accepted by the route's validation.
        for p in op["parameters"].as_array().unwrap() {
            assert!(p["schema"].is_object(), "{path} {p}");
        }
    }
    // Each query parameter the code accepts is documented, and no other.
    let items_params: Vec<&str> = doc["paths"]["/missions/{id}/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        items_params,
        [
            "limit", "cursor", "role", "language", "since", "until", "format"
        ]
    );
    for name in &items_params {
        let (_, _, body) = get(&f.app, &format!("/missions/tokyo/items?{name}=%00")).await;
        assert_eq!(body["parameter"], *name, "{name} is validated by name");
    }
    // An undocumented path is not served.
    assert_problem(
        get(&f.app, "/missions/tokyo/stories").await,
        StatusCode::NOT_FOUND,
        "route",
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"],
        json!({"type": "apiKey", "in": "header", "name": "x-api-key",
               "description": "A key made by `pantau keys create NAME`."})
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

// Stories and countries.

/// The fixture plus the Iwate earthquake advisory in Indonesian and English and the
/// ministry's release (documents of `stories/docs.tsv`), as Canberra's items.
async fn fixture_with_a_story() -> (Fixture, Vec<NormalizedItem>) {
    let f = fixture().await;
    let story: Vec<NormalizedItem> = ["s01a", "s01b", "s01c"]
        .iter()
        .enumerate()
        .map(|(n, d)| {
            let mut i = crate::reconcile::story_tests::doc(d, n as i64 * 30);
            i.mission = "canberra".into();
            i
        })
        .collect();
    f.blobs
        .put(
            "items/story.jsonl",
            jsonl(&story).into(),
            &BlobMeta::default(),
        )
        .await
        .unwrap();
    f.reconciler
        .reconcile_object("items/story.jsonl")
        .await
        .unwrap();
    (f, story)
}

#[tokio::test]
async fn an_item_shows_its_story_and_a_story_pages_its_members() {
    let (f, story) = fixture_with_a_story().await;
    let story_id = story.iter().map(|i| i.identity()).min().unwrap();
    let first = story[0].identity();

    let (status, _, body) = get(&f.app, &format!("/items/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["item"]["story_id"], story_id.as_str());
    assert_eq!(body["story"]["id"], story_id.as_str());
    let others: Vec<&str> = body["story"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    // Newest first, the item itself left out.
    assert_eq!(others, [story[2].identity(), story[1].identity()]);
    let en = &body["story"]["members"][1];
    assert_eq!(en["language"], "en");
    assert_eq!(en["mission"], "canberra");
    assert_eq!(en["reason"]["rule"], "same_publication");
    assert_eq!(en["linked_to"], first.as_str());
    // An item alone is a story of one.
    let alone = f.items[0].identity();
    let (_, _, body) = get(&f.app, &format!("/items/{alone}")).await;
    assert_eq!(body["story"]["id"], alone.as_str());
    assert_eq!(body["story"]["members"], json!([]));

    // The story, two members a page.
    let (status, _, page) = get(&f.app, &format!("/stories/{story_id}?limit=2")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["id"], story_id.as_str());
    let ids = |page: &Value| -> Vec<String> {
        page["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&page), [story[2].identity(), story[1].identity()]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, _, rest) = get(
        &f.app,
        &format!("/stories/{story_id}?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&rest), std::slice::from_ref(&first));
    assert_eq!(rest["members"][0]["reason"], Value::Null, "the founder");
    assert_eq!(rest["next_cursor"], Value::Null);

    // A story's cursor is refused elsewhere and when tampered with.
    let mut tampered = cursor.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for uri in [
        format!("/stories/{story_id}?cursor={tampered}"),
        format!("/stories/{alone}?cursor={cursor}"),
        format!("/missions/tokyo/items?cursor={cursor}"),
    ] {
        assert_problem(get(&f.app, &uri).await, StatusCode::BAD_REQUEST, "cursor");
    }
    // CSV: one row per member.
    let (status, content_type, _, bytes) = send(
        &f.app,
        &format!("/stories/{story_id}?format=csv"),
        &[(access::KEY_HEADER, TEST_KEY)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.starts_with("id,title,mission,source,language,published_at,rule,linked_to"));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("same_publication"));

    // Refusals.
    assert_problem(
        get(&f.app, "/stories/itm_00000000000000000000").await,
        StatusCode::NOT_FOUND,
        "itm_00000000000000000000",
    );
    assert_problem(
        get(&f.app, "/stories/not-a-story").await,
        StatusCode::NOT_FOUND,
        "not-a-story",
    );
    assert_problem(
        get(&f.app, &format!("/stories/{story_id}?limit=0")).await,
        StatusCode::BAD_REQUEST,
        "",
    );
    assert_problem(
        get_with(&f.app, &format!("/stories/{story_id}"), &[]).await,
        StatusCode::UNAUTHORIZED,
        "x-api-key",
    );
}

#[tokio::test]
async fn a_country_lists_its_missions_and_their_items() {
    let (f, story) = fixture_with_a_story().await;
    let (status, _, body) = get(&f.app, "/countries/jp/missions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["country_code"], "JP");
    let missions = body["missions"].as_array().unwrap();
    assert_eq!(missions.len(), 1);
    assert_eq!(missions[0]["id"], "tokyo");
    assert_eq!(missions[0]["health"]["status"], "ok");

    // Japan's items: Tokyo's 30, newest first, across pages without duplicates.
    let mut seen = Vec::new();
    let mut uri = "/countries/JP/items?limit=12".to_owned();
    loop {
        let (status, _, page) = get(&f.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["country_code"], "JP");
        for item in page["items"].as_array().unwrap() {
            seen.push(item["published_at"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/countries/JP/items?limit=12&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seen:?}"
    );
    // Filters as a mission's items.
    let (_, _, english) = get(&f.app, "/countries/JP/items?language=en&limit=200").await;
    assert_eq!(english["items"].as_array().unwrap().len(), 10);
    let (_, _, media) = get(&f.app, "/countries/JP/items?role=media").await;
    assert_eq!(media["items"].as_array().unwrap().len(), 1);
    // Australia's: the three items of the story, each with its story id.
    let (_, _, au) = get(&f.app, "/countries/AU/items").await;
    let items = au["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let story_id = story.iter().map(|i| i.identity()).min().unwrap();
    assert!(items.iter().all(|i| i["story_id"] == story_id.as_str()));

    // A mission listing's cursor is not a country's.
    let (_, _, mission_page) = get(&f.app, "/missions/tokyo/items?limit=5").await;
    let cursor = mission_page["next_cursor"].as_str().unwrap();
    assert_problem(
        get(&f.app, &format!("/countries/JP/items?cursor={cursor}")).await,
        StatusCode::BAD_REQUEST,
        "cursor",
    );
    for uri in [
        "/countries/FR/missions",
        "/countries/FR/items",
        "/countries/JPN/items",
        "/countries/1P/missions",
    ] {
        assert_problem(get(&f.app, uri).await, StatusCode::NOT_FOUND, "country");
    }
    assert_problem(
        get(&f.app, "/countries/JP/items?since=yesterday").await,
        StatusCode::BAD_REQUEST,
        "RFC 3339",
    );
    for uri in ["/countries/JP/missions", "/countries/JP/items"] {
        assert_problem(
            get_with(&f.app, uri, &[]).await,
            StatusCode::UNAUTHORIZED,
            "x-api-key",
        );
    }
}

#[tokio::test]
async fn activity_counts_a_missions_items_per_day_and_role_in_the_window() {
    let f = fixture().await;
    let now = Utc::now();
    let day = |n: i64| (now - Duration::days(n)).to_rfc3339();
    let mut recent = vec![
        item("a1", "Imbauan satu", &day(1), &day(0)),
        item("a2", "Imbauan dua", &day(1), &day(0)),
        item("a3", "Kabar lama", &day(3), &day(0)),
        item("a4", "Di luar jendela", &day(400), &day(0)),
    ];
    let mut media = item("a5", "Media lokal", &day(1), &day(0));
    media.role = Role::Media;
    recent.push(media);
    f.blobs
        .put(
            "items/recent.jsonl",
            jsonl(&recent).into(),
            &BlobMeta::default(),
        )
        .await
        .unwrap();
    f.reconciler
        .reconcile_object("items/recent.jsonl")
        .await
        .unwrap();

    let (status, _, body) = get(&f.app, "/missions/tokyo/activity?days=30").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let days = body["days"].as_array().unwrap();
    assert_eq!(days.len(), 2, "two days with items in the window: {body}");
    let (older, newer) = (&days[0], &days[1]);
    assert_eq!(
        older["day"],
        (now - Duration::days(3)).date_naive().to_string()
    );
    assert_eq!(
        (older["official"].as_u64(), older["media"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (newer["official"].as_u64(), newer["media"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(body["items_read"], 4);
    assert_eq!(body["truncated"], false);

    let (status, content_type, _, csv) = send(
        &f.app,
        "/missions/tokyo/activity?days=30&format=csv",
        &[(access::KEY_HEADER, TEST_KEY)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let csv = String::from_utf8_lossy(&csv);
    assert!(csv.starts_with("day,official,hq,media,hazard"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");

    assert_problem(
        get(&f.app, "/missions/tokyo/activity?days=0").await,
        StatusCode::BAD_REQUEST,
        "days",
    );
    assert_problem(
        get(&f.app, "/missions/tokyo/activity?weeks=3").await,
        StatusCode::BAD_REQUEST,
        "weeks",
    );
    let (status, _, _) = get(&f.app, "/missions/atlantis/activity").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get_with(&f.app, "/missions/tokyo/activity", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Requests per call of the missions list (every mission's health) and of a mission's detail
/// on a media-heavy mission, before the role index is complete (each mission's time index,
/// read up to 200 items), with it (one query per mission), and with the fleet's summary of
/// last publications too (one query for all). Tokyo's last official post is behind 240 media
/// items: only the role index finds it. Run with `--nocapture` for the figures.
#[tokio::test]
async fn the_missions_health_costs_one_query_per_mission_once_the_role_index_is_complete() {
    use crate::store::testing::CountingTable;
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(CountingTable::new(SqliteTable::in_memory().unwrap()));
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let registry = Arc::new(registry());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    access::store_key(table.as_ref(), TEST_KEY, "tests")
        .await
        .unwrap();
    let items = official_behind_media(240);
    blobs
        .put("items/1.jsonl", jsonl(&items).into(), &BlobMeta::default())
        .await
        .unwrap();
    reconciler.reconcile_object("items/1.jsonl").await.unwrap();
    let app = router(state(table.clone(), registry.clone()));

    let mut figures = Vec::new();
    let mut measure = |stage: &str, what: &str, reads: usize| {
        eprintln!("{stage:<28} {what:<26} {reads} reads");
        figures.push(reads);
    };
    for stage in [
        "before (time index)",
        "role index complete",
        "and the fleet summary",
    ] {
        match stage {
            "role index complete" => {
                crate::reconcile::rollup::backfill(
                    table.as_ref(),
                    &["tokyo".into(), "canberra".into()],
                )
                .await
                .unwrap();
            }
            "and the fleet summary" => {
                crate::reconcile::sync_registry(table.as_ref(), &registry)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        let mut list = Value::Null;
        for n in 0..2 {
            table.reset();
            let (status, _, body) = get(&app, "/missions").await;
            assert_eq!(status, StatusCode::OK);
            measure(
                stage,
                ["GET /missions", "  again"][n],
                table.counts().reads(),
            );
            list = body;
        }
        let last = &list["missions"][0]["health"]["last_official_published_at"];
        for n in 0..2 {
            table.reset();
            let (status, _, detail) = get(&app, "/missions/tokyo").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&detail["health"]["last_official_published_at"], last);
            measure(
                stage,
                ["GET /missions/tokyo", "  again"][n],
                table.counts().reads(),
            );
        }
        let expected = if stage == "before (time index)" {
            Value::Null
        } else {
            json!("2025-03-01T00:00:00Z")
        };
        assert_eq!(last, &expected, "{stage}");
    }
    // Every call: the key's check (one get) and the source states (one query); the list
    // also asks for the fleet's summary of last publications (one query). Before: tokyo's
    // look-back (5, 20, 80, 95 items) and canberra's one query, each beside the marker's get
    // and the role index's query. With the role index: one query per mission, and the
    // marker's get only until the process has seen it. With the summary: the list needs
    // nothing more.
    let (key, sources, summary) = (1, 1, 1);
    assert_eq!(
        figures,
        [
            key + sources + summary + (4 + 2) + (1 + 2),
            key + sources + summary + (4 + 2) + (1 + 2),
            key + sources + (4 + 2),
            key + sources + (4 + 2),
            key + sources + summary + 2 * 2,
            key + sources + summary + 2,
            key + sources + 1,
            key + sources + 1,
            key + sources + summary,
            key + sources + summary,
            key + sources + 1,
            key + sources + 1,
        ]
    );
}

/// A table that notes how many of its reads overlap: each read holds a moment
/// (`tokio::time::sleep`) so reads started together are seen together.
struct OverlapTable<T> {
    inner: T,
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl<T> OverlapTable<T> {
    fn new(inner: T) -> OverlapTable<T> {
        OverlapTable {
            inner,
            now: 0.into(),
            most: 0.into(),
        }
    }

    /// The most reads seen in flight at once since the last call.
    fn most_in_flight(&self) -> usize {
        self.most.swap(0, std::sync::atomic::Ordering::SeqCst)
    }

    async fn held<R>(&self, read: impl Future<Output = R>) -> R {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let out = read.await;
        self.now.fetch_sub(1, SeqCst);
        out
    }
}

#[async_trait::async_trait]
impl<T: Table> Table for OverlapTable<T> {
    async fn get(
        &self,
        key: &crate::store::Key,
    ) -> Result<Option<crate::store::Item>, crate::store::TableError> {
        self.held(self.inner.get(key)).await
    }
    async fn put(
        &self,
        item: crate::store::Item,
        condition: Condition,
    ) -> Result<(), crate::store::TableError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &crate::store::Key,
        update: crate::store::Update,
        condition: Condition,
    ) -> Result<crate::store::Item, crate::store::TableError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(
        &self,
        key: &crate::store::Key,
        condition: Condition,
    ) -> Result<(), crate::store::TableError> {
        self.inner.delete(key, condition).await
    }
    async fn query(
        &self,
        query: crate::store::Query,
    ) -> Result<crate::store::Page, crate::store::TableError> {
        self.held(self.inner.query(query)).await
    }
    async fn batch_write(
        &self,
        ops: Vec<crate::store::WriteOp>,
    ) -> Result<(), crate::store::TableError> {
        self.inner.batch_write(ops).await
    }
    async fn transact_write(
        &self,
        ops: Vec<crate::store::TransactOp>,
    ) -> Result<(), crate::store::TableError> {
        self.inner.transact_write(ops).await
    }
    async fn batch_get(
        &self,
        keys: &[crate::store::Key],
    ) -> Result<Vec<Option<crate::store::Item>>, crate::store::TableError> {
        self.held(self.inner.batch_get(keys)).await
    }
}

/// `GET /countries/{cc}/missions` on a country of twelve missions (Tokyo and eleven copies):
/// each mission's health as `GET /missions/{id}` gives it, in the registry's order, for
/// the key's get and two queries per mission (its source states and its role index's newest
/// official entry), read several missions at once.
#[tokio::test]
async fn a_countrys_missions_are_read_at_once_for_two_queries_each() {
    use crate::store::testing::CountingTable;
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(CountingTable::new(OverlapTable::new(
        SqliteTable::in_memory().unwrap(),
    )));
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let mut registry = registry();
    let tokyo = registry.mission("tokyo").unwrap().clone();
    let copies: Vec<String> = (2..=12).map(|n| format!("tokyo-x{n}")).collect();
    for id in &copies {
        let mut copy = tokyo.clone();
        copy.id = id.clone();
        registry.missions.push(copy);
    }
    let registry = Arc::new(registry);
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    access::store_key(table.as_ref(), TEST_KEY, "tests")
        .await
        .unwrap();
    // Tokyo's official post behind media items; the copies' own posts, a day apart.
    let mut items = official_behind_media(20);
    for (n, id) in copies.iter().enumerate() {
        let mut post = item(
            &format!("{id}-post"),
            &format!("Siaran {id}"),
            &(at("2025-02-01T00:00:00Z") + Duration::days(n as i64)).to_rfc3339(),
            "2025-03-03T00:00:00Z",
        );
        post.mission = id.clone();
        items.push(post);
    }
    blobs
        .put("items/1.jsonl", jsonl(&items).into(), &BlobMeta::default())
        .await
        .unwrap();
    reconciler.reconcile_object("items/1.jsonl").await.unwrap();
    let mut all = vec!["tokyo".to_owned(), "canberra".to_owned()];
    all.extend(copies.iter().cloned());
    crate::reconcile::rollup::backfill(table.as_ref(), &all)
        .await
        .unwrap();
    let app = router(state(table.clone(), registry.clone()));

    // Each mission alone, as its own page shows it (and its marker seen once).
    let mut expected = Vec::new();
    for id in std::iter::once("tokyo").chain(copies.iter().map(String::as_str)) {
        let (status, _, detail) = get(&app, &format!("/missions/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        expected.push(detail);
    }
    assert_eq!(
        expected[0]["health"]["last_official_published_at"],
        "2025-03-01T00:00:00Z"
    );
    assert_eq!(
        expected[11]["health"]["last_official_published_at"],
        "2025-02-11T00:00:00Z"
    );

    table.inner().most_in_flight();
    table.reset();
    let (status, _, body) = get(&app, "/countries/JP/missions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["missions"], Value::Array(expected));
    let (key, per_mission) = (1, 2);
    let counts = table.counts();
    assert_eq!((counts.gets, counts.queries), (key, 12 * per_mission));
    let overlap = table.inner().most_in_flight();
    assert!(
        overlap > per_mission && overlap <= COUNTRY_MISSIONS_IN_FLIGHT * per_mission,
        "reads in flight at once: {overlap}"
    );
}

/// An item as the API wrote it before pages were written directly (`json!`, a `Value` map).
fn item_as_value(s: &StoredItem) -> Value {
    let i = &s.item;
    json!({
        "id": s.id,
        "mission": i.mission,
        "source": i.source,
        "role": i.role,
        "kind": i.kind,
        "title": i.title,
        "summary": i.summary,
        "body": i.body,
        "url": i.url,
        "language": i.language,
        "published_at": i.published_at,
        "time_basis": i.time_basis,
        "published_raw": i.published_raw,
        "fetched_at": i.fetched_at,
        "first_seen_at": s.first_seen_at,
        "versions": s.versions,
        "story_id": s.story_id,
    })
}

/// A page of items written straight from the items reads, byte for byte, as the `Value`
/// built first: for both labels, with and without a next cursor, and for an item with
/// every optional field empty, an assumed zone and text that JSON must escape.
#[tokio::test]
async fn a_page_of_items_is_written_as_its_value_form_byte_for_byte() {
    let f = fixture().await;
    let page = read::mission_items(
        f.state.table.as_ref(),
        "tokyo",
        &read::ItemFilter::default(),
        50,
        None,
    )
    .await
    .unwrap();
    let mut items = page.items;
    assert_eq!(items.len(), 30);
    let mut odd = items[0].clone();
    odd.item.time_basis = crate::model::TimeBasis::AssumedZone {
        zone: "Asia/Tokyo".into(),
    };
    (odd.item.summary, odd.item.url, odd.item.language) = (None, None, None);
    odd.item.published_raw = None;
    odd.item.body = Some("\"kutip\" \\ </script>\n\u{1F600} é\u{0007}".into());
    odd.story_id = Some("itm_story".into());
    items.push(odd);
    for (label, next) in [("mission", Some("c.abc")), ("country_code", None)] {
        let direct = ItemListJson {
            label,
            value: "tokyo",
            items: &items,
            next_cursor: next,
        };
        let as_value = json!({
            label: "tokyo",
            "items": items.iter().map(item_as_value).collect::<Vec<_>>(),
            "next_cursor": next,
        });
        assert_eq!(
            String::from_utf8(serde_json::to_vec(&direct).unwrap()).unwrap(),
            String::from_utf8(serde_json::to_vec(&as_value).unwrap()).unwrap(),
        );
    }
    for item in &items {
        assert_eq!(item_json(item), item_as_value(item));
    }
}
