//! The scale run's loader (`make scale`, tests/tests/scale.rs) writes with grouped commits
//! (`SqliteTable::group_commits`): the real reconcile, with the SQLite adapter committing
//! every few thousand writes instead of every write. This proves the grouping changes nothing
//! in what is stored: a small year of generated items (crises, stories and search postings
//! included) loaded both ways, in the same order, leaves two tables whose full dumps are equal.
//! And a sitting killed inside a batch loses only uncommitted writes, some of them in the
//! middle of an item: delivering the batch again leaves the table an uninterrupted load leaves.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use pantau::model::NormalizedItem;
use pantau::reconcile::{Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::store::BlobMeta;
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::table::{Item, TTL};
use pantau_tests::scale::{YearOfItems, fleet_registry, vocabularies};

/// Items loaded each way: every kind of record appears (official, media, hazard, planted
/// crises), small enough for `make test`.
const ITEMS: usize = 300;
const LINES_PER_OBJECT: usize = 100;

/// A load stopped part-way, as a killed sitting of the scale run stops: the first
/// `batch_from` objects reconciled and committed (the batches saved as loaded), then objects
/// up to `after` (the batch in hand) with the writes since the group's last commit lost. The
/// next sitting, on a new connection, delivers the batch in hand again and goes on.
#[derive(Clone, Copy)]
struct Killed {
    batch_from: usize,
    after: usize,
}

/// Opens the SQLite file in `dir` with the mission records and grouped commits of `group`
/// writes, and a reconciler over it.
async fn open(dir: &Path, registry: Arc<Registry>, group: u64) -> (Arc<SqliteTable>, Reconciler) {
    std::fs::create_dir_all(dir).expect("store dir");
    let table = Arc::new(SqliteTable::open(&dir.join("pantau.sqlite")).expect("sqlite"));
    let blobs = Arc::new(DiskBlobStore::new(dir.join("bucket")).expect("bucket"));
    sync_registry(table.as_ref(), &registry)
        .await
        .expect("mission records");
    table.group_commits(group).await.expect("grouping");
    let reconciler = Reconciler {
        blobs,
        table: table.clone(),
        registry,
    };
    (table, reconciler)
}

/// Writes objects `range` of `items` (`LINES_PER_OBJECT` lines each) and reconciles them.
async fn deliver(reconciler: &Reconciler, items: &[NormalizedItem], range: std::ops::Range<usize>) {
    for (n, chunk) in items.chunks(LINES_PER_OBJECT).enumerate() {
        if !range.contains(&n) {
            continue;
        }
        let body: String = chunk
            .iter()
            .map(|i| serde_json::to_string(i).expect("an item serializes") + "\n")
            .collect();
        let key = format!("items/load/{n}.jsonl");
        reconciler
            .blobs
            .put(&key, Bytes::from(body), &BlobMeta::default())
            .await
            .expect("object written");
        reconciler
            .reconcile_object(&key)
            .await
            .expect("object reconciled");
    }
}

/// Loads `items` through the real reconcile into a fresh SQLite file, one object at a time
/// (stopped and delivered again when `killed`), and dumps the table.
async fn load(
    dir: &Path,
    registry: Arc<Registry>,
    items: &[NormalizedItem],
    group: u64,
    killed: Option<Killed>,
) -> Vec<Item> {
    let mut from = 0;
    if let Some(killed) = killed {
        let (table, reconciler) = open(dir, registry.clone(), group).await;
        deliver(&reconciler, items, 0..killed.batch_from).await;
        table.commit().await.expect("batches committed");
        let saved = table.dump().await.expect("dump").len();
        deliver(&reconciler, items, killed.batch_from..killed.after).await;
        let written = table.dump().await.expect("dump").len();
        table.abandon().await.expect("pending writes dropped");
        let kept = table.dump().await.expect("dump").len();
        println!(
            "killed: {saved} records before the batch in hand, {written} written, {kept} kept"
        );
        assert!(
            saved < kept && kept < written,
            "the kill left part of the batch stored"
        );
        from = killed.batch_from;
    }
    let (table, reconciler) = open(dir, registry, group).await;
    deliver(&reconciler, items, from..usize::MAX).await;
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

/// The registry once over and the first `ITEMS` items of a generated year; None (with a
/// message) where the recorded sources the vocabularies come from are absent.
fn small_year() -> Option<(Arc<Registry>, Vec<NormalizedItem>)> {
    let offline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/offline");
    if !offline.exists() {
        println!(
            "skipped: the recorded sources ({}) are absent",
            offline.display()
        );
        return None;
    }
    let base = Registry::load_default().expect("the built-in registry");
    let registry = Arc::new(fleet_registry(&base, 1));
    let (id_words, en_words) = vocabularies(&offline);
    let items = YearOfItems::new(&registry, &id_words, &en_words, 20_261_128, Utc::now(), 2)
        .take(ITEMS)
        .collect();
    Some((registry, items))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_commits_store_exactly_what_commits_per_write_store() {
    let Some((registry, items)) = small_year() else {
        return;
    };

    let dir = tempfile::tempdir().expect("tempdir");
    let (one, grouped) = (dir.path().join("one"), dir.path().join("grouped"));
    let per_write = load(&one, registry.clone(), &items, 0, None).await;
    // A group far smaller than the load, so groups are committed along the way too.
    let in_groups = load(&grouped, registry.clone(), &items, 500, None).await;

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

/// The partially stored batch: a sitting killed inside a batch leaves some of its items
/// stored whole, one cut between its writes (the group commits every 37 writes, so a commit
/// falls inside an item's writes) and the rest missing. Delivering the batch again must
/// leave exactly what one uninterrupted load leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_delivered_again_after_a_kill_completes_what_was_cut() {
    let Some((registry, items)) = small_year() else {
        return;
    };

    let dir = tempfile::tempdir().expect("tempdir");
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    let uninterrupted = load(&whole, registry.clone(), &items, 0, None).await;
    let kill = Killed {
        batch_from: 1,
        after: 2,
    };
    let again = load(&killed, registry.clone(), &items, 37, Some(kill)).await;
    assert_eq!(uninterrupted.len(), again.len(), "as many records");
    for (a, b) in uninterrupted.iter().zip(&again) {
        assert_eq!(a, b, "the same record");
    }
}
