//! `pantau cost`: what a month of Pantau costs on AWS, from requests counted in two local
//! cycles.
//!
//! The pipeline runs on the embedded store (SQLite file, object folder) against the recorded
//! sources on loopback, with the same scraper and stage handlers as `pantau run`, and every
//! request the stages make is counted on the way:
//! - source fetches: the offline server's request log;
//! - object requests and bytes: `store::testing::CountingBlobStore`;
//! - table requests: `store::testing::CountingTable`, and DynamoDB's request units (read and
//!   write, GSI copies included) by [`MeteredTable`];
//! - SQS messages and Lambda invocations: the in-process queues, batches of up to 10.
//!
//! Two cycles are measured: the first (every source new, portals read `backfill_pages` deep)
//! and a steady-state one a day later in which a few portals (`--changed-share`) published one
//! new item. The stages run one after the other (scrape, then normalize, then reconcile), so
//! each function's counts are its own. [`monthly_lines`] scales the steady-state cycle per
//! source to `--sources` sources every `--interval-minutes` and prices it; docs/cost.md
//! explains the model and its assumptions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use clap::Args;
use futures::FutureExt;
use pantau::metrics;
use pantau::offline::{self, OfflineServer};
use pantau::reconcile::sync_registry;
use pantau::registry::Registry;
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::table::rules::item_size;
use pantau::store::table::{GSI1_PK, GSI2_PK, MAX_BATCH_GET_KEYS};
use pantau::store::testing::{BlobCounts, CountingBlobStore, CountingTable, TableCounts};
use pantau::store::{
    BlobStore, Condition, Index, Item, Key, Page, Query, Table, TableError, TransactOp, Update,
    WriteOp,
};
use serde_json::json;

#[cfg(test)]
mod aws;

use crate::pipeline::{scraper, stage_handlers};
use crate::queue::{Handler, NotifyingBlobStore, Queue, work};

#[derive(Args, Debug)]
pub struct CostArgs {
    /// Sources fetched per scrape run in the model (the brief: ~800, every one every run).
    #[arg(long, default_value_t = 800)]
    pub sources: usize,
    /// Minutes between scrape runs (the template's ScrapeRate).
    #[arg(long, default_value_t = 15)]
    pub interval_minutes: u32,
    /// Share of portal sources that publish one new item between two runs (steady state).
    #[arg(long, default_value_t = 0.05)]
    pub changed_share: f64,
    /// API requests per day (dashboard and HQ clients).
    #[arg(long, default_value_t = 2000)]
    pub api_requests_per_day: u64,
}

pub async fn run(args: CostArgs) -> anyhow::Result<()> {
    let registry = Registry::load_default()?;
    let hosts = HostShare::of(&registry);
    let measured = measure(args.changed_share).await?;
    print_cycle("first cycle (every source new)", &measured.first);
    print_cycle("steady-state cycle", &measured.steady);
    println!(
        "registry deployed: sync_registry writes {} records ({} WRU)",
        measured.registry_deploy.table.writes(),
        measured.registry_deploy.units.write
    );
    println!(
        "scrape cold start, registry unchanged: {} reads, {} writes ({} RRU, {} WRU)",
        measured.cold_start.table.reads(),
        measured.cold_start.table.writes(),
        measured.cold_start.units.read,
        measured.cold_start.units.write
    );
    println!(
        "EMF metrics declared: {} (scrape, normalize, reconcile lines)\n",
        custom_metrics()
    );

    let model = Model {
        sources: args.sources,
        runs_per_month: runs_per_month(args.interval_minutes),
        api_requests: args.api_requests_per_day * 30,
        busiest_host_share: hosts.busiest_share,
    };
    let lines = monthly_lines(&model, &measured, &PRICES_US_EAST_1);
    print_lines(&model, &lines);
    Ok(())
}

// ---- measuring -----------------------------------------------------------------------------

/// DynamoDB request units, as on-demand billing counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestUnits {
    pub read: f64,
    pub write: f64,
}

/// Requests as AWS bills them, by API operation (`GetItem`, `BatchWriteItem`, `PutObject`,
/// `ListObjectsV2`, ...), retries included: counted on the wire (the `aws` tests tap the SDK
/// clients) when the stores are the AWS adapters, empty on the embedded store.
pub type OperationCounts = BTreeMap<String, usize>;

/// What one stage did in one cycle.
#[derive(Debug, Clone, Default)]
pub struct StageCounts {
    pub table: TableCounts,
    pub units: RequestUnits,
    pub blobs: BlobCounts,
    /// Lambda invocations (SQS batches for normalize and reconcile).
    pub invocations: usize,
    /// SQS messages delivered to the stage (S3 events), retries included.
    pub messages: usize,
    /// Wall time inside the handlers, on the embedded store.
    pub handler_time: Duration,
    /// S3 and DynamoDB requests on the wire (AWS path only).
    pub requests: OperationCounts,
    /// DynamoDB requests by operation as the adapter would send them for the calls made
    /// (`MeteredTable`), on either path.
    pub dynamo_requests: OperationCounts,
}

#[derive(Debug, Clone, Default)]
pub struct CycleCounts {
    pub sources: usize,
    pub changed: usize,
    /// HTTP requests the sources' servers answered (robots.txt included).
    pub fetches: usize,
    pub scrape: StageCounts,
    pub normalize: StageCounts,
    pub reconcile: StageCounts,
}

#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub first: CycleCounts,
    pub steady: CycleCounts,
    /// What the first `sync_registry` costs: a new or changed registry, written whole (once
    /// per deployment that changes it).
    pub registry_deploy: StageCounts,
    /// What the scrape function's start-up costs with the registry already in the table
    /// (`sync_registry` again): every cold start.
    pub cold_start: StageCounts,
}

/// The stores every stage writes through, with their counters: the counting decorators around
/// any table and blob store (the embedded ones for `pantau cost`, the AWS adapters on moto in
/// the `aws` tests), and, on the AWS path, what takes the requests counted on the wire.
pub struct Counted<T, B> {
    pub table: Arc<CountingTable<MeteredTable<T>>>,
    pub blobs: Arc<CountingBlobStore<B>>,
    pub wire: Option<TakeRequests>,
}

/// Returns the requests counted on the wire since its last call.
pub type TakeRequests = Arc<dyn Fn() -> OperationCounts + Send + Sync>;

impl<T: Table + 'static, B: BlobStore + 'static> Counted<T, B> {
    pub fn new(table: T, blobs: B, wire: Option<TakeRequests>) -> Counted<T, B> {
        Counted {
            table: Arc::new(CountingTable::new(MeteredTable::new(table))),
            blobs: Arc::new(CountingBlobStore::new(blobs)),
            wire,
        }
    }

    /// The counts since the last call, and zero again.
    fn take(&self) -> StageCounts {
        let counts = StageCounts {
            table: self.table.counts(),
            units: self.table.inner().units(),
            blobs: self.blobs.counts(),
            requests: self.wire.as_ref().map(|take| take()).unwrap_or_default(),
            dynamo_requests: self.table.inner().requests(),
            ..StageCounts::default()
        };
        self.table.reset();
        self.table.inner().reset();
        self.blobs.reset();
        counts
    }
}

/// Runs the two cycles on a fresh embedded store in a temporary folder, against the recorded
/// sources (`pantau cost`).
pub async fn measure(changed_share: f64) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir().context("making a temporary data folder")?;
    let server = OfflineServer::start_loopback()
        .await
        .context("starting the offline source server")?;
    let mut registry = Registry::load_default()?;
    offline::point_registry_at(&mut registry, server.base_url());
    offline::retain_served_sources(&mut registry, server.base_url());
    let counted = Counted::new(
        SqliteTable::open(&dir.path().join("pantau.sqlite"))?,
        DiskBlobStore::new(dir.path().join("bucket"))?,
        None,
    );
    let measured = measure_on(&counted, &server, registry, changed_share, Cycles::Both).await;
    server.shutdown().await;
    measured
}

/// Which cycles [`measure_on`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycles {
    /// The first cycle only (the quick comparison in `make test`).
    First,
    /// The first and the steady-state one.
    Both,
}

/// The registry syncs and the cycles on `counted`'s stores, fresh ones, with `registry`'s
/// sources pointed at `server` (see `offline::point_registry_at`). Before the steady-state
/// cycle the first `changed_share` of the missions' portals publish one item each.
pub async fn measure_on<T: Table + 'static, B: BlobStore + 'static>(
    counted: &Counted<T, B>,
    server: &OfflineServer,
    registry: Registry,
    changed_share: f64,
    cycles: Cycles,
) -> anyhow::Result<Measured> {
    let registry = Arc::new(registry);
    let table: Arc<dyn Table> = counted.table.clone();

    sync_registry(table.as_ref(), &registry).await?;
    let registry_deploy = counted.take();
    sync_registry(table.as_ref(), &registry).await?;
    let cold_start = counted.take();

    let now = chrono::Utc::now();
    let first = cycle(server, &registry, counted, &table, now).await?;
    if cycles == Cycles::First {
        return Ok(Measured {
            first,
            registry_deploy,
            cold_start,
            ..Measured::default()
        });
    }

    // A day on, every source is due again (no delay exceeds scrape::MAX_DELAY), and a few
    // portals have published something.
    let portals: Vec<String> = registry.missions.iter().map(|m| m.id.clone()).collect();
    let changing = ((portals.len() as f64) * changed_share).round() as usize;
    for (n, portal) in portals.iter().take(changing).enumerate() {
        server.publish(
            portal,
            json!({"slug": format!("pantau-cost-{n}"), "title": format!("Cost model item {n}")}),
        );
    }
    let later = now + chrono::TimeDelta::hours(25);
    let steady = cycle(server, &registry, counted, &table, later).await?;
    Ok(Measured {
        first,
        steady,
        registry_deploy,
        cold_start,
    })
}

/// One scrape run, then normalize over its raw objects, then reconcile over the items
/// objects, each with its own counts.
async fn cycle<T: Table + 'static, B: BlobStore + 'static>(
    server: &OfflineServer,
    registry: &Arc<Registry>,
    counted: &Counted<T, B>,
    table: &Arc<dyn Table>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<CycleCounts> {
    let (raw_queue, raw_rx) = Queue::new("normalize");
    let (items_queue, items_rx) = Queue::new("reconcile");
    let blobs: Arc<dyn BlobStore> = Arc::new(NotifyingBlobStore {
        inner: counted.blobs.clone(),
        raw: raw_queue.clone(),
        items: items_queue.clone(),
    });
    let (normalize, reconcile) = stage_handlers(&blobs, table, registry);
    let dead_letters = std::env::temp_dir().join("pantau-cost-dead-letters.jsonl");

    let requests_before = server.request_log().len();
    let started = Instant::now();
    // One source at a time: the raw objects, and so every later stage's work, then come in
    // the same order on every run, and the embedded store and moto compare call for call
    // (in parallel, which of two similar items is reconciled first, and so what it queries,
    // varies). The counts do not depend on it.
    let mut scraper = scraper(registry, &blobs, table, true, None)?;
    scraper.config.max_concurrent_sources = 1;
    let report = scraper.run_cycle(now).await;
    let mut scrape = counted.take();
    scrape.invocations = 1;
    scrape.handler_time = started.elapsed();
    let fetches = server.request_log().len() - requests_before;

    let normalize = run_stage(counted, &raw_queue, raw_rx, normalize, &dead_letters).await;
    let reconcile = run_stage(counted, &items_queue, items_rx, reconcile, &dead_letters).await;
    Ok(CycleCounts {
        sources: report.due,
        changed: report.changed,
        fetches,
        scrape,
        normalize,
        reconcile,
    })
}

/// Hands the queue's messages to the handler until it is empty; the stage's counts.
async fn run_stage<T: Table + 'static, B: BlobStore + 'static>(
    counted: &Counted<T, B>,
    queue: &Queue,
    rx: tokio::sync::mpsc::UnboundedReceiver<crate::queue::Message>,
    handler: Handler,
    dead_letters: &std::path::Path,
) -> StageCounts {
    let invocations = Arc::new(AtomicUsize::new(0));
    let messages = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(Mutex::new(Duration::ZERO));
    let counting: Handler = {
        let (invocations, messages, busy) = (invocations.clone(), messages.clone(), busy.clone());
        Arc::new(move |event: SqsEvent| {
            invocations.fetch_add(1, Ordering::SeqCst);
            messages.fetch_add(event.records.len(), Ordering::SeqCst);
            let (handler, busy) = (handler.clone(), busy.clone());
            async move {
                let started = Instant::now();
                let response = handler(event).await;
                *busy.lock().unwrap_or_else(|p| p.into_inner()) += started.elapsed();
                response
            }
            .boxed()
        })
    };
    let worker = tokio::spawn(work(
        queue.clone(),
        rx,
        counting,
        dead_letters.to_path_buf(),
    ));
    drain(queue).await;
    worker.abort();
    let mut counts = counted.take();
    counts.invocations = invocations.load(Ordering::SeqCst);
    counts.messages = messages.load(Ordering::SeqCst);
    counts.handler_time = *busy.lock().unwrap_or_else(|p| p.into_inner());
    counts
}

/// Waits until the queue is empty and idle, however long that takes: on moto a stage over
/// thousands of objects runs longer than `pipeline::settle`'s five minutes.
async fn drain(queue: &Queue) {
    let mut idle_polls = 0;
    while idle_polls < 3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        idle_polls = if queue.pending() == 0 {
            idle_polls + 1
        } else {
            0
        };
    }
}

/// Which share of the registry's sources the busiest host serves: the scraper's per-host gate
/// makes that host's fetches the run's critical path.
struct HostShare {
    busiest_share: f64,
}

impl HostShare {
    fn of(registry: &Registry) -> HostShare {
        let mut per_host = std::collections::BTreeMap::<String, usize>::new();
        let mut total = 0;
        for source in registry.sources() {
            let host = url::Url::parse(&source.source.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            *per_host.entry(host).or_default() += 1;
            total += 1;
        }
        let busiest = per_host.values().copied().max().unwrap_or(0);
        HostShare {
            busiest_share: if total == 0 {
                0.0
            } else {
                busiest as f64 / total as f64
            },
        }
    }
}

// ---- request units -------------------------------------------------------------------------

/// Forwards every call and adds up the request units DynamoDB on-demand would bill for it:
/// reads in 4 KB steps (strongly consistent: gets and table queries; GSI queries are
/// eventually consistent, half price), writes in 1 KB steps, once for the table and once more
/// for each GSI the item is in (both project everything), transactions twice. Sizes are
/// `rules::item_size`, the adapters' own estimate of DynamoDB's accounting.
pub struct MeteredTable<T> {
    inner: T,
    units: Mutex<RequestUnits>,
    /// The DynamoDB requests the calls make, by operation, as the DynamoDB adapter sends them
    /// (one per call; batch writes in 25s, batch gets in 100s of distinct keys), so the
    /// embedded store shows them too and moto's wire can be checked against them.
    requests: Mutex<OperationCounts>,
}

/// Sizes the store cannot see (an update or delete inside a transaction) count as 1 KB.
const UNSEEN_ITEM_BYTES: usize = 1024;

impl<T: Table> MeteredTable<T> {
    pub fn new(inner: T) -> MeteredTable<T> {
        MeteredTable {
            inner,
            units: Mutex::new(RequestUnits::default()),
            requests: Mutex::new(OperationCounts::new()),
        }
    }

    pub fn requests(&self) -> OperationCounts {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn request(&self, operation: &str, n: usize) {
        if n > 0 {
            *self
                .requests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(operation.to_owned())
                .or_default() += n;
        }
    }

    /// The store underneath (the AWS-path tests read the SQLite file's records through it).
    #[cfg(test)]
    pub fn inner(&self) -> &T {
        &self.inner
    }

    pub fn units(&self) -> RequestUnits {
        *self.units.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn reset(&self) {
        *self.units.lock().unwrap_or_else(|p| p.into_inner()) = RequestUnits::default();
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn add(&self, read: f64, write: f64) {
        let mut units = self.units.lock().unwrap_or_else(|p| p.into_inner());
        units.read += read;
        units.write += write;
    }

    async fn write<R>(
        &self,
        units: f64,
        call: impl Future<Output = Result<R, TableError>>,
    ) -> Result<R, TableError> {
        self.add(0.0, units);
        call.await
    }
}

fn read_units(bytes: usize) -> f64 {
    bytes.div_ceil(4096).max(1) as f64
}

/// An item's write units: its 1 KB steps, for the table and for each GSI it is in.
pub fn write_units(item: &Item) -> f64 {
    let copies = 1 + [GSI1_PK, GSI2_PK]
        .iter()
        .filter(|gsi| item.contains_key(**gsi))
        .count();
    (item_size(item).div_ceil(1024).max(1) * copies) as f64
}

fn unseen_write_units() -> f64 {
    UNSEEN_ITEM_BYTES.div_ceil(1024) as f64
}

#[async_trait]
impl<T: Table> Table for MeteredTable<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.request("GetItem", 1);
        let item = self.inner.get(key).await?;
        self.add(read_units(item.as_ref().map_or(0, item_size)), 0.0);
        Ok(item)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.request("PutItem", 1);
        self.write(write_units(&item), self.inner.put(item, condition))
            .await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        self.request("UpdateItem", 1);
        match self.inner.update(key, update, condition).await {
            Ok(item) => {
                self.add(0.0, write_units(&item));
                Ok(item)
            }
            Err(e) => {
                self.add(0.0, unseen_write_units());
                Err(e)
            }
        }
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.request("DeleteItem", 1);
        self.write(unseen_write_units(), self.inner.delete(key, condition))
            .await
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        self.request("Query", 1);
        let consistency = if query.index == Index::Primary {
            1.0
        } else {
            0.5
        };
        let page = self.inner.query(query).await?;
        let bytes: usize = page.items.iter().map(item_size).sum();
        self.add(read_units(bytes) * consistency, 0.0);
        Ok(page)
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        self.request("BatchWriteItem", ops.len().div_ceil(25));
        let units = ops
            .iter()
            .map(|op| match op {
                WriteOp::Put(item) => write_units(item),
                WriteOp::Delete(_) => unseen_write_units(),
            })
            .sum();
        self.write(units, self.inner.batch_write(ops)).await
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        self.request("TransactWriteItems", usize::from(!ops.is_empty()));
        let units: f64 = ops
            .iter()
            .map(|op| match op {
                TransactOp::Put { item, .. } => write_units(item),
                _ => unseen_write_units(),
            })
            .sum();
        self.write(2.0 * units, self.inner.transact_write(ops))
            .await
    }

    /// Forwarded as one call (the trait's default would turn it into a get per key, and the
    /// DynamoDB adapter's one BatchGetItem per 100 keys into as many GetItems). Billed per
    /// key like a get: each found item in 4 KB steps, strongly consistent as the adapter
    /// asks; a key not found counts one unit like a get's miss.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        let distinct: std::collections::BTreeSet<&Key> = keys.iter().collect();
        self.request("BatchGetItem", distinct.len().div_ceil(MAX_BATCH_GET_KEYS));
        let items = self.inner.batch_get(keys).await?;
        let units = items
            .iter()
            .map(|item| read_units(item.as_ref().map_or(0, item_size)))
            .sum();
        self.add(units, 0.0);
        Ok(items)
    }
}

// ---- the monthly model ---------------------------------------------------------------------

/// List prices in USD, us-east-1 (N. Virginia), as published by AWS in 2025 (Lambda arm64,
/// S3 Standard, DynamoDB on-demand after the November 2024 price cut, SQS standard, HTTP
/// API, CloudWatch). ap-southeast-3 (Jakarta) lists most of these 10-30% higher.
#[derive(Debug, Clone, Copy)]
pub struct Prices {
    pub lambda_request: f64,
    pub lambda_gb_second_arm: f64,
    pub s3_put: f64,
    pub s3_get: f64,
    pub s3_gb_month: f64,
    pub dynamo_rru: f64,
    pub dynamo_wru: f64,
    pub dynamo_gb_month: f64,
    pub sqs_request: f64,
    pub http_api_request: f64,
    pub cw_metric_month: f64,
    pub cw_alarm_metric_month: f64,
    pub cw_logs_gb: f64,
}

pub const PRICES_US_EAST_1: Prices = Prices {
    lambda_request: 0.20 / 1e6,
    lambda_gb_second_arm: 0.000_013_333_4,
    s3_put: 0.005 / 1e3,
    s3_get: 0.0004 / 1e3,
    s3_gb_month: 0.023,
    dynamo_rru: 0.125 / 1e6,
    dynamo_wru: 0.625 / 1e6,
    dynamo_gb_month: 0.25,
    sqs_request: 0.40 / 1e6,
    http_api_request: 1.00 / 1e6,
    cw_metric_month: 0.30,
    cw_alarm_metric_month: 0.10,
    cw_logs_gb: 0.50,
};

/// The template's memory size for every function.
const FUNCTION_GB: f64 = 0.25;
/// The scrape function's timeout: no run is billed longer.
const SCRAPE_TIMEOUT_S: f64 = 300.0;
/// The fetcher's default per-host gap between request starts.
const PER_HOST_INTERVAL_S: f64 = 1.0;
/// Round-trip times inside the region the embedded store does not have: added per request to
/// the handler time measured locally.
const S3_REQUEST_S: f64 = 0.025;
const DYNAMO_REQUEST_S: f64 = 0.008;
/// Lambda's SQS poller: 5 long polls (20 s) at a time per queue, answered empty when idle.
const SQS_IDLE_POLLS_PER_QUEUE: f64 = 5.0 * 30.0 * 86_400.0 / 20.0;
const QUEUES_POLLED: f64 = 2.0;
/// EMF metrics the functions declare (shared/src/metrics.rs; today scrape 5, normalize 0,
/// reconcile 5), one dimension each, so one CloudWatch custom metric each. Counted from the
/// lines the functions print, so the model follows the code.
pub fn custom_metrics() -> usize {
    let at = chrono::Utc::now();
    metrics::scrape_cycle("scrape", at, &Default::default())
        .metric_names()
        .len()
        + metrics::normalize_batch("normalize", at, &Default::default())
            .metric_names()
            .len()
        + metrics::reconcile_batch("reconcile", at, &Default::default())
            .metric_names()
            .len()
}
/// Metrics the template's alarms watch (9 alarms; the failure-rate one reads 2 metrics).
const ALARM_METRICS: f64 = 10.0;
/// Log bytes per invocation (JSON log lines and the EMF line) and per fetched source.
const LOG_BYTES_PER_INVOCATION: f64 = 2_000.0;
const LOG_BYTES_PER_SOURCE_RUN: f64 = 300.0;
/// Items kept per source-run in the table, for storage (DynamoDB storage is small either way).
const TABLE_BYTES_PER_CHANGED_SOURCE: f64 = 4_000.0;

pub struct Model {
    pub sources: usize,
    pub runs_per_month: f64,
    pub api_requests: u64,
    pub busiest_host_share: f64,
}

pub fn runs_per_month(interval_minutes: u32) -> f64 {
    30.0 * 24.0 * 60.0 / f64::from(interval_minutes.max(1))
}

/// One priced line of the month: `quantity` of `unit` at `price` each, `free` of them in AWS's
/// always-free tier.
#[derive(Debug, Clone)]
pub struct Line {
    pub service: &'static str,
    pub what: String,
    pub quantity: f64,
    pub price: f64,
    pub free: f64,
}

impl Line {
    pub fn usd(&self) -> f64 {
        self.quantity * self.price
    }

    pub fn usd_after_free_tier(&self) -> f64 {
        (self.quantity - self.free).max(0.0) * self.price
    }
}

/// Billed seconds of one SQS-triggered invocation: the handler time measured on the embedded
/// store plus the in-region round trips of its requests.
fn stage_seconds(stage: &StageCounts) -> f64 {
    let requests = (stage.blobs.puts + stage.blobs.gets + stage.blobs.heads + stage.blobs.lists)
        as f64
        * S3_REQUEST_S
        + (stage.table.reads() + stage.table.writes()) as f64 * DYNAMO_REQUEST_S;
    stage.handler_time.as_secs_f64() + requests
}

/// The month, line by line: the steady-state cycle scaled per source to the model's sources
/// and runs. The scrape function is assumed cold at every run (15 minutes apart), so its
/// start-up requests (the registry digest's read) count every run.
pub fn monthly_lines(model: &Model, measured: &Measured, prices: &Prices) -> Vec<Line> {
    let cycle = &measured.steady;
    let scale = if cycle.sources == 0 {
        0.0
    } else {
        model.sources as f64 / cycle.sources as f64
    };
    let runs = model.runs_per_month;
    let per_month = |n: f64| n * scale * runs;
    let stages = [&cycle.scrape, &cycle.normalize, &cycle.reconcile];

    let sqs_invocations =
        per_month((cycle.normalize.invocations + cycle.reconcile.invocations) as f64);
    let invocations = runs + sqs_invocations + model.api_requests as f64;

    // The scrape run waits on its busiest host's gate: that host's fetches, 1 s apart.
    let scrape_seconds = (model.busiest_host_share * model.sources as f64 * PER_HOST_INTERVAL_S
        + cycle.scrape.handler_time.as_secs_f64() * scale)
        .min(SCRAPE_TIMEOUT_S);
    let sqs_seconds: f64 = [&cycle.normalize, &cycle.reconcile]
        .iter()
        .map(|s| per_month(stage_seconds(s)))
        .sum();
    let api_seconds = model.api_requests as f64 * 0.05;
    let gb_seconds = FUNCTION_GB * (scrape_seconds * runs + sqs_seconds + api_seconds);

    let s3_puts: f64 = stages
        .iter()
        .map(|s| per_month((s.blobs.puts + s.blobs.lists) as f64))
        .sum();
    let s3_gets: f64 = stages
        .iter()
        .map(|s| per_month((s.blobs.gets + s.blobs.heads) as f64))
        .sum();
    let s3_bytes: f64 = stages
        .iter()
        .map(|s| per_month(s.blobs.put_bytes as f64))
        .sum();

    let cold = &measured.cold_start.units;
    let rru: f64 = stages.iter().map(|s| per_month(s.units.read)).sum::<f64>() + cold.read * runs;
    let wru: f64 = stages.iter().map(|s| per_month(s.units.write)).sum::<f64>() + cold.write * runs;
    let table_gb = per_month(cycle.changed as f64) * TABLE_BYTES_PER_CHANGED_SOURCE / 1e9;

    let messages = per_month((cycle.normalize.messages + cycle.reconcile.messages) as f64);
    // Per message: S3's send; per batch: the poller's receive and the batch delete.
    let sqs_requests = messages + 2.0 * sqs_invocations + SQS_IDLE_POLLS_PER_QUEUE * QUEUES_POLLED;

    let log_gb = (invocations * LOG_BYTES_PER_INVOCATION
        + model.sources as f64 * runs * LOG_BYTES_PER_SOURCE_RUN)
        / 1e9;

    vec![
        Line {
            service: "Lambda",
            what: format!(
                "requests ({runs:.0} scrape runs, {sqs_invocations:.0} SQS batches, {} API)",
                model.api_requests
            ),
            quantity: invocations,
            price: prices.lambda_request,
            free: 1e6,
        },
        Line {
            service: "Lambda",
            what: format!("GB-seconds arm64 256 MB (scrape {scrape_seconds:.0} s/run)"),
            quantity: gb_seconds,
            price: prices.lambda_gb_second_arm,
            free: 400_000.0,
        },
        Line {
            service: "S3",
            what: "PUT and LIST requests".into(),
            quantity: s3_puts,
            price: prices.s3_put,
            free: 0.0,
        },
        Line {
            service: "S3",
            what: "GET and HEAD requests".into(),
            quantity: s3_gets,
            price: prices.s3_get,
            free: 0.0,
        },
        Line {
            service: "S3",
            what: "GB stored (one month's objects)".into(),
            quantity: s3_bytes / 1e9,
            price: prices.s3_gb_month,
            free: 0.0,
        },
        Line {
            service: "DynamoDB",
            what: "read request units".into(),
            quantity: rru,
            price: prices.dynamo_rru,
            free: 0.0,
        },
        Line {
            service: "DynamoDB",
            what: "write request units (GSI copies)".into(),
            quantity: wru,
            price: prices.dynamo_wru,
            free: 0.0,
        },
        Line {
            service: "DynamoDB",
            what: "GB stored".into(),
            quantity: table_gb,
            price: prices.dynamo_gb_month,
            free: 25.0,
        },
        Line {
            service: "SQS",
            what: "requests (sends, receives, deletes, idle long polls)".into(),
            quantity: sqs_requests,
            price: prices.sqs_request,
            free: 1e6,
        },
        Line {
            service: "API Gateway",
            what: "HTTP API requests".into(),
            quantity: model.api_requests as f64,
            price: prices.http_api_request,
            free: 0.0,
        },
        Line {
            service: "CloudWatch",
            what: "custom metrics (EMF)".into(),
            quantity: custom_metrics() as f64,
            price: prices.cw_metric_month,
            free: 10.0,
        },
        Line {
            service: "CloudWatch",
            what: "alarm metrics".into(),
            quantity: ALARM_METRICS,
            price: prices.cw_alarm_metric_month,
            free: 10.0,
        },
        Line {
            service: "CloudWatch",
            what: "GB of logs ingested".into(),
            quantity: log_gb,
            price: prices.cw_logs_gb,
            free: 5.0,
        },
    ]
}

// ---- printing ------------------------------------------------------------------------------

fn print_cycle(title: &str, c: &CycleCounts) {
    println!(
        "{title}: {} sources, {} changed, {} fetches",
        c.sources, c.changed, c.fetches
    );
    println!(
        "  {:<10} {:>6} {:>6} {:>9} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "function",
        "invoc",
        "msgs",
        "s3 put",
        "s3 get",
        "s3 list",
        "tbl rd",
        "tbl wr",
        "RRU",
        "WRU",
        "ms local"
    );
    for (name, s) in [
        ("scrape", &c.scrape),
        ("normalize", &c.normalize),
        ("reconcile", &c.reconcile),
    ] {
        println!(
            "  {:<10} {:>6} {:>6} {:>9} {:>7} {:>7} {:>8} {:>8} {:>9.1} {:>9.1} {:>9}",
            name,
            s.invocations,
            s.messages,
            s.blobs.puts,
            s.blobs.gets + s.blobs.heads,
            s.blobs.lists,
            s.table.reads(),
            s.table.writes(),
            s.units.read,
            s.units.write,
            s.handler_time.as_millis()
        );
    }
    // The DynamoDB requests the calls make, by operation, as the DynamoDB adapter sends them.
    for (name, s) in [
        ("scrape", &c.scrape),
        ("normalize", &c.normalize),
        ("reconcile", &c.reconcile),
    ] {
        if !s.dynamo_requests.is_empty() {
            let requests: Vec<String> = s
                .dynamo_requests
                .iter()
                .map(|(op, n)| format!("{op} {n}"))
                .collect();
            println!("  {name:<10} DynamoDB: {}", requests.join(", "));
        }
    }
    // On the AWS path: the S3 and DynamoDB requests the stages sent.
    let wire: Vec<String> = [
        ("scrape", &c.scrape),
        ("normalize", &c.normalize),
        ("reconcile", &c.reconcile),
    ]
    .iter()
    .filter(|(_, s)| !s.requests.is_empty())
    .map(|(name, s)| format!("{name} {}", s.requests.values().sum::<usize>()))
    .collect();
    if !wire.is_empty() {
        println!("  requests on the wire: {}", wire.join(", "));
    }
    println!();
}

fn print_lines(model: &Model, lines: &[Line]) {
    println!(
        "monthly model: {} sources every run, {:.0} runs a month, {} API requests (us-east-1 list prices, 2025)",
        model.sources, model.runs_per_month, model.api_requests
    );
    println!(
        "  {:<12} {:<62} {:>14} {:>12} {:>9} {:>10}",
        "service", "what", "quantity", "unit USD", "USD", "after free"
    );
    for line in lines {
        println!(
            "  {:<12} {:<62} {:>14.1} {:>12.8} {:>9.2} {:>10.2}",
            line.service,
            line.what,
            line.quantity,
            line.price,
            line.usd(),
            line.usd_after_free_tier()
        );
    }
    let total: f64 = lines.iter().map(Line::usd).sum();
    let after: f64 = lines.iter().map(Line::usd_after_free_tier).sum();
    println!("  total: {total:.2} USD a month ({after:.2} USD after the always-free tier)");
    if let Some(top) = lines.iter().max_by(|a, b| a.usd().total_cmp(&b.usd())) {
        println!(
            "  largest line: {} {} ({:.2} USD)",
            top.service,
            top.what,
            top.usd()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn item(value: Value) -> Item {
        match value {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn meters_units_as_dynamodb_bills_them() {
        let table = MeteredTable::new(SqliteTable::in_memory().unwrap());
        // 2.5 KB in the table and in GSI1: 3 WRU twice.
        let big = item(
            json!({"pk": "a", "sk": "1", "gsi1pk": "g", "gsi1sk": "1", "body": "x".repeat(2500)}),
        );
        table.put(big, Condition::None).await.unwrap();
        assert_eq!(table.units().write, 6.0);
        // A strongly consistent get of it: one 4 KB step; a miss still costs one.
        table.get(&Key::new("a", "1")).await.unwrap();
        table.get(&Key::new("a", "missing")).await.unwrap();
        assert_eq!(table.units().read, 2.0);
        // A GSI query is eventually consistent: half.
        table
            .query(Query::partition(Index::Gsi1, "g"))
            .await
            .unwrap();
        assert_eq!(table.units().read, 2.5);
        // A batch get is one call to the store, billed per key like gets: 1 + 1.
        table.reset();
        let found = table
            .batch_get(&[Key::new("a", "1"), Key::new("a", "missing")])
            .await
            .unwrap();
        assert!(found[0].is_some() && found[1].is_none());
        assert_eq!(table.units().read, 2.0);
        table.reset();
        table
            .transact_write(vec![TransactOp::Put {
                item: item(json!({"pk": "b", "sk": "1"})),
                condition: Condition::Absent,
            }])
            .await
            .unwrap();
        assert_eq!(
            table.units(),
            RequestUnits {
                read: 0.0,
                write: 2.0
            }
        );
    }

    #[test]
    fn the_model_scales_the_steady_cycle_and_applies_the_free_tier() {
        let stage = |invocations, puts, wru| StageCounts {
            invocations,
            messages: invocations * 10,
            blobs: BlobCounts {
                puts,
                ..BlobCounts::default()
            },
            units: RequestUnits {
                read: 0.0,
                write: wru,
            },
            ..StageCounts::default()
        };
        let measured = Measured {
            steady: CycleCounts {
                sources: 100,
                changed: 5,
                fetches: 100,
                scrape: stage(1, 5, 100.0),
                normalize: stage(1, 5, 0.0),
                reconcile: stage(1, 0, 50.0),
            },
            ..Measured::default()
        };
        let model = Model {
            sources: 800,
            runs_per_month: runs_per_month(15),
            api_requests: 0,
            busiest_host_share: 0.5,
        };
        assert_eq!(model.runs_per_month, 2880.0);
        let lines = monthly_lines(&model, &measured, &PRICES_US_EAST_1);
        let line = |what: &str| lines.iter().find(|l| l.what.starts_with(what)).unwrap();
        // 10 puts per 100 sources, 8x the sources, 2880 runs.
        assert_eq!(line("PUT").quantity, 10.0 * 8.0 * 2880.0);
        assert_eq!(line("write request units").quantity, 150.0 * 8.0 * 2880.0);
        // 400 s of busiest-host fetches is cut at the function's timeout.
        assert!(line("GB-seconds").what.contains("scrape 300 s/run"));
        // 10 declared metrics (scrape 5, reconcile 5): the free 10.
        let metrics = line("custom metrics");
        assert!((metrics.usd() - 3.0).abs() < 1e-9);
        assert_eq!(metrics.usd_after_free_tier(), 0.0);
    }
}
