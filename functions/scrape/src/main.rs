//! The scrape Lambda: on each EventBridge schedule tick, fetch the sources that are due and
//! write what changed to `raw/`.

mod handler;

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use pantau::config::{FunctionEnv, init_lambda_logging, optional_number};
use pantau::fetch::{CONTACT_URL_ENV, FetchPolicy, Fetcher};
use pantau::scrape::{ScrapeConfig, Scraper};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_lambda_logging();
    let env = FunctionEnv::from_env()?;
    let (blobs, table) = env.aws_stores().await;
    let mut config = ScrapeConfig::default();
    if let Some(n) = optional_number("PANTAU_BACKFILL_PAGES")? {
        config.backfill_pages = n;
    }
    // The function's timeout is 300 s (infra/template.yaml): stop starting sources after 240 s
    // so those in flight finish (a fetch times out after 30 s); the rest go first next cycle.
    if let Some(n) = optional_number("PANTAU_UNHEALTHY_AFTER_FAILURES")? {
        config.unhealthy_after_failures = n;
    }
    if let Some(n) = optional_number("PANTAU_MAX_NEW_LINKED")? {
        config.max_new_linked = n;
    }
    // `true` or `false`; on by default (see `ScrapeConfig::fetch_portal_details`).
    if let Some(on) = optional_number("PANTAU_PORTAL_DETAILS")? {
        config.fetch_portal_details = on;
    }
    let budget_secs = optional_number("PANTAU_CYCLE_BUDGET_SECS")?.unwrap_or(240u64);
    config.cycle_budget = Some(std::time::Duration::from_secs(budget_secs));
    let registry = Arc::new(env.registry()?);
    // The registry ships with the code: sync its mission records at each cold start, so the
    // table's mission index follows each deployment. One read when the registry is unchanged;
    // the ~134 records are written only after a deployment that changed it.
    let missions = pantau::reconcile::sync_registry(table.as_ref(), &registry).await?;
    tracing::info!(missions, "registry written to the table");
    // Alert channels from the environment (the SNS topic the template makes; webhooks when
    // their variables are set).
    let alerts = pantau::alerts::AlertStep::new(
        table.clone(),
        registry.clone(),
        pantau::alerts::Channels::from_env().await,
    );
    let scraper = Scraper {
        registry,
        blobs,
        table,
        // The User-Agent names the operator's contact page when one is configured.
        fetcher: Fetcher::new(
            FetchPolicy::default().with_contact_url(std::env::var(CONTACT_URL_ENV).ok().as_deref()),
        )?,
        config,
    };
    let (scraper, alerts) = (&scraper, &alerts);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        handler::handle(scraper, alerts, event.payload)
    }))
    .await
}
