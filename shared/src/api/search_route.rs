//! `GET /search`: keyword search over items (see `crate::search`), with the filters of a
//! mission's items plus `mission`, `country` and `topic`.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde_json::{Value, json};

use super::params::{Format, SearchParams};
use super::{
    ApiError, ApiState, ITEM_COLUMNS, csv, item_json, item_row, list_format, open_cursor,
    read_error, vary_on_accept,
};

pub(super) async fn search_items(
    State(state): State<ApiState>,
    Extension(caller): Extension<super::access::Caller>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = SearchParams::parse(query.as_deref())?;
    if let Some(mission) = &params.query.mission
        && state.registry.mission(mission).is_none()
    {
        return Err(ApiError::bad("mission", format!("no mission `{mission}`")));
    }
    let format = list_format(params.format, &headers);
    let scope = caller.bind(params.cursor_scope());
    let cursor = open_cursor(
        &state,
        &scope,
        params.cursor.as_deref(),
        "this search and these filters",
    )?;
    let page = crate::search::search(
        state.table.as_ref(),
        &params.query,
        params.limit,
        cursor,
        Utc::now(),
    )
    .await
    .map_err(|e| read_error(e, "this search's"))?;
    let items: Vec<Value> = page.items.iter().map(item_json).collect();
    let next = page.next.map(|c| state.cursors.sign(&scope, &c));
    if format == Format::Csv {
        let rows: Vec<Vec<String>> = items.iter().map(item_row).collect();
        return Ok(vary_on_accept(csv::response(
            &ITEM_COLUMNS,
            &rows,
            next.as_deref(),
            "search.csv",
        )));
    }
    let (since, until) = params.query.window(Utc::now());
    Ok(vary_on_accept(
        Json(json!({
            "terms": params.query.terms,
            "since": params.query.filter.since.unwrap_or(since),
            "until": params.query.filter.until.unwrap_or(until),
            "items": items,
            "next_cursor": next,
        }))
        .into_response(),
    ))
}
