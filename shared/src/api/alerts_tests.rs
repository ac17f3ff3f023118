//! Router tests of the alert routes: create, list, read, delete, history, and the refusals.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::access;
use super::tests::{TEST_KEY, fixture, get};

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: &str,
    key: bool,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if key {
        request = request.header(access::KEY_HEADER, TEST_KEY);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn rules_are_created_listed_read_and_deleted_through_the_api() {
    let f = fixture().await;
    let (status, rule) = call(
        &f.app,
        "POST",
        "/alerts/rules",
        r#"{"name":"Gempa Timur Tengah","kind":"crisis_opened","region":"middle_east","crisis_kind":"earthquake","channels":["webhook"]}"#,
        true,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let id = rule["id"].as_str().unwrap().to_owned();
    assert_eq!(rule["kind"], "crisis_opened");
    assert_eq!(rule["region"], "middle_east");

    let (status, _, list) = get(&f.app, "/alerts/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["rules"].as_array().unwrap().len(), 1);
    assert_eq!(list["rules"][0], rule);
    let (status, _, one) = get(&f.app, &format!("/alerts/rules/{id}")).await;
    assert_eq!((status, &one), (StatusCode::OK, &rule));

    let (status, _) = call(&f.app, "DELETE", &format!("/alerts/rules/{id}"), "", true).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = call(&f.app, "DELETE", &format!("/alerts/rules/{id}"), "", true).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (_, _, list) = get(&f.app, "/alerts/rules").await;
    assert_eq!(list["rules"], json!([]));

    let (status, _, history) = get(&f.app, "/alerts?limit=5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["alerts"], json!([]));
}

#[tokio::test]
async fn bad_rules_missing_keys_and_bad_parameters_are_refused() {
    let f = fixture().await;
    for body in [
        r#"{"name":"x","kind":"mission_silent","days":0}"#,
        r#"{"name":"x","kind":"mission_silent","days":7,"dayz":8}"#,
        r#"{"name":"x","kind":"nope"}"#,
        r#"not json"#,
        r#"{"name":"x","kind":"crisis_opened","country":null,"region":"atlantis"}"#,
    ] {
        let (status, problem) = call(&f.app, "POST", "/alerts/rules", body, true).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["parameter"], "body", "{problem}");
    }
    let big = format!(
        r#"{{"name":"{}","kind":"source_unhealthy","cycles":3}}"#,
        "x".repeat(20_000)
    );
    // Refused before it is read: the API's body limit (16 KiB by default).
    let (status, _) = call(&f.app, "POST", "/alerts/rules", &big, true).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = call(
        &f.app,
        "POST",
        "/alerts/rules",
        r#"{"name":"x","kind":"source_unhealthy","cycles":3}"#,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&f.app, "DELETE", "/alerts/rules/rul_x", "", false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, problem) = get(&f.app, "/alerts?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (status, _, _) = get(&f.app, "/alerts?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&f.app, "PUT", "/alerts/rules", "{}", true).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_document_describes_the_alert_methods_and_bodies() {
    let doc = super::openapi::document();
    let rules = &doc["paths"]["/alerts/rules"];
    assert!(rules["get"].is_object() && rules["post"].is_object());
    assert_eq!(
        rules["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewAlertRule"
    );
    assert!(rules["post"]["responses"]["201"].is_object());
    assert!(rules["post"]["responses"]["400"].is_object());
    let one = &doc["paths"]["/alerts/rules/{id}"];
    assert!(one["delete"]["responses"]["204"].is_object());
    assert!(one["delete"]["responses"]["404"].is_object());
    // Every variant of the rule schema refuses what the parser refuses: unknown fields.
    for v in doc["components"]["schemas"]["NewAlertRule"]["oneOf"]
        .as_array()
        .unwrap()
    {
        assert_eq!(v["additionalProperties"], false);
    }
}
