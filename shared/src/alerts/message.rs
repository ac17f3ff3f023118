//! What an alert says: one message per transition group, in Indonesian and English, each
//! subject with its dashboard link and evidence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::regions::region_names;

/// Which transition a message tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvent {
    /// The condition began to hold.
    Fired,
    /// It still holds, a reminder interval after the last message.
    Reminder,
    /// It no longer holds.
    Resolved,
}

impl AlertEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::Fired => "fired",
            AlertEvent::Reminder => "reminder",
            AlertEvent::Resolved => "resolved",
        }
    }

    /// The prefix of a message's title: (Indonesian, English).
    fn label(self) -> (&'static str, &'static str) {
        match self {
            AlertEvent::Fired => ("PERINGATAN", "ALERT"),
            AlertEvent::Reminder => ("PENGINGAT", "REMINDER"),
            AlertEvent::Resolved => ("SELESAI", "RESOLVED"),
        }
    }
}

/// One subject of a message: a crisis, a mission, a source or a headquarters record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSubject {
    /// `crisis:{id}`, `mission:{id}`, `source:{owner}/{source}`, `hq:{record}`.
    pub subject: String,
    /// Its dashboard page (`/#crisis=ID`, `/#mission=ID`), absolute when the dashboard's
    /// address is configured.
    pub link: String,
    /// The evidence, one line in Indonesian and one in English.
    pub text_id: String,
    pub text_en: String,
    /// The same evidence as data, for machines (webhook receivers).
    pub facts: Value,
}

/// An alert message as stored in the outbox and sent to every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// `RuleKind::name` of the rule.
    pub rule_kind: String,
    pub event: AlertEvent,
    pub created_at: DateTime<Utc>,
    /// The region a grouped message is about; None for a single subject.
    #[serde(default)]
    pub region: Option<String>,
    pub title_id: String,
    pub title_en: String,
    pub subjects: Vec<AlertSubject>,
}

impl AlertMessage {
    /// The title of a message: its event, its rule's topic, how many subjects and where.
    pub fn titles(
        event: AlertEvent,
        rule_kind: &str,
        rule_name: &str,
        subjects: &[AlertSubject],
        region: Option<&str>,
    ) -> (String, String) {
        let (label_id, label_en) = event.label();
        let n = subjects.len();
        let (topic_id, topic_en) = match rule_kind {
            "crisis_opened" => ("Krisis", "Crisis"),
            "crisis_no_response" => (
                "Krisis tanpa respons perwakilan",
                "Crisis without a mission response",
            ),
            "mission_silent" => ("Perwakilan tidak mempublikasikan berita", "Mission silent"),
            "source_unhealthy" => ("Sumber bermasalah", "Source failing"),
            "hq_record_unmatched" => (
                "Catatan pusat tanpa publikasi",
                "HQ record without a publication",
            ),
            _ => ("Peringatan", "Alert"),
        };
        let (what_id, what_en) = if n == 1 {
            let s = &subjects[0];
            (first_sentence(&s.text_id), first_sentence(&s.text_en))
        } else {
            let (region_id, region_en) = region_names(region.unwrap_or("other"));
            let (noun_id, noun_en) = match rule_kind {
                "crisis_opened" | "crisis_no_response" => ("krisis", "crises"),
                "mission_silent" => ("perwakilan", "missions"),
                "source_unhealthy" => ("sumber", "sources"),
                "hq_record_unmatched" => ("catatan", "records"),
                _ => ("subjek", "subjects"),
            };
            (
                format!("{n} {noun_id} di {region_id}"),
                format!("{n} {noun_en} in {region_en}"),
            )
        };
        (
            format!("[{label_id}] {topic_id}: {what_id} ({rule_name})"),
            format!("[{label_en}] {topic_en}: {what_en} ({rule_name})"),
        )
    }

    /// The whole message as text, Indonesian first, then English, each subject with its link:
    /// what the console, Telegram, Slack and SNS carry.
    pub fn text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.title_id);
        out.push('\n');
        for s in &self.subjects {
            out.push_str(&format!("• {}\n  {}\n", s.text_id, s.link));
        }
        out.push('\n');
        out.push_str(&self.title_en);
        out.push('\n');
        for s in &self.subjects {
            out.push_str(&format!("• {}\n  {}\n", s.text_en, s.link));
        }
        out
    }
}

/// The part of an evidence line before its first ". ", for a title.
fn first_sentence(text: &str) -> String {
    text.split(". ").next().unwrap_or(text).to_owned()
}

/// A dashboard link: `base` (may be empty) joined with `#{page}={id}`.
pub fn dashboard_link(base: &str, page: &str, id: &str) -> String {
    let base = base.trim_end_matches('/');
    // What `encodeURIComponent` leaves alone stays readable: ids are mostly `[a-z0-9_-]`.
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    let id: String = percent_encoding::utf8_percent_encode(id, KEEP).collect();
    format!("{base}/#{page}={id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_or_absolute_and_escaped() {
        assert_eq!(dashboard_link("", "crisis", "crs_1"), "/#crisis=crs_1");
        assert_eq!(
            dashboard_link("https://hq.example.go.id/", "mission", "tokyo"),
            "https://hq.example.go.id/#mission=tokyo"
        );
    }
}
