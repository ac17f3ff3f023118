//! The cost cycles on the AWS path: the same two cycles as `pantau cost` (recorded sources on
//! loopback, the real scraper and stage handlers), with the real S3 and DynamoDB adapters
//! (`store::s3`, `store::dynamo`) against moto instead of the embedded store.
//!
//! Counted twice over: by the same decorators as on the embedded store (`CountingTable`,
//! `MeteredTable`, `CountingBlobStore`: calls of the ports, so the two paths compare one to
//! one), and on the wire by [`RequestTally`], an SDK interceptor that counts every HTTP request
//! the clients send by API operation (`GetItem`, `BatchWriteItem`, `PutObject`, ...), retries
//! included: what AWS bills.
//!
//! - `cost_on_moto_counts_what_the_embedded_store_counts` (in `make test`): a few sources, the
//!   first cycle, on both paths; the ports' counts must be equal and the wire's must follow
//!   from them.
//! - `cost_on_moto_at_1x_and_2x_the_fleet` (`make cost-aws`, ignored): both cycles at the
//!   registry as is (134 missions) and the registry twice (`pantau_tests::scale::fleet_registry`)
//!   on the embedded store, and on moto at 1x (`PANTAU_COST_MOTO_FACTORS`); prints the
//!   per-stage counts, the differences, the archive's bytes per item (a scan of the table) and
//!   the month at 1x, 2x and 10x (10x extrapolated line by line from the growth 1x -> 2x).
//!   docs/cost.md has the results.
//!
//! The stages run one batch at a time (the in-process queue's worker) and the scraper one
//! source at a time. Inside a batch reconcile still sends a few requests concurrently, and
//! moto 5.2.5, which does not isolate transactions, answers some with a 500 ("dictionary
//! changed size during iteration") that the SDK retries: the tally counts those apart.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::AttributeValue;
use pantau::store::dynamo::{DynamoTable, from_attrs};
use pantau::store::s3::S3BlobStore;
use pantau_tests::moto::{MotoServer, sdk_config_for};
use pantau_tests::scale::fleet_registry;
use serde_json::Value;

use super::*;

// ---- counting on the wire ------------------------------------------------------------------

/// Every request the tapped SDK clients sent, by operation, since the last [`RequestTally::take`].
#[derive(Debug, Default)]
pub struct RequestTally {
    counts: Mutex<OperationCounts>,
}

impl RequestTally {
    pub fn take(&self) -> OperationCounts {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn add(&self, operation: String) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(operation)
            .or_default() += 1;
    }
}

/// The interceptor: called before each attempt is sent, so a retried request counts again.
#[derive(Debug, Clone)]
struct Tap(Arc<RequestTally>);

impl Intercept for Tap {
    fn name(&self) -> &'static str {
        "pantau-cost-request-tally"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        self.0.add(operation(
            request.method(),
            request.uri(),
            request.headers().get("x-amz-target"),
        ));
        Ok(())
    }

    /// A 5xx answer is retried by the SDK: its request was counted, and will be again.
    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if context.response().status().is_server_error() {
            self.0.add(SERVER_ERRORS.to_owned());
        }
        Ok(())
    }
}

/// Where the tally counts answers with a 5xx status (moto 5.2.5 answers some concurrent
/// transactions with a 500: "dictionary changed size during iteration").
const SERVER_ERRORS: &str = "5xx answers (retried)";

/// The API operation of a request: DynamoDB names it in `X-Amz-Target`
/// (`DynamoDB_20120810.GetItem`); S3's is its method and, for a listing, `list-type=2`.
fn operation(method: &str, uri: &str, target: Option<&str>) -> String {
    if let Some(target) = target {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let name = match method {
        "PUT" => "PutObject",
        "HEAD" => "HeadObject",
        "GET" if uri.contains("list-type=2") => "ListObjectsV2",
        "GET" => "GetObject",
        other => other,
    };
    name.to_owned()
}

const S3_OPERATIONS: [&str; 4] = ["PutObject", "GetObject", "HeadObject", "ListObjectsV2"];
const DYNAMO_OPERATIONS: [&str; 8] = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "BatchWriteItem",
    "BatchGetItem",
    "TransactWriteItems",
];

fn count(requests: &OperationCounts, operation: &str) -> usize {
    requests.get(operation).copied().unwrap_or(0)
}

// ---- the worlds and the stores -------------------------------------------------------------

/// The recorded world at `factor` times the fleet: the registry pointed at `server` (so the
/// missions with an offline media feed have it), every mission copied `factor` times with its
/// sources, each copy's portal given the original's recorded publications (so a copy is as
/// busy as its original), and the sources the server cannot answer dropped.
fn fleet_world(server: &OfflineServer, factor: usize) -> anyhow::Result<Registry> {
    let mut base = Registry::load_default()?;
    offline::point_registry_at(&mut base, server.base_url());
    let mut registry = fleet_registry(&base, factor);
    for copy in registry.missions.iter().skip(base.missions.len()) {
        let Some((original, _)) = copy.id.rsplit_once("-x") else {
            continue;
        };
        // `publish` puts each on top: oldest first keeps the original's order.
        for publication in server.publications(original).into_iter().rev() {
            let Value::Object(mut publication) = publication else {
                continue;
            };
            publication.remove("id");
            publication.insert("portal".into(), json!(copy.id));
            server.publish(&copy.id, Value::Object(publication));
        }
    }
    offline::retain_served_sources(&mut registry, server.base_url());
    Ok(registry)
}

/// The same world, smaller: the first `missions` missions that have recorded publications,
/// without headquarters' and the global sources.
fn few_sources(server: &OfflineServer, missions: usize) -> anyhow::Result<Registry> {
    let mut registry = fleet_world(server, 1)?;
    registry
        .missions
        .retain(|m| !server.publications(&m.id).is_empty());
    registry.missions.truncate(missions);
    registry.hq_sources.clear();
    registry.global_sources.clear();
    Ok(registry)
}

const TABLE: &str = "pantau-cost";
const BUCKET: &str = "pantau-cost";

/// S3 and DynamoDB clients for moto, both tapped by one tally. They try a request up to 10
/// times (the SDK's default is 3): moto answers some transactions with a 500 (see the module
/// doc), three in a row now and then, and a call that fails for good makes the queue redeliver
/// its message, which the embedded store would not do. DynamoDB does not answer that way.
async fn tapped_clients(
    moto: &MotoServer,
) -> (aws_sdk_s3::Client, aws_sdk_dynamodb::Client, TakeRequests) {
    let config = sdk_config_for(moto.endpoint()).await;
    let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(10);
    let tally = Arc::new(RequestTally::default());
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .retry_config(retry.clone())
            .interceptor(Tap(tally.clone()))
            .build(),
    );
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .retry_config(retry)
            .interceptor(Tap(tally.clone()))
            .build(),
    );
    (s3, dynamodb, Arc::new(move || tally.take()))
}

/// The cycles on moto: a fresh bucket and table, the AWS adapters inside the counters.
async fn measure_on_moto(
    moto: &MotoServer,
    server: &OfflineServer,
    registry: Registry,
    changed_share: f64,
    cycles: Cycles,
) -> anyhow::Result<Measured> {
    let (s3, dynamodb, take) = tapped_clients(moto).await;
    let blobs = S3BlobStore::new(s3, BUCKET);
    blobs.create_bucket_if_missing().await?;
    let table = DynamoTable::new(dynamodb, TABLE);
    table.create_table_if_missing().await?;
    take(); // the setup's requests
    let counted = Counted::new(table, blobs, Some(take));
    measure_on(&counted, server, registry, changed_share, cycles).await
}

/// The same cycles on a fresh embedded store in a temporary folder; what its table holds
/// after them.
async fn measure_embedded(
    server: &OfflineServer,
    registry: Registry,
    changed_share: f64,
    cycles: Cycles,
) -> anyhow::Result<(Measured, Census)> {
    let dir = tempfile::tempdir()?;
    let counted = Counted::new(
        SqliteTable::open(&dir.path().join("pantau.sqlite"))?,
        DiskBlobStore::new(dir.path().join("bucket"))?,
        None,
    );
    let measured = measure_on(&counted, server, registry, changed_share, cycles).await?;
    let mut census = Census::default();
    for item in counted.table.inner().inner().dump().await? {
        census.add(&item);
    }
    Ok((measured, census))
}

// ---- the archive ---------------------------------------------------------------------------

/// What moto's table holds, by record family (the `pk` up to its first `#`): records and
/// bytes as DynamoDB sizes them (`rules::item_size`).
#[derive(Debug, Default)]
struct Census {
    families: BTreeMap<String, (usize, usize)>,
    /// News items: `ITEM#…` / `CURRENT` records.
    items: usize,
}

impl Census {
    /// Bytes that grow with the archive: everything but the registry's records, the source
    /// states (one per source, overwritten every run) and the processed markers (TTL: gone
    /// after a while).
    fn archive_bytes(&self) -> usize {
        self.families
            .iter()
            .filter(|(family, _)| !["MISSION", "REGISTRY", "DONE"].contains(&family.as_str()))
            .map(|(_, (_, bytes))| bytes)
            .sum()
    }

    fn bytes(&self) -> usize {
        self.families.values().map(|(_, bytes)| bytes).sum()
    }
}

impl Census {
    fn add(&mut self, item: &Item) {
        let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default();
        let family = text("pk").split('#').next().unwrap_or_default().to_owned();
        if family == "ITEM" && text("sk") == "CURRENT" {
            self.items += 1;
        }
        let entry = self.families.entry(family).or_default();
        entry.0 += 1;
        entry.1 += item_size(item);
    }
}

/// Scans moto's whole table (a client of its own, so the tally does not see it).
async fn census(moto: &MotoServer) -> anyhow::Result<Census> {
    let client = moto.dynamodb().await;
    let mut census = Census::default();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = client
            .scan()
            .table_name(TABLE)
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        for attrs in page.items() {
            census.add(&from_attrs(attrs)?);
        }
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    Ok(census)
}

// ---- the month at 10x ----------------------------------------------------------------------

/// Each line's quantity at `factor` times the fleet, on the straight line through its values
/// at 1x and 2x (the month is linear in the cycle's counts, so extrapolating the lines is
/// extrapolating the counts). A line that did not grow stays as it is.
fn extrapolate_lines(at_1x: &[Line], at_2x: &[Line], factor: f64) -> Vec<Line> {
    at_1x
        .iter()
        .zip(at_2x)
        .map(|(one, two)| Line {
            quantity: (one.quantity + (two.quantity - one.quantity) * (factor - 1.0)).max(0.0),
            // The figures in a line's description are the measured size's.
            what: two.what.split(" (").next().unwrap_or_default().to_owned(),
            ..one.clone()
        })
        .collect()
}

/// The archive's storage at month `months`, as two more lines: every news item's records in
/// the table (bytes per item measured on moto's table, see [`Census::archive_bytes`]) and every
/// object kept in the bucket (the steady cycle's object bytes), at the model's scale. New
/// items per cycle: the portals that published one (`changed_share` of the missions), scaled
/// like the other counts. Objects are priced at STANDARD (they move to STANDARD_IA after
/// `RawToIaDays`, so this errs high) and the table's processed markers, which expire, are left out.
fn archive_lines(
    model: &Model,
    measured: &Measured,
    table: &Census,
    new_items_per_cycle: usize,
    months: f64,
    prices: &Prices,
) -> Vec<Line> {
    let cycle = &measured.steady;
    let scale = model.sources as f64 / cycle.sources.max(1) as f64;
    let cycles = model.runs_per_month * months * scale;
    let bytes_per_item = table.archive_bytes() as f64 / table.items.max(1) as f64;
    let object_bytes: u64 = stages(cycle).iter().map(|(_, s)| s.blobs.put_bytes).sum();
    vec![
        Line {
            service: "DynamoDB",
            what: format!(
                "GB-month, the archive at month {months:.0} ({bytes_per_item:.0} B per item)"
            ),
            quantity: new_items_per_cycle as f64 * cycles * bytes_per_item / 1e9,
            price: prices.dynamo_gb_month,
            free: 25.0,
        },
        Line {
            service: "S3",
            what: format!("GB-month, the objects at month {months:.0} (STANDARD)"),
            quantity: object_bytes as f64 * cycles / 1e9,
            price: prices.s3_gb_month,
            free: 0.0,
        },
    ]
}

// ---- printing ------------------------------------------------------------------------------

/// Per stage: S3 requests and DynamoDB requests by operation, as sent on the wire, and the
/// request units.
fn print_wire(title: &str, c: &CycleCounts) {
    let wire = stages(c).iter().any(|(_, s)| !s.requests.is_empty());
    println!(
        "{title}, requests {}:",
        if wire {
            "on the wire"
        } else {
            "as the AWS adapters would send them"
        }
    );
    print!("  {:<10}", "function");
    for op in S3_OPERATIONS.iter().chain(&DYNAMO_OPERATIONS) {
        print!(" {:>w$}", short(op), w = short(op).len().max(6));
    }
    println!(" {:>9} {:>9}", "RRU", "WRU");
    for (name, s) in stages(c) {
        let requests = requests_of(s);
        print!("  {name:<10}");
        for op in S3_OPERATIONS.iter().chain(&DYNAMO_OPERATIONS) {
            print!(" {:>w$}", count(&requests, op), w = short(op).len().max(6));
        }
        println!(" {:>9.1} {:>9.1}", s.units.read, s.units.write);
    }
    print!("  {:<10}", "total");
    for op in S3_OPERATIONS.iter().chain(&DYNAMO_OPERATIONS) {
        let total: usize = stages(c)
            .iter()
            .map(|(_, s)| count(&requests_of(s), op))
            .sum();
        print!(" {:>w$}", total, w = short(op).len().max(6));
    }
    let units = stages(c).iter().fold((0.0, 0.0), |(r, w), (_, s)| {
        (r + s.units.read, w + s.units.write)
    });
    println!(" {:>9.1} {:>9.1}", units.0, units.1);
    let other: Vec<String> = stages(c)
        .iter()
        .flat_map(|(_, s)| requests_of(s).into_iter())
        .filter(|(op, _)| !S3_OPERATIONS.contains(&op.as_str()))
        .filter(|(op, _)| !DYNAMO_OPERATIONS.contains(&op.as_str()))
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    if !other.is_empty() {
        println!("  other operations: {}", other.join(", "));
    }
    println!();
}

fn short(operation: &str) -> &str {
    match operation {
        "PutObject" => "s3 PUT",
        "GetObject" => "s3 GET",
        "HeadObject" => "s3 HEAD",
        "ListObjectsV2" => "s3 LIST",
        "TransactWriteItems" => "TransactWrite",
        other => other,
    }
}

fn stages(c: &CycleCounts) -> [(&'static str, &StageCounts); 3] {
    [
        ("scrape", &c.scrape),
        ("normalize", &c.normalize),
        ("reconcile", &c.reconcile),
    ]
}

/// Where the ports' counts on moto differ from the embedded store's, stage by stage.
fn differences(embedded: &CycleCounts, moto: &CycleCounts) -> Vec<String> {
    let mut out = Vec::new();
    for ((name, e), (_, m)) in stages(embedded).iter().zip(stages(moto)) {
        if e.table != m.table {
            out.push(format!(
                "{name}: table {:?} embedded, {:?} moto",
                e.table, m.table
            ));
        }
        let blob_calls = |b: &BlobCounts| (b.puts, b.gets, b.heads, b.lists);
        if blob_calls(&e.blobs) != blob_calls(&m.blobs) {
            out.push(format!(
                "{name}: objects (put, get, head, list) {:?} embedded, {:?} moto",
                blob_calls(&e.blobs),
                blob_calls(&m.blobs)
            ));
        }
        if (e.units.read - m.units.read).abs() > 1e-9
            || (e.units.write - m.units.write).abs() > 1e-9
        {
            out.push(format!(
                "{name}: units {:.1} RRU {:.1} WRU embedded, {:.1} RRU {:.1} WRU moto",
                e.units.read, e.units.write, m.units.read, m.units.write
            ));
        }
    }
    out
}

/// The requests a stage sent, by operation: on the AWS path as counted on the wire; on the
/// embedded store as the adapters would send them for the calls made (S3: one per object
/// call; DynamoDB: `MeteredTable`'s count).
fn requests_of(s: &StageCounts) -> OperationCounts {
    if !s.requests.is_empty() {
        return s.requests.clone();
    }
    predicted(s)
}

fn predicted(s: &StageCounts) -> OperationCounts {
    let mut out = s.dynamo_requests.clone();
    for (op, n) in
        S3_OPERATIONS
            .iter()
            .zip([s.blobs.puts, s.blobs.gets, s.blobs.heads, s.blobs.lists])
    {
        if n > 0 {
            out.insert((*op).to_owned(), n);
        }
    }
    out
}

/// Where the wire's counts differ from what the calls predict: every operation must have
/// been sent as often as predicted, more only by the requests retried after a 5xx answer
/// (unprocessed batch items, a call the adapter splits differently, a retry for another
/// reason would show here).
fn wire_mismatches(name: &str, s: &StageCounts) -> Vec<String> {
    let expected = predicted(s);
    let operations: std::collections::BTreeSet<&String> = expected
        .keys()
        .chain(s.requests.keys())
        .filter(|op| op.as_str() != SERVER_ERRORS)
        .collect();
    let mut out: Vec<String> = operations
        .iter()
        .filter(|op| count(&s.requests, op) < count(&expected, op))
        .map(|op| {
            format!(
                "{name}: {op} {} on the wire, {} predicted",
                count(&s.requests, op),
                count(&expected, op)
            )
        })
        .collect();
    let extra: usize = operations
        .iter()
        .map(|op| count(&s.requests, op).saturating_sub(count(&expected, op)))
        .sum();
    if extra != count(&s.requests, SERVER_ERRORS) {
        out.push(format!(
            "{name}: {extra} requests more than predicted, {} answered 5xx",
            count(&s.requests, SERVER_ERRORS)
        ));
    }
    out
}

// ---- the tests -----------------------------------------------------------------------------

fn moto_or_skip() -> Option<MotoServer> {
    match MotoServer::start() {
        Ok(moto) => Some(moto),
        Err(e) => {
            println!("skipped: no moto server ({e:#}); run `make test-setup`");
            None
        }
    }
}

/// A few sources, the first cycle: the ports see the same calls on moto as on the embedded
/// store, and the wire carries what those calls imply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_on_moto_counts_what_the_embedded_store_counts() {
    let Some(moto) = moto_or_skip() else {
        return;
    };
    let server = OfflineServer::start_loopback().await.unwrap();
    let registry = few_sources(&server, 1).unwrap();
    assert!(registry.sources().count() >= 3, "a few recorded sources");

    let (embedded, _) = measure_embedded(&server, registry.clone(), 0.0, Cycles::First)
        .await
        .unwrap();
    let on_moto = measure_on_moto(&moto, &server, registry, 0.0, Cycles::First)
        .await
        .unwrap();
    print_cycle("embedded, first cycle", &embedded.first);
    print_wire("moto, first cycle", &on_moto.first);

    let (e, m) = (&embedded.first, &on_moto.first);
    assert!(
        m.changed > 0 && m.changed == e.changed,
        "same sources changed"
    );
    assert_eq!(differences(e, m), Vec::<String>::new());
    let mismatches: Vec<String> = stages(m)
        .iter()
        .flat_map(|(name, stage)| wire_mismatches(name, stage))
        .collect();
    assert_eq!(mismatches, Vec::<String>::new());
    // Every stage sent requests, and the registry's sync too.
    assert!(count(&m.scrape.requests, "PutObject") > 0);
    assert!(count(&m.normalize.requests, "GetObject") > 0);
    assert!(m.reconcile.requests.values().sum::<usize>() > 0);
    assert!(on_moto.registry_deploy.requests.values().sum::<usize>() > 0);
    assert_eq!(
        on_moto.cold_start.requests,
        OperationCounts::from([("GetItem".to_owned(), 1)]),
        "a cold start reads the registry digest, nothing else"
    );
}

#[test]
fn operations_are_named_from_the_request() {
    assert_eq!(
        operation("POST", "/", Some("DynamoDB_20120810.TransactWriteItems")),
        "TransactWriteItems"
    );
    assert_eq!(
        operation("GET", "/b?list-type=2&prefix=raw", None),
        "ListObjectsV2"
    );
    assert_eq!(operation("GET", "/b/raw/x", None), "GetObject");
    assert_eq!(operation("HEAD", "/b/raw/x", None), "HeadObject");
    assert_eq!(operation("PUT", "/b/raw/x", None), "PutObject");
}

#[test]
fn lines_are_extrapolated_on_the_straight_line_through_1x_and_2x() {
    let line = |quantity| Line {
        service: "S3",
        what: "PUT".into(),
        quantity,
        price: 0.5,
        free: 10.0,
    };
    let at_10x = extrapolate_lines(&[line(100.0), line(7.0)], &[line(190.0), line(7.0)], 10.0);
    // 100 + 9 * 90; a fixed line stays fixed.
    assert_eq!(at_10x[0].quantity, 910.0);
    assert_eq!(at_10x[1].quantity, 7.0);
    assert_eq!(at_10x[0].usd_after_free_tier(), 450.0);
}

/// Both cycles at 1x and 2x the fleet on the embedded store, and on moto at the sizes in
/// `PANTAU_COST_MOTO_FACTORS` (`1`; `make cost-aws`). moto 5.2.5 copies the whole table for
/// every transaction and scans it for every GSI query, so its time grows with the square of
/// the work: at 1x it took over half an hour and ~10 GB on a shared 2-core machine, 2x would
/// take hours. The month is priced from the embedded store's counts at every size: moto's
/// call for call in the steady cycle where both ran (the comparison printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes on moto: make cost-aws"]
async fn cost_on_moto_at_1x_and_2x_the_fleet() {
    let changed_share = 0.05;
    let on_moto_at: Vec<usize> = std::env::var("PANTAU_COST_MOTO_FACTORS")
        .unwrap_or_else(|_| "1".into())
        .split(',')
        .filter_map(|f| f.trim().parse().ok())
        .collect();
    let mut months = Vec::new();
    let mut base_sources = 0;
    for factor in [1, 2] {
        let server = OfflineServer::start_loopback().await.unwrap();
        let registry = fleet_world(&server, factor).unwrap();
        let (missions, sources) = (registry.missions.len(), registry.sources().count());
        println!(
            "\n==== {factor}x the fleet: {missions} missions, {sources} sources served offline ====\n"
        );
        let started = Instant::now();
        let (embedded, embedded_table) =
            measure_embedded(&server, registry.clone(), changed_share, Cycles::Both)
                .await
                .unwrap();
        server.shutdown().await;
        println!("embedded store: {:.0} s", started.elapsed().as_secs_f64());
        print_cycle("embedded, first cycle", &embedded.first);
        print_wire("embedded, first cycle", &embedded.first);
        print_cycle("embedded, steady-state cycle", &embedded.steady);
        print_wire("embedded, steady-state cycle", &embedded.steady);
        println!(
            "embedded, registry deployed: {:?}; cold start: {:?}",
            embedded.registry_deploy.dynamo_requests, embedded.cold_start.dynamo_requests
        );

        // Priced from the embedded store's counts at every size: the same calls as moto's in
        // the steady cycle, and handler times that are not moto's (moto's slowness would bill
        // Lambda seconds AWS does not take).
        let table = if on_moto_at.contains(&factor) {
            // A fresh world (the first run's publications are in the old one) and a fresh moto.
            let Some(moto) = moto_or_skip() else {
                return;
            };
            let server = OfflineServer::start_loopback().await.unwrap();
            let registry = fleet_world(&server, factor).unwrap();
            let started = Instant::now();
            let on_moto = measure_on_moto(&moto, &server, registry, changed_share, Cycles::Both)
                .await
                .unwrap();
            server.shutdown().await;
            println!(
                "moto: {:.0} s (moto's speed says nothing about AWS's)",
                started.elapsed().as_secs_f64()
            );
            print_cycle("moto, first cycle (ports)", &on_moto.first);
            print_wire("moto, first cycle", &on_moto.first);
            print_cycle("moto, steady-state cycle (ports)", &on_moto.steady);
            print_wire("moto, steady-state cycle", &on_moto.steady);
            for (title, m) in [
                ("registry deployed", &on_moto.registry_deploy),
                ("cold start", &on_moto.cold_start),
            ] {
                println!("moto, {title}: {:?}", m.requests);
            }
            for (cycle, e, m) in [
                ("first", &embedded.first, &on_moto.first),
                ("steady", &embedded.steady, &on_moto.steady),
            ] {
                let diff = differences(e, m);
                println!(
                    "{cycle} cycle, moto against embedded: {}",
                    if diff.is_empty() {
                        "the same calls".to_owned()
                    } else {
                        diff.join("; ")
                    }
                );
                let mismatches: Vec<String> = stages(m)
                    .iter()
                    .flat_map(|(name, stage)| wire_mismatches(name, stage))
                    .collect();
                println!(
                    "{cycle} cycle, wire against the calls: {}",
                    if mismatches.is_empty() {
                        "as predicted".to_owned()
                    } else {
                        mismatches.join("; ")
                    }
                );
            }
            census(&moto).await.unwrap()
        } else {
            println!("(not on moto at {factor}x)");
            embedded_table
        };
        let priced = embedded;

        let put_bytes =
            |c: &CycleCounts| -> u64 { stages(c).iter().map(|(_, s)| s.blobs.put_bytes).sum() };
        println!(
            "\ntable after both cycles: {} records, {:.1} MB; {} news items; archive {:.0} bytes per item in the table; objects written: first cycle {:.1} MB ({:.0} bytes per item), steady cycle {:.0} KB",
            table.families.values().map(|(n, _)| n).sum::<usize>(),
            table.bytes() as f64 / 1e6,
            table.items,
            table.archive_bytes() as f64 / table.items.max(1) as f64,
            put_bytes(&priced.first) as f64 / 1e6,
            put_bytes(&priced.first) as f64 / table.items.max(1) as f64,
            put_bytes(&priced.steady) as f64 / 1e3,
        );
        for (family, (records, bytes)) in &table.families {
            println!("  {family:<12} {records:>7} records {bytes:>10} bytes");
        }

        // The month at the brief's 800 sources for the registry as is, growing with the fleet.
        if factor == 1 {
            base_sources = priced.steady.sources;
        }
        let model = Model {
            sources: 800 * priced.steady.sources / base_sources.max(1),
            runs_per_month: runs_per_month(15),
            api_requests: 2000 * 30,
            busiest_host_share: HostShare::of(&fleet_registry(
                &Registry::load_default().unwrap(),
                factor,
            ))
            .busiest_share,
        };
        let mut lines = monthly_lines(&model, &priced, &PRICES_US_EAST_1);
        let new_items = ((missions as f64) * changed_share).round() as usize;
        lines.extend(archive_lines(
            &model,
            &priced,
            &table,
            new_items,
            12.0,
            &PRICES_US_EAST_1,
        ));
        println!();
        print_lines(&model, &lines);
        months.push((model, lines));
    }
    let (_, at_1x) = &months[0];
    let (model_2x, at_2x) = &months[1];
    let at_10x = extrapolate_lines(at_1x, at_2x, 10.0);
    let model_10x = Model {
        sources: 800 + (model_2x.sources - 800) * 9,
        ..*model_2x
    };
    println!("\n10x the fleet, extrapolated line by line from 1x and 2x:");
    print_lines(&model_10x, &at_10x);
}
