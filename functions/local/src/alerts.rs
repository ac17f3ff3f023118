//! `pantau alerts`: manage alert rules, read the alert history, send a test message through a
//! channel, and evaluate the rules now, in a data directory's embedded store or, with
//! `--table`, a deployed stack's DynamoDB table.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use pantau::alerts::message::AlertSubject;
use pantau::alerts::{AlertEvent, AlertMessage, AlertStep, Channels, NewRule, outbox, rules};
use pantau::store::Table;
use pantau::store::dynamo::DynamoTable;

#[derive(Args, Debug)]
pub struct AlertsArgs {
    /// The data directory whose table holds the rules.
    #[arg(long, global = true, env = "PANTAU_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A DynamoDB table (a deployed stack's `TableName` output) instead of the data directory.
    #[arg(long, global = true)]
    pub table: Option<String>,
    #[command(subcommand)]
    pub action: AlertsAction,
}

#[derive(Subcommand, Debug)]
pub enum AlertsAction {
    /// List, add and remove rules.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// The newest alert messages with their deliveries.
    History {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Send a test message through one configured channel (console, file, webhook, telegram,
    /// slack, sns), straight away, outside the outbox.
    Test { channel: String },
    /// Evaluate every rule now and deliver what is due (what each scrape cycle does).
    Evaluate,
}

#[derive(Subcommand, Debug)]
pub enum RulesAction {
    List,
    /// Add a rule given as JSON, e.g.
    /// '{"name":"Gempa","kind":"crisis_opened","region":"middle_east","min_severity":"warning"}'.
    /// Kinds: crisis_opened (country, region, crisis_kind, min_severity), crisis_no_response
    /// (after_hours, country, region), mission_silent (days, country, region),
    /// source_unhealthy (cycles), hq_record_unmatched (after_days); any rule may add
    /// remind_every_hours and channels.
    Add {
        json: String,
    },
    /// Remove a rule by id.
    Rm {
        id: String,
    },
}

pub async fn run(args: AlertsArgs) -> anyhow::Result<()> {
    if let AlertsAction::Test { channel } = &args.action {
        return test_channel(channel).await;
    }
    let table: Arc<dyn Table> = match &args.table {
        Some(name) => {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), name))
        }
        None => Arc::new(crate::keys::open(
            &args.data_dir,
            matches!(
                args.action,
                AlertsAction::Rules {
                    action: RulesAction::Add { .. }
                }
            ),
        )?),
    };
    match args.action {
        AlertsAction::Rules { action } => match action {
            RulesAction::List => {
                let all = rules::list_rules(table.as_ref()).await?;
                if all.is_empty() {
                    println!("no alert rules; add one with `pantau alerts rules add JSON`");
                }
                for rule in all {
                    println!("{}", serde_json::to_string(&rule)?);
                }
            }
            RulesAction::Add { json } => {
                let rule = NewRule::from_json(json.as_bytes())?.into_rule(chrono::Utc::now());
                rules::add_rule(table.as_ref(), &rule).await?;
                println!("added {}", serde_json::to_string(&rule)?);
            }
            RulesAction::Rm { id } => {
                if !rules::remove_rule(table.as_ref(), &id).await? {
                    bail!("no alert rule {id}");
                }
                println!("removed {id}");
            }
        },
        AlertsAction::History { limit } => {
            let entries = outbox::history(table.as_ref(), limit.clamp(1, 1000)).await?;
            if entries.is_empty() {
                println!("no alerts yet");
            }
            for e in entries {
                let deliveries: Vec<String> = e
                    .deliveries
                    .iter()
                    .map(|d| format!("{} {} ({} attempts)", d.channel, d.status, d.attempts))
                    .collect();
                println!(
                    "{}  {}  {}\n  {}\n  {}\n  deliveries: {}",
                    e.message.created_at.format("%Y-%m-%d %H:%M UTC"),
                    e.message.event.as_str(),
                    e.message.id,
                    e.message.title_id,
                    e.message.title_en,
                    if deliveries.is_empty() {
                        "none".into()
                    } else {
                        deliveries.join(", ")
                    }
                );
            }
        }
        AlertsAction::Evaluate => {
            let registry = Arc::new(pantau::registry::Registry::load_default()?);
            let step = AlertStep::new(table, registry, Channels::from_env().await);
            let (evaluation, delivery) = step.run(chrono::Utc::now()).await?;
            println!(
                "{}",
                serde_json::json!({"evaluation": evaluation, "delivery": delivery})
            );
        }
        AlertsAction::Test { .. } => unreachable!("handled above"),
    }
    Ok(())
}

/// Sends one test message through `name`, configured from the environment.
async fn test_channel(name: &str) -> anyhow::Result<()> {
    let channels = Channels::from_env().await;
    let Some(channel) = channels.get(name) else {
        bail!(
            "channel `{name}` is not configured here (configured: {}); see PANTAU_ALERT_* in the README",
            if channels.names().is_empty() {
                "none".into()
            } else {
                channels.names().join(", ")
            }
        );
    };
    let now = chrono::Utc::now();
    let subject = AlertSubject {
        subject: "test:pantau".into(),
        link: pantau::alerts::message::dashboard_link(
            &pantau::alerts::settings().dashboard_url,
            "mission",
            "tokyo",
        ),
        text_id: "Pesan uji dari Pantau: saluran ini berfungsi.".into(),
        text_en: "Test message from Pantau: this channel works.".into(),
        facts: serde_json::json!({"test": true}),
    };
    let (title_id, title_en) = AlertMessage::titles(
        AlertEvent::Fired,
        "test",
        "pantau alerts test",
        std::slice::from_ref(&subject),
        None,
    );
    let message = AlertMessage {
        id: format!("alr_test_{}", now.timestamp()),
        rule_id: "test".into(),
        rule_name: "pantau alerts test".into(),
        rule_kind: "test".into(),
        event: AlertEvent::Fired,
        created_at: now,
        region: None,
        title_id,
        title_en,
        subjects: vec![subject],
    };
    channel
        .send(&message)
        .await
        .with_context(|| format!("sending a test message through {name}"))?;
    println!("sent {} through {name}", message.id);
    Ok(())
}
