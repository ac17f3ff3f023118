//! Alert rules and history: `GET/POST /alerts/rules`, `GET/DELETE /alerts/rules/{id}`,
//! `GET /alerts` (see `crate::alerts`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use super::params::{self, DEFAULT_LIMIT};
use super::{ApiError, ApiState};
use crate::alerts::{AlertError, NewRule, outbox, rules};

/// A rule is a few hundred bytes; anything much larger is not one.
pub const MAX_RULE_BODY: usize = 16 * 1024;

fn alert_error(e: AlertError) -> ApiError {
    match e {
        AlertError::Invalid(reason) => ApiError::bad("body", reason),
        other => ApiError::internal(other),
    }
}

pub(super) async fn list_rules(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let rules = rules::list_rules(state.table.as_ref())
        .await
        .map_err(alert_error)?;
    Ok(Json(json!({ "rules": rules })).into_response())
}

pub(super) async fn create_rule(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if body.len() > MAX_RULE_BODY {
        return Err(ApiError::bad(
            "body",
            format!("{} bytes, over {MAX_RULE_BODY}", body.len()),
        ));
    }
    let rule = NewRule::from_json(&body)
        .map_err(alert_error)?
        .into_rule(Utc::now());
    rules::add_rule(state.table.as_ref(), &rule)
        .await
        .map_err(alert_error)?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

pub(super) async fn get_rule(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match rules::get_rule(state.table.as_ref(), &id)
        .await
        .map_err(alert_error)?
    {
        Some(rule) => Ok(Json(rule).into_response()),
        None => Err(ApiError::NotFound {
            what: format!("alert rule `{id}`"),
        }),
    }
}

pub(super) async fn delete_rule(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if rules::remove_rule(state.table.as_ref(), &id)
        .await
        .map_err(alert_error)?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound {
            what: format!("alert rule `{id}`"),
        })
    }
}

pub(super) async fn history(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in params::distinct_pairs(query.as_deref())? {
        match name.as_str() {
            "limit" => limit = params::limit(&value)?,
            other => return Err(ApiError::bad(other, "unknown; expected limit")),
        }
    }
    let alerts = outbox::history(state.table.as_ref(), limit)
        .await
        .map_err(alert_error)?;
    Ok(Json(json!({ "alerts": alerts })).into_response())
}
