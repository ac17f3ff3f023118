//! The fetcher: polite, bounded HTTP GETs.
//!
//! One reqwest client behind every clone of a `Fetcher`. Each GET:
//! - sends the caller's validators (`If-None-Match`, `If-Modified-Since`) so an unchanged
//!   resource costs a 304;
//! - follows redirects itself, at most `max_redirects`, so every hop passes the same checks;
//! - refuses private networks unless allowed (`guard`): loopback, private, link-local,
//!   unique-local and unspecified addresses, checked at resolution time; single addresses
//!   can be allowed by configuration (`allowed_addresses`) without opening the rest;
//! - honours robots.txt (`robots`): fetched once per origin per `robots_ttl`, a disallowed URL
//!   (or redirect target) is `FetchError::DisallowedByRobots`;
//! - waits for its host's gate (`gate`): at most `per_host_max_in_flight` requests at once
//!   and `per_host_min_interval` (or the host's own entry in `host_min_intervals`) between
//!   request starts, across all clones;
//! - reads the body in chunks and stops past `max_body_bytes` (after gzip decoding, so a
//!   compressed bomb is caught too);
//! - reports the body's character set (`charset`) without converting it: raw objects keep
//!   the bytes as served.
//!
//! Only 2xx and 304 are answers; every other status is a `FetchError::Status`.

pub mod charset;
mod gate;
mod guard;
pub mod robots;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

pub use charset::{decode_to_utf8, decode_xml_to_utf8};
pub use guard::is_public;

use gate::HostGates;
use robots::{ROBOTS_AGENT, RobotsCache, RobotsRules};

/// How the fetcher behaves; `Default` is production's setting.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// The whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Bodies larger than this (decoded) are refused with `FetchError::TooLarge`.
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
    /// False in production; tests and offline mode on loopback set it.
    pub allow_private_networks: bool,
    /// Non-public addresses that may be reached all the same (e.g. exactly 127.0.0.1 for a
    /// local fixture), while every other non-public address stays refused.
    pub allowed_addresses: Vec<IpAddr>,
    /// Answers given instead of DNS for these lower-case host names (an `/etc/hosts`): the
    /// addresses still pass the private-network check, as DNS answers do. Tests use it to
    /// point a name at a forbidden address without any DNS server.
    pub static_hosts: BTreeMap<String, Vec<IpAddr>>,
    /// Whether robots.txt is fetched and obeyed.
    pub obey_robots: bool,
    /// How long one origin's robots.txt is trusted before it is fetched again.
    pub robots_ttl: Duration,
    /// Minimum time between the starts of two requests to one host.
    pub per_host_min_interval: Duration,
    pub per_host_max_in_flight: usize,
    /// Hosts that ask for a different minimum interval than `per_host_min_interval` (news
    /// search APIs that throttle hard), by lower-case host name.
    pub host_min_intervals: BTreeMap<String, Duration>,
}

pub const USER_AGENT: &str = "Pantau/0.1 (+https://kemlu.go.id; monitoring of Indonesian missions)";

/// Where operators put the contact URL the User-Agent names.
pub const CONTACT_URL_ENV: &str = "PANTAU_CONTACT_URL";

/// The User-Agent naming Pantau and `contact_url` (a page or `mailto:` saying who runs this
/// deployment); [`USER_AGENT`] when there is none.
pub fn user_agent(contact_url: Option<&str>) -> String {
    match contact_url.map(str::trim).filter(|c| !c.is_empty()) {
        Some(contact) => {
            // A header value cannot hold control characters; drop them rather than fail.
            let contact: String = contact.chars().filter(|c| !c.is_control()).collect();
            format!("Pantau/0.1 (+{contact}; monitoring of Indonesian missions)")
        }
        None => USER_AGENT.to_owned(),
    }
}

impl Default for FetchPolicy {
    fn default() -> FetchPolicy {
        FetchPolicy {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            user_agent: USER_AGENT.to_owned(),
            allow_private_networks: false,
            allowed_addresses: Vec::new(),
            static_hosts: BTreeMap::new(),
            obey_robots: true,
            robots_ttl: Duration::from_secs(3600),
            per_host_min_interval: Duration::from_secs(1),
            per_host_max_in_flight: 2,
            host_min_intervals: crate::registry::media::search_host_intervals(),
        }
    }
}

impl FetchPolicy {
    /// This policy with the User-Agent naming `contact_url` (see [`user_agent`]).
    pub fn with_contact_url(mut self, contact_url: Option<&str>) -> FetchPolicy {
        self.user_agent = user_agent(contact_url);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub url: Url,
    /// The `ETag` a previous answer gave, sent as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` a previous answer gave, sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

impl FetchRequest {
    /// A plain GET without validators.
    pub fn new(url: Url) -> FetchRequest {
        FetchRequest {
            url,
            etag: None,
            last_modified: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchResponse {
    pub status: u16,
    /// Where the body came from, after redirects.
    pub final_url: Url,
    pub content_type: Option<String>,
    /// The encoding the body declares (BOM, `Content-Type`, XML prolog or HTML meta), by its
    /// Encoding Standard name (`UTF-8`, `windows-1252`, `Shift_JIS`); None when undeclared
    /// or on 304. The body itself is left as served.
    pub charset: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Empty on 304.
    pub body: Bytes,
    pub not_modified: bool,
    pub retry_after: Option<Duration>,
    /// `Cache-Control: max-age`, the server's hint of how long the answer stays fresh.
    pub max_age: Option<Duration>,
    /// Time left until `Expires` (measured against the server's `Date`), when in the future.
    /// `max-age` overrides it when both are sent.
    pub expires: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not build the HTTP client: {0}")]
    Client(String),
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("refused {url}: {reason}")]
    Blocked { url: String, reason: String },
    #[error("{url}: body larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: more than {max} redirects")]
    TooManyRedirects { url: String, max: usize },
    #[error("{url}: HTTP status {status}")]
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("{url}: timed out")]
    Timeout { url: String },
    #[error("{url}: could not connect: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: transfer failed: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: disallowed by {robots}")]
    DisallowedByRobots { url: String, robots: String },
}

impl FetchError {
    /// Whether trying again later may succeed: timeouts, network trouble, 408, 429, 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Transport { .. } => true,
            FetchError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            FetchError::Client(_)
            | FetchError::InvalidUrl { .. }
            | FetchError::Blocked { .. }
            | FetchError::TooLarge { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::DisallowedByRobots { .. } => false,
        }
    }

    /// A stable name for the kind of failure, for logs and `pantau fetch`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Client(_) => "client",
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::Blocked { .. } => "blocked",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::Status { .. } => "status",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Connect { .. } => "connect",
            FetchError::Transport { .. } => "transport",
            FetchError::DisallowedByRobots { .. } => "disallowed_by_robots",
        }
    }

    /// The server's `Retry-After`, when it sent one with an error status.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Polite HTTP GETs; clones share the client and the per-host gates.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
    gates: Arc<HostGates>,
    robots: Arc<RobotsCache>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Result<Fetcher, FetchError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(policy.user_agent.clone())
            .timeout(policy.timeout)
            .connect_timeout(policy.connect_timeout)
            // Redirects are followed by hand so every hop is checked and gated.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, past the private-network check.
            .no_proxy();
        if !policy.allow_private_networks {
            builder = builder.dns_resolver(Arc::new(guard::PublicOnlyResolver {
                allowed: policy.allowed_addresses.clone().into(),
                static_hosts: Arc::new(policy.static_hosts.clone()),
            }));
        } else {
            for (name, addrs) in &policy.static_hosts {
                let addrs: Vec<std::net::SocketAddr> =
                    addrs.iter().map(|ip| (*ip, 0).into()).collect();
                builder = builder.resolve_to_addrs(name, &addrs);
            }
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            gates: Arc::new(HostGates::new(
                policy.per_host_min_interval,
                policy.per_host_max_in_flight,
                policy.host_min_intervals.clone(),
            )),
            robots: Arc::new(RobotsCache::new(policy.robots_ttl)),
            policy: Arc::new(policy),
        })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    pub async fn get(&self, req: FetchRequest) -> Result<FetchResponse, FetchError> {
        self.fetch(req, self.policy.obey_robots).await
    }

    /// `get`, with the robots.txt check on each hop when `obey_robots`.
    async fn fetch(
        &self,
        req: FetchRequest,
        obey_robots: bool,
    ) -> Result<FetchResponse, FetchError> {
        let mut url = req.url;
        for _hop in 0..=self.policy.max_redirects {
            let host = self.check_target(&url)?;
            if obey_robots {
                self.check_robots(&url).await?;
            }
            let _pass = self.gates.enter(&host).await;

            let mut request = self.client.get(url.clone());
            if let Some(etag) = &req.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &req.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
            let mut response = request.send().await.map_err(|e| transport_error(&url, e))?;
            let status = response.status();
            let headers = response.headers();

            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                url = redirect_target(&url, headers, status)?;
                continue;
            }
            let retry_after = header_str(headers, header::RETRY_AFTER)
                .and_then(|v| parse_retry_after(&v, Utc::now()));
            if status != StatusCode::NOT_MODIFIED && !status.is_success() {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                    retry_after,
                });
            }
            let content_type = header_str(headers, header::CONTENT_TYPE);
            let etag = header_str(headers, header::ETAG);
            let last_modified = header_str(headers, header::LAST_MODIFIED);
            let max_age = header_str(headers, header::CACHE_CONTROL)
                .as_deref()
                .and_then(parse_max_age);
            let expires = header_str(headers, header::EXPIRES).and_then(|expires| {
                let date = header_str(headers, header::DATE);
                parse_expires(&expires, date.as_deref(), Utc::now())
            });
            let not_modified = status == StatusCode::NOT_MODIFIED;
            let body = if not_modified {
                Bytes::new()
            } else {
                self.read_body(&url, &mut response).await?
            };
            let charset = (!not_modified)
                .then(|| charset::detect(content_type.as_deref(), &body))
                .flatten()
                .map(|encoding| encoding.name().to_owned());
            return Ok(FetchResponse {
                status: status.as_u16(),
                final_url: url,
                content_type,
                charset,
                etag,
                last_modified,
                body,
                not_modified,
                retry_after,
                max_age,
                expires,
            });
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            max: self.policy.max_redirects,
        })
    }

    /// Checks a hop's URL before anything is sent; returns the host to gate on.
    fn check_target(&self, url: &Url) -> Result<String, FetchError> {
        let invalid = |reason: &str| FetchError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_owned(),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("only http and https are fetched"));
        }
        // Credentials in a URL (from the registry or a redirect) would be sent as a login.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("a URL with a user name or password is not fetched"));
        }
        let host = match url.host() {
            Some(host) => host,
            None => return Err(invalid("no host")),
        };
        if !self.policy.allow_private_networks {
            // Names are checked by the resolver; literals never reach it.
            let literal: Option<IpAddr> = match host {
                url::Host::Ipv4(v4) => Some(v4.into()),
                url::Host::Ipv6(v6) => Some(v6.into()),
                url::Host::Domain(_) => None,
            };
            let allowed =
                |ip: &IpAddr| is_public(*ip) || self.policy.allowed_addresses.contains(ip);
            if let Some(ip) = literal.filter(|ip| !allowed(ip)) {
                return Err(FetchError::Blocked {
                    url: url.to_string(),
                    reason: format!("{ip} is not a public address"),
                });
            }
        }
        Ok(host.to_string().to_ascii_lowercase())
    }

    /// Fails with `DisallowedByRobots` when the origin's robots.txt forbids `url`.
    async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        let rules = self
            .robots
            .rules_for(url, |robots_url| self.load_robots(robots_url))
            .await;
        if rules.allows(url) {
            return Ok(());
        }
        let mut robots = url.clone();
        robots.set_path("/robots.txt");
        robots.set_query(None);
        Err(FetchError::DisallowedByRobots {
            url: url.to_string(),
            robots: robots.to_string(),
        })
    }

    /// Fetches and parses one robots.txt (itself exempt from robots, but not from the other
    /// checks). Boxed: it calls back into `fetch`.
    fn load_robots(&self, robots_url: Url) -> BoxFuture<'_, RobotsRules> {
        async move {
            match self.fetch(FetchRequest::new(robots_url.clone()), false).await {
                Ok(response) => {
                    RobotsRules::parse(&String::from_utf8_lossy(&response.body), ROBOTS_AGENT)
                }
                // No robots.txt (404, 410, even 401/403): nothing is disallowed.
                Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => {
                    RobotsRules::allow_all()
                }
                Err(e) => {
                    tracing::warn!(robots = %robots_url, error = %e, "robots.txt unreadable; allowing all for now");
                    RobotsRules::allow_all()
                }
            }
        }
        .boxed()
    }

    /// Reads the body chunk by chunk, stopping as soon as it passes the limit.
    async fn read_body(
        &self,
        url: &Url,
        response: &mut reqwest::Response,
    ) -> Result<Bytes, FetchError> {
        let limit = self.policy.max_body_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
        };
        // A declared length over the limit is refused before reading (it is the encoded
        // length, so this only catches the honest case; the loop catches the rest).
        if response.content_length().is_some_and(|n| n > limit as u64)
            && response.headers().get(header::CONTENT_ENCODING).is_none()
        {
            return Err(too_large());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(url, e))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

fn redirect_target(url: &Url, headers: &HeaderMap, status: StatusCode) -> Result<Url, FetchError> {
    let Some(location) = headers.get(header::LOCATION) else {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            retry_after: None,
        });
    };
    let invalid = |reason: String| FetchError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let location = location
        .to_str()
        .map_err(|_| invalid("redirect Location is not ASCII".into()))?;
    url.join(location)
        .map_err(|e| invalid(format!("redirect Location {location:?}: {e}")))
}

fn transport_error(url: &Url, err: reqwest::Error) -> FetchError {
    let url_s = url.to_string();
    if let Some(blocked) = guard::blocked_in(&err) {
        return FetchError::Blocked {
            url: url_s,
            reason: blocked.to_string(),
        };
    }
    // The whole chain: reqwest's own message is only "error sending request".
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if err.is_timeout() {
        FetchError::Timeout { url: url_s }
    } else if err.is_connect() {
        FetchError::Connect {
            url: url_s,
            message,
        }
    } else {
        FetchError::Transport {
            url: url_s,
            message,
        }
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Retry-After` as delta-seconds or an HTTP date (in the past → zero).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Time left until an `Expires` date, measured against the server's `Date` when it sent one
/// (so a skewed server clock does not matter); None when already past or not a date (`0`,
/// `-1` mean "already expired").
pub fn parse_expires(expires: &str, date: Option<&str>, now: DateTime<Utc>) -> Option<Duration> {
    let http_date = |v: &str| {
        DateTime::parse_from_rfc2822(v.trim())
            .ok()
            .map(|d| d.with_timezone(&Utc))
    };
    let expires = http_date(expires)?;
    let reference = date.and_then(http_date).unwrap_or(now);
    (expires - reference).to_std().ok().filter(|d| !d.is_zero())
}

/// `max-age` from a `Cache-Control` value; `no-store` / `no-cache` say nothing about cadence.
pub fn parse_max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|directive| {
        let (name, secs) = directive.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        secs.trim()
            .trim_matches('"')
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
    })
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_limits;
