//! Router tests of `/search` and `/reports/…` (the fixture is `tests`' own).

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::Value;

use super::tests::{TEST_KEY, assert_problem, csv_records, fixture, get, send};
use crate::model::NormalizedItem;
use crate::reconcile::tests::{item, jsonl};
use crate::store::{BlobMeta, BlobStore};

/// Items published in the last days (search looks back 100 days by default).
fn recent(slug: &str, title: &str, body: &str, days_ago: i64) -> NormalizedItem {
    let published = (Utc::now() - Duration::days(days_ago)).to_rfc3339();
    let mut i = item(slug, title, &published, &Utc::now().to_rfc3339());
    i.body = Some(body.into());
    i
}

async fn land(f: &super::tests::Fixture, key: &'static str, items: &[NormalizedItem]) {
    f.blobs
        .put(key, jsonl(items).into(), &BlobMeta::default())
        .await
        .unwrap();
    f.reconciler.reconcile_object(key).await.unwrap();
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_affixed_and_accented_words_with_filters() {
    let f = fixture().await;
    let fire = recent(
        "fire",
        "Kebakaran apartemen di Shinjuku",
        "Dua WNI dievakuasi dari gedung. Kebakarannya telah padam.",
        2,
    );
    let mut quake = recent(
        "quake",
        "Türkiye earthquake: embassy monitors citizens",
        "No Indonesian casualties reported.",
        1,
    );
    quake.language = Some("en".into());
    land(&f, "items/s1.jsonl", &[fire.clone(), quake.clone()]).await;

    for (q, expected) in [
        ("evakuasi", vec![fire.identity()]),
        ("mengevakuasi", vec![fire.identity()]),
        ("kebakaran", vec![fire.identity()]),
        ("KEBAKARANNYA shinjuku", vec![fire.identity()]),
        ("turkiye", vec![quake.identity()]),
        ("Türkiye", vec![quake.identity()]),
        ("earthquakes", vec![quake.identity()]),
        ("evakuasi turkiye", vec![]),
    ] {
        let uri = format!(
            "/search?q={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let (status, content_type, body) = get(&f.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{q}: {body}");
        assert_eq!(content_type, "application/json");
        assert_eq!(ids(&body), expected, "query {q}");
    }
    // Filters: language, role, mission, country, time.
    let (_, _, body) = get(&f.app, "/search?q=wni&language=en").await;
    assert!(ids(&body).is_empty());
    let (_, _, body) = get(&f.app, "/search?q=wni&language=id&role=official").await;
    assert_eq!(ids(&body), [fire.identity()]);
    let (_, _, body) = get(&f.app, "/search?q=wni&mission=canberra").await;
    assert!(ids(&body).is_empty());
    let (_, _, body) = get(&f.app, "/search?q=wni&mission=tokyo&country=jp").await;
    assert_eq!(ids(&body), [fire.identity()]);
    let (_, _, body) = get(&f.app, "/search?q=wni&country=AU").await;
    assert!(ids(&body).is_empty());
    let since =
        (Utc::now() - Duration::hours(36)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, _, body) = get(&f.app, &format!("/search?q=indonesian&since={since}")).await;
    assert_eq!(ids(&body), [quake.identity()]);
    let (_, _, body) = get(&f.app, &format!("/search?q=wni&since={since}")).await;
    assert!(ids(&body).is_empty());
    // Older items are found with an explicit window (the fixture's are from March 2025).
    let (_, _, body) = get(
        &f.app,
        "/search?q=berita&since=2025-03-01T00:00:00Z&until=2025-03-31T00:00:00Z&limit=200",
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), f.items.len());
}

#[tokio::test]
async fn search_pages_with_signed_cursors_and_csv() {
    let f = fixture().await;
    let window = "since=2025-02-15T00:00:00Z&until=2025-04-01T00:00:00Z";
    // The fixture's 30 items are all "Berita {n}"; page through them 7 at a time.
    let mut seen = Vec::new();
    let mut uri = format!("/search?q=berita&limit=7&{window}");
    let mut pages = 0;
    loop {
        let (status, _, body) = get(&f.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/search?q=berita&limit=7&{window}&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let mut expected: Vec<String> = f.items.iter().map(|i| i.identity()).collect();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, no dupes");

    // A cursor is bound to its query.
    let (_, _, first) = get(&f.app, &format!("/search?q=berita&limit=2&{window}")).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (table_cursor, tag) = cursor.rsplit_once('.').unwrap();
    let mut flipped = table_cursor.as_bytes().to_vec();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{tag}", String::from_utf8(flipped).unwrap());
    for query in [
        format!("q=berita&{window}&cursor={tampered}"),
        format!("q=berita&{window}&cursor={table_cursor}"),
        format!("q=ringkasan&{window}&cursor={cursor}"),
        format!("q=berita&{window}&language=id&cursor={cursor}"),
    ] {
        let response = get(&f.app, &format!("/search?{query}")).await;
        assert_eq!(response.2["parameter"], "cursor", "{query}");
        assert_problem(response, StatusCode::BAD_REQUEST, "cursor");
    }

    // CSV: the same items, the next cursor in a header.
    let (status, content_type, headers, bytes) = send(
        &f.app,
        &format!("/search?q=berita&limit=3&{window}&format=csv"),
        &[(super::access::KEY_HEADER, TEST_KEY)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let records = csv_records(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(records[0][0], "id");
    assert_eq!(records.len(), 4);
    assert_eq!(records[1][0], expected[0]);
    assert!(headers.contains_key(super::csv::NEXT_CURSOR_HEADER));
}

#[tokio::test]
async fn search_refuses_a_missing_key_and_bad_parameters() {
    let f = fixture().await;
    let (status, _, _) = super::tests::get_with(&f.app, "/search?q=berita", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let long = "a".repeat(201);
    for (query, parameter) in [
        ("", "q"),
        ("q=", "q"),
        ("q=yang+dan+the", "q"),
        (long.as_str(), "q"),
        ("q=a+b+c+d+e+f+g+h+i+j+k+l", "q"),
        ("q=banjir&limit=0", "limit"),
        ("q=banjir&limit=201", "limit"),
        ("q=banjir&role=king", "role"),
        ("q=banjir&language=indonesian", "language"),
        ("q=banjir&country=JPN", "country"),
        ("q=banjir&mission=Tokyo!", "mission"),
        ("q=banjir&mission=atlantis", "mission"),
        ("q=banjir&topic=nonsense", "topic"),
        ("q=banjir&since=yesterday", "since"),
        (
            "q=banjir&since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z",
            "since",
        ),
        (
            "q=banjir&since=2020-01-01T00:00:00Z&until=2025-03-01T00:00:00Z",
            "since",
        ),
        ("q=banjir&since=2020-01-01T00:00:00Z", "since"),
        ("q=banjir&q=y", "q"),
        ("q=banjir&sort=old", "sort"),
        ("q=banjir&format=xml", "format"),
        ("q=banjir&cursor=%25%25", "cursor"),
    ] {
        let query = if parameter == "q" && query == long {
            format!("q={long}")
        } else {
            query.to_owned()
        };
        let response = get(&f.app, &format!("/search?{query}")).await;
        assert_eq!(
            response.2["parameter"], parameter,
            "{query}: {}",
            response.2
        );
        assert_problem(response, StatusCode::BAD_REQUEST, "");
    }
    // A known topic is accepted.
    let topic = crate::topics::TAXONOMY[0].id;
    let (status, _, _) = get(&f.app, &format!("/search?q=berita&topic={topic}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn silent_missions_and_source_health_reports() {
    let f = fixture().await;
    // The fixture's Tokyo items are from March 2025, Canberra has none.
    let (status, _, body) = get(&f.app, "/reports/silent-missions?days=30").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let missions = body["missions"].as_array().unwrap();
    let listed: Vec<&str> = missions.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ["canberra", "tokyo"], "never published first");
    assert!(missions[0]["last_official_published_at"].is_null());
    assert_eq!(
        missions[1]["last_official_published_at"],
        "2025-03-02T04:00:00Z"
    );
    assert!(missions[1]["days_silent"].as_i64().unwrap() > 30);

    // Tokyo publishes today: no longer silent.
    land(
        &f,
        "items/r1.jsonl",
        &[recent("today", "Hari ini", "isi", 0)],
    )
    .await;
    let (_, _, body) = get(&f.app, "/reports/silent-missions?days=1").await;
    let listed: Vec<&str> = body["missions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["canberra"]);
    for bad in ["days=0", "days=366", "days=x", "days=1&days=2", "weeks=1"] {
        let response = get(&f.app, &format!("/reports/silent-missions?{bad}")).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "");
    }
    let (_, _, headers, bytes) = send(
        &f.app,
        "/reports/silent-missions?days=1",
        &[
            (super::access::KEY_HEADER, TEST_KEY),
            ("accept", "text/csv"),
        ],
    )
    .await;
    let records = csv_records(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(records[0][0], "id");
    assert_eq!(records[1][0], "canberra");
    assert_eq!(headers["vary"], "accept");

    // Source health: Canberra's portal has failed twice in a row and scrape marked it unhealthy.
    let (status, _, body) = get(&f.app, "/reports/source-health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unhealthy"], 1);
    let first = &body["sources"][0];
    assert_eq!(first["owner"], "canberra");
    assert_eq!(first["unhealthy"], true);
    assert_eq!(first["consecutive_failures"], 2);
    assert!(first["unhealthy_since"].is_string(), "{first}");
    assert_eq!(first["last_error"], "HTTP 503");
    let tokyo = &body["sources"][1];
    assert_eq!(tokyo["owner"], "tokyo");
    assert_eq!(tokyo["unhealthy"], false);
    assert_eq!(tokyo["last_success_at"], "2025-03-03T00:00:00Z");
    let (_, content_type, _, bytes) = send(
        &f.app,
        "/reports/source-health?format=csv",
        &[(super::access::KEY_HEADER, TEST_KEY)],
    )
    .await;
    assert!(content_type.starts_with("text/csv"));
    let records = csv_records(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(records.len(), 3);
    assert_eq!(records[1][..2], ["canberra", "portal-berita"]);
    for uri in ["/reports/source-health", "/reports/silent-missions"] {
        let (status, _, _) = super::tests::get_with(&f.app, uri, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = get(&f.app, "/reports/source-health?days=3").await;
    assert_problem(response, StatusCode::BAD_REQUEST, "");
}
