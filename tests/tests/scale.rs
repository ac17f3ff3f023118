//! The scale run (`make scale`; `#[ignore]`d, not a timed test): ten times the fleet and a year
//! of items on the embedded store, measured.
//!
//! `scale_store`:
//! 1. a 10× registry (`pantau_tests::scale::fleet_registry`: 1,320 missions, same host
//!    layout) and a year of generated items (`YearOfItems`: skewed activity, media per
//!    country, hazard events, a handful of crises, Indonesian and English words of the
//!    recorded sources);
//! 2. loaded into a real SQLite file under the target dir (deleted afterwards) by the real
//!    reconcile (`Reconciler::reconcile_object` on objects of 100 lines, a few at once), so
//!    the table holds exactly what production writes: items, versions, time indexes, story
//!    entries, search postings, crises. Throughput and table requests per item are counted
//!    (`store::testing::CountingTable`);
//! 3. at each checkpoint (100k, 1M, 3M items by default) the API's main queries through the
//!    real axum router in-process (`tower::ServiceExt::oneshot`): p50 and p99 latency and
//!    table requests per call, and the store's size on disk;
//! 4. the tables, with the machine noted, printed and written to `PANTAU_SCALE_DOC` (the
//!    Makefile passes docs/performance.md) or to `{target}/scale/performance.md`.
//!
//! Knobs: `PANTAU_SCALE_MISSIONS` (1320: a multiple of the registry's missions),
//! `PANTAU_SCALE_ITEMS` (3,000,000), `PANTAU_SCALE_CHECKPOINTS` (100000,1000000,3000000;
//! those up to the items), `PANTAU_SCALE_REQUESTS` (200 per query kind; the whole-fleet
//! reports a tenth), `PANTAU_SCALE_QUICK=1` (20k items, checkpoints 5k and 20k, 50 requests:
//! for development), `PANTAU_SCALE_BUDGET_MINUTES` (none: a checkpoint whose projected
//! loading would end after the budget is skipped, and so is one the disk cannot hold; the
//! document says which and why), `PANTAU_SCALE_SAMPLE` (5000: items loaded first with one
//! SQLite commit per write, as `pantau run` writes, for that rate; the rest with grouped
//! commits, which store the same records: `tests/tests/scale_load.rs`),
//! `PANTAU_SCALE_KEEP=1` (keep the store), `PANTAU_SCALE_STORE=DIR` (a store that outlives
//! the run and a load that resumes: see [`Progress`]).
//!
//! A long load need not run in one sitting. With `PANTAU_SCALE_STORE`, the run's state is saved
//! in the store directory after every batch; Ctrl-C, a file named `STOP` in the directory or the
//! budget ends the sitting after the batch in hand, and the same command goes on from there
//! (raising `PANTAU_SCALE_ITEMS` carries a finished store on to the next checkpoints).
//! `PANTAU_SCALE_REMEASURE=1` times the queries of the checkpoint the store stands at again,
//! loading nothing: for figures taken on a busy machine.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{Request, StatusCode};
use pantau::api::{ApiState, access, router};
use pantau::model::{NormalizedItem, SourceState};
use pantau::reconcile::{ReconcileReport, Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::schema;
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::testing::CountingTable;
use pantau::store::{BlobMeta, BlobStore, Condition, Key, Table};
use pantau_tests::scale::{PlantedCrisis, Vocabulary, YearOfItems, fleet_registry, vocabularies};
use tower::ServiceExt;

/// The allocator `pantau` runs the embedded store with; `--features system-allocator` measures
/// glibc's instead.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lines per items object, as normalize writes them for a busy source.
const LINES_PER_OBJECT: usize = 100;
/// Objects reconciled at once (as a few Lambda instances would).
const OBJECTS_IN_FLIGHT: usize = 4;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

struct Knobs {
    missions: usize,
    items: usize,
    checkpoints: Vec<usize>,
    requests: usize,
    doc: Option<PathBuf>,
    /// Loading stops before a checkpoint it would reach after this many minutes in all.
    budget: Option<Duration>,
    /// The first this many items are loaded with one commit per write, as `pantau run` does;
    /// the rest with grouped commits ([`GROUP_WRITES`]).
    sample: usize,
    /// Where a store that outlives the run lives (resumable); none: a temporary directory.
    store: Option<PathBuf>,
}

/// Writes per commit after the sample (`SqliteTable::group_commits`): the same records, the
/// WAL written once per group instead of once per write.
const GROUP_WRITES: u64 = 20_000;

fn knobs() -> Knobs {
    let quick = std::env::var("PANTAU_SCALE_QUICK").is_ok_and(|v| v == "1");
    let items = env_number("PANTAU_SCALE_ITEMS", if quick { 20_000 } else { 3_000_000 }) as usize;
    let checkpoints = match std::env::var("PANTAU_SCALE_CHECKPOINTS") {
        Ok(list) => list
            .split(',')
            .map(|c| {
                c.trim()
                    .replace('_', "")
                    .parse()
                    .expect("a number of items")
            })
            .collect(),
        Err(_) if quick => vec![5_000, 20_000],
        Err(_) => vec![100_000, 1_000_000, 3_000_000],
    };
    let mut checkpoints: Vec<usize> = checkpoints.into_iter().filter(|c| *c <= items).collect();
    if checkpoints.last() != Some(&items) {
        checkpoints.push(items);
    }
    Knobs {
        missions: env_number("PANTAU_SCALE_MISSIONS", 1320) as usize,
        items,
        checkpoints,
        requests: env_number("PANTAU_SCALE_REQUESTS", if quick { 50 } else { 200 }) as usize,
        doc: std::env::var("PANTAU_SCALE_DOC").ok().map(PathBuf::from),
        budget: std::env::var("PANTAU_SCALE_BUDGET_MINUTES")
            .is_ok()
            .then(|| Duration::from_secs(60 * env_number("PANTAU_SCALE_BUDGET_MINUTES", 0))),
        sample: env_number("PANTAU_SCALE_SAMPLE", if quick { 1_000 } else { 5_000 }) as usize,
        store: std::env::var("PANTAU_SCALE_STORE")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from),
    }
}

/// The target dir this test binary runs from (`{target}/{profile}/deps/scale-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// The real reconcile, fed objects of generated items.
struct Loader {
    blobs: Arc<DiskBlobStore>,
    reconciler: Arc<Reconciler>,
    objects: usize,
}

impl Loader {
    /// Reconciles `items` in objects of [`LINES_PER_OBJECT`], [`OBJECTS_IN_FLIGHT`] at once;
    /// each slot reuses one key, so the bucket stays small.
    async fn load(&mut self, items: Vec<NormalizedItem>) -> ReconcileReport {
        let objects: Vec<String> = items
            .chunks(LINES_PER_OBJECT)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|i| serde_json::to_string(i).expect("an item serializes") + "\n")
                    .collect()
            })
            .collect();
        self.objects += objects.len();
        let slots = (0..OBJECTS_IN_FLIGHT).map(|slot| {
            let mine: Vec<String> = objects
                .iter()
                .skip(slot)
                .step_by(OBJECTS_IN_FLIGHT)
                .cloned()
                .collect();
            let blobs = self.blobs.clone();
            let reconciler = self.reconciler.clone();
            async move {
                let key = format!("items/scale/slot-{slot}.jsonl");
                let mut sum = ReconcileReport::default();
                for body in mine {
                    blobs
                        .put(&key, Bytes::from(body), &BlobMeta::default())
                        .await
                        .expect("items object written");
                    let r = reconciler
                        .reconcile_object(&key)
                        .await
                        .expect("items reconciled");
                    add(&mut sum, &r);
                }
                sum
            }
        });
        let mut sum = ReconcileReport::default();
        for r in futures::future::join_all(slots).await {
            add(&mut sum, &r);
        }
        sum
    }
}

fn add(sum: &mut ReconcileReport, r: &ReconcileReport) {
    sum.new += r.new;
    sum.changed += r.changed;
    sum.unchanged += r.unchanged;
    sum.stale += r.stale;
    sum.skipped_lines += r.skipped_lines;
    sum.crises_opened += r.crises_opened;
    sum.responses_linked += r.responses_linked;
}

/// One kind of API request, measured.
#[derive(serde::Serialize, serde::Deserialize)]
struct Measured {
    name: String,
    p50: Duration,
    p99: Duration,
    table_requests_per_call: f64,
    /// Results of the first call (items, missions, crises...), to show the query found data.
    first_results: usize,
}

/// How many entries the answer's main list has.
/// Queries answered by a mission's role index or daily counts (`reconcile::rollup`) once
/// its marker is there: each is measured again without the marker, as a same-run baseline.
const BEFORE_ROLLUPS: [&str; 2] = [
    "mission feed, busiest, role=official",
    "mission activity chart, busiest (90 days)",
];

fn result_count(body: &[u8]) -> usize {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0;
    };
    for list in ["items", "missions", "crises", "sources", "days"] {
        if let Some(a) = value.get(list).and_then(|v| v.as_array()) {
            return a.len();
        }
    }
    0
}

struct Api {
    router: Router,
    key: String,
    table: Arc<CountingTable<SqliteTable>>,
}

impl Api {
    async fn call(&self, uri: &str) -> (StatusCode, Bytes) {
        let request = Request::get(uri)
            .header("x-api-key", &self.key)
            .body(Body::empty())
            .expect("a request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, body)
    }

    /// Calls every uri once (after one warm-up call of the first); p50, p99, table requests.
    async fn measure(&self, name: &str, uris: &[String]) -> Measured {
        let (status, body) = self.call(&uris[0]).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{name}: {} answered {status}: {}",
            uris[0],
            String::from_utf8_lossy(&body)
        );
        let first_results = result_count(&body);
        let mut times = Vec::with_capacity(uris.len());
        self.table.reset();
        for uri in uris {
            let started = Instant::now();
            let (status, body) = self.call(uri).await;
            times.push(started.elapsed());
            assert_eq!(
                status,
                StatusCode::OK,
                "{uri}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let counts = self.table.counts();
        times.sort();
        let at =
            |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        Measured {
            name: name.to_owned(),
            p50: at(0.50),
            p99: at(0.99),
            table_requests_per_call: (counts.reads() + counts.writes()) as f64 / uris.len() as f64,
            first_results,
        }
    }
}

/// Every SQLite file of the store (the database, its WAL and shared memory), in bytes.
fn store_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("pantau.sqlite"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Bytes free on the file system holding `dir` (`df`), if it answers.
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// Rows and bytes as stored per record kind (the partition key's prefix; item records
/// split into `CURRENT` and versions), largest first.
fn breakdown(sqlite: &Path) -> Vec<(String, u64, u64)> {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return Vec::new();
    };
    // Bytes as stored: the keys, the index key columns and the stored (compact, deflated)
    // rest of the item; SQLite's pages, cell headers and indexes come on top.
    let sql = "SELECT CASE WHEN instr(pk, '#') > 0 THEN substr(pk, 1, instr(pk, '#') - 1) ELSE pk END
                      || CASE WHEN pk LIKE 'ITEM#%' THEN (CASE sk WHEN 'CURRENT' THEN ' (CURRENT)' ELSE ' (version)' END) ELSE '' END
                      AS kind,
                      count(*),
                      sum(length(CAST(pk AS BLOB)) + length(CAST(sk AS BLOB))
                          + ifnull(length(CAST(gsi1pk AS BLOB)) + length(CAST(gsi1sk AS BLOB)), 0)
                          + ifnull(length(CAST(gsi2pk AS BLOB)) + length(CAST(gsi2sk AS BLOB)), 0)
                          + length(CAST(item AS BLOB)))
               FROM items GROUP BY kind ORDER BY 3 DESC";
    let Ok(mut statement) = conn.prepare(sql) else {
        return Vec::new();
    };
    statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)? as u64,
                row.get::<_, i64>(2)? as u64,
            ))
        })
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// What the checkpoint measured.
#[derive(serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    items: usize,
    store_bytes: u64,
    queries: Vec<Measured>,
}

/// Where a load stands: saved in the store directory (`progress.json`) after every batch,
/// once its writes are committed, so the next sitting goes on from there. The generator is
/// deterministic for a seed and a clock, so the next sitting regenerates (and skips) the
/// items already loaded and continues with the same year.
#[derive(serde::Serialize, serde::Deserialize)]
struct Progress {
    /// The generator's clock: the same year of items in every sitting.
    now: DateTime<Utc>,
    missions: usize,
    loaded: usize,
    load_time: Duration,
    report: ReconcileReport,
    /// Reads, writes and items the reads returned.
    table_requests: (usize, usize, usize),
    objects: usize,
    sample_rate: Option<(usize, f64)>,
    checkpoints: Vec<Checkpoint>,
    load_lines: Vec<String>,
    notes: Vec<String>,
    /// Where the stretch towards the next checkpoint began, and its loading time so far.
    segment_from: usize,
    segment_time: Duration,
    /// One line per sitting: when, from which item to which, how fast.
    sittings: Vec<String>,
    /// Set while a batch is being loaded: found set, the last sitting ended inside a batch
    /// (killed), and the part of it grouped commits had stored is delivered a second time.
    #[serde(default)]
    batch_in_hand: bool,
    /// Items of such a batch that were not new the second time (reconcile finished or
    /// recognised them): counted with the new ones in the final check.
    #[serde(default)]
    redelivered: usize,
}

const PROGRESS_FILE: &str = "progress.json";

impl Progress {
    fn new(now: DateTime<Utc>, missions: usize) -> Progress {
        Progress {
            now,
            missions,
            loaded: 0,
            load_time: Duration::ZERO,
            report: ReconcileReport::default(),
            table_requests: (0, 0, 0),
            objects: 0,
            sample_rate: None,
            checkpoints: Vec::new(),
            load_lines: Vec::new(),
            notes: Vec::new(),
            segment_from: 0,
            segment_time: Duration::ZERO,
            sittings: Vec::new(),
            batch_in_hand: false,
            redelivered: 0,
        }
    }

    /// The state saved in `dir`, if a load was started there; a file that does not read is an
    /// error, not a fresh start (that would load the same items twice).
    fn read(dir: &Path) -> Result<Option<Progress>, String> {
        let path = dir.join(PROGRESS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Written whole to a temporary file and renamed over the old one: a stop mid-write leaves
    /// the previous state.
    fn save(&self, dir: &Path) {
        let temporary = dir.join(format!("{PROGRESS_FILE}.new"));
        let text = serde_json::to_string_pretty(self).expect("progress serializes");
        std::fs::write(&temporary, text).expect("progress written");
        std::fs::rename(&temporary, dir.join(PROGRESS_FILE)).expect("progress renamed");
    }
}

/// Why a sitting ends before the load does.
fn stop_requested(dir: &Path, interrupted: &std::sync::atomic::AtomicBool) -> Option<&'static str> {
    if interrupted.load(std::sync::atomic::Ordering::Relaxed) {
        Some("Ctrl-C")
    } else if dir.join("STOP").exists() {
        Some("a STOP file")
    } else {
        None
    }
}

/// The query set: each kind with its request uris.
fn query_set(
    registry: &Registry,
    per_mission: &HashMap<String, usize>,
    crises: &[PlantedCrisis],
    id_words: &Vocabulary,
    en_words: &Vocabulary,
    requests: usize,
    rng: &mut fastrand::Rng,
) -> Vec<(String, Vec<String>)> {
    let missions: Vec<&str> = registry.missions.iter().map(|m| m.id.as_str()).collect();
    // Hazard events belong to `global`, not to a mission.
    let busiest = per_mission
        .iter()
        .filter(|(m, _)| registry.mission(m).is_some())
        .max_by_key(|(_, n)| **n)
        .map(|(m, _)| m.clone())
        .unwrap_or_else(|| missions[0].to_owned());
    let mut per_country: HashMap<&str, usize> = HashMap::new();
    for m in &registry.missions {
        *per_country.entry(m.country_code.as_str()).or_default() +=
            per_mission.get(&m.id).copied().unwrap_or(0);
    }
    let countries: Vec<&str> = per_country.keys().copied().collect();
    let busiest_country = per_country
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| c.to_string())
        .unwrap_or_default();
    let common = &en_words.words[0];
    let common_id = &id_words.words[0];
    let rare = &pantau_tests::scale::rare_name(17);
    let crisis_country = crises.first().map_or("JP", |c| c.country.as_str());
    let n = requests.max(1);
    let few = (requests / 10).max(3);
    let mut kinds: Vec<(String, Vec<String>)> = Vec::new();
    let mut many =
        |name: String, make: &mut dyn FnMut(&mut fastrand::Rng) -> String, count: usize| {
            kinds.push((name, (0..count).map(|_| make(rng)).collect()));
        };
    many(
        "mission feed, random mission".into(),
        &mut |r| format!("/missions/{}/items", missions[r.usize(..missions.len())]),
        n,
    );
    many(
        format!("mission feed, busiest ({busiest})"),
        &mut |_| format!("/missions/{busiest}/items"),
        n,
    );
    many(
        "mission feed, busiest, role=official".into(),
        &mut |_| format!("/missions/{busiest}/items?role=official"),
        n,
    );
    many(
        "mission feed, random, since 30 days".into(),
        &mut |r| {
            let since = (Utc::now() - chrono::Duration::days(30)).format("%Y-%m-%dT%H:%M:%SZ");
            format!(
                "/missions/{}/items?since={since}",
                missions[r.usize(..missions.len())]
            )
        },
        n,
    );
    many(
        "mission activity chart, busiest (90 days)".into(),
        &mut |_| format!("/missions/{busiest}/activity?days=90"),
        few,
    );
    many(
        "mission activity chart, random (90 days)".into(),
        &mut |r| {
            format!(
                "/missions/{}/activity?days=90",
                missions[r.usize(..missions.len())]
            )
        },
        few,
    );
    many(
        "country feed, random country".into(),
        &mut |r| format!("/countries/{}/items", countries[r.usize(..countries.len())]),
        n,
    );
    many(
        format!("country feed, busiest ({busiest_country})"),
        &mut |_| format!("/countries/{busiest_country}/items"),
        n,
    );
    many(
        format!("search, common word ({common})"),
        &mut |_| format!("/search?q={common}"),
        n,
    );
    many(
        format!("search, common Indonesian word ({common_id})"),
        &mut |_| format!("/search?q={common_id}"),
        n,
    );
    many(
        format!("search, rare word ({rare})"),
        &mut |_| format!("/search?q={rare}"),
        n,
    );
    many(
        format!("search, common + rare ({common} {rare})"),
        &mut |_| format!("/search?q={common}+{rare}"),
        n,
    );
    many(
        format!("search, common, country={crisis_country}, role=official"),
        &mut |_| format!("/search?q={common}&country={crisis_country}&role=official"),
        n,
    );
    many(
        "search, common, topic=disaster.earthquake".into(),
        &mut |_| format!("/search?q={common}&topic=disaster.earthquake"),
        n,
    );
    many(
        "crisis board (/crises)".into(),
        &mut |_| "/crises".into(),
        n,
    );
    many(
        "crisis board, all states".into(),
        &mut |_| "/crises?state=all".into(),
        n,
    );
    many(
        "missions list with health".into(),
        &mut |_| "/missions".into(),
        few,
    );
    many(
        "report: silent missions (30 days)".into(),
        &mut |_| "/reports/silent-missions?days=30".into(),
        few,
    );
    many(
        "report: source health".into(),
        &mut |_| "/reports/source-health".into(),
        few,
    );
    many(
        "report: response latency (90 days)".into(),
        &mut |_| "/reports/response-latency?days=90".into(),
        few,
    );
    // Last, so the missions drawn above stay those of earlier runs' tables.
    many(
        "mission feed, random, role=official".into(),
        &mut |r| {
            format!(
                "/missions/{}/items?role=official",
                missions[r.usize(..missions.len())]
            )
        },
        n,
    );
    kinds
}

/// Source states as scrape leaves them after a healthy cycle (so the health views have data).
async fn write_source_states(table: &dyn Table, registry: &Registry, now: DateTime<Utc>) {
    for s in registry.sources() {
        let state = SourceState {
            owner: s.owner.to_owned(),
            source: s.source.id.clone(),
            last_attempt_at: Some(now),
            last_success_at: Some(now),
            last_change_at: Some(now),
            next_due_at: Some(now + chrono::Duration::minutes(60)),
            ..SourceState::default()
        };
        let item = pantau::scrape::state_item(&state).expect("a state record");
        table
            .put(item, Condition::None)
            .await
            .expect("state written");
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or("?".to_owned(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cores} cores (nproc), {memory} memory, load average {} at the end, {} UTC; \
         {}; {}",
        load.join(" "),
        Utc::now().format("%Y-%m-%d %H:%M"),
        if cfg!(debug_assertions) {
            "a debug build (unoptimized: latencies several times the optimized ones)"
        } else {
            "profile `perf` (optimized, see Cargo.toml)"
        },
        if cfg!(feature = "system-allocator") {
            "glibc's allocator (`--features system-allocator`)"
        } else {
            "mimalloc, as `pantau` runs"
        }
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / 1024.0 / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale run: make scale"]
async fn scale_store() {
    let knobs = knobs();
    let base = Registry::load_default().expect("the built-in registry");
    let factor = knobs.missions.div_ceil(base.missions.len()).max(1);
    let registry = Arc::new(fleet_registry(&base, factor));
    let offline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/offline");
    let (id_words, en_words) = vocabularies(&offline);

    let work = target_dir().join("scale");
    std::fs::create_dir_all(&work).expect("scale dir");
    // A store of its own that outlives the run, or a temporary one.
    let (dir, temporary): (PathBuf, Option<tempfile::TempDir>) = match &knobs.store {
        Some(store) => {
            std::fs::create_dir_all(store).expect("the store directory");
            (store.clone(), None)
        }
        None => {
            let t = tempfile::tempdir_in(&work).expect("a store dir under the target dir");
            (t.path().to_owned(), Some(t))
        }
    };
    // One run per store: a second one would load the same items again beside the first.
    let lock = std::fs::File::create(dir.join("lock")).expect("the store's lock file");
    if let Err(e) = lock.try_lock() {
        panic!("another run is using {}: {e}", dir.display());
    }
    let mut progress = match Progress::read(&dir) {
        Ok(Some(p)) => {
            assert_eq!(
                p.missions,
                registry.missions.len(),
                "{} holds a load of another fleet size",
                dir.display()
            );
            p
        }
        Ok(None) => {
            assert!(
                !dir.join("pantau.sqlite").exists(),
                "{} holds a store without {PROGRESS_FILE}: not a resumable load",
                dir.display()
            );
            Progress::new(Utc::now(), registry.missions.len())
        }
        Err(e) => panic!("the saved load does not read: {e}"),
    };
    let resumed_at = progress.loaded;
    let crises = 6;
    let mut year = YearOfItems::new(
        &registry,
        &id_words,
        &en_words,
        20_261_128,
        progress.now,
        crises,
    );
    // The items loaded in earlier sittings: generated again (the same stream), not loaded.
    let mut per_mission: HashMap<String, usize> = HashMap::new();
    for i in year.by_ref().take(resumed_at) {
        *per_mission.entry(i.mission).or_default() += 1;
    }
    let _ = std::fs::remove_file(dir.join("STOP"));
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if interrupted.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!("second Ctrl-C: stopping now (the last saved batch stands)");
                    std::process::exit(130);
                }
                eprintln!("Ctrl-C: the sitting ends after the batch in hand (Ctrl-C again: now)");
            }
        });
    }

    let table = Arc::new(CountingTable::new(
        SqliteTable::open(&dir.join("pantau.sqlite")).expect("sqlite"),
    ));
    let blobs = Arc::new(DiskBlobStore::new(dir.join("bucket")).expect("blobs"));
    sync_registry(table.as_ref(), &registry)
        .await
        .expect("mission records");
    write_source_states(table.as_ref(), &registry, Utc::now()).await;
    let key = access::create_key(table.as_ref(), "scale")
        .await
        .expect("an API key")
        .secret;
    let config = pantau_tests::scale::unlimited_api_config();
    let state = ApiState::new(table.clone(), registry.clone(), &config)
        .await
        .expect("api state");
    let api = Api {
        router: router(state),
        key: key.clone(),
        table: table.clone(),
    };
    // The same-run baselines (`BEFORE_ROLLUPS`) go through a router of their own, over another
    // handle on the same file: a router remembers each mission's marker once it has seen it
    // (`rollup::remember_markers_of`), so the main one would keep reading the role index with
    // the marker taken away.
    let baseline_table = Arc::new(CountingTable::new(table.inner().clone()));
    let baseline_state = ApiState::new(baseline_table.clone(), registry.clone(), &config)
        .await
        .expect("api state");
    let baseline_api = Api {
        router: router(baseline_state),
        key,
        table: baseline_table,
    };
    let mut loader = Loader {
        blobs,
        reconciler: Arc::new(Reconciler {
            blobs: Arc::new(DiskBlobStore::new(dir.join("bucket")).expect("blobs")),
            table: table.clone(),
            registry: registry.clone(),
        }),
        objects: progress.objects,
    };
    // No sample (`PANTAU_SCALE_SAMPLE=0`): grouped from the first item.
    if progress.sample_rate.is_some() || knobs.sample == 0 {
        table
            .inner()
            .group_commits(GROUP_WRITES)
            .await
            .expect("grouped commits");
    }

    println!(
        "== scale: {} missions ({}× the registry), {} items, checkpoints {:?}; store in {}{}",
        registry.missions.len(),
        factor,
        knobs.items,
        knobs.checkpoints,
        dir.display(),
        if resumed_at > 0 {
            format!(
                "; resumed at {resumed_at} items ({} checkpoints measured before)",
                progress.checkpoints.len()
            )
        } else {
            String::new()
        }
    );
    let doc_path = knobs
        .doc
        .clone()
        .unwrap_or_else(|| work.join("performance.md"));
    let mut rng = fastrand::Rng::with_seed(7 + resumed_at as u64);
    // Items per batch: the unit of progress saved, and the longest wait for a stop.
    const BATCH: usize = 5_000;
    let started_all = Instant::now();
    let sitting_began = Utc::now();
    let mut stopped: Option<String> = None;
    // `PANTAU_SCALE_REMEASURE=1`: the queries of the checkpoint the store stands at, timed again
    // (on a quieter machine, or after a change to the API), and nothing loaded.
    let remeasure = std::env::var("PANTAU_SCALE_REMEASURE").is_ok_and(|v| v == "1");
    let checkpoints_left: Vec<usize> = if remeasure {
        assert!(
            progress
                .checkpoints
                .iter()
                .any(|c| c.items == progress.loaded),
            "PANTAU_SCALE_REMEASURE: the store is at {} items, not at a measured checkpoint",
            progress.loaded
        );
        vec![progress.loaded]
    } else {
        knobs
            .checkpoints
            .iter()
            .copied()
            .filter(|c| progress.checkpoints.iter().all(|done| done.items != *c))
            .filter(|c| *c >= progress.loaded)
            .collect()
    };
    // The last progress line's items and loading time: the rate of the stretch since.
    let mut last_line = (progress.loaded, progress.load_time);
    'checkpoints: for checkpoint in checkpoints_left {
        if progress.loaded > 0 && progress.loaded < checkpoint {
            // Will it fit, on disk and in the budget, at the rate and size per item so far?
            let loaded = progress.loaded;
            let per_item = store_bytes(&dir) as f64 / loaded as f64;
            let needed = per_item * (checkpoint - loaded) as f64 * 1.1;
            let free = free_bytes(&dir).unwrap_or(u64::MAX) as f64;
            let reserve = 5.0 * 1024.0 * 1024.0 * 1024.0;
            let rate = loaded as f64 / progress.load_time.as_secs_f64();
            let projected = started_all.elapsed()
                + Duration::from_secs_f64((checkpoint - loaded) as f64 / rate);
            if needed > free - reserve {
                progress.notes.push(format!(
                    "{checkpoint} items not run: at {:.1} KB per item the store would need another \
                     {:.1} GB, and {:.1} GB are free (5 GiB kept in reserve).",
                    per_item / 1000.0,
                    needed / 1e9,
                    free / 1e9
                ));
                break;
            }
            // A resumable store goes on to the budget's end and stops there; a temporary one
            // would lose it, so it skips a checkpoint it cannot reach.
            if knobs.store.is_none() && knobs.budget.is_some_and(|b| projected > b) {
                progress.notes.push(format!(
                    "{checkpoint} items not run: at {rate:.0} items/s loading would end {:.0} min \
                     into the run, past the budget of {} min.",
                    projected.as_secs_f64() / 60.0,
                    knobs.budget.map_or(0, |b| b.as_secs() / 60)
                ));
                break;
            }
        }
        while progress.loaded < checkpoint {
            if let Some(why) = stop_requested(&dir, &interrupted).or_else(|| {
                (knobs.store.is_some() && knobs.budget.is_some_and(|b| started_all.elapsed() > b))
                    .then_some("the budget")
            }) {
                stopped = Some(why.to_owned());
                break 'checkpoints;
            }
            let grouped = progress.sample_rate.is_some() || knobs.sample == 0;
            let size = if grouped { BATCH } else { knobs.sample };
            let batch: Vec<NormalizedItem> = year
                .by_ref()
                .take(size.min(checkpoint - progress.loaded))
                .collect();
            for i in &batch {
                *per_mission.entry(i.mission.clone()).or_default() += 1;
            }
            let before = progress.loaded;
            let redelivery = progress.batch_in_hand;
            progress.batch_in_hand = true;
            progress.save(&dir);
            progress.loaded += batch.len();
            table.reset();
            let started = Instant::now();
            let r = loader.load(batch).await;
            // Committed before the progress says so: a saved batch is a stored batch.
            table.inner().commit().await.expect("batch committed");
            progress.load_time += started.elapsed();
            progress.segment_time += started.elapsed();
            if !grouped {
                // The real reconcile as it runs in `pantau run`: one commit per write.
                let rate = progress.loaded as f64 / started.elapsed().as_secs_f64();
                progress.sample_rate = Some((progress.loaded, rate));
                println!(
                    "  sample: {} items with one commit per write, {rate:.0} items/s; grouped commits from here",
                    progress.loaded
                );
                table
                    .inner()
                    .group_commits(GROUP_WRITES)
                    .await
                    .expect("grouped commits");
            }
            let c = table.counts();
            progress.table_requests.0 += c.reads();
            progress.table_requests.1 += c.writes();
            progress.table_requests.2 += c.items_read;
            add(&mut progress.report, &r);
            progress.batch_in_hand = false;
            if redelivery {
                let again = r.changed + r.unchanged + r.stale;
                progress.redelivered += again;
                progress.notes.push(format!(
                    "Items {before} to {} were delivered a second time: the sitting before ended \
                     inside their batch; {again} of them were already stored.",
                    progress.loaded
                ));
            }
            progress.objects = loader.objects;
            progress.save(&dir);
            if progress.loaded / 25_000 > before / 25_000 || progress.loaded == checkpoint {
                let (items, time) = last_line;
                let stretch = (progress.loaded - items) as f64
                    / (progress.load_time - time).as_secs_f64().max(1e-3);
                println!(
                    "  loaded {} items, {:.0} items/s so far ({stretch:.0} since {items}), \
                     store {}, {} groups committed early in this sitting (cache full), {} UTC",
                    progress.loaded,
                    progress.loaded as f64 / progress.load_time.as_secs_f64(),
                    mib(store_bytes(&dir)),
                    table.inner().spill_commits(),
                    Utc::now().format("%H:%M")
                );
                last_line = (progress.loaded, progress.load_time);
            }
        }
        // Pending writes committed and the WAL emptied: the file's size is the store's.
        table.inner().checkpoint().await.expect("checkpoint");
        if remeasure {
            let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
            // The last time of a column stands: an earlier note on it goes.
            let again = format!("The {checkpoint}-item column was measured again");
            progress.notes.retain(|n| !n.starts_with(&again));
            progress.notes.push(format!(
                "The {checkpoint}-item column was measured again on {} UTC \
                 (`PANTAU_SCALE_REMEASURE=1`), load average {} before.",
                Utc::now().format("%Y-%m-%d %H:%M"),
                load.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        } else {
            progress.load_lines.push(format!(
                "| {} → {checkpoint} | {:.0} | {} |",
                progress.segment_from,
                (checkpoint - progress.segment_from) as f64 / progress.segment_time.as_secs_f64(),
                mib(store_bytes(&dir))
            ));
            progress.segment_from = checkpoint;
            progress.segment_time = Duration::ZERO;
        }
        let kinds = query_set(
            &registry,
            &per_mission,
            &year.crises,
            &id_words,
            &en_words,
            knobs.requests,
            &mut rng,
        );
        let mut queries = Vec::new();
        for (name, uris) in &kinds {
            let mut measured = vec![api.measure(name, uris).await];
            // The same-run baseline of the queries the role index and the daily counts answer:
            // the same calls with the mission's marker taken away, so the API reads its time
            // index as it did before them (plus the marker's probe).
            if BEFORE_ROLLUPS.contains(&name.as_str()) {
                let mission = uris[0].split('/').nth(2).unwrap_or_default();
                let marker = Key::new(schema::activity_pk(mission), schema::ACTIVITY_COMPLETE_SK);
                let saved = table.get(&marker).await.expect("marker").expect("a marker");
                table
                    .delete(&marker, Condition::None)
                    .await
                    .expect("marker taken");
                let before = format!("{name}, time index (before)");
                measured.push(baseline_api.measure(&before, uris).await);
                table
                    .put(saved, Condition::None)
                    .await
                    .expect("marker back");
            }
            for m in measured {
                println!(
                    "  {:>9} items  {:<55} p50 {:>7} ms  p99 {:>7} ms  {:>7.1} table requests/call  {} results",
                    checkpoint,
                    m.name,
                    ms(m.p50),
                    ms(m.p99),
                    m.table_requests_per_call,
                    m.first_results
                );
                queries.push(m);
            }
        }
        table
            .inner()
            .commit()
            .await
            .expect("marker writes committed");
        progress.checkpoints.retain(|c| c.items != checkpoint);
        progress.checkpoints.push(Checkpoint {
            items: checkpoint,
            store_bytes: store_bytes(&dir),
            queries,
        });
        progress.save(&dir);
        // Written at every checkpoint, so a run stopped later still leaves its figures.
        write_doc(
            &doc_path,
            &render(&report_of(&registry, &knobs, &progress, &dir, &work)),
        );
    }
    table.inner().checkpoint().await.expect("checkpoint");
    if progress.loaded > resumed_at {
        let secs = (Utc::now() - sitting_began).num_seconds().max(1);
        progress.sittings.push(format!(
            "{} → {} UTC: items {resumed_at} → {}{}",
            sitting_began.format("%Y-%m-%d %H:%M"),
            Utc::now().format("%H:%M"),
            progress.loaded,
            stopped
                .as_ref()
                .map(|why| format!(" (stopped by {why})"))
                .unwrap_or_default()
        ));
        println!(
            "  this sitting: {} items in {secs} s with the checkpoints",
            progress.loaded - resumed_at
        );
        progress.save(&dir);
    }
    if let Some(why) = &stopped {
        println!(
            "stopped by {why} at {} items, saved: the same command goes on from there ({})",
            progress.loaded,
            dir.display()
        );
        return;
    }
    assert_eq!(
        progress.report.new + progress.redelivered,
        progress.loaded,
        "every generated item is new (or delivered again after a killed sitting): {:?}",
        progress.report
    );
    assert!(
        progress.report.crises_opened >= 1,
        "the planted crises open: {:?}",
        progress.report
    );

    let doc = render(&report_of(&registry, &knobs, &progress, &dir, &work));
    write_doc(&doc_path, &doc);
    println!("{doc}");
    println!("written to {}", doc_path.display());
    drop(api);
    drop(loader);
    if let Some(t) = temporary {
        if std::env::var("PANTAU_SCALE_KEEP").is_ok_and(|v| v == "1") {
            println!("store kept in {}", t.keep().display());
        }
        // Otherwise the store directory (and its SQLite file) goes with `t`.
    } else {
        println!("store kept in {} (PANTAU_SCALE_STORE)", dir.display());
    }
}

fn report_of<'a>(
    registry: &'a Registry,
    knobs: &'a Knobs,
    progress: &'a Progress,
    dir: &Path,
    work: &Path,
) -> Report<'a> {
    Report {
        registry,
        knobs,
        progress,
        breakdown: breakdown(&dir.join("pantau.sqlite")),
        fleet_cycles: std::fs::read_to_string(work.join("fleet-cycles.txt")).ok(),
    }
}

/// Below this line the document is prose written by hand, kept when the tables are rewritten.
const KEPT_BELOW: &str = "<!-- Written by hand below this line; `make scale` keeps it. -->";

/// Writes the generated tables, keeping the hand-written part of the file that is there.
fn write_doc(path: &Path, generated: &str) {
    let kept = std::fs::read_to_string(path)
        .ok()
        .and_then(|old| old.find(KEPT_BELOW).map(|at| old[at..].to_owned()))
        .unwrap_or_else(|| format!("{KEPT_BELOW}\n"));
    std::fs::write(path, format!("{generated}\n{kept}")).expect("performance.md written");
}

/// Everything the document shows.
struct Report<'a> {
    registry: &'a Registry,
    knobs: &'a Knobs,
    progress: &'a Progress,
    breakdown: Vec<(String, u64, u64)>,
    /// What `bench_scrape::tenfold_registry` printed, when it ran before (`make scale`).
    fleet_cycles: Option<String>,
}

fn render(r: &Report) -> String {
    let Report {
        registry,
        knobs,
        progress,
        ref breakdown,
        ref fleet_cycles,
    } = *r;
    let Progress {
        ref checkpoints,
        ref load_lines,
        ref notes,
        loaded,
        load_time,
        ref report,
        table_requests,
        objects,
        sample_rate,
        ref sittings,
        ..
    } = *progress;
    let mut out = String::new();
    out.push_str("# Performance at scale\n\n");
    out.push_str(
        "Written by `make scale` (`tests/tests/scale.rs`): do not edit by hand. A 10× fleet and a \
         year of items on the embedded store (SQLite file), loaded by the real reconcile; the \
         API's queries through the real axum router, in-process.\n\n",
    );
    out.push_str(&format!("Machine: {}.\n\n", machine()));
    out.push_str(&format!(
        "World: {} missions ({} countries), {} sources; {} items over the 365 days before the \
         run (20% official, 78% host-country media, 2% hazard events, skewed by mission), \
         {} planted crises; Indonesian and English words of the recorded sources, Zipf-ranked.\n\n",
        registry.missions.len(),
        {
            let mut c: Vec<&str> = registry
                .missions
                .iter()
                .map(|m| m.country_code.as_str())
                .collect();
            c.sort();
            c.dedup();
            c.len()
        },
        registry.len_sources(),
        knobs.items,
        6
    ));
    if let Some(cycles) = fleet_cycles {
        out.push_str(
            "## Scrape cycles of the 10× fleet on loopback\n\n`bench_scrape::tenfold_registry`: every \
             host of the registry's sources is its own fixture host on 127.1.x.y; the real scraper and \
             fetcher, `PANTAU_BENCH_CYCLES` cycles (the first all new, the second all unchanged); requests as the servers saw them.\n\n```\n",
        );
        out.push_str(cycles);
        out.push_str("```\n\n");
    }
    out.push_str("## Loading (real reconcile, objects of 100 items, 4 at once)\n\n");
    if let Some((n, rate)) = sample_rate {
        out.push_str(&format!(
            "The first {n} items with one SQLite commit per write, as `pantau run` writes: \
             **{rate:.0} items/s**. The rest with grouped commits ({GROUP_WRITES} writes per \
             commit, or fewer once the page cache is full, `SqliteTable::group_commits`): the \
             same reconcile and the same records \
             (`scale_load` compares the two tables), the write-ahead log written once per group.\n\n"
        ));
    }
    out.push_str(&format!(
        "{loaded} items in {:.0} s: **{:.0} items/s**; {objects} objects; table requests per item: \
         {:.1} reads returning {:.0} items, {:.1} writes; {} crises opened, {} responses linked.\n\n",
        load_time.as_secs_f64(),
        loaded as f64 / load_time.as_secs_f64(),
        table_requests.0 as f64 / loaded.max(1) as f64,
        table_requests.2 as f64 / loaded.max(1) as f64,
        table_requests.1 as f64 / loaded.max(1) as f64,
        report.crises_opened,
        report.responses_linked,
    ));
    out.push_str("| items | items/s in this stretch | store on disk after |\n|---|---|---|\n");
    for l in load_lines {
        out.push_str(l);
        out.push('\n');
    }
    for note in notes {
        out.push_str(&format!("\n{note}\n"));
    }
    if sittings.len() > 1 {
        out.push_str(&format!(
            "\nLoaded in {} sittings (`PANTAU_SCALE_STORE`: each went on from the last saved \
             batch; the rates above count loading time only):\n\n",
            sittings.len()
        ));
        for s in sittings {
            out.push_str(&format!("- {s}\n"));
        }
    }
    if !breakdown.is_empty() {
        out.push_str(&format!(
            "\nWhat the store holds after {loaded} items (rows, and bytes as stored by record kind: \
             keys, index keys and the item's compact, deflated rest; SQLite's pages and indexes \
             come on top, see the size on disk above):\n\n\
             | record | rows | rows per item | stored bytes | bytes per item |\n|---|---|---|---|---|\n"
        ));
        for (kind, rows, bytes) in breakdown {
            out.push_str(&format!(
                "| {kind} | {rows} | {:.1} | {} | {:.0} |\n",
                *rows as f64 / loaded.max(1) as f64,
                mib(*bytes),
                *bytes as f64 / loaded.max(1) as f64
            ));
        }
    }
    out.push_str("\n## API latency (ms) and table requests per call\n\n");
    out.push_str(&format!(
        "{} requests per query kind ({} for the whole-fleet lists), one at a time; each cell \
         `p50 / p99 (table requests per call)`.\n\n",
        knobs.requests,
        (knobs.requests / 10).max(3)
    ));
    let mut header = "| query |".to_owned();
    let mut rule = "|---|".to_owned();
    for c in checkpoints {
        header.push_str(&format!(" {} items |", c.items));
        rule.push_str("---|");
    }
    out.push_str(&header);
    out.push('\n');
    out.push_str(&rule);
    out.push('\n');
    // Rows by position in the query set (a name may differ between checkpoints: the busiest
    // mission is another one later). A query added to the set since a checkpoint was measured
    // has no cell there.
    let mut rows: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    for (column, c) in checkpoints.iter().enumerate() {
        for (i, q) in c.queries.iter().enumerate() {
            let row = rows.entry(i).or_insert_with(|| {
                (
                    q.name.clone(),
                    vec!["not measured".into(); checkpoints.len()],
                )
            });
            row.1[column] = format!(
                "{} / {} ({:.0})",
                ms(q.p50),
                ms(q.p99),
                q.table_requests_per_call
            );
        }
    }
    for (_, (name, cells)) in rows {
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    out.push_str("| store on disk |");
    for c in checkpoints {
        out.push_str(&format!(" {} |", mib(c.store_bytes)));
    }
    out.push_str("\n\n");
    out
}
