use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::model::{NormalizedItem, SourceState};
use crate::reconcile::Reconciler;
use crate::reconcile::tests::{at, item, jsonl, registry};
use crate::schema;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::table;
use crate::store::testing::{Fault, FaultyTable, TableCall};
use crate::store::{BlobMeta, BlobStore, Condition, Table};

struct Fixture {
    app: Router,
    items: Vec<NormalizedItem>,
}

/// Tokyo with 30 items (every third in English, one media item), one of them edited once;
/// Canberra with none; source states for both.
async fn fixture() -> Fixture {
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

    for (owner, failures, error) in [("tokyo", 0, None), ("canberra", 4, Some("HTTP 503"))] {
        let state = SourceState {
            owner: owner.into(),
            source: "portal-berita".into(),
            last_attempt_at: Some(at("2025-03-04T00:00:00Z")),
            last_success_at: Some(at("2025-03-03T00:00:00Z")),
            consecutive_failures: failures,
            last_error: error.map(str::to_owned),
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
    Fixture {
        app: router(ApiState { table, registry }),
        items,
    }
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String, Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, body)
}

fn assert_problem(response: (StatusCode, String, Value), status: StatusCode, mentions: &str) {
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
    assert_eq!(body["sources"][0]["state"]["consecutive_failures"], 4);
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
    let app = router(ApiState {
        table: Arc::new(table),
        registry: Arc::new(registry()),
    });
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
