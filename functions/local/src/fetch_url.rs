//! `pantau fetch URL`: one GET through the scraper's own fetcher (same limits, private-network
//! guard, robots.txt, redirects), printed as one JSON object, so an operator can see what the
//! scraper sees when a source fails.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use pantau::fetch::{FetchError, FetchPolicy, FetchRequest, FetchResponse, Fetcher};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct FetchArgs {
    /// The http(s) URL to fetch.
    pub url: String,
    /// Allow 127.0.0.1 and ::1 (a local fixture); every other private address stays refused.
    #[arg(long)]
    pub allow_loopback: bool,
}

/// Prints the outcome; an error (after printing) when the fetch failed, so the exit status
/// says so too.
pub async fn run(args: FetchArgs) -> anyhow::Result<()> {
    let mut policy = FetchPolicy {
        // One URL (and its robots.txt): no need to space the two, and `elapsed_ms` then
        // measures the server, not our politeness.
        per_host_min_interval: Duration::ZERO,
        ..FetchPolicy::default()
    };
    if args.allow_loopback {
        policy.allowed_addresses = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
    }
    let fetcher = Fetcher::new(policy)?;
    let started = Instant::now();
    let result = match url::Url::parse(&args.url) {
        Ok(url) => fetcher.get(FetchRequest::new(url)).await,
        Err(e) => Err(FetchError::InvalidUrl {
            url: args.url.clone(),
            reason: e.to_string(),
        }),
    };
    let elapsed = started.elapsed();
    let report = outcome(&args.url, &result, elapsed);
    println!("{report}");
    match result {
        Ok(_) => Ok(()),
        Err(e) => anyhow::bail!("fetch failed ({}): {e}", e.kind()),
    }
}

/// The JSON object printed for one fetch.
pub fn outcome(url: &str, result: &Result<FetchResponse, FetchError>, elapsed: Duration) -> Value {
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs());
    let elapsed_ms = elapsed.as_millis() as u64;
    match result {
        Ok(r) => json!({
            "ok": true,
            "url": url,
            "status": r.status,
            "final_url": r.final_url.as_str(),
            "bytes": r.body.len(),
            "content_type": r.content_type,
            "charset": r.charset,
            "elapsed_ms": elapsed_ms,
            "etag": r.etag,
            "last_modified": r.last_modified,
            "not_modified": r.not_modified,
            "max_age_s": secs(r.max_age),
            "expires_s": secs(r.expires),
            "retry_after_s": secs(r.retry_after),
            "error": null,
        }),
        Err(e) => json!({
            "ok": false,
            "url": url,
            "status": match e {
                FetchError::Status { status, .. } => Some(*status),
                _ => None,
            },
            "elapsed_ms": elapsed_ms,
            "retry_after_s": secs(e.retry_after()),
            "error": {
                "kind": e.kind(),
                "message": e.to_string(),
                "retryable": e.is_retryable(),
            },
        }),
    }
}
