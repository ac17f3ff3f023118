//! Story grouping: which stored items report the same thing as a new (or changed) item.
//!
//! An item is indexed under each of its story keys ([`crate::stories::Fingerprint::candidate_keys`])
//! by a *story entry*: `{key}` / `{published}#{item_id}` and nothing else. A candidate is
//! judged from its *judging record* (`STORY_FP#{item_id}` / `FP`: the fingerprint whole, its
//! word-pair hashes as packed bytes, and the content hash it is of), one `batch_get` per
//! [`MAX_BATCH_GET_KEYS`] candidates; only the candidates it links to have their `CURRENT`
//! read, for their story: the story id is kept only on `CURRENT` and the membership
//! (`STORY#{story_id}` / `{published}#{item_id}`). Judging from `CURRENT` instead (decoding the
//! whole item and rebuilding the word-pair hashes from its text) was most of the cost of
//! loading an archive, since a new item judges dozens to hundreds of candidates. A candidate
//! without a judging record (grouped before they existed) is judged from its `CURRENT`.
//!
//! **The invariant**: a story id is the smallest item id of a group of items connected by
//! links, and a record's `story_id` only ever moves to a smaller id. So the final story ids
//! are a function of the set of items and their links, not of the order or the concurrency
//! in which they arrived. Grouping one item:
//!
//! 1. **write, then look**: its entries and judging record (and, for a new item, a membership
//!    of its own story) are written *before* its candidates are read. Of two items reconciled at once, the one
//!    that looks second sees the other's entries (gets and queries of the base table are
//!    strongly consistent on both stores; no GSI is read here);
//! 2. look: query each key for entries published within ±[`story_window`] (newest first, at
//!    most [`MAX_ENTRIES_PER_KEY`], or [`MAX_ENTRIES_PER_COMMON_KEY`] of a name or number), judge
//!    each candidate from its judging record with [`crate::stories::same_story_of_candidate`]
//!    (the pair shares a key by construction), then read its own `CURRENT` and the linked
//!    candidates' (a linked candidate whose `CURRENT` moved on to other content since its
//!    judging record was written is judged again from the `CURRENT`);
//! 3. the target story is the smallest of: its own id, its current story, the stories of the
//!    candidates it links to (a candidate not grouped yet counts as its own story), and any
//!    merge a previous attempt recorded but did not finish;
//! 4. every other story involved is merged into the target: first the list of stories being
//!    merged is recorded on its `CURRENT` (`story_merging`), so a rerun after a fault finishes
//!    them; then each member's `CURRENT` is moved (a conditional write from the story it was
//!    read with, so a concurrent smaller id is never overwritten), then its membership; the
//!    old story is listed again until it is empty;
//! 5. its membership under the target, then `story_id` on its `CURRENT` (conditional on its
//!    content hash: a `CURRENT` without `story_id` means "not grouped yet" and the next
//!    delivery retries);
//! 6. look again (step 2): grouping ends when a look after its last write finds its `CURRENT`,
//!    its membership and every linked candidate on one story, the target. Otherwise steps 3–5
//!    again, at most [`MAX_ROUNDS`] rounds, then a retryable error (the object comes back).
//!
//! Why that converges: for every linked pair, the later of the two final looks happens after
//! both items' entries and writes, sees both, and settles only if they agree; a merge moves
//! every member of a story (listed again until empty), so two items that agree stay together.
//!
//! Stories only grow: an edited item keeps its story (old entries are replaced by the new
//! ones). What is left order-dependent: which link a membership records as its reason (the
//! smallest linked id seen), links made by an intermediate version that a different order
//! never showed, and, past the entries read of one key within the window (see step 2),
//! which of them are read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

use super::attr;
use crate::enrich::Enrichment;
use crate::schema;
use crate::store::table::{self, Index, MAX_BATCH_GET_KEYS, SortKeyRange};
use crate::store::{Condition, Item, Key, Query, Table, TableError, Update, WriteOp};
use crate::stories::{Fingerprint, LinkReason, same_story_of_candidate};

/// Candidates are items published within this many days either side (default).
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
/// At most this many entries are read per key, the newest in the window first: a template
/// sentence or a common title cannot make one item read a whole partition.
pub const MAX_ENTRIES_PER_KEY: usize = 200;
/// Names and numbers ([`is_common_key`]) are shared by many unrelated items (a country, a
/// year): of such a key at most this many entries are read, the newest in the window first
/// (for an item arriving in publication order, the nearest in time). A year of items puts
/// thousands of entries under the common ones within a window; reading 200 of each made a
/// new item judge several hundred candidates, the whole cost of loading an archive.
pub const MAX_ENTRIES_PER_COMMON_KEY: usize = 32;
/// Candidate queries (and a merge's updates) of one item in flight at once.
const QUERIES_IN_FLIGHT: usize = 8;
/// Members moved per page of a merge (each costs a conditional update of its `CURRENT`, a put
/// and a delete).
pub const MAX_MERGE_MEMBERS: usize = 100;
/// Pages one merge moves at most (a story larger than this many pages keeps its tail, logged;
/// the next item linking to it merges further).
const MAX_MERGE_PAGES: usize = 50;
/// Look–write rounds of one grouping before it gives up with a retryable error.
pub const MAX_ROUNDS: usize = 5;
/// Word-pair hashes a fingerprint is judged with: the smallest ones (a bottom-k sketch), so a
/// very long body costs a bounded comparison. Both sides of every comparison are cut alike.
pub const MAX_ENTRY_SHINGLES: usize = 2000;

/// Attribute names of story memberships (and of grouping's marks on `CURRENT`).
pub mod story_attr {
    pub const STORY_ID: &str = "story_id";
    /// `schema::sortable_time` of the item's publication.
    pub const PUBLISHED: &str = "published";
    /// Membership: why the item joined (`LinkReason` as JSON), null for a story's first item.
    pub const REASON: &str = "reason";
    /// Membership: the item the reason links to.
    pub const LINKED_TO: &str = "linked_to";
    /// `CURRENT`: stories a grouping is merging into the item's story, recorded before the
    /// first member moves and removed with the final `story_id`; a rerun finishes them.
    pub const MERGING: &str = "story_merging";
}
use story_attr::*;

/// Attribute names of judging records (besides `item_id` and `content_hash`).
pub mod judging_attr {
    /// The fingerprint as JSON, without its word-pair hashes.
    pub const FINGERPRINT: &str = "fingerprint";
    /// The word-pair hashes: base64 (no padding) of 8 little-endian bytes each, in order. A
    /// JSON array of numbers took three times the space and most of the decoding time.
    pub const SHINGLES: &str = "shingles";
}

/// Word-pair hashes as a judging record stores them ([`judging_attr::SHINGLES`]).
fn pack_shingles(shingles: &[u64]) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = shingles.iter().flat_map(|h| h.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

/// [`pack_shingles`] undone; None for anything it did not write.
fn unpack_shingles(packed: &str) -> Option<Vec<u64>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(packed)
        .ok()?;
    if bytes.len() % 8 != 0 {
        return None;
    }
    bytes
        .chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).ok().map(u64::from_le_bytes))
        .collect()
}

/// The content hash and fingerprint a judging record holds; None when it is unreadable (then
/// the candidate is judged from its `CURRENT`).
fn judged_fingerprint(record: &Item) -> Option<(String, Fingerprint)> {
    let text = |name: &str| record.get(name).and_then(Value::as_str);
    let mut fingerprint: Fingerprint =
        serde_json::from_str(text(judging_attr::FINGERPRINT)?).ok()?;
    fingerprint.shingles = unpack_shingles(text(judging_attr::SHINGLES)?)?;
    Some((text(attr::CONTENT_HASH)?.to_owned(), fingerprint))
}

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

    /// The judging record of this version, holding `judged` (the fingerprint as it is judged,
    /// see [`entry_fingerprint`]).
    fn judging_record(&self, judged: &Fingerprint) -> Item {
        let without_shingles = Fingerprint {
            shingles: Vec::new(),
            ..judged.clone()
        };
        let record = json!({
            table::PK: schema::story_fingerprint_pk(&self.id),
            table::SK: schema::STORY_FINGERPRINT,
            attr::ITEM_ID: self.id,
            attr::CONTENT_HASH: self.content_hash,
            judging_attr::FINGERPRINT: serde_json::to_string(&without_shingles).unwrap_or_default(),
            judging_attr::SHINGLES: pack_shingles(&judged.shingles),
        });
        match record {
            Value::Object(m) => m,
            _ => Item::new(),
        }
    }

    /// The membership record of this item in `story`, linked by `link` (None: a story's first
    /// item, or not linked yet).
    fn membership(&self, story: &str, link: Option<&Link>) -> Item {
        let record = json!({
            table::PK: schema::story_pk(story),
            table::SK: self.sk(),
            attr::ITEM_ID: self.id,
            STORY_ID: story,
            PUBLISHED: schema::sortable_time(self.published_at),
            "title": self.title,
            "mission": self.mission,
            "source": self.source,
            "language": self.language,
            REASON: link.map(|l| serde_json::to_value(&l.reason).unwrap_or(Value::Null)),
            LINKED_TO: link.map(|l| l.id.clone()),
        });
        match record {
            Value::Object(m) => m,
            _ => Item::new(),
        }
    }
}

/// Where grouping put an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grouped {
    pub story_id: String,
    /// The item linked to no other item and had no story before: a story of one, so far.
    pub alone: bool,
}

/// A candidate this item links to, as one look found it.
#[derive(Debug, Clone, PartialEq)]
struct Link {
    id: String,
    /// Its `CURRENT`'s story, or its own id when it is not grouped yet.
    story: String,
    reason: LinkReason,
}

/// What one look found.
struct Look {
    /// The item's own `CURRENT` `story_id`.
    own_story: Option<String>,
    /// Merges recorded on its `CURRENT` and not finished.
    merging: Vec<String>,
    /// Linked candidates, by item id.
    linked: Vec<Link>,
}

/// Whether a story key is one of the common kinds (a name or a number), read to
/// [`MAX_ENTRIES_PER_COMMON_KEY`] entries.
pub fn is_common_key(key: &str) -> bool {
    key.starts_with(&schema::story_name_pk("")) || key.starts_with(&schema::story_number_pk(""))
}

/// What the looks of one grouping judged so far, by item id.
#[derive(Debug, Default)]
struct Verdicts {
    /// Judged and found not linked: later looks do not read them again. Safe because a
    /// candidate whose content changes afterwards writes its entries and judging record and
    /// then looks itself, and that look sees this item's entries (written before the first
    /// look) and judges the pair with the new content.
    unlinked: BTreeSet<String>,
    /// Linked, with the reason and the content hash judged: later looks read only their
    /// `CURRENT` (for the story), and judge again only if its content is another.
    linked: BTreeMap<String, (LinkReason, String)>,
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
    let mine = entry_fingerprint(&job.fingerprint);

    // 1. Write: entries and the judging record, the previous version's entries removed; a new
    //    item's membership of its own story (where a concurrent merge finds it).
    let mut ops = Vec::with_capacity(keys.len() + 3);
    ops.push(WriteOp::Put(job.judging_record(&mine)));
    for key in &keys {
        let mut entry = Item::new();
        entry.insert(table::PK.into(), Value::String((*key).clone()));
        entry.insert(table::SK.into(), Value::String(sk.clone()));
        ops.push(WriteOp::Put(entry));
    }
    let mut written: Option<(String, Option<Link>)> = None;
    if job.existing_story.is_none() {
        ops.push(WriteOp::Put(job.membership(&job.id, None)));
        written = Some((job.id.clone(), None));
    }
    if let Some((old_keys, old_sk)) = &job.old_entries {
        for key in old_keys {
            if *old_sk != sk || !keys.contains(key) {
                ops.push(WriteOp::Delete(Key::new(key.clone(), old_sk.clone())));
            }
        }
        if *old_sk != sk {
            let old_story = job.existing_story.as_deref().unwrap_or(&job.id);
            ops.push(WriteOp::Delete(Key::new(
                schema::story_pk(old_story),
                old_sk.clone(),
            )));
        }
    }
    table.batch_write(ops).await?;

    let current_key = Key::new(schema::item_pk(&job.id), schema::CURRENT);
    let still_current = Condition::Equals {
        attr: attr::CONTENT_HASH.into(),
        value: Value::String(job.content_hash.clone()),
    };
    let mut verdicts = Verdicts::default();
    for round in 0..MAX_ROUNDS {
        // 2. Look.
        let Some(look) = look(table, job, &keys, &mine, window, &mut verdicts).await? else {
            return Ok(None);
        };
        // 3. The target: the smallest of its own id and the stories involved.
        let mut involved: BTreeSet<String> = look.linked.iter().map(|l| l.story.clone()).collect();
        involved.extend(look.own_story.clone());
        involved.extend(job.existing_story.clone());
        involved.extend(look.merging.iter().cloned());
        let target = match involved.first() {
            Some(smallest) if *smallest < job.id => smallest.clone(),
            _ => job.id.clone(),
        };
        // The membership names the smallest linked id and why (its story is the target's).
        let link = look.linked.first().map(|l| Link {
            story: target.clone(),
            ..l.clone()
        });
        let settled = look.own_story.as_deref() == Some(target.as_str())
            && look.merging.is_empty()
            && written.as_ref() == Some(&(target.clone(), link.clone()))
            && look.linked.iter().all(|l| l.story == target);
        if settled {
            return Ok(Some(Grouped {
                alone: look.linked.is_empty() && job.existing_story.is_none(),
                story_id: target,
            }));
        }

        // 4. Merges, recorded first.
        let merges: Vec<String> = involved.into_iter().filter(|s| *s != target).collect();
        if !merges.is_empty() && look.merging != merges {
            let mut update = Update::default();
            update.set.insert(MERGING.into(), json!(merges));
            match table
                .update(&current_key, update, still_current.clone())
                .await
            {
                Ok(_) => {}
                Err(TableError::ConditionFailed { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        for from in &merges {
            merge(table, from, &target).await?;
        }
        // A linked item that merges did not move (its membership is not where its CURRENT
        // says: records left by an older version, or a member still joining) is moved by
        // itself, from the third round on, so that such records cannot stall grouping.
        if round >= 2 {
            for stray in look.linked.iter().filter(|l| l.story != target) {
                adopt(table, &stray.id, &target).await?;
            }
        }

        // 5. Membership, then CURRENT.
        if written.as_ref() != Some(&(target.clone(), link.clone())) {
            let mut ops = vec![WriteOp::Put(job.membership(&target, link.as_ref()))];
            if let Some((story, _)) = &written
                && *story != target
            {
                ops.push(WriteOp::Delete(Key::new(
                    schema::story_pk(story),
                    sk.clone(),
                )));
            }
            table.batch_write(ops).await?;
            written = Some((target.clone(), link));
        }
        if look.own_story.as_deref() == Some(target.as_str())
            && look.merging.is_empty()
            && merges.is_empty()
        {
            continue;
        }
        let mut update = Update::default();
        update
            .set
            .insert(STORY_ID.into(), Value::String(target.clone()));
        update.remove.push(MERGING.into());
        match table
            .update(&current_key, update, still_current.clone())
            .await
        {
            Ok(_) => {}
            Err(TableError::ConditionFailed { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        // 6. Look again.
    }
    Err(TableError::Backend {
        op: "story grouping",
        message: format!(
            "the story of {} did not settle in {MAX_ROUNDS} rounds (concurrent merges)",
            job.id
        ),
        retryable: true,
    })
}

/// Queries the item's keys, judges the candidates (from their judging records, but those an
/// earlier look judged: `verdicts`, to which it adds) and reads its own and the linked
/// candidates' `CURRENT`; None when its `CURRENT` no longer shows the job's content.
async fn look(
    table: &dyn Table,
    job: &StoryJob,
    keys: &BTreeSet<&String>,
    mine: &Fingerprint,
    window: Duration,
    verdicts: &mut Verdicts,
) -> Result<Option<Look>, TableError> {
    let lo = schema::sortable_time(job.published_at - window);
    let hi = format!("{}$", schema::sortable_time(job.published_at + window));
    // The queries are independent: a few in flight hide their latency.
    let queries: Vec<Query> = keys
        .iter()
        .map(|key| {
            let limit = if is_common_key(key) {
                MAX_ENTRIES_PER_COMMON_KEY
            } else {
                MAX_ENTRIES_PER_KEY
            };
            Query::partition(Index::Primary, (*key).clone())
                .range(SortKeyRange::Between(lo.clone(), hi.clone()))
                .backward()
                .limit(limit)
        })
        .collect();
    let pages: Vec<_> = futures::stream::iter(queries)
        .map(|query| table.query(query))
        .buffered(QUERIES_IN_FLIGHT)
        .collect()
        .await;
    // Candidates by item id (one item shows up under several keys): the id ends the sort key.
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    for page in pages {
        for entry in page?.items {
            let Some((_, item_id)) = entry
                .get(table::SK)
                .and_then(Value::as_str)
                .and_then(|sk| sk.rsplit_once('#'))
            else {
                continue;
            };
            if item_id != job.id && !verdicts.unlinked.contains(item_id) {
                candidates.insert(item_id.to_owned());
            }
        }
    }

    // Candidates whose `CURRENT` is read: the linked ones (with the reason and the content
    // judged) and those without a readable judging record (None).
    let mut from_current: BTreeMap<&String, Option<(LinkReason, String)>> = BTreeMap::new();
    let (known, unknown): (Vec<&String>, Vec<&String>) = candidates
        .iter()
        .partition(|id| verdicts.linked.contains_key(*id));
    for id in known {
        from_current.insert(id, verdicts.linked.get(id).cloned());
    }
    // The others' judging records: a verdict for each that has one.
    let records = batch_get_all(
        table,
        unknown
            .iter()
            .map(|id| Key::new(schema::story_fingerprint_pk(id), schema::STORY_FINGERPRINT)),
    )
    .await?;
    for (id, record) in unknown.into_iter().zip(records) {
        match record.as_ref().and_then(judged_fingerprint) {
            Some((judged, theirs)) => match same_story_of_candidate(mine, &theirs) {
                Some(reason) => {
                    from_current.insert(id, Some((reason, judged)));
                }
                None => {
                    verdicts.unlinked.insert(id.clone());
                }
            },
            None => {
                from_current.insert(id, None);
            }
        }
    }

    // Its own CURRENT first, then theirs.
    let ids = std::iter::once(&job.id).chain(from_current.keys().copied());
    let records = batch_get_all(
        table,
        ids.map(|id| Key::new(schema::item_pk(id), schema::CURRENT)),
    )
    .await?;
    let mut records = records.into_iter();
    let Some(Some(own)) = records.next() else {
        return Ok(None);
    };
    if own.get(attr::CONTENT_HASH).and_then(Value::as_str) != Some(job.content_hash.as_str()) {
        return Ok(None);
    }
    let text_list = |record: &Item, name: &str| -> Vec<String> {
        record
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };

    // Links, by item id: the recorded one is the smallest linked id.
    let mut linked = Vec::new();
    for ((id, verdict), record) in from_current.into_iter().zip(records) {
        let Some(record) = record else { continue };
        let reason = match verdict {
            Some((reason, judged))
                if record.get(attr::CONTENT_HASH).and_then(Value::as_str)
                    == Some(judged.as_str()) =>
            {
                Some(reason)
            }
            // No judging record, or the item moved on since it was judged.
            _ => judge(mine, &record, id),
        };
        let Some(reason) = reason else {
            verdicts.unlinked.insert(id.clone());
            verdicts.linked.remove(id);
            continue;
        };
        if let Some(hash) = record.get(attr::CONTENT_HASH).and_then(Value::as_str) {
            verdicts
                .linked
                .insert(id.clone(), (reason.clone(), hash.to_owned()));
        }
        let story = story_of(&record).unwrap_or_else(|| id.clone());
        linked.push(Link {
            id: id.clone(),
            story,
            reason,
        });
    }
    Ok(Some(Look {
        own_story: story_of(&own),
        merging: text_list(&own, MERGING),
        linked,
    }))
}

/// The items under `keys`, in order, one `batch_get` per [`MAX_BATCH_GET_KEYS`].
async fn batch_get_all(
    table: &dyn Table,
    keys: impl Iterator<Item = Key>,
) -> Result<Vec<Option<Item>>, TableError> {
    let keys: Vec<Key> = keys.collect();
    let mut items = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
        items.extend(table.batch_get(chunk).await?);
    }
    Ok(items)
}

fn story_of(current: &Item) -> Option<String> {
    current
        .get(STORY_ID)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Whether the item whose `CURRENT` this is reports the same story as `mine`: for a candidate
/// without a judging record, or one whose content changed since it was written. The
/// fingerprint `CURRENT` keeps lacks its word-pair hashes (the bulk of it); they are rebuilt
/// from the stored text only when the rules before the containment rule did not decide, so
/// the verdict is the one the whole fingerprint (and its judging record) gives.
pub(super) fn judge(mine: &Fingerprint, current: &Item, id: &str) -> Option<LinkReason> {
    let enrichment = current.get(attr::ENRICHMENT).and_then(Value::as_str)?;
    let mut theirs = match serde_json::from_str::<Enrichment>(enrichment) {
        Ok(enrichment) => enrichment.fingerprint,
        Err(e) => {
            tracing::warn!(item_id = %id, error = %e, "unreadable enrichment; candidate skipped");
            return None;
        }
    };
    let quick = same_story_of_candidate(mine, &theirs);
    let decided = matches!(
        quick,
        Some(
            LinkReason::SamePublication { .. }
                | LinkReason::SimilarBody { .. }
                | LinkReason::SameTitle { .. }
        )
    );
    // Word pairs exist exactly when the body is long enough for a signature.
    if decided || mine.shingles.is_empty() || theirs.simhash.is_none() {
        return quick;
    }
    // The body as `Fingerprint::of_item` saw it, from the two fields it is made of.
    let text = |name: &str| current.get(name).and_then(Value::as_str);
    let body = crate::topics::body_of(text("summary"), text("body"));
    theirs.shingles = crate::stories::shingle_hashes(&body);
    theirs.shingles.truncate(MAX_ENTRY_SHINGLES);
    same_story_of_candidate(mine, &theirs)
}

/// Moves every member of story `from` to story `to` (`to` < `from`): each member's `CURRENT`
/// first (from the story it was read with, so a smaller id set meanwhile stays), then its
/// membership; `from` is listed again until it is empty, so an interrupted merge is finished
/// by the next one and a member that joined `from` meanwhile moves too.
async fn merge(table: &dyn Table, from: &str, to: &str) -> Result<(), TableError> {
    for _ in 0..MAX_MERGE_PAGES {
        let page = table
            .query(
                Query::partition(Index::Primary, schema::story_pk(from)).limit(MAX_MERGE_MEMBERS),
            )
            .await?;
        if page.items.is_empty() {
            return Ok(());
        }
        let keys: Vec<Key> = page
            .items
            .iter()
            .filter_map(|m| m.get(attr::ITEM_ID).and_then(Value::as_str))
            .map(|id| Key::new(schema::item_pk(id), schema::CURRENT))
            .collect();
        let currents: BTreeMap<String, Item> = table
            .batch_get(&keys)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c.get(attr::ITEM_ID)?.as_str()?.to_owned(), c)))
            .collect();
        // Each member's destination: `to`, or the smaller story its CURRENT already names.
        let moves: Vec<(Item, Option<Item>, String)> = page
            .items
            .into_iter()
            .map(|member| {
                let current = member
                    .get(attr::ITEM_ID)
                    .and_then(Value::as_str)
                    .and_then(|id| currents.get(id))
                    .cloned();
                let destination = match current.as_ref().and_then(story_of) {
                    Some(s) if s.as_str() < to => s,
                    _ => to.to_owned(),
                };
                (member, current, destination)
            })
            .collect();
        let results: Vec<Result<Option<(Item, String)>, TableError>> = futures::stream::iter(moves)
            .map(|(member, current, destination)| async move {
                if let Some(current) = &current {
                    let moved = repoint_current(table, current, &destination).await?;
                    if !moved {
                        // Changed meanwhile: the next listing decides again.
                        return Ok(None);
                    }
                }
                Ok(Some((member, destination)))
            })
            .buffer_unordered(QUERIES_IN_FLIGHT)
            .collect()
            .await;
        let mut ops = Vec::new();
        for result in results {
            let Some((mut member, destination)) = result? else {
                continue;
            };
            let Ok(key) = Key::of(&member) else { continue };
            ops.push(WriteOp::Delete(key));
            member.insert(
                table::PK.into(),
                Value::String(schema::story_pk(&destination)),
            );
            member.insert(STORY_ID.into(), Value::String(destination));
            ops.push(WriteOp::Put(member));
        }
        if ops.is_empty() {
            // Every member changed under us: list again after a pause.
            tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(5..20))).await;
            continue;
        }
        table.batch_write(ops).await?;
    }
    tracing::warn!(
        from,
        to,
        "story too large to merge at once; the rest keeps its id"
    );
    Ok(())
}

/// Moves one item to story `to` (when its `CURRENT` names a larger one or none): its
/// `CURRENT`, then its membership if it is where its `CURRENT` said.
async fn adopt(table: &dyn Table, id: &str, to: &str) -> Result<(), TableError> {
    let key = Key::new(schema::item_pk(id), schema::CURRENT);
    let Some(current) = table.get(&key).await? else {
        return Ok(());
    };
    let was = story_of(&current);
    if was.as_deref().is_some_and(|s| s <= to) || !repoint_current(table, &current, to).await? {
        return Ok(());
    }
    let published = current
        .get("published_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let Some(published) = published else {
        return Ok(());
    };
    let sk = schema::item_time_sk(published, id);
    let old = Key::new(schema::story_pk(was.as_deref().unwrap_or(id)), sk);
    let Some(mut member) = table.get(&old).await? else {
        return Ok(());
    };
    member.insert(table::PK.into(), Value::String(schema::story_pk(to)));
    member.insert(STORY_ID.into(), Value::String(to.to_owned()));
    table
        .batch_write(vec![WriteOp::Delete(old), WriteOp::Put(member)])
        .await
}

/// Sets `story_id` on a member's `CURRENT` to `story`, conditional on what it was read with
/// (its story, or its content while it has none). False when it changed meanwhile.
async fn repoint_current(
    table: &dyn Table,
    current: &Item,
    story: &str,
) -> Result<bool, TableError> {
    let was = story_of(current);
    if was.as_deref() == Some(story) {
        return Ok(true);
    }
    let (Ok(key), Some(hash)) = (Key::of(current), current.get(attr::CONTENT_HASH).cloned()) else {
        return Ok(true);
    };
    let condition = match was {
        Some(was) => Condition::Equals {
            attr: STORY_ID.into(),
            value: Value::String(was),
        },
        None => Condition::Equals {
            attr: attr::CONTENT_HASH.into(),
            value: hash,
        },
    };
    let mut update = Update::default();
    update
        .set
        .insert(STORY_ID.into(), Value::String(story.to_owned()));
    match table.update(&key, update, condition).await {
        Ok(_) => Ok(true),
        Err(TableError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The fingerprint as it is judged (see [`MAX_ENTRY_SHINGLES`]).
pub(super) fn entry_fingerprint(fingerprint: &Fingerprint) -> Fingerprint {
    let mut kept = fingerprint.clone();
    kept.shingles.truncate(MAX_ENTRY_SHINGLES);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTable;

    /// A `CURRENT` whose fingerprint is `fingerprint` and whose content hash is "h".
    fn current(id: &str, fingerprint: &Fingerprint) -> Item {
        let enrichment = Enrichment {
            topics: vec![],
            crisis: false,
            places: vec![],
            missions: vec![],
            fingerprint: fingerprint.clone(),
            story_keys: vec![],
        };
        let record = json!({
            table::PK: schema::item_pk(id),
            table::SK: schema::CURRENT,
            attr::CONTENT_HASH: "h",
            attr::ENRICHMENT: serde_json::to_string(&enrichment).unwrap(),
        });
        record.as_object().unwrap().clone()
    }

    /// A new item's job with content hash "h", stored under `key` alone.
    fn test_job(
        id: &str,
        fingerprint: &Fingerprint,
        key: &str,
        published: DateTime<Utc>,
    ) -> StoryJob {
        StoryJob {
            id: id.into(),
            content_hash: "h".into(),
            published_at: published,
            fingerprint: fingerprint.clone(),
            keys: vec![key.to_owned()],
            existing_story: None,
            old_entries: None,
            title: String::new(),
            mission: String::new(),
            source: String::new(),
            language: None,
        }
    }

    /// Fingerprints of two different stories: an advisory (the story looked for) and a
    /// festival.
    fn advisory_and_festival() -> (Fingerprint, Fingerprint) {
        let body = "Kedutaan Besar Republik Indonesia di Samarkandia mengimbau seluruh warga \
                    negara Indonesia untuk tetap tenang mengikuti arahan otoritas setempat dan \
                    menghubungi nomor hotline yang tersedia setiap saat bila membutuhkan bantuan";
        let advisory = Fingerprint::new("Imbauan bagi WNI di Samarkandia", body, Some("id"));
        let festival = Fingerprint::new(
            "Festival budaya",
            "Sebuah festival budaya yang meriah digelar di taman kota dengan tarian musik \
             kuliner dan pameran kerajinan dari berbagai daerah yang menarik ribuan pengunjung \
             sepanjang akhir pekan yang cerah itu",
            Some("id"),
        );
        (advisory, festival)
    }

    #[tokio::test]
    async fn a_common_key_is_read_newest_first_up_to_its_cap_and_unlinked_candidates_remembered() {
        let table = SqliteTable::in_memory().unwrap();
        let (same, other) = advisory_and_festival();
        let key = schema::story_name_pk("Samarkandia");
        assert!(is_common_key(&key));
        let published = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // 50 earlier items under the name, one an hour, every other one the same story.
        let mut ops = Vec::new();
        for i in 1..=50 {
            let id = format!("cand{i:02}");
            let fingerprint = if i % 2 == 0 { &same } else { &other };
            table
                .put(current(&id, fingerprint), Condition::None)
                .await
                .unwrap();
            let mut entry = Item::new();
            entry.insert(table::PK.into(), json!(key));
            let sk = schema::item_time_sk(published - Duration::hours(i), &id);
            entry.insert(table::SK.into(), json!(sk));
            ops.push(WriteOp::Put(entry));
        }
        for chunk in ops.chunks(25) {
            table.batch_write(chunk.to_vec()).await.unwrap();
        }
        table
            .put(current("self", &same), Condition::None)
            .await
            .unwrap();
        let job = test_job("self", &same, &key, published);
        let keys: BTreeSet<&String> = job.keys.iter().collect();
        let mut verdicts = Verdicts::default();
        let look = look(&table, &job, &keys, &same, Duration::days(7), &mut verdicts)
            .await
            .unwrap()
            .unwrap();
        // The 32 nearest: cand01..cand32, of which the even ones link.
        let linked: Vec<&str> = look.linked.iter().map(|l| l.id.as_str()).collect();
        let expected: Vec<String> = (1..=MAX_ENTRIES_PER_COMMON_KEY)
            .filter(|i| i % 2 == 0)
            .map(|i| format!("cand{i:02}"))
            .collect();
        assert_eq!(linked, expected);
        assert_eq!(verdicts.unlinked.len(), MAX_ENTRIES_PER_COMMON_KEY / 2);
        assert!(verdicts.unlinked.contains("cand01") && !verdicts.unlinked.contains("cand33"));
        assert_eq!(
            verdicts
                .linked
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            linked
        );
    }

    #[test]
    fn packed_shingles_round_trip_and_anything_else_is_refused() {
        let shingles = vec![0, 1, u64::MAX, 0x0123_4567_89ab_cdef];
        assert_eq!(unpack_shingles(&pack_shingles(&shingles)), Some(shingles));
        assert_eq!(unpack_shingles(&pack_shingles(&[])), Some(vec![]));
        assert_eq!(unpack_shingles("not base64!"), None);
        // Valid base64 of 6 bytes: not whole hashes.
        assert_eq!(unpack_shingles("AAAAAAAA"), None);
    }

    #[tokio::test]
    async fn candidates_are_judged_from_judging_records_and_only_the_linked_read_whole() {
        use crate::store::testing::CountingTable;
        let table = CountingTable::new(SqliteTable::in_memory().unwrap());
        let (same, other) = advisory_and_festival();
        let key = schema::story_title_pk("0123456789abcdef");
        let published = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let job = |id: &str, fingerprint: &Fingerprint| test_job(id, fingerprint, &key, published);
        // Ten candidates, the even ones the same story. cand09 and cand10 were grouped before
        // judging records existed; cand02's record says "same" but its item has moved on to
        // other content since.
        for i in 1..=10 {
            let id = format!("cand{i:02}");
            let fingerprint = if i % 2 == 0 { &same } else { &other };
            let mut record = current(&id, if i == 2 { &other } else { fingerprint });
            if i == 2 {
                record.insert(attr::CONTENT_HASH.into(), json!("h2"));
            }
            table.put(record, Condition::None).await.unwrap();
            if i < 9 {
                let judging = job(&id, fingerprint).judging_record(&entry_fingerprint(fingerprint));
                table.put(judging, Condition::None).await.unwrap();
            }
            let mut entry = Item::new();
            entry.insert(table::PK.into(), json!(key));
            entry.insert(
                table::SK.into(),
                json!(schema::item_time_sk(published, &id)),
            );
            table.put(entry, Condition::None).await.unwrap();
        }
        table
            .put(current("self", &same), Condition::None)
            .await
            .unwrap();
        let me = job("self", &same);
        let keys: BTreeSet<&String> = me.keys.iter().collect();
        let mut verdicts = Verdicts::default();

        table.reset();
        let first = look(&table, &me, &keys, &same, Duration::days(7), &mut verdicts)
            .await
            .unwrap()
            .unwrap();
        let linked: Vec<&str> = first.linked.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(linked, ["cand04", "cand06", "cand08", "cand10"]);
        let unlinked: Vec<&str> = verdicts.unlinked.iter().map(String::as_str).collect();
        assert_eq!(
            unlinked,
            ["cand01", "cand02", "cand03", "cand05", "cand07", "cand09"]
        );
        // Read: 10 entries; 8 judging records; CURRENT of its own, of the 4 its records link
        // (cand02, 04, 06, 08) and of the 2 without one.
        let counts = table.counts();
        assert_eq!(
            (counts.batch_gets, counts.items_read),
            (2, 10 + 8 + 7),
            "{counts:?}"
        );

        // A second look reads only the linked candidates' CURRENT: it knows their verdicts.
        table.reset();
        let second = look(&table, &me, &keys, &same, Duration::days(7), &mut verdicts)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.linked, first.linked);
        let counts = table.counts();
        assert_eq!(
            (counts.batch_gets, counts.items_read),
            (1, 10 + 5),
            "{counts:?}"
        );
    }
}
