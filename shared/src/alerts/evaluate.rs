//! Evaluation: each rule's findings against its (rule, subject) state records, and the
//! messages the transitions produce.
//!
//! A state is `firing` or `resolved`, with `rev`, a counter every write is conditioned on.
//! A transition (fire, remind, resolve) is written in one transaction with its message and
//! the message's deliveries: either an evaluator owns the transition and the message exists
//! with its deliveries pending, or nothing was written. Two evaluators deciding the same
//! transition make the same message id and the same state conditions: one wins, the other's
//! transaction is refused and it re-reads. A redelivered reconcile event finds the state
//! already `firing` and writes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::conditions::{Finding, HqRecords, Snapshot};
use super::message::{AlertEvent, AlertMessage, AlertSubject};
use super::outbox;
use super::rules::{Rule, list_rules};
use super::{AlertError, AlertSettings};
use crate::crises::CrisisConfig;
use crate::registry::Registry;
use crate::schema;
use crate::store::table::{self, TransactOp};
use crate::store::{Condition, Item, Query, Table, TableError};

/// Which rules an evaluation looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Crisis rules only: what reconcile's crisis events can change.
    Crises,
    /// Every rule: the scheduled evaluation.
    All,
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvaluationReport {
    pub rules: usize,
    /// Subjects per transition.
    pub fired: usize,
    pub reminded: usize,
    pub resolved: usize,
    /// Messages written to the outbox.
    pub messages: usize,
    /// Transactions another evaluator won (their transitions are its to tell).
    pub lost_races: usize,
    /// Rules skipped: `hq_record_unmatched` without headquarters records here.
    pub skipped_rules: usize,
}

/// A (rule, subject) condition state as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    pub rule_id: String,
    pub subject: String,
    pub status: StateStatus,
    pub rev: i64,
    /// When the condition last began to hold.
    pub since: DateTime<Utc>,
    /// When a message about it was last written.
    pub last_sent_at: DateTime<Utc>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The storm group (region) it was told in.
    #[serde(default)]
    pub group: Option<String>,
    /// The last evidence told, kept for the resolution message.
    pub evidence: AlertSubject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateStatus {
    Firing,
    Resolved,
}

/// Every state of a rule (one partition query).
pub async fn read_states(table: &dyn Table, rule_id: &str) -> Result<Vec<AlertState>, AlertError> {
    let mut states = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(table::Index::Primary, schema::alert_state_pk(rule_id))
                    .after(cursor),
            )
            .await?;
        for record in page.items {
            match serde_json::from_value::<AlertState>(Value::Object(record)) {
                Ok(s) => states.push(s),
                Err(e) => tracing::error!(rule = rule_id, error = %e, "unreadable alert state"),
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(states),
        }
    }
}

fn state_record(state: &AlertState) -> Result<Item, AlertError> {
    let Ok(Value::Object(mut record)) = serde_json::to_value(state) else {
        return Err(AlertError::Invalid("alert state does not serialize".into()));
    };
    record.insert(
        table::PK.into(),
        schema::alert_state_pk(&state.rule_id).into(),
    );
    record.insert(
        table::SK.into(),
        schema::alert_state_sk(&state.subject).into(),
    );
    Ok(record)
}

/// One subject's change.
#[derive(Debug, Clone)]
struct Transition {
    event: AlertEvent,
    prior: Option<AlertState>,
    next: AlertState,
}

/// Subjects told in one message at most (a transaction holds them, the message and its
/// deliveries, under DynamoDB's 100 operations).
pub const MAX_SUBJECTS_PER_MESSAGE: usize = 40;
/// How often a rule is re-evaluated after losing a race in the same evaluation.
const MAX_ATTEMPTS: usize = 3;

pub struct Evaluator {
    pub table: Arc<dyn Table>,
    pub registry: Arc<Registry>,
    pub crisis_config: CrisisConfig,
    pub settings: AlertSettings,
    /// Headquarters records, once they exist; `hq_record_unmatched` rules wait until then.
    pub hq: Option<Arc<dyn HqRecords>>,
}

impl Evaluator {
    /// Evaluates the rules of `scope` as of `now` and writes what changed to the outbox.
    pub async fn evaluate(
        &self,
        scope: Scope,
        now: DateTime<Utc>,
    ) -> Result<EvaluationReport, AlertError> {
        let mut report = EvaluationReport::default();
        let rules = list_rules(self.table.as_ref()).await?;
        let mut snapshot = Snapshot::new(
            self.table.as_ref(),
            &self.registry,
            &self.crisis_config,
            &self.settings.dashboard_url,
            now,
        );
        for rule in rules {
            if scope == Scope::Crises && !rule.kind.is_crisis_rule() {
                continue;
            }
            report.rules += 1;
            self.evaluate_rule(&rule, scope, &mut snapshot, now, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn evaluate_rule(
        &self,
        rule: &Rule,
        scope: Scope,
        snapshot: &mut Snapshot<'_>,
        now: DateTime<Utc>,
        report: &mut EvaluationReport,
    ) -> Result<(), AlertError> {
        let Some(findings) = snapshot.findings(rule, self.hq.as_deref()).await? else {
            report.skipped_rules += 1;
            return Ok(());
        };
        for _ in 0..MAX_ATTEMPTS {
            let states: BTreeMap<String, AlertState> = read_states(self.table.as_ref(), &rule.id)
                .await?
                .into_iter()
                .map(|s| (s.subject.clone(), s))
                .collect();
            let mut transitions = transitions(rule, &findings, &states, now);
            if scope == Scope::Crises {
                // An event tells what happened: a crisis opened, a response arrived. What time
                // does (a crisis closing, a reminder falling due) is the schedule's to tell, so
                // an event replayed long after its crisis closed says nothing.
                let active = snapshot.active_crisis_subjects();
                transitions.retain(|t| match t.event {
                    AlertEvent::Fired => true,
                    AlertEvent::Reminder => false,
                    AlertEvent::Resolved => active.contains(&t.next.subject),
                });
            }
            if transitions.is_empty() {
                return Ok(());
            }
            let mut lost = false;
            for group in group_transitions(transitions) {
                match self.write_group(rule, &group, now).await {
                    Ok(()) => {
                        report.messages += 1;
                        for t in &group {
                            match t.event {
                                AlertEvent::Fired => report.fired += 1,
                                AlertEvent::Reminder => report.reminded += 1,
                                AlertEvent::Resolved => report.resolved += 1,
                            }
                        }
                    }
                    Err(AlertError::Table(
                        TableError::TransactionCanceled { .. } | TableError::ConditionFailed { .. },
                    )) => {
                        report.lost_races += 1;
                        lost = true;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !lost {
                return Ok(());
            }
        }
        Ok(())
    }

    /// One message and its subjects' state changes, all or nothing.
    async fn write_group(
        &self,
        rule: &Rule,
        group: &[Transition],
        now: DateTime<Utc>,
    ) -> Result<(), AlertError> {
        let event = group[0].event;
        let region = group
            .first()
            .and_then(|t| t.next.group.clone())
            .filter(|_| group.len() > 1);
        let subjects: Vec<AlertSubject> = group.iter().map(|t| t.next.evidence.clone()).collect();
        let (title_id, title_en) = AlertMessage::titles(
            event,
            rule.kind.name(),
            &rule.name,
            &subjects,
            region.as_deref(),
        );
        let message = AlertMessage {
            id: message_id(rule, group),
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            rule_kind: rule.kind.name().to_owned(),
            event,
            created_at: now,
            region,
            title_id,
            title_en,
            subjects,
        };
        let mut ops = Vec::with_capacity(group.len() + 8);
        for t in group {
            ops.push(TransactOp::Put {
                item: state_record(&t.next)?,
                condition: match &t.prior {
                    None => Condition::Absent,
                    Some(prior) => Condition::Equals {
                        attr: "rev".into(),
                        value: json!(prior.rev),
                    },
                },
            });
        }
        let channels: Vec<String> = if rule.channels.is_empty() {
            self.settings.channels.clone()
        } else {
            rule.channels.clone()
        };
        ops.extend(outbox::message_ops(&message, &channels)?);
        self.table.transact_write(ops).await?;
        Ok(())
    }
}

/// What changes for each subject: new findings fire, held ones remind when due, states no
/// longer found resolve.
fn transitions(
    rule: &Rule,
    findings: &BTreeMap<String, Finding>,
    states: &BTreeMap<String, AlertState>,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let remind_every = rule
        .remind_every_hours
        .map(|h| Duration::hours(i64::from(h)));
    let mut out = Vec::new();
    for (subject, finding) in findings {
        let prior = states.get(subject);
        let firing = prior.is_some_and(|s| s.status == StateStatus::Firing);
        let event = if !firing {
            AlertEvent::Fired
        } else if remind_every
            .is_some_and(|every| prior.is_some_and(|s| s.last_sent_at + every <= now))
        {
            AlertEvent::Reminder
        } else {
            continue;
        };
        let since = match (event, prior) {
            (AlertEvent::Reminder, Some(p)) => p.since,
            _ => now,
        };
        out.push(Transition {
            event,
            prior: prior.cloned(),
            next: AlertState {
                rule_id: rule.id.clone(),
                subject: subject.clone(),
                status: StateStatus::Firing,
                rev: prior.map_or(1, |p| p.rev + 1),
                since,
                last_sent_at: now,
                resolved_at: None,
                group: finding.group.clone(),
                evidence: finding.subject.clone(),
            },
        });
    }
    for (subject, state) in states {
        if state.status != StateStatus::Firing || findings.contains_key(subject) {
            continue;
        }
        let mut next = state.clone();
        next.status = StateStatus::Resolved;
        next.rev += 1;
        next.last_sent_at = now;
        next.resolved_at = Some(now);
        out.push(Transition {
            event: AlertEvent::Resolved,
            prior: Some(state.clone()),
            next,
        });
    }
    out
}

/// Messages to write: per event, subjects sharing a group together (in chunks), the rest one
/// each. Order: fired, reminders, resolutions; subjects in key order.
fn group_transitions(transitions: Vec<Transition>) -> Vec<Vec<Transition>> {
    let mut grouped: BTreeMap<(AlertEvent, String), Vec<Transition>> = BTreeMap::new();
    let mut alone = Vec::new();
    for t in transitions {
        match t.next.group.clone() {
            Some(g) => grouped.entry((t.event, g)).or_default().push(t),
            None => alone.push(vec![t]),
        }
    }
    let mut out: Vec<Vec<Transition>> = alone;
    for (_, ts) in grouped {
        for chunk in ts.chunks(MAX_SUBJECTS_PER_MESSAGE) {
            out.push(chunk.to_vec());
        }
    }
    out.sort_by(|a, b| (a[0].event, &a[0].next.subject).cmp(&(b[0].event, &b[0].next.subject)));
    out
}

/// The same transitions make the same id, whoever decides them.
fn message_id(rule: &Rule, group: &[Transition]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule.id.as_bytes());
    for t in group {
        hasher.update(
            format!(
                "|{}|{}|{}",
                t.event.as_str(),
                t.next.subject,
                t.prior.as_ref().map_or(0, |p| p.rev)
            )
            .as_bytes(),
        );
    }
    format!("alr_{}", &hex::encode(hasher.finalize())[..20])
}
