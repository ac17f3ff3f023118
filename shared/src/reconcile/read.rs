//! The reading side of what reconcile writes: items with their versions, a mission's items
//! newest first, mission records and source states. The API reads only through here, so the
//! record layout is known in this module and its parent alone.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{as_count, attr, parse_time};
use crate::model::{Mission, NormalizedItem, Role};
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Cursor, Item, Key, Query, Table, TableError};

/// An item as `CURRENT` holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: String,
    pub item: NormalizedItem,
    /// Fetch time of the first fetch that showed this content.
    pub version_at: DateTime<Utc>,
    pub content_hash: String,
    /// How many versions the item has.
    pub versions: u64,
    pub first_seen_at: DateTime<Utc>,
    /// The item's story (an item id; see `reconcile::story`), once grouped.
    pub story_id: Option<String>,
}

/// One version record.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemVersion {
    pub version_at: DateTime<Utc>,
    pub content_hash: String,
    pub item: NormalizedItem,
}

/// An item and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub current: StoredItem,
    /// Newest first.
    pub versions: Vec<ItemVersion>,
}

/// Which of a mission's items to list. `since` and `until` are inclusive bounds on the
/// publication time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemFilter {
    pub role: Option<Role>,
    /// BCP 47 primary tag, lower case.
    pub language: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl ItemFilter {
    pub(crate) fn accepts(&self, item: &NormalizedItem) -> bool {
        self.role.is_none_or(|r| r == item.role)
            && self
                .language
                .as_deref()
                .is_none_or(|l| item.language.as_deref() == Some(l))
    }

    /// The GSI1 sort-key range for the time bounds; `{published}#{id}` sorts by time first.
    pub(crate) fn range(&self) -> SortKeyRange {
        // `$` sorts right after `#`, so `{until}$` is above every key published at `until`.
        let lower = self.since.map(schema::sortable_time);
        let upper = self.until.map(|t| format!("{}$", schema::sortable_time(t)));
        match (lower, upper) {
            (Some(lo), Some(hi)) => SortKeyRange::Between(lo, hi),
            (Some(lo), None) => SortKeyRange::Ge(lo),
            (None, Some(hi)) => SortKeyRange::Le(hi),
            (None, None) => SortKeyRange::All,
        }
    }
}

/// One page of a mission's items, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemPage {
    pub items: Vec<StoredItem>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

/// A source's health as scrape records it (the subset of `SourceState` the API shows; read
/// leniently so a record with extra or older fields still shows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceHealth {
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_success_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_change_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub consecutive_failures: u32,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub next_due_at: Option<DateTime<Utc>>,
    /// Set by scrape when the source is marked unhealthy; None when healthy (or for a state
    /// written before the mark existed).
    #[serde(default)]
    pub unhealthy_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub unhealthy_reason: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Table(#[from] TableError),
    /// The cursor was not made by this listing (another mission, or tampered with).
    #[error("cursor does not belong to this listing")]
    ForeignCursor,
}

/// Reads per page are capped so a very selective filter cannot make one request scan a whole
/// mission; the page then comes back short, with a cursor.
pub(crate) const MAX_READS_PER_PAGE: usize = 1000;

/// The item and all its versions: one query on the item's partition (`CURRENT` sorts before
/// `V#…`).
pub async fn get_item(table: &dyn Table, id: &str) -> Result<Option<ItemView>, ReadError> {
    let records = query_all(
        table,
        Query::partition(Index::Primary, schema::item_pk(id)).backward(),
    )
    .await?;
    let mut current = None;
    let mut versions = Vec::new();
    for record in &records {
        match record.get(table::SK).and_then(Value::as_str) {
            Some(schema::CURRENT) => current = stored_item(record),
            Some(sk) if sk.starts_with(schema::VERSION_PREFIX) => {
                if let Some(v) = item_version(record) {
                    versions.push(v);
                }
            }
            _ => {}
        }
    }
    // Backward: version keys newest first already.
    Ok(current.map(|current| ItemView { current, versions }))
}

/// A mission's items, newest first, filtered; one backward query on GSI1 (more only when a
/// filter drops items). With a role, the mission's role index (`rollup::role_items`) once
/// it is complete: the same items, order and cursors, without reading the other roles.
pub async fn mission_items(
    table: &dyn Table,
    mission: &str,
    filter: &ItemFilter,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<ItemPage, ReadError> {
    if let Some(role) = filter.role
        && let Some(page) =
            super::rollup::role_items(table, mission, role, filter, limit, cursor.clone()).await?
    {
        return Ok(page);
    }
    mission_items_by_time(table, mission, filter, limit, cursor).await
}

/// [`mission_items`] from the mission's time index alone (GSI1), whatever the filter: what
/// the role index answers for a mission whose index is not complete yet.
pub async fn mission_items_by_time(
    table: &dyn Table,
    mission: &str,
    filter: &ItemFilter,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<ItemPage, ReadError> {
    let partition = schema::mission_items_pk(mission);
    indexed_items(table, Index::Gsi1, partition, filter, limit, cursor).await
}

/// A country's items (every mission there, by the mission's host country), newest first,
/// filtered; one backward query on GSI2 (more only when a filter drops items).
pub async fn country_items(
    table: &dyn Table,
    country_code: &str,
    filter: &ItemFilter,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<ItemPage, ReadError> {
    let partition = schema::country_items_pk(country_code);
    indexed_items(table, Index::Gsi2, partition, filter, limit, cursor).await
}

/// Items of one time-index partition (`MITEMS#…` on GSI1, `CITEMS#…` on GSI2), newest first.
async fn indexed_items(
    table: &dyn Table,
    index: Index,
    partition: String,
    filter: &ItemFilter,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<ItemPage, ReadError> {
    let (index_pk, index_sk) = index.key_names();
    if let Some(c) = &cursor {
        let attrs = c.key_attrs().map_err(|_| ReadError::ForeignCursor)?;
        let ours = attrs.get(index_pk).and_then(Value::as_str) == Some(partition.as_str());
        if !ours || !attrs.contains_key(index_sk) {
            return Err(ReadError::ForeignCursor);
        }
    }
    // A role or language filter reads ahead: most records may not match.
    let reads_ahead = filter.role.is_some() || filter.language.is_some();
    let mut builder = PageBuilder::new(filter, limit, reads_ahead);
    let mut next = cursor;
    loop {
        let page = table
            .query(
                Query::partition(index, partition.clone())
                    .range(filter.range())
                    .backward()
                    .limit(builder.want())
                    .after(next.take()),
            )
            .await?;
        for record in page.items {
            let position = Cursor::for_item(index, &record);
            if let Some(full) = builder.read(position, into_stored_item(record)) {
                return Ok(full);
            }
        }
        match builder.after_query(page.cursor) {
            ControlFlow::Break(done) => return Ok(done),
            ControlFlow::Continue(more) => next = Some(more),
        }
    }
}

/// The paging rules every feed shares, whichever index it reads (the time indexes here, a
/// role index in `rollup::role_items`): collect the matches of `filter` until `limit`, read
/// one more match to know another page exists, and stop after [`MAX_READS_PER_PAGE`] records
/// with a short page. The caller runs the queries: it asks [`PageBuilder::want`] records,
/// hands each to [`PageBuilder::read`] with the cursor that resumes right after it, then
/// asks [`PageBuilder::after_query`] whether to go on.
pub(crate) struct PageBuilder<'f> {
    filter: &'f ItemFilter,
    limit: usize,
    reads_ahead: bool,
    /// Each match with the cursor that resumes right after it.
    matches: Vec<(StoredItem, Cursor)>,
    last_read: Option<Cursor>,
    reads: usize,
}

impl<'f> PageBuilder<'f> {
    /// `reads_ahead`: most records may fail the filter, so each query asks for at least 50.
    pub fn new(filter: &'f ItemFilter, limit: usize, reads_ahead: bool) -> PageBuilder<'f> {
        PageBuilder {
            filter,
            limit: limit.max(1),
            reads_ahead,
            matches: Vec::new(),
            last_read: None,
            reads: 0,
        }
    }

    /// How many records the next query asks for: one more than the page still needs, which
    /// tells whether another page exists.
    pub fn want(&self) -> usize {
        if self.reads_ahead {
            (self.limit + 1).max(50)
        } else {
            self.limit + 1 - self.matches.len()
        }
    }

    /// Takes one record read at `position`: `item` is the item it holds (None when it is no
    /// readable item, or not where the index says). The page, when it is full and this is a
    /// further match.
    pub fn read(&mut self, position: Cursor, item: Option<StoredItem>) -> Option<ItemPage> {
        self.reads += 1;
        if let Some(stored) = item
            && self.filter.accepts(&stored.item)
        {
            if self.matches.len() == self.limit {
                // A further match exists: the page ends at the last one kept.
                let next = self.matches.last().map(|(_, c)| c.clone());
                return Some(self.page(next));
            }
            self.matches.push((stored, position.clone()));
        }
        self.last_read = Some(position);
        None
    }

    /// After a query's records, given the index's own cursor (None: the index ends there):
    /// the page when the listing stops, else the cursor the next query starts after.
    pub fn after_query(&mut self, more: Option<Cursor>) -> ControlFlow<ItemPage, Cursor> {
        match more {
            None => ControlFlow::Break(self.page(None)),
            Some(_) if self.reads >= MAX_READS_PER_PAGE => {
                // Short page: resume after the last record read, matched or not.
                let next = self.last_read.take();
                ControlFlow::Break(self.page(next))
            }
            Some(c) => ControlFlow::Continue(c),
        }
    }

    fn page(&mut self, next: Option<Cursor>) -> ItemPage {
        ItemPage {
            items: std::mem::take(&mut self.matches)
                .into_iter()
                .map(|(item, _)| item)
                .collect(),
            next,
        }
    }
}

/// One member of a story, as its membership record holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryMember {
    pub id: String,
    pub title: String,
    pub mission: String,
    pub source: String,
    pub language: Option<String>,
    pub published_at: DateTime<Utc>,
    /// Why it joined (`stories::LinkReason` as JSON); None for the story's first item.
    pub reason: Option<Value>,
    /// The item the reason links it to.
    pub linked_to: Option<String>,
}

/// One page of a story's members, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoryPage {
    pub members: Vec<StoryMember>,
    pub next: Option<Cursor>,
}

/// A story's members, newest first: one backward query on `STORY#{story_id}`.
pub async fn story_members(
    table: &dyn Table,
    story_id: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<StoryPage, ReadError> {
    let partition = schema::story_pk(story_id);
    if let Some(c) = &cursor {
        let attrs = c.key_attrs().map_err(|_| ReadError::ForeignCursor)?;
        if attrs.get(table::PK).and_then(Value::as_str) != Some(partition.as_str()) {
            return Err(ReadError::ForeignCursor);
        }
    }
    // One more than asked tells whether another page exists.
    let limit = limit.max(1);
    let mut page = table
        .query(
            Query::partition(Index::Primary, partition)
                .backward()
                .limit(limit + 1)
                .after(cursor),
        )
        .await?;
    let next = if page.items.len() > limit {
        page.items.truncate(limit);
        page.items
            .last()
            .map(|last| Cursor::for_item(Index::Primary, last))
    } else {
        page.cursor
    };
    Ok(StoryPage {
        members: page.items.iter().filter_map(story_member).collect(),
        next,
    })
}

fn story_member(record: &Item) -> Option<StoryMember> {
    let owned = |name: &str| text(record, name).map(str::to_owned);
    Some(StoryMember {
        id: owned(attr::ITEM_ID)?,
        title: owned("title").unwrap_or_default(),
        mission: owned("mission")?,
        source: owned("source")?,
        language: owned("language"),
        published_at: parse_time(text(record, super::story::story_attr::PUBLISHED)?)?,
        reason: record
            .get(super::story::story_attr::REASON)
            .filter(|r| !r.is_null())
            .cloned(),
        linked_to: owned(super::story::story_attr::LINKED_TO),
    })
}

/// When a mission last published with `role`. With the mission's role index complete
/// (`rollup`'s marker): its newest entry, one query of one record, exact however far back it
/// is. Before that: [`last_published_item_by_time`], which gives up after
/// [`MAX_READS_FOR_LAST`] items of other roles.
pub async fn last_published(
    table: &dyn Table,
    mission: &str,
    role: Role,
) -> Result<Option<DateTime<Utc>>, ReadError> {
    Ok(last_published_item(table, mission, role)
        .await?
        .map(|(published_at, _)| published_at))
}

/// [`last_published`], with the item's id.
pub async fn last_published_item(
    table: &dyn Table,
    mission: &str,
    role: Role,
) -> Result<Option<(DateTime<Utc>, String)>, ReadError> {
    if let Some(last) = super::rollup::last_of_role(table, mission, role).await? {
        return Ok(last);
    }
    last_published_item_by_time(table, mission, role).await
}

/// [`last_published_item`] from the mission's time index (GSI1): its newest item of `role`.
/// Pages grow ([`FIRST_PAGE_FOR_LAST`], then four times as many each time) so a mission whose
/// newest items are mostly media reaches its last official one in a few queries, at most
/// [`MAX_READS_FOR_LAST`] items in all: past that it answers None, as if the mission had
/// never published with the role (what the role index fixes).
pub async fn last_published_item_by_time(
    table: &dyn Table,
    mission: &str,
    role: Role,
) -> Result<Option<(DateTime<Utc>, String)>, ReadError> {
    let mut cursor = None;
    let mut reads = 0;
    let mut page_size = FIRST_PAGE_FOR_LAST;
    loop {
        let page = table
            .query(
                Query::partition(Index::Gsi1, schema::mission_items_pk(mission))
                    .backward()
                    .limit(page_size.min(MAX_READS_FOR_LAST - reads))
                    .after(cursor),
            )
            .await?;
        reads += page.items.len();
        let found = page
            .items
            .iter()
            .find(|r| text(r, "role") == Some(role.as_str()))
            .and_then(|r| {
                let published = parse_time(text(r, "published_at")?)?;
                Some((published, text(r, attr::ITEM_ID)?.to_owned()))
            });
        if found.is_some() {
            return Ok(found);
        }
        match page.cursor {
            Some(c) if reads < MAX_READS_FOR_LAST => cursor = Some(c),
            _ => return Ok(None),
        }
        page_size *= 4;
    }
}

/// The first page [`last_published_item_by_time`] reads (the newest item usually has the role).
pub const FIRST_PAGE_FOR_LAST: usize = 5;

/// How far back [`last_published_item_by_time`] looks for an item of the role before it says
/// "none".
pub const MAX_READS_FOR_LAST: usize = 200;

/// A mission's publications per day and role: what its activity chart draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    /// Days with at least one item, oldest first; days are UTC dates of publication.
    pub days: Vec<DayCount>,
    /// Items counted in `days` (read one by one from the time index until a mission's daily
    /// counts are complete: then, when it reached the cap, the oldest days may miss items).
    pub items_read: usize,
    pub truncated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayCount {
    pub day: chrono::NaiveDate,
    pub official: u32,
    pub hq: u32,
    pub media: u32,
    pub hazard: u32,
}

/// Items an activity chart reads at most: a range query on the mission's time index costs
/// what the mission published in the window, and this bounds it.
pub const MAX_READS_FOR_ACTIVITY: usize = 10_000;

/// Counts a mission's items per UTC day of publication and role, over the whole days from
/// `since`'s to `until`'s: one range query on its daily counts (`rollup::activity`) once they
/// are complete, else [`mission_activity_by_time`].
pub async fn mission_activity(
    table: &dyn Table,
    mission: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    max_reads: usize,
) -> Result<Activity, ReadError> {
    let (first, last) = (since.date_naive(), until.date_naive());
    if let Some(activity) = super::rollup::activity(table, mission, first, last).await? {
        return Ok(activity);
    }
    mission_activity_by_time(table, mission, since, until, max_reads).await
}

/// [`mission_activity`] from the mission's time index (GSI1): one range query over the whole
/// days from `since`'s to `until`'s, newest first, stopping at `max_reads` items.
pub async fn mission_activity_by_time(
    table: &dyn Table,
    mission: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    max_reads: usize,
) -> Result<Activity, ReadError> {
    let start_of = |day: chrono::NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc();
    let filter = ItemFilter {
        since: Some(start_of(since.date_naive())),
        // The last millisecond of `until`'s day (times are stored to the millisecond).
        until: Some(
            start_of(until.date_naive()) + chrono::Duration::days(1)
                - chrono::Duration::milliseconds(1),
        ),
        ..ItemFilter::default()
    };
    let mut per_day: BTreeMap<chrono::NaiveDate, DayCount> = BTreeMap::new();
    let mut activity = Activity::default();
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(Index::Gsi1, schema::mission_items_pk(mission))
                    .range(filter.range())
                    .backward()
                    .limit(200.min(max_reads - activity.items_read).max(1))
                    .after(cursor),
            )
            .await?;
        activity.items_read += page.items.len();
        for stored in page.items.into_iter().filter_map(into_stored_item) {
            let day = stored.item.published_at.date_naive();
            let count = per_day.entry(day).or_insert_with(|| DayCount {
                day,
                ..DayCount::default()
            });
            match stored.item.role {
                Role::Official => count.official += 1,
                Role::Hq => count.hq += 1,
                Role::Media => count.media += 1,
                Role::Hazard => count.hazard += 1,
            }
        }
        match page.cursor {
            Some(_) if activity.items_read >= max_reads => {
                activity.truncated = true;
                break;
            }
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    activity.days = per_day.into_values().collect();
    Ok(activity)
}

/// Every mission record (GSI1 `MISSIONS`), by id.
pub async fn missions(table: &dyn Table) -> Result<Vec<Mission>, ReadError> {
    let records = query_all(table, Query::partition(Index::Gsi1, schema::ALL_MISSIONS)).await?;
    Ok(records
        .into_iter()
        .filter_map(|r| from_record::<Mission>(&r))
        .collect())
}

/// Every source state of every owner (GSI1 `SOURCES`).
pub async fn all_source_health(table: &dyn Table) -> Result<Vec<SourceHealth>, ReadError> {
    let records = query_all(table, Query::partition(Index::Gsi1, schema::ALL_SOURCES)).await?;
    Ok(records.iter().filter_map(health_of).collect())
}

/// The source states of one owner (its mission partition, `SOURCE#` records).
pub async fn source_health(table: &dyn Table, owner: &str) -> Result<Vec<SourceHealth>, ReadError> {
    let records = query_all(
        table,
        Query::partition(Index::Primary, schema::mission_pk(owner))
            .range(SortKeyRange::BeginsWith(schema::source_sk(""))),
    )
    .await?;
    Ok(records.iter().filter_map(health_of).collect())
}

/// A cheap probe that the table answers: one read of a key nobody writes.
pub async fn probe(table: &dyn Table) -> Result<(), TableError> {
    table
        .get(&Key::new(schema::HEALTH_PROBE, schema::HEALTH_PROBE))
        .await
        .map(|_| ())
}

async fn query_all(table: &dyn Table, query: Query) -> Result<Vec<Item>, TableError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(query.clone().after(cursor)).await?;
        out.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

fn from_record<T: serde::de::DeserializeOwned>(record: &Item) -> Option<T> {
    match serde_json::from_value(Value::Object(record.clone())) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(pk = ?record.get(table::PK), sk = ?record.get(table::SK), error = %e, "unreadable record skipped");
            None
        }
    }
}

fn text<'a>(record: &'a Item, name: &str) -> Option<&'a str> {
    record.get(name).and_then(Value::as_str)
}

pub(crate) fn stored_item(record: &Item) -> Option<StoredItem> {
    into_stored_item(record.clone())
}

/// The attributes [`stored_item`] reads: the item's own fields (their serde names) and the
/// bookkeeping it shows. A reader that only makes `StoredItem`s asks for these alone
/// (`Table::batch_get_some`); the key attributes come with every record.
pub(crate) const STORED_ITEM_ATTRS: &[&str] = &[
    // NormalizedItem
    "mission",
    "source",
    "kind",
    "role",
    "guid",
    "url",
    "title",
    "summary",
    "body",
    "published_at",
    "published_raw",
    "time_basis",
    "language",
    "authors",
    "categories",
    "images",
    "fetched_at",
    "raw_key",
    "hazard",
    // StoredItem
    attr::ITEM_ID,
    attr::VERSION_AT,
    attr::CONTENT_HASH,
    attr::VERSIONS,
    attr::FIRST_SEEN_AT,
    attr::STORY_ID,
];

/// [`stored_item`] of a record the caller no longer needs: the item's fields are moved out
/// of it, not copied (a feed page's bodies are most of its bytes), and what `CURRENT` holds
/// beside them (the enrichment, the search and story bookkeeping) is dropped unread.
pub(crate) fn into_stored_item(record: Item) -> Option<StoredItem> {
    let id = text(&record, attr::ITEM_ID)?.to_owned();
    let version_at = parse_time(text(&record, attr::VERSION_AT)?)?;
    let content_hash = text(&record, attr::CONTENT_HASH)?.to_owned();
    let versions = record.get(attr::VERSIONS).and_then(as_count)?;
    let first_seen_at = parse_time(text(&record, attr::FIRST_SEEN_AT)?)?;
    let story_id = text(&record, attr::STORY_ID).map(str::to_owned);
    let item = match serde_json::from_value::<NormalizedItem>(Value::Object(record)) {
        Ok(item) => item,
        Err(e) => {
            tracing::error!(item_id = %id, error = %e, "unreadable item record skipped");
            return None;
        }
    };
    Some(StoredItem {
        id,
        item,
        version_at,
        content_hash,
        versions,
        first_seen_at,
        story_id,
    })
}

fn item_version(record: &Item) -> Option<ItemVersion> {
    Some(ItemVersion {
        version_at: parse_time(text(record, attr::VERSION_AT)?)?,
        content_hash: text(record, attr::CONTENT_HASH)?.to_owned(),
        item: from_record::<NormalizedItem>(record)?,
    })
}

fn health_of(record: &Item) -> Option<SourceHealth> {
    // Scrape stores the state's fields at the top level; an older layout nested them.
    let nested = record.get("state").and_then(Value::as_object);
    let mut health = from_record::<SourceHealth>(nested.unwrap_or(record))?;
    if health.source.is_empty() {
        let sk = text(record, table::SK)?;
        health.source = sk.strip_prefix(&schema::source_sk(""))?.to_owned();
    }
    if health.owner.is_empty() {
        let pk = text(record, table::PK)?;
        health.owner = pk.strip_prefix(&schema::mission_pk(""))?.to_owned();
    }
    Some(health)
}

#[cfg(test)]
mod stored_item_tests {
    use super::*;

    /// A reader asking for [`STORED_ITEM_ATTRS`] alone must get every field an item has: a
    /// field added to `NormalizedItem` and not to the list would vanish from feeds.
    #[test]
    fn the_attributes_a_stored_item_reads_name_every_field_of_an_item() {
        // A hazard item, so that the optional event is written too.
        let mut item = crate::crises::timelines::hazard(
            crate::model::SourceKind::Usgs,
            "us1",
            crate::model::HazardKind::Earthquake,
            Some(6.1),
            None,
            "JP",
            "Honshu",
            crate::reconcile::tests::at("2025-03-01T00:00:00Z"),
        );
        (item.authors, item.categories, item.images) =
            (vec!["a".into()], vec!["c".into()], vec!["i".into()]);
        assert!(item.hazard.is_some());
        let Value::Object(fields) = serde_json::to_value(&item).unwrap() else {
            unreachable!()
        };
        let missing: Vec<&String> = fields
            .keys()
            .filter(|k| !STORED_ITEM_ATTRS.contains(&k.as_str()))
            .collect();
        assert!(missing.is_empty(), "not in STORED_ITEM_ATTRS: {missing:?}");
        assert_eq!(fields.len(), 19);
    }
}

#[cfg(test)]
mod last_published_tests {
    use std::sync::Arc;

    use super::*;
    use crate::reconcile::Reconciler;
    use crate::reconcile::tests::{jsonl, official_behind_media, registry};
    use crate::store::disk::DiskBlobStore;
    use crate::store::sqlite::SqliteTable;
    use crate::store::testing::CountingTable;
    use crate::store::{BlobMeta, BlobStore};

    /// An official post, then `media` newer media items of the same mission.
    async fn mission_with(media: usize) -> (Arc<CountingTable<SqliteTable>>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let table = Arc::new(CountingTable::new(SqliteTable::in_memory().unwrap()));
        let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
        let items = official_behind_media(media);
        blobs
            .put("items/1.jsonl", jsonl(&items).into(), &BlobMeta::default())
            .await
            .unwrap();
        let reconciler = Reconciler {
            blobs,
            table: table.clone(),
            registry: Arc::new(registry()),
        };
        reconciler.reconcile_object("items/1.jsonl").await.unwrap();
        (table, dir)
    }

    /// Completes the mission's role index, as `sync_registry` does once per table.
    async fn complete(table: &dyn Table) {
        crate::reconcile::rollup::backfill(table, &["tokyo".into(), "canberra".into()])
            .await
            .unwrap();
    }

    /// Both paths' answers for every role and both missions.
    async fn answers(table: &dyn Table) -> (Vec<LastItem>, Vec<LastItem>) {
        let (mut indexed, mut by_time) = (Vec::new(), Vec::new());
        for mission in ["tokyo", "canberra"] {
            for role in [Role::Official, Role::Hq, Role::Media, Role::Hazard] {
                indexed.push(last_published_item(table, mission, role).await.unwrap());
                by_time.push(
                    last_published_item_by_time(table, mission, role)
                        .await
                        .unwrap(),
                );
            }
        }
        (indexed, by_time)
    }

    type LastItem = Option<(DateTime<Utc>, String)>;

    #[tokio::test]
    async fn the_role_index_answers_as_the_time_index_within_its_look_back_in_one_query() {
        let (table, _dir) = mission_with(150).await;
        // Without the marker the time index answers: the same, plus the marker's get and the
        // role index's query asked beside it.
        let (before, by_time) = answers(table.as_ref()).await;
        assert_eq!(before, by_time);
        table.reset();
        last_published(table.as_ref(), "tokyo", Role::Official)
            .await
            .unwrap();
        assert_eq!(table.counts().reads(), 4 + 2);

        complete(table.as_ref()).await;
        let (indexed, by_time) = answers(table.as_ref()).await;
        assert_eq!(indexed, by_time);
        assert_eq!(indexed, before);
        assert!(indexed[0].is_some() && indexed[2].is_some(), "{indexed:?}");
        // The official post behind 150 media items: one query, and the marker's get beside it.
        table.reset();
        let last = last_published(table.as_ref(), "tokyo", Role::Official)
            .await
            .unwrap();
        assert_eq!(
            last,
            Some(crate::reconcile::tests::at("2025-03-01T00:00:00Z"))
        );
        let counts = table.counts();
        assert_eq!((counts.queries, counts.gets, counts.reads()), (1, 1, 2));
        // A process that keeps its table (the API) remembers the marker: one query.
        let kept: Arc<dyn Table> = table.clone();
        crate::reconcile::rollup::remember_markers_of(&kept);
        last_published(table.as_ref(), "tokyo", Role::Official)
            .await
            .unwrap();
        table.reset();
        for role in [Role::Official, Role::Media, Role::Hazard] {
            last_published(table.as_ref(), "tokyo", role).await.unwrap();
        }
        assert_eq!((table.counts().queries, table.counts().reads()), (3, 3));
        // Canberra has no marker seen yet: asked again, once.
        table.reset();
        last_published(table.as_ref(), "canberra", Role::Official)
            .await
            .unwrap();
        assert_eq!(table.counts().reads(), 2);
    }

    /// The fix: past the time index's look-back the old path says "never published", which
    /// shows the mission as silent; the role index finds the post however deep it is.
    #[tokio::test]
    async fn an_official_post_beyond_the_look_back_is_found_by_the_role_index_only() {
        let (table, _dir) = mission_with(MAX_READS_FOR_LAST + 40).await;
        let posted = Some(crate::reconcile::tests::at("2025-03-01T00:00:00Z"));
        // No marker yet: the old answer.
        assert_eq!(
            last_published(table.as_ref(), "tokyo", Role::Official)
                .await
                .unwrap(),
            None
        );
        complete(table.as_ref()).await;
        let (indexed, by_time) = answers(table.as_ref()).await;
        assert_eq!(indexed[0].as_ref().map(|(t, _)| *t), posted);
        assert_eq!(by_time[0], None);
        // Everything else the same.
        assert_eq!(indexed[1..], by_time[1..]);
        table.reset();
        let last = last_published_item(table.as_ref(), "tokyo", Role::Official)
            .await
            .unwrap();
        assert_eq!(last, indexed[0]);
        assert_eq!(table.counts().queries, 1);
    }

    #[tokio::test]
    async fn the_last_official_post_behind_many_media_items_takes_few_queries_on_the_time_index() {
        let (table, _dir) = mission_with(150).await;
        table.reset();
        let last = last_published_item_by_time(table.as_ref(), "tokyo", Role::Official)
            .await
            .unwrap();
        assert_eq!(
            last.map(|(t, _)| t),
            Some(crate::reconcile::tests::at("2025-03-01T00:00:00Z"))
        );
        // Pages of 5, 20, 80, 95: the 151st item is in the fourth.
        assert_eq!(table.counts().reads(), 4);
        // The newest item itself: one query.
        table.reset();
        let media = last_published_item_by_time(table.as_ref(), "tokyo", Role::Media)
            .await
            .unwrap();
        assert_eq!(
            media.map(|(t, _)| t),
            Some(crate::reconcile::tests::at("2025-03-02T02:29:00Z"))
        );
        assert_eq!(table.counts().reads(), 1);
    }
}
