//! Defences in front of the routes: a request body limit, a rate limit per access key and a
//! catcher that turns a panicking handler into a bare 500.
//!
//! The rate limit is a token bucket per key id, kept in the process's memory. On Lambda every
//! warm instance has its own buckets, so a key may get up to `burst` more requests per extra
//! instance: the per-key limit keeps one client from monopolising an instance, while the API
//! Gateway stage throttle (infra/template.yaml) bounds the whole API. A limit shared by all
//! instances would need a table write per request, which costs more than it protects here.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;

use super::ApiState;
use super::problem::problem;
use crate::config::{ConfigError, optional_number};

/// Requests per second a key may make on average, by default.
pub const DEFAULT_RATE_PER_SECOND: f64 = 30.0;
/// Requests a key may make at once before the average applies, by default.
pub const DEFAULT_BURST: u32 = 300;
/// The largest request body accepted, by default. Every route is a GET: no body is needed.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;

/// The limits, from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    /// `PANTAU_RATE_LIMIT_PER_SECOND` (0 turns the rate limit off).
    pub rate_per_second: f64,
    /// `PANTAU_RATE_LIMIT_BURST`.
    pub burst: u32,
    /// `PANTAU_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            rate_per_second: DEFAULT_RATE_PER_SECOND,
            burst: DEFAULT_BURST,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl LimitsConfig {
    pub fn from_env() -> Result<LimitsConfig, ConfigError> {
        let defaults = LimitsConfig::default();
        let rate_per_second = optional_number::<f64>("PANTAU_RATE_LIMIT_PER_SECOND")?
            .unwrap_or(defaults.rate_per_second);
        if !rate_per_second.is_finite() || rate_per_second < 0.0 {
            return Err(ConfigError::Malformed {
                name: "PANTAU_RATE_LIMIT_PER_SECOND",
                value: rate_per_second.to_string(),
                reason: "must be a number of requests per second, 0 for no limit".into(),
            });
        }
        Ok(LimitsConfig {
            rate_per_second,
            burst: optional_number("PANTAU_RATE_LIMIT_BURST")?
                .unwrap_or(defaults.burst)
                .max(1),
            max_body_bytes: optional_number("PANTAU_MAX_BODY_BYTES")?
                .unwrap_or(defaults.max_body_bytes),
        })
    }
}

/// One key's bucket: tokens left and when they were counted.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per key id. Only keys that passed the key check get a bucket, so the map
/// holds at most one entry per issued key.
#[derive(Debug)]
pub struct RateLimiter {
    config: LimitsConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(config: LimitsConfig) -> RateLimiter {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// Takes a token for `key_id` at `now`: `Ok` to serve the request, or how long until a
    /// token is back.
    pub fn take(&self, key_id: &str, now: Instant) -> Result<(), Duration> {
        let rate = self.config.rate_per_second;
        if rate <= 0.0 {
            return Ok(());
        }
        let burst = f64::from(self.config.burst);
        // A poisoned lock only means another request panicked mid-update: the counts stay usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(key_id.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// The 429 answer: problem+json with `Retry-After` in whole seconds (at least 1).
pub fn too_many_requests(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-requests",
        "Too many requests",
        format!("this key has made too many requests; retry in {seconds} s"),
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn too_large(max: usize, path: &str) -> Response {
    // A file too large for the API has two other ways in.
    let hint = if path == "/hq-records" {
        "; drop larger files under hq/ in the bucket or use `pantau hq import`"
    } else {
        ""
    };
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "Request body too large",
        format!("request bodies are limited to {max} bytes here{hint}"),
        None,
    )
}

/// Middleware: refuses a body over the limit, by its declared length before reading it, or
/// while reading one whose length was not declared (never more than the limit is buffered).
pub(super) async fn limit_body(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    // An import carries a whole file (its own limit is checked again by the route); every
    // other route takes at most a small JSON body.
    let max =
        if request.method() == axum::http::Method::POST && request.uri().path() == "/hq-records" {
            super::hq::MAX_IMPORT_BODY_BYTES
        } else {
            state.limits.config().max_body_bytes
        };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large(max, request.uri().path());
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, max).await else {
        return too_large(max, parts.uri.path());
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Middleware: a handler that panics is answered 500 problem+json without any detail; the
/// panic message goes to the log through the panic hook, never to the client.
pub(super) async fn catch_panics(request: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!("a request handler panicked");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the request could not be answered; it has been logged".to_owned(),
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(LimitsConfig {
            rate_per_second: rate,
            burst,
            ..LimitsConfig::default()
        })
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let limiter = limiter(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take("key_a", t0).is_ok());
        }
        let wait = limiter.take("key_a", t0).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(500));
        // Another key has its own bucket.
        assert!(limiter.take("key_b", t0).is_ok());
        // Half a second at 2/s gives one token back, not more than the burst ever.
        assert!(
            limiter
                .take("key_a", t0 + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .take("key_a", t0 + Duration::from_millis(500))
                .is_err()
        );
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(limiter.take("key_a", later).is_ok());
        }
        assert!(limiter.take("key_a", later).is_err());
    }

    #[test]
    fn a_zero_rate_turns_the_limit_off() {
        let limiter = limiter(0.0, 1);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.take("key_a", now).is_ok()));
    }

    #[test]
    fn retry_after_is_whole_seconds_and_at_least_one() {
        for (wait, expected) in [(10, "1"), (1000, "1"), (1500, "2")] {
            let response = too_many_requests(Duration::from_millis(wait));
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers()[header::RETRY_AFTER], expected);
        }
    }
}
