//! The API headquarters queries: one axum router, served by lambda_http on Lambda and by a
//! plain server locally.
//!
//! | route                         | answers                                                        |
//! |-------------------------------|----------------------------------------------------------------|
//! | `GET /health`                 | `{"status":"ok","table":"ok"}`, or 503 when the table fails    |
//! | `GET /missions`               | every registry mission with its sources and health             |
//! | `GET /missions/{id}`          | one mission, its sources and health                            |
//! | `GET /missions/{id}/items`    | its items newest first: `limit` (1–200, default 50), `cursor`, `role`, `language`, `since`, `until` (RFC 3339, inclusive) |
//! | `GET /items/{id}`             | the current item and its versions, newest first                |
//!
//! Errors are `application/problem+json` with `type`, `title`, `status`, `detail`.

mod params;
mod problem;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

pub use params::ItemsParams;
pub use problem::ApiError;

use crate::model::{Mission, Role};
use crate::reconcile::read::{self, ItemVersion, SourceHealth, StoredItem};
use crate::registry::Registry;
use crate::store::Table;

#[derive(Clone)]
pub struct ApiState {
    pub table: Arc<dyn Table>,
    pub registry: Arc<Registry>,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/missions", get(list_missions))
        .route("/missions/{id}", get(mission_detail))
        .route("/missions/{id}/items", get(mission_items))
        .route("/items/{id}", get(item_detail))
        .merge(crate::dashboard::routes())
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
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

async fn list_missions(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let table = state.table.as_ref();
    let mut states: HashMap<String, Vec<SourceHealth>> = HashMap::new();
    for h in read::all_source_health(table)
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
    let last_official: Vec<_> = futures::stream::iter(ids)
        .map(|id| {
            let table = state.table.clone();
            async move { read::last_published(table.as_ref(), &id, Role::Official).await }
        })
        .buffered(HEALTH_QUERIES_IN_FLIGHT)
        .collect()
        .await;
    let mut missions = Vec::with_capacity(last_official.len());
    for (mission, last) in state.registry.missions.iter().zip(last_official) {
        let last = last.map_err(ApiError::internal)?;
        let sources = states.remove(&mission.id).unwrap_or_default();
        missions.push(mission_json(mission, &sources, last));
    }
    Ok(Json(json!({ "missions": missions })))
}

async fn mission_detail(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mission = known_mission(&state, &id)?;
    let table = state.table.as_ref();
    let sources = read::source_health(table, &mission.id)
        .await
        .map_err(ApiError::internal)?;
    let last = read::last_published(table, &mission.id, Role::Official)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(mission_json(mission, &sources, last)))
}

async fn mission_items(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mission = known_mission(&state, &id)?;
    let params = ItemsParams::parse(query.as_deref())?;
    let page = read::mission_items(
        state.table.as_ref(),
        &mission.id,
        &params.filter,
        params.limit,
        params.cursor,
    )
    .await
    .map_err(|e| match e {
        read::ReadError::ForeignCursor => {
            ApiError::bad("cursor", "not a cursor of this mission's listing")
        }
        other => ApiError::internal(other),
    })?;
    Ok(Json(json!({
        "mission": mission.id,
        "items": page.items.iter().map(item_json).collect::<Vec<_>>(),
        "next_cursor": page.next.map(|c| c.0),
    })))
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
    Ok(Json(json!({
        "item": item_json(&view.current),
        "versions": view.versions.iter().map(version_json).collect::<Vec<_>>(),
    })))
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
    let failures: Vec<u32> = mission
        .sources
        .iter()
        .filter_map(|s| states.iter().find(|h| h.source == s.id))
        .map(|h| h.consecutive_failures)
        .collect();
    let status = if failures.is_empty() {
        "unknown"
    } else if failures.iter().any(|f| *f >= FAILING_AFTER) {
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
    })
}

fn item_json(s: &StoredItem) -> Value {
    let i = &s.item;
    json!({
        "id": s.id,
        "mission": i.mission,
        "source": i.source,
        "role": i.role,
        "kind": i.kind,
        "title": i.title,
        "summary": i.summary,
        "body": i.body,
        "url": i.url,
        "language": i.language,
        "published_at": i.published_at,
        "time_basis": i.time_basis,
        "published_raw": i.published_raw,
        "fetched_at": i.fetched_at,
        "first_seen_at": s.first_seen_at,
        "versions": s.versions,
    })
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
