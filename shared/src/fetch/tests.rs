//! The fetcher against a real HTTP server on loopback.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::*;

/// Serves `router` on 127.0.0.1:0 for the rest of the test; returns its base URL.
pub(crate) async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// A policy for loopback tests: private networks allowed, no politeness delay.
pub(crate) fn loopback_policy() -> FetchPolicy {
    FetchPolicy {
        allow_private_networks: true,
        per_host_min_interval: Duration::ZERO,
        per_host_max_in_flight: 8,
        timeout: Duration::from_secs(10),
        ..FetchPolicy::default()
    }
}

fn fetcher(policy: FetchPolicy) -> Fetcher {
    Fetcher::new(policy).unwrap()
}

async fn etag_server() -> Url {
    serve(Router::new().route(
        "/feed",
        get(|headers: HeaderMap| async move {
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                == Some("\"v1\"")
            {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let ua = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (
                [
                    (header::CONTENT_TYPE, "application/rss+xml"),
                    (header::ETAG, "\"v1\""),
                    (header::LAST_MODIFIED, "Wed, 01 Jan 2025 00:00:00 GMT"),
                    (header::CACHE_CONTROL, "public, max-age=600"),
                ],
                format!("<rss>{ua}</rss>"),
            )
                .into_response()
        }),
    ))
    .await
}

#[tokio::test]
async fn get_returns_body_and_validators_then_304_with_them() {
    let base = etag_server().await;
    let f = fetcher(loopback_policy());
    let url = base.join("feed").unwrap();
    let first = f.get(FetchRequest::new(url.clone())).await.unwrap();
    assert_eq!(first.status, 200);
    assert!(!first.not_modified);
    assert_eq!(first.final_url, url);
    assert_eq!(first.content_type.as_deref(), Some("application/rss+xml"));
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        first.last_modified.as_deref(),
        Some("Wed, 01 Jan 2025 00:00:00 GMT")
    );
    assert_eq!(first.max_age, Some(Duration::from_secs(600)));
    assert_eq!(
        &first.body[..],
        format!("<rss>{USER_AGENT}</rss>").as_bytes()
    );

    let second = f
        .get(FetchRequest {
            url,
            etag: first.etag.clone(),
            last_modified: first.last_modified.clone(),
        })
        .await
        .unwrap();
    assert_eq!(second.status, 304);
    assert!(second.not_modified);
    assert!(second.body.is_empty());
}

#[tokio::test]
async fn error_statuses_carry_retryability_and_retry_after() {
    let base = serve(
        Router::new()
            .route(
                "/busy",
                get(|| async {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [(header::RETRY_AFTER, "120")],
                        "slow down",
                    )
                }),
            )
            .route("/broken", get(|| async { StatusCode::BAD_GATEWAY }))
            .route("/gone", get(|| async { StatusCode::NOT_FOUND })),
    )
    .await;
    let f = fetcher(loopback_policy());
    let err = |path: &str| {
        let f = f.clone();
        let url = base.join(path).unwrap();
        async move { f.get(FetchRequest::new(url)).await.unwrap_err() }
    };
    let busy = err("busy").await;
    assert!(busy.is_retryable());
    assert_eq!(busy.retry_after(), Some(Duration::from_secs(120)));
    assert!(busy.to_string().contains("/busy"), "{busy}");
    assert!(err("broken").await.is_retryable());
    let gone = err("gone").await;
    assert!(matches!(gone, FetchError::Status { status: 404, .. }));
    assert!(!gone.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connect_error() {
    // Bind then drop, so the port is (almost certainly) closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let f = fetcher(loopback_policy());
    let url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
    let err = f.get(FetchRequest::new(url)).await.unwrap_err();
    assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let base = serve(
        Router::new()
            .route(
                "/old",
                get(|| async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/new")]) }),
            )
            .route("/new", get(|| async { "moved here" }))
            .route(
                "/loop",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
            ),
    )
    .await;
    let f = fetcher(loopback_policy());
    let moved = f
        .get(FetchRequest::new(base.join("old").unwrap()))
        .await
        .unwrap();
    assert_eq!(moved.final_url, base.join("new").unwrap());
    assert_eq!(&moved.body[..], b"moved here");
    let looped = f
        .get(FetchRequest::new(base.join("loop").unwrap()))
        .await
        .unwrap_err();
    assert!(
        matches!(looped, FetchError::TooManyRedirects { max: 5, .. }),
        "{looped:?}"
    );
    assert!(!looped.is_retryable());
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_while_streaming() {
    // An endless chunked body with no Content-Length: only the streaming check can stop it
    // (a fetcher that read on would time out instead of answering TooLarge).
    let base = serve(
        Router::new()
            .route(
                "/stream",
                get(|| async {
                    let chunks = futures::stream::repeat_with(|| {
                        Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1024]))
                    });
                    Response::new(Body::from_stream(chunks))
                }),
            )
            .route("/declared", get(|| async { vec![b'y'; 8 * 1024] })),
    )
    .await;
    let policy = FetchPolicy {
        max_body_bytes: 4 * 1024,
        ..loopback_policy()
    };
    let f = fetcher(policy);
    for path in ["stream", "declared"] {
        let err = f
            .get(FetchRequest::new(base.join(path).unwrap()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { limit: 4096, .. }),
            "{path}: {err:?}"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn private_networks_are_refused_unless_allowed() {
    let base = etag_server().await;
    let port = base.port().unwrap();
    let f = fetcher(FetchPolicy {
        per_host_min_interval: Duration::ZERO,
        ..FetchPolicy::default()
    });
    for target in [
        format!("http://127.0.0.1:{port}/feed"),
        format!("http://localhost:{port}/feed"),
        format!("http://[::1]:{port}/feed"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ] {
        let err = f
            .get(FetchRequest::new(Url::parse(&target).unwrap()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Blocked { .. }),
            "{target}: {err:?}"
        );
        assert!(!err.is_retryable());
    }
    let bad_scheme = f
        .get(FetchRequest::new(Url::parse("file:///etc/passwd").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(bad_scheme, FetchError::InvalidUrl { .. }));
    // The same server is reachable once allowed.
    let allowed = fetcher(loopback_policy());
    let ok = allowed
        .get(FetchRequest::new(base.join("feed").unwrap()))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
}

/// Records when each request reached the server, and how many ran at once.
#[derive(Default)]
struct Arrivals {
    starts: Mutex<Vec<Instant>>,
    now_in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

async fn arrivals_server(arrivals: Arc<Arrivals>, hold: Duration) -> Url {
    serve(Router::new().route(
        "/p",
        get(move || {
            let a = arrivals.clone();
            async move {
                a.starts.lock().unwrap().push(Instant::now());
                let now = a.now_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                a.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(hold).await;
                a.now_in_flight.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        }),
    ))
    .await
}

#[tokio::test]
async fn per_host_min_interval_spaces_request_starts_across_clones() {
    let arrivals = Arc::new(Arrivals::default());
    let base = arrivals_server(arrivals.clone(), Duration::ZERO).await;
    let interval = Duration::from_millis(150);
    let f = fetcher(FetchPolicy {
        per_host_min_interval: interval,
        ..loopback_policy()
    });
    let url = base.join("p").unwrap();
    // Five concurrent requests from five clones of one fetcher.
    let gets = (0..5).map(|_| {
        let f = f.clone();
        let url = url.clone();
        async move { f.get(FetchRequest::new(url)).await.unwrap() }
    });
    futures::future::join_all(gets).await;
    let mut starts = arrivals.starts.lock().unwrap().clone();
    starts.sort();
    assert_eq!(starts.len(), 5);
    let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    // Arrival at the server trails the start at the client by a varying amount (connection
    // setup, scheduling on a busy machine): each gap gets some slack, the whole span less.
    for gap in &gaps {
        assert!(
            *gap + Duration::from_millis(50) >= interval,
            "gaps {gaps:?}"
        );
    }
    let span = starts[4] - starts[0];
    assert!(
        span + Duration::from_millis(30) >= 4 * interval,
        "span {span:?}"
    );
    eprintln!("request start gaps with a {interval:?} interval: {gaps:?}");
}

#[tokio::test]
async fn per_host_max_in_flight_bounds_concurrency() {
    let arrivals = Arc::new(Arrivals::default());
    let base = arrivals_server(arrivals.clone(), Duration::from_millis(80)).await;
    let f = fetcher(FetchPolicy {
        per_host_max_in_flight: 2,
        ..loopback_policy()
    });
    let url = base.join("p").unwrap();
    let gets = (0..6).map(|_| f.get(FetchRequest::new(url.clone())));
    for r in futures::future::join_all(gets).await {
        r.unwrap();
    }
    assert_eq!(arrivals.max_in_flight.load(Ordering::SeqCst), 2);
}

#[test]
fn retry_after_and_max_age_parse() {
    let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(
        parse_max_age("public, max-age=300, must-revalidate"),
        Some(Duration::from_secs(300))
    );
    assert_eq!(parse_max_age("no-cache"), None);
    assert_eq!(parse_max_age("max-age=abc"), None);
}

#[tokio::test]
async fn a_slow_server_is_a_retryable_timeout() {
    let base = serve(Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    ))
    .await;
    let f = fetcher(FetchPolicy {
        timeout: Duration::from_millis(200),
        ..loopback_policy()
    });
    let started = Instant::now();
    let err = f
        .get(FetchRequest::new(base.join("slow").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(2));
}
