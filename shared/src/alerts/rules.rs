//! Alert rules: what headquarters wants to be told, stored in the table (`ALERT_RULE#{id}`),
//! managed through `GET/POST /alerts/rules`, `DELETE /alerts/rules/{id}` and `pantau alerts rules`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AlertError;
use super::regions::REGIONS;
use crate::crises::CrisisKind;
use crate::schema;
use crate::store::table::{self, Index};
use crate::store::{Condition, Item, Key, Query, Table};

/// How grave a crisis is, from its evidence: a media surge alone is `watch`, a hazard signal
/// over a threshold `warning`, a red alert or a magnitude 7 or more `severe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Watch,
    Warning,
    Severe,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Watch => "watch",
            Severity::Warning => "warning",
            Severity::Severe => "severe",
        }
    }
}

/// What a rule watches, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// A crisis is open (fires once when it opens, resolves when it closes).
    CrisisOpened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        crisis_kind: Option<CrisisKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_severity: Option<Severity>,
    },
    /// An active crisis has no mission response `after_hours` after its first signal.
    CrisisNoResponse {
        after_hours: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
    },
    /// A mission has published nothing official for `days`.
    MissionSilent {
        days: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
    },
    /// A source has failed `cycles` scrape cycles in a row.
    SourceUnhealthy { cycles: u32 },
    /// A headquarters record has had no matching publication for `after_days` (evaluated only
    /// where headquarters records exist: see `conditions::HqRecords`).
    HqRecordUnmatched { after_days: u32 },
}

impl RuleKind {
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::CrisisOpened { .. } => "crisis_opened",
            RuleKind::CrisisNoResponse { .. } => "crisis_no_response",
            RuleKind::MissionSilent { .. } => "mission_silent",
            RuleKind::SourceUnhealthy { .. } => "source_unhealthy",
            RuleKind::HqRecordUnmatched { .. } => "hq_record_unmatched",
        }
    }

    /// Whether reconcile's crisis events can change this rule's conditions.
    pub fn is_crisis_rule(&self) -> bool {
        matches!(
            self,
            RuleKind::CrisisOpened { .. } | RuleKind::CrisisNoResponse { .. }
        )
    }
}

/// What a client sends to create a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRule {
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    /// Remind this often while the condition holds; never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_every_hours: Option<u32>,
    /// Channel names to deliver to (`webhook`, `sns`, ...); every configured channel when empty.
    #[serde(default)]
    pub channels: Vec<String>,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_every_hours: Option<u32>,
    #[serde(default)]
    pub channels: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Channel names a rule may name.
pub const CHANNEL_NAMES: &[&str] = &["console", "file", "webhook", "telegram", "slack", "sns"];
/// Bounds on rule parameters (hours, days, cycles), documented in the OpenAPI schema.
pub const MAX_HOURS: u32 = 24 * 90;
pub const MAX_DAYS: u32 = 365;
pub const MAX_CYCLES: u32 = 1000;
pub const MAX_NAME_CHARS: usize = 200;

impl NewRule {
    /// Parses and checks a rule from JSON: every problem is a `Invalid` error naming it.
    pub fn from_json(body: &[u8]) -> Result<NewRule, AlertError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| AlertError::Invalid(format!("not a rule: {e}")))?;
        // serde cannot refuse unknown fields through a flattened enum: checked here, so a
        // misspelt parameter is an error rather than a rule that silently ignores it.
        let Value::Object(fields) = &value else {
            return Err(AlertError::Invalid(
                "not a rule: expected a JSON object".into(),
            ));
        };
        let kind = fields.get("kind").and_then(Value::as_str).unwrap_or("");
        let allowed: &[&str] = match kind {
            "crisis_opened" => &["country", "region", "crisis_kind", "min_severity"],
            "crisis_no_response" => &["after_hours", "country", "region"],
            "mission_silent" => &["days", "country", "region"],
            "source_unhealthy" => &["cycles"],
            "hq_record_unmatched" => &["after_days"],
            _ => &[],
        };
        let common = ["name", "kind", "remind_every_hours", "channels"];
        if let Some(unknown) = fields
            .keys()
            .find(|k| !common.contains(&k.as_str()) && !allowed.contains(&k.as_str()))
        {
            return Err(AlertError::Invalid(format!(
                "not a rule: unknown field `{unknown}` for kind `{kind}`"
            )));
        }
        let rule: NewRule = serde_json::from_value(value)
            .map_err(|e| AlertError::Invalid(format!("not a rule: {e}")))?;
        rule.validate()?;
        Ok(rule)
    }

    pub fn validate(&self) -> Result<(), AlertError> {
        let bad = |m: String| Err(AlertError::Invalid(m));
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > MAX_NAME_CHARS {
            return bad(format!("`name` must be 1 to {MAX_NAME_CHARS} characters"));
        }
        let in_range = |what: &str, n: u32, max: u32| {
            if (1..=max).contains(&n) {
                Ok(())
            } else {
                Err(AlertError::Invalid(format!("`{what}` must be 1 to {max}")))
            }
        };
        let place = |country: &Option<String>, region: &Option<String>| {
            if let Some(cc) = country
                && !(cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic()))
            {
                return Err(AlertError::Invalid(
                    "`country` must be an ISO 3166-1 alpha-2 code".into(),
                ));
            }
            if let Some(r) = region
                && !REGIONS.contains(&r.as_str())
            {
                return Err(AlertError::Invalid(format!(
                    "`region` must be one of {}",
                    REGIONS.join(", ")
                )));
            }
            Ok(())
        };
        match &self.kind {
            RuleKind::CrisisOpened {
                country, region, ..
            } => place(country, region)?,
            RuleKind::CrisisNoResponse {
                after_hours,
                country,
                region,
            } => {
                in_range("after_hours", *after_hours, MAX_HOURS)?;
                place(country, region)?;
            }
            RuleKind::MissionSilent {
                days,
                country,
                region,
            } => {
                in_range("days", *days, MAX_DAYS)?;
                place(country, region)?;
            }
            RuleKind::SourceUnhealthy { cycles } => in_range("cycles", *cycles, MAX_CYCLES)?,
            RuleKind::HqRecordUnmatched { after_days } => {
                in_range("after_days", *after_days, MAX_DAYS)?
            }
        }
        if let Some(h) = self.remind_every_hours {
            in_range("remind_every_hours", h, MAX_HOURS)?;
        }
        if let Some(c) = self
            .channels
            .iter()
            .find(|c| !CHANNEL_NAMES.contains(&c.as_str()))
        {
            return bad(format!(
                "unknown channel `{c}`; channels are {}",
                CHANNEL_NAMES.join(", ")
            ));
        }
        Ok(())
    }

    /// The stored rule, with a fresh id.
    pub fn into_rule(self, now: DateTime<Utc>) -> Rule {
        let mut random = [0u8; 6];
        // Uniqueness, not secrecy: the clock is a fallback when the OS has no randomness.
        if getrandom::fill(&mut random).is_err() {
            random.copy_from_slice(&now.timestamp_nanos_opt().unwrap_or(0).to_be_bytes()[2..]);
        }
        let upper = |o: Option<String>| o.map(|s| s.to_ascii_uppercase());
        let kind = match self.kind {
            RuleKind::CrisisOpened {
                country,
                region,
                crisis_kind,
                min_severity,
            } => RuleKind::CrisisOpened {
                country: upper(country),
                region,
                crisis_kind,
                min_severity,
            },
            RuleKind::CrisisNoResponse {
                after_hours,
                country,
                region,
            } => RuleKind::CrisisNoResponse {
                after_hours,
                country: upper(country),
                region,
            },
            RuleKind::MissionSilent {
                days,
                country,
                region,
            } => RuleKind::MissionSilent {
                days,
                country: upper(country),
                region,
            },
            other => other,
        };
        Rule {
            id: format!("rul_{}", hex::encode(random)),
            name: self.name.trim().to_owned(),
            kind,
            remind_every_hours: self.remind_every_hours,
            channels: self.channels,
            created_at: now,
        }
    }
}

fn rule_record(rule: &Rule) -> Result<Item, AlertError> {
    let Ok(Value::Object(mut record)) = serde_json::to_value(rule) else {
        return Err(AlertError::Invalid(format!(
            "rule {} does not serialize",
            rule.id
        )));
    };
    let mut set = |name: &str, value: String| {
        record.insert(name.into(), Value::String(value));
    };
    set(table::PK, schema::alert_rule_pk(&rule.id));
    set(table::SK, schema::ALERT_RULE_SK.into());
    set(table::GSI1_PK, schema::ALL_ALERT_RULES.into());
    set(
        table::GSI1_SK,
        schema::item_time_sk(rule.created_at, &rule.id),
    );
    Ok(record)
}

fn parse_rule(record: &Item) -> Result<Rule, AlertError> {
    serde_json::from_value(Value::Object(record.clone())).map_err(|e| {
        AlertError::Invalid(format!(
            "unreadable rule record {:?}: {e}",
            record.get(table::PK)
        ))
    })
}

/// Stores a new rule (never overwriting one with the same id).
pub async fn add_rule(table: &dyn Table, rule: &Rule) -> Result<(), AlertError> {
    table.put(rule_record(rule)?, Condition::Absent).await?;
    Ok(())
}

pub async fn get_rule(table: &dyn Table, id: &str) -> Result<Option<Rule>, AlertError> {
    let key = Key::new(schema::alert_rule_pk(id), schema::ALERT_RULE_SK);
    match table.get(&key).await? {
        Some(record) => parse_rule(&record).map(Some),
        None => Ok(None),
    }
}

/// Every rule, oldest first. An unreadable record is logged and skipped, so one bad rule does
/// not silence the others.
pub async fn list_rules(table: &dyn Table) -> Result<Vec<Rule>, AlertError> {
    let mut rules = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(Query::partition(Index::Gsi1, schema::ALL_ALERT_RULES).after(cursor))
            .await?;
        for record in &page.items {
            match parse_rule(record) {
                Ok(rule) => rules.push(rule),
                Err(e) => tracing::error!(error = %e, "alert rule skipped"),
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(rules),
        }
    }
}

/// Removes a rule and its condition states; false when there was no such rule.
pub async fn remove_rule(table: &dyn Table, id: &str) -> Result<bool, AlertError> {
    let key = Key::new(schema::alert_rule_pk(id), schema::ALERT_RULE_SK);
    match table.delete(&key, Condition::Present).await {
        Ok(()) => {}
        Err(crate::store::TableError::ConditionFailed { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let states = super::evaluate::read_states(table, id).await?;
    let deletes: Vec<_> = states
        .into_iter()
        .map(|s| {
            crate::store::table::WriteOp::Delete(Key::new(
                schema::alert_state_pk(id),
                schema::alert_state_sk(&s.subject),
            ))
        })
        .collect();
    if !deletes.is_empty() {
        table.batch_write(deletes).await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTable;

    fn new_rule(json: &str) -> Result<NewRule, AlertError> {
        NewRule::from_json(json.as_bytes())
    }

    #[test]
    fn rules_parse_from_json_and_bad_ones_are_refused_with_a_reason() {
        let r = new_rule(
            r#"{"name":"Gempa di Timur Tengah","kind":"crisis_opened","region":"middle_east","crisis_kind":"earthquake","min_severity":"warning"}"#,
        )
        .unwrap();
        assert_eq!(r.kind.name(), "crisis_opened");
        let r = new_rule(r#"{"name":"sunyi","kind":"mission_silent","days":7,"country":"jp","remind_every_hours":24,"channels":["webhook"]}"#).unwrap();
        let rule = r.into_rule(Utc::now());
        assert!(rule.id.starts_with("rul_"));
        assert_eq!(
            rule.kind,
            RuleKind::MissionSilent {
                days: 7,
                country: Some("JP".into()),
                region: None
            }
        );
        for (bad, why) in [
            (r#"{"name":"x","kind":"mission_silent","days":0}"#, "`days`"),
            (r#"{"name":"x","kind":"mission_silent"}"#, "missing field"),
            (
                r#"{"name":"","kind":"source_unhealthy","cycles":3}"#,
                "`name`",
            ),
            (
                r#"{"name":"x","kind":"crisis_opened","region":"mars"}"#,
                "`region`",
            ),
            (
                r#"{"name":"x","kind":"crisis_opened","country":"TUR"}"#,
                "`country`",
            ),
            (
                r#"{"name":"x","kind":"source_unhealthy","cycles":3,"channels":["pigeon"]}"#,
                "pigeon",
            ),
            (r#"{"name":"x","kind":"volcano_party"}"#, "unknown variant"),
            (
                r#"{"name":"x","kind":"source_unhealthy","cycles":3,"extra":1}"#,
                "unknown field",
            ),
            (r#"[1,2]"#, "not a rule"),
        ] {
            let e = new_rule(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn rules_are_stored_listed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("t.sqlite")).unwrap();
        let t0 = crate::crises::timelines::at("2025-01-01T00:00:00Z");
        let a = new_rule(r#"{"name":"a","kind":"source_unhealthy","cycles":3}"#)
            .unwrap()
            .into_rule(t0);
        let b = new_rule(r#"{"name":"b","kind":"crisis_no_response","after_hours":12}"#)
            .unwrap()
            .into_rule(t0 + chrono::Duration::seconds(1));
        add_rule(&table, &a).await.unwrap();
        add_rule(&table, &b).await.unwrap();
        assert!(add_rule(&table, &a).await.is_err(), "ids are never reused");
        assert_eq!(list_rules(&table).await.unwrap(), [a.clone(), b.clone()]);
        assert_eq!(get_rule(&table, &b.id).await.unwrap(), Some(b.clone()));
        assert!(remove_rule(&table, &a.id).await.unwrap());
        assert!(!remove_rule(&table, &a.id).await.unwrap());
        assert_eq!(list_rules(&table).await.unwrap(), [b]);
    }
}
