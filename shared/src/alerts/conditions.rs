//! What holds now for a rule: one *finding* per subject, with its evidence in both languages.
//! Every read is a key or range query: the crisis board (one GSI2 range), the source states
//! (one GSI1 partition), each mission's last official publication (one bounded query each).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::AlertError;
use super::message::{AlertSubject, dashboard_link};
use super::regions::region_of;
use super::rules::{Rule, RuleKind, Severity};
use crate::crises::{CrisisConfig, CrisisKind, CrisisView, list_crises_at};
use crate::model::Role;
use crate::reconcile::read::{self, SourceHealth};
use crate::registry::Registry;
use crate::store::Table;

/// One subject for which a rule's condition holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub subject: AlertSubject,
    /// Findings sharing a group may be told in one message (a region's silent missions);
    /// None: always its own message (a crisis).
    pub group: Option<String>,
}

/// A headquarters record without a matching publication (issue 8's matching).
#[derive(Debug, Clone, PartialEq)]
pub struct UnmatchedRecord {
    pub record_id: String,
    pub mission: String,
    pub date: DateTime<Utc>,
    pub title: String,
}

/// Where headquarters records come from once they exist: the `hq_record_unmatched` rule is
/// evaluated only when an evaluator has one (until then its states are left untouched).
#[async_trait]
pub trait HqRecords: Send + Sync {
    /// Records dated at least `older_than` ago at `now` that match no publication.
    async fn unmatched(
        &self,
        table: &dyn Table,
        older_than: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<UnmatchedRecord>, AlertError>;
}

/// What the conditions of one evaluation read, shared between its rules so each is read once.
pub struct Snapshot<'a> {
    pub table: &'a dyn Table,
    pub registry: &'a Registry,
    pub crisis_config: &'a CrisisConfig,
    pub dashboard_url: &'a str,
    pub now: DateTime<Utc>,
    active_crises: Option<Vec<CrisisView>>,
    source_health: Option<Vec<SourceHealth>>,
    last_official: HashMap<String, Option<DateTime<Utc>>>,
}

/// At most this many active crises are read per evaluation (the board rarely holds 20).
const MAX_ACTIVE_CRISES: usize = 500;

impl<'a> Snapshot<'a> {
    pub fn new(
        table: &'a dyn Table,
        registry: &'a Registry,
        crisis_config: &'a CrisisConfig,
        dashboard_url: &'a str,
        now: DateTime<Utc>,
    ) -> Snapshot<'a> {
        Snapshot {
            table,
            registry,
            crisis_config,
            dashboard_url,
            now,
            active_crises: None,
            source_health: None,
            last_official: HashMap::new(),
        }
    }

    async fn active_crises(&mut self) -> Result<&[CrisisView], AlertError> {
        if self.active_crises.is_none() {
            let crises = list_crises_at(
                self.table,
                self.crisis_config,
                None,
                true,
                MAX_ACTIVE_CRISES,
                self.now,
            )
            .await?;
            self.active_crises = Some(crises);
        }
        Ok(self.active_crises.as_deref().unwrap_or_default())
    }

    /// `crisis:{id}` of every active crisis read so far.
    pub fn active_crisis_subjects(&self) -> std::collections::BTreeSet<String> {
        self.active_crises
            .iter()
            .flatten()
            .map(|c| format!("crisis:{}", c.id))
            .collect()
    }

    async fn source_health(&mut self) -> Result<&[SourceHealth], AlertError> {
        if self.source_health.is_none() {
            self.source_health = Some(read::all_source_health(self.table).await?);
        }
        Ok(self.source_health.as_deref().unwrap_or_default())
    }

    async fn last_official(&mut self, mission: &str) -> Result<Option<DateTime<Utc>>, AlertError> {
        if let Some(t) = self.last_official.get(mission) {
            return Ok(*t);
        }
        let t = read::last_published(self.table, mission, Role::Official).await?;
        self.last_official.insert(mission.to_owned(), t);
        Ok(t)
    }

    /// The findings of `rule` now; None when the rule cannot be evaluated here (headquarters
    /// records without a source of them), so its states stay as they are.
    pub async fn findings(
        &mut self,
        rule: &Rule,
        hq: Option<&dyn HqRecords>,
    ) -> Result<Option<BTreeMap<String, Finding>>, AlertError> {
        let findings = match &rule.kind {
            RuleKind::CrisisOpened {
                country,
                region,
                crisis_kind,
                min_severity,
            } => {
                let base = self.dashboard_url.to_owned();
                let registry = self.registry;
                self.active_crises()
                    .await?
                    .iter()
                    .filter(|c| in_place(&c.country, country, region))
                    .filter(|c| crisis_kind.is_none_or(|k| k == c.kind))
                    .filter(|c| min_severity.is_none_or(|s| severity(c) >= s))
                    .map(|c| crisis_opened(c, registry, &base))
                    .collect()
            }
            RuleKind::CrisisNoResponse {
                after_hours,
                country,
                region,
            } => {
                let after = Duration::hours(i64::from(*after_hours));
                let (base, now, registry) =
                    (self.dashboard_url.to_owned(), self.now, self.registry);
                self.active_crises()
                    .await?
                    .iter()
                    .filter(|c| in_place(&c.country, country, region))
                    .filter(|c| c.responses.is_empty() && c.first_signal_at + after <= now)
                    .map(|c| crisis_no_response(c, registry, &base, now))
                    .collect()
            }
            RuleKind::MissionSilent {
                days,
                country,
                region,
            } => self.silent_missions(*days, country, region).await?,
            RuleKind::SourceUnhealthy { cycles } => self.unhealthy_sources(*cycles).await?,
            RuleKind::HqRecordUnmatched { after_days } => {
                let Some(hq) = hq else { return Ok(None) };
                let older_than = Duration::days(i64::from(*after_days));
                hq.unmatched(self.table, older_than, self.now)
                    .await?
                    .into_iter()
                    .map(|r| self.hq_unmatched(r))
                    .collect()
            }
        };
        Ok(Some(findings))
    }

    async fn silent_missions(
        &mut self,
        days: u32,
        country: &Option<String>,
        region: &Option<String>,
    ) -> Result<BTreeMap<String, Finding>, AlertError> {
        let cutoff = self.now - Duration::days(i64::from(days));
        let mut out = BTreeMap::new();
        let registry = self.registry;
        for mission in &registry.missions {
            if !in_place(&mission.country_code, country, region) {
                continue;
            }
            // Only a mission seen publishing can fall silent: one with no official
            // publication at all (just added, or its portal never reached) is listed by the
            // silent-missions report and the source-health rule, not alerted every cycle.
            let Some(last) = self
                .last_official(&mission.id)
                .await?
                .filter(|t| *t < cutoff)
            else {
                continue;
            };
            let name = mission.display_name();
            let days_silent = (self.now - last).num_days();
            let last_text = last.format("%Y-%m-%d %H:%M UTC");
            let text_id = format!(
                "{name} ({}) tidak mempublikasikan berita resmi selama {days_silent} hari. Publikasi terakhir {last_text}.",
                mission.country
            );
            let text_en = format!(
                "{name} ({}) has published nothing official for {days_silent} days. Last publication {last_text}.",
                mission.country
            );
            out.insert(
                format!("mission:{}", mission.id),
                Finding {
                    subject: AlertSubject {
                        subject: format!("mission:{}", mission.id),
                        link: dashboard_link(self.dashboard_url, "mission", &mission.id),
                        text_id,
                        text_en,
                        facts: json!({
                            "mission": mission.id,
                            "country_code": mission.country_code,
                            "last_official_published_at": last,
                            "days_silent": days_silent,
                            "threshold_days": days,
                        }),
                    },
                    group: Some(region_of(&mission.country_code).to_owned()),
                },
            );
        }
        Ok(out)
    }

    async fn unhealthy_sources(
        &mut self,
        cycles: u32,
    ) -> Result<BTreeMap<String, Finding>, AlertError> {
        let base = self.dashboard_url.to_owned();
        let registry = self.registry;
        let mut out = BTreeMap::new();
        for h in self.source_health().await? {
            if h.consecutive_failures < cycles {
                continue;
            }
            let mission = registry.mission(&h.owner);
            let (owner_name, country_code) = match mission {
                Some(m) => (m.display_name(), m.country_code.as_str()),
                None => (h.owner.clone(), ""),
            };
            let error = h.last_error.clone().unwrap_or_else(|| "?".into());
            let since = h
                .unhealthy_since
                .map(|t| t.format(" %Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let subject = format!("source:{}/{}", h.owner, h.source);
            out.insert(
                subject.clone(),
                Finding {
                    subject: AlertSubject {
                        subject,
                        // The mission's page shows its sources' health; global and
                        // headquarters sources have none, so their link is the dashboard.
                        link: match mission {
                            Some(m) => dashboard_link(&base, "mission", &m.id),
                            None => format!("{}/", base.trim_end_matches('/')),
                        },
                        text_id: format!(
                            "Sumber {} milik {owner_name} gagal {} kali berturut-turut{}. Galat terakhir: {error}.",
                            h.source,
                            h.consecutive_failures,
                            if since.is_empty() { String::new() } else { format!(", bermasalah sejak{since}") }
                        ),
                        text_en: format!(
                            "Source {} of {owner_name} failed {} cycles in a row{}. Last error: {error}.",
                            h.source,
                            h.consecutive_failures,
                            if since.is_empty() { String::new() } else { format!(", unhealthy since{since}") }
                        ),
                        facts: json!({
                            "owner": h.owner,
                            "source": h.source,
                            "consecutive_failures": h.consecutive_failures,
                            "last_error": h.last_error,
                            "unhealthy_since": h.unhealthy_since,
                            "last_success_at": h.last_success_at,
                            "threshold_cycles": cycles,
                        }),
                    },
                    group: Some(if country_code.is_empty() {
                        "other".to_owned()
                    } else {
                        region_of(country_code).to_owned()
                    }),
                },
            );
        }
        Ok(out)
    }

    fn hq_unmatched(&self, r: UnmatchedRecord) -> (String, Finding) {
        let subject = format!("hq:{}", r.record_id);
        let mission = self.registry.mission(&r.mission);
        let name = mission.map_or(r.mission.clone(), |m| m.display_name());
        let date = r.date.format("%Y-%m-%d");
        (
            subject.clone(),
            Finding {
                subject: AlertSubject {
                    subject,
                    link: dashboard_link(self.dashboard_url, "mission", &r.mission),
                    text_id: format!(
                        "Catatan pusat \"{}\" ({name}, {date}) belum ada publikasinya.",
                        r.title
                    ),
                    text_en: format!(
                        "Headquarters record \"{}\" ({name}, {date}) has no matching publication.",
                        r.title
                    ),
                    facts: json!({"record_id": r.record_id, "mission": r.mission, "date": r.date, "title": r.title}),
                },
                group: Some(
                    mission
                        .map_or("other", |m| region_of(&m.country_code))
                        .to_owned(),
                ),
            },
        )
    }
}

/// Whether a country passes a rule's country and region filters.
fn in_place(country_code: &str, country: &Option<String>, region: &Option<String>) -> bool {
    country
        .as_ref()
        .is_none_or(|c| c.eq_ignore_ascii_case(country_code))
        && region.as_ref().is_none_or(|r| r == region_of(country_code))
}

/// How grave a crisis is, from the reasons its evidence counted: a red alert or a magnitude
/// of 7 or more is `severe`, any hazard signal over a threshold `warning`, a media surge alone
/// `watch`.
pub fn severity(crisis: &CrisisView) -> Severity {
    let mut level = Severity::Watch;
    for s in crisis.signals.iter().filter(|s| s.qualifies) {
        let reason = s.reason.to_ascii_lowercase();
        let magnitude = reason
            .split_whitespace()
            .find_map(|w| w.strip_prefix('m').and_then(|m| m.parse::<f64>().ok()));
        if reason.contains("alert red") || magnitude.is_some_and(|m| m >= 7.0) {
            return Severity::Severe;
        }
        if s.hazard_event_id.is_some() {
            level = Severity::Warning;
        }
    }
    level
}

/// A crisis kind in Indonesian and English.
pub fn kind_names(kind: CrisisKind) -> (&'static str, &'static str) {
    match kind {
        CrisisKind::Earthquake => ("gempa bumi", "earthquake"),
        CrisisKind::Tsunami => ("tsunami", "tsunami"),
        CrisisKind::Flood => ("banjir", "flood"),
        CrisisKind::Landslide => ("tanah longsor", "landslide"),
        CrisisKind::Cyclone => ("siklon", "cyclone"),
        CrisisKind::Volcano => ("erupsi gunung api", "volcanic eruption"),
        CrisisKind::Wildfire => ("kebakaran hutan", "wildfire"),
        CrisisKind::Heatwave => ("gelombang panas", "heatwave"),
        CrisisKind::Drought => ("kekeringan", "drought"),
        CrisisKind::War => ("perang", "war"),
        CrisisKind::Unrest => ("kerusuhan/unjuk rasa", "unrest"),
        CrisisKind::Coup => ("kudeta", "coup"),
        CrisisKind::Attack => ("serangan", "attack"),
        CrisisKind::Security => ("gangguan keamanan", "security incident"),
        CrisisKind::Accident => ("kecelakaan", "accident"),
        CrisisKind::Epidemic => ("wabah", "epidemic"),
        CrisisKind::Other => ("krisis", "crisis"),
    }
}

/// The country's name as the registry spells it, and its missions' names.
fn place(registry: &Registry, cc: &str) -> (String, Vec<String>) {
    let missions: Vec<_> = registry.missions_in_country(cc).collect();
    let country = missions
        .first()
        .map_or(cc.to_owned(), |m| m.country.clone());
    (country, missions.iter().map(|m| m.display_name()).collect())
}

fn crisis_opened(c: &CrisisView, registry: &Registry, base: &str) -> (String, Finding) {
    let (kind_id, kind_en) = kind_names(c.kind);
    let (country, missions) = place(registry, &c.country);
    let at = c.first_signal_at.format("%Y-%m-%d %H:%M UTC");
    let sev = severity(c);
    let subject = format!("crisis:{}", c.id);
    let missions_text = missions.join(", ");
    (
        subject.clone(),
        Finding {
            subject: AlertSubject {
                subject,
                link: dashboard_link(base, "crisis", &c.id),
                text_id: format!(
                    "{} di {country} sejak {at}. Dasar: {}. {} sinyal, {} respons perwakilan. Perwakilan: {missions_text}.",
                    capitalized(kind_id),
                    c.opened_by,
                    c.signal_count,
                    c.responses.len()
                ),
                text_en: format!(
                    "{} in {country} since {at}. Opened by: {}. {} signals, {} mission responses. Missions: {missions_text}.",
                    capitalized(kind_en),
                    c.opened_by,
                    c.signal_count,
                    c.responses.len()
                ),
                facts: json!({
                    "crisis_id": c.id,
                    "country_code": c.country,
                    "kind": c.kind,
                    "severity": sev,
                    "first_signal_at": c.first_signal_at,
                    "opened_by": c.opened_by,
                    "signals": c.signals.iter().map(|s| json!({"at": s.at, "source": s.source, "title": s.title, "reason": s.reason})).collect::<Vec<_>>(),
                    "responses": c.responses.len(),
                }),
            },
            group: None,
        },
    )
}

fn crisis_no_response(
    c: &CrisisView,
    registry: &Registry,
    base: &str,
    now: DateTime<Utc>,
) -> (String, Finding) {
    let (kind_id, kind_en) = kind_names(c.kind);
    let (country, missions) = place(registry, &c.country);
    let hours = (now - c.first_signal_at).num_hours();
    let at = c.first_signal_at.format("%Y-%m-%d %H:%M UTC");
    let subject = format!("crisis:{}", c.id);
    let missions_text = missions.join(", ");
    (
        subject.clone(),
        Finding {
            subject: AlertSubject {
                subject,
                link: dashboard_link(base, "crisis", &c.id),
                text_id: format!(
                    "Belum ada respons perwakilan atas krisis {kind_id} di {country} setelah {hours} jam (sejak {at}). Perwakilan: {missions_text}. Dasar: {}.",
                    c.opened_by
                ),
                text_en: format!(
                    "No mission response to the {kind_en} crisis in {country} after {hours} hours (since {at}). Missions: {missions_text}. Opened by: {}.",
                    c.opened_by
                ),
                facts: json!({
                    "crisis_id": c.id,
                    "country_code": c.country,
                    "kind": c.kind,
                    "first_signal_at": c.first_signal_at,
                    "hours_without_response": hours,
                    "missions": registry.missions_in_country(&c.country).map(|m| m.id.clone()).collect::<Vec<_>>(),
                }),
            },
            group: None,
        },
    )
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
