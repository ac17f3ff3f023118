//! Reports: `GET /reports/silent-missions` (no official publication for N days) and
//! `GET /reports/source-health` (every source's fetch record), as JSON or CSV.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::params::{self, DaysParams, Format};
use super::{ApiError, ApiState, FAILING_AFTER, csv, list_format, text, vary_on_accept};
use crate::reconcile::read::{self, SourceHealth};

const SILENT_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "country",
    "country_code",
    "last_official_published_at",
    "days_silent",
    "health_status",
];

pub(super) async fn silent_missions(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = DaysParams::parse(
        query.as_deref(),
        params::DEFAULT_SILENT_DAYS,
        params::MAX_SILENT_DAYS,
    )?;
    let format = list_format(params.format, &headers);
    let now = Utc::now();
    let cutoff = now - Duration::days(i64::from(params.days));
    let mut silent = Vec::new();
    for (mission, sources, last) in super::every_mission_health(&state).await? {
        if last.is_some_and(|t| t >= cutoff) {
            continue;
        }
        let health = super::mission_json(mission, &sources, last);
        silent.push(json!({
            "id": mission.id,
            "name": mission.display_name(),
            "country": mission.country,
            "country_code": mission.country_code,
            "last_official_published_at": last,
            // Whole days since the last official publication; null when none is known.
            "days_silent": last.map(|t| (now - t).num_days()),
            "health_status": health["health"]["status"],
        }));
    }
    // Longest silence first; never-published missions lead.
    silent.sort_by_key(|m| m["days_silent"].as_i64().map_or(i64::MIN, |d| -d));
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = silent
            .iter()
            .map(|m| SILENT_COLUMNS.iter().map(|c| text(&m[*c])).collect())
            .collect();
        return Ok(vary_on_accept(csv::response(
            &SILENT_COLUMNS,
            &rows,
            None,
            &format!("silent-missions-{}d.csv", params.days),
        )));
    }
    Ok(vary_on_accept(
        Json(json!({
            "days": params.days,
            "as_of": now,
            "missions": silent,
        }))
        .into_response(),
    ))
}

const SOURCE_HEALTH_COLUMNS: [&str; 10] = [
    "owner",
    "source",
    "kind",
    "role",
    "last_attempt_at",
    "last_success_at",
    "consecutive_failures",
    "last_error",
    "next_due_at",
    "unhealthy",
];

pub(super) async fn source_health(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = list_format(params::parse_list_format(query.as_deref())?, &headers);
    let mut states: HashMap<(String, String), SourceHealth> =
        read::all_source_health(state.table.as_ref())
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|h| ((h.owner.clone(), h.source.clone()), h))
            .collect();
    let mut sources = Vec::new();
    for s in state.registry.sources() {
        let h = states.remove(&(s.owner.to_owned(), s.source.id.clone()));
        let failures = h.as_ref().map_or(0, |h| h.consecutive_failures);
        // Unhealthy: marked so by scrape, failing repeatedly (states from before the mark),
        // or tried and never successful. Never tried yet is not unhealthy (a new source), but
        // shows with null times.
        let unhealthy = h.as_ref().is_some_and(|h| h.unhealthy_since.is_some())
            || failures >= FAILING_AFTER
            || h.as_ref()
                .is_some_and(|h| h.last_attempt_at.is_some() && h.last_success_at.is_none());
        sources.push(json!({
            "owner": s.owner,
            "source": s.source.id,
            "kind": s.source.kind,
            "role": s.source.role,
            "last_attempt_at": h.as_ref().and_then(|h| h.last_attempt_at),
            "last_success_at": h.as_ref().and_then(|h| h.last_success_at),
            "consecutive_failures": failures,
            "last_error": h.as_ref().and_then(|h| h.last_error.clone()),
            "next_due_at": h.as_ref().and_then(|h| h.next_due_at),
            "unhealthy": unhealthy,
            "unhealthy_since": h.as_ref().and_then(|h| h.unhealthy_since),
            "unhealthy_reason": h.as_ref().and_then(|h| h.unhealthy_reason.clone()),
        }));
    }
    // Unhealthy first, then by owner and source (the registry's order within each).
    sources.sort_by_key(|s| !s["unhealthy"].as_bool().unwrap_or(false));
    let unhealthy = sources
        .iter()
        .filter(|s| s["unhealthy"] == Value::Bool(true))
        .count();
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = sources
            .iter()
            .map(|s| SOURCE_HEALTH_COLUMNS.iter().map(|c| text(&s[*c])).collect())
            .collect();
        return Ok(vary_on_accept(csv::response(
            &SOURCE_HEALTH_COLUMNS,
            &rows,
            None,
            "source-health.csv",
        )));
    }
    Ok(vary_on_accept(
        Json(json!({
            "sources": sources,
            "unhealthy": unhealthy,
        }))
        .into_response(),
    ))
}
