//! Turns a schedule tick into one scrape cycle and its summary.

use pantau::alerts::AlertStep;
use pantau::scrape::Scraper;
use serde_json::{Value, json};

/// Runs one cycle. The event is EventBridge's scheduled event; its time is informational
/// only, since due times are decided against the clock when the cycle runs.
/// After the cycle, the alert step evaluates every rule and delivers the outbox.
pub async fn handle(
    scraper: &Scraper,
    alerts: &AlertStep,
    _event: Value,
) -> Result<Value, lambda_runtime::Error> {
    // `run_cycle` logs the cycle's one-line summary itself.
    let started = chrono::Utc::now();
    let report = scraper.run_cycle(started).await;
    pantau::metrics::scrape_cycle(&pantau::metrics::function_name("scrape"), started, &report)
        .emit();
    for failure in &report.failed {
        tracing::warn!(owner = %failure.owner, source = %failure.source, error = %failure.error, "source failed");
    }
    let alerts = alerts.run_and_summarize(chrono::Utc::now()).await;
    // A failing source is the source's problem, recorded in its state; the cycle succeeded.
    Ok(json!({
        "alerts": alerts,
        "due": report.due,
        "fetched": report.fetched,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "not_modified": report.not_modified,
        "failed": report.failed.len(),
        "deferred": report.deferred,
        "unhealthy_sources": report.unhealthy_sources,
        "linked_fetched": report.linked_fetched,
        "linked_failed": report.linked_failed,
        "written": report.written.len(),
        "bytes": report.bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use pantau::fetch::{FetchPolicy, Fetcher};
    use pantau::registry::Registry;
    use pantau::scrape::ScrapeConfig;
    use pantau::store::disk::DiskBlobStore;
    use pantau::store::sqlite::SqliteTable;

    #[tokio::test]
    async fn scheduled_event_runs_a_cycle_and_summarizes_it() {
        let dir = tempfile::tempdir().unwrap();
        let table: Arc<dyn pantau::store::Table> =
            Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
        let registry = Arc::new(Registry::default());
        let scraper = Scraper {
            registry: registry.clone(),
            blobs: Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap()),
            table: table.clone(),
            fetcher: Fetcher::new(FetchPolicy::default()).unwrap(),
            config: ScrapeConfig::default(),
        };
        let alerts = AlertStep::new(table, registry, Default::default());
        let event: Value = serde_json::from_str(include_str!("../events/schedule.json")).unwrap();
        let summary = handle(&scraper, &alerts, event).await.unwrap();
        assert_eq!(summary["due"], 0);
        assert_eq!(summary["failed"], 0);
        assert_eq!(summary["alerts"]["evaluation"]["rules"], 0);
        assert_eq!(summary["alerts"]["delivery"]["delivered"], 0);
    }
}
