//! Mission responses: official publications that answer a crisis, and what kind of answer.
//!
//! An official item of a mission answers a crisis of the mission's country when it was
//! published within the crisis (from `response_tolerance` before its first signal to a quiet
//! period after its last) and matches it: by topic (a crisis topic of the crisis's kind group),
//! or, when it names no other crisis, by response terms (an advisory, a hotline...) alone, or
//! else by story: it is in the same story (`crate::reconcile::story`) as an item that is
//! evidence of the crisis (a mission reporting its rescue team's arrival in words no lexicon
//! knows, in a story with the media report the crisis counted). The reason is `story:{id}`.
//! Its kind comes from an Indonesian and English lexicon: the title decides when it has a
//! response term, else the body; among several, the more specific kind wins (evacuation,
//! hotline, citizen data, advisory, statement). The matched terms are kept.
//!
//! A home crisis (in Indonesia, `super::HOME_COUNTRY`) takes no responses: no mission answers
//! for Indonesia.
//!
//! Linking happens from both sides, so delivery order does not matter: an official item looks
//! up its country's crises when it is reconciled, and a crisis, once opened, reads its
//! missions' official items since its first signal (minus the tolerance) from each mission's
//! official role index (`crate::reconcile::rollup`; from its time index, every role read,
//! until that index is complete). A response already linked is never written again.
//!
//! Story links, from both sides too, with key queries only: an official item reads its own
//! story's members (`STORY#{id}`, once, and only when a crisis in its window is not matched
//! otherwise) to find evidence among them; a signal joining a crisis reads its story's members
//! and gets the `CURRENT` of those of the crisis country's missions ([`link_story`]); a crisis
//! opening (or moving earlier) reads the stories of the official items it finds. What is not
//! linked: an official item and an evidence item that come to share a story only through a
//! merge made by a third item that is neither (nothing re-reads them then).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Crisis, CrisisConfig, CrisisKind, MAX_ATTEMPTS, Response, crisis_record, detect, get_crisis,
    lost_race, parse_crisis, rev_is,
};
use crate::enrich::Enrichment;
use crate::lexicon::{self, Lexicon};
use crate::model::{NormalizedItem, Role};
use crate::reconcile::{attr, rollup};
use crate::registry::Registry;
use crate::schema;
use crate::store::contention::pause_after_lost_race;
use crate::store::table::{Index, SortKeyRange};
use crate::store::{Item, Key, Query, Table, TableError};

/// What a mission did, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseKind {
    Evacuation,
    Hotline,
    /// Pendataan WNI: collecting citizens' whereabouts.
    CitizenData,
    /// Imbauan: a travel or safety advisory.
    Advisory,
    /// A statement, condolence or expression of solidarity.
    Statement,
    Other,
}

impl ResponseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseKind::Evacuation => "evacuation",
            ResponseKind::Hotline => "hotline",
            ResponseKind::CitizenData => "citizen_data",
            ResponseKind::Advisory => "advisory",
            ResponseKind::Statement => "statement",
            ResponseKind::Other => "other",
        }
    }
}

/// The response lexicon: `~` an Indonesian root with affixes, `*` a prefix (`crate::lexicon`).
#[rustfmt::skip]
const KIND_TERMS: &[(ResponseKind, &[&str])] = &[
    (ResponseKind::Evacuation, &[
        "evakuasi~", "pemulangan", "dipulangkan", "memulangkan", "repatriasi~",
        "evacuat*", "repatriat*",
    ]),
    (ResponseKind::Hotline, &[
        "hotline*", "nomor darurat", "nomor kontak darurat", "kontak darurat", "layanan darurat",
        "saluran darurat", "call center", "posko~",
        "helpline*", "emergency number*", "emergency contact*", "emergency line*",
    ]),
    (ResponseKind::CitizenData, &[
        "pendataan", "mendata", "didata", "lapor diri", "melaporkan diri", "data wni",
        "self report*", "registration of citizens", "data collection", "register with",
    ]),
    (ResponseKind::Advisory, &[
        "imbau~", "himbau~", "peringatan perjalanan", "waspada", "kewaspadaan", "berhati hati",
        "travel advisory", "advisory", "advise*", "urge*", "caution*", "vigilant",
    ]),
    (ResponseKind::Statement, &[
        "belasungkawa", "bela sungkawa", "dukacita", "duka cita", "berduka", "keprihatinan",
        "prihatin", "solidaritas", "pernyataan",
        "condolence*", "sympath*", "solidarity", "statement", "mourn*",
    ]),
];

fn lexicon() -> &'static Lexicon<ResponseKind> {
    static LEXICON: OnceLock<Lexicon<ResponseKind>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut lexicon = Lexicon::default();
        for (kind, terms) in KIND_TERMS {
            for term in *terms {
                lexicon.add(term, *kind);
            }
        }
        lexicon
    })
}

/// The kind of a publication and the terms that decided it (title first, each once).
pub fn classify(title: &str, body: &str) -> (ResponseKind, Vec<String>) {
    let title_hits = lexicon().find(&lexicon::words(title));
    let body_hits = lexicon().find(&lexicon::words(body));
    let deciding = if title_hits.is_empty() {
        &body_hits
    } else {
        &title_hits
    };
    let kind = deciding
        .iter()
        .map(|h| *h.key)
        .min()
        .unwrap_or(ResponseKind::Other);
    let mut terms: Vec<String> = Vec::new();
    for hit in deciding.iter().filter(|h| *h.key == kind) {
        if !terms.contains(&hit.matched) {
            terms.push(hit.matched.clone());
        }
    }
    (kind, terms)
}

/// A mission's official publication, as response matching needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficialItem {
    pub item_id: String,
    pub mission: String,
    /// The mission's country: the crises it can answer.
    pub country: String,
    pub published_at: DateTime<Utc>,
    pub title: String,
    pub url: Option<String>,
    /// Topic ids (`crate::topics`).
    pub topics: Vec<String>,
    pub kind: ResponseKind,
    pub terms: Vec<String>,
    /// The item's story, once grouped (`crate::reconcile::story`): it may answer a crisis
    /// through it.
    pub story_id: Option<String>,
}

/// Members of stories, as read for story matching: story id → member item ids.
pub type StoryMembers = BTreeMap<String, BTreeSet<String>>;

/// At most this many members of one story are read for story matching.
pub const MAX_STORY_MEMBERS: usize = 500;

impl OfficialItem {
    /// The official item `item` is; None for anything not official, or not of a mission. A
    /// routine publication (no crisis topic, no response term) answers a crisis only through
    /// its story.
    pub fn of_item(
        item_id: &str,
        item: &NormalizedItem,
        enrichment: &Enrichment,
        registry: &Registry,
    ) -> Option<OfficialItem> {
        let country = registry.mission(&item.mission)?.country_code.to_uppercase();
        let topics = enrichment.topics.iter().map(|t| t.id.clone()).collect();
        OfficialItem::of_parts(item_id, item, topics, country)
    }

    fn of_parts(
        item_id: &str,
        item: &NormalizedItem,
        topics: Vec<String>,
        country: String,
    ) -> Option<OfficialItem> {
        if item.role != Role::Official {
            return None;
        }
        let (kind, terms) = classify(&item.title, &crate::topics::item_body(item));
        Some(OfficialItem {
            item_id: item_id.to_owned(),
            mission: item.mission.clone(),
            country,
            published_at: item.published_at,
            title: item.title.clone(),
            url: item.url.clone(),
            topics,
            kind,
            terms,
            story_id: None,
        })
    }

    /// From a stored `CURRENT` record of a mission in `country`.
    fn of_record(record: &Item, country: &str) -> Option<OfficialItem> {
        let item: NormalizedItem = serde_json::from_value(Value::Object(record.clone())).ok()?;
        let item_id = record.get(attr::ITEM_ID)?.as_str()?;
        let topics = record
            .get(attr::TOPICS)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut official = OfficialItem::of_parts(item_id, &item, topics, country.to_owned())?;
        official.story_id = record
            .get(attr::STORY_ID)
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(official)
    }

    /// Whether the item may answer some crisis by its own topics or terms: a crisis topic or
    /// a response term. A routine publication answers only through its story.
    pub fn answers_by_itself(&self) -> bool {
        self.kind != ResponseKind::Other
            || self
                .topics
                .iter()
                .any(|t| CrisisKind::of_topic(t).is_some())
    }

    /// Whether the item may answer `crisis` at all: a mission of its country (not a home
    /// crisis), published within it.
    fn in_scope(&self, crisis: &Crisis, config: &CrisisConfig) -> bool {
        let within = self.published_at >= crisis.first_signal_at - config.response_tolerance
            && self.published_at < crisis.last_signal_at + config.quiet_period;
        self.country == crisis.country && within && !crisis.is_home()
    }

    /// Why this item answers `crisis` by its own topics or terms, or None when it does not.
    pub fn matches(&self, crisis: &Crisis, config: &CrisisConfig) -> Option<Vec<String>> {
        if !self.in_scope(crisis, config) {
            return None;
        }
        let crisis_topics: Vec<&String> = self
            .topics
            .iter()
            .filter(|t| CrisisKind::of_topic(t).is_some())
            .collect();
        let mut why = vec![format!("place:{}", crisis.country)];
        let same_group: Vec<String> = crisis_topics
            .iter()
            .filter(|t| CrisisKind::of_topic(t).is_some_and(|k| k.group() == crisis.group))
            .map(|t| format!("topic:{t}"))
            .collect();
        if !same_group.is_empty() {
            why.extend(same_group);
        } else if crisis_topics.is_empty() && self.kind != ResponseKind::Other {
            why.push("terms".into());
        } else {
            return None;
        }
        Some(why)
    }

    /// Why this item answers `crisis` through its story, given the members of its story: one
    /// of them is evidence of the crisis. None when it does not (or its story is not given).
    pub fn matches_by_story(
        &self,
        crisis: &Crisis,
        config: &CrisisConfig,
        stories: &StoryMembers,
    ) -> Option<Vec<String>> {
        let story = self.story_id.as_ref()?;
        let members = stories.get(story)?;
        let evidence_in_story = crisis
            .signals
            .iter()
            .any(|s| s.item_id != self.item_id && members.contains(&s.item_id));
        (self.in_scope(crisis, config) && evidence_in_story).then(|| {
            vec![
                format!("place:{}", crisis.country),
                format!("story:{story}"),
            ]
        })
    }

    /// [`OfficialItem::matches`], else [`OfficialItem::matches_by_story`].
    fn why(
        &self,
        crisis: &Crisis,
        config: &CrisisConfig,
        stories: &StoryMembers,
    ) -> Option<Vec<String>> {
        self.matches(crisis, config)
            .or_else(|| self.matches_by_story(crisis, config, stories))
    }

    /// Whether reading its story could make this item answer `crisis`: in scope, not
    /// matched otherwise, grouped into a story not read yet.
    fn needs_story(&self, crisis: &Crisis, config: &CrisisConfig, stories: &StoryMembers) -> bool {
        self.story_id
            .as_ref()
            .is_some_and(|s| !stories.contains_key(s))
            && self.may_answer_by_story(crisis, config)
    }

    /// Whether this item could answer `crisis` only through its story: in scope, grouped,
    /// not matched otherwise, not linked yet.
    fn may_answer_by_story(&self, crisis: &Crisis, config: &CrisisConfig) -> bool {
        self.story_id.is_some()
            && self.in_scope(crisis, config)
            && self.matches(crisis, config).is_none()
            && !crisis.responses.iter().any(|r| r.item_id == self.item_id)
    }

    fn response(&self, matched_by: Vec<String>) -> Response {
        Response {
            item_id: self.item_id.clone(),
            mission: self.mission.clone(),
            published_at: self.published_at,
            title: self.title.clone(),
            url: self.url.clone(),
            kind: self.kind,
            terms: self.terms.clone(),
            matched_by,
        }
    }
}

/// Links an official item to every crisis of its country it answers; returns how many links
/// are new.
pub async fn link_official(
    table: &dyn Table,
    config: &CrisisConfig,
    item: &OfficialItem,
) -> Result<usize, TableError> {
    let mut attempt = 1;
    loop {
        match link_official_once(table, config, item).await {
            Err(e) if lost_race(&e) && attempt < MAX_ATTEMPTS => {
                pause_after_lost_race(attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn link_official_once(
    table: &dyn Table,
    config: &CrisisConfig,
    item: &OfficialItem,
) -> Result<usize, TableError> {
    // A mission in Indonesia answers no crisis there (home crises): nothing to look up.
    if item.country.eq_ignore_ascii_case(super::HOME_COUNTRY) {
        return Ok(0);
    }
    let latest_start = item.published_at + config.response_tolerance;
    let page = table
        .query(
            Query::partition(Index::Gsi1, schema::country_crises_pk(&item.country))
                .range(SortKeyRange::Le(format!(
                    "{}~",
                    schema::sortable_time(latest_start)
                )))
                .backward()
                .limit(20),
        )
        .await?;
    let mut linked = 0;
    let mut stories = StoryMembers::new();
    for record in &page.items {
        let (mut crisis, rev) = parse_crisis(record)?;
        if item.may_answer_by_story(&crisis, config) {
            read_stories(table, item.story_id.iter(), &mut stories).await?;
            // Any signal of the crisis may share the story, not only those its record keeps.
            crisis = detect::with_all_signals(table, crisis).await?;
        }
        if item.why(&crisis, config, &stories).is_some()
            && add_responses(
                table,
                config,
                &crisis.id,
                Some((crisis.clone(), rev)),
                &[item],
                &stories,
            )
            .await?
                > 0
        {
            linked += 1;
        }
    }
    Ok(linked)
}

/// Reads the members of each story not read yet into `stories` (one query each, at most
/// [`MAX_STORY_MEMBERS`] members).
async fn read_stories<'a>(
    table: &dyn Table,
    story_ids: impl Iterator<Item = &'a String>,
    stories: &mut StoryMembers,
) -> Result<(), TableError> {
    for story in story_ids {
        if !stories.contains_key(story) {
            let members = story_members(table, story).await?;
            stories.insert(story.clone(), members.into_keys().collect());
        }
    }
    Ok(())
}

/// A story's members: item id → mission, from its membership records (`STORY#{id}`).
async fn story_members(
    table: &dyn Table,
    story_id: &str,
) -> Result<BTreeMap<String, String>, TableError> {
    let mut members = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(Index::Primary, schema::story_pk(story_id))
                    .limit(MAX_STORY_MEMBERS.min(200))
                    .after(cursor),
            )
            .await?;
        for record in &page.items {
            let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
            if let Some(id) = text(attr::ITEM_ID) {
                members.insert(id, text("mission").unwrap_or_default());
            }
        }
        match page.cursor {
            Some(c) if members.len() < MAX_STORY_MEMBERS => cursor = Some(c),
            _ => return Ok(members),
        }
    }
}

/// Links the official items of a story that answer a crisis through it: called when a signal
/// of that story joins the crisis (the official items may have been grouped before it came).
/// Reads the story's members, then the `CURRENT` of those of the crisis country's missions;
/// returns how many links are new.
pub async fn link_story(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    crisis_id: &str,
    story_id: &str,
) -> Result<usize, TableError> {
    retrying_lost_races(|| link_story_once(table, registry, config, crisis_id, story_id)).await
}

async fn link_story_once(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    crisis_id: &str,
    story_id: &str,
) -> Result<usize, TableError> {
    let Some((crisis, rev)) = get_crisis(table, crisis_id).await? else {
        return Ok(0);
    };
    if crisis.is_home() {
        return Ok(0);
    }
    let members = story_members(table, story_id).await?;
    let in_country = |mission: &str| {
        registry
            .mission(mission)
            .is_some_and(|m| m.country_code.eq_ignore_ascii_case(&crisis.country))
    };
    let mut found = Vec::new();
    for (item_id, mission) in &members {
        let known = crisis.signals.iter().any(|s| &s.item_id == item_id)
            || crisis.responses.iter().any(|r| &r.item_id == item_id);
        if known || !in_country(mission) {
            continue;
        }
        let key = Key::new(schema::item_pk(item_id), schema::CURRENT);
        if let Some(record) = table.get(&key).await?
            && record.get("role").and_then(Value::as_str) == Some("official")
            && let Some(item) = OfficialItem::of_record(&record, &crisis.country)
        {
            found.push(item);
        }
    }
    if found.is_empty() {
        return Ok(0);
    }
    let mut stories = StoryMembers::new();
    stories.insert(story_id.to_owned(), members.into_keys().collect());
    let candidates: Vec<&OfficialItem> = found.iter().collect();
    add_responses(
        table,
        config,
        crisis_id,
        Some((crisis, rev)),
        &candidates,
        &stories,
    )
    .await
}

/// Links the official items already stored that answer a crisis (its missions' items since
/// its first signal minus the tolerance); returns how many links are new. Retried here: the
/// crisis is written already, so nothing else would redo it.
pub async fn backlink(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    crisis_id: &str,
) -> Result<usize, TableError> {
    retrying_lost_races(|| backlink_once(table, registry, config, crisis_id, None)).await
}

/// [`backlink`] for the official items published since `since` only: a crisis whose last
/// signal moved later reads only the items its longer window newly takes in.
pub async fn backlink_since(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    crisis_id: &str,
    since: DateTime<Utc>,
) -> Result<usize, TableError> {
    retrying_lost_races(|| backlink_once(table, registry, config, crisis_id, Some(since))).await
}

/// Runs `once` again, after a short pause growing with each try, while it loses a race with
/// another reconciler (a conditional write refused); at most `MAX_ATTEMPTS` times.
async fn retrying_lost_races<F, Fut>(mut once: F) -> Result<usize, TableError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, TableError>>,
{
    let mut attempt = 1;
    loop {
        match once().await {
            Err(e) if lost_race(&e) && attempt < MAX_ATTEMPTS => {
                pause_after_lost_race(attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn backlink_once(
    table: &dyn Table,
    registry: &Registry,
    config: &CrisisConfig,
    crisis_id: &str,
    since: Option<DateTime<Utc>>,
) -> Result<usize, TableError> {
    let Some((crisis, rev)) = get_crisis(table, crisis_id).await? else {
        return Ok(0);
    };
    if crisis.is_home() {
        return Ok(0);
    }
    let window_start = crisis.first_signal_at - config.response_tolerance;
    let since = since.map_or(window_start, |s| s.max(window_start));
    let mut found = Vec::new();
    for mission in registry
        .missions
        .iter()
        .filter(|m| m.country_code.eq_ignore_ascii_case(&crisis.country))
    {
        let records = official_records_since(table, &mission.id, since, found.len()).await?;
        found.extend(
            records
                .iter()
                .filter_map(|r| OfficialItem::of_record(r, &crisis.country)),
        );
    }
    // The stories of the items that could answer only through theirs.
    let mut stories = StoryMembers::new();
    let wanted: BTreeSet<&String> = found
        .iter()
        .filter(|item| item.needs_story(&crisis, config, &stories))
        .filter_map(|item| item.story_id.as_ref())
        .collect();
    read_stories(table, wanted.into_iter(), &mut stories).await?;
    let candidates: Vec<&OfficialItem> = found.iter().collect();
    add_responses(
        table,
        config,
        crisis_id,
        Some((crisis, rev)),
        &candidates,
        &stories,
    )
    .await
}

/// A crisis's window holds few official items; reading stops at this generous bound (counted
/// over all the crisis's missions, checked after each page).
const MAX_OFFICIAL_ITEMS_READ: usize = 1000;

/// The `CURRENT` records of `mission`'s official items published from `since` on, oldest
/// first, `found` items having been read for the crisis already: from the mission's role
/// index once it is complete (`rollup`), which holds nothing but its official items; else
/// from its time index, every role read and the official kept. Both stop at the first page
/// that takes the crisis's count to [`MAX_OFFICIAL_ITEMS_READ`].
async fn official_records_since(
    table: &dyn Table,
    mission: &str,
    since: DateTime<Utc>,
    found: usize,
) -> Result<Vec<Item>, TableError> {
    let room = |read: usize| found + read < MAX_OFFICIAL_ITEMS_READ;
    let from_role_index =
        rollup::role_currents_since(table, mission, Role::Official, since, room).await?;
    if let Some(records) = from_role_index {
        return Ok(records);
    }
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(Index::Gsi1, schema::mission_items_pk(mission))
                    .range(SortKeyRange::Ge(schema::sortable_time(since)))
                    .limit(200)
                    .after(cursor),
            )
            .await?;
        records.extend(
            page.items
                .into_iter()
                .filter(|r| r.get("role").and_then(Value::as_str) == Some(Role::Official.as_str())),
        );
        match page.cursor {
            Some(c) if room(records.len()) => cursor = Some(c),
            _ => return Ok(records),
        }
    }
}

/// Adds the items that answer the crisis and are not linked yet, conditioned on its `rev`
/// (re-read and re-decided after losing a race). Returns how many were added.
async fn add_responses(
    table: &dyn Table,
    config: &CrisisConfig,
    crisis_id: &str,
    mut known: Option<(Crisis, String)>,
    items: &[&OfficialItem],
    stories: &StoryMembers,
) -> Result<usize, TableError> {
    for attempt in 1..=MAX_ATTEMPTS {
        let (mut crisis, rev) = match known.take() {
            Some(k) => k,
            None => match get_crisis(table, crisis_id).await? {
                Some(k) => k,
                None => return Ok(0),
            },
        };
        // A story match needs every signal; a long crisis's record holds a sample.
        if !stories.is_empty() && items.iter().any(|i| i.may_answer_by_story(&crisis, config)) {
            crisis = detect::with_all_signals(table, crisis).await?;
        }
        let mut added = 0;
        for item in items {
            if crisis.responses.iter().any(|r| r.item_id == item.item_id) {
                continue;
            }
            if let Some(why) = item.why(&crisis, config, stories) {
                crisis.responses.push(item.response(why));
                added += 1;
            }
        }
        if added == 0 {
            return Ok(0);
        }
        crisis.sort();
        match table.put(crisis_record(&crisis)?, rev_is(&rev)).await {
            Ok(()) => return Ok(added),
            Err(e) if lost_race(&e) => {
                pause_after_lost_race(attempt).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(TableError::Backend {
        op: "crisis",
        message: format!("responses of crisis {crisis_id} still contended"),
        retryable: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_decides_the_kind_and_the_terms_are_kept() {
        let (kind, terms) = classify(
            "Imbauan KBRI Ankara terkait Gempa di Türkiye",
            "Hubungi hotline KBRI di +90 ...",
        );
        assert_eq!(kind, ResponseKind::Advisory);
        assert_eq!(terms, ["imbauan"]);
        let (kind, terms) = classify(
            "KJRI Istanbul membuka hotline bagi WNI terdampak gempa",
            "Mengimbau WNI tetap waspada.",
        );
        assert_eq!(kind, ResponseKind::Hotline);
        assert_eq!(terms, ["hotline"]);
        assert_eq!(
            classify("Pendataan WNI terdampak banjir", "").0,
            ResponseKind::CitizenData
        );
        assert_eq!(
            classify("KBRI mengevakuasi 40 WNI dari zona konflik", "").0,
            ResponseKind::Evacuation
        );
        assert_eq!(
            classify("Ucapan belasungkawa Duta Besar", "").0,
            ResponseKind::Statement
        );
        assert_eq!(
            classify("Embassy urges citizens to avoid the protest area", "").0,
            ResponseKind::Advisory
        );
        // Only the body speaks: it decides.
        assert_eq!(
            classify(
                "Gempa di Kahramanmaraş",
                "WNI diimbau menjauhi bangunan rusak."
            )
            .0,
            ResponseKind::Advisory
        );
        assert_eq!(
            classify("Pekan Budaya Indonesia", "Pameran batik.").0,
            ResponseKind::Other
        );
    }
}
