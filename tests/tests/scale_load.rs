//! The scale run's loader (`make scale`, tests/tests/scale.rs) writes with grouped commits
//! (`SqliteTable::group_commits`): the real reconcile, with the SQLite adapter committing
//! every few thousand writes instead of every write. This proves the grouping changes nothing
//! in what is stored: a small year of generated items (crises, stories and search postings
//! included) loaded both ways, in the same order, leaves two tables whose full dumps are equal.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use pantau::model::NormalizedItem;
use pantau::reconcile::{Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::table::{Item, TTL};
use pantau::store::{BlobMeta, BlobStore};
use pantau_tests::scale::{YearOfItems, fleet_registry, vocabularies};

/// Items loaded each way: every kind of record appears (official, media, hazard, planted
/// crises), small enough for `make test`.
const ITEMS: usize = 300;
const LINES_PER_OBJECT: usize = 100;

/// Loads `items` through the real reconcile into a fresh SQLite file, one object at a time,
/// and dumps the table.
async fn load(
    dir: &Path,
    registry: Arc<Registry>,
    items: &[NormalizedItem],
    group: u64,
) -> Vec<Item> {
    std::fs::create_dir_all(dir).expect("store dir");
    let table = Arc::new(SqliteTable::open(&dir.join("pantau.sqlite")).expect("sqlite"));
    let blobs = Arc::new(DiskBlobStore::new(dir.join("bucket")).expect("bucket"));
    sync_registry(table.as_ref(), &registry)
        .await
        .expect("mission records");
    table.group_commits(group).await.expect("grouping");
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry,
    };
    for (n, chunk) in items.chunks(LINES_PER_OBJECT).enumerate() {
        let body: String = chunk
            .iter()
            .map(|i| serde_json::to_string(i).expect("an item serializes") + "\n")
            .collect();
        let key = format!("items/load/{n}.jsonl");
        blobs
            .put(&key, Bytes::from(body), &BlobMeta::default())
            .await
            .expect("object written");
        reconciler
            .reconcile_object(&key)
            .await
            .expect("object reconciled");
    }
    table.checkpoint().await.expect("committed");
    let mut dump = table.dump().await.expect("dump");
    // Search postings expire a fixed time after they are written: the two loads ran seconds
    // apart. Whether a record expires is compared, not when.
    for record in &mut dump {
        if let Some(ttl) = record.get_mut(TTL) {
            *ttl = serde_json::Value::Bool(true);
        }
    }
    dump
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_commits_store_exactly_what_commits_per_write_store() {
    let offline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/offline");
    if !offline.exists() {
        println!(
            "skipped: the recorded sources ({}) are absent",
            offline.display()
        );
        return;
    }
    let base = Registry::load_default().expect("the built-in registry");
    let registry = Arc::new(fleet_registry(&base, 1));
    let (id_words, en_words) = vocabularies(&offline);
    let items: Vec<NormalizedItem> =
        YearOfItems::new(&registry, &id_words, &en_words, 20_261_128, Utc::now(), 2)
            .take(ITEMS)
            .collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let (one, grouped) = (dir.path().join("one"), dir.path().join("grouped"));
    let per_write = load(&one, registry.clone(), &items, 0).await;
    // A group far smaller than the load, so groups are committed along the way too.
    let in_groups = load(&grouped, registry.clone(), &items, 500).await;

    let kinds = |dump: &[Item]| {
        let mut kinds: Vec<String> = dump
            .iter()
            .filter_map(|r| r.get("pk")?.as_str()?.split('#').next().map(str::to_owned))
            .collect();
        kinds.dedup();
        kinds
    };
    println!(
        "{} records each way, kinds: {:?}",
        per_write.len(),
        kinds(&per_write)
    );
    for kind in ["ITEM", "TERM", "STORY", "LATEST", "CRISIS"] {
        assert!(
            kinds(&per_write).iter().any(|k| k == kind),
            "the load wrote {kind} records"
        );
    }
    assert_eq!(per_write.len(), in_groups.len(), "as many records");
    for (a, b) in per_write.iter().zip(&in_groups) {
        assert_eq!(a, b, "the same record");
    }
}
