//! The reconcile Lambda: SQS batches of S3 notifications for `items/` objects in; items with
//! identity and versions in the table; partial batch failures reported.

mod handler;

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use pantau::config::{FunctionEnv, init_lambda_logging};
use pantau::reconcile::Reconciler;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_lambda_logging();
    let env = FunctionEnv::from_env()?;
    let (blobs, table) = env.aws_stores().await;
    // The table lives as long as the process: markers seen stay known (crisis backlinks).
    pantau::reconcile::rollup::remember_markers_of(&table);
    // A crisis opened or answered is told at once through these (see `pantau::alerts`).
    pantau::alerts::install_channels(pantau::alerts::Channels::from_env().await);
    let reconciler = Reconciler {
        blobs,
        table,
        registry: Arc::new(env.registry()?),
    };
    let reconciler = &reconciler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        handler::handle(reconciler, event.payload)
    }))
    .await
}
