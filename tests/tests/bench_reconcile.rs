//! Reconcile benchmark (not a timed test; `make bench-reconcile` runs both, in the `perf`
//! profile; results and method in docs/reconcile.md):
//!
//! 1. `bench_reconcile`: on the embedded store (SQLite file, disk blobs)
//!    - requests per new, changed and unchanged item, for routine posts and for crisis items
//!      (media signals and official responses), so the crisis stage's cost is visible;
//!    - throughput: `PANTAU_BENCH_ITEMS` (default 100 000) generated items, in objects of 100
//!      lines, stories and crises included; printed as items/s (wall and CPU time), with the
//!      peak memory of the process (VmHWM) and the store's size on disk;
//! 2. `bench_reconcile_aws`: the same item mix against DynamoDB and S3 served by moto on
//!    loopback, every request counted: table reads, writes by what they write (item records,
//!    story index, search postings, crisis records), write requests as DynamoDB receives them
//!    (a batch of up to 25 items or a transaction is one), S3 GETs and PUTs.
//!
//! The mix is the same on both stores and the reconciler makes the same calls on both, so the
//! two tables must agree; the AWS one is what DynamoDB and S3 bill.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Duration;
use pantau::crises::timelines::{at, media, official};
use pantau::model::NormalizedItem;
use pantau::reconcile::{ReconcileReport, Reconciler};
use pantau::registry::Registry;
use pantau::store::disk::DiskBlobStore;
use pantau::store::dynamo::DynamoTable;
use pantau::store::s3::S3BlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::testing::{CountingBlobStore, CountingTable};
use pantau::store::{
    BlobMeta, BlobStore, Condition, Item, Key, Page, Query, Table, TableError, TransactOp, Update,
    WriteOp,
};
use pantau_tests::moto::MotoServer;

const LINES_PER_OBJECT: usize = 100;

/// Items per kind in the request mix (`PANTAU_BENCH_MIX_ITEMS`; moto answers a few hundred
/// requests a second, so the AWS mix stays small).
const MIX_ITEMS: usize = 100;

/// DynamoDB's largest `BatchWriteItem`.
const DYNAMO_BATCH: usize = 25;

// ---- what the requests write ---------------------------------------------------------------

/// Writes by the family of record they touch, and write requests as DynamoDB counts them.
#[derive(Debug, Clone, Copy, Default)]
struct Writes {
    /// `ITEM#…`: `CURRENT` and version records.
    items: usize,
    /// `STORY…`: story entries under candidate keys, story memberships.
    story: usize,
    /// `TERM#…`: search postings.
    postings: usize,
    /// `CRISIS…`, `CRISES#…`, `CSIG#…`: crises, their heads, events and signals.
    crisis: usize,
    /// `MROLE#…`, `ACTIVITY#…`: a mission's role index and daily counts (`reconcile::rollup`).
    rollup: usize,
    /// The rest (`LATEST#…`: the fleet's last official publications).
    other: usize,
    /// Requests carrying writes: a put, update, delete or transaction is one; a batch write
    /// one per 25 items.
    requests: usize,
}

impl Writes {
    fn record(&mut self, pk: &str) {
        let family = if pk.starts_with("ITEM#") {
            &mut self.items
        } else if pk.starts_with("STORY") {
            &mut self.story
        } else if pk.starts_with("TERM#") {
            &mut self.postings
        } else if pk.starts_with("CRISIS") || pk.starts_with("CRISES#") || pk.starts_with("CSIG#") {
            &mut self.crisis
        } else if pk.starts_with("MROLE#") || pk.starts_with("ACTIVITY#") {
            &mut self.rollup
        } else {
            &mut self.other
        };
        *family += 1;
    }

    fn total(&self) -> usize {
        self.items + self.story + self.postings + self.crisis + self.rollup + self.other
    }
}

/// Forwards every call to `T` and sorts its writes by family ([`Writes`]). Reads are counted
/// by the [`CountingTable`] around it.
struct WriteFamilies<T> {
    inner: T,
    writes: Mutex<Writes>,
}

impl<T> WriteFamilies<T> {
    fn new(inner: T) -> Self {
        WriteFamilies {
            inner,
            writes: Mutex::new(Writes::default()),
        }
    }

    fn take(&self) -> Writes {
        std::mem::take(&mut *self.writes.lock().unwrap())
    }

    fn count<'a>(&self, requests: usize, pks: impl IntoIterator<Item = &'a str>) {
        let mut w = self.writes.lock().unwrap();
        w.requests += requests;
        for pk in pks {
            w.record(pk);
        }
    }
}

fn pk_of(item: &Item) -> &str {
    item.get("pk").and_then(|v| v.as_str()).unwrap_or("")
}

#[async_trait]
impl<T: Table> Table for WriteFamilies<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.count(1, [pk_of(&item)]);
        self.inner.put(item, condition).await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        self.count(1, [key.pk.as_str()]);
        self.inner.update(key, update, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.count(1, [key.pk.as_str()]);
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        self.inner.query(query).await
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        self.count(
            ops.len().div_ceil(DYNAMO_BATCH),
            ops.iter().map(|op| match op {
                WriteOp::Put(item) => pk_of(item),
                WriteOp::Delete(key) => key.pk.as_str(),
            }),
        );
        self.inner.batch_write(ops).await
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        let writes: Vec<String> = ops
            .iter()
            .filter_map(|op| match op {
                TransactOp::Put { item, .. } => Some(pk_of(item).to_owned()),
                TransactOp::Update { key, .. } | TransactOp::Delete { key, .. } => {
                    Some(key.pk.clone())
                }
                TransactOp::Check { .. } => None,
            })
            .collect();
        self.count(1, writes.iter().map(String::as_str));
        self.inner.transact_write(ops).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.inner.batch_get(keys).await
    }
}

// ---- the bench -----------------------------------------------------------------------------

/// A reconciler over counted stores.
struct Bench<T, B> {
    table: Arc<CountingTable<WriteFamilies<T>>>,
    blobs: Arc<CountingBlobStore<B>>,
    reconciler: Reconciler,
    objects: usize,
}

/// Requests per item of one delivery.
#[derive(Debug, Clone, Copy)]
struct PerItem {
    reads: f64,
    writes: f64,
    items: f64,
    story: f64,
    postings: f64,
    crisis: f64,
    rollup: f64,
    write_requests: f64,
    s3_gets: f64,
    s3_puts: f64,
}

impl<T: Table + 'static, B: BlobStore + 'static> Bench<T, B> {
    fn new(table: T, blobs: B) -> Bench<T, B> {
        let table = Arc::new(CountingTable::new(WriteFamilies::new(table)));
        let blobs = Arc::new(CountingBlobStore::new(blobs));
        Bench {
            reconciler: Reconciler {
                blobs: blobs.clone(),
                table: table.clone(),
                registry: Arc::new(Registry::load_default().unwrap()),
            },
            table,
            blobs,
            objects: 0,
        }
    }

    /// Writes `items` as objects of [`LINES_PER_OBJECT`] lines, as normalize does, and
    /// reconciles each.
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
            sum.stale += r.stale;
            sum.crises_opened += r.crises_opened;
            sum.responses_linked += r.responses_linked;
        }
        sum
    }

    /// Requests per item of one delivery of `items`; the PUT of each object (normalize's
    /// request, not reconcile's) is left out.
    async fn per_item(&mut self, label: &str, items: &[NormalizedItem]) -> PerItem {
        self.table.reset();
        self.table.inner().take();
        self.blobs.reset();
        let r = self.land(items).await;
        let c = self.table.counts();
        let w = self.table.inner().take();
        let b = self.blobs.counts();
        assert_eq!(c.writes(), w.total(), "both counters see every write");
        let n = items.len() as f64;
        let per = |x: usize| x as f64 / n;
        let row = PerItem {
            reads: per(c.reads()),
            writes: per(c.writes()),
            items: per(w.items),
            story: per(w.story),
            postings: per(w.postings),
            crisis: per(w.crisis),
            rollup: per(w.rollup),
            write_requests: per(w.requests),
            s3_gets: per(b.gets),
            s3_puts: per(b.puts - self.objects_in(items)),
        };
        println!(
            "{label:<24} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7.3} {:>7.3}  new {} changed {} unchanged {} opened {} linked {}",
            row.reads,
            row.writes,
            row.items,
            row.story,
            row.postings,
            row.crisis,
            row.rollup,
            row.write_requests,
            row.s3_gets,
            row.s3_puts,
            r.new,
            r.changed,
            r.unchanged,
            r.crises_opened,
            r.responses_linked,
        );
        row
    }

    fn objects_in(&self, items: &[NormalizedItem]) -> usize {
        items.len().div_ceil(LINES_PER_OBJECT)
    }

    /// The request table: new, changed and unchanged routine posts, then crisis items.
    async fn request_mix(&mut self, store: &str, registry: &Registry, n: usize) {
        let (routine, crisis_items) = mix(registry, n);
        println!(
            "requests per item, {store} (writes = item + story + postings + crisis + rollup + LATEST):"
        );
        println!(
            "{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
            "item kind",
            "reads",
            "writes",
            "item",
            "story",
            "postings",
            "crisis",
            "rollup",
            "wr.reqs",
            "S3 GET",
            "S3 PUT"
        );
        self.per_item("routine: new", &routine).await;
        self.per_item("routine: changed", &changed(&routine)).await;
        let unchanged = self
            .per_item("routine: unchanged", &changed(&routine))
            .await;
        assert_eq!((unchanged.reads, unchanged.writes), (1.0, 0.0));
        self.per_item("crisis items: new", &crisis_items).await;
        self.per_item("crisis items: changed", &changed(&crisis_items))
            .await;
        let unchanged = self
            .per_item("crisis items: unchanged", &changed(&crisis_items))
            .await;
        assert_eq!((unchanged.reads, unchanged.writes), (1.0, 0.0));
    }
}

/// `n` routine posts and `n` crisis items (flood reports in the media, advisories).
fn mix(registry: &Registry, n: usize) -> (Vec<NormalizedItem>, Vec<NormalizedItem>) {
    let routine: Vec<_> = generated(n * 5, registry)
        .into_iter()
        .filter(|i| i.guid.as_deref().is_some_and(|g| g.starts_with('p')))
        .take(n)
        .collect();
    let crisis_items: Vec<_> = generated(n * 10, registry)
        .into_iter()
        .filter(|i| !i.guid.as_deref().is_some_and(|g| g.starts_with('p')))
        .take(n)
        .collect();
    (routine, crisis_items)
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

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---- process figures -----------------------------------------------------------------------

/// User + system CPU seconds of this process so far (`/proc/self/stat`, clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15, i.e. 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A `/proc/self/status` line's value, e.g. `VmHWM` ("123456 kB").
fn proc_status(field: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

/// Bytes of every file under `path`.
fn size_on_disk(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => size_on_disk(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

// ---- the benchmarks ------------------------------------------------------------------------

fn embedded(dir: &Path) -> Bench<SqliteTable, DiskBlobStore> {
    Bench::new(
        SqliteTable::open(&dir.join("pantau.sqlite")).unwrap(),
        DiskBlobStore::new(dir.join("bucket")).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-reconcile"]
async fn bench_reconcile() {
    let total = env_usize("PANTAU_BENCH_ITEMS", 100_000);
    let registry = Registry::load_default().unwrap();

    // Requests per item, on a small fresh store.
    let small_dir = tempfile::tempdir().unwrap();
    let mut small = embedded(small_dir.path());
    small
        .request_mix(
            "embedded store",
            &registry,
            env_usize("PANTAU_BENCH_MIX_ITEMS", MIX_ITEMS),
        )
        .await;

    // Throughput.
    let dir = tempfile::tempdir().unwrap();
    let mut bench = embedded(dir.path());
    let items = generated(total, &registry);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let report = bench.land(&items).await;
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "throughput: {total} new items in {wall:.1} s = {:.0} items/s (CPU {cpu:.1} s = {:.0} items per CPU-s; {} objects, {report:?})",
        total as f64 / wall,
        total as f64 / cpu,
        bench.objects
    );
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let again = bench.land(&items).await;
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "throughput: {total} unchanged items in {wall:.1} s = {:.0} items/s (CPU {cpu:.1} s = {:.0} items per CPU-s)",
        total as f64 / wall,
        total as f64 / cpu,
    );
    assert_eq!(again.unchanged, total);
    let sqlite: u64 = ["pantau.sqlite", "pantau.sqlite-wal", "pantau.sqlite-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "store on disk: table {:.1} MB (SQLite file and WAL), objects {:.1} MB; peak memory VmHWM {}",
        mb(sqlite),
        mb(size_on_disk(&dir.path().join("bucket"))),
        proc_status("VmHWM"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-reconcile"]
async fn bench_reconcile_aws() {
    let registry = Registry::load_default().unwrap();
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let blobs = S3BlobStore::new(moto.s3().await, "pantau-bench");
    blobs.create_bucket_if_missing().await.unwrap();
    let table = DynamoTable::new(moto.dynamodb().await, "pantau-bench");
    table.create_table_if_missing().await.unwrap();
    let mut bench = Bench::new(table, blobs);
    let started = Instant::now();
    bench
        .request_mix(
            "AWS path (DynamoDB and S3 on moto)",
            &registry,
            env_usize("PANTAU_BENCH_MIX_ITEMS", MIX_ITEMS),
        )
        .await;
    println!(
        "(on moto in {:.1} s; moto's speed says nothing about AWS's)",
        started.elapsed().as_secs_f64()
    );
}
