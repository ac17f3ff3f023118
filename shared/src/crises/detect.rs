//! Signals: what opens a crisis, what joins one.
//!
//! A signal is a hazard event (USGS, GDACS, BMKG, ReliefWeb) or a crisis-tagged item of media
//! or headquarters, in a country with a mission.
//!
//! **Invariant: a country's crises of one kind group are a function of the set of its signals
//! ([`crises_of`]), never of the order they arrived in nor of who wrote first.** Every signal
//! is recorded as its own entry (`CSIG#{cc}`, sort key `{at}#{item_id}`) whether or not a
//! crisis is open, and crises are decided from the entries' own times only:
//!
//! - a *chain* is a run of signals each less than a quiet period after the one before; a
//!   crisis never spans two chains (it closes in the gap between them);
//! - a chain makes a crisis when one of its signals *opens* one ([`opens_crisis`]): over a
//!   threshold by itself (a strong hazard event), or a media signal completing a surge (at
//!   least K media signals of the chain from at least S sources in the window ending at it);
//! - the crisis starts `merge_window` before the first such signal (the signals before it that
//!   close are taken along) and holds every later signal of the chain;
//! - its id comes from its country, group and earliest signal (`crs_…`).
//!
//! A late signal therefore lands where it would have landed on time: it joins, moves the
//! start earlier (the crisis then takes the id of its new earliest signal) or bridges two
//! chains (their crises merge into one under the canonical id, the other records deleted,
//! responses kept: a crisis's window only ever grows with more signals).
//!
//! Feeding a signal reads the group's head (`CRISIS_HEAD#{cc}#{group}`), then the entries of
//! its chain and the stored crises the head lists for it, and writes the entry, the crisis
//! of the chain, the deletion of the crises it replaces and the head in one transaction,
//! conditioned on the head's digest (an XOR of its entries' digests: the same for the same
//! entries in any order) and on each crisis's `rev` (a digest of its content). Two
//! reconcilers of one group thus never both decide from what they read: the second is
//! refused and decides again. Responses are linked after the write (`responses`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Crisis, CrisisConfig, CrisisKind, CrisisOutcome, CrisisThresholds, Evidence, MAX_ATTEMPTS,
    Response, crisis_record, get_crisis, lost_race, parse_crisis, responses, rev_is,
};
use crate::enrich::Enrichment;
use crate::model::{AlertLevel, HazardEvent, HazardKind, NormalizedItem, Role, SourceKind};
use crate::places::PlaceReason;
use crate::registry::Registry;
use crate::schema;
use crate::store::contention::{CRISIS_GROUP_TURNS, pause_after_lost_race};
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Condition, Item, Key, Query, Table, TableError, TransactOp};

/// One signal, ready to be matched with crises.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// ISO 3166-1 alpha-2 of a country with a mission.
    pub country: String,
    pub evidence: Evidence,
    /// The item's story, once grouped: official items in it may answer the crisis it joins
    /// (`responses::link_story`).
    pub story_id: Option<String>,
}

impl Signal {
    pub fn group(&self) -> &'static str {
        self.evidence.kind.group()
    }

    /// The signal an item is, if any: a hazard event in a country with a mission, or a
    /// crisis-tagged item that is not a mission's own publication.
    pub fn of_item(
        item_id: &str,
        item: &NormalizedItem,
        enrichment: &Enrichment,
        registry: &Registry,
        thresholds: &CrisisThresholds,
    ) -> Option<Signal> {
        if item.role == Role::Official {
            return None;
        }
        let has_mission = |cc: &str| {
            registry
                .missions
                .iter()
                .any(|m| m.country_code.eq_ignore_ascii_case(cc))
        };
        let source = format!("{}/{}", item.mission, item.source);
        if let Some(event) = &item.hazard {
            let country = event
                .countries
                .iter()
                .map(|c| c.code.to_uppercase())
                .find(|c| has_mission(c))?;
            let (qualifies, reason) = judge(item.kind, event, thresholds);
            return Some(Signal {
                country,
                evidence: Evidence {
                    item_id: item_id.to_owned(),
                    at: event.occurred_at,
                    source,
                    title: item.title.clone(),
                    kind: hazard_kind(event.kind),
                    qualifies,
                    reason,
                    hazard_event_id: Some(event.event_id.clone()),
                },
                story_id: None,
            });
        }
        if !enrichment.crisis {
            return None;
        }
        let (topic, kind) = enrichment
            .topics
            .iter()
            .find_map(|t| CrisisKind::of_topic(&t.id).map(|k| (t, k)))?;
        let country = signal_country(enrichment).filter(|cc| has_mission(cc))?;
        let mut terms: Vec<&str> = Vec::new();
        for m in &topic.matches {
            if !terms.contains(&m.matched.as_str()) && terms.len() < 5 {
                terms.push(&m.matched);
            }
        }
        Some(Signal {
            country,
            evidence: Evidence {
                item_id: item_id.to_owned(),
                at: item.published_at,
                source,
                title: item.title.clone(),
                kind,
                qualifies: false,
                reason: format!(
                    "{}: crisis terms {} ({})",
                    item.role,
                    terms.join(", "),
                    topic.id
                ),
                hazard_event_id: None,
            },
            story_id: None,
        })
    }
}

/// The country a non-hazard item reports on: its host country unless the text names only
/// other countries (a Japanese outlet on a Turkish earthquake), then the first one it names.
fn signal_country(enrichment: &Enrichment) -> Option<String> {
    let is_host = |p: &&crate::places::Place| {
        p.reasons
            .iter()
            .any(|r| matches!(r, PlaceReason::Host { .. }))
    };
    let host = enrichment.places.iter().find(is_host);
    let named: Vec<_> = enrichment
        .places
        .iter()
        .filter(|p| p.named_in_text())
        .collect();
    let place = match host {
        Some(h) if named.is_empty() || h.named_in_text() => h,
        _ => named.first().copied().or(host)?,
    };
    Some(place.country_code.to_uppercase())
}

fn hazard_kind(kind: HazardKind) -> CrisisKind {
    match kind {
        HazardKind::Earthquake => CrisisKind::Earthquake,
        HazardKind::Tsunami => CrisisKind::Tsunami,
        HazardKind::TropicalCyclone => CrisisKind::Cyclone,
        HazardKind::Flood => CrisisKind::Flood,
        HazardKind::Volcano => CrisisKind::Volcano,
        HazardKind::Drought => CrisisKind::Drought,
        HazardKind::Wildfire => CrisisKind::Wildfire,
        HazardKind::Other => CrisisKind::Other,
    }
}

fn alert_name(level: AlertLevel) -> &'static str {
    match level {
        AlertLevel::Green => "green",
        AlertLevel::Yellow => "yellow",
        AlertLevel::Orange => "orange",
        AlertLevel::Red => "red",
    }
}

/// Whether a hazard event crosses its feed's threshold, and why (or why not) in words.
pub fn judge(feed: SourceKind, event: &HazardEvent, th: &CrisisThresholds) -> (bool, String) {
    let magnitude = event.magnitude.filter(|m| m.is_finite());
    match feed {
        SourceKind::Usgs => {
            if let Some(m) = magnitude.filter(|m| *m >= th.usgs_magnitude) {
                return (true, format!("USGS M{m:.1} >= {:.1}", th.usgs_magnitude));
            }
            if let Some(a) = event.alert.filter(|a| *a >= th.usgs_alert) {
                return (
                    true,
                    format!(
                        "USGS alert {} >= {}",
                        alert_name(a),
                        alert_name(th.usgs_alert)
                    ),
                );
            }
            let m = magnitude.map_or("M?".to_owned(), |m| format!("M{m:.1}"));
            (
                false,
                format!("USGS {m} < {:.1}, supporting", th.usgs_magnitude),
            )
        }
        SourceKind::Gdacs => match event.alert {
            Some(a) if a >= th.gdacs_alert => (
                true,
                format!(
                    "GDACS alert {} >= {}",
                    alert_name(a),
                    alert_name(th.gdacs_alert)
                ),
            ),
            a => (
                false,
                format!(
                    "GDACS alert {} < {}, supporting",
                    a.map_or("none", alert_name),
                    alert_name(th.gdacs_alert)
                ),
            ),
        },
        SourceKind::Bmkg => {
            let felt = event
                .felt
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty());
            match magnitude {
                Some(m) if m >= th.bmkg_magnitude && (felt.is_some() || !th.bmkg_requires_felt) => {
                    let felt = felt.map_or(String::new(), |f| format!(", felt {f}"));
                    (
                        true,
                        format!("BMKG M{m:.1} >= {:.1}{felt}", th.bmkg_magnitude),
                    )
                }
                m => (
                    false,
                    format!(
                        "BMKG {} {}, supporting",
                        m.map_or("M?".to_owned(), |m| format!("M{m:.1}")),
                        if felt.is_none() { "not felt" } else { "felt" }
                    ),
                ),
            }
        }
        other => (false, format!("{other} report, supporting")),
    }
}

/// Attribute of head records: the version of the group's signal entries (see [`Head`]).
const DIGEST: &str = "digest";
/// Attribute of head records: the group's crises with their spans.
const CRISES: &str = "crises";
/// Attribute of signal entries: the kind group.
const GROUP: &str = "group";

/// At most this many signal entries are read around one signal: a chain that long would make
/// a crisis record beyond DynamoDB's item size anyway.
const MAX_CHAIN_SIGNALS: usize = 10_000;

/// Feeds one signal: records it and recomputes the crisis of its chain (see the module docs).
/// Idempotent; retried here while it loses races with other reconcilers of the same group.
pub async fn observe_signal(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    signal: &Signal,
) -> Result<CrisisOutcome, TableError> {
    // This process's reconcilers of one group take turns, so only other processes can
    // refuse the write below (see `store::contention`).
    let _turn = CRISIS_GROUP_TURNS
        .take(&schema::crisis_head_pk(&signal.country, signal.group()))
        .await;
    for attempt in 1..=MAX_ATTEMPTS {
        match try_observe(table, registry, config, signal).await {
            Err(e) if lost_race(&e) => pause_after_lost_race(attempt).await,
            other => return other,
        }
    }
    Err(TableError::Backend {
        op: "crisis",
        message: format!(
            "signal {} still contended after {MAX_ATTEMPTS} attempts",
            signal.evidence.item_id
        ),
        retryable: true,
    })
}

/// One crisis as its head lists it: what finds the crises of a chain without a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Span {
    id: String,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// The head of a country's kind group (`CRISIS_HEAD#{cc}#{group}` / `HEAD`): every change to
/// the group's signal entries and crises is one transaction that rewrites it, conditioned on
/// the version read, so two reconcilers of one group never both decide from what they read.
#[derive(Debug, Default)]
struct Head {
    exists: bool,
    /// XOR of the digests of the group's signal entries ([`entry_digest`]): it changes with
    /// every entry written and is the same for the same entries in any order, so the stored
    /// head depends on the signals only. None on a head from before it was kept.
    digest: Option<[u8; 16]>,
    /// The group's crises, by first signal. None on a head from before it was kept (then
    /// the crises of a chain are found by a query).
    crises: Option<Vec<Span>>,
}

impl Head {
    async fn read(table: &dyn Table, key: &Key) -> Result<Head, TableError> {
        let Some(record) = table.get(key).await? else {
            return Ok(Head::default());
        };
        let digest = record
            .get(DIGEST)
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok());
        let crises = record
            .get(CRISES)
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        Ok(Head {
            exists: true,
            digest,
            crises,
        })
    }

    /// The head as read is still there: nobody changed the group since.
    fn unchanged(&self) -> Condition {
        match (self.exists, self.digest) {
            (false, _) => Condition::Absent,
            (true, Some(digest)) => Condition::Equals {
                attr: DIGEST.into(),
                value: Value::String(hex::encode(digest)),
            },
            (true, None) => Condition::Present,
        }
    }

    fn record(key: &Key, digest: [u8; 16], crises: &[Span]) -> Result<Item, TableError> {
        let crises = serde_json::to_value(crises)
            .map_err(|e| TableError::Validation(format!("crisis head {}: {e}", key.pk)))?;
        let mut record = Item::new();
        record.insert(table::PK.into(), Value::String(key.pk.clone()));
        record.insert(table::SK.into(), Value::String(key.sk.clone()));
        record.insert(DIGEST.into(), Value::String(hex::encode(digest)));
        record.insert(CRISES.into(), crises);
        Ok(record)
    }
}

/// A signal entry's share of its head's digest.
fn entry_digest(group: &str, evidence: &Evidence) -> [u8; 16] {
    let json = serde_json::to_string(evidence).unwrap_or_default();
    let hash = Sha256::digest(format!("{group}\n{json}").as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&hash[..16]);
    out
}

fn xor_into(digest: &mut [u8; 16], other: [u8; 16]) {
    for (d, o) in digest.iter_mut().zip(other) {
        *d ^= o;
    }
}

/// `crisis` with every one of its signals, read from their entries when its record holds a
/// sample ([`Crisis::stored`]): the entries of its group in its span, one per item.
pub(crate) async fn with_all_signals(
    table: &dyn Table,
    mut crisis: Crisis,
) -> Result<Crisis, TableError> {
    if !crisis.is_sampled() {
        return Ok(crisis);
    }
    let (first, last) = (crisis.first_signal_at, crisis.last_signal_at);
    let mut entries = Entries::new();
    read_entries(
        table,
        &crisis.country,
        &crisis.group,
        first,
        last,
        &mut entries,
    )
    .await?;
    let mut signals = one_per_item(entries.values());
    signals.retain(|e| first <= e.at && e.at <= last);
    // Should another reconciler have added a signal since the record was read, this is the
    // newer set, and a write conditioned on the record's `rev` is refused anyway.
    crisis.signal_count = signals.len();
    crisis.signals = signals;
    Ok(crisis)
}

/// A country's signal entries of one kind group, as read: sort key → evidence.
type Entries = BTreeMap<String, Evidence>;

async fn try_observe(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    signal: &Signal,
) -> Result<CrisisOutcome, TableError> {
    let ev = &signal.evidence;
    let (country, group) = (signal.country.as_str(), signal.group());
    let quiet = config.quiet_period.max(Duration::zero());
    let head_key = Key::new(
        schema::crisis_head_pk(country, group),
        schema::CRISIS_HEAD_SK,
    );
    // The head first: what is read after it is at least as new, and the write below is
    // refused if anyone changed the group in between.
    let head = Head::read(table, &head_key).await?;

    // The chain of signals holding this one, read until a quiet gap bounds it on each side.
    let (mut from, mut to) = (shifted(ev.at, -quiet * 2), shifted(ev.at, quiet * 2));
    let mut entries = Entries::new();
    read_entries(table, country, group, from, to, &mut entries).await?;
    let chain = loop {
        let signals = signals_with(&entries, ev);
        let index = signals
            .iter()
            .position(|s| s.item_id == ev.item_id)
            .unwrap_or(0);
        let range = chain_around(&signals, index, quiet);
        let (first, last) = (signals[range.start].at, signals[range.end - 1].at);
        if shifted(first, -quiet) < from {
            let earlier = shifted(first, -quiet * 4);
            read_entries(table, country, group, earlier, from, &mut entries).await?;
            from = earlier;
        } else if shifted(last, quiet) > to {
            let later = shifted(last, quiet * 4);
            read_entries(table, country, group, to, later, &mut entries).await?;
            to = later;
        } else {
            break signals[range].to_vec();
        }
    };
    let (chain_first, chain_last) = (chain[0].at, chain[chain.len() - 1].at);

    // The crises stored for this chain (those computed before from a part of it) and the
    // one it makes now.
    let old_ids: Vec<String> = match &head.crises {
        Some(spans) => spans
            .iter()
            .filter(|s| s.first <= chain_last && s.last >= chain_first)
            .map(|s| s.id.clone())
            .collect(),
        None if head.exists => {
            listed_crisis_ids(
                table,
                country,
                group,
                shifted(chain_first, -quiet),
                chain_last,
            )
            .await?
        }
        None => Vec::new(),
    };
    let mut old = BTreeMap::new();
    for id in &old_ids {
        if let Some(stored) = get_crisis(table, id).await? {
            old.insert(id.clone(), stored);
        }
    }
    let new = crisis_of_chain(country, group, &chain, config).map(|mut crisis| {
        // Responses stay: the crisis's window only ever grows (see the module docs).
        crisis.responses = merged_responses(old.values().map(|(c, _)| c));
        crisis.sort();
        crisis
    });

    // The writes: this signal's entry (in place of its item's older ones), the crisis, the
    // crises it replaces, the head.
    let mut ops = Vec::new();
    let mut digest = head.digest.unwrap_or_default();
    let signals_pk = schema::crisis_signals_pk(country);
    let entry_sk = schema::item_time_sk(ev.at, &ev.item_id);
    for (sk, stored) in entries.iter().filter(|(_, e)| e.item_id == ev.item_id) {
        if *sk == entry_sk && stored == ev {
            continue;
        }
        xor_into(&mut digest, entry_digest(group, stored));
        if *sk != entry_sk {
            ops.push(TransactOp::Delete {
                key: Key::new(signals_pk.clone(), sk.clone()),
                condition: Condition::None,
            });
        }
    }
    if entries.get(&entry_sk) != Some(ev) {
        xor_into(&mut digest, entry_digest(group, ev));
        ops.push(TransactOp::Put {
            item: signal_entry(signal)?,
            condition: Condition::None,
        });
    }
    let mut spans: Vec<Span> = head.crises.clone().unwrap_or_default();
    spans.retain(|s| !old_ids.contains(&s.id));
    if let Some(crisis) = &new {
        spans.push(Span {
            id: crisis.id.clone(),
            first: crisis.first_signal_at,
            last: crisis.last_signal_at,
        });
        match old.get(&crisis.id) {
            Some((stored, _)) if *stored == crisis.stored() => {}
            Some((_, rev)) => ops.push(TransactOp::Put {
                item: crisis_record(crisis)?,
                condition: rev_is(rev),
            }),
            None => ops.push(TransactOp::Put {
                item: crisis_record(crisis)?,
                condition: Condition::Absent,
            }),
        }
    }
    for (id, (_, rev)) in &old {
        if new.as_ref().is_none_or(|c| &c.id != id) {
            ops.push(TransactOp::Delete {
                key: Key::new(schema::crisis_pk(id), schema::META),
                condition: rev_is(rev),
            });
        }
    }
    spans.sort_by(|a, b| (a.first, &a.id).cmp(&(b.first, &b.id)));
    let is_member = new
        .as_ref()
        .is_some_and(|c| c.signals.iter().any(|s| s.item_id == ev.item_id));

    if ops.is_empty() && head.crises.as_ref() == Some(&spans) && head.digest.is_some() {
        // Nothing new: this signal was fed before (and then something failed, or it came
        // twice). Its crisis's links are redone, which is idempotent.
        let linked = match &new {
            Some(crisis) if is_member => {
                responses::backlink(table, registry, config, &crisis.id).await?
            }
            _ => 0,
        };
        return Ok(CrisisOutcome {
            opened: 0,
            responses_linked: linked,
        });
    }
    ops.push(TransactOp::Put {
        item: Head::record(&head_key, digest, &spans)?,
        condition: head.unchanged(),
    });
    table.transact_write(ops).await?;

    let Some(crisis) = &new else {
        return Ok(CrisisOutcome::default());
    };
    if old.is_empty() {
        tracing::info!(crisis = %crisis.id, country = %crisis.country, kind = crisis.kind.as_str(), reason = %crisis.opened_by, "crisis opened");
    }
    // After the write, so an official item reconciled meanwhile is seen here or sees the crisis.
    // A signal of the chain belonged to a stored crisis exactly when it falls in that crisis's
    // span (a crisis holds every signal of its chain from its first on); the spans answer it
    // where a long crisis's record holds only a sample of its signals.
    let was_member = |s: &Evidence| {
        old.values()
            .any(|(c, _)| c.first_signal_at <= s.at && s.at <= c.last_signal_at)
    };
    let others_joined = crisis
        .signals
        .iter()
        .any(|s| s.item_id != ev.item_id && !was_member(s));
    let linked = match old.get(&crisis.id) {
        Some((stored, _)) if !others_joined && stored.first_signal_at <= crisis.first_signal_at => {
            // The same crisis, this signal more: the official items its longer window takes
            // in at the end, and those of this signal's story.
            let mut linked = 0;
            if crisis.last_signal_at > stored.last_signal_at {
                let since = shifted(stored.last_signal_at, config.quiet_period);
                linked +=
                    responses::backlink_since(table, registry, config, &crisis.id, since).await?;
            }
            if let (true, Some(story)) = (is_member, &signal.story_id) {
                linked += responses::link_story(table, registry, config, &crisis.id, story).await?;
            }
            linked
        }
        // A new crisis (or renamed: it starts earlier, or merged two), or other signals came
        // along: every official item of its window.
        _ => responses::backlink(table, registry, config, &crisis.id).await?,
    };
    Ok(CrisisOutcome {
        opened: usize::from(old.is_empty()),
        responses_linked: linked,
    })
}

/// `t + d`, saturating at the ends of time: signal times are whatever a feed stated.
fn shifted(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// The responses of the crises a new one replaces, one per item.
fn merged_responses<'a>(crises: impl Iterator<Item = &'a Crisis>) -> Vec<Response> {
    let mut by_item: BTreeMap<&str, &Response> = BTreeMap::new();
    for response in crises.flat_map(|c| &c.responses) {
        let kept = by_item.entry(&response.item_id).or_insert(response);
        // The same item answering two merged crises: the smaller reason, whichever came first.
        if response.matched_by < kept.matched_by {
            *kept = response;
        }
    }
    by_item.into_values().cloned().collect()
}

/// The entry recording a signal: `CSIG#{cc}` / `{at}#{item_id}`, its evidence and group.
fn signal_entry(signal: &Signal) -> Result<Item, TableError> {
    let ev = &signal.evidence;
    let Ok(Value::Object(mut record)) = serde_json::to_value(ev) else {
        return Err(TableError::Validation(format!(
            "signal {} does not serialize",
            ev.item_id
        )));
    };
    record.insert(
        table::PK.into(),
        Value::String(schema::crisis_signals_pk(&signal.country)),
    );
    record.insert(
        table::SK.into(),
        Value::String(schema::item_time_sk(ev.at, &ev.item_id)),
    );
    record.insert(GROUP.into(), Value::String(signal.group().into()));
    Ok(record)
}

/// A country's signal entries of `group` between two times, added to `entries`.
async fn read_entries(
    table: &dyn Table,
    country: &str,
    group: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    entries: &mut Entries,
) -> Result<(), TableError> {
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(Index::Primary, schema::crisis_signals_pk(country))
                    .range(SortKeyRange::Between(
                        schema::sortable_time(from),
                        format!("{}~", schema::sortable_time(to)),
                    ))
                    .after(cursor),
            )
            .await?;
        for record in &page.items {
            let sk = record.get(table::SK).and_then(Value::as_str);
            let Some(sk) = sk.filter(|_| record.get(GROUP).and_then(Value::as_str) == Some(group))
            else {
                continue;
            };
            match serde_json::from_value::<Evidence>(Value::Object(record.clone())) {
                Ok(e) => {
                    entries.insert(sk.to_owned(), e);
                }
                Err(e) => tracing::warn!(error = %e, sk, "unreadable crisis signal entry; skipped"),
            }
        }
        if entries.len() > MAX_CHAIN_SIGNALS {
            return Err(TableError::Validation(format!(
                "crisis signals of {country}/{group}: more than {MAX_CHAIN_SIGNALS} in one chain"
            )));
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
        }
    }
}

/// The ids of a country's crises of `group` with a first signal between two times, from the
/// country's crisis index: for a head written before it listed its crises.
async fn listed_crisis_ids(
    table: &dyn Table,
    country: &str,
    group: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<String>, TableError> {
    let page = table
        .query(
            Query::partition(Index::Gsi1, schema::country_crises_pk(country))
                .range(SortKeyRange::Between(
                    schema::sortable_time(from),
                    format!("{}~", schema::sortable_time(to)),
                ))
                .limit(100),
        )
        .await?;
    let mut ids = Vec::new();
    for record in &page.items {
        let (crisis, _) = parse_crisis(record)?;
        if crisis.group == group {
            ids.push(crisis.id);
        }
    }
    Ok(ids)
}

/// The group's signals as a set, oldest first: the entries read with `signal` in place of
/// its item's (older versions), one per item (the latest, should two versions be stored).
fn signals_with(entries: &Entries, signal: &Evidence) -> Vec<Evidence> {
    let others = entries.values().filter(|e| e.item_id != signal.item_id);
    one_per_item(others.chain([signal]))
}

/// `signals` oldest first, one per item: the latest, should two versions be stored.
fn one_per_item<'a>(signals: impl Iterator<Item = &'a Evidence>) -> Vec<Evidence> {
    let mut latest: BTreeMap<&str, &Evidence> = BTreeMap::new();
    for e in signals {
        let kept = latest.entry(&e.item_id).or_insert(e);
        if e.at > kept.at {
            *kept = e;
        }
    }
    let mut signals: Vec<Evidence> = latest.into_values().cloned().collect();
    sort_signals(&mut signals);
    signals
}

fn sort_signals(signals: &mut [Evidence]) {
    signals.sort_by(|a, b| (a.at, &a.item_id).cmp(&(b.at, &b.item_id)));
}

/// The chain of `signals` (oldest first) holding the one at `index`: the run of signals each
/// less than `quiet` after the one before. A crisis never spans two chains: it closes in the
/// gap between them.
pub fn chain_around(signals: &[Evidence], index: usize, quiet: Duration) -> Range<usize> {
    if index >= signals.len() {
        return index..index;
    }
    let mut start = index;
    while start > 0 && signals[start].at - signals[start - 1].at < quiet {
        start -= 1;
    }
    let mut end = index + 1;
    while end < signals.len() && signals[end].at - signals[end - 1].at < quiet {
        end += 1;
    }
    start..end
}

/// The crises a set of signals of one country and kind group makes, in any order given:
/// one per chain ([`chain_around`]) that has a signal opening a crisis.
pub fn crises_of(
    country: &str,
    group: &str,
    signals: &[Evidence],
    config: &CrisisConfig,
) -> Vec<Crisis> {
    // One signal per item: the latest, as where the signals are stored.
    let mut latest: BTreeMap<&str, &Evidence> = BTreeMap::new();
    for s in signals {
        let kept = latest.entry(&s.item_id).or_insert(s);
        if (s.at, &s.reason) > (kept.at, &kept.reason) {
            *kept = s;
        }
    }
    let mut sorted: Vec<Evidence> = latest.into_values().cloned().collect();
    sort_signals(&mut sorted);
    let quiet = config.quiet_period.max(Duration::zero());
    let mut crises = Vec::new();
    let mut start = 0;
    while start < sorted.len() {
        let chain = chain_around(&sorted, start, quiet);
        crises.extend(crisis_of_chain(
            country,
            group,
            &sorted[chain.clone()],
            config,
        ));
        start = chain.end.max(start + 1);
    }
    crises
}

/// The crisis a chain of signals (oldest first) makes, if any: it opens at the chain's first
/// signal that opens a crisis ([`opens_crisis`]), takes along the signals up to
/// `merge_window` before that one, and holds every later signal of the chain. Its id comes
/// from its country, group and earliest signal; responses are not part of it.
pub fn crisis_of_chain(
    country: &str,
    group: &str,
    chain: &[Evidence],
    config: &CrisisConfig,
) -> Option<Crisis> {
    let trigger = (0..chain.len()).find(|i| opens_crisis(chain, *i, &config.thresholds))?;
    let start = shifted(chain[trigger].at, -config.merge_window);
    let signals: Vec<Evidence> = chain.iter().filter(|s| s.at >= start).cloned().collect();
    let first = signals.first()?;
    let mut crisis = Crisis {
        id: String::new(),
        country: country.to_owned(),
        kind: first.kind,
        group: group.to_owned(),
        first_signal_at: first.at,
        last_signal_at: first.at,
        opened_by: String::new(),
        signals,
        signal_count: 0,
        hazard_events: vec![],
        responses: vec![],
    };
    refresh(&mut crisis, &config.thresholds);
    let earliest = crisis.signals.first()?;
    crisis.id = crisis_id(country, group, &earliest.item_id);
    Some(crisis)
}

/// Whether the signal at `index` of a chain (oldest first) opens a crisis: over a threshold by
/// itself, or a media signal completing a surge with the chain's media signals in the window
/// that ends at it (at least K items from at least S sources).
pub fn opens_crisis(chain: &[Evidence], index: usize, th: &CrisisThresholds) -> bool {
    let Some(signal) = chain.get(index) else {
        return false;
    };
    if signal.qualifies {
        return true;
    }
    if signal.hazard_event_id.is_some() {
        return false;
    }
    let window_start = shifted(signal.at, -th.surge_window);
    let media: Vec<&Evidence> = chain[..=index]
        .iter()
        .rev()
        .take_while(|e| e.at >= window_start)
        .filter(|e| e.hazard_event_id.is_none())
        .collect();
    let sources: BTreeSet<&str> = media.iter().map(|e| e.source.as_str()).collect();
    media.len() >= th.surge_items && sources.len() >= th.surge_sources
}

/// Whether the media signals around `at` make a surge that includes `at`: at least K items
/// from at least S sources within one window. Returns (items, sources) of the first such window.
pub fn surge(
    signals: &[Evidence],
    at: DateTime<Utc>,
    th: &CrisisThresholds,
) -> Option<(usize, usize)> {
    let mut media: Vec<&Evidence> = signals
        .iter()
        .filter(|e| e.hazard_event_id.is_none())
        .collect();
    media.sort_by(|a, b| (a.at, &a.item_id).cmp(&(b.at, &b.item_id)));
    for (i, start) in media.iter().enumerate() {
        let end = shifted(start.at, th.surge_window);
        if start.at > at || end < at {
            continue;
        }
        let inside: Vec<&&Evidence> = media[i..].iter().take_while(|e| e.at <= end).collect();
        let sources: BTreeSet<&str> = inside.iter().map(|e| e.source.as_str()).collect();
        if inside.len() >= th.surge_items && sources.len() >= th.surge_sources {
            return Some((inside.len(), sources.len()));
        }
    }
    None
}

/// Times, events, kind and reason follow from the evidence alone, so every delivery order
/// that gathers the same signals gives the same crisis: first and last signal, the earliest
/// signal over a threshold (else the surge's first window) as what opened it.
fn refresh(crisis: &mut Crisis, th: &CrisisThresholds) {
    crisis.sort();
    crisis.signals.dedup_by(|a, b| a.item_id == b.item_id);
    crisis.signal_count = crisis.signals.len();
    if let (Some(first), Some(last)) = (crisis.signals.first(), crisis.signals.last()) {
        crisis.first_signal_at = first.at;
        crisis.last_signal_at = crisis.signals.iter().map(|s| s.at).max().unwrap_or(last.at);
    }
    crisis.hazard_events = crisis
        .signals
        .iter()
        .filter_map(|s| s.hazard_event_id.clone())
        .collect();
    crisis.sort();
    if let Some(first) = crisis.signals.iter().find(|s| s.qualifies) {
        crisis.opened_by = first.reason.clone();
        crisis.kind = first.kind;
        return;
    }
    crisis.kind = most_common_kind(&crisis.signals);
    let mut media: Vec<&Evidence> = crisis
        .signals
        .iter()
        .filter(|e| e.hazard_event_id.is_none())
        .collect();
    media.sort_by(|a, b| (a.at, &a.item_id).cmp(&(b.at, &b.item_id)));
    for (i, start) in media.iter().enumerate() {
        let end = shifted(start.at, th.surge_window);
        let inside: Vec<&&Evidence> = media[i..].iter().take_while(|e| e.at <= end).collect();
        let sources: BTreeSet<&str> = inside.iter().map(|e| e.source.as_str()).collect();
        if inside.len() >= th.surge_items && sources.len() >= th.surge_sources {
            crisis.opened_by = format!(
                "media surge: {} crisis items from {} sources within {} h (>= {} from >= {})",
                inside.len(),
                sources.len(),
                th.surge_window.num_hours(),
                th.surge_items,
                th.surge_sources
            );
            return;
        }
    }
}

/// The kind most signals report; ties go to the kind reported first. One pass: a long crisis
/// has thousands of signals, and this runs on each of them.
fn most_common_kind(signals: &[Evidence]) -> CrisisKind {
    // (kind, count) in the order the kinds first appear.
    let mut counts: Vec<(CrisisKind, usize)> = Vec::new();
    for s in signals {
        match counts.iter_mut().find(|(kind, _)| *kind == s.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.kind, 1)),
        }
    }
    let mut best = (CrisisKind::Other, 0);
    for (kind, n) in counts {
        if n > best.1 {
            best = (kind, n);
        }
    }
    best.0
}

/// A crisis's id: from its country, group and the item of the signal that opened it.
fn crisis_id(country: &str, group: &str, item_id: &str) -> String {
    let digest = Sha256::digest(format!("{country}|{group}|{item_id}").as_bytes());
    format!("crs_{}", &hex::encode(digest)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CountryBasis, HazardCountry};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn event(magnitude: Option<f64>, alert: Option<AlertLevel>, felt: Option<&str>) -> HazardEvent {
        HazardEvent {
            event_id: "e1".into(),
            episode_id: None,
            kind: HazardKind::Earthquake,
            magnitude,
            magnitude_type: None,
            alert,
            severity: None,
            occurred_at: at("2025-02-06T01:17:00Z"),
            occurred_raw: None,
            updated_at: None,
            ended_at: None,
            latitude: None,
            longitude: None,
            depth_km: None,
            place: None,
            countries: vec![HazardCountry {
                code: "TR".into(),
                basis: CountryBasis::Coordinates,
            }],
            link: None,
            felt_reports: None,
            felt: felt.map(str::to_owned),
            tsunami: None,
            mission: "global".into(),
            source: "usgs".into(),
            fetched_at: at("2025-02-06T01:30:00Z"),
            raw_key: "raw/x".into(),
        }
    }

    #[test]
    fn thresholds_decide_per_feed_and_say_why() {
        let th = CrisisThresholds::default();
        let j = |feed, e: &HazardEvent| judge(feed, e, &th);
        assert_eq!(
            j(SourceKind::Usgs, &event(Some(6.8), None, None)),
            (true, "USGS M6.8 >= 6.0".into())
        );
        assert_eq!(
            j(
                SourceKind::Usgs,
                &event(Some(5.4), Some(AlertLevel::Orange), None)
            ),
            (true, "USGS alert orange >= orange".into())
        );
        assert!(
            !j(
                SourceKind::Usgs,
                &event(Some(5.9), Some(AlertLevel::Yellow), None)
            )
            .0
        );
        assert!(!j(SourceKind::Usgs, &event(Some(f64::NAN), None, None)).0);
        assert_eq!(
            j(SourceKind::Gdacs, &event(None, Some(AlertLevel::Red), None)),
            (true, "GDACS alert red >= orange".into())
        );
        assert!(
            !j(
                SourceKind::Gdacs,
                &event(Some(7.0), Some(AlertLevel::Green), None)
            )
            .0
        );
        assert_eq!(
            j(
                SourceKind::Bmkg,
                &event(Some(5.2), None, Some("III Padang"))
            ),
            (true, "BMKG M5.2 >= 5.0, felt III Padang".into())
        );
        assert!(!j(SourceKind::Bmkg, &event(Some(5.2), None, None)).0);
        assert!(!j(SourceKind::Bmkg, &event(Some(4.9), None, Some("II"))).0);
        assert!(
            !j(
                SourceKind::Reliefweb,
                &event(Some(7.5), Some(AlertLevel::Red), None)
            )
            .0
        );
    }

    fn media(id: &str, t: &str, source: &str) -> Evidence {
        Evidence {
            item_id: id.into(),
            at: at(t),
            source: source.into(),
            title: id.into(),
            kind: CrisisKind::Unrest,
            qualifies: false,
            reason: String::new(),
            hazard_event_id: None,
        }
    }

    /// The kind most signals report, ties to the kind reported first, as the per-signal
    /// count it replaced decided.
    #[test]
    fn the_most_common_kind_wins_and_ties_go_to_the_first_reported() {
        let of = |kinds: &[CrisisKind]| {
            let signals: Vec<Evidence> = kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| Evidence {
                    kind: *kind,
                    ..media(&format!("s{i}"), "2025-03-10T12:00:00Z", "x/a")
                })
                .collect();
            most_common_kind(&signals)
        };
        use CrisisKind::{Flood, Other, Unrest, War};
        assert_eq!(of(&[War, Flood, Flood]), Flood);
        assert_eq!(of(&[Flood, Unrest, Unrest, Flood, War]), Flood);
        assert_eq!(of(&[Unrest, Flood, Flood, Unrest]), Unrest);
        assert_eq!(of(&[]), Other);
        // Ten thousand signals, one pass.
        let many: Vec<CrisisKind> = (0..10_000)
            .map(|i| if i % 3 == 0 { War } else { Unrest })
            .collect();
        assert_eq!(of(&many), Unrest);
    }

    #[test]
    fn a_surge_needs_enough_items_from_enough_sources_in_one_window() {
        let th = CrisisThresholds::default();
        let one_source: Vec<_> = (0..6)
            .map(|i| media(&format!("a{i}"), &format!("2025-05-01T0{i}:00:00Z"), "x/a"))
            .collect();
        assert_eq!(surge(&one_source, at("2025-05-01T05:00:00Z"), &th), None);
        let mut two = one_source[..3].to_vec();
        two.push(media("b", "2025-05-01T10:00:00Z", "x/b"));
        assert_eq!(surge(&two, at("2025-05-01T10:00:00Z"), &th), Some((4, 2)));
        // Spread over more than a window: no surge.
        let mut spread = one_source[..3].to_vec();
        spread.push(media("c", "2025-05-02T03:00:00Z", "x/b"));
        assert_eq!(surge(&spread, at("2025-05-02T03:00:00Z"), &th), None);
    }

    fn quake(id: &str, t: DateTime<Utc>, qualifies: bool) -> Evidence {
        Evidence {
            item_id: id.into(),
            at: t,
            source: "global/usgs".into(),
            title: id.into(),
            kind: CrisisKind::Earthquake,
            qualifies,
            reason: format!("{id} reason"),
            hazard_event_id: Some(format!("ev-{id}")),
        }
    }

    fn ids(crisis: &Crisis) -> Vec<&str> {
        crisis.signals.iter().map(|s| s.item_id.as_str()).collect()
    }

    #[test]
    fn a_chain_opens_at_its_first_trigger_and_takes_along_the_merge_window_before_it() {
        let config = CrisisConfig::default();
        let t = at("2025-03-10T12:00:00Z");
        let h = Duration::hours;
        let signals = vec![
            // In the chain, but more than the merge window before the quake: left out.
            media("a", "2025-03-09T06:00:00Z", "x/a"),
            // Within the merge window before it: taken along, and the crisis's earliest.
            media("b", "2025-03-10T02:00:00Z", "x/a"),
            quake("q", t, true),
            media("c", &(t + h(50)).to_rfc3339(), "x/b"),
            // 80 h after the last: a chain of its own, which opens nothing.
            media("d", &(t + h(130)).to_rfc3339(), "x/b"),
        ];
        let crises = crises_of("TR", "seismic", &signals, &config);
        assert_eq!(crises.len(), 1);
        let c = &crises[0];
        assert_eq!(ids(c), ["b", "q", "c"]);
        assert_eq!(c.id, crisis_id("TR", "seismic", "b"));
        assert_eq!(
            (c.first_signal_at, c.last_signal_at),
            (signals[1].at, t + h(50))
        );
        assert_eq!(c.opened_by, "q reason");
        assert_eq!(c.hazard_events, ["ev-q"]);

        // Any order, and a duplicate: the same crisis.
        let mut shuffled: Vec<Evidence> = signals.iter().rev().cloned().collect();
        shuffled.push(signals[2].clone());
        assert_eq!(crises_of("TR", "seismic", &shuffled, &config), crises);

        // A supporting hazard event in the gap bridges the chains: still one crisis, now
        // holding d too.
        let mut bridged = signals.clone();
        bridged.push(quake("s", t + h(90), false));
        let one = crises_of("TR", "seismic", &bridged, &config);
        assert_eq!(one.len(), 1);
        assert_eq!(ids(&one[0]), ["b", "q", "c", "s", "d"]);
        assert_eq!(one[0].id, c.id);
    }

    #[test]
    fn a_media_chain_opens_at_the_signal_completing_a_surge() {
        let th = CrisisThresholds::default();
        let chain = vec![
            media("a", "2025-05-01T00:00:00Z", "x/a"),
            media("b", "2025-05-01T02:00:00Z", "x/a"),
            media("c", "2025-05-01T04:00:00Z", "x/a"),
            quake("h", at("2025-05-01T05:00:00Z"), false),
            media("d", "2025-05-01T06:00:00Z", "x/b"),
            media("e", "2025-05-03T00:00:00Z", "x/b"),
        ];
        let opening: Vec<bool> = (0..chain.len())
            .map(|i| opens_crisis(&chain, i, &th))
            .collect();
        // d is the fourth media signal within 24 h, from a second source; a supporting
        // hazard event counts for no surge; e has only d within its window.
        assert_eq!(opening, [false, false, false, false, true, false]);
        let crisis = crisis_of_chain("BD", "conflict", &chain, &CrisisConfig::default()).unwrap();
        assert_eq!(ids(&crisis), ["a", "b", "c", "h", "d", "e"]);
        assert_eq!(crisis.id, crisis_id("BD", "conflict", "a"));
        assert!(
            crisis
                .opened_by
                .starts_with("media surge: 4 crisis items from 2 sources")
        );
        assert_eq!(chain_around(&chain, 0, Duration::hours(40)), 0..5);
        assert_eq!(chain_around(&chain, 5, Duration::hours(40)), 5..6);
    }

    #[test]
    fn signals_at_the_ends_of_time_make_no_panic() {
        let config = CrisisConfig::default();
        let mut late = quake("late", DateTime::<Utc>::MAX_UTC, true);
        let early = media("early", "2025-01-01T00:00:00Z", "x/a");
        late.hazard_event_id = None;
        let mut first = media("first", "2025-01-01T00:00:00Z", "x/a");
        first.at = DateTime::<Utc>::MIN_UTC;
        let crises = crises_of("TR", "seismic", &[late, early, first], &config);
        assert_eq!(crises.len(), 1);
        assert_eq!(ids(&crises[0]), ["late"]);
    }
}
