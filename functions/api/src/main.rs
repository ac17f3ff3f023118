//! The API Lambda: headquarters' HTTP API, one axum Router served through API Gateway.

mod handler;

use std::sync::Arc;

use pantau::api::ApiState;
use pantau::config::{FunctionEnv, init_lambda_logging};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_lambda_logging();
    let env = FunctionEnv::from_env()?;
    let (_blobs, table) = env.aws_stores().await;
    let state = ApiState {
        table,
        registry: Arc::new(env.registry()?),
    };
    lambda_http::run(handler::app(state)).await
}
