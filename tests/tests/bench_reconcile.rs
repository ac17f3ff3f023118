//! Reconcile benchmark (not a timed test; `make bench-reconcile` runs it in release):
//!
//! 1. throughput: `PANTAU_BENCH_ITEMS` (default 100 000) generated items, in objects of 100
//!    lines, reconciled on the embedded store (SQLite file, disk blobs), stories and crises
//!    included; printed as items/s;
//! 2. table requests per new, changed and unchanged item (reads and writes, by
//!    `store::testing::CountingTable`), for routine posts and for crisis items (media signals
//!    and official responses), so the crisis stage's cost is visible on its own.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Duration;
use pantau::crises::timelines::{at, media, official};
use pantau::model::NormalizedItem;
use pantau::reconcile::{ReconcileReport, Reconciler};
use pantau::registry::Registry;
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::testing::CountingTable;
use pantau::store::{BlobMeta, BlobStore};

const LINES_PER_OBJECT: usize = 100;

struct Bench {
    table: Arc<CountingTable<SqliteTable>>,
    blobs: Arc<DiskBlobStore>,
    reconciler: Reconciler,
    objects: usize,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let table = Arc::new(CountingTable::new(
            SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap(),
        ));
        let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
        Bench {
            reconciler: Reconciler {
                blobs: blobs.clone(),
                table: table.clone(),
                registry: Arc::new(Registry::load_default().unwrap()),
            },
            table,
            blobs,
            objects: 0,
            _dir: dir,
        }
    }

    async fn land(&mut self, items: &[NormalizedItem]) -> ReconcileReport {
        let mut sum = ReconcileReport::default();
        for chunk in items.chunks(LINES_PER_OBJECT) {
            self.objects += 1;
            let key = format!("items/bench/{:06}.jsonl", self.objects);
            let body: String = chunk
                .iter()
                .map(|i| serde_json::to_string(i).unwrap() + "\n")
                .collect();
            self.blobs
                .put(&key, Bytes::from(body), &BlobMeta::default())
                .await
                .unwrap();
            let r = self.reconciler.reconcile_object(&key).await.unwrap();
            sum.new += r.new;
            sum.changed += r.changed;
            sum.unchanged += r.unchanged;
            sum.crises_opened += r.crises_opened;
            sum.responses_linked += r.responses_linked;
        }
        sum
    }

    /// Reads and writes per item of one delivery of `items`.
    async fn per_item(&mut self, label: &str, items: &[NormalizedItem]) -> (f64, f64) {
        self.table.reset();
        let r = self.land(items).await;
        let c = self.table.counts();
        let n = items.len() as f64;
        let (reads, writes) = (c.reads() as f64 / n, c.writes() as f64 / n);
        println!(
            "{label:<28} {:>6} items  reads/item {reads:>6.2}  writes/item {writes:>6.2}  ({r:?})",
            items.len()
        );
        (reads, writes)
    }
}

/// Routine portal posts of many missions, a few in ten about a crisis, each with its own words
/// so stories stay mostly apart.
fn generated(n: usize, registry: &Registry) -> Vec<NormalizedItem> {
    let missions: Vec<&str> = registry.missions.iter().map(|m| m.id.as_str()).collect();
    let start = at("2025-01-01T00:00:00Z");
    (0..n)
        .map(|i| {
            let mission = missions[i % missions.len()];
            let t = start + Duration::minutes(i as i64);
            match i % 10 {
                0 => media(
                    mission,
                    "media-bench",
                    &format!("m{i}"),
                    &format!("Flood warning number {i} issued for district {}", i / 7),
                    &format!("Heavy rain, report {i}."),
                    t,
                ),
                1 => official(
                    mission,
                    &format!("o{i}"),
                    &format!("Imbauan nomor {i} bagi WNI"),
                    &format!("KBRI mengimbau WNI, edaran {i}."),
                    t,
                ),
                _ => official(
                    mission,
                    &format!("p{i}"),
                    &format!("Kegiatan diplomasi ke-{i} di kota {}", i / 13),
                    &format!(
                        "Pertemuan bilateral nomor {i} membahas kerja sama {}.",
                        i % 97
                    ),
                    t,
                ),
            }
        })
        .collect()
}

fn changed(items: &[NormalizedItem]) -> Vec<NormalizedItem> {
    items
        .iter()
        .map(|i| {
            let mut c = i.clone();
            c.title.push_str(" (diperbarui)");
            c.fetched_at += Duration::hours(1);
            c
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-reconcile"]
async fn bench_reconcile() {
    let total: usize = std::env::var("PANTAU_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let registry = Registry::load_default().unwrap();

    // Requests per item, on a small fresh table.
    let mut small = Bench::new();
    let routine: Vec<_> = generated(1000, &registry)
        .into_iter()
        .filter(|i| i.guid.as_deref().is_some_and(|g| g.starts_with('p')))
        .take(200)
        .collect();
    let crisis_items: Vec<_> = generated(2000, &registry)
        .into_iter()
        .filter(|i| !i.guid.as_deref().is_some_and(|g| g.starts_with('p')))
        .take(200)
        .collect();
    println!("table requests per item (embedded store; the AWS path makes the same calls):");
    small.per_item("routine: new", &routine).await;
    small.per_item("routine: changed", &changed(&routine)).await;
    let (reads, writes) = small
        .per_item("routine: unchanged", &changed(&routine))
        .await;
    assert_eq!((reads, writes), (1.0, 0.0));
    small.per_item("crisis items: new", &crisis_items).await;
    small
        .per_item("crisis items: changed", &changed(&crisis_items))
        .await;
    let (reads, writes) = small
        .per_item("crisis items: unchanged", &changed(&crisis_items))
        .await;
    assert_eq!((reads, writes), (1.0, 0.0));

    // Throughput.
    let mut bench = Bench::new();
    let items = generated(total, &registry);
    let started = Instant::now();
    let report = bench.land(&items).await;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "throughput: {total} new items in {elapsed:.1} s = {:.0} items/s ({} objects, {report:?})",
        total as f64 / elapsed,
        bench.objects
    );
    let started = Instant::now();
    let again = bench.land(&items).await;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "throughput: {total} unchanged items in {elapsed:.1} s = {:.0} items/s",
        total as f64 / elapsed
    );
    assert_eq!(again.unchanged, total);
}
