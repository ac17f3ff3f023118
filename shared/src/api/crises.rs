//! Crises for headquarters: the crisis board, one crisis with its timeline, and how fast each
//! mission responded over a period. The crises themselves are opened, merged and answered at
//! reconcile time (`crate::crises`); this module only reads and shapes them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::params::{DaysParams, Format, distinct_pairs, format, limit};
use super::{ApiError, ApiState, csv, list_format, text, vary_on_accept};
use crate::crises::{self, CrisisState, CrisisView};

/// Crises a list answers at most (they are few: dozens a year).
pub const MAX_CRISES: usize = super::params::MAX_LIMIT;
pub const DEFAULT_CRISES: usize = 50;

/// Which crises `GET /crises` lists.
#[derive(Debug, Clone, PartialEq)]
pub struct CrisesParams {
    pub country: Option<String>,
    /// `active`, `closed` or None for both.
    pub state: Option<CrisisState>,
    pub limit: usize,
    pub format: Option<Format>,
}

impl CrisesParams {
    pub fn parse(query: Option<&str>) -> Result<CrisesParams, ApiError> {
        let mut params = CrisesParams {
            country: None,
            state: None,
            limit: DEFAULT_CRISES,
            format: None,
        };
        for (name, value) in distinct_pairs(query)? {
            match name.as_ref() {
                "country" => {
                    params.country =
                        Some(super::params::country_code(&value).ok_or_else(|| {
                            ApiError::bad(
                                "country",
                                "must be an ISO 3166-1 alpha-2 code such as TR",
                            )
                        })?);
                }
                "state" => {
                    params.state = match value.as_ref() {
                        "active" => Some(CrisisState::Active),
                        "closed" => Some(CrisisState::Closed),
                        "all" => None,
                        _ => return Err(ApiError::bad("state", "must be active, closed or all")),
                    }
                }
                "limit" => params.limit = limit(&value)?,
                "format" => params.format = Some(format(&value)?),
                other => {
                    return Err(ApiError::bad(
                        other,
                        "unknown; expected country, state, limit or format",
                    ));
                }
            }
        }
        Ok(params)
    }
}

/// The missions expected to answer a crisis: those in its country, none for a home crisis.
fn answering_missions<'a>(
    state: &'a ApiState,
    c: &'a CrisisView,
) -> impl Iterator<Item = &'a crate::model::Mission> {
    state
        .registry
        .missions
        .iter()
        .filter(move |m| !c.home && m.country_code.eq_ignore_ascii_case(&c.country))
}

/// Seconds as the dashboard and a CSV reader want them; None stays empty.
fn first_response_latency(c: &CrisisView) -> Option<i64> {
    c.responses.iter().map(|r| r.latency_seconds).min()
}

/// Each answering mission's first response (its latency is the one that counts), fastest
/// first: at most one per mission of the country, however long the crisis runs.
fn first_responses(c: &CrisisView) -> Vec<&crises::ResponseView> {
    let mut first: BTreeMap<&str, &crises::ResponseView> = BTreeMap::new();
    for r in &c.responses {
        let kept = first.entry(r.response.mission.as_str()).or_insert(r);
        if (r.latency_seconds, &r.response.item_id) < (kept.latency_seconds, &kept.response.item_id)
        {
            *kept = r;
        }
    }
    let mut first: Vec<_> = first.into_values().collect();
    first.sort_by(|a, b| {
        (a.latency_seconds, &a.response.mission).cmp(&(b.latency_seconds, &b.response.mission))
    });
    first
}

/// A crisis on the board: what happened, where, since when, who answered first and how fast.
/// Its size does not grow with the crisis: the count of responses and each mission's first
/// one, not every response (a long crisis collects hundreds; `GET /crises/{id}` has them).
fn crisis_summary(state: &ApiState, c: &CrisisView) -> Value {
    let missions: Vec<&str> = answering_missions(state, c)
        .map(|m| m.id.as_str())
        .collect();
    json!({
        "id": c.id,
        "country_code": c.country,
        "kind": c.kind,
        "state": c.state,
        "first_signal_at": c.first_signal_at,
        "last_signal_at": c.last_signal_at,
        "closed_at": c.closed_at,
        "opened_by": c.opened_by,
        "signals": c.signal_count,
        "missions": missions,
        "response_count": c.responses.len(),
        "first_responses": first_responses(c),
        "first_response_latency_seconds": first_response_latency(c),
        "no_response": c.no_response,
        "home": c.home,
    })
}

const CRISIS_COLUMNS: [&str; 13] = [
    "id",
    "country_code",
    "kind",
    "state",
    "first_signal_at",
    "last_signal_at",
    "closed_at",
    "opened_by",
    "signals",
    "responses",
    "first_response_latency_seconds",
    "no_response",
    "home",
];

fn crisis_row(c: &Value) -> Vec<String> {
    CRISIS_COLUMNS
        .iter()
        .map(|col| match *col {
            // The column kept its name from when the board listed every response.
            "responses" => text(&c["response_count"]),
            _ => text(&c[*col]),
        })
        .collect()
}

/// `GET /crises`: newest first, of one country or all, active, closed or both.
pub(super) async fn list(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = CrisesParams::parse(query.as_deref())?;
    let active_only = params.state == Some(CrisisState::Active);
    // Closed ones are filtered here; active ones by the query itself.
    let read_limit = if params.state == Some(CrisisState::Closed) {
        MAX_CRISES * 5
    } else {
        params.limit
    };
    let views = crises::list_crises(
        state.table.as_ref(),
        params.country.as_deref(),
        active_only,
        read_limit,
    )
    .await
    .map_err(ApiError::internal)?;
    let listed: Vec<Value> = views
        .iter()
        .filter(|c| params.state.is_none_or(|s| c.state == s))
        .take(params.limit)
        .map(|c| crisis_summary(&state, c))
        .collect();
    if list_format(params.format, &headers) == Format::Csv {
        let rows: Vec<Vec<String>> = listed.iter().map(crisis_row).collect();
        return Ok(vary_on_accept(csv::response(
            &CRISIS_COLUMNS,
            &rows,
            None,
            "crises.csv",
        )));
    }
    Ok(vary_on_accept(
        Json(json!({ "crises": listed })).into_response(),
    ))
}

/// `GET /crises/{id}`: the crisis, its evidence, its responses with latencies, and one
/// timeline of both in time order.
pub(super) async fn detail(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound {
        what: format!("crisis `{id}`"),
    };
    if id.len() > 200 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(not_found());
    }
    let crisis = crises::crisis_detail(state.table.as_ref(), &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let mut timeline: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for s in &crisis.signals {
        timeline.push((
            s.at,
            json!({"at": s.at, "type": "signal", "item_id": s.item_id, "source": s.source,
                   "title": s.title, "kind": s.kind, "reason": s.reason, "qualifies": s.qualifies,
                   "since_first_signal_seconds": (s.at - crisis.first_signal_at).num_seconds()}),
        ));
    }
    for r in &crisis.responses {
        let response = &r.response;
        timeline.push((
            response.published_at,
            json!({"at": response.published_at, "type": "response", "item_id": response.item_id,
                   "mission": response.mission, "title": response.title, "url": response.url,
                   "kind": response.kind, "terms": response.terms, "matched_by": response.matched_by,
                   "since_first_signal_seconds": r.latency_seconds}),
        ));
    }
    timeline.sort_by_key(|(at, _)| *at);
    let mut body = crisis_summary(&state, &crisis);
    // `signals` stays the count, as on the board; the signals themselves are the evidence.
    body["evidence"] = json!(crisis.signals);
    body["responses"] = json!(crisis.responses);
    body["hazard_events"] = json!(crisis.hazard_events);
    body["timeline"] = Value::Array(timeline.into_iter().map(|(_, v)| v).collect());
    Ok(Json(body))
}

pub const DEFAULT_REPORT_DAYS: u32 = 90;
pub const MAX_REPORT_DAYS: u32 = 366;

/// One mission's record over the period's crises in its country.
#[derive(Debug, Default)]
struct MissionLatency {
    crises: usize,
    answered: usize,
    no_response: usize,
    /// Its first response to each crisis it answered, in seconds from the first signal.
    latencies: Vec<i64>,
}

/// The middle of a sorted list (the lower middle for an even count).
fn median(sorted: &[i64]) -> Option<i64> {
    (!sorted.is_empty()).then(|| sorted[(sorted.len() - 1) / 2])
}

const LATENCY_COLUMNS: [&str; 9] = [
    "mission",
    "country_code",
    "crises",
    "answered",
    "no_response",
    "median_latency_seconds",
    "fastest_latency_seconds",
    "slowest_latency_seconds",
    "answer_rate",
];

/// `GET /reports/response-latency`: per mission with a crisis in its country over the last
/// `days`, how many crises it answered and how fast (its first response to each).
pub(super) async fn latency_report(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = DaysParams::parse(query.as_deref(), DEFAULT_REPORT_DAYS, MAX_REPORT_DAYS)?;
    let since = Utc::now() - Duration::days(i64::from(params.days));
    let views = crises::list_crises(state.table.as_ref(), None, false, MAX_CRISES * 5)
        .await
        .map_err(ApiError::internal)?;
    let mut per_mission: BTreeMap<&str, (String, MissionLatency)> = BTreeMap::new();
    let mut counted = 0;
    for crisis in views.iter().filter(|c| c.first_signal_at >= since) {
        counted += 1;
        for mission in answering_missions(&state, crisis) {
            let (_, entry) = per_mission
                .entry(mission.id.as_str())
                .or_insert_with(|| (mission.country_code.clone(), MissionLatency::default()));
            entry.crises += 1;
            let first = crisis
                .responses
                .iter()
                .filter(|r| r.response.mission == mission.id)
                .map(|r| r.latency_seconds)
                .min();
            match first {
                Some(latency) => {
                    entry.answered += 1;
                    entry.latencies.push(latency);
                }
                None if crisis.no_response || crisis.state == CrisisState::Closed => {
                    entry.no_response += 1
                }
                None => {}
            }
        }
    }
    let missions: Vec<Value> = per_mission
        .into_iter()
        .map(|(id, (country, mut m))| {
            m.latencies.sort_unstable();
            json!({
                "mission": id,
                "country_code": country,
                "crises": m.crises,
                "answered": m.answered,
                "no_response": m.no_response,
                "median_latency_seconds": median(&m.latencies),
                "fastest_latency_seconds": m.latencies.first(),
                "slowest_latency_seconds": m.latencies.last(),
                "answer_rate": m.answered as f64 / m.crises.max(1) as f64,
            })
        })
        .collect();
    if list_format(params.format, &headers) == Format::Csv {
        let rows: Vec<Vec<String>> = missions
            .iter()
            .map(|m| LATENCY_COLUMNS.iter().map(|c| text(&m[*c])).collect())
            .collect();
        return Ok(vary_on_accept(csv::response(
            &LATENCY_COLUMNS,
            &rows,
            None,
            "response-latency.csv",
        )));
    }
    Ok(vary_on_accept(
        Json(json!({
            "since": since,
            "days": params.days,
            "crises": counted,
            "missions": missions,
        }))
        .into_response(),
    ))
}
