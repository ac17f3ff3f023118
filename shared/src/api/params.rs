//! Query parameters, validated one by one with an error that names the parameter and why.

use chrono::{DateTime, Utc};

use super::ApiError;
use crate::model::Role;
use crate::reconcile::read::ItemFilter;
use crate::store::Cursor;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// `GET /missions/{id}/items`'s parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsParams {
    pub limit: usize,
    pub cursor: Option<Cursor>,
    pub filter: ItemFilter,
}

impl ItemsParams {
    /// Parses a raw query string (without `?`). Unknown and repeated parameters are refused,
    /// so a typo does not silently return everything.
    pub fn parse(query: Option<&str>) -> Result<ItemsParams, ApiError> {
        let mut params = ItemsParams {
            limit: DEFAULT_LIMIT,
            cursor: None,
            filter: ItemFilter::default(),
        };
        let mut seen = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if seen.contains(&name) {
                return Err(ApiError::bad(&name, "given more than once"));
            }
            seen.push(name.clone());
            let value = value.as_ref();
            match name.as_ref() {
                "limit" => params.limit = limit(value)?,
                "cursor" => params.cursor = Some(cursor(value)?),
                "role" => params.filter.role = Some(role(value)?),
                "language" => params.filter.language = Some(language(value)?),
                "since" => params.filter.since = Some(time("since", value)?),
                "until" => params.filter.until = Some(time("until", value)?),
                other => {
                    return Err(ApiError::bad(
                        other,
                        "unknown; expected limit, cursor, role, language, since or until",
                    ));
                }
            }
        }
        if let (Some(since), Some(until)) = (params.filter.since, params.filter.until)
            && since > until
        {
            return Err(ApiError::bad("since", "is later than `until`"));
        }
        Ok(params)
    }
}

fn limit(value: &str) -> Result<usize, ApiError> {
    let reason = format!("must be a whole number from 1 to {MAX_LIMIT}");
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::bad("limit", reason)),
    }
}

fn cursor(value: &str) -> Result<Cursor, ApiError> {
    let cursor = Cursor(value.to_owned());
    match cursor.key_attrs() {
        Ok(_) if !value.is_empty() => Ok(cursor),
        _ => Err(ApiError::bad(
            "cursor",
            "not a cursor this API returned (pass `next_cursor` back unchanged)",
        )),
    }
}

fn role(value: &str) -> Result<Role, ApiError> {
    Role::parse(value)
        .ok_or_else(|| ApiError::bad("role", "must be one of official, hq, media, hazard"))
}

/// A BCP 47 primary language tag, as items carry it: two or three ASCII letters.
fn language(value: &str) -> Result<String, ApiError> {
    let ok = (2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphabetic());
    if !ok {
        return Err(ApiError::bad(
            "language",
            "must be a two- or three-letter language code such as `id` or `en`",
        ));
    }
    Ok(value.to_ascii_lowercase())
}

fn time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    // An unencoded `+` in an offset arrives as a space; take it back rather than refuse.
    let repaired = value.replace(' ', "+");
    DateTime::parse_from_rfc3339(&repaired)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::bad(
                name,
                format!("`{value}` is not an RFC 3339 time such as 2025-03-01T00:00:00Z"),
            )
        })
}

/// Whether `id` can be an item id (`itm_` and 20 hex digits); others are not looked up.
pub fn is_item_id(id: &str) -> bool {
    id.strip_prefix("itm_")
        .is_some_and(|h| h.len() == 20 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}
