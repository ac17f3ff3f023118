//! Query parameters, validated one by one with an error that names the parameter and why.

use chrono::{DateTime, Utc};

use super::ApiError;
use crate::model::Role;
use crate::reconcile::read::ItemFilter;

/// The representation a list is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Csv,
}

impl Format {
    /// `?format=` when given, else `text/csv` in `Accept`, else JSON.
    pub fn choose(explicit: Option<Format>, accept: Option<&str>) -> Format {
        explicit.unwrap_or_else(|| {
            let wants_csv = accept.is_some_and(|a| {
                a.split(',').any(|m| {
                    m.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .eq_ignore_ascii_case("text/csv")
                })
            });
            if wants_csv { Format::Csv } else { Format::Json }
        })
    }
}

pub(super) fn format(value: &str) -> Result<Format, ApiError> {
    match value {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        _ => Err(ApiError::bad("format", "must be json or csv")),
    }
}

/// `GET /missions`'s parameters: only `format`.
pub fn parse_list_format(query: Option<&str>) -> Result<Option<Format>, ApiError> {
    let mut chosen = None;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "format" if chosen.is_some() => {
                return Err(ApiError::bad("format", "given more than once"));
            }
            "format" => chosen = Some(format(&value)?),
            other => return Err(ApiError::bad(other, "unknown; expected format")),
        }
    }
    Ok(chosen)
}

/// The query's parameters in order. A name given twice is refused, so a repeated filter never
/// silently overrides the first.
pub(super) fn distinct_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if pairs.iter().any(|(seen, _)| *seen == name) {
            return Err(ApiError::bad(&name, "given more than once"));
        }
        pairs.push((name.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// `GET /missions/{id}/items`'s parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsParams {
    pub limit: usize,
    /// The signed cursor as the client sent it; checked against the query by the handler.
    pub cursor: Option<String>,
    pub filter: ItemFilter,
    /// `?format=`, when given.
    pub format: Option<Format>,
}

impl ItemsParams {
    /// Parses a raw query string (without `?`). Unknown and repeated parameters are refused,
    /// so a typo does not silently return everything.
    pub fn parse(query: Option<&str>) -> Result<ItemsParams, ApiError> {
        let mut params = ItemsParams {
            limit: DEFAULT_LIMIT,
            cursor: None,
            filter: ItemFilter::default(),
            format: None,
        };
        for (name, value) in distinct_pairs(query)? {
            let value = value.as_str();
            match name.as_ref() {
                "limit" => params.limit = limit(value)?,
                "cursor" => params.cursor = Some(cursor(value)?),
                "format" => params.format = Some(format(value)?),
                "role" => params.filter.role = Some(role(value)?),
                "language" => params.filter.language = Some(language(value)?),
                "since" => params.filter.since = Some(time("since", value)?),
                "until" => params.filter.until = Some(time("until", value)?),
                other => {
                    return Err(ApiError::bad(
                        other,
                        "unknown; expected limit, cursor, role, language, since, until or format",
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

pub(super) fn limit(value: &str) -> Result<usize, ApiError> {
    let reason = format!("must be a whole number from 1 to {MAX_LIMIT}");
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::bad("limit", reason)),
    }
}

fn cursor(value: &str) -> Result<String, ApiError> {
    let shaped = !value.is_empty()
        && value.len() <= 4096
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if shaped {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad(
            "cursor",
            "not a cursor this API returned (pass `next_cursor` back unchanged)",
        ))
    }
}

impl ItemsParams {
    /// The query a cursor belongs to: the mission and the filters (not `limit` or `format`,
    /// which a client may change between pages).
    pub fn cursor_scope(&self, mission: &str) -> String {
        let f = &self.filter;
        let time =
            |t: Option<DateTime<Utc>>| t.map(crate::schema::sortable_time).unwrap_or_default();
        format!(
            "items\x1f{mission}\x1f{}\x1f{}\x1f{}\x1f{}",
            f.role.map(|r| r.as_str()).unwrap_or(""),
            f.language.as_deref().unwrap_or(""),
            time(f.since),
            time(f.until),
        )
    }
}

/// `GET /stories/{id}`'s parameters: a page of a plain list.
#[derive(Debug, Clone, PartialEq)]
pub struct PageParams {
    pub limit: usize,
    pub cursor: Option<String>,
    pub format: Option<Format>,
}

impl PageParams {
    pub fn parse(query: Option<&str>) -> Result<PageParams, ApiError> {
        let mut params = PageParams {
            limit: DEFAULT_LIMIT,
            cursor: None,
            format: None,
        };
        for (name, value) in distinct_pairs(query)? {
            match name.as_ref() {
                "limit" => params.limit = limit(&value)?,
                "cursor" => params.cursor = Some(cursor(&value)?),
                "format" => params.format = Some(format(&value)?),
                other => {
                    return Err(ApiError::bad(
                        other,
                        "unknown; expected limit, cursor or format",
                    ));
                }
            }
        }
        Ok(params)
    }
}

/// The parameters of a report over the last days (`GET /missions/{id}/activity`,
/// `/reports/silent-missions`, `/reports/response-latency`): `days` and `format`.
#[derive(Debug, Clone, PartialEq)]
pub struct DaysParams {
    pub days: u32,
    pub format: Option<Format>,
}

impl DaysParams {
    /// `days` from 1 to `max`, `default` when absent.
    pub fn parse(query: Option<&str>, default: u32, max: u32) -> Result<DaysParams, ApiError> {
        let mut params = DaysParams {
            days: default,
            format: None,
        };
        for (name, value) in distinct_pairs(query)? {
            match name.as_ref() {
                "days" => {
                    params.days = match value.parse::<u32>() {
                        Ok(n) if (1..=max).contains(&n) => n,
                        _ => {
                            return Err(ApiError::bad(
                                "days",
                                format!("must be a whole number from 1 to {max}"),
                            ));
                        }
                    }
                }
                "format" => params.format = Some(format(&value)?),
                other => return Err(ApiError::bad(other, "unknown; expected days or format")),
            }
        }
        Ok(params)
    }
}

pub const DEFAULT_ACTIVITY_DAYS: u32 = 90;
pub const MAX_ACTIVITY_DAYS: u32 = 366;

/// An ISO 3166-1 alpha-2 country code, upper-cased; None when it cannot be one.
pub fn country_code(value: &str) -> Option<String> {
    (value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| value.to_ascii_uppercase())
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

/// The longest `q` accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// At most this many words of `q` count (all must match).
pub const MAX_QUERY_TERMS: usize = 8;

/// `GET /search`'s parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub limit: usize,
    pub cursor: Option<String>,
    pub query: crate::search::SearchQuery,
    pub format: Option<Format>,
}

impl SearchParams {
    /// Parses a raw query string; `q` is required and must hold a searchable word. Unknown
    /// and repeated parameters are refused.
    pub fn parse(query: Option<&str>) -> Result<SearchParams, ApiError> {
        use crate::search::SearchQuery;
        let mut params = SearchParams {
            limit: DEFAULT_LIMIT,
            cursor: None,
            query: SearchQuery::default(),
            format: None,
        };
        let mut text = None;
        for (name, value) in distinct_pairs(query)? {
            let value = value.as_str();
            let q = &mut params.query;
            match name.as_ref() {
                "q" => text = Some(value.to_owned()),
                "limit" => params.limit = limit(value)?,
                "cursor" => params.cursor = Some(cursor(value)?),
                "format" => params.format = Some(format(value)?),
                "mission" => q.mission = Some(mission(value)?),
                "country" => {
                    q.country = Some(country_code(value).ok_or_else(|| {
                        ApiError::bad("country", "must be a two-letter country code such as JP")
                    })?)
                }
                "topic" => q.topic = Some(topic(value)?),
                "role" => q.filter.role = Some(role(value)?),
                "language" => q.filter.language = Some(language(value)?),
                "since" => q.filter.since = Some(time("since", value)?),
                "until" => q.filter.until = Some(time("until", value)?),
                other => {
                    return Err(ApiError::bad(
                        other,
                        "unknown; expected q, limit, cursor, mission, country, topic, role, language, since, until or format",
                    ));
                }
            }
        }
        let text =
            text.ok_or_else(|| ApiError::bad("q", "is required: the words to search for"))?;
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::bad(
                "q",
                format!("is longer than {MAX_QUERY_CHARS} characters"),
            ));
        }
        let terms = SearchQuery::terms_of(&text);
        if terms.is_empty() {
            return Err(ApiError::bad(
                "q",
                "holds no searchable word (only very common words, numbers or punctuation)",
            ));
        }
        if terms.len() > MAX_QUERY_TERMS {
            return Err(ApiError::bad(
                "q",
                format!("has more than {MAX_QUERY_TERMS} words; every word must match"),
            ));
        }
        params.query.terms = terms;
        let f = &params.query.filter;
        if let (Some(since), Some(until)) = (f.since, f.until)
            && since > until
        {
            return Err(ApiError::bad("since", "is later than `until`"));
        }
        // One posting partition per month is read: the window is bounded (`since` alone
        // would otherwise reach back to any year).
        let (since, until) = params.query.window(Utc::now());
        let max_days = crate::search::query::MAX_WINDOW_DAYS;
        if until - since > chrono::Duration::days(max_days) {
            return Err(ApiError::bad(
                "since",
                format!("is more than {max_days} days before `until` (or now)"),
            ));
        }
        Ok(params)
    }

    /// The query a cursor belongs to: the stems and the filters, not `limit` or `format`.
    pub fn cursor_scope(&self) -> String {
        let q = &self.query;
        let time =
            |t: Option<DateTime<Utc>>| t.map(crate::schema::sortable_time).unwrap_or_default();
        format!(
            "search\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}",
            q.terms.join(" "),
            q.mission.as_deref().unwrap_or(""),
            q.country.as_deref().unwrap_or(""),
            q.topic.as_deref().unwrap_or(""),
            q.filter.role.map(|r| r.as_str()).unwrap_or(""),
            q.filter.language.as_deref().unwrap_or(""),
            time(q.filter.since),
            time(q.filter.until),
        )
    }
}

/// A mission id as the registry writes them (checked against the registry by the handler).
fn mission(value: &str) -> Result<String, ApiError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad(
            "mission",
            "must be a mission id such as `tokyo`",
        ))
    }
}

/// A topic tag id of `crate::topics::TAXONOMY`.
fn topic(value: &str) -> Result<String, ApiError> {
    crate::topics::tag(value)
        .map(|t| t.id.to_owned())
        .ok_or_else(|| {
            ApiError::bad(
                "topic",
                "must be a topic tag id such as `disaster.earthquake`",
            )
        })
}

/// Longest silence a report asks about, in days.
pub const MAX_SILENT_DAYS: u32 = 365;
pub const DEFAULT_SILENT_DAYS: u32 = 7;
