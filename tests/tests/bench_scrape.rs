//! The scrape benchmark (not a timed test: `#[ignore]`d, run by `make bench-scrape`).
//!
//! A fleet of fixture hosts on loopback (`pantau_tests::fleet`, one 127.1.x.y address per
//! host, so politeness is per host as in production), the real scraper and fetcher on the
//! embedded store, two cycles: the first over new sources (everything written), the second
//! over unchanged ones (conditional GETs, nothing written). Printed: wall time, what the
//! cycle did, requests per second and most requests in flight per host as measured at the
//! server, and peak memory (VmHWM) of this process (the fixture hosts included).
//!
//! Two worlds, each its own test so each process's VmHWM is its own:
//! - `fixture_fleet`: `PANTAU_BENCH_SOURCES` (1,000) sources shaped like the fleet: 40% kemlu
//!   portal sections on ONE host (as the ~132 mission portals share one API host), 13% news
//!   searches on one host, 13% GDELT on one host, three hazard feeds on three hosts, the rest
//!   media feeds five to a host;
//! - `real_registry`: the built-in registry (every source), each real host mapped to its own
//!   fleet address, so the host shares are the real ones.
//!
//! Knobs (environment): `PANTAU_BENCH_MIN_INTERVAL_MS` (100; production is 1000),
//! `PANTAU_BENCH_IN_FLIGHT` (2, production), `PANTAU_BENCH_CONCURRENT_SOURCES` (8, production),
//! `PANTAU_BENCH_LATENCY_MS` (50, the server's think time), `PANTAU_BENCH_CYCLES` (2; 1 for
//! the first cycle only).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pantau::fetch::{FetchPolicy, Fetcher};
use pantau::model::Source;
use pantau::registry::Registry;
use pantau::scrape::{CycleReport, ScrapeConfig, Scraper};
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau_tests::fleet::{FleetServer, HostFigures, fleet_address};
use reqwest::Url;
use serde_json::json;

struct Knobs {
    min_interval: Duration,
    in_flight: usize,
    concurrent_sources: usize,
    latency: Duration,
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn knobs() -> Knobs {
    Knobs {
        min_interval: Duration::from_millis(env_number("PANTAU_BENCH_MIN_INTERVAL_MS", 100)),
        in_flight: env_number("PANTAU_BENCH_IN_FLIGHT", 2) as usize,
        concurrent_sources: env_number("PANTAU_BENCH_CONCURRENT_SOURCES", 8) as usize,
        latency: Duration::from_millis(env_number("PANTAU_BENCH_LATENCY_MS", 50)),
    }
}

fn source(value: serde_json::Value) -> Source {
    serde_json::from_value(value).expect("a valid source")
}

/// `n` sources shaped like the fleet (see the module comment); returns the registry and the
/// number of hosts it uses.
fn fixture_registry(n: usize) -> (Registry, usize) {
    let portal = n * 40 / 100;
    let search = n * 13 / 100;
    let gdelt = n * 13 / 100;
    let hazard = 3.min(n - portal - search - gdelt);
    let feeds = n - portal - search - gdelt - hazard;
    let feed_hosts = feeds.div_ceil(5);
    let hosts = 6 + feed_hosts;
    // URLs name a host; `point_at_fleet` gives each its own fleet address. Five groups,
    // interleaved below as the real registry interleaves them (mission by mission).
    let mut groups: [Vec<Source>; 5] = Default::default();
    const SECTIONS: [&str; 3] = ["berita", "siaran-pers", "pengumuman"];
    for i in 0..portal {
        groups[0].push(source(json!({
            "id": format!("portal-{i}"), "kind": "kemlu_portal", "role": "official",
            "url": "http://host-0/public-content-service/api",
            "portal": format!("mission-{}", i / 3), "section": SECTIONS[i % 3],
            "cadence_minutes": 30,
        })));
    }
    for i in 0..search {
        groups[1].push(source(json!({
            "id": format!("news-search-{i}"), "kind": "feed", "role": "media",
            "url": format!("http://host-1/rss/search?q=Indonesia+{i}&hl=en"),
        })));
    }
    for i in 0..gdelt {
        groups[2].push(source(json!({
            "id": format!("gdelt-{i}"), "kind": "feed", "role": "media",
            "url": format!("http://host-2/api/v2/doc/doc?query=Indonesia+sourcecountry:{i}&format=rss"),
        })));
    }
    for i in 0..hazard {
        groups[3].push(source(json!({
            "id": format!("hazard-{i}"), "kind": "feed", "role": "hazard",
            "url": format!("http://host-{}/feed", 3 + i),
        })));
    }
    for i in 0..feeds {
        groups[4].push(source(json!({
            "id": format!("media-{i}"), "kind": "feed", "role": "media",
            "url": format!("http://host-{}/feed/{i}.xml", 6 + i / 5),
        })));
    }
    // Round-robin in proportion: every group spread evenly over the registry's order.
    let mut sources: Vec<(f64, Source)> = Vec::with_capacity(n);
    for group in groups {
        let len = group.len() as f64;
        sources.extend(
            group
                .into_iter()
                .enumerate()
                .map(|(i, s)| ((i as f64 + 0.5) / len, s)),
        );
    }
    sources.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sources = sources.into_iter().map(|(_, s)| s).collect();
    (
        Registry {
            global_sources: sources,
            ..Registry::default()
        },
        hosts,
    )
}

/// Every source's URL moved to the fleet: each distinct host (in order of first appearance)
/// to its own fleet host, path and query kept (with `fleet` None, a dry run). Returns the
/// original host names, by fleet index.
fn point_at_fleet(registry: &mut Registry, fleet: Option<&FleetServer>) -> Vec<String> {
    let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
    let all = registry
        .missions
        .iter_mut()
        .flat_map(|m| m.sources.iter_mut())
        .chain(registry.hq_sources.iter_mut())
        .chain(registry.global_sources.iter_mut());
    for source in all {
        let Ok(url) = Url::parse(&source.url) else {
            continue;
        };
        let host = url.host_str().unwrap_or("").to_owned();
        let next = hosts.len();
        let index = *hosts.entry(host).or_insert(next);
        if let Some(fleet) = fleet {
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            source.url = format!("{}{}{query}", fleet.base_url(index), url.path());
        }
    }
    let mut names = vec![String::new(); hosts.len()];
    for (host, index) in hosts {
        names[index] = host;
    }
    names
}

/// `println!` that also appends the line to a String.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let line = format!($($arg)*);
        println!("{line}");
        $out.push_str(&line);
        $out.push('\n');
    }};
}

/// Peak and current resident memory of this process, in MiB (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Runs the cycles; returns what it printed (for `make scale`'s document).
async fn bench(title: &str, mut registry: Registry) -> String {
    let mut out = String::new();
    let knobs = knobs();
    let hosts = point_at_fleet(&mut registry.clone(), None);
    let fleet = FleetServer::start(hosts.len(), knobs.latency)
        .await
        .expect("fleet hosts on 127.1.x.y (Linux routes 127/8 to loopback)");
    point_at_fleet(&mut registry, Some(&fleet));
    let host_name = |address: &std::net::Ipv4Addr| {
        (0..hosts.len())
            .find(|i| fleet_address(*i) == *address)
            .map_or("?", |i| hosts[i].as_str())
    };
    let sources = registry.sources().count();
    // Sources per host, to show the busiest hosts with their load.
    let mut per_host: BTreeMap<String, usize> = BTreeMap::new();
    for s in registry.sources() {
        if let Some(host) = Url::parse(&s.source.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
        {
            *per_host.entry(host).or_default() += 1;
        }
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let table = Arc::new(SqliteTable::open(&dir.path().join("pantau.sqlite")).expect("sqlite"));
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("raw")).expect("blobs"));
    let policy = FetchPolicy {
        allow_private_networks: true,
        per_host_min_interval: knobs.min_interval,
        per_host_max_in_flight: knobs.in_flight,
        ..FetchPolicy::default()
    };
    let scraper = Scraper {
        registry: Arc::new(registry),
        blobs,
        table,
        fetcher: Fetcher::new(policy).expect("fetcher"),
        config: ScrapeConfig {
            max_concurrent_sources: knobs.concurrent_sources,
            cycle_budget: None,
            ..ScrapeConfig::default()
        },
    };

    say!(out, "");
    say!(
        out,
        "== {title}: {sources} sources on {} hosts; per host at most {} in flight and {} ms \
         between starts; {} sources at once; server think time {} ms",
        fleet.len(),
        knobs.in_flight,
        knobs.min_interval.as_millis(),
        knobs.concurrent_sources,
        knobs.latency.as_millis()
    );
    let (hwm_before, _) = memory_mib();
    say!(
        out,
        "{:<6} {:>8} {:>6} {:>7} {:>7} {:>9} {:>6} {:>7} {:>8} {:>8} {:>11} {:>12}",
        "cycle",
        "wall_s",
        "due",
        "fetched",
        "changed",
        "unchanged",
        "failed",
        "written",
        "requests",
        "req/s",
        "busiest_rps",
        "max_inflight"
    );
    let now = Utc::now();
    let mut busiest = Vec::new();
    let cycles = env_number("PANTAU_BENCH_CYCLES", 2).clamp(1, 2);
    for (cycle, at) in [(1, now), (2, now + chrono::Duration::days(2))]
        .into_iter()
        .take(cycles as usize)
    {
        let started = Instant::now();
        let report: CycleReport = scraper.run_cycle(at).await;
        let wall = started.elapsed();
        let figures = fleet.take_figures();
        let requests: u64 = figures.iter().map(|f| f.requests).sum();
        let busiest_rps = figures
            .iter()
            .map(HostFigures::requests_per_second)
            .fold(0.0, f64::max);
        let max_in_flight = figures.iter().map(|f| f.max_in_flight).max().unwrap_or(0);
        say!(
            out,
            "{:<6} {:>8.1} {:>6} {:>7} {:>7} {:>9} {:>6} {:>7} {:>8} {:>8.1} {:>11.2} {:>12}",
            cycle,
            wall.as_secs_f64(),
            report.due,
            report.fetched,
            report.changed,
            report.unchanged,
            report.failed.len(),
            report.written.len(),
            requests,
            requests as f64 / wall.as_secs_f64(),
            busiest_rps,
            max_in_flight
        );
        for failure in report.failed.iter().take(3) {
            say!(
                out,
                "       failed: {}/{}: {}",
                failure.owner,
                failure.source,
                failure.error
            );
        }
        // Politeness held, as the servers saw it.
        assert!(
            max_in_flight <= knobs.in_flight,
            "a host saw {max_in_flight} requests at once"
        );
        if cycle == 2 {
            assert!(
                report.written.is_empty(),
                "an unchanged cycle wrote {:?}",
                report.written
            );
        }
        if cycle == 1 {
            busiest = figures;
        }
    }
    let (hwm_after, rss_after) = memory_mib();
    say!(out, "busiest hosts in cycle 1 (as measured at the server):");
    say!(
        out,
        "  {:<12} {:<26} {:>8} {:>9} {:>9} {:>7} {:>12}",
        "address",
        "stands for",
        "sources",
        "requests",
        "window_s",
        "req/s",
        "max_inflight"
    );
    for f in busiest.iter().take(5) {
        say!(
            out,
            "  {:<12} {:<26} {:>8} {:>9} {:>9.1} {:>7.2} {:>12}",
            f.address.to_string(),
            host_name(&f.address),
            per_host.get(&f.address.to_string()).copied().unwrap_or(0),
            f.requests,
            f.window.as_secs_f64(),
            f.requests_per_second(),
            f.max_in_flight
        );
    }
    say!(
        out,
        "peak memory (VmHWM): {hwm_before:.1} MiB before the cycles, {hwm_after:.1} MiB after \
         (VmRSS now {rss_after:.1} MiB; the fixture hosts run in this process)"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-scrape"]
async fn fixture_fleet() {
    let n = env_number("PANTAU_BENCH_SOURCES", 1000) as usize;
    let (registry, hosts) = fixture_registry(n);
    assert_eq!(point_at_fleet(&mut registry.clone(), None).len(), hosts);
    bench(&format!("fixture fleet ({n} sources)"), registry).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-scrape"]
async fn real_registry() {
    let registry = Registry::load_default().expect("the built-in registry");
    bench("real registry (built-in, real host shares)", registry).await;
}

/// The registry ten times over (`pantau_tests::scale::fleet_registry`: every mission copied
/// with its sources, so the real host shares hold at 1,340 missions); `make scale` runs it.
/// `PANTAU_BENCH_FLEET_FACTOR` (10) sets how many times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make scale"]
async fn tenfold_registry() {
    let factor = env_number("PANTAU_BENCH_FLEET_FACTOR", 10) as usize;
    let base = Registry::load_default().expect("the built-in registry");
    let registry = pantau_tests::scale::fleet_registry(&base, factor);
    let printed = bench(
        &format!(
            "the registry {factor} times ({} missions, real host shares)",
            registry.missions.len()
        ),
        registry,
    )
    .await;
    // For `scale_store` (tests/tests/scale.rs), which puts it in docs/performance.md.
    let exe = std::env::current_exe().expect("the test binary's path");
    if let Some(target) = exe.ancestors().nth(3) {
        let dir = target.join("scale");
        std::fs::create_dir_all(&dir).expect("scale dir");
        std::fs::write(dir.join("fleet-cycles.txt"), printed).expect("fleet cycles written");
    }
}
