//! Errors as RFC 9457 problem details (`application/problem+json`).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug)]
pub enum ApiError {
    /// A query parameter is malformed or out of range.
    BadParameter {
        name: String,
        reason: String,
    },
    NotFound {
        what: String,
    },
    /// No key, or one that is unknown or revoked.
    Unauthorized(&'static str),
    /// The table (or something else internal) failed; the details are logged, not shown.
    Internal(String),
    /// A dependency is down (the health check).
    Unavailable(String),
}

impl ApiError {
    pub fn bad(name: &str, reason: impl Into<String>) -> ApiError {
        ApiError::BadParameter {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail, extra) = match self {
            ApiError::BadParameter { name, reason } => (
                StatusCode::BAD_REQUEST,
                "bad-parameter",
                "Bad parameter",
                format!("parameter `{name}`: {reason}"),
                Some(("parameter", Value::String(name))),
            ),
            ApiError::NotFound { what } => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} does not exist"),
                None,
            ),
            ApiError::Unauthorized(why) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                format!("{why}; keys are made with `pantau keys create NAME`"),
                None,
            ),
            ApiError::Internal(message) => {
                tracing::error!(error = %message, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the request could not be answered; it has been logged".to_owned(),
                    None,
                )
            }
            ApiError::Unavailable(message) => {
                tracing::error!(error = %message, "dependency unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "the table does not answer".to_owned(),
                    None,
                )
            }
        };
        problem(status, kind, title, detail, extra)
    }
}

pub fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: String,
    extra: Option<(&str, Value)>,
) -> Response {
    let mut body = json!({
        "type": format!("/problems/{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some((k, v)), Some(map)) = (extra, body.as_object_mut()) {
        map.insert(k.to_owned(), v);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        Json(body),
    )
        .into_response()
}
