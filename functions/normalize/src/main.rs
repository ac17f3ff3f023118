//! The normalize Lambda: SQS batches of S3 notifications for `raw/` objects in, one
//! JSON-lines items object per raw object out, partial batch failures reported.

mod handler;

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use pantau::config::{FunctionEnv, init_lambda_logging};
use pantau::normalize::Normalizer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_lambda_logging();
    let env = FunctionEnv::from_env()?;
    let (blobs, _table) = env.aws_stores().await;
    let normalizer = Normalizer {
        blobs,
        registry: Arc::new(env.registry()?),
    };
    let normalizer = &normalizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        handler::handle(normalizer, event.payload)
    }))
    .await
}
