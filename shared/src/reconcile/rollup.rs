//! Two per-mission records reconcile keeps beside each item, so that two API questions are
//! one bounded query each instead of a read of the mission's whole time index:
//!
//! - **the role index**: `MROLE#{mission}#{role}` / `{published}#{item_id}`, a bare pointer
//!   (it holds `item_id` and nothing else): a mission's feed of one role is a backward range
//!   query on it and a batch get of the items' `CURRENT` ([`role_items`]), its last
//!   publication of a role the newest pointer ([`last_of_role`]: one query of one record), and
//!   a crisis's candidate responses its official items from a time on
//!   ([`role_currents_since`]);
//! - **daily counts**: `ACTIVITY#{mission}` / `{yyyy-mm-dd}` (UTC day of publication), one
//!   number per role (`official`, `hq`, `media`, `hazard`): an activity chart is one range
//!   query of at most one record per day of the window ([`activity`]).
//!
//! **Exact under redelivery, races and crashes.** Both change in the same transaction that
//! creates or replaces the item's `CURRENT` (conditioned on its absence or on its
//! `state_tag`): a transaction whose condition fails writes nothing, so a redelivered event, a
//! concurrent reconciler or a retry after a crash can neither count an item twice nor lose
//! it. `CURRENT` says it is counted (`attr::INDEXED`); when a new `CURRENT` replaces a counted
//! one whose role or publication differs, the same transaction moves the pointer and the count
//! ([`moves`]). A decrement is conditioned on the total it read, and a day brought back to
//! zero is deleted, so the records depend only on the items, not on delivery order.
//!
//! **Stores written before these records** hold `CURRENT`s without `indexed`. [`backfill`]
//! (run once per table by `sync_registry`, like `latest::backfill`) indexes each such item of a
//! mission in a transaction conditioned on its `state_tag`, which it also changes, so a
//! reconciler that read the item before cannot then count it again; then it writes the
//! mission's marker `ACTIVITY#{mission}` / `~complete`. Readers use the records only for a
//! mission with the marker ([`role_items`] and [`activity`] answer `None` otherwise) and read
//! the time index instead. The activity query reaches the marker in the same range (it sorts
//! after every day), so a chart is one request either way it answers. The other readers get
//! the marker beside their first query; a marker is never removed, so a process that holds
//! its table for its life (the API) registers it ([`remember_markers_of`]) and stops asking
//! once it has seen a mission's.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::read::{
    ItemFilter, ItemPage, PageBuilder, ReadError, STORED_ITEM_ATTRS, into_stored_item,
};
use super::{as_count, attr, parse_time};
use crate::model::Role;
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Condition, Cursor, Item, Key, Query, Table, TableError, TransactOp, Update};

/// Where an item stands in its mission's role index and daily counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    pub mission: String,
    pub role: Role,
    pub published: DateTime<Utc>,
    pub item_id: String,
}

impl Placement {
    /// The placement of the item a `CURRENT` record holds, if the record is readable.
    pub fn of_record(record: &Item) -> Option<Placement> {
        let text = |name: &str| record.get(name).and_then(Value::as_str);
        Some(Placement {
            mission: text("mission")?.to_owned(),
            role: Role::parse(text("role")?)?,
            published: parse_time(text("published_at")?)?,
            item_id: text(attr::ITEM_ID)?.to_owned(),
        })
    }

    /// The placement `CURRENT` was counted under, if it was (`attr::INDEXED`).
    pub fn counted(record: &Item) -> Result<Option<Placement>, String> {
        if record.get(attr::INDEXED) != Some(&Value::Bool(true)) {
            return Ok(None);
        }
        Placement::of_record(record)
            .map(Some)
            .ok_or_else(|| "indexed CURRENT lacks its mission, role or publication time".into())
    }

    fn pointer_key(&self) -> Key {
        Key::new(
            schema::mission_role_pk(&self.mission, self.role.as_str()),
            schema::item_time_sk(self.published, &self.item_id),
        )
    }

    fn counter_key(&self) -> Key {
        Key::new(
            schema::activity_pk(&self.mission),
            schema::activity_sk(self.published.date_naive()),
        )
    }

    fn pointer_record(&self) -> Item {
        let key = self.pointer_key();
        let mut record = Item::new();
        record.insert(table::PK.into(), Value::String(key.pk));
        record.insert(table::SK.into(), Value::String(key.sk));
        record.insert(attr::ITEM_ID.into(), Value::String(self.item_id.clone()));
        record
    }
}

/// Attribute of a counter record: how many items it counts, all roles together. Every counter
/// record holds all four roles and `total` (0 included), and goes when `total` would reach 0,
/// so the records depend on the items alone, not on the order their versions arrived in.
pub const TOTAL_ATTR: &str = "total";

const ROLES: [Role; 4] = [Role::Official, Role::Hq, Role::Media, Role::Hazard];

/// Changes to counter records: per record, per role (`Role::as_str`).
type Deltas = BTreeMap<Key, BTreeMap<&'static str, i64>>;

fn count(deltas: &mut Deltas, place: &Placement, delta: i64) {
    *deltas
        .entry(place.counter_key())
        .or_default()
        .entry(place.role.as_str())
        .or_default() += delta;
}

/// The writes that take an item from `old` (where it is counted now; None if nowhere) to
/// `new` (None: nowhere), to join the transaction that writes its `CURRENT`. Nothing when
/// they are the same place. A count that goes down reads its record first (a move of day or
/// role: rare) and is conditioned on the `total` it read, so it can delete the record exactly
/// when it would hold nothing; a concurrent change of that record fails the transaction, and
/// the reconciler decides again.
pub(crate) async fn moves(
    table: &dyn Table,
    old: Option<&Placement>,
    new: Option<&Placement>,
) -> Result<Vec<TransactOp>, TableError> {
    let mut ops = Vec::new();
    let (old_pointer, new_pointer) = (
        old.map(Placement::pointer_key),
        new.map(Placement::pointer_key),
    );
    if old_pointer != new_pointer {
        if let Some(key) = old_pointer {
            ops.push(TransactOp::Delete {
                key,
                condition: Condition::None,
            });
        }
        if let Some(place) = new {
            ops.push(TransactOp::Put {
                item: place.pointer_record(),
                condition: Condition::None,
            });
        }
    }
    // One write per counter record (a transaction names a key once): both ends of a move
    // within one day are one record, and nothing when the role is the same too.
    let mut deltas = Deltas::new();
    for (place, delta) in [(old, -1), (new, 1)] {
        if let Some(place) = place {
            count(&mut deltas, place, delta);
        }
    }
    let mut totals = BTreeMap::new();
    for (key, by_role) in &deltas {
        if by_role.values().sum::<i64>() < 0 {
            let total = table
                .get(key)
                .await?
                .and_then(|r| r.get(TOTAL_ATTR).and_then(as_count));
            if let Some(total) = total.and_then(|t| i64::try_from(t).ok()) {
                totals.insert(key.clone(), total);
            }
        }
    }
    ops.extend(counter_ops(deltas, &totals));
    Ok(ops)
}

/// The counter writes for `deltas`; `totals` holds the `total` read from each record a
/// change takes down.
fn counter_ops(deltas: Deltas, totals: &BTreeMap<Key, i64>) -> Vec<TransactOp> {
    let mut ops = Vec::new();
    for (key, by_role) in deltas {
        let net: i64 = by_role.values().sum();
        let mut add: Vec<(String, i64)> = by_role
            .iter()
            .filter(|(_, d)| **d != 0)
            .map(|(role, d)| (role.to_string(), *d))
            .collect();
        if add.is_empty() {
            continue;
        }
        if net < 0 {
            let Some(&total) = totals.get(&key) else {
                // Counted, yet no record: nothing to take down (never, unless edited by hand).
                tracing::warn!(?key, "counter record missing; decrement skipped");
                continue;
            };
            let condition = Condition::Equals {
                attr: TOTAL_ATTR.into(),
                value: Value::from(total),
            };
            if total + net <= 0 {
                ops.push(TransactOp::Delete { key, condition });
            } else {
                add.push((TOTAL_ATTR.into(), net));
                ops.push(TransactOp::Update {
                    key,
                    update: Update {
                        add,
                        ..Update::default()
                    },
                    condition,
                });
            }
            continue;
        }
        if net > 0 {
            // ADD commutes: no condition. Zeros for the other roles, so every record holds all.
            for role in ROLES {
                if !by_role.contains_key(role.as_str()) {
                    add.push((role.as_str().to_owned(), 0));
                }
            }
            add.push((TOTAL_ATTR.into(), net));
        }
        ops.push(TransactOp::Update {
            key,
            update: Update {
                add,
                ..Update::default()
            },
            condition: Condition::None,
        });
    }
    ops
}

/// The marker saying a mission's role index and daily counts hold every item.
fn marker_key(mission: &str) -> Key {
    Key::new(schema::activity_pk(mission), schema::ACTIVITY_COMPLETE_SK)
}

/// Whether `mission`'s records are complete (its marker is there): no request when this
/// process has seen the marker already (see [`remember_markers_of`]), else one get.
pub async fn is_complete(table: &dyn Table, mission: &str) -> Result<bool, TableError> {
    if markers::seen(table, mission) {
        return Ok(true);
    }
    probe_marker(table, mission).await
}

/// One get of the marker; a marker found is remembered.
async fn probe_marker(table: &dyn Table, mission: &str) -> Result<bool, TableError> {
    let complete = table.get(&marker_key(mission)).await?.is_some();
    if complete {
        markers::note(table, mission);
    }
    Ok(complete)
}

/// Runs `read`, a read of `mission`'s role index, when its records are complete (None when
/// they are not). The marker is read beside `read`, so a complete mission costs no more time
/// than `read` alone, and not at all once this process has seen it.
async fn when_complete<T>(
    table: &dyn Table,
    mission: &str,
    read: impl Future<Output = Result<T, TableError>>,
) -> Result<Option<T>, TableError> {
    if markers::seen(table, mission) {
        return read.await.map(Some);
    }
    let (complete, value) = futures::try_join!(probe_marker(table, mission), read)?;
    Ok(complete.then_some(value))
}

/// Lets this process remember which of `table`'s missions have their marker, so that the
/// role reads stop asking (markers are never removed). Called by whoever holds the table for
/// the process's life (the API's router); a table not registered is asked every time.
///
/// Tables are told apart by address, which is why they must be registered: the registry
/// holds a weak reference to each, which keeps its address from going to another table
/// (tests make many, with the same missions) while any entry names it. A decorator and the
/// table it holds inline may share an address: they are one store, so that is harmless.
pub fn remember_markers_of(table: &Arc<dyn Table>) {
    markers::register(table);
}

mod markers {
    use std::collections::HashSet;
    use std::sync::{Arc, RwLock, Weak};

    use crate::store::Table;

    struct Remembered {
        table: Weak<dyn Table>,
        missions: HashSet<String>,
    }

    /// The registered tables still alive, each with the missions seen with their marker.
    static REMEMBERED: RwLock<Vec<Remembered>> = RwLock::new(Vec::new());

    fn address(table: &dyn Table) -> *const () {
        table as *const dyn Table as *const ()
    }

    fn is(entry: &Remembered, table: &dyn Table) -> bool {
        entry.table.strong_count() > 0 && Weak::as_ptr(&entry.table) as *const () == address(table)
    }

    pub(super) fn register(table: &Arc<dyn Table>) {
        let mut all = REMEMBERED.write().unwrap_or_else(|e| e.into_inner());
        all.retain(|entry| entry.table.strong_count() > 0);
        if !all.iter().any(|entry| is(entry, table.as_ref())) {
            all.push(Remembered {
                table: Arc::downgrade(table),
                missions: HashSet::new(),
            });
        }
    }

    pub(super) fn seen(table: &dyn Table, mission: &str) -> bool {
        let all = REMEMBERED.read().unwrap_or_else(|e| e.into_inner());
        all.iter()
            .any(|entry| is(entry, table) && entry.missions.contains(mission))
    }

    pub(super) fn note(table: &dyn Table, mission: &str) {
        let mut all = REMEMBERED.write().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = all.iter_mut().find(|entry| is(entry, table)) {
            entry.missions.insert(mission.to_owned());
        }
    }
}

/// A role index entry and its item's `CURRENT` (see [`pointed_currents`]).
struct Pointed {
    sk: String,
    item_id: String,
    current: Option<Item>,
}

/// The `CURRENT` of each pointer of a page of a role index, in the index's order, with the
/// pointer's sort key (`{published}#{item_id}`) and item id. The record is None when the item
/// is gone or does not stand where its pointer says: a pointer moves in the transaction that
/// moves its item, so that is never seen on a consistent read (an item is listed where its
/// own pointer is). One batch get; nothing for an empty page.
async fn pointed_currents(
    table: &dyn Table,
    page: crate::store::Page,
    attrs: Option<&'static [&'static str]>,
) -> Result<(Vec<Pointed>, Option<Cursor>), TableError> {
    let positions: Vec<(String, String)> = page
        .items
        .iter()
        .filter_map(|p| {
            let sk = p.get(table::SK)?.as_str()?;
            let id = p.get(attr::ITEM_ID)?.as_str()?;
            Some((sk.to_owned(), id.to_owned()))
        })
        .collect();
    if positions.is_empty() {
        return Ok((Vec::new(), page.cursor));
    }
    let keys: Vec<Key> = positions
        .iter()
        .map(|(_, id)| Key::new(schema::item_pk(id), schema::CURRENT))
        .collect();
    let currents = match attrs {
        Some(attrs) => table.batch_get_some(&keys, attrs).await?,
        None => table.batch_get(&keys).await?,
    };
    let pointed = positions
        .into_iter()
        .zip(currents)
        .map(|((sk, item_id), record)| {
            let here = record
                .as_ref()
                .and_then(|r| r.get(table::GSI1_SK))
                .and_then(Value::as_str)
                == Some(sk.as_str());
            Pointed {
                sk,
                item_id,
                current: record.filter(|_| here),
            }
        })
        .collect();
    Ok((pointed, page.cursor))
}

/// A mission's items of `filter.role`, newest first, as the time index lists them
/// ([`super::read::mission_items_by_time`]): the same items in the same order, and the same
/// cursors (a cursor is a position on the time index, whose sort key is the role index's too),
/// so either path resumes the other's pages. Pages differ only where the time index would stop
/// at its read cap (`MAX_READS_PER_PAGE` items of every role) and hand back a short page.
/// `None` when the mission's records are not complete yet.
///
/// Requests: the marker's get beside the first query (none once this process has seen the
/// marker), then one batch get per page of pointers; the language filter, if any, reads
/// ahead as on the time index.
pub(crate) async fn role_items(
    table: &dyn Table,
    mission: &str,
    role: Role,
    filter: &ItemFilter,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<Option<ItemPage>, ReadError> {
    let time_pk = schema::mission_items_pk(mission);
    let pointer_pk = schema::mission_role_pk(mission, role.as_str());
    let mut next = match &cursor {
        None => None,
        Some(c) => {
            let attrs = c.key_attrs().map_err(|_| ReadError::ForeignCursor)?;
            let text = |name: &str| attrs.get(name).and_then(Value::as_str);
            match (text(table::GSI1_PK), text(table::GSI1_SK)) {
                (Some(pk), Some(sk)) if pk == time_pk => {
                    let mut position = Item::new();
                    position.insert(table::PK.into(), Value::String(pointer_pk.clone()));
                    position.insert(table::SK.into(), Value::String(sk.to_owned()));
                    Some(Cursor::from_key_attrs(&position))
                }
                _ => return Err(ReadError::ForeignCursor),
            }
        }
    };
    // Every pointer is of the role, so only a language filter reads ahead.
    let mut builder = PageBuilder::new(filter, limit, filter.language.is_some());
    let mut first = true;
    loop {
        let query = Query::partition(Index::Primary, pointer_pk.clone())
            .range(filter.range())
            .backward()
            .limit(builder.want())
            .after(next.take());
        let page = if first {
            first = false;
            match when_complete(table, mission, table.query(query)).await? {
                Some(page) => page,
                None => return Ok(None),
            }
        } else {
            table.query(query).await?
        };
        // Only what a feed shows: `CURRENT` holds the enrichment too, most of its bytes.
        let (pointed, more) = pointed_currents(table, page, Some(STORED_ITEM_ATTRS)).await?;
        for p in pointed {
            let position = time_cursor(&time_pk, &p.item_id, &p.sk);
            let item = p.current.and_then(into_stored_item);
            if let Some(full) = builder.read(position, item) {
                return Ok(Some(full));
            }
        }
        match builder.after_query(more) {
            ControlFlow::Break(done) => return Ok(Some(done)),
            ControlFlow::Continue(c) => next = Some(c),
        }
    }
}

/// The newest entry of `mission`'s role index for `role`: when and which item it last
/// published, exact however far back. One query of one record (and the marker's get beside
/// it until this process has seen the marker); `None` when the mission's records are not
/// complete yet, `Some(None)` when it never published with the role.
pub(crate) async fn last_of_role(
    table: &dyn Table,
    mission: &str,
    role: Role,
) -> Result<Option<Option<(DateTime<Utc>, String)>>, TableError> {
    let query = Query::partition(
        Index::Primary,
        schema::mission_role_pk(mission, role.as_str()),
    )
    .backward()
    .limit(1);
    let Some(page) = when_complete(table, mission, table.query(query)).await? else {
        return Ok(None);
    };
    // The sort key is `{published}#{item_id}`; the pointer holds the id.
    let newest = page.items.first().and_then(|pointer| {
        let sk = pointer.get(table::SK)?.as_str()?;
        let item_id = pointer.get(attr::ITEM_ID)?.as_str()?;
        let (time, _) = sk.split_once('#')?;
        Some((parse_time(time)?, item_id.to_owned()))
    });
    Ok(Some(newest))
}

/// `mission`'s items of `role` published from `since` on, oldest first, as their `CURRENT`
/// records, for readers that filter them further (a crisis's responses): read a page of
/// [`table::MAX_BATCH_GET_KEYS`] pointers at a time (a query and a batch get), going on while
/// `more(records read so far)` says so. `None` when the mission's records are not complete
/// yet.
pub(crate) async fn role_currents_since(
    table: &dyn Table,
    mission: &str,
    role: Role,
    since: DateTime<Utc>,
    more: impl Fn(usize) -> bool,
) -> Result<Option<Vec<Item>>, TableError> {
    let pointer_pk = schema::mission_role_pk(mission, role.as_str());
    let query = |after| {
        Query::partition(Index::Primary, pointer_pk.clone())
            .range(SortKeyRange::Ge(schema::sortable_time(since)))
            .limit(table::MAX_BATCH_GET_KEYS)
            .after(after)
    };
    let Some(mut page) = when_complete(table, mission, table.query(query(None))).await? else {
        return Ok(None);
    };
    let mut records = Vec::new();
    loop {
        let (pointed, cursor) = pointed_currents(table, page, None).await?;
        records.extend(pointed.into_iter().filter_map(|p| p.current));
        match cursor {
            Some(c) if more(records.len()) => page = table.query(query(Some(c))).await?,
            _ => return Ok(Some(records)),
        }
    }
}

/// The time index's cursor for an item at `sk` (what `Cursor::for_item` makes of its
/// `CURRENT` on GSI1).
fn time_cursor(time_pk: &str, item_id: &str, sk: &str) -> Cursor {
    let mut record = Item::new();
    let mut set = |name: &str, value: String| {
        record.insert(name.into(), Value::String(value));
    };
    set(table::PK, schema::item_pk(item_id));
    set(table::SK, schema::CURRENT.to_owned());
    set(table::GSI1_PK, time_pk.to_owned());
    set(table::GSI1_SK, sk.to_owned());
    Cursor::for_item(Index::Gsi1, &record)
}

/// A mission's items per UTC day of publication and role, from `first` to `last` (both
/// included): one range query on its daily counts (which reaches the marker too; days after
/// `last`, items published in the future, are read and dropped). `None` when the mission's
/// records are not complete yet.
pub(crate) async fn activity(
    table: &dyn Table,
    mission: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Option<super::read::Activity>, TableError> {
    let mut complete = false;
    let mut activity = super::read::Activity::default();
    let mut cursor = None;
    loop {
        let page = table
            .query(
                Query::partition(Index::Primary, schema::activity_pk(mission))
                    .range(SortKeyRange::Between(
                        schema::activity_sk(first),
                        schema::ACTIVITY_COMPLETE_SK.to_owned(),
                    ))
                    .after(cursor),
            )
            .await?;
        for record in &page.items {
            let Some(sk) = record.get(table::SK).and_then(Value::as_str) else {
                continue;
            };
            if sk == schema::ACTIVITY_COMPLETE_SK {
                complete = true;
                continue;
            }
            let Ok(day) = NaiveDate::parse_from_str(sk, "%Y-%m-%d") else {
                continue;
            };
            if day > last {
                continue;
            }
            let count = |role: Role| {
                record
                    .get(role.as_str())
                    .and_then(as_count)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0)
            };
            let counts = super::read::DayCount {
                day,
                official: count(Role::Official),
                hq: count(Role::Hq),
                media: count(Role::Media),
                hazard: count(Role::Hazard),
            };
            let total = counts.official + counts.hq + counts.media + counts.hazard;
            if total > 0 {
                activity.items_read += total as usize;
                activity.days.push(counts);
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(complete.then_some(activity))
}

/// Items indexed per transaction by the backfill: 3 operations each at most (its `CURRENT`,
/// its pointer, its day's counter), under DynamoDB's 100.
const BACKFILL_ITEMS_PER_WRITE: usize = 30;

/// How often the backfill re-reads an item whose `CURRENT` changed under it.
const BACKFILL_ATTEMPTS: usize = 6;

/// What [`backfill`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfill {
    /// Missions that had no marker and got one.
    pub missions: usize,
    /// Items that were not indexed yet and now are.
    pub items: usize,
}

/// Makes the role index and daily counts complete for each of `missions` without a marker:
/// indexes every item of the mission not indexed yet (read from its time index), then writes
/// the marker. Idempotent, resumable after a crash (an indexed item is skipped), and exact
/// beside running reconcilers (see the module documentation).
pub async fn backfill(table: &dyn Table, missions: &[String]) -> Result<Backfill, TableError> {
    let mut done = Backfill::default();
    for mission in missions {
        let marker = marker_key(mission);
        if table.get(&marker).await?.is_some() {
            continue;
        }
        let mut cursor = None;
        loop {
            let page = table
                .query(
                    Query::partition(Index::Gsi1, schema::mission_items_pk(mission))
                        .limit(500)
                        .after(cursor),
                )
                .await?;
            let unindexed: Vec<&Item> = page
                .items
                .iter()
                .filter(|r| r.get(attr::INDEXED) != Some(&Value::Bool(true)))
                .collect();
            for chunk in unindexed.chunks(BACKFILL_ITEMS_PER_WRITE) {
                done.items += index_items(table, chunk).await?;
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut record = Item::new();
        record.insert(table::PK.into(), Value::String(marker.pk));
        record.insert(table::SK.into(), Value::String(marker.sk));
        table.put(record, Condition::None).await?;
        done.missions += 1;
    }
    Ok(done)
}

/// Indexes `records` (`CURRENT`s as the time index showed them) in one transaction; when it
/// is refused (one changed meanwhile), each alone from a fresh read. Returns how many it
/// indexed.
async fn index_items(table: &dyn Table, records: &[&Item]) -> Result<usize, TableError> {
    let mut ops = Vec::with_capacity(records.len() * 3);
    let mut places = Vec::with_capacity(records.len());
    for record in records {
        if let Some((mark, place)) = index_mark(record) {
            ops.push(mark);
            places.push(place);
        }
    }
    if places.is_empty() {
        return Ok(0);
    }
    // Pointers, and the counters merged per day (a transaction names a key once).
    let mut deltas = Deltas::new();
    for place in &places {
        ops.push(TransactOp::Put {
            item: place.pointer_record(),
            condition: Condition::None,
        });
        count(&mut deltas, place, 1);
    }
    ops.extend(counter_ops(deltas, &BTreeMap::new()));
    match table.transact_write(ops).await {
        Ok(()) => return Ok(places.len()),
        Err(TableError::TransactionCanceled { .. } | TableError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e),
    }
    let mut indexed = 0;
    for place in &places {
        indexed += index_one(table, &place.item_id).await?;
    }
    Ok(indexed)
}

/// Indexes one item from a fresh read of its `CURRENT`, unless it is indexed already.
async fn index_one(table: &dyn Table, item_id: &str) -> Result<usize, TableError> {
    let key = Key::new(schema::item_pk(item_id), schema::CURRENT);
    for _ in 0..BACKFILL_ATTEMPTS {
        let Some(record) = table.get(&key).await? else {
            return Ok(0);
        };
        if record.get(attr::INDEXED) == Some(&Value::Bool(true)) {
            return Ok(0);
        }
        let Some((mark, place)) = index_mark(&record) else {
            return Ok(0);
        };
        let mut ops = vec![mark];
        ops.extend(moves(table, None, Some(&place)).await?);
        match table.transact_write(ops).await {
            Ok(()) => return Ok(1),
            Err(TableError::TransactionCanceled { .. } | TableError::ConditionFailed { .. }) => {
                let pause = fastrand::u64(5..20);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(TableError::Backend {
        op: "rollup backfill",
        message: format!("item {item_id}: CURRENT kept changing"),
        retryable: true,
    })
}

/// The update marking one `CURRENT` indexed (conditioned on its `state_tag`, which it
/// changes: a reconciler holding the old tag re-reads and sees the item counted), and where
/// the item goes. None for a record that is not a readable item (logged).
fn index_mark(record: &Item) -> Option<(TransactOp, Placement)> {
    let tag = record.get(attr::STATE_TAG).and_then(Value::as_str);
    let (Some(place), Some(tag)) = (Placement::of_record(record), tag) else {
        tracing::error!(pk = ?record.get(table::PK), "CURRENT unreadable; not indexed");
        return None;
    };
    let mut update = Update::default();
    update.set.insert(attr::INDEXED.into(), Value::Bool(true));
    let retagged = hex::encode(&Sha256::digest(format!("{tag}|indexed").as_bytes())[..8]);
    update
        .set
        .insert(attr::STATE_TAG.into(), Value::String(retagged));
    let mark = TransactOp::Update {
        key: Key::new(schema::item_pk(&place.item_id), schema::CURRENT),
        update,
        condition: Condition::Equals {
            attr: attr::STATE_TAG.into(),
            value: Value::String(tag.to_owned()),
        },
    };
    Some((mark, place))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::model::NormalizedItem;
    use crate::reconcile::Reconciler;
    use crate::reconcile::read::{self, Activity, DayCount};
    use crate::reconcile::tests::{at, item, jsonl, registry};
    use crate::store::disk::DiskBlobStore;
    use crate::store::sqlite::SqliteTable;
    use crate::store::testing::CountingTable;
    use crate::store::{BlobMeta, BlobStore};

    struct World {
        table: Arc<CountingTable<SqliteTable>>,
        blobs: Arc<DiskBlobStore>,
        reconciler: Arc<Reconciler>,
        _dir: tempfile::TempDir,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let table = Arc::new(CountingTable::new(SqliteTable::in_memory().unwrap()));
        let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
        let reconciler = Arc::new(Reconciler {
            blobs: blobs.clone(),
            table: table.clone(),
            registry: Arc::new(registry()),
        });
        World {
            table,
            blobs,
            reconciler,
            _dir: dir,
        }
    }

    impl World {
        async fn land(&self, key: &str, items: &[NormalizedItem]) {
            self.blobs
                .put(key, jsonl(items).into(), &BlobMeta::default())
                .await
                .unwrap();
            self.reconciler.reconcile_object(key).await.unwrap();
        }

        /// Every role index entry and non-zero count, as `{pk}|{sk}` → what it holds.
        async fn rollups(&self) -> BTreeMap<String, String> {
            let rows = self.table.inner().dump().await.unwrap();
            let mut out = BTreeMap::new();
            for row in rows {
                let text = |n: &str| row.get(n).and_then(Value::as_str).unwrap_or("");
                let (pk, sk) = (text(table::PK), text(table::SK));
                let held = if pk.starts_with("MROLE#") {
                    text(attr::ITEM_ID).to_owned()
                } else if pk.starts_with("ACTIVITY#") && sk != schema::ACTIVITY_COMPLETE_SK {
                    // Every record holds every role and its total; shown: those not 0.
                    let number = |name: &str| row.get(name).and_then(Value::as_i64);
                    let roles = ["official", "hq", "media", "hazard"];
                    assert!(roles.iter().all(|r| number(r).is_some()), "{row:?}");
                    let sum: i64 = roles.iter().filter_map(|r| number(r)).sum();
                    assert_eq!(number(TOTAL_ATTR), Some(sum), "{row:?}");
                    assert!(sum > 0, "a record counting nothing stays: {row:?}");
                    let counts: Vec<String> = roles
                        .iter()
                        .filter(|r| number(r) != Some(0))
                        .map(|r| format!("{r}={}", number(r).unwrap_or(0)))
                        .collect();
                    counts.join(",")
                } else {
                    continue;
                };
                out.insert(format!("{pk}|{sk}"), held);
            }
            out
        }

        async fn mark_complete(&self) {
            backfill(self.table.as_ref(), &["tokyo".into(), "canberra".into()])
                .await
                .unwrap();
        }

        async fn activity(&self) -> Option<Activity> {
            activity(
                self.table.as_ref(),
                "tokyo",
                NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            )
            .await
            .unwrap()
        }

        /// The same window, read the old way from the time index.
        async fn activity_by_time(&self) -> Activity {
            read::mission_activity_by_time(
                self.table.as_ref(),
                "tokyo",
                at("2025-01-01T00:00:00Z"),
                at("2025-12-31T00:00:00Z"),
                read::MAX_READS_FOR_ACTIVITY,
            )
            .await
            .unwrap()
        }
    }

    fn media(slug: &str, title: &str, published: &str, fetched: &str) -> NormalizedItem {
        let mut m = item(slug, title, published, fetched);
        m.role = Role::Media;
        m.source = "news-id".into();
        m.guid = Some(format!("media-{slug}"));
        m
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn rollups(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn id_of(item: &NormalizedItem) -> String {
        item.identity()
    }

    #[tokio::test]
    async fn new_changed_unchanged_and_redelivered_items_are_counted_once() {
        let w = world();
        let a = item(
            "a",
            "Pertemuan",
            "2025-03-01T08:00:00Z",
            "2025-03-01T09:00:00Z",
        );
        let b = item(
            "b",
            "Pameran",
            "2025-03-02T08:00:00Z",
            "2025-03-02T09:00:00Z",
        );
        let m = media(
            "m",
            "Berita",
            "2025-03-01T10:00:00Z",
            "2025-03-01T11:00:00Z",
        );
        w.land("items/1.jsonl", &[a.clone(), b.clone(), m.clone()])
            .await;
        let (ia, ib, im) = (id_of(&a), id_of(&b), id_of(&m));
        let expected = rollups(&[
            ("ACTIVITY#tokyo|2025-03-01", "official=1,media=1"),
            ("ACTIVITY#tokyo|2025-03-02", "official=1"),
            (
                &format!("MROLE#tokyo#media|2025-03-01T10:00:00.000Z#{im}"),
                &im,
            ),
            (
                &format!("MROLE#tokyo#official|2025-03-01T08:00:00.000Z#{ia}"),
                &ia,
            ),
            (
                &format!("MROLE#tokyo#official|2025-03-02T08:00:00.000Z#{ib}"),
                &ib,
            ),
        ]);
        assert_eq!(w.rollups().await, expected);
        // Redelivered, and seen again by the next fetch: nothing moves.
        w.reconciler
            .reconcile_object("items/1.jsonl")
            .await
            .unwrap();
        let mut again = a.clone();
        again.fetched_at = at("2025-03-03T00:00:00Z");
        w.land("items/2.jsonl", &[again]).await;
        assert_eq!(w.rollups().await, expected);
        // Changed on the same day: a new version, the same place.
        let mut changed = a.clone();
        changed.title = "Pertemuan bilateral".into();
        changed.fetched_at = at("2025-03-04T00:00:00Z");
        w.land("items/3.jsonl", &[changed]).await;
        assert_eq!(w.rollups().await, expected);
        let current = w
            .table
            .get(&Key::new(schema::item_pk(&ia), schema::CURRENT))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(current[attr::INDEXED], Value::Bool(true));
        assert_eq!(current[attr::VERSIONS], 2);
        // The same object reconciled by several reconcilers at once still counts each once.
        let c = item(
            "c",
            "Kunjungan",
            "2025-03-02T12:00:00Z",
            "2025-03-02T13:00:00Z",
        );
        w.blobs
            .put("items/4.jsonl", jsonl(&[c]).into(), &BlobMeta::default())
            .await
            .unwrap();
        let racing = (0..6).map(|_| {
            let r = w.reconciler.clone();
            async move { r.reconcile_object("items/4.jsonl").await }
        });
        for outcome in futures::future::join_all(racing).await {
            outcome.unwrap();
        }
        let counts = w.rollups().await;
        assert_eq!(counts["ACTIVITY#tokyo|2025-03-02"], "official=2");
    }

    #[tokio::test]
    async fn a_publication_day_change_moves_the_count_and_the_pointer_in_any_order() {
        let first = item(
            "a",
            "Jadwal",
            "2025-03-01T08:00:00Z",
            "2025-03-01T09:00:00Z",
        );
        let mut moved = first.clone();
        moved.published_at = at("2025-03-05T08:00:00Z");
        moved.summary = Some("Jadwal diubah".into());
        moved.fetched_at = at("2025-03-02T09:00:00Z");
        let id = id_of(&first);
        let expected = rollups(&[
            ("ACTIVITY#tokyo|2025-03-05", "official=1"),
            (
                &format!("MROLE#tokyo#official|2025-03-05T08:00:00.000Z#{id}"),
                &id,
            ),
        ]);
        // In order, in reverse order (the old version arrives late), and with redeliveries.
        let orders: [&[&NormalizedItem]; 3] = [
            &[&first, &moved],
            &[&moved, &first],
            &[&first, &moved, &first, &moved],
        ];
        for order in orders {
            let w = world();
            for (n, it) in order.iter().enumerate() {
                w.land(&format!("items/{n}.jsonl"), &[(*it).clone()]).await;
            }
            assert_eq!(w.rollups().await, expected, "{order:?}");
            // Its role changes too (a source moved to another role): both move.
            let mut as_media = moved.clone();
            as_media.role = Role::Media;
            as_media.title = "Jadwal (media)".into();
            as_media.fetched_at = at("2025-03-06T00:00:00Z");
            w.land("items/role.jsonl", &[as_media]).await;
            assert_eq!(
                w.rollups().await,
                rollups(&[
                    ("ACTIVITY#tokyo|2025-03-05", "media=1"),
                    (
                        &format!("MROLE#tokyo#media|2025-03-05T08:00:00.000Z#{id}"),
                        &id
                    ),
                ])
            );
        }
    }

    /// Official and media items of two languages over a few days, landed as several objects.
    async fn busy_mission() -> World {
        let w = world();
        let mut items = Vec::new();
        for n in 0..60u32 {
            let published = format!("2025-04-{:02}T{:02}:00:00Z", 1 + n / 6, n % 24);
            let fetched = "2025-05-01T00:00:00Z";
            let mut it = if n % 3 == 0 {
                item(&format!("o{n}"), &format!("Resmi {n}"), &published, fetched)
            } else {
                media(&format!("m{n}"), &format!("Media {n}"), &published, fetched)
            };
            if n % 4 == 0 {
                it.language = Some("en".into());
            }
            items.push(it);
        }
        for (n, chunk) in items.chunks(20).enumerate() {
            w.land(&format!("items/busy{n}.jsonl"), chunk).await;
        }
        w
    }

    /// Every page of a listing, each with the cursor it ended with.
    async fn pages(
        w: &World,
        by_time: bool,
        filter: &read::ItemFilter,
        limit: usize,
    ) -> Vec<(Vec<String>, Option<Cursor>)> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = if by_time {
                read::mission_items_by_time(w.table.as_ref(), "tokyo", filter, limit, cursor)
                    .await
                    .unwrap()
            } else {
                read::mission_items(w.table.as_ref(), "tokyo", filter, limit, cursor)
                    .await
                    .unwrap()
            };
            let ids = page.items.iter().map(|i| i.id.clone()).collect();
            out.push((ids, page.next.clone()));
            match page.next {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    }

    #[tokio::test]
    async fn the_role_feed_lists_what_the_time_index_lists_with_the_same_cursors() {
        let w = busy_mission().await;
        w.mark_complete().await;
        let official =
            |language: Option<&str>, since: Option<&str>, until: Option<&str>| read::ItemFilter {
                role: Some(Role::Official),
                language: language.map(str::to_owned),
                since: since.map(at),
                until: until.map(at),
            };
        let filters = [
            official(None, None, None),
            official(Some("en"), None, None),
            official(
                None,
                Some("2025-04-03T00:00:00Z"),
                Some("2025-04-07T05:00:00Z"),
            ),
            official(Some("id"), Some("2025-04-02T00:00:00Z"), None),
            read::ItemFilter {
                role: Some(Role::Media),
                ..Default::default()
            },
            read::ItemFilter {
                role: Some(Role::Hazard),
                ..Default::default()
            },
        ];
        for filter in &filters {
            for limit in [1, 3, 7, 50] {
                let old = pages(&w, true, filter, limit).await;
                let new = pages(&w, false, filter, limit).await;
                assert_eq!(new, old, "{filter:?} limit {limit}");
            }
        }
        // A cursor of either path resumes the other's listing.
        let filter = &filters[0];
        let old = pages(&w, true, filter, 4).await;
        let resumed = read::mission_items(w.table.as_ref(), "tokyo", filter, 4, old[0].1.clone())
            .await
            .unwrap();
        let ids: Vec<String> = resumed.items.iter().map(|i| i.id.clone()).collect();
        assert_eq!((ids, resumed.next), old[1].clone());
        // Another mission's cursor is refused.
        let canberra =
            read::mission_items(w.table.as_ref(), "canberra", filter, 4, old[0].1.clone()).await;
        assert!(matches!(canberra, Err(ReadError::ForeignCursor)));
        // The busiest role feed's cost: the marker, one page of pointers, one batch get.
        w.table.reset();
        let page = read::mission_items(w.table.as_ref(), "tokyo", filter, 5, None)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 5);
        let counts = w.table.counts();
        assert_eq!(
            (counts.gets, counts.queries, counts.batch_gets),
            (1, 1, 1),
            "{counts:?}"
        );
        // Once the process keeps the table (the API does) and has seen the marker: no get.
        let kept: Arc<dyn Table> = w.table.clone();
        remember_markers_of(&kept);
        for expected_gets in [1, 0, 0] {
            w.table.reset();
            read::mission_items(w.table.as_ref(), "tokyo", filter, 5, None)
                .await
                .unwrap();
            let counts = w.table.counts();
            assert_eq!(
                (counts.gets, counts.queries, counts.batch_gets),
                (expected_gets, 1, 1),
                "{counts:?}"
            );
        }
    }

    /// A table made after another was dropped may take its address: what the process
    /// remembered of the first does not hold for it.
    #[tokio::test]
    async fn a_remembered_marker_is_of_its_table_only() {
        for _ in 0..20 {
            let w = busy_mission().await;
            w.mark_complete().await;
            let kept: Arc<dyn Table> = w.table.clone();
            remember_markers_of(&kept);
            assert!(is_complete(w.table.as_ref(), "tokyo").await.unwrap());
            w.table.reset();
            assert!(is_complete(w.table.as_ref(), "tokyo").await.unwrap());
            assert_eq!(w.table.counts().reads(), 0);
            drop(kept);
            drop(w);
            let fresh = world();
            let kept: Arc<dyn Table> = fresh.table.clone();
            remember_markers_of(&kept);
            assert!(!is_complete(fresh.table.as_ref(), "tokyo").await.unwrap());
            assert_eq!(fresh.table.counts().gets, 1);
        }
    }

    #[tokio::test]
    async fn the_items_of_a_role_since_a_time_are_those_the_time_index_holds() {
        let w = busy_mission().await;
        let since = at("2025-04-04T05:00:00Z");
        let of_role = |role: Role| {
            let table = w.table.clone();
            async move {
                let by_time = read::mission_items_by_time(
                    table.as_ref(),
                    "tokyo",
                    &read::ItemFilter {
                        role: Some(role),
                        since: Some(since),
                        ..Default::default()
                    },
                    1000,
                    None,
                )
                .await
                .unwrap();
                let mut ids: Vec<String> = by_time.items.into_iter().map(|i| i.id).collect();
                ids.reverse();
                let indexed = role_currents_since(table.as_ref(), "tokyo", role, since, |_| true)
                    .await
                    .unwrap();
                let indexed: Option<Vec<String>> = indexed.map(|records| {
                    records
                        .iter()
                        .map(|r| r[attr::ITEM_ID].as_str().unwrap().to_owned())
                        .collect()
                });
                (ids, indexed)
            }
        };
        // No marker: no answer.
        assert_eq!(of_role(Role::Official).await.1, None);
        w.mark_complete().await;
        for role in [Role::Official, Role::Media, Role::Hazard] {
            let (by_time, indexed) = of_role(role).await;
            assert_eq!(Some(by_time), indexed, "{role:?}");
        }
        assert_eq!(of_role(Role::Official).await.0.len(), 14);
        // One page of pointers (up to 100) and one batch get of their items.
        w.table.reset();
        let media = role_currents_since(w.table.as_ref(), "tokyo", Role::Media, since, |_| false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(media.len(), 28);
        let counts = w.table.counts();
        assert_eq!((counts.queries, counts.batch_gets), (1, 1));
    }

    #[tokio::test]
    async fn the_activity_counts_equal_the_time_index_and_cost_one_query() {
        let w = busy_mission().await;
        w.mark_complete().await;
        let counted = w.activity().await.unwrap();
        let by_time = w.activity_by_time().await;
        assert_eq!(counted.days, by_time.days);
        assert_eq!(counted.items_read, 60);
        assert_eq!(
            counted.days[0],
            DayCount {
                day: day("2025-04-01"),
                official: 2,
                media: 4,
                ..DayCount::default()
            }
        );
        w.table.reset();
        let api_window = read::mission_activity(
            w.table.as_ref(),
            "tokyo",
            at("2025-04-03T12:00:00Z"),
            at("2025-04-05T01:00:00Z"),
            read::MAX_READS_FOR_ACTIVITY,
        )
        .await
        .unwrap();
        assert_eq!(w.table.counts().reads(), 1);
        let days: Vec<NaiveDate> = api_window.days.iter().map(|d| d.day).collect();
        assert_eq!(
            days,
            [day("2025-04-03"), day("2025-04-04"), day("2025-04-05")]
        );
        assert_eq!(api_window.items_read, 18);
    }

    /// An old store: reconciled items without role index, counts or `indexed`, as written
    /// before them.
    async fn forget_rollups(w: &World) {
        for row in w.table.inner().dump().await.unwrap() {
            let key = Key::of(&row).unwrap();
            if key.pk.starts_with("MROLE#") || key.pk.starts_with("ACTIVITY#") {
                w.table.delete(&key, Condition::None).await.unwrap();
            } else if key.sk == schema::CURRENT {
                let update = Update {
                    remove: vec![attr::INDEXED.into()],
                    ..Update::default()
                };
                w.table.update(&key, update, Condition::None).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn before_the_marker_the_time_index_answers_and_the_backfill_completes_the_records() {
        let w = busy_mission().await;
        let written = w.rollups().await;
        assert_eq!(written.len(), 60 + 10, "60 pointers, 10 days");
        forget_rollups(&w).await;
        assert!(w.rollups().await.is_empty());
        // No marker: the role index and the counts do not answer; the API's reads do, the
        // old way.
        let filter = read::ItemFilter {
            role: Some(Role::Official),
            ..Default::default()
        };
        w.table.reset();
        assert_eq!(
            role_items(w.table.as_ref(), "tokyo", Role::Official, &filter, 5, None)
                .await
                .unwrap(),
            None
        );
        // What finding that out cost: the marker's get and the first query beside it.
        let counts = w.table.counts();
        assert_eq!((counts.gets, counts.queries, counts.reads()), (1, 1, 2));
        assert_eq!(w.activity().await, None);
        let old_feed = pages(&w, true, &filter, 5).await;
        assert_eq!(pages(&w, false, &filter, 5).await, old_feed);
        let listed: usize = old_feed.iter().map(|(ids, _)| ids.len()).sum();
        assert_eq!(listed, 20);
        let by_time = w.activity_by_time().await;
        let api = read::mission_activity(
            w.table.as_ref(),
            "tokyo",
            at("2025-01-01T00:00:00Z"),
            at("2025-12-31T00:00:00Z"),
            read::MAX_READS_FOR_ACTIVITY,
        )
        .await
        .unwrap();
        assert_eq!(api, by_time);

        // An old item changes (its day moves) before the backfill: counted once, at its day.
        let mut moved = item(
            "o0",
            "Resmi 0",
            "2025-04-20T00:00:00Z",
            "2025-05-02T00:00:00Z",
        );
        moved.language = Some("en".into());
        w.land("items/moved.jsonl", &[moved.clone()]).await;

        let done = backfill(w.table.as_ref(), &["tokyo".into(), "canberra".into()])
            .await
            .unwrap();
        assert_eq!(
            done,
            Backfill {
                missions: 2,
                items: 59
            }
        );
        let mut expected = written.clone();
        let id = id_of(&moved);
        expected.remove(&format!(
            "MROLE#tokyo#official|2025-04-01T00:00:00.000Z#{id}"
        ));
        expected.insert(
            format!("MROLE#tokyo#official|2025-04-20T00:00:00.000Z#{id}"),
            id.clone(),
        );
        expected.insert(
            "ACTIVITY#tokyo|2025-04-01".into(),
            "official=1,media=4".into(),
        );
        expected.insert("ACTIVITY#tokyo|2025-04-20".into(), "official=1".into());
        assert_eq!(w.rollups().await, expected);
        // Now the records answer, as the time index does.
        assert_eq!(
            pages(&w, false, &filter, 5).await,
            pages(&w, true, &filter, 5).await
        );
        assert_eq!(
            w.activity().await.unwrap().days,
            w.activity_by_time().await.days
        );
        // Idempotent: a second run finds every marker.
        w.table.reset();
        let again = backfill(w.table.as_ref(), &["tokyo".into(), "canberra".into()])
            .await
            .unwrap();
        assert_eq!(again, Backfill::default());
        assert_eq!(
            (w.table.counts().reads(), w.table.counts().writes()),
            (2, 0)
        );
        // A reconcile after the backfill moves what the backfill counted.
        let mut later = moved.clone();
        later.published_at = at("2025-04-21T00:00:00Z");
        later.fetched_at = at("2025-05-03T00:00:00Z");
        w.land("items/later.jsonl", &[later]).await;
        let counts = w.rollups().await;
        assert!(
            !counts.contains_key("ACTIVITY#tokyo|2025-04-20"),
            "{counts:?}"
        );
        assert_eq!(counts["ACTIVITY#tokyo|2025-04-21"], "official=1");
    }

    /// A reconciler that read an item before the backfill indexed it cannot count it again
    /// (the backfill changes the item's lock), and the backfill does not count an item a
    /// reconciler indexed meanwhile: reconcilers moving old items' days while the backfill
    /// runs, their calls interleaved at random, leave exact counts.
    #[tokio::test]
    async fn the_backfill_racing_reconcilers_counts_each_item_once() {
        use crate::store::testing::FaultyTable;
        for seed in 0..4u64 {
            let w = busy_mission().await;
            forget_rollups(&w).await;
            let faulty = Arc::new(FaultyTable::new(w.table.inner().clone()));
            faulty
                .faults()
                .pause_randomly(std::time::Duration::from_millis(3), seed);
            let reconciler = Reconciler {
                blobs: w.blobs.clone(),
                table: faulty.clone(),
                registry: Arc::new(registry()),
            };
            // Every third official item moves to 2025-04-25.
            let moved: Vec<NormalizedItem> = (0..60u32)
                .step_by(9)
                .map(|n| {
                    let mut it = item(
                        &format!("o{n}"),
                        &format!("Resmi {n} diubah"),
                        "2025-04-25T00:00:00Z",
                        "2025-05-02T00:00:00Z",
                    );
                    if n % 4 == 0 {
                        it.language = Some("en".into());
                    }
                    it
                })
                .collect();
            w.blobs
                .put(
                    "items/moved.jsonl",
                    jsonl(&moved).into(),
                    &BlobMeta::default(),
                )
                .await
                .unwrap();
            let missions = ["tokyo".to_owned()];
            let (landed, filled) = tokio::join!(
                reconciler.reconcile_object("items/moved.jsonl"),
                backfill(faulty.as_ref(), &missions)
            );
            landed.unwrap();
            filled.unwrap();
            let counted = w.activity().await.unwrap();
            assert_eq!(counted.days, w.activity_by_time().await.days, "seed {seed}");
            assert_eq!(counted.items_read, 60, "seed {seed}");
            let filter = read::ItemFilter {
                role: Some(Role::Official),
                ..Default::default()
            };
            assert_eq!(
                pages(&w, false, &filter, 50).await,
                pages(&w, true, &filter, 50).await,
                "seed {seed}"
            );
            let on_25th = counted.days.iter().find(|d| d.day == day("2025-04-25"));
            assert_eq!(on_25th.map(|d| d.official), Some(moved.len() as u32));
        }
    }
}
