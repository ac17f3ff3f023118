//! Crises and what each mission did about them.
//!
//! A *crisis* is something happening in a country with a mission that headquarters must see at
//! once: a strong hazard event (`detect`: USGS, GDACS, BMKG over [`CrisisThresholds`]) or a
//! surge of crisis-tagged media items from several sources. Its *signals* (hazard events,
//! media items) are its evidence, each with why it counted. Official publications of the
//! missions accredited to the crisis country become its *responses* (`responses`), each with a
//! kind (advisory, hotline, evacuation, citizen data, statement, other) and a latency from the
//! crisis's first signal.
//!
//! Nothing is scanned: reconcile feeds each new or changed item to [`observe`]; what a crisis
//! is at a given moment (active or closed, flagged for no response) is computed when it is read
//! ([`CrisisView`]). Records and keys are in [`crate::schema`] (`CRISIS#…`, `CRISIS_HEAD#…`,
//! `CSIG#…`).
//!
//! **Home crises.** A crisis in Indonesia itself ([`HOME_COUNTRY`], e.g. a BMKG quake in Java)
//! is headquarters' own: it is kept and shown, marked `home`, but no mission answers it (the
//! only mission there, the permanent mission to ASEAN in Jakarta, is accredited to ASEAN, not
//! to Indonesia's emergencies): no response is linked to it and it is never flagged for
//! having none. Crises elsewhere are unaffected.
//!
//! Delivery order does not matter: a country's crises are a function of the set of its
//! signals, their ids included (named after their earliest signal), and of the official
//! items answering them; see `detect` for the invariant and how concurrent reconcilers keep
//! it.

pub mod detect;
pub mod responses;

#[cfg(test)]
mod scenarios;
#[cfg(any(test, feature = "testing"))]
pub mod timelines;

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::enrich::Enrichment;
use crate::model::{AlertLevel, NormalizedItem};
use crate::registry::Registry;
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Item, Key, Query, Table, TableError};

pub use detect::Signal;
pub use responses::{OfficialItem, ResponseKind};

/// Indonesia, where headquarters is: its crises are home crises (see the module docs).
pub const HOME_COUNTRY: &str = "ID";

/// When a hazard event or a media surge opens a crisis.
#[derive(Debug, Clone, PartialEq)]
pub struct CrisisThresholds {
    /// USGS: magnitude at least this, or a PAGER alert at least `usgs_alert`.
    pub usgs_magnitude: f64,
    pub usgs_alert: AlertLevel,
    /// GDACS: alert level at least this.
    pub gdacs_alert: AlertLevel,
    /// BMKG: magnitude at least this, and (when `bmkg_requires_felt`) felt somewhere.
    pub bmkg_magnitude: f64,
    pub bmkg_requires_felt: bool,
    /// Media surge: at least this many crisis-tagged items...
    pub surge_items: usize,
    /// ...from at least this many distinct sources...
    pub surge_sources: usize,
    /// ...within this long, in one country.
    pub surge_window: Duration,
}

impl Default for CrisisThresholds {
    fn default() -> Self {
        CrisisThresholds {
            usgs_magnitude: 6.0,
            usgs_alert: AlertLevel::Orange,
            gdacs_alert: AlertLevel::Orange,
            bmkg_magnitude: 5.0,
            bmkg_requires_felt: true,
            surge_items: 4,
            surge_sources: 2,
            surge_window: Duration::hours(24),
        }
    }
}

/// Everything about crises that can be tuned.
#[derive(Debug, Clone, PartialEq)]
pub struct CrisisConfig {
    pub thresholds: CrisisThresholds,
    /// A signal joins a crisis of its country and kind when it is at most this much older than
    /// the crisis's first signal (and not after the crisis closed).
    pub merge_window: Duration,
    /// A crisis closes when no signal came for this long after its last one.
    pub quiet_period: Duration,
    /// Official publications this much before the first signal still count as responses
    /// (clocks and stated times are not exact).
    pub response_tolerance: Duration,
    /// A crisis without any response this long after its first signal is flagged.
    pub no_response_after: Duration,
}

impl Default for CrisisConfig {
    fn default() -> Self {
        CrisisConfig {
            thresholds: CrisisThresholds::default(),
            merge_window: Duration::hours(24),
            quiet_period: Duration::hours(72),
            response_tolerance: Duration::hours(1),
            no_response_after: Duration::hours(24),
        }
    }
}

impl CrisisConfig {
    /// The defaults, with hours overridden by `PANTAU_CRISIS_QUIET_HOURS`,
    /// `PANTAU_CRISIS_NO_RESPONSE_HOURS`, `PANTAU_CRISIS_SURGE_ITEMS` and
    /// `PANTAU_CRISIS_SURGE_WINDOW_HOURS` when set to a number.
    pub fn from_env() -> CrisisConfig {
        let mut config = CrisisConfig::default();
        let number = |name: &str| std::env::var(name).ok()?.trim().parse::<i64>().ok();
        if let Some(h) = number("PANTAU_CRISIS_QUIET_HOURS") {
            config.quiet_period = Duration::hours(h);
        }
        if let Some(h) = number("PANTAU_CRISIS_NO_RESPONSE_HOURS") {
            config.no_response_after = Duration::hours(h);
        }
        if let Some(n) = number("PANTAU_CRISIS_SURGE_ITEMS").filter(|n| *n > 0) {
            config.thresholds.surge_items = n as usize;
        }
        if let Some(h) = number("PANTAU_CRISIS_SURGE_WINDOW_HOURS") {
            config.thresholds.surge_window = Duration::hours(h);
        }
        config
    }
}

/// The configuration reconcile and the read functions use: [`CrisisConfig::from_env`], once.
pub fn config() -> &'static CrisisConfig {
    static CONFIG: OnceLock<CrisisConfig> = OnceLock::new();
    CONFIG.get_or_init(CrisisConfig::from_env)
}

/// What happened, as precisely as the signals say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisKind {
    Earthquake,
    Tsunami,
    Flood,
    Landslide,
    Cyclone,
    Volcano,
    Wildfire,
    Heatwave,
    Drought,
    War,
    Unrest,
    Coup,
    Attack,
    Security,
    Accident,
    Epidemic,
    Other,
}

impl CrisisKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CrisisKind::Earthquake => "earthquake",
            CrisisKind::Tsunami => "tsunami",
            CrisisKind::Flood => "flood",
            CrisisKind::Landslide => "landslide",
            CrisisKind::Cyclone => "cyclone",
            CrisisKind::Volcano => "volcano",
            CrisisKind::Wildfire => "wildfire",
            CrisisKind::Heatwave => "heatwave",
            CrisisKind::Drought => "drought",
            CrisisKind::War => "war",
            CrisisKind::Unrest => "unrest",
            CrisisKind::Coup => "coup",
            CrisisKind::Attack => "attack",
            CrisisKind::Security => "security",
            CrisisKind::Accident => "accident",
            CrisisKind::Epidemic => "epidemic",
            CrisisKind::Other => "other",
        }
    }

    /// Kinds that are one crisis when they meet (an earthquake and its tsunami, a cyclone and
    /// its floods, a protest turning into a coup) share a group; signals merge within a group.
    pub fn group(self) -> &'static str {
        match self {
            CrisisKind::Earthquake | CrisisKind::Tsunami => "seismic",
            CrisisKind::Flood | CrisisKind::Landslide | CrisisKind::Cyclone => "hydro",
            CrisisKind::Volcano => "volcanic",
            CrisisKind::Wildfire | CrisisKind::Heatwave | CrisisKind::Drought => "climate",
            CrisisKind::War
            | CrisisKind::Unrest
            | CrisisKind::Coup
            | CrisisKind::Attack
            | CrisisKind::Security => "conflict",
            CrisisKind::Accident => "accident",
            CrisisKind::Epidemic => "epidemic",
            CrisisKind::Other => "other",
        }
    }

    /// The kind a crisis topic (`crate::topics`) describes; None for non-crisis topics.
    pub fn of_topic(topic_id: &str) -> Option<CrisisKind> {
        Some(match topic_id {
            "disaster.earthquake" => CrisisKind::Earthquake,
            "disaster.tsunami" => CrisisKind::Tsunami,
            "disaster.flood" => CrisisKind::Flood,
            "disaster.landslide" => CrisisKind::Landslide,
            "disaster.volcano" => CrisisKind::Volcano,
            "disaster.cyclone" => CrisisKind::Cyclone,
            "disaster.wildfire" => CrisisKind::Wildfire,
            "disaster.heatwave" => CrisisKind::Heatwave,
            "conflict.war" => CrisisKind::War,
            "conflict.protest" => CrisisKind::Unrest,
            "conflict.coup" => CrisisKind::Coup,
            "conflict.terror" => CrisisKind::Attack,
            "conflict.security" => CrisisKind::Security,
            "accident" => CrisisKind::Accident,
            "health.epidemic" => CrisisKind::Epidemic,
            id if crate::topics::is_crisis_tag(id) => CrisisKind::Other,
            _ => return None,
        })
    }
}

/// One signal a crisis counted, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub item_id: String,
    /// When it happened: the hazard event's time, or the item's publication time.
    pub at: DateTime<Utc>,
    /// `{mission}/{source}` of the item.
    pub source: String,
    pub title: String,
    pub kind: CrisisKind,
    /// Whether this signal alone crosses a threshold.
    pub qualifies: bool,
    /// Why it counted, e.g. `USGS M6.8 >= 6.0`, `media: crisis terms gempa (disaster.earthquake)`.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard_event_id: Option<String>,
}

/// An official publication linked to a crisis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub item_id: String,
    pub mission: String,
    pub published_at: DateTime<Utc>,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    pub kind: ResponseKind,
    /// The lexicon terms that decided the kind (`imbauan`, `hotline`), folded as matched.
    pub terms: Vec<String>,
    /// Why it belongs to this crisis: `topic:disaster.earthquake`, `terms`, `place:TR`.
    pub matched_by: Vec<String>,
}

/// A crisis as stored: one record (`CRISIS#{id}` / `META`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crisis {
    pub id: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub kind: CrisisKind,
    /// `CrisisKind::group` of `kind`: which signals merge.
    pub group: String,
    /// The earliest signal: the origin of every latency.
    pub first_signal_at: DateTime<Utc>,
    /// The latest signal: the crisis closes a quiet period after it.
    pub last_signal_at: DateTime<Utc>,
    /// Why it opened (the reason of the signal that opened it).
    pub opened_by: String,
    /// Evidence, oldest first: all of it in memory; as stored, all of it up to
    /// [`STORED_SIGNALS_AT_EACH_END`] twice, else a sample (see [`Crisis::stored`]).
    pub signals: Vec<Evidence>,
    /// How many signals the crisis holds (0 in records written before it was kept: then
    /// `signals` holds them all).
    #[serde(default)]
    pub signal_count: usize,
    /// Hazard event ids among the signals.
    #[serde(default)]
    pub hazard_events: Vec<String>,
    /// Responses, oldest first.
    #[serde(default)]
    pub responses: Vec<Response>,
}

/// A crisis record keeps every signal over a threshold and this many of the others at each
/// end of the crisis (the first ones, which opened it, and the latest); the rest stay in their
/// signal entries (`CSIG#…`), where [`crisis_detail`] and the response links read them. A long
/// crisis (a war reported daily) gathers thousands of signals, ~240 bytes each, and a DynamoDB
/// item holds at most 400 KB: whole, its record was refused past ~1,400 signals, and every
/// later signal was lost with it.
pub const STORED_SIGNALS_AT_EACH_END: usize = 100;

impl Crisis {
    /// How many signals the crisis holds, whether `signals` is all of them or a sample.
    pub fn signals_total(&self) -> usize {
        self.signal_count.max(self.signals.len())
    }

    /// Whether `signals` is a sample (a crisis record of a long crisis, see [`Crisis::stored`]).
    pub fn is_sampled(&self) -> bool {
        self.signals_total() > self.signals.len()
    }

    /// The crisis as its record holds it: the count of its signals, and the signals
    /// themselves up to [`STORED_SIGNALS_AT_EACH_END`] at each end plus every one over a
    /// threshold. A function of the set of signals (sorted), so every delivery order stores
    /// the same record, and the sample of a sample is itself.
    pub fn stored(&self) -> Crisis {
        let mut stored = self.clone();
        stored.signal_count = self.signals_total();
        let others = self.signals.iter().filter(|s| !s.qualifies).count();
        if others > 2 * STORED_SIGNALS_AT_EACH_END {
            let mut other_index = 0;
            stored.signals.retain(|s| {
                if s.qualifies {
                    return true;
                }
                other_index += 1;
                other_index <= STORED_SIGNALS_AT_EACH_END
                    || other_index > others - STORED_SIGNALS_AT_EACH_END
            });
        }
        stored
    }

    /// Whether this is a home crisis: in Indonesia, headquarters' own, answered by no mission.
    pub fn is_home(&self) -> bool {
        self.country.eq_ignore_ascii_case(HOME_COUNTRY)
    }

    /// Closed once a quiet period passed after the last signal, as seen at `now`.
    pub fn closed_at(&self, config: &CrisisConfig, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let end = self.last_signal_at + config.quiet_period;
        (end <= now).then_some(end)
    }

    /// Whether a signal at `at` belongs to this crisis's time span.
    pub fn spans(&self, config: &CrisisConfig, at: DateTime<Utc>) -> bool {
        at >= self.first_signal_at - config.merge_window
            && at < self.last_signal_at + config.quiet_period
    }

    pub(crate) fn sort(&mut self) {
        self.signals
            .sort_by(|a, b| (a.at, &a.item_id).cmp(&(b.at, &b.item_id)));
        self.responses
            .sort_by(|a, b| (a.published_at, &a.item_id).cmp(&(b.published_at, &b.item_id)));
        self.hazard_events.sort();
        self.hazard_events.dedup();
    }
}

/// Attribute of crisis records holding the optimistic lock: a digest of the crisis's content
/// ([`crisis_rev`]), not a counter, so the stored record is the same whatever number of writes
/// led to it (a write conditioned on it still fails when anyone changed the crisis meanwhile).
pub(crate) const REV: &str = "rev";

/// The revision of a crisis: the first 16 bytes of the SHA-256 of its JSON, in hex.
pub(crate) fn crisis_rev(crisis: &Crisis) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(crisis).unwrap_or_default();
    hex::encode(&Sha256::digest(json.as_bytes())[..16])
}

/// The condition "the crisis record is still at revision `rev`".
pub(crate) fn rev_is(rev: &str) -> crate::store::Condition {
    crate::store::Condition::Equals {
        attr: REV.into(),
        value: Value::String(rev.to_owned()),
    }
}

/// The stored record of a crisis ([`Crisis::stored`]), with its revision.
pub(crate) fn crisis_record(crisis: &Crisis) -> Result<Item, TableError> {
    let crisis = &crisis.stored();
    let Ok(Value::Object(mut record)) = serde_json::to_value(crisis) else {
        return Err(TableError::Validation(format!(
            "crisis {} does not serialize to an object",
            crisis.id
        )));
    };
    let mut set = |name: &str, value: String| {
        record.insert(name.into(), Value::String(value));
    };
    set(table::PK, schema::crisis_pk(&crisis.id));
    set(table::SK, schema::META.into());
    set(table::GSI1_PK, schema::country_crises_pk(&crisis.country));
    set(
        table::GSI1_SK,
        schema::item_time_sk(crisis.first_signal_at, &crisis.id),
    );
    set(table::GSI2_PK, schema::ALL_CRISES.into());
    set(
        table::GSI2_SK,
        schema::item_time_sk(crisis.last_signal_at, &crisis.id),
    );
    set(REV, crisis_rev(crisis));
    Ok(record)
}

/// A crisis record read back, with its revision (as stored: older records hold a counter).
pub(crate) fn parse_crisis(record: &Item) -> Result<(Crisis, String), TableError> {
    let rev = record
        .get(REV)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let crisis: Crisis = serde_json::from_value(Value::Object(record.clone())).map_err(|e| {
        TableError::Validation(format!(
            "unreadable crisis record {:?}: {e}",
            record.get(table::PK)
        ))
    })?;
    Ok((crisis, rev))
}

pub(crate) async fn get_crisis(
    table: &dyn Table,
    id: &str,
) -> Result<Option<(Crisis, String)>, TableError> {
    match table
        .get(&Key::new(schema::crisis_pk(id), schema::META))
        .await?
    {
        Some(record) => parse_crisis(&record).map(Some),
        None => Ok(None),
    }
}

/// What an item does for crises, decided without the table: most items do nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum CrisisInput {
    /// A hazard event or a crisis-tagged media item in a country with a mission.
    Signal(Signal),
    /// A mission's own publication that may answer a crisis.
    Official(OfficialItem),
}

impl CrisisInput {
    pub fn item_id(&self) -> &str {
        match self {
            CrisisInput::Signal(s) => &s.evidence.item_id,
            CrisisInput::Official(o) => &o.item_id,
        }
    }

    /// Whether feeding this input can link or open anything: every signal; an official item
    /// that may answer a crisis by its own topics or terms, or through its story.
    pub fn may_link(&self) -> bool {
        match self {
            CrisisInput::Signal(_) => true,
            CrisisInput::Official(o) => o.answers_by_itself() || o.story_id.is_some(),
        }
    }

    /// Sets the item's story (known once reconcile grouped it): responses match by story.
    pub fn set_story(&mut self, story_id: Option<String>) {
        match self {
            CrisisInput::Signal(s) => s.story_id = story_id,
            CrisisInput::Official(o) => o.story_id = story_id,
        }
    }

    /// What `item` (enriched, with id `item_id`) means for crises; None for most items.
    pub fn of(
        item_id: &str,
        item: &NormalizedItem,
        enrichment: &Enrichment,
        registry: &Registry,
        config: &CrisisConfig,
    ) -> Option<CrisisInput> {
        if let Some(official) = OfficialItem::of_item(item_id, item, enrichment, registry) {
            return Some(CrisisInput::Official(official));
        }
        Signal::of_item(item_id, item, enrichment, registry, &config.thresholds)
            .map(CrisisInput::Signal)
    }
}

/// What feeding one item did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrisisOutcome {
    pub opened: usize,
    pub responses_linked: usize,
}

/// Feeds one input to the crisis stage: a signal opens or joins a crisis (and links responses
/// already stored, by window or by its story), an official item joins the crises it answers.
/// Idempotent.
pub async fn observe(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    input: &CrisisInput,
) -> Result<CrisisOutcome, TableError> {
    match input {
        CrisisInput::Signal(signal) => {
            detect::observe_signal(table, registry, config, signal).await
        }
        CrisisInput::Official(item) => {
            let linked = responses::link_official(table, config, item).await?;
            Ok(CrisisOutcome {
                opened: 0,
                responses_linked: linked,
            })
        }
    }
}

/// Whether a crisis is going on at the moment it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisState {
    Active,
    Closed,
}

/// A response with its latency from the crisis's first signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseView {
    #[serde(flatten)]
    pub response: Response,
    /// Seconds from the first signal to the publication (negative within the tolerance).
    pub latency_seconds: i64,
}

/// A crisis as read at a moment: its record, its state, its flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrisisView {
    pub id: String,
    pub country: String,
    pub kind: CrisisKind,
    pub state: CrisisState,
    pub first_signal_at: DateTime<Utc>,
    pub last_signal_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub opened_by: String,
    /// A crisis in Indonesia itself ([`HOME_COUNTRY`]): headquarters' own, no mission expected
    /// to answer it.
    #[serde(default)]
    pub home: bool,
    /// No response `no_response_after` past the first signal; never for a home crisis.
    pub no_response: bool,
    /// Every signal on a crisis read alone ([`crisis_detail`]); on a list, a long crisis's
    /// sample (see [`Crisis::stored`]).
    pub signals: Vec<Evidence>,
    /// How many signals the crisis holds.
    pub signal_count: usize,
    pub hazard_events: Vec<String>,
    pub responses: Vec<ResponseView>,
}

impl CrisisView {
    pub fn of(crisis: Crisis, config: &CrisisConfig, now: DateTime<Utc>) -> CrisisView {
        let closed_at = crisis.closed_at(config, now);
        let first = crisis.first_signal_at;
        let home = crisis.is_home();
        let signal_count = crisis.signals_total();
        CrisisView {
            home,
            no_response: !home
                && crisis.responses.is_empty()
                && first + config.no_response_after <= now,
            state: if closed_at.is_some() {
                CrisisState::Closed
            } else {
                CrisisState::Active
            },
            closed_at,
            responses: crisis
                .responses
                .into_iter()
                .map(|r| ResponseView {
                    latency_seconds: (r.published_at - first).num_seconds(),
                    response: r,
                })
                .collect(),
            id: crisis.id,
            country: crisis.country,
            kind: crisis.kind,
            first_signal_at: first,
            last_signal_at: crisis.last_signal_at,
            opened_by: crisis.opened_by,
            signal_count,
            signals: crisis.signals,
            hazard_events: crisis.hazard_events,
        }
    }
}

/// Crises newest first: of one country, or of all; only the active ones when `active_only`.
/// Read as of now with [`config`].
pub async fn list_crises(
    table: &dyn Table,
    country: Option<&str>,
    active_only: bool,
    limit: usize,
) -> Result<Vec<CrisisView>, TableError> {
    list_crises_at(table, config(), country, active_only, limit, Utc::now()).await
}

/// [`list_crises`] as seen at `now` with `config`.
pub async fn list_crises_at(
    table: &dyn Table,
    config: &CrisisConfig,
    country: Option<&str>,
    active_only: bool,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<CrisisView>, TableError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let query = match country {
        // A country's crises by first signal.
        Some(cc) => Query::partition(Index::Gsi1, schema::country_crises_pk(&cc.to_uppercase())),
        // Every crisis by last signal: the active ones are exactly those whose last signal is
        // within a quiet period, one range on GSI2 (the crisis board).
        None => {
            let query = Query::partition(Index::Gsi2, schema::ALL_CRISES);
            if active_only {
                query.range(SortKeyRange::Gt(schema::sortable_time(
                    now - config.quiet_period,
                )))
            } else {
                query
            }
        }
    };
    let mut cursor = None;
    loop {
        let page = table
            .query(query.clone().backward().limit(limit.min(100)).after(cursor))
            .await?;
        for record in &page.items {
            let (crisis, _) = parse_crisis(record)?;
            let view = CrisisView::of(crisis, config, now);
            if active_only && view.state != CrisisState::Active {
                continue;
            }
            out.push(view);
            if out.len() == limit {
                return Ok(out);
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// One crisis with all its evidence, responses, latencies and flag, as of now.
pub async fn crisis_detail(table: &dyn Table, id: &str) -> Result<Option<CrisisView>, TableError> {
    crisis_detail_at(table, config(), id, Utc::now()).await
}

/// [`crisis_detail`] as seen at `now` with `config`.
pub async fn crisis_detail_at(
    table: &dyn Table,
    config: &CrisisConfig,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<CrisisView>, TableError> {
    let Some((crisis, _)) = get_crisis(table, id).await? else {
        return Ok(None);
    };
    let crisis = detect::with_all_signals(table, crisis).await?;
    Ok(Some(CrisisView::of(crisis, config, now)))
}

/// Whether a table error means "read again and decide again": someone else wrote first, or
/// the table asked to retry (throttling, a timeout, DynamoDB's `TransactionConflict` when a
/// plain write meets another reconciler's transaction). Retried here first: a redelivery
/// redoes the whole object (reconcile feeds an unchanged item again until its
/// `crises_fed` mark says its crisis evidence got here).
pub(crate) fn lost_race(e: &TableError) -> bool {
    matches!(
        e,
        TableError::ConditionFailed { .. } | TableError::TransactionCanceled { .. }
    ) || e.is_retryable()
}

/// How often a crisis write is re-decided after losing a race.
pub(crate) const MAX_ATTEMPTS: u32 = 10;
