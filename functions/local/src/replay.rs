//! `pantau replay`: runs normalize and reconcile again over the raw objects of a date range,
//! on the embedded store (`--data-dir`) or on AWS (`--bucket` and `--table`).
//!
//! Raw objects are never changed, and both stages are idempotent: normalizing a raw object
//! rewrites the same items object, and reconciling an item already known with that content
//! writes nothing. So a replay is safe to repeat, and is how a parser fix reaches old fetches
//! or how a lost table is rebuilt.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use futures::StreamExt;
use pantau::config::FunctionEnv;
use pantau::keys::{RAW_PREFIX, mission_and_source};
use pantau::normalize::Normalizer;
use pantau::reconcile::read::{ItemFilter, mission_items};
use pantau::reconcile::{ReconcileReport, Reconciler, sync_registry};
use pantau::registry::{GLOBAL_OWNER, HQ_OWNER, Registry};
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::{BlobStore, Table};

/// Progress goes to stderr at least this often, and after every PROGRESS_EVERY objects.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
const PROGRESS_EVERY: usize = 100;
/// Failures listed in the summary; the rest are counted.
const FAILURES_LISTED: usize = 10;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// First day (UTC) of raw objects to replay, YYYY-MM-DD.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (UTC), inclusive.
    #[arg(long)]
    pub to: NaiveDate,
    /// Only this mission's raw objects (its id, e.g. tokyo).
    #[arg(long)]
    pub mission: Option<String>,
    /// The embedded store's directory (as for `pantau run`).
    #[arg(long, env = "PANTAU_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// An S3 bucket instead of the embedded store (AWS credentials and region from the
    /// standard environment); needs --table.
    #[arg(long, requires = "table")]
    pub bucket: Option<String>,
    /// A DynamoDB table instead of the embedded store; needs --bucket.
    #[arg(long, requires = "bucket")]
    pub table: Option<String>,
    /// A registry file instead of the built-in one.
    #[arg(long, env = "PANTAU_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Raw objects in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// What a replay did, summed over its raw objects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplaySummary {
    pub objects: usize,
    /// Items the raw objects held.
    pub items: usize,
    pub table: ReconcileReport,
    /// `key: error` of each raw object that could not be replayed.
    pub failures: Vec<String>,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    if args.from > args.to {
        bail!("--from {} is after --to {}", args.from, args.to);
    }
    let registry = Arc::new(match &args.registry {
        Some(path) => Registry::load_file(path)?,
        None => Registry::load_default()?,
    });
    if let Some(mission) = &args.mission
        && registry.mission(mission).is_none()
    {
        bail!("no mission {mission:?} in the registry (see `pantau registry`)");
    }
    let (blobs, table, place) = match (&args.bucket, &args.table) {
        (Some(bucket), Some(table)) => {
            let env = FunctionEnv {
                bucket: bucket.clone(),
                table: table.clone(),
                registry_file: args.registry.clone(),
                s3_path_style: pantau::config::optional("PANTAU_S3_PATH_STYLE")
                    .is_some_and(|v| v == "true" || v == "1"),
            };
            let (blobs, table) = env.aws_stores().await;
            (
                blobs,
                table,
                format!("s3://{bucket} and table {}", env.table),
            )
        }
        _ => {
            let bucket_path = args.data_dir.join("bucket");
            if !bucket_path.is_dir() {
                bail!(
                    "no objects at {} (run `pantau run` first, or give --data-dir)",
                    bucket_path.display()
                );
            }
            let table_path = args.data_dir.join("pantau.sqlite");
            let table: Arc<dyn Table> = Arc::new(
                SqliteTable::open(&table_path)
                    .with_context(|| format!("opening {}", table_path.display()))?,
            );
            let blobs: Arc<dyn BlobStore> = Arc::new(DiskBlobStore::new(&bucket_path)?);
            (
                blobs,
                table,
                format!("{} and {}", bucket_path.display(), table_path.display()),
            )
        }
    };
    // A table rebuilt from nothing needs the mission records too (idempotent).
    sync_registry(table.as_ref(), &registry).await?;

    let keys = raw_keys(blobs.as_ref(), args.from, args.to, args.mission.as_deref()).await?;
    eprintln!(
        "replay: {} raw objects from {} to {}{} ({place})",
        keys.len(),
        args.from,
        args.to,
        args.mission
            .as_deref()
            .map(|m| format!(", mission {m}"))
            .unwrap_or_default()
    );
    let summary = replay(
        &Normalizer {
            blobs: blobs.clone(),
            registry: registry.clone(),
        },
        &Reconciler {
            blobs,
            table,
            registry,
        },
        keys,
        args.concurrency,
    )
    .await;

    let t = &summary.table;
    println!(
        "replayed {} raw objects: {} items ({} new, {} changed, {} unchanged, {} stale, {} skipped), {} failed",
        summary.objects,
        summary.items,
        t.new,
        t.changed,
        t.unchanged,
        t.stale,
        t.skipped_lines,
        summary.failures.len()
    );
    for failure in summary.failures.iter().take(FAILURES_LISTED) {
        println!("  failed {failure}");
    }
    if summary.failures.len() > FAILURES_LISTED {
        println!(
            "  ... and {} more",
            summary.failures.len() - FAILURES_LISTED
        );
    }
    if !summary.failures.is_empty() {
        bail!(
            "{} raw objects could not be replayed",
            summary.failures.len()
        );
    }
    Ok(())
}

/// Raw keys of each day from `from` to `to`, in key order, optionally of one mission.
async fn raw_keys(
    blobs: &dyn BlobStore,
    from: NaiveDate,
    to: NaiveDate,
    mission: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        // With a mission, its own prefix under the day: raw/{yyyy}/{mm}/{dd}/{mission}/.
        let prefix = match mission {
            Some(m) => format!("{RAW_PREFIX}{}/{m}/", day.format("%Y/%m/%d")),
            None => format!("{RAW_PREFIX}{}/", day.format("%Y/%m/%d")),
        };
        let mut after: Option<String> = None;
        loop {
            let page = blobs
                .list(&prefix, after.as_deref(), 1000)
                .await
                .with_context(|| format!("listing {prefix}"))?;
            keys.extend(page.keys.into_iter().filter(|key| {
                mission.is_none_or(|m| mission_and_source(key).is_some_and(|(km, _)| km == m))
            }));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(keys)
}

/// Normalizes and reconciles each raw key, `concurrency` at a time, with progress on stderr.
pub async fn replay(
    normalizer: &Normalizer,
    reconciler: &Reconciler,
    keys: Vec<String>,
    concurrency: usize,
) -> ReplaySummary {
    let total = keys.len();
    let mut summary = ReplaySummary::default();
    let mut last_progress = Instant::now();
    let mut outcomes = futures::stream::iter(keys)
        .map(|key| async move {
            let outcome = replay_object(normalizer, reconciler, &key).await;
            (key, outcome)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((key, outcome)) = outcomes.next().await {
        summary.objects += 1;
        match outcome {
            Ok((items, report)) => {
                summary.items += items;
                let t = &mut summary.table;
                t.new += report.new;
                t.changed += report.changed;
                t.unchanged += report.unchanged;
                t.stale += report.stale;
                t.skipped_lines += report.skipped_lines;
            }
            Err(error) => summary.failures.push(format!("{key}: {error}")),
        }
        let done = summary.objects;
        if done == total
            || done % PROGRESS_EVERY == 0
            || last_progress.elapsed() >= PROGRESS_INTERVAL
        {
            eprintln!(
                "replay: {done}/{total} objects ({}%), {} items, {} failed",
                done * 100 / total.max(1),
                summary.items,
                summary.failures.len()
            );
            last_progress = Instant::now();
        }
    }
    summary
}

/// One raw object through both stages: (items it held, what they did to the table).
async fn replay_object(
    normalizer: &Normalizer,
    reconciler: &Reconciler,
    raw_key: &str,
) -> Result<(usize, ReconcileReport), String> {
    let normalized = normalizer
        .normalize_object(raw_key)
        .await
        .map_err(|e| format!("normalize: {e}"))?;
    let Some(items_key) = normalized.items_key else {
        return Ok((0, ReconcileReport::default()));
    };
    let report = reconciler
        .reconcile_object(&items_key)
        .await
        .map_err(|e| format!("reconcile: {e}"))?;
    Ok((normalized.items, report))
}

/// Items in the table, over every owner of the registry (missions, headquarters, global).
pub async fn count_items(table: &dyn Table, registry: &Registry) -> anyhow::Result<usize> {
    let owners = registry
        .missions
        .iter()
        .map(|m| m.id.as_str())
        .chain([HQ_OWNER, GLOBAL_OWNER]);
    let mut count = 0;
    for owner in owners {
        let mut cursor = None;
        loop {
            let page = mission_items(table, owner, &ItemFilter::default(), 1000, cursor)
                .await
                .with_context(|| format!("reading the items of {owner}"))?;
            count += page.items.len();
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(count)
}
