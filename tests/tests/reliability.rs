//! Reliability under faults (issue 9): repeated, shuffled and delayed delivery; AWS throttling
//! and 5xx through a fault-injecting proxy in front of moto; a process killed at each step
//! boundary; a long run over a 1,000-source fleet. Each test compares full dumps of the table
//! and the bucket with a clean run's, and prints `RELIABILITY` lines for
//! `make reliability` (docs/reliability.md).

use pantau_tests::fault_proxy::{FaultConfig, FaultProxy};
use pantau_tests::moto::MotoServer;
use pantau_tests::pipeline::{Delivery, DeliveryStats};
use pantau_tests::reliability::*;

/// An error's first line: the report line's outcome (the details go to the panic message).
fn summary(e: &anyhow::Error) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}

// ---------------------------------------------------------------------------------------
// Delivery: every event one to three times, shuffled, delayed.

/// Seeds of the repeated deliveries; `PANTAU_RELIABILITY_SEEDS=n` runs n of them.
fn seeds(default: usize) -> Vec<u64> {
    let n = std::env::var("PANTAU_RELIABILITY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (0..n as u64).map(|i| 20261128 + i * 7919).collect()
}

/// Feeds `clean` once and every run of `runs` (seed, batches in flight, fresh stores) with
/// repeated delivery; compares each run's full dumps with the clean one's and reports.
async fn repeated_delivery(
    store: &str,
    scraped: &Scraped,
    clean: Run,
    runs: Vec<(u64, usize, Run)>,
) {
    clean.feed(scraped, Delivery::Once).await.unwrap();
    let (clean_table, clean_bucket) = clean.dumps().await.unwrap();
    assert!(
        clean_table.len() > 50,
        "too few records: {}",
        clean_table.len()
    );
    let (clean_strict, clean_crises) = split_families(&clean_table, &CRISIS_FAMILIES);
    let seeds = runs.len();
    let mut in_flights: Vec<String> = runs.iter().map(|r| r.1.to_string()).collect();
    in_flights.dedup();
    in_flights.sort();
    in_flights.dedup();
    let in_flights = in_flights.join(" or ");
    let mut total = DeliveryStats::default();
    let mut crisis_differences = Vec::new();
    let mut failures = Vec::new();
    for (seed, in_flight, run) in runs {
        let delivery = Delivery::Repeated {
            seed,
            max_delay_ms: 5,
            in_flight,
        };
        total += run.feed(scraped, delivery).await.unwrap();
        let (table, bucket) = run.dumps().await.unwrap();
        let label = format!("seed {seed}, {in_flight} in flight");
        let (strict, crises) = split_families(&table, &CRISIS_FAMILIES);
        if let Err(e) = same_dump(&format!("table, {label}"), &clean_strict, &strict) {
            failures.push(e.to_string());
        }
        if same_dump("crises", &clean_crises, &crises).is_err() {
            let differing = clean_crises
                .iter()
                .filter(|(k, v)| crises.get(*k) != Some(*v))
                .count()
                + crises
                    .keys()
                    .filter(|k| !clean_crises.contains_key(*k))
                    .count();
            crisis_differences.push(format!(
                "{label}: {differing} of {} crisis records",
                clean_crises.len()
            ));
        }
        if let Err(e) = same_dump(&format!("bucket, {label}"), &clean_bucket, &bucket) {
            failures.push(e.to_string());
        }
    }
    report(
        "delivery",
        &format!(
            "{store}: every S3/SQS event 1-3 times, shuffled, batches of 1-10 handled {in_flights} at a time, 0-5 ms apart; {seeds} runs"
        ),
        format!(
            "{} events, {} messages, {} invocations ({} redelivered)",
            total.events, total.messages, total.invocations, total.redelivered
        ),
        &if failures.is_empty() {
            format!(
                "items, versions, search postings, stories, sources: {} records, every attribute (story link reasons aside), and the bucket ({} objects, body hashes and metadata) equal a clean delivery's, every run",
                clean_strict.len(),
                clean_bucket.len()
            )
        } else {
            format!(
                "FAILED in {} of {} comparisons: {}",
                failures.len(),
                seeds * 2,
                failures
                    .iter()
                    .map(|f| f.lines().next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(" / ")
            )
        },
    );
    report(
        "delivery",
        &format!("{store}: crises under the same repeated, shuffled deliveries"),
        format!("{} crisis records, {seeds} runs", clean_crises.len()),
        &if crisis_differences.is_empty() {
            "equal to a clean delivery's, every run".to_owned()
        } else {
            format!(
                "FOUND (not fixed): crises depend on arrival order (a later signal arriving before its crisis opened is left out, or opens a second crisis): {}",
                crisis_differences.join("; ")
            )
        },
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reliability_repeated_delivery_on_the_embedded_store() {
    let scraped = Scraped::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    // Batches handled one and three at a time: concurrent groupings of one story's items
    // (and a merge racing a member's own grouping) must end as one at a time does.
    let concurrency: &[usize] = &[1, 3];
    for seed in seeds(1) {
        for &in_flight in concurrency {
            let run = Run::embedded(dir.path(), &format!("seed-{seed}-{in_flight}")).unwrap();
            runs.push((seed, in_flight, run));
        }
    }
    let clean = Run::embedded(dir.path(), "clean").unwrap();
    repeated_delivery(
        "embedded store (SQLite file, folder bucket)",
        &scraped,
        clean,
        runs,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes on moto; `make reliability` runs it"]
async fn reliability_repeated_delivery_on_moto() {
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let mut scraped = Scraped::new().await.unwrap();
    // The smallest mission's objects: moto answers in milliseconds, not microseconds.
    scraped.retain_owners(&["riyadh"]);
    let mut runs = Vec::new();
    for (i, seed) in seeds(2).into_iter().take(2).enumerate() {
        let in_flight = [3, 1][i % 2];
        let run = Run::aws(moto.endpoint(), moto.endpoint(), &format!("seed-{seed}"))
            .await
            .unwrap();
        runs.push((seed, in_flight, run));
    }
    let clean = Run::aws(moto.endpoint(), moto.endpoint(), "clean")
        .await
        .unwrap();
    repeated_delivery("S3 and DynamoDB on moto", &scraped, clean, runs).await;
}

// ---------------------------------------------------------------------------------------
// AWS faults: throttling, 5xx and latency from a proxy in front of moto.

/// The pipeline through a fault-injecting proxy at `rate`: it must converge (nothing in the
/// dead-letter queue) to the table and bucket of a clean run straight to moto.
async fn converges_through_faults(rate: f64, seed: u64) {
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let mut scraped = Scraped::new().await.unwrap();
    // The smallest mission's objects: moto answers in milliseconds, not microseconds.
    scraped.retain_owners(&["riyadh"]);
    let clean = Run::aws(moto.endpoint(), moto.endpoint(), "clean")
        .await
        .unwrap();
    clean.feed(&scraped, Delivery::Once).await.unwrap();
    let (clean_table, clean_bucket) = clean.dumps().await.unwrap();

    let proxy = FaultProxy::start(
        moto.endpoint(),
        FaultConfig {
            fault_rate: rate,
            max_latency: std::time::Duration::from_millis(10),
            seed,
        },
    )
    .await
    .unwrap();
    let run = Run::aws(&proxy.endpoint(), moto.endpoint(), "faulty")
        .await
        .unwrap();
    let fed = run.feed(&scraped, Delivery::Once).await;
    let counts = proxy.counts();
    let what = format!(
        "{:.0}% of S3 and DynamoDB requests answered with throttling (400 ProvisionedThroughputExceeded/Throttling, 503 SlowDown), 500 before or after moto did the work; 0-10 ms added to each; SDK standard retries (3 attempts, backoff clock shortened 100x), SQS partial batch failures, {} receives then dead letter, one DLQ redrive",
        rate * 100.0,
        pantau_tests::pipeline::MAX_RECEIVES
    );
    let how_many = format!(
        "{} requests ({} DynamoDB, {} S3), {} faults ({} throttled, {} 5xx, {} 5xx after the write), {} SDK retries",
        counts.requests,
        counts.dynamodb,
        counts.s3,
        counts.faults(),
        counts.throttled,
        counts.server_errors,
        counts.lost_answers,
        counts.retries
    );
    let stats = match fed {
        Ok(stats) => stats,
        Err(e) => {
            report("AWS faults", &what, &how_many, &format!("FAILED: {e}"));
            panic!("the pipeline did not converge at {rate}: {e:#}\n{how_many}");
        }
    };
    let (table, bucket) = run.dumps().await.unwrap();
    let equal = same_dump("table", &clean_table, &table)
        .and_then(|()| same_dump("bucket", &clean_bucket, &bucket));
    report(
        "AWS faults",
        &what,
        format!(
            "{how_many}; {} SQS messages, {} handler invocations, {} redelivered, {} dead-lettered",
            stats.messages,
            stats.invocations,
            stats.redelivered,
            stats.dead_letters.len()
        ),
        &match &equal {
            Ok(()) if stats.redriven == 0 => format!(
                "converged: dead-letter queue empty; table ({} records) and bucket ({} objects) equal a clean run's",
                clean_table.len(),
                clean_bucket.len()
            ),
            Ok(()) => format!(
                "converged after one redrive of the dead-letter queue ({} message(s) had failed all {} receives): queue empty; table ({} records) and bucket ({} objects) equal a clean run's",
                stats.redriven,
                pantau_tests::pipeline::MAX_RECEIVES,
                clean_table.len(),
                clean_bucket.len()
            ),
            Err(e) => format!("FAILED: {}", summary(e)),
        },
    );
    assert!(counts.faults() > 0, "no fault was injected: {counts:?}");
    equal.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes on moto; `make reliability` runs it"]
async fn reliability_aws_faults_at_10_percent() {
    converges_through_faults(0.10, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes on moto; `make reliability` runs it"]
async fn reliability_aws_faults_at_30_percent() {
    converges_through_faults(0.30, 30).await;
}

// ---------------------------------------------------------------------------------------
// Crashes: a child process aborted at each step boundary, then the pipeline rerun.

/// Environment of the crash child: its data directory, the offline server's URL, the fixed
/// scrape time (so the clean run and the crashed one fetch "at the same moment").
const CHILD_DIR: &str = "PANTAU_CRASH_CHILD_DIR";
const CHILD_SOURCES: &str = "PANTAU_CRASH_CHILD_SOURCES";
const CHILD_NOW: &str = "PANTAU_CRASH_CHILD_NOW";

/// Not a test: the pipeline run by the crash tests in a child process (this test binary run
/// again with `--exact crash_child`). Does nothing unless the parent set its environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by the crash tests as a child process"]
async fn crash_child() {
    let (Ok(dir), Ok(sources), Ok(now)) = (
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_SOURCES),
        std::env::var(CHILD_NOW),
    ) else {
        return;
    };
    let now = chrono::DateTime::parse_from_rfc3339(&now)
        .unwrap()
        .with_timezone(&chrono::Utc);
    run_pipeline_once(std::path::Path::new(&dir), &sources, now)
        .await
        .unwrap();
}

/// One run of the whole pipeline on the embedded store in `dir`: the scrape cycle at `now`,
/// then every raw object's event to normalize and every items object's to reconcile, in
/// order, batches of ten. A rerun after a crash is the same call: the scrape fetches what
/// the crashed one had not recorded, and every object's event comes again (S3 sent one for
/// each object written, and those not acknowledged are redelivered; the acknowledged ones
/// are replayed, which both stages take as a no-op).
async fn run_pipeline_once(
    dir: &std::path::Path,
    sources: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use pantau::store::{BlobStore, Table};
    use std::sync::Arc;
    let blobs: Arc<dyn BlobStore> =
        Arc::new(pantau::store::disk::DiskBlobStore::new(dir.join("bucket"))?);
    let table: Arc<dyn Table> = Arc::new(pantau::store::sqlite::SqliteTable::open(
        &dir.join("pantau.sqlite"),
    )?);
    let registry = Arc::new(pantau_tests::pipeline::test_registry(sources)?);
    pantau::reconcile::sync_registry(table.as_ref(), &registry).await?;
    let scraper = pantau::scrape::Scraper {
        registry: registry.clone(),
        blobs: blobs.clone(),
        table: table.clone(),
        fetcher: pantau::fetch::Fetcher::new(pantau::fetch::FetchPolicy {
            allow_private_networks: true,
            per_host_min_interval: std::time::Duration::ZERO,
            ..pantau::fetch::FetchPolicy::default()
        })?,
        config: pantau::scrape::ScrapeConfig::default(),
    };
    let report = scraper.run_cycle(now).await;
    anyhow::ensure!(
        report.failed.is_empty(),
        "sources failed: {:?}",
        report.failed
    );
    let raw_keys = list_all(blobs.as_ref(), pantau::keys::RAW_PREFIX).await?;
    let normalizer = pantau::normalize::Normalizer {
        blobs: blobs.clone(),
        registry: registry.clone(),
    };
    let bucket = blobs.bucket().to_owned();
    pantau_tests::pipeline::deliver(&bucket, &raw_keys, Delivery::Once, |e| normalizer.handle(e))
        .await?;
    let items_keys: Vec<String> = raw_keys
        .iter()
        .filter_map(|k| pantau::keys::items_key_for(k))
        .collect();
    let reconciler = pantau::reconcile::Reconciler {
        blobs,
        table,
        registry,
    };
    pantau_tests::pipeline::deliver(&bucket, &items_keys, Delivery::Once, |e| {
        reconciler.handle(e)
    })
    .await?;
    Ok(())
}

/// Runs the crash child in `dir`; `crash_at` arms a crash point. Returns whether it exited
/// cleanly, and its stderr.
fn run_child(
    dir: &std::path::Path,
    sources: &str,
    now: &str,
    crash_at: Option<&str>,
) -> (bool, String) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "crash_child", "--include-ignored", "--nocapture"])
        .env(CHILD_DIR, dir)
        .env(CHILD_SOURCES, sources)
        .env(CHILD_NOW, now)
        .env_remove(pantau::crash::CRASH_AT_ENV);
    if let Some(spec) = crash_at {
        command.env(pantau::crash::CRASH_AT_ENV, spec);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Each crash point with the pass that aborts: mid-stream, not on the first or last object.
const CRASHES: [(&str, &str); 6] = [
    ("after_raw_write:3", "after a raw object's write (scrape)"),
    (
        "after_items_write:3",
        "after an items object's write (normalize)",
    ),
    (
        "after_reconcile_object:2",
        "in the middle of a reconcile batch (2nd of 10 objects done)",
    ),
    (
        "after_postings_write:5",
        "between a new item's search-index writes and its table write",
    ),
    (
        "before_story_writes:2",
        "between an object's item writes and their story and crisis writes",
    ),
    (
        "before_crisis_writes:1",
        "between the item writes of the first object with crisis evidence and its crisis writes",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reliability_crash_at_each_step_boundary() {
    let server = pantau::offline::OfflineServer::start_loopback()
        .await
        .unwrap();
    let sources = server.base_url().to_owned();
    let now = chrono::Utc::now().to_rfc3339();
    let dir = tempfile::tempdir().unwrap();

    // The parent blocks on each child: the server keeps answering on its own threads.
    let clean_dir = dir.path().join("clean");
    let (ok, stderr) = tokio::task::block_in_place(|| run_child(&clean_dir, &sources, &now, None));
    assert!(ok, "clean run failed:\n{stderr}");
    let clean = Run::embedded(dir.path(), "clean").unwrap();
    let (clean_table, clean_bucket) = clean.dumps().await.unwrap();

    // `make test` tries one boundary per stage (13 child runs would cost it 100 s);
    // `make reliability` (PANTAU_RELIABILITY_FULL=1) every one.
    let full = std::env::var_os("PANTAU_RELIABILITY_FULL").is_some();
    let crashes: Vec<(&str, &str)> = CRASHES
        .into_iter()
        .filter(|(spec, _)| {
            full || [
                "after_raw_write",
                "after_items_write",
                "before_crisis_writes",
            ]
            .iter()
            .any(|p| spec.starts_with(p))
        })
        .collect();
    let mut failures = Vec::new();
    for (spec, what) in crashes {
        let name = spec.replace(':', "-");
        let crash_dir = dir.path().join(&name);
        let (ok, stderr) =
            tokio::task::block_in_place(|| run_child(&crash_dir, &sources, &now, Some(spec)));
        assert!(
            !ok && stderr.contains("crash point"),
            "{spec}: the child did not crash:\n{stderr}"
        );
        let (ok, stderr) =
            tokio::task::block_in_place(|| run_child(&crash_dir, &sources, &now, None));
        assert!(ok, "{spec}: the rerun failed:\n{stderr}");
        let run = Run::embedded(dir.path(), &name).unwrap();
        let (table, bucket) = run.dumps().await.unwrap();
        let equal = same_dump("table", &clean_table, &table)
            .and_then(|()| same_dump("bucket", &clean_bucket, &bucket));
        report(
            "crashes",
            &format!(
                "process aborted (SIGABRT, PANTAU_CRASH_AT={spec}) {what}, on an SQLite file and a folder bucket; then the pipeline rerun (scrape, every object's event again)"
            ),
            "1 crash, 1 rerun",
            &match &equal {
                Ok(()) => format!(
                    "nothing lost, nothing doubled: table ({} records) and bucket ({} objects) equal a clean run's",
                    clean_table.len(),
                    clean_bucket.len()
                ),
                Err(e) => format!("FAILED: {}", summary(e)),
            },
        );
        if let Err(e) = equal {
            failures.push(format!("{spec}: {e:#}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------
// Soak: the whole pipeline over a 1,000-source fleet for many cycles.

/// `n` feed sources spread over the fleet's hosts (each host serves a small RSS feed with an
/// ETag at every path).
fn fleet_registry(
    n: usize,
    fleet: &pantau_tests::fleet::FleetServer,
) -> pantau::registry::Registry {
    let sources = (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "id": format!("soak-{i}"), "kind": "feed", "role": "media",
                "url": format!("{}/feed/{i}.xml", fleet.base_url(i)),
            }))
            .expect("a valid source")
        })
        .collect();
    pantau::registry::Registry {
        global_sources: sources,
        ..pantau::registry::Registry::default()
    }
}

/// `pantau run --offline`'s loop in process (scrape, then normalize and reconcile what it
/// wrote, on an SQLite file and a folder bucket) over 1,000 fixture sources for
/// `PANTAU_SOAK_CYCLES` cycles (default 6), each cycle six hours after the last so every
/// source is due. Memory (VmRSS, VmHWM) and errors are sampled per cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes; `make reliability` runs it (PANTAU_SOAK_CYCLES=n for a longer soak)"]
async fn reliability_soak_1000_sources() {
    use pantau::store::{BlobStore, Table};
    use std::sync::Arc;
    const SOURCES: usize = 1000;
    let cycles: usize = std::env::var("PANTAU_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let fleet = pantau_tests::fleet::FleetServer::start(40, std::time::Duration::ZERO)
        .await
        .unwrap();
    let registry = Arc::new(fleet_registry(SOURCES, &fleet));
    let dir = tempfile::tempdir().unwrap();
    let blobs: Arc<dyn BlobStore> =
        Arc::new(pantau::store::disk::DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let table: Arc<dyn Table> = Arc::new(
        pantau::store::sqlite::SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap(),
    );
    pantau::reconcile::sync_registry(table.as_ref(), &registry)
        .await
        .unwrap();
    let scraper = pantau::scrape::Scraper {
        registry: registry.clone(),
        blobs: blobs.clone(),
        table: table.clone(),
        fetcher: pantau::fetch::Fetcher::new(pantau::fetch::FetchPolicy {
            allow_private_networks: true,
            per_host_min_interval: std::time::Duration::ZERO,
            ..pantau::fetch::FetchPolicy::default()
        })
        .unwrap(),
        config: pantau::scrape::ScrapeConfig::default(),
    };
    let normalizer = pantau::normalize::Normalizer {
        blobs: blobs.clone(),
        registry: registry.clone(),
    };
    let reconciler = pantau::reconcile::Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    let bucket = blobs.bucket().to_owned();
    let t0 = chrono::Utc::now();
    // (cycle, fetched, written, errors, VmRSS kB, VmHWM kB)
    let mut samples = Vec::new();
    for cycle in 0..cycles {
        let now = t0 + chrono::Duration::hours(6 * cycle as i64);
        let report = scraper.run_cycle(now).await;
        let mut errors = report.failed.len() + report.linked_failed;
        let items_keys: Vec<String> = report
            .written
            .iter()
            .filter_map(|k| pantau::keys::items_key_for(k))
            .collect();
        for (keys, is_raw) in [(&report.written, true), (&items_keys, false)] {
            let delivered = if is_raw {
                pantau_tests::pipeline::deliver(&bucket, keys, Delivery::Once, |e| {
                    normalizer.handle(e)
                })
                .await
            } else {
                pantau_tests::pipeline::deliver(&bucket, keys, Delivery::Once, |e| {
                    reconciler.handle(e)
                })
                .await
            };
            if let Err(e) = delivered {
                eprintln!("cycle {cycle}: {e:#}");
                errors += 1;
            }
        }
        let (rss, hwm) = memory_kb();
        eprintln!(
            "soak cycle {cycle}: {} fetched, {} written, {errors} errors, VmRSS {rss} kB, VmHWM {hwm} kB",
            report.fetched,
            report.written.len()
        );
        samples.push((
            cycle,
            report.fetched,
            report.written.len(),
            errors,
            rss,
            hwm,
        ));
    }
    let rss: Vec<u64> = samples.iter().map(|s| s.4).collect();
    let errors: Vec<usize> = samples.iter().map(|s| s.3).collect();
    let fetched: usize = samples.iter().map(|s| s.1).sum();
    // The first cycle writes everything and warms every pool; steady state starts after it.
    let steady = &rss[1.min(rss.len() - 1)..];
    let (low, high) = (
        *steady.iter().min().unwrap_or(&0),
        *steady.iter().max().unwrap_or(&0),
    );
    let mib = |kb: u64| kb as f64 / 1024.0;
    report(
        "soak",
        &format!(
            "the pipeline (scrape, normalize, reconcile; SQLite file, folder bucket) over {SOURCES} fixture feed sources on 40 loopback hosts, every source due each cycle"
        ),
        format!("{cycles} cycles, {fetched} source fetches"),
        &format!(
            "VmRSS per cycle (MiB): {}; steady-state spread {:.1} MiB ({:.0}%); peak VmHWM {:.0} MiB; errors per cycle: {:?}",
            rss.iter()
                .map(|r| format!("{:.0}", mib(*r)))
                .collect::<Vec<_>>()
                .join(", "),
            mib(high - low),
            if low > 0 {
                (high - low) as f64 * 100.0 / low as f64
            } else {
                0.0
            },
            mib(samples.last().map(|s| s.5).unwrap_or(0)),
            errors
        ),
    );
    assert!(
        errors.last() <= errors.first(),
        "errors grew over the soak: {errors:?}"
    );
    // Flat: steady-state RSS within half of its lowest (a leak of a source's worth per cycle
    // over 1,000 sources shows long before that).
    assert!(
        high <= low + low / 2,
        "memory grew over the soak: VmRSS per cycle {rss:?} kB"
    );
}
