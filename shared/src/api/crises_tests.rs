//! The crisis routes on a real store: the Türkiye earthquake scenario (`crises::timelines`),
//! moved to two days ago, reconciled into SQLite, then read through the router.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use chrono::{Duration, Utc};
use serde_json::Value;
use tower::ServiceExt;

use super::{ApiState, CursorSigner, access, limits, router};
use crate::crises::timelines;
use crate::model::NormalizedItem;
use crate::reconcile::Reconciler;
use crate::registry::Registry;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::{BlobMeta, BlobStore};

const KEY: &str = "pantau_test-key-for-the-crisis-routes";

/// Every time in `items` moved by `by`.
fn shifted(items: Vec<NormalizedItem>, by: Duration) -> Vec<NormalizedItem> {
    items
        .into_iter()
        .map(|mut i| {
            i.published_at += by;
            i.fetched_at += by;
            if let Some(h) = i.hazard.as_mut() {
                h.occurred_at += by;
                h.updated_at = h.updated_at.map(|t| t + by);
            }
            i
        })
        .collect()
}

async fn app_with_turkiye_quake() -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap());
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let registry = Arc::new(Registry::load_default().unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    let quake = timelines::at("2023-02-06T01:17:34Z");
    // KBRI Ankara answers twice: the board shows its first answer, the crisis both.
    let mut items = timelines::turkiye_earthquake();
    items.push(timelines::official(
        "ankara",
        "ank-evakuasi",
        "KBRI Ankara mengevakuasi WNI dari wilayah terdampak gempa",
        "KBRI Ankara mengevakuasi WNI dari Kahramanmaraş dan Hatay setelah gempa bumi.",
        quake + Duration::hours(30),
    ));
    let items = shifted(items, (Utc::now() - Duration::days(2)) - quake);
    // One object per item, in timeline order, as separate fetches would land them.
    for (n, item) in items.iter().enumerate() {
        let key = format!("items/quake/{n}.jsonl");
        let body = serde_json::to_string(item).unwrap() + "\n";
        blobs
            .put(&key, Bytes::from(body), &BlobMeta::default())
            .await
            .unwrap();
        reconciler.reconcile_object(&key).await.unwrap();
    }
    access::store_key(table.as_ref(), KEY, "tests")
        .await
        .unwrap();
    let state = ApiState {
        table,
        registry,
        cursors: CursorSigner::new(&[7; 32]),
        cors_origins: Vec::new(),
        limits: Arc::new(limits::RateLimiter::new(limits::LimitsConfig::default())),
    };
    (router(state), dir)
}

async fn get(app: &Router, uri: &str, key: bool) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if key {
        request = request.header(access::KEY_HEADER, KEY);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get_json(app: &Router, uri: &str) -> Value {
    let (status, body) = get(app, uri, true).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn the_board_a_crisis_and_the_latency_report_show_who_answered_and_how_fast() {
    let (app, _dir) = app_with_turkiye_quake().await;

    let board = get_json(&app, "/crises?state=active").await;
    let crises = board["crises"].as_array().unwrap();
    assert_eq!(
        crises.len(),
        1,
        "USGS and GDACS merge into one crisis: {board}"
    );
    let quake = &crises[0];
    assert_eq!(quake["country_code"], "TR");
    assert_eq!(quake["kind"], "earthquake");
    assert_eq!(quake["state"], "active");
    assert_eq!(quake["no_response"], false);
    assert_eq!(quake["home"], false);
    assert!(
        quake["missions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "ankara")
    );
    // The board: how many answers, and each mission's first, fastest first; not every
    // answer, which a long crisis has hundreds of.
    assert_eq!(quake["response_count"], 3, "{quake}");
    assert!(quake.get("responses").is_none(), "{quake}");
    let first: Vec<(&str, i64, &str)> = quake["first_responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap();
            (
                text("mission"),
                r["latency_seconds"].as_i64().unwrap(),
                text("kind"),
            )
        })
        .collect();
    assert_eq!(
        first,
        [
            ("ankara", 3 * 3600, "advisory"),
            ("istanbul", 270 * 60, "hotline")
        ]
    );
    assert_eq!(quake["first_response_latency_seconds"], 3 * 3600);

    // Filters: by country (either case), closed ones only.
    assert_eq!(
        get_json(&app, "/crises?country=tr").await["crises"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get_json(&app, "/crises?country=JP").await["crises"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get_json(&app, "/crises?state=closed").await["crises"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The crisis itself: evidence and responses on one timeline, in time order.
    let id = quake["id"].as_str().unwrap();
    let detail = get_json(&app, &format!("/crises/{id}")).await;
    let timeline = detail["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"signal"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "response").count(),
        3,
        "{kinds:?}"
    );
    let responses: Vec<(&str, i64)> = detail["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["mission"].as_str().unwrap(),
                r["latency_seconds"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        responses,
        [
            ("ankara", 3 * 3600),
            ("istanbul", 270 * 60),
            ("ankara", 30 * 3600)
        ],
        "every response, oldest first"
    );
    assert_eq!(detail["response_count"], 3);
    let times: Vec<&str> = timeline.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "the timeline is in time order");
    let evidence = detail["evidence"].as_array().unwrap();
    assert!(evidence.len() >= 2);
    assert_eq!(detail["signals"], evidence.len());

    // The report: each Turkish mission's crises, answers and latency.
    let report = get_json(&app, "/reports/response-latency?days=30").await;
    assert_eq!(report["crises"], 1);
    let row = |m: &str| {
        report["missions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["mission"] == m)
            .unwrap()
            .clone()
    };
    assert_eq!(row("ankara")["answered"], 1);
    assert_eq!(row("ankara")["median_latency_seconds"], 3 * 3600);
    assert_eq!(row("istanbul")["fastest_latency_seconds"], 270 * 60);
    assert_eq!(row("istanbul")["answer_rate"], 1.0);

    // CSV of both lists.
    let (status, csv) = get(&app, "/crises?format=csv", true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("id,country_code,kind,state"), "{csv}");
    assert_eq!(csv.lines().count(), 2);
    let (status, csv) = get(&app, "/reports/response-latency?format=csv", true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.lines().any(|l| l.starts_with("ankara,TR,1,1,0,10800")),
        "{csv}"
    );
}

#[tokio::test]
async fn the_crisis_routes_refuse_what_they_cannot_answer() {
    let (app, _dir) = app_with_turkiye_quake().await;
    for (uri, status, mentions) in [
        ("/crises?state=burning", StatusCode::BAD_REQUEST, "state"),
        ("/crises?country=TUR", StatusCode::BAD_REQUEST, "country"),
        ("/crises?limit=0", StatusCode::BAD_REQUEST, "limit"),
        ("/crises?colour=red", StatusCode::BAD_REQUEST, "colour"),
        (
            "/crises/no-such-crisis",
            StatusCode::NOT_FOUND,
            "no-such-crisis",
        ),
        (
            "/reports/response-latency?days=0",
            StatusCode::BAD_REQUEST,
            "days",
        ),
    ] {
        let (got, body) = get(&app, uri, true).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert!(body.contains(mentions), "{uri}: {body}");
    }
    for uri in ["/crises", "/crises/x", "/reports/response-latency"] {
        let (got, _) = get(&app, uri, false).await;
        assert_eq!(got, StatusCode::UNAUTHORIZED, "{uri} needs the key");
    }
}
