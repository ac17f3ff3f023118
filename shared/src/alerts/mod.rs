//! Alerts: tell headquarters the moment a crisis opens, when a mission has not responded or
//! stays silent, when a source keeps failing, without anyone watching the dashboard.
//!
//! - `rules`: what to watch, stored in the table and managed through the API and the CLI.
//! - `conditions`: what holds now for a rule (its *findings*, one per subject: a crisis, a
//!   mission, a source, a headquarters record), read with key and range queries only.
//! - `evaluate`: turns findings into *transitions* against each (rule, subject) state record:
//!   fire once, remind at the rule's interval, resolve when the condition clears. Each
//!   transition is written in one transaction with the message it produces and that message's
//!   deliveries, conditioned on the state's revision: redelivered events and two evaluators
//!   racing fire nothing twice. Transitions of many subjects in one region are one message
//!   (a storm of ten silent missions is one alert).
//! - `message`: what an alert says, in Indonesian and English, with its dashboard links and
//!   evidence.
//! - `outbox`: every message is stored first, then delivered per channel; a failed channel
//!   keeps it and retries with exponential backoff; a delivery is claimed and marked delivered
//!   with conditional writes, so it is never sent twice by two deliverers.
//! - `channels`: console, JSON-lines file, signed webhook, Telegram, Slack-compatible
//!   webhooks, SNS.
//!
//! Where it runs: reconcile calls [`on_crisis_change`] when a crisis opened or a response was
//! linked (crisis rules only, at once); the scrape function runs [`AlertStep`] (every rule,
//! then every due delivery) at the end of every cycle, which covers the time-based conditions
//! (no response after T, silent for N days, unhealthy for N cycles) and retries. No new
//! function and no new schedule: the scrape schedule is already the system's clock, and one
//! scraper runs at a time.

pub mod channels;
pub mod conditions;
pub mod evaluate;
pub mod message;
pub mod outbox;
pub mod regions;
pub mod rules;

#[cfg(test)]
mod scenario_tests;

use std::sync::{Arc, OnceLock};

use chrono::Utc;

pub use channels::{Channel, ChannelError, Channels};
pub use conditions::{HqRecords, UnmatchedRecord};
pub use evaluate::{EvaluationReport, Evaluator, Scope};
pub use message::{AlertEvent, AlertMessage};
pub use outbox::{Backoff, Deliverer, DeliveryReport};
pub use rules::{NewRule, Rule, RuleKind, Severity};

use crate::config::optional;
use crate::registry::Registry;
use crate::store::{Table, TableError};

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// A rule (or its JSON) is malformed; the message says what to change.
    #[error("invalid alert rule: {0}")]
    Invalid(String),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("reading the table for alerts: {0}")]
    Read(#[from] crate::reconcile::read::ReadError),
}

impl AlertError {
    pub fn is_retryable(&self) -> bool {
        match self {
            AlertError::Invalid(_) => false,
            AlertError::Table(e) => e.is_retryable(),
            AlertError::Read(crate::reconcile::read::ReadError::Table(e)) => e.is_retryable(),
            AlertError::Read(_) => false,
        }
    }
}

/// Settings every evaluator shares, from the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertSettings {
    /// `PANTAU_DASHBOARD_URL`: where the dashboard is served (links become absolute);
    /// links are relative (`/#crisis=ID`) when unset.
    pub dashboard_url: String,
    /// Names of the channels configured here: a message gets one delivery per channel its
    /// rule names (or every one of these when it names none).
    pub channels: Vec<String>,
}

impl AlertSettings {
    pub fn from_env() -> AlertSettings {
        AlertSettings {
            dashboard_url: optional("PANTAU_DASHBOARD_URL").unwrap_or_default(),
            channels: channels::configured_names(),
        }
    }
}

/// [`AlertSettings::from_env`], once.
pub fn settings() -> &'static AlertSettings {
    static SETTINGS: OnceLock<AlertSettings> = OnceLock::new();
    SETTINGS.get_or_init(AlertSettings::from_env)
}

/// The channels reconcile delivers through right after a crisis event (set once by a
/// function's `main`; without them reconcile only stores the messages, and the scrape cycle's
/// delivery step sends them).
static INSTALLED_CHANNELS: OnceLock<Channels> = OnceLock::new();

pub fn install_channels(channels: Channels) {
    if INSTALLED_CHANNELS.set(channels).is_err() {
        tracing::warn!("alert channels were installed already; kept the first");
    }
}

/// Reconcile's hook, called when an object opened a crisis or linked a response: evaluates
/// the crisis rules as of now and delivers what is due. Failures are logged: the scheduled
/// evaluation catches up.
pub async fn on_crisis_change(table: Arc<dyn Table>, registry: Arc<Registry>) {
    let installed = INSTALLED_CHANNELS.get();
    let mut settings = settings().clone();
    if let Some(channels) = installed {
        settings.channels = channels.names();
    }
    let evaluator = Evaluator {
        table: table.clone(),
        registry,
        crisis_config: crate::crises::config().clone(),
        settings,
        hq: None,
    };
    let now = Utc::now();
    match evaluator.evaluate(Scope::Crises, now).await {
        Ok(report) if report.messages > 0 => {
            tracing::info!(
                messages = report.messages,
                fired = report.fired,
                "crisis alerts"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "crisis alerts not evaluated"),
    }
    if let Some(channels) = installed {
        let deliverer = Deliverer::new(table, channels.clone());
        if let Err(e) = deliverer.deliver_due(now).await {
            tracing::error!(error = %e, "crisis alerts not delivered");
        }
    }
}

/// The scheduled step (`evaluate_alerts`), run at the end of every scrape cycle: every rule,
/// then every delivery that is due.
pub struct AlertStep {
    pub evaluator: Evaluator,
    pub deliverer: Deliverer,
}

impl AlertStep {
    /// The step for `table`: settings from the environment, deliveries for `channels`.
    pub fn new(table: Arc<dyn Table>, registry: Arc<Registry>, channels: Channels) -> AlertStep {
        let mut settings = settings().clone();
        settings.channels = channels.names();
        AlertStep {
            evaluator: Evaluator {
                table: table.clone(),
                registry: registry.clone(),
                crisis_config: crate::crises::config().clone(),
                settings,
                hq: Some(Arc::new(crate::hq::unmatched::UnmatchedRecords::new(
                    registry.clone(),
                ))),
            },
            deliverer: Deliverer::new(table, channels),
        }
    }

    pub async fn run(
        &self,
        now: chrono::DateTime<Utc>,
    ) -> Result<(EvaluationReport, DeliveryReport), AlertError> {
        let evaluation = self.evaluator.evaluate(Scope::All, now).await?;
        let delivery = self.deliverer.deliver_due(now).await?;
        Ok((evaluation, delivery))
    }

    /// [`AlertStep::run`] with its outcome as JSON for a function's summary; a failure is
    /// logged and reported, never fatal (the next cycle runs it again).
    pub async fn run_and_summarize(&self, now: chrono::DateTime<Utc>) -> serde_json::Value {
        match self.run(now).await {
            Ok((evaluation, delivery)) => {
                if evaluation.messages + delivery.delivered + delivery.failed > 0 {
                    tracing::info!(
                        messages = evaluation.messages,
                        delivered = delivery.delivered,
                        failed = delivery.failed,
                        "alerts"
                    );
                }
                serde_json::json!({"evaluation": evaluation, "delivery": delivery})
            }
            Err(e) => {
                tracing::error!(error = %e, "alerts not evaluated");
                serde_json::json!({"error": e.to_string()})
            }
        }
    }
}
