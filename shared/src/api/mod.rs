//! The API headquarters queries: one axum router, served by lambda_http on Lambda and by a
//! plain server locally.
//!
//! | route                         | answers                                                        |
//! |-------------------------------|----------------------------------------------------------------|
//! | `GET /health`                 | `{"status":"ok","table":"ok"}`, or 503 when the table fails    |
//! | `GET /missions`               | every registry mission with its sources and health             |
//! | `GET /missions/{id}`          | one mission, its sources and health                            |
//! | `GET /missions/{id}/items`    | its items newest first: `limit` (1–200, default 50), `cursor`, `role`, `language`, `since`, `until` (RFC 3339, inclusive) |
//! | `GET /missions/{id}/activity` | its items per UTC day and role: the last `days` (1–366, default 90) whole days and today |
//! | `GET /items/{id}`             | the current item, its versions newest first, its story's other members |
//! | `GET /stories/{id}`           | a story's members newest first, each with why it joined: `limit`, `cursor` |
//! | `GET /countries/{cc}/missions` | the missions in a country, with health                        |
//! | `GET /countries/{cc}/items`   | the items of a country's missions newest first; filters as a mission's items |
//! | `GET /search?q=`              | items matching every word of `q` newest first (see `crate::search`); filters as a mission's items plus `mission`, `country`, `topic` |
//! | `GET /reports/silent-missions` | missions with no official publication for `days` (default 7) |
//! | `GET /reports/source-health`  | every source's last success, consecutive failures, last error, unhealthy flag |
//! | `GET /crises`                 | the crisis board: `country`, `state` (active, closed, all), `limit`; per crisis the count of responses and each mission's first |
//! | `GET /crises/{id}`            | one crisis: evidence, every response with its latency, one timeline |
//! | `GET /reports/response-latency` | per mission: crises in its country over `days`, answered, how fast |
//! | `GET /alerts/rules`           | every alert rule (`crate::alerts`)                             |
//! | `POST /alerts/rules`          | create one from JSON (201 with the rule; 400 says what is wrong) |
//! | `GET`/`DELETE /alerts/rules/{id}` | one rule; delete it and its condition states (204)         |
//! | `GET /alerts`                 | alert messages newest first with their deliveries: `limit`    |
//! | `GET /hq-records`             | headquarters' records (see `crate::hq`): `mission`, `country`, `kind`, `from`, `to` |
//! | `POST /hq-records`            | imports a CSV, JSON or .xlsx body of records; answers the import report |
//! | `GET /reports/hq-matching`    | records matched with official publications: `mission`, `from`, `to`, `window` |
//! | `GET /countries/{cc}/hq-timeline` | a country's crisis instructions and its missions' publications on one timeline |
//! | `GET /openapi.json`           | the OpenAPI 3.1 document of all of this                        |
//!
//! Every route but `/health`, `/openapi.json` and the dashboard's page and assets (which hold
//! no data) needs an `x-api-key` (see `access`). Lists answer CSV on `?format=csv` or
//! `Accept: text/csv` (see `csv`). `next_cursor` is signed (see `cursor`). Browsers on other
//! origins are refused unless `PANTAU_CORS_ORIGINS` names them.
//!
//! Errors are `application/problem+json` with `type`, `title`, `status`, `detail`.

pub mod access;
mod alerts;
#[cfg(test)]
mod alerts_tests;
#[cfg(test)]
mod attack_tests;
mod crises;
#[cfg(test)]
mod crises_tests;
pub mod csv;
pub mod cursor;
mod hq;
#[cfg(test)]
mod hq_tests;
pub mod limits;
pub mod openapi;
mod params;
mod problem;
mod reports;
mod search_route;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Extension, Json, Router, middleware};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};

pub use cursor::CursorSigner;
pub use params::{DaysParams, Format, ItemsParams, PageParams, SearchParams};
pub use problem::ApiError;

use crate::config::{ConfigError, optional};
use openapi::{Handler, OPERATIONS};

use crate::model::{Mission, Role, SourceKind, TimeBasis};
use crate::reconcile::read::{self, ItemVersion, SourceHealth, StoredItem};
use crate::registry::Registry;
use crate::store::{Cursor, Table};

#[derive(Clone)]
pub struct ApiState {
    pub table: Arc<dyn Table>,
    pub registry: Arc<Registry>,
    /// Signs `next_cursor` and checks the `cursor` that comes back.
    pub cursors: CursorSigner,
    /// Origins whose pages may call the API (CORS); empty: none but the API's own.
    pub cors_origins: Vec<HeaderValue>,
    /// The body limit and each key's rate limit (buckets in this process's memory).
    pub limits: Arc<limits::RateLimiter>,
}

/// The API's own settings, from the environment.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// `PANTAU_CURSOR_KEY`: at least 32 bytes of secret; generated and kept in the table
    /// when unset.
    pub cursor_key: Option<String>,
    /// `PANTAU_CORS_ORIGINS`: comma-separated origins such as `https://hq.example.go.id`.
    pub cors_origins: Vec<HeaderValue>,
    /// `PANTAU_CURSOR_TTL_MINUTES`: how long a `next_cursor` stays valid (default 24 hours).
    pub cursor_ttl: Option<chrono::Duration>,
    /// `PANTAU_RATE_LIMIT_PER_SECOND`, `PANTAU_RATE_LIMIT_BURST`, `PANTAU_MAX_BODY_BYTES`.
    pub limits: limits::LimitsConfig,
}

impl ApiConfig {
    pub fn from_env() -> Result<ApiConfig, ConfigError> {
        let cors_origins = match optional("PANTAU_CORS_ORIGINS") {
            None => Vec::new(),
            Some(list) => parse_origins(&list).map_err(|reason| ConfigError::Malformed {
                name: "PANTAU_CORS_ORIGINS",
                value: list.clone(),
                reason,
            })?,
        };
        let cursor_key = optional("PANTAU_CURSOR_KEY");
        if cursor_key
            .as_ref()
            .is_some_and(|k| k.len() < cursor::MIN_KEY_LEN)
        {
            return Err(ConfigError::Malformed {
                name: "PANTAU_CURSOR_KEY",
                value: "(hidden)".into(),
                reason: format!("must be at least {} bytes", cursor::MIN_KEY_LEN),
            });
        }
        let cursor_ttl = crate::config::optional_number::<u32>("PANTAU_CURSOR_TTL_MINUTES")?
            .filter(|m| *m > 0)
            .map(|m| chrono::Duration::minutes(i64::from(m)));
        Ok(ApiConfig {
            cursor_key,
            cors_origins,
            cursor_ttl,
            limits: limits::LimitsConfig::from_env()?,
        })
    }
}

/// `https://a.example, http://localhost:3000` → origins; a path, `*` or junk is refused.
pub fn parse_origins(list: &str) -> Result<Vec<HeaderValue>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = url::Url::parse(o).map_err(|_| format!("`{o}` is not an origin"))?;
            let origin = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || origin != o.trim_end_matches('/') {
                return Err(format!(
                    "`{o}` is not an origin such as https://hq.example.go.id (no path, no *)"
                ));
            }
            HeaderValue::from_str(&origin).map_err(|e| e.to_string())
        })
        .collect()
}

impl ApiState {
    /// The state for `table`, with the cursor key configured or kept in the table.
    pub async fn new(
        table: Arc<dyn Table>,
        registry: Arc<Registry>,
        config: &ApiConfig,
    ) -> Result<ApiState, cursor::CursorKeyError> {
        let mut cursors = cursor::signer(table.as_ref(), config.cursor_key.as_deref()).await?;
        if let Some(ttl) = config.cursor_ttl {
            cursors = cursors.with_ttl(ttl);
        }
        Ok(ApiState {
            table,
            registry,
            cursors,
            cors_origins: config.cors_origins.clone(),
            limits: Arc::new(limits::RateLimiter::new(config.limits.clone())),
        })
    }
}

fn handler(h: Handler) -> MethodRouter<ApiState> {
    match h {
        Handler::Health => get(health),
        Handler::OpenApi => get(|| async { Json(openapi::document()) }),
        Handler::Missions => get(list_missions),
        Handler::Mission => get(mission_detail),
        Handler::MissionItems => get(mission_items),
        Handler::MissionActivity => get(mission_activity),
        Handler::Item => get(item_detail),
        Handler::Story => get(story_detail),
        Handler::CountryMissions => get(country_missions),
        Handler::CountryItems => get(country_items),
        Handler::Search => get(search_route::search_items),
        Handler::SilentMissions => get(reports::silent_missions),
        Handler::SourceHealth => get(reports::source_health),
        Handler::Crises => get(crises::list),
        Handler::Crisis => get(crises::detail),
        Handler::ResponseLatency => get(crises::latency_report),
        Handler::AlertRules => get(alerts::list_rules),
        Handler::AlertRuleCreate => post(alerts::create_rule),
        Handler::AlertRule => get(alerts::get_rule),
        Handler::AlertRuleDelete => delete(alerts::delete_rule),
        Handler::AlertHistory => get(alerts::history),
        Handler::HqRecords => hq::records_routes(),
        Handler::HqMatching => get(hq::matching_report),
        Handler::HqTimeline => get(hq::country_timeline),
    }
}

/// The router, built from `openapi::OPERATIONS`: what is served is what is documented.
pub fn router(state: ApiState) -> Router {
    // The API holds its table for the process's life: its role reads may remember markers.
    crate::reconcile::rollup::remember_markers_of(&state.table);
    let (mut public, mut keyed) = (Router::new(), Router::new());
    for op in OPERATIONS {
        if op.needs_key {
            keyed = keyed.route(op.path, handler(op.handler));
        } else {
            public = public.route(op.path, handler(op.handler));
        }
    }
    let keyed = keyed.route_layer(middleware::from_fn_with_state(
        state.clone(),
        access::require_key,
    ));
    let app = public
        .merge(keyed)
        .merge(crate::dashboard::routes())
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::limit_body,
        ))
        .layer(middleware::from_fn(limits::catch_panics))
        .with_state(state.clone());
    if state.cors_origins.is_empty() {
        // Closed: no CORS headers, so browsers keep other origins' pages out.
        return app;
    }
    app.layer(
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::AllowOrigin::list(state.cors_origins))
            .allow_methods([Method::GET])
            .allow_headers([HeaderName::from_static(access::KEY_HEADER), header::ACCEPT])
            .expose_headers([HeaderName::from_static(csv::NEXT_CURSOR_HEADER)])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The format a list is answered in.
fn list_format(explicit: Option<Format>, headers: &HeaderMap) -> Format {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    Format::choose(explicit, accept)
}

/// Missions whose health is computed at once for `GET /missions` (one query each).
const HEALTH_QUERIES_IN_FLIGHT: usize = 16;

/// A source failing this many times in a row makes its mission `failing`.
const FAILING_AFTER: u32 = 3;

async fn health(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    read::probe(state.table.as_ref())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({"status": "ok", "table": "ok"})))
}

async fn list_missions(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = list_format(params::parse_list_format(query.as_deref())?, &headers);
    let missions: Vec<Value> = every_mission_health(&state)
        .await?
        .into_iter()
        .map(|(mission, sources, last)| mission_json(mission, &sources, last))
        .collect();
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = missions.iter().map(mission_row).collect();
        return Ok(vary_on_accept(csv::response(
            &MISSION_COLUMNS,
            &rows,
            None,
            "missions.csv",
        )));
    }
    Ok(vary_on_accept(
        Json(json!({ "missions": missions })).into_response(),
    ))
}

/// Every registry mission with its sources' health and its last official publication: one
/// query for all source states and one for the summary of last publications
/// (`reconcile::latest`); a table whose summary is not complete yet costs one query per
/// mission instead (`read::last_published`: its role index's newest entry).
async fn every_mission_health(
    state: &ApiState,
) -> Result<Vec<(&Mission, Vec<SourceHealth>, Option<DateTime<Utc>>)>, ApiError> {
    let mut states: HashMap<String, Vec<SourceHealth>> = HashMap::new();
    for h in read::all_source_health(state.table.as_ref())
        .await
        .map_err(ApiError::internal)?
    {
        states.entry(h.owner.clone()).or_default().push(h);
    }
    // Owned ids and table handles: the futures must be `Send` for axum.
    let ids: Vec<String> = state
        .registry
        .missions
        .iter()
        .map(|m| m.id.clone())
        .collect();
    // The fleet's summary (one query) when it is complete; else one query per mission.
    let summary = crate::reconcile::latest::latest_published(state.table.as_ref(), Role::Official)
        .await
        .map_err(ApiError::internal)?;
    let last_official: Vec<Result<Option<DateTime<Utc>>, read::ReadError>> =
        match summary {
            Some(latest) => ids.iter().map(|id| Ok(latest.get(id).copied())).collect(),
            None => futures::stream::iter(ids)
                .map(|id| {
                    let table = state.table.clone();
                    async move { read::last_published(table.as_ref(), &id, Role::Official).await }
                })
                .buffered(HEALTH_QUERIES_IN_FLIGHT)
                .collect()
                .await,
        };
    let mut missions = Vec::with_capacity(last_official.len());
    for (mission, last) in state.registry.missions.iter().zip(last_official) {
        let last = last.map_err(ApiError::internal)?;
        let sources = states.remove(&mission.id).unwrap_or_default();
        missions.push((mission, sources, last));
    }
    Ok(missions)
}

/// Lists answer JSON or CSV by `Accept`: caches must key on it.
fn vary_on_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

const MISSION_COLUMNS: [&str; 11] = [
    "id",
    "name",
    "kind",
    "city",
    "country",
    "country_code",
    "time_zone",
    "health_status",
    "last_official_published_at",
    "last_success_at",
    "sources",
];

/// A mission's CSV row, from its JSON form (so both always agree).
fn mission_row(m: &Value) -> Vec<String> {
    let h = &m["health"];
    vec![
        text(&m["id"]),
        text(&m["name"]),
        text(&m["kind"]),
        text(&m["city"]),
        text(&m["country"]),
        text(&m["country_code"]),
        text(&m["time_zone"]),
        text(&h["status"]),
        text(&h["last_official_published_at"]),
        text(&h["last_success_at"]),
        m["sources"].as_array().map_or(0, Vec::len).to_string(),
    ]
}

const ITEM_COLUMNS: [&str; 13] = [
    "id",
    "mission",
    "source",
    "role",
    "kind",
    "title",
    "summary",
    "url",
    "language",
    "published_at",
    "fetched_at",
    "first_seen_at",
    "versions",
];

/// An item's CSV row, from its JSON form; the body is left out (too long for a cell).
fn item_row(i: &Value) -> Vec<String> {
    ITEM_COLUMNS.iter().map(|c| text(&i[*c])).collect()
}

/// A JSON value as a CSV cell: strings bare, null empty, the rest as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn mission_detail(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mission = known_mission(&state, &id)?;
    let (sources, last) = mission_health(state.table.as_ref(), &mission.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(mission_json(mission, &sources, last)))
}

async fn mission_items(
    State(state): State<ApiState>,
    Extension(caller): Extension<access::Caller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mission = known_mission(&state, &id)?;
    let params = ItemsParams::parse(query.as_deref())?;
    let format = list_format(params.format, &headers);
    let scope = caller.bind(params.cursor_scope(&mission.id));
    let cursor = open_cursor(
        &state,
        &scope,
        params.cursor.as_deref(),
        "this mission and these filters",
    )?;
    let page = read::mission_items(
        state.table.as_ref(),
        &mission.id,
        &params.filter,
        params.limit,
        cursor,
    )
    .await
    .map_err(|e| read_error(e, "this mission's"))?;
    item_list_response(&state, &scope, page, format, ("mission", &mission.id))
}

/// A mission's publications per day and role, for its activity chart.
async fn mission_activity(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mission = known_mission(&state, &id)?;
    let params = DaysParams::parse(
        query.as_deref(),
        params::DEFAULT_ACTIVITY_DAYS,
        params::MAX_ACTIVITY_DAYS,
    )?;
    // Whole UTC days: the chart's bars are days (and the daily counts answer per day).
    let until = Utc::now();
    let since = (until - chrono::Duration::days(i64::from(params.days)))
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let activity = read::mission_activity(
        state.table.as_ref(),
        &mission.id,
        since,
        until,
        read::MAX_READS_FOR_ACTIVITY,
    )
    .await
    .map_err(ApiError::internal)?;
    if list_format(params.format, &headers) == Format::Csv {
        let rows: Vec<Vec<String>> = activity
            .days
            .iter()
            .map(|d| {
                vec![
                    d.day.to_string(),
                    d.official.to_string(),
                    d.hq.to_string(),
                    d.media.to_string(),
                    d.hazard.to_string(),
                ]
            })
            .collect();
        let name = format!("{}-activity.csv", mission.id);
        return Ok(vary_on_accept(csv::response(
            &["day", "official", "hq", "media", "hazard"],
            &rows,
            None,
            &name,
        )));
    }
    Ok(vary_on_accept(
        Json(json!({
            "mission": mission.id,
            "since": since,
            "until": until,
            "days": activity.days,
            "items_read": activity.items_read,
            "truncated": activity.truncated,
        }))
        .into_response(),
    ))
}

async fn item_detail(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound {
        what: format!("item `{id}`"),
    };
    if !params::is_item_id(&id) {
        return Err(not_found());
    }
    let view = read::get_item(state.table.as_ref(), &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let story = match &view.current.story_id {
        None => Value::Null,
        Some(story_id) => {
            // One page of members, the item itself left out.
            let page = read::story_members(
                state.table.as_ref(),
                story_id,
                STORY_MEMBERS_ON_ITEM + 1,
                None,
            )
            .await
            .map_err(ApiError::internal)?;
            let members: Vec<Value> = page
                .members
                .iter()
                .filter(|m| m.id != id)
                .take(STORY_MEMBERS_ON_ITEM)
                .map(story_member_json)
                .collect();
            json!({"id": story_id, "members": members})
        }
    };
    Ok(Json(json!({
        "item": item_json(&view.current),
        "versions": view.versions.iter().map(version_json).collect::<Vec<_>>(),
        "story": story,
    })))
}

/// Other members of its story an item's detail shows; `GET /stories/{id}` has them all.
const STORY_MEMBERS_ON_ITEM: usize = 50;

const STORY_MEMBER_COLUMNS: [&str; 8] = [
    "id",
    "title",
    "mission",
    "source",
    "language",
    "published_at",
    "rule",
    "linked_to",
];

fn story_member_json(m: &read::StoryMember) -> Value {
    json!({
        "id": m.id,
        "title": m.title,
        "mission": m.mission,
        "source": m.source,
        "language": m.language,
        "published_at": m.published_at,
        "reason": m.reason,
        "linked_to": m.linked_to,
    })
}

fn story_member_row(m: &Value) -> Vec<String> {
    STORY_MEMBER_COLUMNS
        .iter()
        .map(|c| match *c {
            "rule" => text(&m["reason"]["rule"]),
            other => text(&m[other]),
        })
        .collect()
}

async fn story_detail(
    State(state): State<ApiState>,
    Extension(caller): Extension<access::Caller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound {
        what: format!("story `{id}`"),
    };
    // A story id is an item id.
    if !params::is_item_id(&id) {
        return Err(not_found());
    }
    let params = PageParams::parse(query.as_deref())?;
    let format = list_format(params.format, &headers);
    let scope = caller.bind(format!("story\x1f{id}"));
    let cursor = open_cursor(&state, &scope, params.cursor.as_deref(), "this story")?;
    let first_page = cursor.is_none();
    let page = read::story_members(state.table.as_ref(), &id, params.limit, cursor)
        .await
        .map_err(|e| read_error(e, "this story's"))?;
    if first_page && page.members.is_empty() {
        return Err(not_found());
    }
    let members: Vec<Value> = page.members.iter().map(story_member_json).collect();
    let next = page.next.map(|c| state.cursors.sign(&scope, &c));
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = members.iter().map(story_member_row).collect();
        return Ok(vary_on_accept(csv::response(
            &STORY_MEMBER_COLUMNS,
            &rows,
            next.as_deref(),
            &format!("story-{id}.csv"),
        )));
    }
    Ok(vary_on_accept(
        Json(json!({"id": id, "members": members, "next_cursor": next})).into_response(),
    ))
}

/// The registry's missions in a country (`cc` in either case); 404 when there are none.
fn country_missions_of<'a>(
    state: &'a ApiState,
    cc: &str,
) -> Result<(String, Vec<&'a Mission>), ApiError> {
    let not_found = || ApiError::NotFound {
        what: format!("a mission in country `{cc}`"),
    };
    let code = params::country_code(cc).ok_or_else(not_found)?;
    let missions: Vec<&Mission> = state
        .registry
        .missions
        .iter()
        .filter(|m| m.country_code.eq_ignore_ascii_case(&code))
        .collect();
    if missions.is_empty() {
        return Err(not_found());
    }
    Ok((code, missions))
}

/// Missions whose health `GET /countries/{cc}/missions` reads at once (two requests each).
const COUNTRY_MISSIONS_IN_FLIGHT: usize = 8;

/// A mission's source states and its last official publication.
type MissionHealth = (Vec<SourceHealth>, Option<DateTime<Utc>>);

/// One mission's health, its two reads at once: a query of its source states and
/// `read::last_published` (one query once the role index is complete).
async fn mission_health(
    table: &dyn Table,
    mission: &str,
) -> Result<MissionHealth, read::ReadError> {
    futures::try_join!(
        read::source_health(table, mission),
        read::last_published(table, mission, Role::Official),
    )
}

async fn country_missions(
    State(state): State<ApiState>,
    Path(cc): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = list_format(params::parse_list_format(query.as_deref())?, &headers);
    let (code, in_country) = country_missions_of(&state, &cc)?;
    // Each mission's health as `GET /missions/{id}` reads it (its source states and its
    // last official publication, both at once), a bounded number of missions at once: a
    // country has a few missions, a tenfold fleet a few dozen.
    // Owned ids and table handles: the futures must be `Send` for axum.
    let ids: Vec<String> = in_country.iter().map(|m| m.id.clone()).collect();
    let healths: Vec<Result<MissionHealth, read::ReadError>> = futures::stream::iter(ids)
        .map(|id| {
            let table = state.table.clone();
            async move { mission_health(table.as_ref(), &id).await }
        })
        .buffered(COUNTRY_MISSIONS_IN_FLIGHT)
        .collect()
        .await;
    let mut missions = Vec::with_capacity(in_country.len());
    for (mission, health) in in_country.into_iter().zip(healths) {
        let (sources, last) = health.map_err(ApiError::internal)?;
        missions.push(mission_json(mission, &sources, last));
    }
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = missions.iter().map(mission_row).collect();
        return Ok(vary_on_accept(csv::response(
            &MISSION_COLUMNS,
            &rows,
            None,
            &format!("missions-{code}.csv"),
        )));
    }
    Ok(vary_on_accept(
        Json(json!({"country_code": code, "missions": missions})).into_response(),
    ))
}

async fn country_items(
    State(state): State<ApiState>,
    Extension(caller): Extension<access::Caller>,
    Path(cc): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (code, _) = country_missions_of(&state, &cc)?;
    let params = ItemsParams::parse(query.as_deref())?;
    let format = list_format(params.format, &headers);
    // Mission ids have no `/`: a country's scope never equals a mission's.
    let scope = caller.bind(params.cursor_scope(&format!("country/{code}")));
    let cursor = open_cursor(
        &state,
        &scope,
        params.cursor.as_deref(),
        "this country and these filters",
    )?;
    let page = read::country_items(
        state.table.as_ref(),
        &code,
        &params.filter,
        params.limit,
        cursor,
    )
    .await
    .map_err(|e| read_error(e, "this country's"))?;
    item_list_response(&state, &scope, page, format, ("country_code", &code))
}

/// Checks a signed cursor against the listing it claims to belong to (`scope`).
fn open_cursor(
    state: &ApiState,
    scope: &str,
    token: Option<&str>,
    listing: &str,
) -> Result<Option<Cursor>, ApiError> {
    token
        .map(|token| {
            state.cursors.open(scope, token).map_err(|_| {
                ApiError::bad(
                    "cursor",
                    format!("not a cursor this API returned for {listing} and this key (tampered with, from another query, or expired)"),
                )
            })
        })
        .transpose()
}

/// A read failure as the API reports it: a cursor of another listing is the caller's error.
fn read_error(e: read::ReadError, listing: &str) -> ApiError {
    match e {
        read::ReadError::ForeignCursor => {
            ApiError::bad("cursor", format!("not a cursor of {listing} listing"))
        }
        other => ApiError::internal(other),
    }
}

/// One page of items as JSON (`{label: value, items, next_cursor}`) or CSV (`items-{value}.csv`,
/// next cursor in a header), with the next cursor signed for the same listing.
fn item_list_response(
    state: &ApiState,
    scope: &str,
    page: read::ItemPage,
    format: Format,
    (label, value): (&str, &str),
) -> Result<Response, ApiError> {
    let next = page.next.map(|c| state.cursors.sign(scope, &c));
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = page.items.iter().map(|i| item_row(&item_json(i))).collect();
        return Ok(vary_on_accept(csv::response(
            &ITEM_COLUMNS,
            &rows,
            next.as_deref(),
            &format!("items-{value}.csv"),
        )));
    }
    // Written straight from the items: a page of long bodies built as a `Value` first cost
    // a copy of every text and a map per item.
    let list = ItemListJson {
        label,
        value,
        items: &page.items,
        next_cursor: next.as_deref(),
    };
    Ok(vary_on_accept(Json(list).into_response()))
}

/// A page of items as JSON: `{label: value, "items": [...], "next_cursor": ...}`, its keys in
/// the order of their names, as `json!` (a `Value` map, sorted) wrote them.
struct ItemListJson<'a> {
    label: &'a str,
    value: &'a str,
    items: &'a [StoredItem],
    next_cursor: Option<&'a str>,
}

impl Serialize for ItemListJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Items<'a>(&'a [StoredItem]);
        impl Serialize for Items<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(ItemJson::of))
            }
        }
        let mut keys = [self.label, "items", "next_cursor"];
        keys.sort_unstable();
        let mut map = serializer.serialize_map(Some(keys.len()))?;
        for key in keys {
            match key {
                "items" => map.serialize_entry(key, &Items(self.items))?,
                "next_cursor" => map.serialize_entry(key, &self.next_cursor)?,
                _ => map.serialize_entry(key, self.value)?,
            }
        }
        map.end()
    }
}

async fn not_found_route() -> Response {
    ApiError::NotFound {
        what: "this route".into(),
    }
    .into_response()
}

async fn method_not_allowed() -> Response {
    problem::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this API only answers GET".into(),
        None,
    )
}

fn known_mission<'a>(state: &'a ApiState, id: &str) -> Result<&'a Mission, ApiError> {
    state
        .registry
        .mission(id)
        .ok_or_else(|| ApiError::NotFound {
            what: format!("mission `{id}`"),
        })
}

fn mission_json(
    mission: &Mission,
    states: &[SourceHealth],
    last_official: Option<DateTime<Utc>>,
) -> Value {
    let sources: Vec<Value> = mission
        .sources
        .iter()
        .map(|s| {
            let state = states.iter().find(|h| h.source == s.id);
            json!({
                "id": s.id,
                "kind": s.kind,
                "role": s.role,
                "url": s.url,
                "language": s.language,
                "cadence_minutes": s.cadence_minutes,
                "state": state.map(source_state_json),
            })
        })
        .collect();
    let known: Vec<&SourceHealth> = mission
        .sources
        .iter()
        .filter_map(|s| states.iter().find(|h| h.source == s.id))
        .collect();
    let failures: Vec<u32> = known.iter().map(|h| h.consecutive_failures).collect();
    // Scrape's own mark decides; the count stands in for states written before it existed.
    let status = if failures.is_empty() {
        "unknown"
    } else if known.iter().any(|h| h.unhealthy_since.is_some())
        || failures.iter().any(|f| *f >= FAILING_AFTER)
    {
        "failing"
    } else if failures.iter().any(|f| *f > 0) {
        "degraded"
    } else {
        "ok"
    };
    json!({
        "id": mission.id,
        "name": mission.display_name(),
        "kind": mission.kind,
        "city": mission.city,
        "country": mission.country,
        "country_code": mission.country_code,
        "time_zone": mission.time_zone,
        "health": {
            "status": status,
            "last_official_published_at": last_official,
            "last_success_at": states.iter().filter_map(|h| h.last_success_at).max(),
        },
        "sources": sources,
    })
}

fn source_state_json(h: &SourceHealth) -> Value {
    json!({
        "last_attempt_at": h.last_attempt_at,
        "last_success_at": h.last_success_at,
        "last_change_at": h.last_change_at,
        "consecutive_failures": h.consecutive_failures,
        "last_error": h.last_error,
        "next_due_at": h.next_due_at,
        "unhealthy_since": h.unhealthy_since,
        "unhealthy_reason": h.unhealthy_reason,
    })
}

fn item_json(s: &StoredItem) -> Value {
    serde_json::to_value(ItemJson::of(s)).unwrap_or_default()
}

/// An item as the API shows it, borrowed from the stored item. The fields are in the order of
/// their names, the order a `Value` map keeps: written directly or through [`item_json`],
/// an item reads the same, byte for byte.
#[derive(Serialize)]
struct ItemJson<'a> {
    body: &'a Option<String>,
    fetched_at: &'a DateTime<Utc>,
    first_seen_at: &'a DateTime<Utc>,
    id: &'a str,
    kind: &'a SourceKind,
    language: &'a Option<String>,
    mission: &'a str,
    published_at: &'a DateTime<Utc>,
    published_raw: &'a Option<String>,
    role: &'a Role,
    source: &'a str,
    story_id: &'a Option<String>,
    summary: &'a Option<String>,
    time_basis: &'a TimeBasis,
    title: &'a str,
    url: &'a Option<String>,
    versions: u64,
}

impl<'a> ItemJson<'a> {
    fn of(s: &'a StoredItem) -> ItemJson<'a> {
        let i = &s.item;
        ItemJson {
            body: &i.body,
            fetched_at: &i.fetched_at,
            first_seen_at: &s.first_seen_at,
            id: &s.id,
            kind: &i.kind,
            language: &i.language,
            mission: &i.mission,
            published_at: &i.published_at,
            published_raw: &i.published_raw,
            role: &i.role,
            source: &i.source,
            story_id: &s.story_id,
            summary: &i.summary,
            time_basis: &i.time_basis,
            title: &i.title,
            url: &i.url,
            versions: s.versions,
        }
    }
}

fn version_json(v: &ItemVersion) -> Value {
    let i = &v.item;
    json!({
        "version_at": v.version_at,
        "content_hash": v.content_hash,
        "title": i.title,
        "summary": i.summary,
        "body": i.body,
        "url": i.url,
        "published_at": i.published_at,
        "fetched_at": i.fetched_at,
    })
}
