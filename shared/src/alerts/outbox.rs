//! The outbox: every message is stored before anything is sent, with one delivery record per
//! channel; deliveries are made from the table, retried with exponential backoff while a
//! channel fails, and never made twice.
//!
//! A delivery is `pending` (in GSI2 `ALERT_PENDING`, keyed by its next attempt time) until it
//! is `delivered` (out of the index). Each attempt first *claims* the delivery: a write
//! conditioned on its attempt count that also moves its next attempt a lease ahead, so a
//! second deliverer reading the same record loses the claim and sends nothing, and a
//! deliverer that dies mid-send leaves the delivery due again once the lease ends. The outcome
//! is written conditioned on the claim. A crash after a channel accepted a message but before
//! it was marked can resend it once the lease ends: receivers get `x-pantau-delivery` (the
//! message id) to drop such a repeat.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::AlertError;
use super::channels::Channels;
use super::message::AlertMessage;
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange, TransactOp, Update};
use crate::store::{Condition, Item, Key, Query, Table, TableError};

/// Retry delays: `first`, doubling per failed attempt, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::seconds(30),
            max: Duration::hours(1),
        }
    }
}

impl Backoff {
    /// The delay after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        let delay = self.first * 2i32.pow(doublings);
        delay.min(self.max)
    }
}

/// How long a claimed delivery is left to its deliverer before it is due again.
pub const LEASE: Duration = Duration::minutes(5);

/// The writes that put a new message and its pending deliveries in the outbox (part of the
/// evaluator's transaction).
pub fn message_ops(
    message: &AlertMessage,
    channels: &[String],
) -> Result<Vec<TransactOp>, AlertError> {
    let Ok(Value::Object(mut record)) = serde_json::to_value(message) else {
        return Err(AlertError::Invalid(
            "alert message does not serialize".into(),
        ));
    };
    let set = |record: &mut Item, name: &str, value: String| {
        record.insert(name.into(), Value::String(value));
    };
    set(
        &mut record,
        table::PK,
        schema::alert_message_pk(&message.id),
    );
    set(&mut record, table::SK, schema::ALERT_MESSAGE_SK.into());
    set(&mut record, table::GSI1_PK, schema::ALL_ALERTS.into());
    set(
        &mut record,
        table::GSI1_SK,
        schema::item_time_sk(message.created_at, &message.id),
    );
    let mut ops = vec![TransactOp::Put {
        item: record,
        condition: Condition::Absent,
    }];
    let mut seen = std::collections::BTreeSet::new();
    for channel in channels.iter().filter(|c| seen.insert(c.as_str())) {
        let mut d = Item::new();
        set(&mut d, table::PK, schema::alert_message_pk(&message.id));
        set(&mut d, table::SK, schema::alert_delivery_sk(channel));
        set(&mut d, "message_id", message.id.clone());
        set(&mut d, "channel", channel.clone());
        set(&mut d, "status", "pending".into());
        d.insert("attempts".into(), json!(0));
        set(
            &mut d,
            "next_attempt_at",
            schema::sortable_time(message.created_at),
        );
        set(&mut d, table::GSI2_PK, schema::ALERT_PENDING.into());
        set(
            &mut d,
            table::GSI2_SK,
            pending_sk(message.created_at, &message.id, channel),
        );
        ops.push(TransactOp::Put {
            item: d,
            condition: Condition::Absent,
        });
    }
    Ok(ops)
}

fn pending_sk(at: DateTime<Utc>, message_id: &str, channel: &str) -> String {
    format!("{}#{message_id}#{channel}", schema::sortable_time(at))
}

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub failed: usize,
    /// Deliveries another deliverer claimed first.
    pub lost_claims: usize,
    /// Deliveries to a channel not configured here (kept, retried at the longest delay).
    pub unknown_channel: usize,
}

/// Delivers what is due through its channels.
pub struct Deliverer {
    pub table: Arc<dyn Table>,
    pub channels: Channels,
    pub backoff: Backoff,
}

/// Deliveries read per run at most; the rest wait for the next run.
const MAX_PER_RUN: usize = 500;

impl Deliverer {
    pub fn new(table: Arc<dyn Table>, channels: Channels) -> Deliverer {
        Deliverer {
            table,
            channels,
            backoff: Backoff::default(),
        }
    }

    /// Attempts every delivery due at `now`, oldest first.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<DeliveryReport, AlertError> {
        let mut report = DeliveryReport::default();
        let due = self
            .table
            .query(
                Query::partition(Index::Gsi2, schema::ALERT_PENDING)
                    .range(SortKeyRange::Le(format!("{}~", schema::sortable_time(now))))
                    .limit(MAX_PER_RUN),
            )
            .await?;
        let mut messages: std::collections::HashMap<String, Option<AlertMessage>> =
            Default::default();
        for delivery in due.items {
            let (Some(message_id), Some(channel_name)) = (
                delivery.get("message_id").and_then(Value::as_str),
                delivery.get("channel").and_then(Value::as_str),
            ) else {
                continue;
            };
            let attempts = delivery
                .get("attempts")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let key = Key::new(
                schema::alert_message_pk(message_id),
                schema::alert_delivery_sk(channel_name),
            );
            let Some(channel) = self.channels.get(channel_name) else {
                // Kept for when the channel is configured: never lost, rarely retried.
                let next = now + self.backoff.max;
                let update = reschedule(next, message_id, channel_name, "channel not configured");
                match self
                    .table
                    .update(&key, update, attempts_are(attempts))
                    .await
                {
                    Ok(_) => report.unknown_channel += 1,
                    Err(TableError::ConditionFailed { .. }) => report.lost_claims += 1,
                    Err(e) => return Err(e.into()),
                }
                continue;
            };
            // Claim it: the attempt count moves on and the delivery is due again only after
            // the lease.
            let mut claim = reschedule(now + LEASE, message_id, channel_name, "");
            claim.set.remove("last_error");
            claim.add.push(("attempts".into(), 1));
            match self.table.update(&key, claim, attempts_are(attempts)).await {
                Ok(_) => {}
                Err(TableError::ConditionFailed { .. }) => {
                    report.lost_claims += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let claimed = attempts_are(attempts + 1);
            if !messages.contains_key(message_id) {
                let message = self
                    .table
                    .get(&Key::new(
                        schema::alert_message_pk(message_id),
                        schema::ALERT_MESSAGE_SK,
                    ))
                    .await?
                    .and_then(|r| serde_json::from_value::<AlertMessage>(Value::Object(r)).ok());
                messages.insert(message_id.to_owned(), message);
            }
            let Some(Some(message)) = messages.get(message_id) else {
                tracing::error!(message_id, "alert delivery without a readable message");
                continue;
            };
            match channel.send(message).await {
                Ok(()) => {
                    let mut done = Update::default();
                    done.set.insert("status".into(), json!("delivered"));
                    done.set
                        .insert("delivered_at".into(), json!(schema::sortable_time(now)));
                    done.remove = vec![
                        table::GSI2_PK.into(),
                        table::GSI2_SK.into(),
                        "next_attempt_at".into(),
                        "last_error".into(),
                    ];
                    match self.table.update(&key, done, claimed).await {
                        Ok(_) => report.delivered += 1,
                        Err(TableError::ConditionFailed { .. }) => report.lost_claims += 1,
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => {
                    let attempt = u32::try_from(attempts + 1).unwrap_or(u32::MAX);
                    let next = now + self.backoff.delay(attempt);
                    tracing::warn!(message_id, channel = channel_name, attempt, error = %e, next = %next, "alert delivery failed");
                    let update = reschedule(next, message_id, channel_name, &e.to_string());
                    match self.table.update(&key, update, claimed).await {
                        Ok(_) => report.failed += 1,
                        Err(TableError::ConditionFailed { .. }) => report.lost_claims += 1,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Ok(report)
    }
}

fn attempts_are(n: i64) -> Condition {
    Condition::Equals {
        attr: "attempts".into(),
        value: json!(n),
    }
}

/// Moves a pending delivery's next attempt to `next`, noting `error` when there is one.
fn reschedule(next: DateTime<Utc>, message_id: &str, channel: &str, error: &str) -> Update {
    let mut update = Update::default();
    update
        .set
        .insert("next_attempt_at".into(), json!(schema::sortable_time(next)));
    update.set.insert(
        table::GSI2_SK.into(),
        json!(pending_sk(next, message_id, channel)),
    );
    update.set.insert("last_error".into(), json!(error));
    update
}

/// One message with its deliveries, as the history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub message: AlertMessage,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryView {
    pub channel: String,
    pub status: String,
    pub attempts: i64,
    pub delivered_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

/// The newest `limit` messages with their deliveries (one query for the list, one per message).
pub async fn history(table: &dyn Table, limit: usize) -> Result<Vec<HistoryEntry>, AlertError> {
    let page = table
        .query(
            Query::partition(Index::Gsi1, schema::ALL_ALERTS)
                .backward()
                .limit(limit.max(1)),
        )
        .await?;
    let mut out = Vec::new();
    for record in page.items {
        let Ok(message) = serde_json::from_value::<AlertMessage>(Value::Object(record)) else {
            continue;
        };
        let deliveries = table
            .query(
                Query::partition(Index::Primary, schema::alert_message_pk(&message.id)).range(
                    SortKeyRange::BeginsWith(schema::ALERT_DELIVERY_PREFIX.into()),
                ),
            )
            .await?
            .items
            .iter()
            .map(|d| {
                let text = |name: &str| d.get(name).and_then(Value::as_str).map(str::to_owned);
                DeliveryView {
                    channel: text("channel").unwrap_or_default(),
                    status: text("status").unwrap_or_default(),
                    attempts: d.get("attempts").and_then(Value::as_i64).unwrap_or(0),
                    delivered_at: text("delivered_at"),
                    next_attempt_at: text("next_attempt_at"),
                    last_error: text("last_error").filter(|e| !e.is_empty()),
                }
            })
            .collect();
        out.push(HistoryEntry {
            message,
            deliveries,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff::default();
        let secs: Vec<i64> = (1..=9).map(|n| b.delay(n).num_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(b.delay(u32::MAX).num_seconds(), 3600);
    }
}
