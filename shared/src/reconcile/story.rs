//! Story grouping: which stored items report the same thing as a new (or changed) item.
//!
//! An item is indexed under each of its story keys ([`crate::stories::Fingerprint::candidate_keys`])
//! by a *story entry* (`{key}` / `{published}#{item_id}`) that carries its fingerprint and its
//! story id, so finding and judging candidates is one query per key and no get:
//!
//! 1. query each key for entries published within ±[`story_window`] of the item;
//! 2. judge each distinct candidate with [`crate::stories::same_story`];
//! 3. the item's story id is the **smallest item id** among itself, its current story and the
//!    stories of the candidates it links to. Every pair of items sharing a key within the
//!    window is judged exactly once, whichever arrives second, and `same_story` is symmetric,
//!    so the link graph does not depend on arrival order; the smallest id of a connected group
//!    does not either;
//! 4. every other story involved is merged into that one: its members (`STORY#{id}`) are
//!    re-pointed — membership moved, `story_id` set on their `CURRENT` and on their entries.
//!    At most [`MAX_MERGE_MEMBERS`] members move per merge (bounded work); a larger story keeps
//!    its tail under the old id (logged), which the next item linking to it merges further;
//! 5. the item's entries and membership (`STORY#{story_id}` / `{published}#{item_id}`, with the
//!    link's reason) are written in one batch, then `story_id` on its `CURRENT` — last, so a
//!    `CURRENT` without `story_id` means "not grouped yet" and the next delivery retries.
//!
//! Stories only grow: an edited item keeps its story (old entries are replaced by the new
//! ones). What is left order-dependent: which link a membership records as its reason (the
//! smallest linked id *present at arrival*), and links made by an intermediate version that a
//! different order never showed. Concurrent reconcilers of two items of one new story (in
//! different objects) may each miss the other; within one object grouping runs sequentially.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

use super::attr;
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Condition, Item, Key, Query, Table, TableError, Update, WriteOp};
use crate::stories::{Fingerprint, LinkReason, same_story_of_candidate};

/// Candidates are items published within this many days either side (default).
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
/// At most this many entries are read per key: a common name or number cannot make one item
/// read a whole partition.
pub const MAX_ENTRIES_PER_KEY: usize = 200;
/// Candidate queries (and a merge's updates) of one item in flight at once.
const QUERIES_IN_FLIGHT: usize = 8;
/// At most this many members move in one merge (each costs a put, a delete and about 20
/// updates: its entries and `CURRENT`).
pub const MAX_MERGE_MEMBERS: usize = 100;
/// Word-pair hashes kept in an entry's fingerprint: the smallest ones (a bottom-k sketch), so
/// a very long body stays well under the item size limit.
pub const MAX_ENTRY_SHINGLES: usize = 2000;

/// Attribute names of story entries and memberships.
pub mod story_attr {
    pub const STORY_ID: &str = "story_id";
    /// `schema::sortable_time` of the item's publication.
    pub const PUBLISHED: &str = "published";
    /// The item's [`crate::stories::Fingerprint`] as JSON text.
    pub const FINGERPRINT: &str = "fingerprint";
    /// Membership: why the item joined (`LinkReason` as JSON), null for a story's first item.
    pub const REASON: &str = "reason";
    /// Membership: the item the reason links to.
    pub const LINKED_TO: &str = "linked_to";
    /// Membership: the item's story keys, so a merge can re-point its entries.
    pub const STORY_KEYS: &str = "story_keys";
}
use story_attr::*;

/// `PANTAU_STORY_WINDOW_DAYS` (1–90), else [`DEFAULT_WINDOW_DAYS`].
pub fn story_window() -> Duration {
    let days = crate::config::optional("PANTAU_STORY_WINDOW_DAYS")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| (1..=90).contains(d))
        .unwrap_or(DEFAULT_WINDOW_DAYS);
    Duration::days(days)
}

/// Everything grouping needs about one item's version.
#[derive(Debug, Clone)]
pub(crate) struct StoryJob {
    pub id: String,
    /// The content this job groups; `CURRENT` must still show it when grouping ends.
    pub content_hash: String,
    pub published_at: DateTime<Utc>,
    pub fingerprint: Fingerprint,
    pub keys: Vec<String>,
    /// The story `CURRENT` already names, if any.
    pub existing_story: Option<String>,
    /// Entries of an earlier version to remove: keys and sort key.
    pub old_entries: Option<(Vec<String>, String)>,
    /// Shown in a story's member list.
    pub title: String,
    pub mission: String,
    pub source: String,
    pub language: Option<String>,
}

impl StoryJob {
    fn sk(&self) -> String {
        schema::item_time_sk(self.published_at, &self.id)
    }
}

/// A candidate found through the index.
struct Candidate {
    story_id: String,
    fingerprint: Fingerprint,
}

/// Where grouping put an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grouped {
    pub story_id: String,
    /// The item linked to no other item and had no story before: a story of one, so far.
    pub alone: bool,
}

/// Groups one item; returns its story, or None when `CURRENT` moved on to other content
/// meanwhile (a concurrent reconciler): the caller groups the current content again.
pub(crate) async fn group(
    table: &dyn Table,
    job: &StoryJob,
    window: Duration,
) -> Result<Option<Grouped>, TableError> {
    let sk = job.sk();
    let keys: BTreeSet<&String> = job.keys.iter().collect();

    // 1. Candidates, by item id (one item shows up under several keys).
    let lo = schema::sortable_time(job.published_at - window);
    let hi = format!("{}$", schema::sortable_time(job.published_at + window));
    // The queries are independent: a few in flight hide their latency.
    let queries: Vec<Query> = keys
        .iter()
        .map(|key| {
            Query::partition(Index::Primary, (*key).clone())
                .range(SortKeyRange::Between(lo.clone(), hi.clone()))
                .limit(MAX_ENTRIES_PER_KEY)
        })
        .collect();
    let pages: Vec<_> = futures::stream::iter(queries)
        .map(|query| table.query(query))
        .buffered(QUERIES_IN_FLIGHT)
        .collect()
        .await;
    let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
    for (key, page) in keys.iter().zip(pages) {
        for entry in page?.items {
            let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
            let (Some(item_id), Some(story_id), Some(fp)) =
                (text(attr::ITEM_ID), text(STORY_ID), text(FINGERPRINT))
            else {
                continue;
            };
            if item_id == job.id || candidates.contains_key(&item_id) {
                continue;
            }
            match serde_json::from_str::<Fingerprint>(&fp) {
                Ok(fingerprint) => {
                    candidates.insert(
                        item_id,
                        Candidate {
                            story_id,
                            fingerprint,
                        },
                    );
                }
                Err(e) => tracing::warn!(key = %key, error = %e, "unreadable story entry skipped"),
            }
        }
    }

    // 2. Links; the recorded one is the smallest linked id (BTreeMap order). Every candidate
    //    came from one of this item's key partitions, so it shares a key by construction.
    let mine = entry_fingerprint(&job.fingerprint);
    let mut linked: Vec<(&String, &Candidate, LinkReason)> = Vec::new();
    for (id, c) in &candidates {
        if let Some(reason) = same_story_of_candidate(&mine, &c.fingerprint) {
            linked.push((id, c, reason));
        }
    }

    // 3. The story id: the smallest of the group.
    let mut stories: BTreeSet<String> = linked.iter().map(|(_, c, _)| c.story_id.clone()).collect();
    stories.extend(job.existing_story.clone());
    let target = stories
        .iter()
        .chain(std::iter::once(&job.id))
        .min()
        .cloned()
        .unwrap_or_else(|| job.id.clone());

    // 4. Merges.
    for from in stories.iter().filter(|s| **s != target) {
        merge(table, from, &target).await?;
    }

    // 5. Entries, membership (and removal of the previous version's), then CURRENT.
    let fingerprint_json = serde_json::to_string(&mine)
        .map_err(|e| TableError::Validation(format!("fingerprint of {}: {e}", job.id)))?;
    let published = schema::sortable_time(job.published_at);
    let mut ops = Vec::with_capacity(keys.len() + 2);
    for key in &keys {
        let mut entry = Item::new();
        let mut set = |name: &str, value: &str| {
            entry.insert(name.into(), Value::String(value.to_owned()));
        };
        set(table::PK, key);
        set(table::SK, &sk);
        set(attr::ITEM_ID, &job.id);
        set(STORY_ID, &target);
        set(PUBLISHED, &published);
        set(FINGERPRINT, &fingerprint_json);
        ops.push(WriteOp::Put(entry));
    }
    let first = linked.first();
    let membership = json!({
        table::PK: schema::story_pk(&target),
        table::SK: sk,
        attr::ITEM_ID: job.id,
        STORY_ID: target,
        PUBLISHED: published,
        "title": job.title,
        "mission": job.mission,
        "source": job.source,
        "language": job.language,
        REASON: first.map(|(_, _, r)| serde_json::to_value(r).unwrap_or(Value::Null)),
        LINKED_TO: first.map(|(id, _, _)| (*id).clone()),
        STORY_KEYS: keys.iter().map(|k| (*k).clone()).collect::<Vec<_>>(),
    });
    if let Value::Object(m) = membership {
        ops.push(WriteOp::Put(m));
    }
    if let Some((old_keys, old_sk)) = &job.old_entries {
        for key in old_keys {
            if *old_sk != sk || !keys.contains(key) {
                ops.push(WriteOp::Delete(Key::new(key.clone(), old_sk.clone())));
            }
        }
        if *old_sk != sk {
            ops.push(WriteOp::Delete(Key::new(
                schema::story_pk(&target),
                old_sk.clone(),
            )));
        }
    }
    table.batch_write(ops).await?;
    let mut update = Update::default();
    update
        .set
        .insert(STORY_ID.into(), Value::String(target.clone()));
    let still_current = Condition::Equals {
        attr: attr::CONTENT_HASH.into(),
        value: Value::String(job.content_hash.clone()),
    };
    let current = Key::new(schema::item_pk(&job.id), schema::CURRENT);
    let alone = linked.is_empty() && job.existing_story.is_none();
    match table.update(&current, update, still_current).await {
        Ok(_) => Ok(Some(Grouped {
            story_id: target,
            alone,
        })),
        Err(TableError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Re-points up to [`MAX_MERGE_MEMBERS`] members of story `from` to story `to`.
async fn merge(table: &dyn Table, from: &str, to: &str) -> Result<(), TableError> {
    let page = table
        .query(Query::partition(Index::Primary, schema::story_pk(from)).limit(MAX_MERGE_MEMBERS))
        .await?;
    if page.cursor.is_some() {
        tracing::warn!(
            from,
            to,
            moved = page.items.len(),
            "story too large to merge at once; the rest keeps its id"
        );
    }
    let mut ops = Vec::with_capacity(page.items.len() * 2);
    let mut members = Vec::with_capacity(page.items.len());
    for mut member in page.items {
        let Ok(key) = Key::of(&member) else { continue };
        ops.push(WriteOp::Delete(key.clone()));
        member.insert(table::PK.into(), Value::String(schema::story_pk(to)));
        member.insert(STORY_ID.into(), Value::String(to.to_owned()));
        members.push(member.clone());
        ops.push(WriteOp::Put(member));
    }
    table.batch_write(ops).await?;
    // Then every moved member's entries and CURRENT, a few updates in flight.
    let mut targets: Vec<(String, String)> = Vec::new();
    for member in &members {
        let (Some(id), Some(sk)) = (
            member.get(attr::ITEM_ID).and_then(Value::as_str),
            member.get(table::SK).and_then(Value::as_str),
        ) else {
            continue;
        };
        let keys = member.get(STORY_KEYS).and_then(Value::as_array);
        for key in keys.into_iter().flatten().filter_map(Value::as_str) {
            targets.push((key.to_owned(), sk.to_owned()));
        }
        targets.push((schema::item_pk(id), schema::CURRENT.to_owned()));
    }
    let results: Vec<Result<(), TableError>> = futures::stream::iter(targets)
        .map(|(pk, sk)| async move { set_story_id(table, &pk, &sk, to).await })
        .buffer_unordered(QUERIES_IN_FLIGHT)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Sets `story_id` on a record if it still exists (a vanished one is not recreated).
async fn set_story_id(
    table: &dyn Table,
    pk: &str,
    sk: &str,
    story: &str,
) -> Result<(), TableError> {
    let mut update = Update::default();
    update
        .set
        .insert(STORY_ID.into(), Value::String(story.to_owned()));
    match table
        .update(&Key::new(pk, sk), update, Condition::Present)
        .await
    {
        Ok(_) | Err(TableError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The fingerprint as entries keep it (see [`MAX_ENTRY_SHINGLES`]). The item itself is judged
/// with the same cut, so both sides of every comparison are alike.
fn entry_fingerprint(fingerprint: &Fingerprint) -> Fingerprint {
    let mut kept = fingerprint.clone();
    kept.shingles.truncate(MAX_ENTRY_SHINGLES);
    kept
}
