//! Reconcile stores each item's enrichment (topics, places, accredited missions) on its
//! records. Real adapters: a disk bucket and a SQLite table in a temporary directory.

use std::sync::Arc;

use bytes::Bytes;

use super::{Reconciler, attr};
use crate::enrich::Enrichment;
use crate::model::SourceKind;
use crate::registry::Registry;
use crate::schema;
use crate::store::blob::{BlobMeta, BlobStore};
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::table::{Key, Table};

#[tokio::test]
async fn current_records_carry_topics_places_and_accredited_missions() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let table = Arc::new(SqliteTable::open(&dir.path().join("table.sqlite")).unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(Registry::load_default().unwrap()),
    };
    let items = crate::topics::fixture_items(SourceKind::KemluPortal, "tokyo", "portal/tokyo.json");
    let advisory = items
        .iter()
        .find(|i| i.title.starts_with("Imbauan KBRI Tokyo terkait Gempa"))
        .unwrap();
    let lines = serde_json::to_string(advisory).unwrap() + "\n";
    let key = "items/tokyo/portal-berita/2026/11/19/advisory.jsonl";
    blobs
        .put(key, Bytes::from(lines), &BlobMeta::default())
        .await
        .unwrap();

    let report = reconciler.reconcile_object(key).await.unwrap();
    assert_eq!(report.new, 1);
    let current = table
        .get(&Key::new(
            schema::item_pk(&advisory.identity()),
            schema::CURRENT,
        ))
        .await
        .unwrap()
        .unwrap();
    let strings =
        |name: &str| -> Vec<String> { serde_json::from_value(current[name].clone()).unwrap() };
    assert!(strings(attr::TOPICS).contains(&"disaster.earthquake".to_owned()));
    assert_eq!(current[attr::CRISIS], serde_json::Value::Bool(true));
    assert_eq!(strings(attr::PLACES)[0], "JP");
    let missions = strings(attr::ACCREDITED_MISSIONS);
    assert!(missions.contains(&"tokyo".to_owned()) && missions.contains(&"osaka".to_owned()));
    let details: Enrichment =
        serde_json::from_str(current[attr::ENRICHMENT].as_str().unwrap()).unwrap();
    assert!(
        details.fingerprint.shingles.is_empty(),
        "shingles are not stored"
    );
    assert!(!details.story_keys.is_empty());
    // The version record holds the item, not the enrichment's details.
    let versions = table
        .query(
            crate::store::table::Query::partition(
                crate::store::table::Index::Primary,
                schema::item_pk(&advisory.identity()),
            )
            .range(crate::store::table::SortKeyRange::BeginsWith(
                schema::VERSION_PREFIX.into(),
            )),
        )
        .await
        .unwrap();
    assert_eq!(versions.items.len(), 1);
    assert!(!versions.items[0].contains_key(attr::ENRICHMENT));
    assert!(versions.items[0].contains_key(attr::TOPICS));

    // Redelivery is still one read and no write: enrichment does not change the content hash.
    let again = reconciler.reconcile_object(key).await.unwrap();
    assert_eq!(again.unchanged, 1);
}

/// A hazard item from a worldwide feed (owner `global`, no host country) is placed by its
/// event's country, and so reaches the missions accredited there.
#[tokio::test]
async fn hazard_items_are_placed_by_their_event_country() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let table = Arc::new(SqliteTable::open(&dir.path().join("table.sqlite")).unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(Registry::load_default().unwrap()),
    };
    let body = std::fs::read(format!(
        "{}/src/parse/testdata/usgs_week.geojson",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut meta = crate::parse::test_support::meta(SourceKind::Usgs, "global", "https://x/");
    meta.role = crate::model::Role::Hazard;
    let items = crate::parse::parse(&crate::parse::ParseInput {
        body: &body,
        meta: &meta,
        raw_key: "raw/global/usgs/x.json",
        time_zone: "UTC",
        source_language: None,
    })
    .unwrap();
    // Türkiye, decided from the coordinates.
    let quake = &items[1];
    let key = "items/global/usgs/2026/11/28/x.jsonl";
    let line = serde_json::to_string(quake).unwrap() + "\n";
    blobs
        .put(key, Bytes::from(line), &BlobMeta::default())
        .await
        .unwrap();
    assert_eq!(reconciler.reconcile_object(key).await.unwrap().new, 1);
    let current = table
        .get(&Key::new(
            schema::item_pk(&quake.identity()),
            schema::CURRENT,
        ))
        .await
        .unwrap()
        .unwrap();
    let strings =
        |name: &str| -> Vec<String> { serde_json::from_value(current[name].clone()).unwrap() };
    assert_eq!(strings(attr::PLACES)[0], "TR");
    assert!(
        strings(attr::ACCREDITED_MISSIONS).contains(&"ankara".to_owned()),
        "{:?}",
        strings(attr::ACCREDITED_MISSIONS)
    );
    // The title names Türkiye too; the event's country is what the feed reason records.
    let details: Enrichment =
        serde_json::from_str(current[attr::ENRICHMENT].as_str().unwrap()).unwrap();
    assert!(
        details.places[0]
            .reasons
            .contains(&crate::places::PlaceReason::Feed),
        "{:?}",
        details.places[0]
    );
}
