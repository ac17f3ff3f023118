//! Headquarters' records (see `crate::hq`): `POST /hq-records` imports a CSV, JSON or .xlsx
//! body, `GET /hq-records` lists records, `GET /reports/hq-matching` matches them against
//! the missions' publications, `GET /countries/{cc}/hq-timeline` puts a country's crisis
//! instructions and its missions' publications on one timeline.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::params::{self, Format};
use super::problem::problem;
use super::{ApiError, ApiState, csv, list_format, vary_on_accept};
use crate::hq::import::{self, ImportContext, ImportError};
use crate::hq::matching::MatchConfig;
use crate::hq::{self as records, HqRecord, RecordKind, report, timeline};
use crate::model::Mission;

/// The largest body `POST /hq-records` takes (larger files: the bucket or the CLI, which
/// stream CSV).
pub const MAX_IMPORT_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Default period of the lists and reports, in days back from today.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// The most records one listing returns.
pub const MAX_LISTED_RECORDS: usize = 1000;

/// `GET` and `POST /hq-records`; the body limit holds for the import only.
pub(super) fn records_routes() -> MethodRouter<super::ApiState> {
    get(list_records)
        .post(import_records)
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BODY_BYTES))
}

/// `from`/`to` (inclusive days, `YYYY-MM-DD`) with their defaults and limits.
struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

fn day(name: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::bad(name, "must be a day written YYYY-MM-DD"))
}

impl Period {
    fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Period, ApiError> {
        let to = to.unwrap_or_else(|| Utc::now().date_naive());
        let from = from.unwrap_or(to - Duration::days(DEFAULT_PERIOD_DAYS));
        if from > to {
            return Err(ApiError::bad("from", "is later than `to`"));
        }
        if (to - from).num_days() > report::MAX_PERIOD_DAYS {
            return Err(ApiError::bad(
                "from",
                format!("the period is longer than {} days", report::MAX_PERIOD_DAYS),
            ));
        }
        Ok(Period { from, to })
    }
}

fn known_mission<'a>(state: &'a ApiState, id: &str) -> Result<&'a Mission, ApiError> {
    state
        .registry
        .mission(id)
        .filter(|m| m.country_code.len() == 2)
        .ok_or_else(|| ApiError::bad("mission", format!("no mission `{id}` in the registry")))
}

/// The country codes of the registry's missions, each once.
fn countries(state: &ApiState) -> BTreeSet<String> {
    state
        .registry
        .missions
        .iter()
        .filter(|m| m.country_code.len() == 2)
        .map(|m| m.country_code.clone())
        .collect()
}

const RECORD_COLUMNS: [&str; 10] = [
    "id",
    "kind",
    "mission",
    "country_code",
    "date",
    "title",
    "summary",
    "category",
    "reference",
    "figures",
];

fn record_row(r: &HqRecord) -> Vec<String> {
    let figures: Vec<String> = r
        .figures
        .iter()
        .map(|(k, v)| format!("{}={v}", k.as_str()))
        .collect();
    vec![
        r.id.clone(),
        r.kind.as_str().into(),
        r.mission.clone().unwrap_or_default(),
        r.country_code.clone(),
        r.date.to_string(),
        r.title.clone(),
        r.summary.clone().unwrap_or_default(),
        r.category.clone().unwrap_or_default(),
        r.reference.clone().unwrap_or_default(),
        figures.join("; "),
    ]
}

async fn list_records(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (mut mission, mut country, mut kind, mut from, mut to, mut format) =
        (None, None, None, None, None, None);
    for (name, value) in params::distinct_pairs(query.as_deref())? {
        match name.as_str() {
            "mission" => mission = Some(known_mission(&state, &value)?),
            "country" => {
                country = Some(params::country_code(&value).ok_or_else(|| {
                    ApiError::bad("country", "must be a two-letter country code such as JP")
                })?)
            }
            "kind" => {
                kind = Some(RecordKind::parse(&value).ok_or_else(|| {
                    ApiError::bad(
                        "kind",
                        "must be activity_report, citizen_case or crisis_instruction",
                    )
                })?)
            }
            "from" => from = Some(day("from", &value)?),
            "to" => to = Some(day("to", &value)?),
            "format" => format = Some(params::format(&value)?),
            other => {
                return Err(ApiError::bad(
                    other,
                    "unknown; expected mission, country, kind, from, to or format",
                ));
            }
        }
    }
    let period = Period::new(from, to)?;
    let table = state.table.as_ref();
    let mut found = Vec::new();
    let mut truncated = false;
    let partitions: Vec<(bool, String)> = match (mission, country) {
        (Some(m), _) => vec![(true, m.id.clone())],
        (None, Some(cc)) => vec![(false, cc)],
        (None, None) => countries(&state)
            .into_iter()
            .map(|cc| (false, cc))
            .collect(),
    };
    for (by_mission, key) in partitions {
        let (records, cut) = if by_mission {
            records::mission_records(table, &key, period.from, period.to).await
        } else {
            records::country_records(table, &key, period.from, period.to).await
        }
        .map_err(ApiError::internal)?;
        truncated |= cut;
        found.extend(
            records
                .into_iter()
                .filter(|r| kind.is_none_or(|k| r.kind == k)),
        );
        if found.len() > MAX_LISTED_RECORDS {
            truncated = true;
            break;
        }
    }
    // Newest first.
    found.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    found.truncate(MAX_LISTED_RECORDS);
    if list_format(format, &headers) == Format::Csv {
        let rows: Vec<Vec<String>> = found.iter().map(record_row).collect();
        return Ok(vary_on_accept(csv::response(
            &RECORD_COLUMNS,
            &rows,
            None,
            "hq-records.csv",
        )));
    }
    Ok(vary_on_accept(
        Json(json!({
            "from": period.from,
            "to": period.to,
            "records": found,
            "truncated": truncated,
        }))
        .into_response(),
    ))
}

async fn import_records(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (mut kind, mut name) = (RecordKind::ActivityReport, "api".to_owned());
    for (param, value) in params::distinct_pairs(query.as_deref())? {
        match param.as_str() {
            "kind" => {
                kind = RecordKind::parse(&value).ok_or_else(|| {
                    ApiError::bad(
                        "kind",
                        "must be activity_report, citizen_case or crisis_instruction",
                    )
                })?
            }
            "name" if !value.is_empty() && value.chars().count() <= 200 => {
                name = format!("api:{value}")
            }
            "name" => return Err(ApiError::bad("name", "must be 1 to 200 characters")),
            other => return Err(ApiError::bad(other, "unknown; expected kind or name")),
        }
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Body too large",
                format!(
                    "at most {MAX_IMPORT_BODY_BYTES} bytes; drop larger files under hq/ in the bucket or use `pantau hq import`"
                ),
                None,
            ));
        }
        Err(rejection) => {
            return Ok(problem(
                StatusCode::BAD_REQUEST,
                "bad-body",
                "Unreadable body",
                rejection.body_text(),
                None,
            ));
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(format) = import::Format::from_content_type(content_type) else {
        return Ok(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-type",
            "Unsupported type",
            format!(
                "Content-Type must be text/csv, application/json or {}",
                import::XLSX_CONTENT_TYPE
            ),
            None,
        ));
    };
    let ctx = ImportContext {
        table: state.table.as_ref(),
        registry: &state.registry,
        default_kind: kind,
        source: name,
    };
    match import::import_bytes(&ctx, format, &body).await {
        Ok(report) => Ok(Json(crate::hq::trigger::report_json(&report)).into_response()),
        Err(ImportError::Table { error, .. }) => Err(ApiError::internal(error)),
        Err(e) => {
            let extra = match &e {
                ImportError::MissingColumns { missing, .. } => Some(("missing", json!(missing))),
                _ => None,
            };
            Ok(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable-file",
                "File not imported",
                e.to_string(),
                extra,
            ))
        }
    }
}

pub(super) async fn matching_report(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (mut mission, mut from, mut to, mut format) = (None, None, None, None);
    let mut config = MatchConfig::default();
    for (name, value) in params::distinct_pairs(query.as_deref())? {
        match name.as_str() {
            "mission" => mission = Some(known_mission(&state, &value)?),
            "from" => from = Some(day("from", &value)?),
            "to" => to = Some(day("to", &value)?),
            "window" => {
                config.window_days = match value.parse::<i64>() {
                    Ok(n) if (0..=14).contains(&n) => n,
                    _ => return Err(ApiError::bad("window", "must be 0 to 14 days")),
                }
            }
            "format" => format = Some(params::format(&value)?),
            other => {
                return Err(ApiError::bad(
                    other,
                    "unknown; expected mission, from, to, window or format",
                ));
            }
        }
    }
    let period = Period::new(from, to)?;
    let missions: Vec<&Mission> = match mission {
        Some(m) => vec![m],
        None => state
            .registry
            .missions
            .iter()
            .filter(|m| m.country_code.len() == 2)
            .collect(),
    };
    let built = report::build(
        state.table.as_ref(),
        &missions,
        period.from,
        period.to,
        &config,
    )
    .await
    .map_err(ApiError::internal)?;
    if list_format(format, &headers) == Format::Csv {
        let filename = format!(
            "hq-matching-{}-{}-{}.csv",
            mission.map_or("all", |m| m.id.as_str()),
            period.from,
            period.to
        );
        return Ok(vary_on_accept(csv::response(
            &report::CSV_COLUMNS,
            &report::csv_rows(&built),
            None,
            &filename,
        )));
    }
    Ok(vary_on_accept(Json(built).into_response()))
}

pub(super) async fn country_timeline(
    State(state): State<ApiState>,
    Path(cc): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let cc = params::country_code(&cc).ok_or_else(|| ApiError::NotFound {
        what: format!("country `{cc}`"),
    })?;
    if state.registry.missions_in_country(&cc).next().is_none() {
        return Err(ApiError::NotFound {
            what: format!("a mission in country `{cc}`"),
        });
    }
    let (mut from, mut to) = (None, None);
    for (name, value) in params::distinct_pairs(query.as_deref())? {
        match name.as_str() {
            "from" => from = Some(day("from", &value)?),
            "to" => to = Some(day("to", &value)?),
            other => return Err(ApiError::bad(other, "unknown; expected from or to")),
        }
    }
    let period = Period::new(from, to)?;
    let built = timeline::country_timeline(
        state.table.as_ref(),
        &state.registry,
        &cc,
        period.from,
        period.to,
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(
        serde_json::to_value(built).map_err(ApiError::internal)?,
    ))
}
