//! A fleet of well-behaved fixture hosts on loopback, for the scrape benchmark
//! (`tests/tests/bench_scrape.rs`, `make bench-scrape`).
//!
//! Each host is its own loopback address (127.1.x.y), so the fetcher's per-host politeness
//! gates see as many hosts as the fleet has, and each listener measures what it was sent:
//! requests, the window between the first and the last, and the most requests it had in
//! flight at once. Every host answers:
//! - `/robots.txt`: allow everything;
//! - `.../contentMenu?...`: a kemlu-like list page of two publications (shorter than any page
//!   size, so the scraper reads one page per portal source);
//! - anything else: a small RSS feed;
//!
//! each with an ETag, and `304 Not Modified` to a matching `If-None-Match`, after
//! `latency` (the server's think time, during which the request counts as in flight).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// The `i`-th fleet address: 127.1.0.1, 127.1.0.2, ... (200 per third octet).
pub fn fleet_address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (i / 200) as u8, (i % 200 + 1) as u8)
}

/// What one host saw.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFigures {
    pub address: Ipv4Addr,
    pub requests: u64,
    /// From the first request's arrival to the last's.
    pub window: Duration,
    pub max_in_flight: usize,
}

impl HostFigures {
    /// Requests per second over the host's window (0 with fewer than two requests): the rate
    /// the fetcher actually sent at.
    pub fn requests_per_second(&self) -> f64 {
        if self.requests < 2 || self.window.is_zero() {
            return 0.0;
        }
        (self.requests - 1) as f64 / self.window.as_secs_f64()
    }
}

#[derive(Default)]
struct HostCounters {
    requests: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// First and last arrival.
    window: Mutex<Option<(Instant, Instant)>>,
}

struct Host {
    address: Ipv4Addr,
    port: u16,
    counters: Arc<HostCounters>,
}

#[derive(Clone)]
struct HostState {
    counters: Arc<HostCounters>,
    latency: Duration,
}

/// `hosts` listeners, one per fleet address. Dropping it stops them.
pub struct FleetServer {
    hosts: Vec<Host>,
    tasks: Vec<JoinHandle<()>>,
}

impl FleetServer {
    pub async fn start(hosts: usize, latency: Duration) -> std::io::Result<FleetServer> {
        let mut fleet = FleetServer {
            hosts: Vec::with_capacity(hosts),
            tasks: Vec::with_capacity(hosts),
        };
        for i in 0..hosts {
            let address = fleet_address(i);
            let listener = tokio::net::TcpListener::bind(SocketAddr::from((address, 0))).await?;
            let port = listener.local_addr()?.port();
            let counters = Arc::new(HostCounters::default());
            let router = Router::new().fallback(answer).with_state(HostState {
                counters: counters.clone(),
                latency,
            });
            fleet.tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    eprintln!("fleet host {address} stopped: {e}");
                }
            }));
            fleet.hosts.push(Host {
                address,
                port,
                counters,
            });
        }
        Ok(fleet)
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// `http://127.1.x.y:PORT` of host `i`.
    pub fn base_url(&self, i: usize) -> String {
        let host = &self.hosts[i % self.hosts.len()];
        format!("http://{}:{}", host.address, host.port)
    }

    /// Each host's figures since the last call, busiest first; the counters start again.
    pub fn take_figures(&self) -> Vec<HostFigures> {
        let mut figures: Vec<HostFigures> = self
            .hosts
            .iter()
            .map(|h| {
                let window = h
                    .counters
                    .window
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                HostFigures {
                    address: h.address,
                    requests: h.counters.requests.swap(0, Ordering::SeqCst),
                    window: window.map(|(first, last)| last - first).unwrap_or_default(),
                    max_in_flight: h.counters.max_in_flight.swap(0, Ordering::SeqCst),
                }
            })
            .collect();
        figures.sort_by_key(|f| std::cmp::Reverse(f.requests));
        figures
    }
}

impl Drop for FleetServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Decrements the in-flight count however the handler ends (a client may hang up).
struct InFlight(Arc<HostCounters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn answer(State(host): State<HostState>, request: Request) -> Response {
    let counters = &host.counters;
    let now = Instant::now();
    counters.requests.fetch_add(1, Ordering::SeqCst);
    {
        let mut window = counters.window.lock().unwrap_or_else(|p| p.into_inner());
        let first = window.map_or(now, |(first, _)| first);
        *window = Some((first, now));
    }
    let in_flight = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counters
        .max_in_flight
        .fetch_max(in_flight, Ordering::SeqCst);
    let _in_flight = InFlight(counters.clone());
    if !host.latency.is_zero() {
        tokio::time::sleep(host.latency).await;
    }

    let path = request.uri().path().to_owned();
    if path == "/robots.txt" {
        return "User-agent: *\nAllow: /\n".into_response();
    }
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    // Content never changes, so a hash of the target is an honest validator.
    let etag = format!("\"{:016x}\"", fnv1a(target.as_bytes()));
    if if_none_match(request.headers()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let (content_type, body) = if path.ends_with("/contentMenu") {
        ("application/json", portal_page(&target))
    } else {
        ("application/rss+xml", feed(&target))
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

fn if_none_match(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn portal_page(target: &str) -> String {
    let id = fnv1a(target.as_bytes()) % 1_000_000;
    let publications: Vec<serde_json::Value> = (0..2)
        .map(|i| {
            serde_json::json!({
                "id": id * 10 + i,
                "slug": format!("bench-{id}-{i}"),
                "title": format!("Publication {i} of {target}"),
                "publish_date": "2025-06-02 08:00:00",
                "category": {"slug": "berita"},
            })
        })
        .collect();
    serde_json::json!({
        "status": true,
        "message": "Success",
        "data": {"publication": publications, "meta": {"page": 1, "last_page": 1}},
    })
    .to_string()
}

fn feed(target: &str) -> String {
    let items: String = (0..5)
        .map(|i| {
            format!(
                "<item><title>Item {i} of {target}</title><link>http://example.invalid{target}#{i}</link>\
                 <guid>{target}#{i}</guid><pubDate>Mon, 02 Jun 2025 08:00:00 +0000</pubDate>\
                 <description>Indonesia and its citizens abroad, item {i}.</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>bench</title><link>http://example.invalid/</link><description>bench</description>\
         {items}</channel></rss>\n"
    )
}
