//! The offline server's HTTP side: routes, the answer envelopes, conditional GET, and the
//! layer that logs every request and applies the faults tests asked for.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::snapshot::{self, GDELT_HOST, GOOGLE_NEWS_HOST};
use super::world::{ListQuery, RequestRecord, World, feed_sends, list_page};
use super::{PORTAL_API_PATH, REMOTE_PREFIX};

type Shared = Arc<Mutex<World>>;

/// Bodies are small; anything larger is a bug in the fixture, not a reason to stream.
const MAX_BODY: usize = 16 * 1024 * 1024;
const JSON: &str = "application/json";

pub(crate) fn router(world: Shared) -> Router {
    Router::new()
        .route(&format!("{PORTAL_API_PATH}/contentMenu"), get(content_menu))
        .route(
            &format!("{PORTAL_API_PATH}/content/publication"),
            get(content_publication),
        )
        .route("/feeds/{file}", get(feed))
        .route(&format!("{REMOTE_PREFIX}/{{host}}/{{*path}}"), get(remote))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            world.clone(),
            around_every_request,
        ))
        .with_state(world)
}

fn lock(world: &Shared) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(|e| e.into_inner())
}

/// `GET contentMenu?type=menu&slug[]=<portal>&slug[]=<section>&portal=<portal>&page=N&limit=L...`
async fn content_menu(State(world): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let query = match ListQuery::parse(raw.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(message) => return api_error(StatusCode::BAD_REQUEST, &message),
    };
    let (body, last_modified) = {
        let world = lock(&world);
        let (body, last_modified) = match world.portals.get(&query.portal) {
            Some(portal) => (
                list_page(&portal.publications, &query),
                portal.last_modified,
            ),
            // A portal with nothing recorded answers like a mission that never posted.
            None => (list_page(&[], &query), super::snapshot::snapshot_time()),
        };
        if world.lists_without_bodies {
            (super::world::without_bodies(body), last_modified)
        } else {
            (body, last_modified)
        }
    };
    document(JSON, body.to_string(), true, Some(last_modified))
}

/// `GET content/publication?portal=<mission>&slug=<slug>`
async fn content_publication(State(world): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let mut portal = None;
    let mut slug = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "portal" => portal = Some(value.into_owned()),
            "slug" => slug = Some(value.into_owned()),
            _ => {}
        }
    }
    let (Some(portal), Some(slug)) = (
        portal.filter(|p| !p.is_empty()),
        slug.filter(|s| !s.is_empty()),
    ) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "The portal and slug fields are required.",
        );
    };
    let found = {
        let world = lock(&world);
        world.portals.get(&portal).and_then(|p| {
            p.publications
                .iter()
                .find(|x| x.get("slug").and_then(Value::as_str) == Some(slug.as_str()))
                .map(|x| (x.clone(), p.last_modified))
        })
    };
    match found {
        Some((publication, last_modified)) => {
            let body = json!({"status": true, "message": "Success", "data": publication});
            document(JSON, body.to_string(), true, Some(last_modified))
        }
        None => api_error(StatusCode::NOT_FOUND, "Data not found."),
    }
}

/// `GET /feeds/<name>.xml`
async fn feed(State(world): State<Shared>, Path(file): Path<String>) -> Response {
    let name = file.strip_suffix(".xml").unwrap_or(&file);
    let found = {
        let world = lock(&world);
        world
            .feeds
            .get(name)
            .map(|f| (f.meta, f.body.clone(), f.last_modified))
    };
    let Some((meta, body, last_modified)) = found else {
        return not_found().await;
    };
    let (etag, with_last_modified) = feed_sends(meta.validators);
    document(
        meta.content_type,
        body,
        etag,
        with_last_modified.then_some(last_modified),
    )
}

/// `GET /remote/<host>/<path>?<query>`: an imitated remote source (see
/// [`snapshot::IMITATED_HOSTS`]). The searches answer any query (recorded results for a few,
/// a valid empty feed for the rest); the hazard feeds are fixed documents.
async fn remote(Path((host, path)): Path<(String, String)>, RawQuery(raw): RawQuery) -> Response {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    match (host.as_str(), path.as_str()) {
        (GOOGLE_NEWS_HOST, "rss/search") => {
            let body = snapshot::google_news_feed(param("gl"), param("hl"), param("q"));
            document("application/xml; charset=utf-8", body, false, None)
        }
        (GDELT_HOST, "api/v2/doc/doc") => {
            let body = snapshot::gdelt_feed(param("query"));
            document("application/rss+xml; charset=utf-8", body, false, None)
        }
        _ => match snapshot::hazard_recording(&host, &format!("/{path}")) {
            Some(recording) => {
                let (etag, with_last_modified) = feed_sends(recording.validators);
                let last_modified = DateTime::parse_from_rfc2822(recording.last_modified)
                    .ok()
                    .map(|d| d.with_timezone(&Utc));
                document(
                    recording.content_type,
                    recording.body.to_owned(),
                    etag,
                    last_modified.filter(|_| with_last_modified),
                )
            }
            None => not_found().await,
        },
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>\n",
    )
        .into_response()
}

/// The backend's error envelope.
fn api_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"status": false, "message": message, "data": null});
    (status, [(header::CONTENT_TYPE, JSON)], body.to_string()).into_response()
}

/// A 200 answer with the validators its server sends. The ETag is strong: the body's hash.
fn document(
    content_type: &'static str,
    body: String,
    etag: bool,
    last_modified: Option<DateTime<Utc>>,
) -> Response {
    let mut response = (StatusCode::OK, body.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    if etag {
        set_etag(headers, body.as_bytes());
    }
    if let Some(Ok(value)) = last_modified.map(|at| HeaderValue::from_str(&http_date(at))) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    response
}

fn set_etag(headers: &mut HeaderMap, body: &[u8]) {
    let tag = format!("\"{}\"", &hex::encode(Sha256::digest(body))[..32]);
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Logs the request, applies an injected fault or the malformed-body switch, and turns a
/// matching conditional GET into a 304.
async fn around_every_request(
    State(world): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let conditions = request.headers().clone();

    let fault = lock(&world).take_fault(&path_and_query);
    let response = match fault {
        Some(status) => fault_response(status),
        None => {
            let response = next.run(request).await;
            let response = if lock(&world).serves_malformed(&path_and_query) {
                truncate_body(response).await
            } else {
                response
            };
            not_modified_if_fresh(&conditions, response)
        }
    };
    tracing::debug!(%method, %path_and_query, status = response.status().as_u16(), "offline request");
    lock(&world).log.push(RequestRecord {
        method,
        path_and_query,
        status: response.status().as_u16(),
    });
    response
}

fn fault_response(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = status.canonical_reason().unwrap_or("Error");
    let mut response = api_error(status, message);
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Cuts a successful body in half (the ETag follows the broken body, as it would).
async fn truncate_body(response: Response) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let cut = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    if parts.headers.contains_key(header::ETAG) {
        set_etag(&mut parts.headers, &cut);
    }
    Response::from_parts(parts, Body::from(cut))
}

/// RFC 9110 §13.1: If-None-Match decides when present; otherwise If-Modified-Since.
fn not_modified_if_fresh(conditions: &HeaderMap, response: Response) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let headers = response.headers();
    let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok());
    let last_modified = headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    let fresh = match conditions
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(if_none_match) => etag.is_some_and(|etag| etag_matches(if_none_match, etag)),
        None => {
            let since = conditions
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
            matches!((since, last_modified), (Some(since), Some(lm)) if lm <= since)
        }
    };
    if !fresh {
        return response;
    }
    let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
    for name in [header::ETAG, header::LAST_MODIFIED, header::CACHE_CONTROL] {
        if let Some(value) = headers.get(&name) {
            not_modified.headers_mut().insert(name, value.clone());
        }
    }
    not_modified
}

/// If-None-Match uses the weak comparison: `W/` prefixes do not matter, `*` matches all.
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = strip(etag);
    if_none_match
        .split(',')
        .any(|candidate| candidate.trim() == "*" || strip(candidate) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_comparison_is_weak_and_handles_lists() {
        assert!(etag_matches("\"a\"", "\"a\""));
        assert!(etag_matches("W/\"a\"", "\"a\""));
        assert!(etag_matches("\"b\", \"a\"", "\"a\""));
        assert!(etag_matches("*", "\"a\""));
        assert!(!etag_matches("\"b\"", "\"a\""));
    }

    #[test]
    fn http_dates_round_trip_through_rfc2822() {
        let at = DateTime::from_timestamp(1_795_824_000, 0).unwrap();
        let text = http_date(at);
        assert_eq!(text, "Sat, 28 Nov 2026 00:00:00 GMT");
        assert_eq!(DateTime::parse_from_rfc2822(&text).unwrap(), at);
    }
}
