//! `pantau run`: the scheduler, the three stages and the API in one process, on the embedded
//! store (an SQLite file and a folder under the data directory).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use futures::FutureExt;
use pantau::api::{ApiConfig, ApiState, router};
use pantau::fetch::{FetchPolicy, Fetcher};
use pantau::hq::trigger::{HqImporter, split_event};
use pantau::normalize::Normalizer;
use pantau::offline::{self, OfflineServer};
use pantau::reconcile::{Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::scrape::{ScrapeConfig, Scraper};
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::{BlobStore, Table};

use crate::queue::{Handler, NotifyingBlobStore, Queue, work};

/// The host every mission portal's data comes from; if it cannot be reached, nothing can.
const PORTAL_API_HOST: &str = "backpanel.kemlu.go.id";

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Serve recorded sources from loopback instead of the real ones (no network needed).
    #[arg(long)]
    pub offline: bool,
    /// Where the SQLite file and the object folder live.
    #[arg(long, env = "PANTAU_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Address of the API and dashboard.
    #[arg(long, env = "PANTAU_LISTEN", default_value_t = crate::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// A registry file instead of the built-in one.
    #[arg(long, env = "PANTAU_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Seconds between scheduler ticks (each tick fetches only the sources that are due).
    #[arg(long, default_value_t = 30)]
    pub tick_seconds: u64,
    /// Run one scrape cycle, wait for the stages to settle, print a summary and exit.
    #[arg(long)]
    pub once: bool,
    /// A page (or mailto:) saying who runs this Pantau, named in the User-Agent.
    #[arg(long, env = pantau::fetch::CONTACT_URL_ENV)]
    pub contact_url: Option<String>,
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_logging();
    let mut registry = match &args.registry {
        Some(path) => Registry::load_file(path)?,
        None => Registry::load_default()?,
    };
    // ReliefWeb when PANTAU_RELIEFWEB_APPNAME is set (offline, it is dropped: not recorded).
    registry.add_configured_sources();

    // Offline: recorded responses on loopback, and the registry pointed at them.
    let mut _offline: Option<OfflineServer> = None;
    if args.offline {
        let server = OfflineServer::start_loopback()
            .await
            .context("starting the offline source server")?;
        offline::point_registry_at(&mut registry, server.base_url());
        // Sources with no recording (live feeds an operator added) would only fail offline.
        offline::retain_served_sources(&mut registry, server.base_url());
        println!(
            "offline mode: recorded sources served at {}",
            server.base_url()
        );
        _offline = Some(server);
    } else {
        check_network().await?;
    }
    let registry = Arc::new(registry);

    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    let table_path = args.data_dir.join("pantau.sqlite");
    let bucket_path = args.data_dir.join("bucket");
    let table: Arc<dyn Table> = Arc::new(
        SqliteTable::open(&table_path)
            .with_context(|| format!("opening {}", table_path.display()))?,
    );
    let disk: Arc<dyn BlobStore> = Arc::new(DiskBlobStore::new(&bucket_path)?);
    let missions = sync_registry(table.as_ref(), &registry).await?;

    // S3 notifications and SQS, in process: the same event JSON the Lambdas receive.
    let (raw_queue, raw_rx) = Queue::new("normalize");
    let (items_queue, items_rx) = Queue::new("reconcile");
    let blobs: Arc<dyn BlobStore> = Arc::new(NotifyingBlobStore {
        inner: disk,
        raw: raw_queue.clone(),
        items: items_queue.clone(),
    });
    let (normalize, reconcile) = stage_handlers(&blobs, &table, &registry);
    let dead_letters = args.data_dir.join("dead-letters.jsonl");
    let (raw_queue_handle, items_queue_handle) = (raw_queue.clone(), items_queue.clone());
    let workers = [
        tokio::spawn(work(raw_queue, raw_rx, normalize, dead_letters.clone())),
        tokio::spawn(work(items_queue, items_rx, reconcile, dead_letters.clone())),
    ];

    let scraper = scraper(
        &registry,
        &blobs,
        &table,
        args.offline,
        args.contact_url.as_deref(),
    )?;
    // Alerts: the channels PANTAU_ALERT_* configure, the console when none is; reconcile's
    // crisis hook delivers through them at once, the scheduler after each cycle.
    let mut channels = pantau::alerts::Channels::from_env().await;
    if channels.0.is_empty() {
        channels
            .0
            .push(Arc::new(pantau::alerts::channels::console::ConsoleChannel));
    }
    pantau::alerts::install_channels(channels.clone());
    let alerts = pantau::alerts::AlertStep::new(table.clone(), registry.clone(), channels);

    println!(
        "data: {} (table) and {} (objects); {} missions, {} sources",
        table_path.display(),
        bucket_path.display(),
        missions,
        registry.sources().count()
    );

    // Headquarters' files put under data/bucket/hq/ by hand (not through the store).
    let hq_importer = HqImporter {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    let hq_folder = bucket_path.join("hq");
    import_hq_files(&hq_importer, &hq_folder).await;

    if args.once {
        let report = scraper.run_cycle(chrono::Utc::now()).await;
        print_cycle(&report);
        settle(&[&raw_queue_handle, &items_queue_handle]).await;
        print_stages(&raw_queue_handle, &items_queue_handle, &dead_letters);
        drop(workers);
        return Ok(());
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let state = ApiState::new(table.clone(), registry.clone(), &ApiConfig::from_env()?)
        .await
        .context("preparing the API")?;
    crate::keys::first_start_key(table.as_ref()).await?;
    let app = router(state);
    println!("API and dashboard: http://{}/", listener.local_addr()?);
    println!(
        "  try: curl -H 'x-api-key: KEY' http://{}/missions",
        listener.local_addr()?
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let tick = Duration::from_secs(args.tick_seconds.max(1));
    let scheduler = async {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            import_hq_files(&hq_importer, &hq_folder).await;
            let report = scraper.run_cycle(chrono::Utc::now()).await;
            if report.due > 0 {
                print_cycle(&report);
            }
            if !report.written.is_empty() {
                settle(&[&raw_queue_handle, &items_queue_handle]).await;
                print_stages(&raw_queue_handle, &items_queue_handle, &dead_letters);
            }
            alerts.run_and_summarize(chrono::Utc::now()).await;
        }
    };
    tokio::select! {
        _ = scheduler => {}
        result = server => { result??; bail!("the API server stopped") }
        _ = tokio::signal::ctrl_c() => println!("stopping"),
    }
    Ok(())
}

pub(crate) fn print_cycle(report: &pantau::scrape::CycleReport) {
    println!(
        "scrape cycle: {} due, {} fetched, {} changed, {} unchanged ({} not modified), {} failed, {} deferred, {} bytes",
        report.due,
        report.fetched,
        report.changed,
        report.unchanged,
        report.not_modified,
        report.failed.len(),
        report.deferred,
        report.bytes
    );
    for f in report.failed.iter().take(10) {
        println!("  failed {}/{}: {}", f.owner, f.source, f.error);
    }
    if report.failed.len() > 10 {
        println!("  ... and {} more", report.failed.len() - 10);
    }
}

/// Imports headquarters' files not imported yet, those put by hand in the drop folder
/// (`data/bucket/hq/`) and `hq/` objects that came without a notification, and prints what
/// each import did.
async fn import_hq_files(importer: &HqImporter, folder: &std::path::Path) {
    let found = match importer.import_folder(folder).await {
        Ok(mut reports) => importer.scan().await.map(|more| {
            reports.extend(more);
            reports
        }),
        Err(e) => Err(e),
    };
    match found {
        Ok(reports) => {
            for r in reports {
                match r.get("error") {
                    Some(error) => println!("hq: {error}"),
                    None => println!(
                        "hq: {}: {} rows read, {} imported, {} updated, {} unchanged, {} rejected (report in hq-reports/)",
                        r["source"].as_str().unwrap_or(""),
                        r["rows_read"],
                        r["imported"],
                        r["updated"],
                        r["unchanged"],
                        r["rejected"]
                    ),
                }
            }
        }
        Err(e) => println!("hq: scanning hq/ failed: {e}"),
    }
}

/// The normalize and reconcile handlers over these stores, as a queue hands them batches.
pub(crate) fn stage_handlers(
    blobs: &Arc<dyn BlobStore>,
    table: &Arc<dyn Table>,
    registry: &Arc<Registry>,
) -> (Handler, Handler) {
    let normalizer = Arc::new(Normalizer {
        blobs: blobs.clone(),
        registry: registry.clone(),
    });
    let reconciler = Arc::new(Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    });
    let normalize: Handler = Arc::new(move |event| {
        let n = normalizer.clone();
        async move { n.handle(event).await }.boxed()
    });
    let hq = HqImporter {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    // As on AWS: the reconcile queue also carries `hq/` files, imported by `pantau::hq`.
    let reconcile: Handler = Arc::new(move |event| {
        let (r, hq) = (reconciler.clone(), hq.clone());
        async move {
            let (hq_event, rest) = split_event(event);
            let mut response = r.handle(rest).await;
            if !hq_event.records.is_empty() {
                let hq_response = hq.handle(hq_event).await;
                response
                    .batch_item_failures
                    .extend(hq_response.batch_item_failures);
            }
            response
        }
        .boxed()
    });
    (normalize, reconcile)
}

/// The scraper over these stores. `recorded`: the sources are the offline server on our own
/// loopback, which needs no politeness and must be reachable despite the private-network guard.
/// `contact_url` is named in the User-Agent.
pub(crate) fn scraper(
    registry: &Arc<Registry>,
    blobs: &Arc<dyn BlobStore>,
    table: &Arc<dyn Table>,
    recorded: bool,
    contact_url: Option<&str>,
) -> anyhow::Result<Scraper> {
    let mut policy = FetchPolicy::default().with_contact_url(contact_url);
    if recorded {
        policy.allow_private_networks = true;
        policy.per_host_min_interval = Duration::ZERO;
        policy.per_host_max_in_flight = 8;
    }
    Ok(Scraper {
        registry: registry.clone(),
        blobs: blobs.clone(),
        table: table.clone(),
        fetcher: Fetcher::new(policy)?,
        config: ScrapeConfig::default(),
    })
}

/// What the stages have done since start.
fn print_stages(normalize: &Queue, reconcile: &Queue, dead_letters: &std::path::Path) {
    let (normalized, dead_n) = normalize.totals();
    let (reconciled, dead_r) = reconcile.totals();
    println!("stages: {normalized} raw objects normalized, {reconciled} items objects reconciled");
    if dead_n + dead_r > 0 {
        println!(
            "  {} events failed five times; see {}",
            dead_n + dead_r,
            dead_letters.display()
        );
    }
}

/// Waits until both queues are empty and idle: every raw object normalized, every items
/// object reconciled (or dead-lettered).
pub(crate) async fn settle(queues: &[&Queue]) {
    let started = std::time::Instant::now();
    let mut idle_polls = 0;
    while started.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let pending: usize = queues.iter().map(|q| q.pending()).sum();
        idle_polls = if pending == 0 { idle_polls + 1 } else { 0 };
        // A handler that just finished may have written objects whose notifications are
        // counted already; a few idle polls in a row mean nothing is in flight.
        if idle_polls >= 3 {
            return;
        }
    }
    println!("stages still busy after 300 s; stopping anyway");
}

/// Says plainly when the real sources cannot be reached, and what to do instead.
async fn check_network() -> anyhow::Result<()> {
    // PANTAU_PORTAL_PROBE replaces the probed address (tests point it at a closed port).
    let target = std::env::var("PANTAU_PORTAL_PROBE").unwrap_or(format!("{PORTAL_API_HOST}:443"));
    let probe = async {
        let mut addrs = tokio::net::lookup_host(&target).await?;
        let addr = addrs
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        tokio::net::TcpStream::connect(addr).await.map(|_| ())
    };
    match tokio::time::timeout(Duration::from_secs(8), probe).await {
        Ok(Ok(())) => Ok(()),
        outcome => {
            let why = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            bail!(
                "no network: cannot reach {PORTAL_API_HOST}, where every mission portal's data comes from ({why}).\n\
                 To see Pantau work on recorded sources instead, run `make run-offline` (or `pantau run --offline`)."
            )
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
