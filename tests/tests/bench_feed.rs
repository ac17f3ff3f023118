//! The busiest mission's feeds over a store kept by `make scale` (`PANTAU_SCALE_KEEP=1`):
//! p50 and p99 of the plain feed (time index) and the official-only feed (role index) through
//! the real axum router, several repetitions, and table requests per call. `#[ignore]`d: run by
//! `make bench-feed FEED_STORE=… FEED_MISSION=…`, the same binary built at two commits and run
//! alternately for a same-command baseline (the figures are machine-dependent; compare ratios).
//!
//! Knobs: `PANTAU_FEED_STORE` (the kept store's directory or its `pantau.sqlite`; the bench
//! skips with a message without it), `PANTAU_FEED_MISSION` (the busiest mission, as the scale
//! run printed it), `PANTAU_FEED_MISSIONS` (1320: the scale run's fleet), `PANTAU_FEED_REQUESTS`
//! (200 per repetition and feed), `PANTAU_FEED_REPS` (5), `PANTAU_FEED_ONLY` (`official` or
//! `plain`: one feed only, for a profiler).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, StatusCode};
use pantau::api::{ApiState, access, router};
use pantau::registry::Registry;
use pantau::store::sqlite::SqliteTable;
use pantau::store::testing::CountingTable;
use pantau_tests::scale::fleet_registry;
use tower::ServiceExt;

/// The allocator `pantau` runs the embedded store with; `--features system-allocator` measures
/// glibc's instead.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark over a kept scale store: make bench-feed"]
async fn busiest_feeds_over_a_kept_store() {
    let Some(store) = std::env::var_os("PANTAU_FEED_STORE").map(PathBuf::from) else {
        println!("skipped: PANTAU_FEED_STORE names no kept scale store");
        return;
    };
    let file = if store.is_dir() {
        store.join("pantau.sqlite")
    } else {
        store
    };
    if !file.exists() {
        println!("skipped: no store at {}", file.display());
        return;
    }
    let mission = std::env::var("PANTAU_FEED_MISSION").expect("PANTAU_FEED_MISSION");
    let base = Registry::load_default().expect("the built-in registry");
    let factor = env_number("PANTAU_FEED_MISSIONS", 1320).div_ceil(base.missions.len());
    let registry = Arc::new(fleet_registry(&base, factor.max(1)));
    let table = Arc::new(CountingTable::new(
        SqliteTable::open(&file).expect("sqlite"),
    ));
    let key = access::create_key(table.as_ref(), "bench-feed")
        .await
        .expect("an API key")
        .secret;
    let config = pantau_tests::scale::unlimited_api_config();
    let app = router(
        ApiState::new(table.clone(), registry, &config)
            .await
            .expect("api state"),
    );
    let call = |uri: String| {
        let app = app.clone();
        let key = key.clone();
        async move {
            let request = Request::get(&uri)
                .header("x-api-key", key)
                .body(Body::empty())
                .expect("a request");
            let response = app.oneshot(request).await.expect("infallible");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body");
            assert_eq!(status, StatusCode::OK, "{uri}: {body:?}");
            body.len()
        }
    };
    let feeds = [
        ("plain", format!("/missions/{mission}/items")),
        (
            "official",
            format!("/missions/{mission}/items?role=official"),
        ),
    ];
    let only = std::env::var("PANTAU_FEED_ONLY").ok();
    let (requests, reps) = (
        env_number("PANTAU_FEED_REQUESTS", 200),
        env_number("PANTAU_FEED_REPS", 5),
    );
    for rep in 1..=reps {
        for (name, uri) in &feeds {
            if only.as_deref().is_some_and(|o| o != *name) {
                continue;
            }
            let bytes = call(uri.clone()).await; // warm-up (and the marker, once)
            table.reset();
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let started = Instant::now();
                call(uri.clone()).await;
                times.push(started.elapsed());
            }
            times.sort();
            let counts = table.counts();
            println!(
                "rep {rep} {name:<8} p50 {:6.2} ms  p99 {:6.2} ms  {:.1} requests/call  {bytes} bytes",
                ms(percentile(&times, 0.50)),
                ms(percentile(&times, 0.99)),
                (counts.reads() + counts.writes()) as f64 / requests as f64,
            );
        }
    }
}
