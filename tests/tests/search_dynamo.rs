//! Search on DynamoDB (moto on loopback): the index reconcile writes and the query that reads
//! it go through the same `Table` port as on SQLite, with the real SDK underneath.

use std::sync::Arc;

use chrono::{Duration, Utc};
use pantau::model::{NormalizedItem, Role, SourceKind, TimeBasis};
use pantau::reconcile::Reconciler;
use pantau::registry::Registry;
use pantau::search::{SearchQuery, search};
use pantau::store::disk::DiskBlobStore;
use pantau::store::dynamo::DynamoTable;
use pantau::store::{BlobMeta, BlobStore};
use pantau_tests::moto::MotoServer;

fn news(mission: &str, slug: &str, title: &str, body: &str, hours_ago: i64) -> NormalizedItem {
    let now = Utc::now();
    NormalizedItem {
        mission: mission.into(),
        source: "portal-berita".into(),
        kind: SourceKind::KemluPortal,
        role: Role::Official,
        guid: Some(slug.into()),
        url: Some(format!("https://kemlu.go.id/{mission}/berita/{slug}")),
        title: title.into(),
        summary: None,
        body: Some(body.into()),
        published_at: now - Duration::hours(hours_ago),
        published_raw: None,
        time_basis: TimeBasis::Stated,
        language: Some("id".into()),
        authors: vec![],
        categories: vec![],
        images: vec![],
        fetched_at: now,
        raw_key: format!("raw/{slug}"),
        hazard: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_works_on_dynamodb() {
    if std::env::var_os("PANTAU_MOTO_SERVER").is_none() {
        eprintln!("PANTAU_MOTO_SERVER is not set: search on DynamoDB skipped");
        return;
    }
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let table = DynamoTable::new(moto.dynamodb().await, "pantau-search");
    table.create_table_if_missing().await.unwrap();
    let table = Arc::new(table);
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let registry = Arc::new(Registry::load_default().unwrap());
    let mission = registry.missions[0].id.clone();
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry,
    };
    let mut items: Vec<NormalizedItem> = (0..12)
        .map(|n| {
            news(
                &mission,
                &format!("banjir-{n}"),
                &format!("Banjir {n}: WNI dievakuasi"),
                "Kedutaan memantau keadaan warga.",
                n * 5,
            )
        })
        .collect();
    items.push(news(
        &mission,
        "lain",
        "Pameran budaya",
        "Pameran di Türkiye.",
        1,
    ));
    let lines: String = items
        .iter()
        .map(|i| serde_json::to_string(i).unwrap() + "\n")
        .collect();
    blobs
        .put("items/search.jsonl", lines.into(), &BlobMeta::default())
        .await
        .unwrap();
    reconciler
        .reconcile_object("items/search.jsonl")
        .await
        .unwrap();

    let query = |q: &str| SearchQuery {
        terms: SearchQuery::terms_of(q),
        ..SearchQuery::default()
    };
    // Page through the twelve floods, five at a time, newest first.
    let mut found = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = search(table.as_ref(), &query("evakuasi"), 5, cursor, Utc::now())
            .await
            .unwrap();
        found.extend(page.items.into_iter().map(|i| i.id));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = items[..12].iter().map(|i| i.identity()).collect();
    assert_eq!(found, expected);
    let page = search(table.as_ref(), &query("turkiye"), 5, None, Utc::now())
        .await
        .unwrap();
    let ids: Vec<String> = page.items.into_iter().map(|i| i.id).collect();
    assert_eq!(ids, [items[12].identity()]);
}
