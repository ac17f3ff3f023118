//! A loopback web server that misbehaves on purpose, for the scraper's hostile-source suite
//! (`tests/tests/hostile_sources.rs`) and `pantau fetch` (functions/local/tests).
//!
//! Every endpoint imitates one way a real source goes wrong (the paths are in [`paths`]):
//! - a body that drips one byte at a time, a body that never ends, a gzip bomb;
//! - a redirect loop, and a redirect to 127.0.0.2 when only 127.0.0.1 is allowed (the server
//!   listens on 127.0.0.2 too, when it can, so a guard that failed would show as a request
//!   that arrived there: [`HostileServer::requests_via_host`]);
//! - 429 and 503 with `Retry-After` (seconds and an HTTP date), and a plain 500;
//! - an honest ETag (it changes with the content) and a lying one (it never changes, and the
//!   server answers 304 to it whatever the content), and a feed with no validators at all;
//! - windows-1252 and Shift_JIS bodies whose charset is declared wrongly or not at all (and
//!   one declared right, by its XML prolog only);
//! - a robots.txt that disallows `/private/`;
//! - a kemlu-like JSON list API whose every page is full and says another page follows.
//!
//! Tests change content with [`HostileServer::set_honest_body`] and
//! [`HostileServer::set_lying_body`], and count what arrived with [`HostileServer::requests`].

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The endpoints, as paths on [`HostileServer::url`].
pub mod paths {
    /// A healthy RSS feed with an ETag (the control: it must keep working).
    pub const OK_FEED: &str = "/feeds/ok.xml";
    /// 200, then one byte every 200 ms for two minutes.
    pub const SLOW_DRIP: &str = "/slow-drip.xml";
    /// 200, then 64 KiB chunks for ever.
    pub const ENDLESS: &str = "/endless.xml";
    /// ~100 KB of gzip that inflates to 16 MiB of zeros.
    pub const GZIP_BOMB: &str = "/gzip-bomb.xml";
    /// `/redirect-loop/N` redirects to `/redirect-loop/N+1`, for ever.
    pub const REDIRECT_LOOP: &str = "/redirect-loop/0";
    /// Redirects to the same port on 127.0.0.2.
    pub const ESCAPE: &str = "/escape.xml";
    /// 429 with `Retry-After: 7200` (seconds).
    pub const TOO_MANY_REQUESTS: &str = "/too-many-requests.xml";
    /// 503 with `Retry-After` three hours ahead, as an HTTP date.
    pub const UNAVAILABLE: &str = "/unavailable.xml";
    /// A plain 500.
    pub const SERVER_ERROR: &str = "/server-error.xml";
    /// ETag follows the content; `If-None-Match` with the current one gets a 304.
    pub const HONEST_ETAG: &str = "/honest-etag.xml";
    /// ETag is always `"forever"`; `If-None-Match: "forever"` gets a 304 even after the
    /// content changed.
    pub const LYING_ETAG: &str = "/lying-etag.xml";
    /// The same body every time, no ETag, no Last-Modified: only the content hash can tell.
    pub const NO_VALIDATORS: &str = "/no-validators.xml";
    /// windows-1252 bytes under `Content-Type: ...; charset=utf-8`.
    pub const CP1252_DECLARED_UTF8: &str = "/charset/cp1252-declared-utf8.xml";
    /// windows-1252 bytes, no charset anywhere.
    pub const CP1252_UNDECLARED: &str = "/charset/cp1252-undeclared.xml";
    /// Shift_JIS bytes under `Content-Type: ...; charset=iso-8859-1`.
    pub const SHIFT_JIS_DECLARED_LATIN1: &str = "/charset/sjis-declared-latin1.xml";
    /// Shift_JIS bytes, no charset anywhere.
    pub const SHIFT_JIS_UNDECLARED: &str = "/charset/sjis-undeclared.xml";
    /// Shift_JIS bytes, declared only by the XML prolog (right).
    pub const SHIFT_JIS_PROLOG: &str = "/charset/sjis-prolog.xml";
    /// Disallowed by the server's robots.txt (`Disallow: /private/`).
    pub const ROBOTS_DISALLOWED: &str = "/private/feed.xml";
    /// The kemlu-like list API base: `{base}/contentMenu?...&page=N&limit=L` answers L
    /// publications and `last_page: N + 1`, for every N.
    pub const PAGINATES_FOREVER_API: &str = "/kemlu/api";
}

/// The robots.txt every origin of the server answers.
pub const ROBOTS_TXT: &str = "User-agent: *\nDisallow: /private/\n";
/// `Retry-After` of [`paths::TOO_MANY_REQUESTS`], in seconds.
pub const TOO_MANY_REQUESTS_RETRY_AFTER: Duration = Duration::from_secs(7200);
/// How far ahead [`paths::UNAVAILABLE`]'s `Retry-After` date is.
pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(3 * 3600);
/// How much the gzip bomb inflates to.
pub const GZIP_BOMB_INFLATED: usize = 16 * 1024 * 1024;

/// "Café — Indonésie" in windows-1252 (é is 0xE9, the em dash 0x97: invalid as UTF-8).
pub const CP1252_TITLE: &[u8] = b"Caf\xe9 \x97 Indon\xe9sie";
/// "日本 東京" in Shift_JIS (invalid as UTF-8).
pub const SHIFT_JIS_TITLE: &[u8] = b"\x93\xfa\x96\x7b \x93\x8c\x8b\x9e";

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The `Host` header (`127.0.0.1:PORT`, or `127.0.0.2:PORT` if the guard failed).
    pub host: String,
    pub path_and_query: String,
}

struct Shared {
    port: u16,
    log: Mutex<Vec<SeenRequest>>,
    honest: Mutex<Versioned>,
    lying: Mutex<String>,
}

struct Versioned {
    body: String,
    version: u32,
}

/// The hostile server on 127.0.0.1 (and 127.0.0.2, same port, when that can be bound).
/// Dropping it stops the server.
pub struct HostileServer {
    port: u16,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl HostileServer {
    pub async fn start() -> std::io::Result<HostileServer> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            port,
            log: Mutex::new(Vec::new()),
            honest: Mutex::new(Versioned {
                body: rss("honest", "first version"),
                version: 1,
            }),
            lying: Mutex::new(rss("lying", "first version")),
        });
        let router = router(shared.clone());
        let mut tasks = vec![tokio::spawn(serve(listener, router.clone()))];
        // The escape target. Linux routes all of 127/8 to loopback; elsewhere binding may
        // fail, and the redirect then simply finds nobody listening.
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 2], port))).await {
            Ok(other) => tasks.push(tokio::spawn(serve(other, router))),
            Err(e) => eprintln!("hostile server: not listening on 127.0.0.2:{port}: {e}"),
        }
        Ok(HostileServer {
            port,
            shared,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests whose path (and query) starts with `prefix`, on any address.
    pub fn requests(&self, prefix: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path_and_query.starts_with(prefix))
            .count()
    }

    /// Requests that arrived with this `Host` address (e.g. `127.0.0.2`), any port.
    pub fn requests_via_host(&self, address: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.host.split(':').next() == Some(address))
            .count()
    }

    pub fn request_log(&self) -> Vec<SeenRequest> {
        lock(&self.shared.log).clone()
    }

    /// New content for [`paths::HONEST_ETAG`]; its ETag changes with it.
    pub fn set_honest_body(&self, title: &str) {
        let mut honest = lock(&self.shared.honest);
        honest.body = rss("honest", title);
        honest.version += 1;
    }

    /// New content for [`paths::LYING_ETAG`]; its ETag stays `"forever"`.
    pub fn set_lying_body(&self, title: &str) {
        *lock(&self.shared.lying) = rss("lying", title);
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, router: Router) {
    if let Err(e) = axum::serve(listener, router).await {
        eprintln!("hostile server stopped: {e}");
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/robots.txt", get(|| async { ROBOTS_TXT }))
        .route(paths::OK_FEED, get(ok_feed))
        .route(paths::SLOW_DRIP, get(slow_drip))
        .route(paths::ENDLESS, get(endless))
        .route(paths::GZIP_BOMB, get(gzip_bomb))
        .route("/redirect-loop/{n}", get(redirect_loop))
        .route(paths::ESCAPE, get(escape))
        .route(paths::TOO_MANY_REQUESTS, get(too_many_requests))
        .route(paths::UNAVAILABLE, get(unavailable))
        .route(
            paths::SERVER_ERROR,
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
        )
        .route(paths::HONEST_ETAG, get(honest_etag))
        .route(paths::LYING_ETAG, get(lying_etag))
        .route(
            paths::NO_VALIDATORS,
            get(|| async { xml(None, rss("plain", "always the same").into_bytes()) }),
        )
        .route("/charset/{name}", get(charset))
        .route(
            paths::ROBOTS_DISALLOWED,
            get(|| async { xml(None, rss("private", "should never be fetched").into_bytes()) }),
        )
        .route(
            &format!("{}/contentMenu", paths::PAGINATES_FOREVER_API),
            get(paginates_forever),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    lock(&shared.log).push(SeenRequest {
        host,
        path_and_query,
    });
    next.run(request).await
}

/// A one-item RSS 2.0 feed.
pub fn rss(name: &str, title: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>{name}</title>\
         <link>http://example.invalid/{name}</link><description>{name}</description>\
         <item><title>{title}</title><link>http://example.invalid/{name}/1</link>\
         <guid>{name}-1</guid><pubDate>Mon, 02 Jun 2025 08:00:00 +0000</pubDate></item>\
         </channel></rss>\n"
    )
}

fn xml(charset: Option<&str>, body: Vec<u8>) -> Response {
    let content_type = match charset {
        Some(c) => format!("application/rss+xml; charset={c}"),
        None => "application/rss+xml".to_owned(),
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn ok_feed(headers: HeaderMap) -> Response {
    const ETAG: &str = "\"ok-1\"";
    if if_none_match(&headers) == Some(ETAG) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
    }
    let mut response = xml(None, rss("ok", "all is well").into_bytes());
    response
        .headers_mut()
        .insert(header::ETAG, header::HeaderValue::from_static(ETAG));
    response
}

fn if_none_match(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
}

async fn slow_drip() -> Response {
    let drip = futures::stream::unfold(0u32, |n| async move {
        if n >= 600 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        Some((Ok::<_, Infallible>(Bytes::from_static(b" ")), n + 1))
    });
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        Body::from_stream(drip),
    )
        .into_response()
}

async fn endless() -> Response {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    // Endless but not a busy loop: hyper writes each chunk before asking for the next, so the
    // stream runs at the client's reading pace and stops when the client hangs up.
    let body = futures::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        Body::from_stream(body),
    )
        .into_response()
}

async fn gzip_bomb() -> Response {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    let bomb = BOMB
        .get_or_init(|| Bytes::from(gzip_of_zeros(GZIP_BOMB_INFLATED / 258)))
        .clone();
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        bomb,
    )
        .into_response()
}

async fn redirect_loop(Path(n): Path<u64>) -> Response {
    let next = format!("/redirect-loop/{}", n.saturating_add(1));
    (StatusCode::FOUND, [(header::LOCATION, next)]).into_response()
}

async fn escape(State(shared): State<Arc<Shared>>) -> Response {
    let target = format!("http://127.0.0.2:{}{}", shared.port, paths::OK_FEED);
    (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
}

async fn too_many_requests() -> Response {
    let seconds = TOO_MANY_REQUESTS_RETRY_AFTER.as_secs().to_string();
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, seconds)],
        "slow down",
    )
        .into_response()
}

async fn unavailable() -> Response {
    let at = chrono::Utc::now()
        + chrono::Duration::from_std(UNAVAILABLE_RETRY_AFTER).unwrap_or_default();
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, date)],
        "down for maintenance",
    )
        .into_response()
}

async fn honest_etag(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (body, etag) = {
        let honest = lock(&shared.honest);
        (honest.body.clone(), format!("\"v{}\"", honest.version))
    };
    if if_none_match(&headers) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut response = xml(None, body.into_bytes());
    if let Ok(value) = header::HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

async fn lying_etag(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    const ETAG: &str = "\"forever\"";
    if if_none_match(&headers) == Some(ETAG) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
    }
    let body = lock(&shared.lying).clone();
    let mut response = xml(None, body.into_bytes());
    response
        .headers_mut()
        .insert(header::ETAG, header::HeaderValue::from_static(ETAG));
    response
}

/// An RSS feed with `title` as raw bytes, and the given XML declaration.
pub fn rss_bytes(prolog: &str, title: &[u8]) -> Vec<u8> {
    let mut body =
        format!("{prolog}\n<rss version=\"2.0\"><channel><title>charset</title><item><title>")
            .into_bytes();
    body.extend_from_slice(title);
    body.extend_from_slice(b"</title><guid>charset-1</guid></item></channel></rss>\n");
    body
}

/// The bytes each charset endpoint serves, and the charset its `Content-Type` declares.
pub fn charset_case(name: &str) -> Option<(Option<&'static str>, Vec<u8>)> {
    const PLAIN: &str = "<?xml version=\"1.0\"?>";
    let case = match name {
        "cp1252-declared-utf8.xml" => (Some("utf-8"), rss_bytes(PLAIN, CP1252_TITLE)),
        "cp1252-undeclared.xml" => (None, rss_bytes(PLAIN, CP1252_TITLE)),
        "sjis-declared-latin1.xml" => (Some("iso-8859-1"), rss_bytes(PLAIN, SHIFT_JIS_TITLE)),
        "sjis-undeclared.xml" => (None, rss_bytes(PLAIN, SHIFT_JIS_TITLE)),
        "sjis-prolog.xml" => (
            None,
            rss_bytes(
                "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>",
                SHIFT_JIS_TITLE,
            ),
        ),
        _ => return None,
    };
    Some(case)
}

async fn charset(Path(name): Path<String>) -> Response {
    match charset_case(&name) {
        Some((declared, body)) => xml(declared, body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `contentMenu?...&page=N&limit=L`: always a full page, always one more to come.
async fn paginates_forever(RawQuery(raw): RawQuery) -> Response {
    let mut page = 1u64;
    let mut limit = 10u64;
    let query = raw.unwrap_or_default();
    for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        match key {
            "page" => page = value.parse().unwrap_or(1).max(1),
            // Capped, so a hostile *client* cannot make the fixture build huge pages.
            "limit" => limit = value.parse().unwrap_or(10).clamp(1, 100),
            _ => {}
        }
    }
    let publications: Vec<Value> = (0..limit)
        .map(|i| {
            let id = (page - 1) * limit + i + 1;
            json!({
                "id": id,
                "slug": format!("forever-{id}"),
                "title": format!("Publication {id}"),
                "publish_date": "2025-06-02 08:00:00",
                "category": {"slug": "berita"},
            })
        })
        .collect();
    let body = json!({
        "status": true,
        "message": "Success",
        "data": {
            "publication": publications,
            "meta": {"page": page, "limit": limit, "last_page": page + 1, "total": u32::MAX},
        }
    });
    axum::Json(body).into_response()
}

/// A gzip member whose deflate stream is one zero byte then `repeats` copies of "repeat the
/// last 258 bytes", in fixed Huffman codes: 13 bits per 258 output bytes (~160:1). Built by
/// hand (as `pantau`'s own fetch tests do) so the suite needs no compression crate.
pub fn gzip_of_zeros(repeats: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        /// Plain values go least significant bit first.
        fn push(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn push_code(&mut self, code: u64, len: u32) {
            let reversed = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
            self.push(reversed, len);
        }
    }
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.push(1, 1); // the final block
    bits.push(1, 2); // fixed Huffman codes
    bits.push_code(0x30, 8); // literal 0
    for _ in 0..repeats {
        bits.push_code(0xc5, 8); // length 258 (symbol 285)
        bits.push_code(0, 5); // distance 1
    }
    bits.push_code(0, 7); // end of block
    if bits.n > 0 {
        bits.push(0, 8 - bits.n);
    }
    let size = 1 + 258 * repeats;
    let mut out = bits.out;
    out.extend_from_slice(&crc32_of_zeros(size).to_le_bytes());
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out
}

fn crc32_of_zeros(len: usize) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !(0..len).fold(!0u32, |c, _| table[(c & 0xff) as usize] ^ (c >> 8))
}
