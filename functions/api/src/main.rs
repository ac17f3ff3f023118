//! The API Lambda: headquarters' HTTP API, one axum Router served through API Gateway.

mod handler;

use std::sync::Arc;

use pantau::api::{ApiConfig, ApiState};
use pantau::config::{FunctionEnv, init_lambda_logging};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_lambda_logging();
    let env = FunctionEnv::from_env()?;
    let (_blobs, table) = env.aws_stores().await;
    // Keys are always required here; the cursor key comes from PANTAU_CURSOR_KEY or the table.
    let state = ApiState::new(table, Arc::new(env.registry()?), &ApiConfig::from_env()?).await?;
    lambda_http::run(handler::app(state)).await
}
