//! The headquarters routes on a real store: import by POST, list, match report (JSON and
//! CSV), crisis timeline, and the refusals (type, size, columns, key).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use chrono::{Duration, Utc};
use serde_json::Value;
use tower::ServiceExt;

use super::{ApiState, CursorSigner, access, limits, router};
use crate::crises::timelines::official;
use crate::reconcile::Reconciler;
use crate::registry::Registry;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::{BlobMeta, BlobStore};

const KEY: &str = "pantau_test-key-for-the-hq-routes";

async fn app() -> (Router, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap());
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let registry = Arc::new(Registry::load_default().unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    // One Tokyo post two days ago, at noon Tokyo time.
    let day = Utc::now().date_naive() - Duration::days(2);
    let noon_tokyo = day.and_hms_opt(3, 0, 0).unwrap().and_utc();
    let post = official(
        "tokyo",
        "evakuasi",
        "KBRI Tokyo Evakuasi WNI dari Wilayah Banjir",
        "Sebanyak 18 WNI dievakuasi dari wilayah banjir di Kumamoto ke tempat penampungan.",
        noon_tokyo,
    );
    let body = serde_json::to_string(&post).unwrap() + "\n";
    blobs
        .put(
            "items/hq/post.jsonl",
            Bytes::from(body),
            &BlobMeta::default(),
        )
        .await
        .unwrap();
    reconciler
        .reconcile_object("items/hq/post.jsonl")
        .await
        .unwrap();
    access::store_key(table.as_ref(), KEY, "tests")
        .await
        .unwrap();
    let state = ApiState {
        table,
        registry,
        cursors: CursorSigner::new(&[9; 32]),
        cors_origins: Vec::new(),
        limits: Arc::new(limits::RateLimiter::new(limits::LimitsConfig::default())),
    };
    (router(state), dir, day.to_string())
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    key: bool,
) -> (StatusCode, String, Bytes) {
    let mut request = Request::builder().method(method).uri(uri);
    if key {
        request = request.header(access::KEY_HEADER, KEY);
    }
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, ct, bytes)
}

fn json(bytes: &Bytes) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

#[tokio::test]
async fn import_list_and_report_through_the_api() {
    let (app, _dir, day) = app().await;
    let csv = format!(
        "perwakilan,tanggal,judul,ringkasan,wni dievakuasi\n\
         tokyo,{day},Evakuasi WNI korban banjir Kumamoto,Evakuasi ke penampungan,20\n\
         tokyo,{day},=cmd|' /C calc'!A0,Rapat internal,\n\
         tokyo,kemarin,Tanggal rusak,,\n"
    );
    let (status, ct, body) = call(
        &app,
        "POST",
        "/hq-records?kind=citizen_case&name=maret",
        Some("text/csv"),
        csv.clone().into_bytes(),
        true,
    )
    .await;
    let report = json(&body);
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(ct, "application/json");
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["rejections"][0]["row"], 4);
    assert_eq!(report["rejections"][0]["column"], "tanggal");
    assert_eq!(report["columns"]["wni dievakuasi"], "evacuated");
    assert_eq!(report["source"], "api:maret");
    // Again: nothing new.
    let (_, _, body) = call(
        &app,
        "POST",
        "/hq-records?kind=citizen_case",
        Some("text/csv; charset=utf-8"),
        csv.into_bytes(),
        true,
    )
    .await;
    assert_eq!(json(&body)["unchanged"], 2);

    let (status, _, body) =
        call(&app, "GET", "/hq-records?mission=tokyo", None, vec![], true).await;
    assert_eq!(status, StatusCode::OK);
    let list = json(&body);
    assert_eq!(list["records"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list["records"][0]["kind"], "citizen_case");
    let (_, ct, body) = call(&app, "GET", "/hq-records?format=csv", None, vec![], true).await;
    assert!(ct.starts_with("text/csv"));
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("'=cmd|"), "{text}");

    let uri = format!("/reports/hq-matching?mission=tokyo&from={day}&to={day}");
    let (status, _, body) = call(&app, "GET", &uri, None, vec![], true).await;
    let report = json(&body);
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["records"], 2);
    assert_eq!(report["matched"], 1);
    assert_eq!(report["match_rate"], 0.5);
    assert_eq!(report["missions"][0]["mission"], "tokyo");
    assert_eq!(
        report["unmatched_records"][0]["title"],
        "=cmd|' /C calc'!A0"
    );
    let disagreement = &report["figure_disagreements"][0];
    assert_eq!(disagreement["kind"], "evacuated");
    assert_eq!(
        (
            disagreement["recorded"].as_u64(),
            disagreement["published"].as_u64()
        ),
        (Some(20), Some(18))
    );
    let (status, ct, body) = call(
        &app,
        "GET",
        &format!("{uri}&format=csv"),
        None,
        vec![],
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.starts_with("section,mission,record_id"));
    assert!(text.contains("\r\nfigure_disagreement,tokyo,"));
    assert!(text.contains(",'=cmd|"), "{text}");

    // The whole registry when no mission is named (the other missions have nothing).
    let (status, _, body) = call(&app, "GET", "/reports/hq-matching", None, vec![], true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["missions"].as_array().unwrap().len(), 1);

    let (status, _, body) =
        call(&app, "GET", "/countries/JP/hq-timeline", None, vec![], true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["timeline"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn refusals_are_problems() {
    let (app, _dir, _) = app().await;
    let problem = |r: &(StatusCode, String, Bytes), status: StatusCode, mention: &str| {
        assert_eq!(r.0, status, "{}", String::from_utf8_lossy(&r.2));
        assert_eq!(r.1, "application/problem+json");
        let detail = json(&r.2)["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(mention), "{detail}");
    };
    let r = call(
        &app,
        "POST",
        "/hq-records",
        Some("image/png"),
        b"x".to_vec(),
        true,
    )
    .await;
    problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/csv");
    let r = call(
        &app,
        "POST",
        "/hq-records",
        Some("text/csv"),
        b"nama\nbudi\n".to_vec(),
        true,
    )
    .await;
    problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "missing column");
    assert_eq!(json(&r.2)["missing"].as_array().unwrap().len(), 3);
    let big = vec![b'a'; super::hq::MAX_IMPORT_BODY_BYTES + 1];
    let r = call(&app, "POST", "/hq-records", Some("text/csv"), big, true).await;
    problem(&r, StatusCode::PAYLOAD_TOO_LARGE, "hq/");
    let r = call(
        &app,
        "POST",
        "/hq-records?kind=banana",
        Some("text/csv"),
        vec![],
        true,
    )
    .await;
    problem(&r, StatusCode::BAD_REQUEST, "kind");
    let r = call(
        &app,
        "POST",
        "/hq-records",
        Some("text/csv"),
        b"a".to_vec(),
        false,
    )
    .await;
    assert_eq!(r.0, StatusCode::UNAUTHORIZED);
    let r = call(
        &app,
        "GET",
        "/reports/hq-matching?mission=atlantis",
        None,
        vec![],
        true,
    )
    .await;
    problem(&r, StatusCode::BAD_REQUEST, "atlantis");
    let r = call(
        &app,
        "GET",
        "/reports/hq-matching?from=2026-03-02&to=2026-03-01",
        None,
        vec![],
        true,
    )
    .await;
    problem(&r, StatusCode::BAD_REQUEST, "later");
    let r = call(
        &app,
        "GET",
        "/reports/hq-matching?from=2024-01-01&to=2026-03-01",
        None,
        vec![],
        true,
    )
    .await;
    problem(&r, StatusCode::BAD_REQUEST, "366");
    let r = call(&app, "GET", "/countries/XX/hq-timeline", None, vec![], true).await;
    problem(&r, StatusCode::NOT_FOUND, "XX");
}
