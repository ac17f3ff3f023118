//! The router the Lambda serves: the same one `pantau run` serves locally.

use pantau::api::{ApiState, router};

pub fn app(state: ApiState) -> axum::Router {
    router(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use lambda_http::{Body, Request, RequestExt};
    use pantau::registry::Registry;
    use pantau::store::sqlite::SqliteTable;
    use tower::ServiceExt;

    /// API Gateway's HTTP API event, as lambda_http turns it into a request, reaches the router.
    #[tokio::test]
    async fn http_api_event_reaches_the_router() {
        let dir = tempfile::tempdir().unwrap();
        let table = Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
        let state = ApiState::new(table, Arc::new(Registry::default()), &Default::default())
            .await
            .unwrap();
        let request: Request =
            lambda_http::request::from_str(include_str!("../events/http-get-health.json"))
                .expect("sample event parses");
        assert_eq!(request.uri().path(), "/health");
        let _ = request.query_string_parameters();
        let request = request.map(|b: Body| axum::body::Body::from(b.to_vec()));
        let response = app(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        // The Lambda refuses data routes without a key.
        let request = axum::http::Request::get("/missions")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 401);
    }
}
