//! Server-side request forgery against the scraper's fetcher, on loopback only: 127.0.0.1 is
//! the one address allowed (a fixture server), 127.0.0.2 the forbidden target (a server that
//! counts what reaches it). Names are answered by `FetchPolicy::static_hosts`, so DNS answers
//! are tried without a DNS server and without connecting anywhere else.
//!
//! Each test prints `RELIABILITY\tscraper\t...` lines for `make reliability`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use pantau::fetch::{FetchError, FetchPolicy, FetchRequest, Fetcher};

fn report(tried: &str, count: usize, outcome: &str) {
    println!("RELIABILITY\tscraper\t{tried}\t{count}\t{outcome}");
}

/// A server on `ip` answering a small feed on every path, `/go?to=URL` with a redirect, and
/// counting requests.
async fn server(ip: IpAddr) -> Option<(SocketAddr, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.ok()?;
    let addr = listener.local_addr().ok()?;
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/go",
            get(
                |axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>| async move {
                    let to = q.get("to").cloned().unwrap_or_default();
                    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
                },
            ),
        )
        .fallback(|| async { "<rss version=\"2.0\"><channel><title>ok</title></channel></rss>" })
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    next.run(request).await
                }
            },
        ));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Some((addr, hits))
}

fn policy(static_hosts: BTreeMap<String, Vec<IpAddr>>) -> FetchPolicy {
    FetchPolicy {
        allow_private_networks: false,
        allowed_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        static_hosts,
        obey_robots: false,
        per_host_min_interval: std::time::Duration::ZERO,
        connect_timeout: std::time::Duration::from_secs(2),
        timeout: std::time::Duration::from_secs(5),
        ..FetchPolicy::default()
    }
}

async fn fetch(fetcher: &Fetcher, url: &str) -> Result<u16, FetchError> {
    let url = reqwest::Url::parse(url).map_err(|e| FetchError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    fetcher
        .get(FetchRequest::new(url))
        .await
        .map(|response| response.status)
}

#[tokio::test]
async fn reliability_ssrf_through_dns_answers_redirects_and_literals_is_refused() {
    let Some((allowed, allowed_hits)) = server(IpAddr::V4(Ipv4Addr::LOCALHOST)).await else {
        println!("skipped: cannot listen on 127.0.0.1");
        return;
    };
    let Some((target, target_hits)) = server(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))).await else {
        println!("skipped: cannot listen on 127.0.0.2 (no loopback /8 here)");
        return;
    };
    let (port, target_port) = (allowed.port(), target.port());

    // Names answered with forbidden addresses; none of these is ever connected to.
    let forbidden: [(&str, &[&str]); 9] = [
        ("evil.test", &["127.0.0.2"]),
        ("metadata.test", &["169.254.169.254"]),
        ("vpc.test", &["10.0.0.1"]),
        ("v6-loopback.test", &["::1"]),
        ("mapped.test", &["::ffff:127.0.0.2"]),
        ("unspecified.test", &["0.0.0.0"]),
        ("cgnat.test", &["100.64.0.1"]),
        ("ula.test", &["fd00::1"]),
        // A mixed answer: one allowed address does not excuse a forbidden one.
        ("mixed.test", &["127.0.0.1", "127.0.0.2"]),
    ];
    let mut hosts: BTreeMap<String, Vec<IpAddr>> = forbidden
        .iter()
        .map(|(name, ips)| {
            let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
            (name.to_string(), ips)
        })
        .collect();
    hosts.insert("good.test".into(), vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    let fetcher = Fetcher::new(policy(hosts)).unwrap();

    // The control: the allowed address, by name, answers.
    assert_eq!(
        fetch(&fetcher, &format!("http://good.test:{port}/feed.xml"))
            .await
            .unwrap(),
        200
    );
    let control_hits = allowed_hits.load(Ordering::SeqCst);
    assert_eq!(control_hits, 1);

    for (name, ips) in forbidden {
        // The target's own port, so a guard that failed would show up as a hit there.
        let result = fetch(&fetcher, &format!("http://{name}:{target_port}/feed.xml")).await;
        assert!(
            matches!(&result, Err(FetchError::Blocked { reason, .. }) if reason.contains("non-public")),
            "{name} -> {ips:?}: {result:?}"
        );
    }
    report(
        "host names resolving to 127.0.0.2, 169.254.169.254, 10.0.0.1, ::1, ::ffff:127.0.0.2, 0.0.0.0, 100.64.0.1, fd00::1, a mixed answer",
        forbidden.len(),
        "all refused by the resolver before connecting; only 127.0.0.1 allowed",
    );

    // Redirects from the allowed server to forbidden places, by name and by literal.
    let redirects = [
        format!("http://evil.test:{target_port}/x"),
        format!("http://127.0.0.2:{target_port}/x"),
        format!("http://[::ffff:127.0.0.2]:{target_port}/x"),
        format!("http://2130706434:{target_port}/x"),
        format!("http://0x7f.0.0.2:{target_port}/x"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://user:pw@good.test:{port}/x"),
        "file:///etc/passwd".to_owned(),
        "gopher://127.0.0.1:25/".to_owned(),
    ];
    for to in &redirects {
        let start = format!("http://127.0.0.1:{port}/go?to={}", urlencode(to));
        let result = fetch(&fetcher, &start).await;
        assert!(
            matches!(
                &result,
                Err(FetchError::Blocked { .. } | FetchError::InvalidUrl { .. })
            ),
            "redirect to {to}: {result:?}"
        );
    }
    report(
        "redirects to forbidden names, literals (dotted, decimal, hex, v4-mapped), metadata, credentials, other schemes",
        redirects.len(),
        "all refused at the hop",
    );

    // The same places asked for directly, as a registry entry or `pantau fetch` would.
    let literals = [
        format!("http://127.0.0.2:{target_port}/"),
        format!("http://127.0.2:{target_port}/"),
        format!("http://[::ffff:7f00:2]:{target_port}/"),
        format!("http://[::1]:{target_port}/"),
        "http://[fe80::1]/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://0/".to_owned(),
        format!("http://admin:admin@127.0.0.1:{port}/"),
        "ftp://127.0.0.1/".to_owned(),
        "file:///etc/passwd".to_owned(),
    ];
    for url in &literals {
        let result = fetch(&fetcher, url).await;
        assert!(
            matches!(
                &result,
                Err(FetchError::Blocked { .. } | FetchError::InvalidUrl { .. })
            ),
            "{url}: {result:?}"
        );
    }
    report(
        "URLs with forbidden literal addresses, credentials or other schemes, fetched directly",
        literals.len(),
        "all refused before any request",
    );

    assert_eq!(
        target_hits.load(Ordering::SeqCst),
        0,
        "a request reached the forbidden address"
    );
    // The allowed server saw the control and one request per redirect start, nothing more.
    assert_eq!(
        allowed_hits.load(Ordering::SeqCst),
        control_hits + redirects.len()
    );
    report(
        "requests that reached the forbidden server on 127.0.0.2",
        0,
        "none",
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
