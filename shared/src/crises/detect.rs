//! Signals: what opens a crisis, what joins one.
//!
//! A signal is a hazard event (USGS, GDACS, BMKG, ReliefWeb) or a crisis-tagged item of media
//! or headquarters, in a country with a mission. One signal:
//!
//! 1. is written to its country's signal entries (`CSIG#{cc}`), so later signals see it;
//! 2. joins the crisis its hazard event already belongs to (`CRISIS_EVENT#…`), or the latest
//!    crisis of its country and kind group (`CRISIS_HEAD#…`) when its time falls in that
//!    crisis's span (from `merge_window` before the first signal to a quiet period after the
//!    last), or an older crisis of the country whose span holds it (a late delivery);
//! 3. otherwise opens a crisis when it crosses a threshold alone (a strong hazard event) or
//!    completes a media surge (at least K items from at least 2 sources within the window);
//!    the new crisis takes along the country's signals of its group within the window.
//!
//! Every crisis write is conditioned on the crisis's `rev` and the head's `crisis_id`, so two
//! reconcilers never lose each other's signals nor open the same crisis twice.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Crisis, CrisisConfig, CrisisKind, CrisisOutcome, CrisisThresholds, Evidence, MAX_ATTEMPTS,
    crisis_record, get_crisis, lost_race, parse_crisis, responses,
};
use crate::enrich::Enrichment;
use crate::model::{AlertLevel, HazardEvent, HazardKind, NormalizedItem, Role, SourceKind};
use crate::places::PlaceReason;
use crate::registry::Registry;
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Condition, Item, Key, Query, Table, TableError, TransactOp};

/// Attribute of head and event records: the crisis they point to.
const CRISIS_ID: &str = "crisis_id";
/// Attribute of signal entries: the kind group.
const GROUP: &str = "group";

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

    fn is_hazard(&self) -> bool {
        self.evidence.hazard_event_id.is_some()
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

/// Feeds one signal: records it, then joins or opens a crisis.
pub async fn observe_signal(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    signal: &Signal,
) -> Result<CrisisOutcome, TableError> {
    // The entry first: of two concurrent signals of one surge, the later check sees both.
    table.put(signal_entry(signal)?, Condition::None).await?;
    for attempt in 1..=MAX_ATTEMPTS {
        match try_observe(table, registry, config, signal).await {
            Err(e) if lost_race(&e) => {
                let pause = fastrand::u64(5..20) * u64::from(attempt);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
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

/// The latest crisis of the signal's country and group, as the head record names it.
struct Head {
    crisis_id: String,
    first_signal_at: DateTime<Utc>,
}

enum Found {
    Crisis(Crisis, u64),
    None(Option<Head>),
}

async fn try_observe(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    signal: &Signal,
) -> Result<CrisisOutcome, TableError> {
    let ev = &signal.evidence;
    let head = match find_crisis(table, config, signal).await? {
        Found::Crisis(mut crisis, rev) => {
            if crisis.signals.iter().any(|s| s.item_id == ev.item_id) {
                return Ok(CrisisOutcome::default());
            }
            let earlier = ev.at < crisis.first_signal_at;
            let new_event = ev
                .hazard_event_id
                .as_ref()
                .filter(|id| !crisis.hazard_events.contains(id));
            let mut ops = Vec::with_capacity(2);
            if let Some(event_id) = new_event {
                ops.push(event_put(event_id, &crisis.id));
            }
            crisis.signals.push(ev.clone());
            refresh(&mut crisis, &config.thresholds);
            ops.push(TransactOp::Put {
                item: crisis_record(&crisis, rev + 1)?,
                condition: rev_is(rev),
            });
            table.transact_write(ops).await?;
            // An earlier first signal widens the window: read it all again. Otherwise only
            // the official items of this signal's story may answer the crisis anew.
            let linked = if earlier {
                responses::backlink(table, registry, config, &crisis.id).await?
            } else if let Some(story) = &signal.story_id {
                responses::link_story(table, registry, config, &crisis.id, story).await?
            } else {
                0
            };
            return Ok(CrisisOutcome {
                opened: 0,
                responses_linked: linked,
            });
        }
        Found::None(head) => head,
    };

    // No crisis to join: does this signal open one?
    let window = config.thresholds.surge_window;
    let nearby: Vec<Evidence> =
        signals_near(table, &signal.country, ev.at - window, ev.at + window)
            .await?
            .into_iter()
            .filter(|(group, _)| group == signal.group())
            .map(|(_, e)| e)
            .collect();
    let opens = ev.qualifies
        || (!signal.is_hazard() && surge(&nearby, ev.at, &config.thresholds).is_some());
    if !opens {
        return Ok(CrisisOutcome::default());
    }

    let mut crisis = Crisis {
        id: crisis_id(&signal.country, signal.group(), &ev.item_id),
        country: signal.country.clone(),
        kind: ev.kind,
        group: signal.group().to_owned(),
        first_signal_at: ev.at,
        last_signal_at: ev.at,
        opened_by: ev.reason.clone(),
        signals: vec![ev.clone()],
        hazard_events: ev.hazard_event_id.iter().cloned().collect(),
        responses: vec![],
    };
    for other in nearby {
        if other.item_id != ev.item_id {
            crisis.signals.push(other);
        }
    }
    refresh(&mut crisis, &config.thresholds);
    let mut ops = vec![TransactOp::Put {
        item: crisis_record(&crisis, 1)?,
        condition: Condition::Absent,
    }];
    let head_key = Key::new(
        schema::crisis_head_pk(&crisis.country, &crisis.group),
        schema::CRISIS_HEAD_SK,
    );
    let head_condition = match &head {
        None => Some(Condition::Absent),
        Some(h) if h.first_signal_at <= crisis.first_signal_at => Some(Condition::Equals {
            attr: CRISIS_ID.into(),
            value: Value::String(h.crisis_id.clone()),
        }),
        // A late signal opened an older crisis: the head stays on the newer one.
        Some(_) => None,
    };
    if let Some(condition) = head_condition {
        let mut record = Item::new();
        record.insert(table::PK.into(), Value::String(head_key.pk));
        record.insert(table::SK.into(), Value::String(head_key.sk));
        record.insert(CRISIS_ID.into(), Value::String(crisis.id.clone()));
        ops.push(TransactOp::Put {
            item: record,
            condition,
        });
    }
    if let Some(event_id) = &ev.hazard_event_id {
        ops.push(event_put(event_id, &crisis.id));
    }
    table.transact_write(ops).await?;
    tracing::info!(crisis = %crisis.id, country = %crisis.country, kind = crisis.kind.as_str(), reason = %crisis.opened_by, "crisis opened");
    // After the write, so an official item reconciled meanwhile is seen here or sees the crisis.
    let linked = responses::backlink(table, registry, config, &crisis.id).await?;
    Ok(CrisisOutcome {
        opened: 1,
        responses_linked: linked,
    })
}

/// The crisis a signal joins, or the head it would replace.
async fn find_crisis(
    table: &dyn Table,
    config: &CrisisConfig,
    signal: &Signal,
) -> Result<Found, TableError> {
    let ev = &signal.evidence;
    if let Some(event_id) = &ev.hazard_event_id {
        let key = Key::new(schema::crisis_event_pk(event_id), schema::CRISIS_EVENT_SK);
        if let Some(id) = table.get(&key).await?.as_ref().and_then(crisis_id_of)
            && let Some((crisis, rev)) = get_crisis(table, &id).await?
        {
            return Ok(Found::Crisis(crisis, rev));
        }
    }
    let head_key = Key::new(
        schema::crisis_head_pk(&signal.country, signal.group()),
        schema::CRISIS_HEAD_SK,
    );
    let Some(head_id) = table.get(&head_key).await?.as_ref().and_then(crisis_id_of) else {
        return Ok(Found::None(None));
    };
    let Some((crisis, rev)) = get_crisis(table, &head_id).await? else {
        return Ok(Found::None(None));
    };
    if crisis.spans(config, ev.at) {
        return Ok(Found::Crisis(crisis, rev));
    }
    let head = Head {
        crisis_id: head_id,
        first_signal_at: crisis.first_signal_at,
    };
    if ev.at < crisis.first_signal_at {
        // A late delivery: an older crisis of the country may hold it.
        let page = table
            .query(
                Query::partition(Index::Gsi1, schema::country_crises_pk(&signal.country))
                    .range(SortKeyRange::Le(format!(
                        "{}~",
                        schema::sortable_time(ev.at + config.merge_window)
                    )))
                    .backward()
                    .limit(20),
            )
            .await?;
        for record in &page.items {
            let (older, rev) = parse_crisis(record)?;
            if older.group == signal.group() && older.spans(config, ev.at) {
                return Ok(Found::Crisis(older, rev));
            }
        }
    }
    Ok(Found::None(Some(head)))
}

fn crisis_id_of(record: &Item) -> Option<String> {
    record
        .get(CRISIS_ID)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn rev_is(rev: u64) -> Condition {
    Condition::Equals {
        attr: super::REV.into(),
        value: Value::String(rev.to_string()),
    }
}

fn event_put(event_id: &str, crisis_id: &str) -> TransactOp {
    let mut record = Item::new();
    let mut set = |k: &str, v: String| {
        record.insert(k.into(), Value::String(v));
    };
    set(table::PK, schema::crisis_event_pk(event_id));
    set(table::SK, schema::CRISIS_EVENT_SK.into());
    set(CRISIS_ID, crisis_id.into());
    TransactOp::Put {
        item: record,
        condition: Condition::Absent,
    }
}

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

/// A country's signal entries between two times, with their groups.
async fn signals_near(
    table: &dyn Table,
    country: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, Evidence)>, TableError> {
    let mut out = Vec::new();
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
            let group = record.get(GROUP).and_then(Value::as_str).unwrap_or("");
            match serde_json::from_value::<Evidence>(Value::Object(record.clone())) {
                Ok(e) => out.push((group.to_owned(), e)),
                Err(e) => tracing::warn!(error = %e, "unreadable crisis signal entry; skipped"),
            }
        }
        match page.cursor {
            Some(c) if out.len() < 5000 => cursor = Some(c),
            _ => return Ok(out),
        }
    }
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
        let end = start.at + th.surge_window;
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
        let end = start.at + th.surge_window;
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

/// The kind most signals report; ties go to the earliest.
fn most_common_kind(signals: &[Evidence]) -> CrisisKind {
    let mut best = (0, CrisisKind::Other);
    for s in signals {
        let n = signals.iter().filter(|o| o.kind == s.kind).count();
        if n > best.0 {
            best = (n, s.kind);
        }
    }
    best.1
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
}
