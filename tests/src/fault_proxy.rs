//! A fault-injecting HTTP proxy on loopback, in front of moto: the AWS SDK clients are pointed
//! at it instead of at moto, and it answers a configurable share of their requests the way a
//! throttled or failing AWS does, and slows every request down.
//!
//! Three kinds of fault, in equal shares of `fault_rate`:
//! - throttling, not forwarded: DynamoDB's `ProvisionedThroughputExceededException` or
//!   `ThrottlingException` (400, JSON), S3's `SlowDown` (503, XML);
//! - a server error, not forwarded: DynamoDB `InternalServerError` (500), S3 `InternalError`
//!   (500);
//! - a server error *after* forwarding: moto did the work, the answer is lost (as when a
//!   connection drops after the write). The caller cannot tell it from the one above, so
//!   its retry meets its own earlier write: this is what tests idempotency.
//!
//! Which requests fail is drawn from a seeded generator; with requests in flight at once the
//! draw order follows arrival, so runs repeat in kind and rate, not request by request.
//! Retries are counted from the SDK's `amz-sdk-request: attempt=N` header.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// What the proxy does to requests.
#[derive(Debug, Clone, Copy)]
pub struct FaultConfig {
    /// Share of requests answered with a fault, 0.0 to 1.0.
    pub fault_rate: f64,
    /// Every request waits a uniformly drawn 0..=`max_latency` before it is handled.
    pub max_latency: Duration,
    pub seed: u64,
}

/// What the proxy has seen and done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyCounts {
    pub requests: u64,
    /// Requests the SDK marked as a retry (`attempt` above 1).
    pub retries: u64,
    pub throttled: u64,
    /// 5xx answered without forwarding.
    pub server_errors: u64,
    /// 5xx answered after moto did the work.
    pub lost_answers: u64,
    pub dynamodb: u64,
    pub s3: u64,
}

impl ProxyCounts {
    pub fn faults(&self) -> u64 {
        self.throttled + self.server_errors + self.lost_answers
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    server_errors: AtomicU64,
    lost_answers: AtomicU64,
    dynamodb: AtomicU64,
    s3: AtomicU64,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    config: Mutex<FaultConfig>,
    rng: Mutex<fastrand::Rng>,
    counters: Counters,
}

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttle,
    ServerError,
    LostAnswer,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (e.g. moto's endpoint,
    /// which must itself be on loopback).
    pub async fn start(upstream: &str, config: FaultConfig) -> anyhow::Result<FaultProxy> {
        anyhow::ensure!(
            ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
                .iter()
                .any(|p| upstream.starts_with(p)),
            "the proxy forwards to loopback only, not {upstream}"
        );
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            config: Mutex::new(config),
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            counters: Counters::default(),
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FaultProxy { addr, shared, task })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the fault rate and latency from now on (e.g. none while setting up).
    pub fn set_config(&self, config: FaultConfig) {
        if let Ok(mut c) = self.shared.config.lock() {
            *c = config;
        }
    }

    pub fn counts(&self) -> ProxyCounts {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ProxyCounts {
            requests: get(&c.requests),
            retries: get(&c.retries),
            throttled: get(&c.throttled),
            server_errors: get(&c.server_errors),
            lost_answers: get(&c.lost_answers),
            dynamodb: get(&c.dynamodb),
            s3: get(&c.s3),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The attempt number the SDK puts in `amz-sdk-request` (`attempt=2; max=3`), 1 without it.
fn attempt(headers: &HeaderMap) -> u32 {
    headers
        .get("amz-sdk-request")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .find_map(|part| part.trim().strip_prefix("attempt="))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(1)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let counters = &shared.counters;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    if attempt(request.headers()) > 1 {
        counters.retries.fetch_add(1, Ordering::Relaxed);
    }
    // DynamoDB's JSON protocol names the operation in `x-amz-target`; the rest is S3.
    let dynamodb = request.headers().contains_key("x-amz-target");
    let service_counter = if dynamodb {
        &counters.dynamodb
    } else {
        &counters.s3
    };
    service_counter.fetch_add(1, Ordering::Relaxed);

    let config = shared.config.lock().map(|c| *c).unwrap_or(FaultConfig {
        fault_rate: 0.0,
        max_latency: Duration::ZERO,
        seed: 0,
    });
    let (pause, fault) = match shared.rng.lock() {
        Ok(mut rng) => {
            let pause = rng.u64(0..=config.max_latency.as_millis() as u64);
            let fault = (rng.f64() < config.fault_rate).then(|| match rng.u8(0..3) {
                0 => Fault::Throttle,
                1 => Fault::ServerError,
                _ => Fault::LostAnswer,
            });
            (pause, fault)
        }
        Err(_) => (0, None),
    };
    if pause > 0 {
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    match fault {
        Some(Fault::Throttle) => {
            counters.throttled.fetch_add(1, Ordering::Relaxed);
            return throttled(dynamodb, pause);
        }
        Some(Fault::ServerError) => {
            counters.server_errors.fetch_add(1, Ordering::Relaxed);
            return server_error(dynamodb);
        }
        _ => {}
    }
    let forwarded = forward(&shared, request).await;
    if fault == Some(Fault::LostAnswer) {
        counters.lost_answers.fetch_add(1, Ordering::Relaxed);
        return server_error(dynamodb);
    }
    forwarded
}

/// Headers that describe one hop's connection, not the request.
fn hop_by_hop(name: &HeaderName) -> bool {
    name == header::HOST
        || name == header::CONNECTION
        || name == header::CONTENT_LENGTH
        || name == header::TRANSFER_ENCODING
        || name.as_str() == "keep-alive"
}

async fn forward(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 256 << 20).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut upstream = shared
        .client
        .request(parts.method.clone(), format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = match upstream.send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if !hop_by_hop(name) {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

fn throttled(dynamodb: bool, draw: u64) -> Response {
    if dynamodb {
        // Both names DynamoDB uses: per-table capacity, and the account/control-plane limit.
        let kind = if draw.is_multiple_of(2) {
            "ProvisionedThroughputExceededException"
        } else {
            "ThrottlingException"
        };
        dynamodb_error(
            StatusCode::BAD_REQUEST,
            kind,
            "The level of configured provisioned throughput for the table was exceeded.",
        )
    } else {
        s3_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        )
    }
}

fn server_error(dynamodb: bool) -> Response {
    if dynamodb {
        dynamodb_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error",
        )
    } else {
        s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }
}

fn dynamodb_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": message,
    });
    (
        status,
        [
            (header::CONTENT_TYPE, "application/x-amz-json-1.0"),
            (
                HeaderName::from_static("x-amzn-requestid"),
                "pantau-fault-proxy",
            ),
        ],
        body.to_string(),
    )
        .into_response()
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>pantau-fault-proxy</RequestId><HostId>pantau</HostId></Error>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "application/xml"),
            (
                HeaderName::from_static("x-amz-request-id"),
                "pantau-fault-proxy",
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_attempt_header_is_read() {
        let mut h = HeaderMap::new();
        assert_eq!(attempt(&h), 1);
        h.insert("amz-sdk-request", "attempt=3; max=3".parse().unwrap());
        assert_eq!(attempt(&h), 3);
    }
}
