//! Reconcile: items objects in S3 → items with identity and versions in the table.
//!
//! Every line of an `items/…jsonl` object is one [`NormalizedItem`]. Its identity
//! ([`NormalizedItem::identity`]) names one item; its content hash decides whether what the
//! line says is new. The table keeps, per item (keys in [`crate::schema`]):
//!
//! - one version record per *run* of identical content: `V#{version_at}#{hash}`, where
//!   `version_at` is the fetch time of the first fetch that showed that content;
//! - the `CURRENT` record: the newest version's item plus bookkeeping (`versions`,
//!   `first_seen_at`, …) and the mission/country time-index keys.
//!
//! Events arrive at least once and in any order, so reconciling is an *insertion of one
//! observation* (fetch time, content hash) into the item's time-ordered history:
//!
//! - newer than `CURRENT` with the same hash: nothing to write (the common case: a feed
//!   repeats its items every fetch; it costs one read);
//! - newer with another hash: a new version, `CURRENT` moves forward;
//! - older than `CURRENT` (late delivery): the version list is read and the observation is
//!   placed where it belongs: inside a run of the same content (nothing to do), at the start of
//!   the following run of the same content (that version record moves earlier), or as a new
//!   version in between. `CURRENT`'s content is untouched unless its own run moved earlier.
//!
//! **Partial views.** A portal list entry and the publication's detail are one item (same
//! source and GUID); the detail adds the body. An observation with no body whose title, URL,
//! publication time and summary (or lack of one) agree with a version that has a body is a
//! *partial view* of that version ([`is_partial_view`]), and "the same content" above means
//! "the same content hash, or a partial view of the run's content". So, with the scraper
//! fetching a detail strictly after its list (its `fetched_at` is later):
//!
//! - list, then detail: two versions, the list-only one and the detail, which is `CURRENT`
//!   (the detail adds the body: a new version);
//! - a list fetched after the detail (the next cycle, or a late delivery): unchanged, one read;
//! - a detail delivered before an earlier list: the list lands as the older version; before a
//!   *later* list, that list's run folds into the detail's run (its record goes) and the
//!   detail becomes `CURRENT`.
//!
//! Every order of {list, detail, next cycle's list, any of them again} ends in the same
//! records. Where a list already carries the body, list and detail have one hash, and the
//! detail, fetched later, is an unchanged repeat.
//!
//! The result does not depend on delivery order as long as content does not flip back and forth
//! (A → B → A); with such flips the newest content still wins whenever the deliveries that matter
//! arrive in order, and an unrecorded repeat can make a late flip look newer (a stored
//! observation per fetch would fix that, at the price of a write per unchanged item).
//!
//! Every write to `CURRENT` is conditioned on its `state_tag`, a digest of its bookkeeping, so
//! concurrent reconcilers of the same item cannot lose each other's updates; a loser re-reads
//! and decides again. A late observation's decision also rests on the version records around
//! it, which a concurrent fold can change without changing the tag: its write checks that
//! they are still there.

pub mod latest;
pub mod read;
pub mod rollup;
pub mod story;

#[cfg(test)]
mod enrichment_tests;
#[cfg(test)]
pub(crate) mod story_tests;
#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::crises::CrisisInput;
use crate::enrich::Enrichment;
use crate::events::{Retryable, for_each_object};
use crate::keys::ITEMS_PREFIX;
use crate::metrics::ReconcileTotals;
use crate::model::NormalizedItem;
use crate::registry::Registry;
use crate::schema;
use crate::store::contention::pause_after_lost_race;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{
    BlobError, BlobStore, Condition, Item, Key, Query, Table, TableError, TransactOp, Update,
    WriteOp,
};

/// Attribute names of item records beyond the item's own fields.
pub mod attr {
    pub const ITEM_ID: &str = "item_id";
    /// `schema::sortable_time` of the version's fetch time.
    pub const VERSION_AT: &str = "version_at";
    pub const CONTENT_HASH: &str = "content_hash";
    /// `CURRENT` only: how many version records the item has.
    pub const VERSIONS: &str = "versions";
    /// `CURRENT` only: the earliest fetch time of any version.
    pub const FIRST_SEEN_AT: &str = "first_seen_at";
    /// `CURRENT` only: digest of the bookkeeping, the optimistic lock of every write.
    pub const STATE_TAG: &str = "state_tag";
    /// Topic tag ids (`crate::topics`), e.g. `["disaster.earthquake"]`.
    pub const TOPICS: &str = "topics";
    /// Whether a topic is a crisis tag.
    pub const CRISIS: &str = "crisis";
    /// Country codes the item is about (`crate::places`), host country first.
    pub const PLACES: &str = "places";
    /// Ids of every mission accredited to one of `places`.
    pub const ACCREDITED_MISSIONS: &str = "accredited_missions";
    /// `CURRENT` only: the whole `crate::enrich::Enrichment` as JSON (matched terms, place
    /// reasons, the story fingerprint without its word-pair hashes, story keys).
    pub const ENRICHMENT: &str = "enrichment";
    /// `CURRENT` only: the item's story (`reconcile::story`); absent until grouped.
    pub const STORY_ID: &str = "story_id";
    /// `CURRENT` only: the content hash whose crisis evidence reached the crisis stage; absent
    /// until it has (and for items without any). An unchanged item whose content has not is
    /// fed again, so a crash or a failure between the item's write and its crisis writes
    /// loses nothing.
    pub const CRISES_FED: &str = "crises_fed";
    /// `CURRENT` only: `true` once the item is in its mission's role index and daily counts
    /// (`reconcile::rollup`); absent on records written before them, until the backfill.
    pub const INDEXED: &str = "indexed";
}

/// Bodies beyond this are cut (at a character boundary) so that both records of an item stay
/// well under DynamoDB's 400 KB item limit; the raw object keeps the whole text.
pub const MAX_STORED_BODY_BYTES: usize = 100 * 1024;

/// How often one item is re-read and re-decided after losing a race, before the whole object
/// is handed back to the queue.
const MAX_ATTEMPTS: u32 = 6;

/// Concurrent items per object (reads dominate; a few in flight hide their latency).
const ITEMS_IN_FLIGHT: usize = 8;

pub struct Reconciler {
    pub blobs: Arc<dyn BlobStore>,
    pub table: Arc<dyn Table>,
    pub registry: Arc<Registry>,
}

/// What one items object did to the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReconcileReport {
    /// Items seen for the first time.
    pub new: usize,
    /// Items whose content changed: a new version became `CURRENT`.
    pub changed: usize,
    /// Items already known with this content: nothing written.
    pub unchanged: usize,
    /// Late observations, older than `CURRENT`: history completed, `CURRENT`'s content kept.
    pub stale: usize,
    /// Lines that could not be read as an item (or an item the table refused); logged.
    pub skipped_lines: usize,
    /// Crises these items opened (`crate::crises`).
    pub crises_opened: usize,
    /// Official items newly linked to a crisis as responses.
    pub responses_linked: usize,
    /// Items the crisis stage refused for good (not retryable): stored, logged, but missing
    /// from their crisis. Operators are alarmed (`CrisisFeedFailuresAlarm`).
    #[serde(default)]
    pub crisis_failures: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("reading items object {key}: {source}")]
    Blob {
        key: String,
        #[source]
        source: BlobError,
    },
    #[error("items object {key} does not exist")]
    Missing { key: String },
    #[error("items object {key} is not UTF-8 (byte {valid_up_to})")]
    NotUtf8 { key: String, valid_up_to: usize },
    #[error("item {item_id} from {key}: {source}")]
    Table {
        key: String,
        item_id: String,
        #[source]
        source: TableError,
    },
    #[error("item {item_id}: stored record is unreadable: {reason}")]
    Corrupt { item_id: String, reason: String },
    #[error("item {item_id} from {key}: still contended after {MAX_ATTEMPTS} attempts")]
    Contended { key: String, item_id: String },
}

impl Retryable for ReconcileError {
    fn is_retryable(&self) -> bool {
        match self {
            ReconcileError::Blob { source, .. } => source.is_retryable(),
            ReconcileError::Table { source, .. } => source.is_retryable(),
            ReconcileError::Contended { .. } => true,
            ReconcileError::Missing { .. }
            | ReconcileError::NotUtf8 { .. }
            | ReconcileError::Corrupt { .. } => false,
        }
    }
}

/// What became of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    New,
    Changed,
    /// `crises_fed`: this content's crisis evidence (if any) already reached the crisis stage.
    Unchanged {
        crises_fed: bool,
    },
    Stale,
}

impl Reconciler {
    /// Runs every object of an SQS batch of S3 events; retryable failures come back.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_counting(event).await.0
    }

    /// [`Reconciler::handle`], and what the batch did in sum (for the batch's metrics).
    pub async fn handle_counting(&self, event: SqsEvent) -> (SqsBatchResponse, ReconcileTotals) {
        let totals = std::sync::Mutex::new(ReconcileTotals::default());
        let totals_ref = &totals;
        let response = for_each_object(event, |object| async move {
            let result = self.reconcile_object(&object.key).await;
            crate::crash::crashpoint("after_reconcile_object");
            if let Ok(mut totals) = totals_ref.lock() {
                totals.record(result.as_ref().ok());
            }
            let report = result?;
            tracing::info!(key = %object.key, ?report, "reconciled");
            Ok::<(), ReconcileError>(())
        })
        .await;
        let totals = totals.into_inner().unwrap_or_default();
        (response, totals)
    }

    /// Reconciles every item of one items object. Keys outside `items/` are ignored.
    pub async fn reconcile_object(
        &self,
        items_key: &str,
    ) -> Result<ReconcileReport, ReconcileError> {
        let mut report = ReconcileReport::default();
        if !items_key.starts_with(ITEMS_PREFIX) {
            tracing::debug!(key = %items_key, "not an items object; ignored");
            return Ok(report);
        }
        let blob = self
            .blobs
            .get(items_key)
            .await
            .map_err(|source| ReconcileError::Blob {
                key: items_key.to_owned(),
                source,
            })?
            .ok_or_else(|| ReconcileError::Missing {
                key: items_key.to_owned(),
            })?;
        let text = std::str::from_utf8(&blob.body).map_err(|e| ReconcileError::NotUtf8 {
            key: items_key.to_owned(),
            valid_up_to: e.valid_up_to(),
        })?;

        let mut items = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<NormalizedItem>(line) {
                Ok(item) => items.push(item),
                Err(e) => {
                    tracing::warn!(key = %items_key, line = index + 1, error = %e, "skipping malformed line");
                    report.skipped_lines += 1;
                }
            }
        }

        let outcomes: Vec<_> = futures::stream::iter(items)
            .map(|item| self.reconcile_item(items_key, item))
            .buffered(ITEMS_IN_FLIGHT)
            .collect()
            .await;
        let mut retryable = None;
        let mut story_jobs = Vec::new();
        let mut crisis_inputs = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok((outcome, job, crisis_input)) => {
                    crisis_inputs.extend(crisis_input);
                    match outcome {
                        Outcome::New => report.new += 1,
                        Outcome::Changed => report.changed += 1,
                        Outcome::Unchanged { .. } => report.unchanged += 1,
                        Outcome::Stale => report.stale += 1,
                    }
                    story_jobs.extend(job);
                }
                Err(e) if e.is_retryable() => retryable = Some(e),
                Err(e) => {
                    tracing::error!(key = %items_key, error = %e, "item not reconciled");
                    report.skipped_lines += 1;
                }
            }
        }
        // Stories one item at a time, in line order: two items of one story in one object
        // then always see each other (concurrently, each could miss the other).
        crate::crash::crashpoint("before_story_writes");
        let window = story::story_window();
        let mut stories = std::collections::HashMap::new();
        for job in story_jobs {
            match self.group_story(job.clone(), window).await {
                Ok(story) => {
                    stories.insert(job.id.clone(), story);
                }
                Err(source) => {
                    let e = ReconcileError::Table {
                        key: items_key.to_owned(),
                        item_id: job.id.clone(),
                        source,
                    };
                    if e.is_retryable() {
                        retryable = Some(e);
                    } else {
                        tracing::error!(key = %items_key, error = %e, "item not grouped into a story");
                    }
                }
            }
        }
        // Crises after stories, in line order too (a signal and a response in one object),
        // each knowing its item's story: responses match by story too. A story of one links
        // nothing (a later member links from its side), so it is not given: no query for it,
        // and a routine official post alone in its story skips the crisis stage.
        //
        // The `crises_fed` mark is written only for what the crisis stage takes by itself (a
        // signal, an official post that answers by its own terms): whether an item shares a
        // story depends on what arrived before it, so a mark for story-only candidates would
        // make the final table depend on the arrival order. Their redelivery, unchanged and
        // told no story, skips the stage; the story's other members link them from their side.
        let mut crisis_inputs: Vec<(CrisisInput, String, bool)> = crisis_inputs
            .into_iter()
            .map(|(mut input, content_hash)| {
                let by_itself = input.may_link();
                let story = stories.get(input.item_id()).cloned().flatten();
                input.set_story(story.filter(|g| !g.alone).map(|g| g.story_id));
                (input, content_hash, by_itself)
            })
            .collect();
        crisis_inputs.retain(|(input, _, _)| input.may_link());
        if !crisis_inputs.is_empty() {
            crate::crash::crashpoint("before_crisis_writes");
        }
        for (input, content_hash, by_itself) in &crisis_inputs {
            let fed = match crate::crises::observe(
                self.table.as_ref(),
                &self.registry,
                crate::crises::config(),
                input,
            )
            .await
            {
                Ok(outcome) => {
                    report.crises_opened += outcome.opened;
                    report.responses_linked += outcome.responses_linked;
                    if *by_itself {
                        self.mark_crises_fed(input.item_id(), content_hash).await
                    } else {
                        Ok(())
                    }
                }
                Err(source) => Err(source),
            };
            // A failure comes back with the message: the redelivered item is unchanged but
            // not marked fed, so it is fed again (the crisis stage is idempotent).
            if let Err(source) = fed {
                let e = ReconcileError::Table {
                    key: items_key.to_owned(),
                    item_id: input.item_id().to_owned(),
                    source,
                };
                if e.is_retryable() {
                    retryable = Some(e);
                } else {
                    report.crisis_failures += 1;
                    tracing::error!(key = %items_key, error = %e, "item not fed to crises");
                }
            }
        }
        // A crisis opened or answered: crisis alert rules are evaluated at once (a small,
        // idempotent step; the scheduled evaluation catches up if it fails).
        if report.crises_opened + report.responses_linked > 0 {
            crate::alerts::on_crisis_change(self.table.clone(), self.registry.clone()).await;
        }
        // Whatever did land stays: reconciling is idempotent, so the redelivery redoes only
        // what is missing.
        match retryable {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn reconcile_item(
        &self,
        items_key: &str,
        mut item: NormalizedItem,
    ) -> Result<
        (
            Outcome,
            Option<story::StoryJob>,
            Option<(CrisisInput, String)>,
        ),
        ReconcileError,
    > {
        fit_for_table(&mut item);
        let id = item.identity();
        // The common case first: a feed repeating an item already stored and grouped. It needs
        // only the content hash; enrichment and search terms (most of a new item's CPU time)
        // are computed when something is to be written. The record read serves the first
        // round below, so every item still costs one get.
        let current_key = Key::new(schema::item_pk(&id), schema::CURRENT);
        let mut prefetched =
            Some(
                self.table
                    .get(&current_key)
                    .await
                    .map_err(|source| ReconcileError::Table {
                        key: items_key.to_owned(),
                        item_id: id.clone(),
                        source,
                    })?,
            );
        if let Some(Some(record)) = &prefetched
            && unchanged_and_grouped(record, &item)
        {
            return Ok((Outcome::Unchanged { crises_fed: true }, None, None));
        }
        let country = self
            .registry
            .mission(&item.mission)
            .map(|m| m.country_code.clone());
        // A hazard event's country (from its feed or its coordinates) places the item.
        let hazard_country = item
            .hazard
            .as_ref()
            .and_then(|h| h.countries.first())
            .map(|c| c.code.clone());
        let enrichment = crate::enrich::enrich(&item, &self.registry, hazard_country.as_deref());
        let mut observation = Observation::new(&item, &id, country.as_deref(), &enrichment)
            .map_err(|reason| ReconcileError::Corrupt {
                item_id: id.clone(),
                reason,
            })?;
        let crisis_input = CrisisInput::of(
            &id,
            &item,
            &enrichment,
            &self.registry,
            crate::crises::config(),
        );
        // The fleet's summary of last official publications first (`latest`): a failure
        // here is retried before the item is written, so the summary never lags the items.
        // A stored item with this publication time was noted before it was written.
        let stored_published = match &prefetched {
            Some(Some(record)) => record
                .get("published_at")
                .and_then(Value::as_str)
                .and_then(parse_time),
            _ => None,
        };
        if item.role == crate::model::Role::Official && stored_published != Some(item.published_at)
        {
            latest::note_published(
                self.table.as_ref(),
                item.role,
                &item.mission,
                item.published_at,
                &id,
            )
            .await
            .map_err(|source| ReconcileError::Table {
                key: items_key.to_owned(),
                item_id: id.clone(),
                source,
            })?;
        }
        // Content the crisis stage takes nothing from by itself is marked fed as it is
        // written: no extra write, and its repeats take the quick unchanged path.
        observation.fed_at_write = !crisis_input.as_ref().is_some_and(CrisisInput::may_link);
        for attempt in 1..=MAX_ATTEMPTS {
            match self.try_reconcile(&observation, prefetched.take()).await {
                Ok((outcome, grouping)) => {
                    let job = grouping.map(|g| story::StoryJob {
                        id: id.clone(),
                        content_hash: observation.content_hash.clone(),
                        published_at: item.published_at,
                        fingerprint: enrichment.fingerprint.clone(),
                        keys: enrichment.story_keys.clone(),
                        existing_story: g.existing_story,
                        old_entries: g.old_entries,
                        title: item.title.clone(),
                        mission: item.mission.clone(),
                        source: item.source.clone(),
                        language: item.language.clone(),
                    });
                    // Only what changed can open, join or answer a crisis, and what did not
                    // get there before (a crash or a failure after the item's write).
                    let feed_crises = match outcome {
                        Outcome::New | Outcome::Changed => true,
                        Outcome::Unchanged { crises_fed } => !crises_fed,
                        Outcome::Stale => false,
                    };
                    let crisis = feed_crises
                        .then(|| crisis_input.clone())
                        .flatten()
                        .map(|input| (input, observation.content_hash.clone()));
                    return Ok((outcome, job, crisis));
                }
                Err(Attempt::Lost) => {
                    tracing::debug!(item_id = %id, attempt, "lost a race; re-reading");
                    pause_after_lost_race(attempt).await;
                }
                Err(Attempt::Table(source)) => {
                    return Err(ReconcileError::Table {
                        key: items_key.to_owned(),
                        item_id: id,
                        source,
                    });
                }
                Err(Attempt::Corrupt(reason)) => {
                    return Err(ReconcileError::Corrupt {
                        item_id: id,
                        reason,
                    });
                }
            }
        }
        Err(ReconcileError::Contended {
            key: items_key.to_owned(),
            item_id: id,
        })
    }

    /// Records on `CURRENT` that this content's crisis evidence reached the crisis stage. Not
    /// under the state lock: the mark is no part of the bookkeeping, and a newer content
    /// written meanwhile replaces the record without it (and is fed itself).
    async fn mark_crises_fed(&self, item_id: &str, content_hash: &str) -> Result<(), TableError> {
        let mut update = Update::default();
        update.set.insert(
            attr::CRISES_FED.into(),
            Value::String(content_hash.to_owned()),
        );
        let key = Key::new(schema::item_pk(item_id), schema::CURRENT);
        match self.table.update(&key, update, Condition::Present).await {
            // Gone meanwhile (never, today: items are not deleted): nothing to mark.
            Err(TableError::ConditionFailed { .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// One read-decide-write round for one observation; says whether the item needs grouping
    /// into a story (new, changed, or not grouped yet).
    /// `prefetched`: `CURRENT` as just read (the first round), else it is read here.
    async fn try_reconcile(
        &self,
        obs: &Observation,
        prefetched: Option<Option<Item>>,
    ) -> Result<(Outcome, Option<Grouping>), Attempt> {
        let current_key = Key::new(schema::item_pk(&obs.id), schema::CURRENT);
        let record = match prefetched {
            Some(record) => record,
            None => self.table.get(&current_key).await?,
        };
        let Some(record) = record else {
            let current = obs.current_record(1, &obs.version_at, &obs.version_sk, None);
            // Search postings first: a failure here is retried before the item exists.
            crate::search::write_postings(self.table.as_ref(), obs.search_postings.clone()).await?;
            crate::crash::crashpoint("after_postings_write");
            let mut ops = vec![
                put(obs.version_record(), Condition::None),
                put(current, Condition::Absent),
            ];
            ops.extend(rollup::moves(self.table.as_ref(), None, Some(&obs.placement)).await?);
            self.table.transact_write(ops).await?;
            return Ok((Outcome::New, Some(Grouping::default())));
        };
        let current = CurrentState::of(&record).map_err(Attempt::Corrupt)?;
        // Where the stored item is counted: a new CURRENT moves it in the same transaction.
        let counted = rollup::Placement::counted(&record).map_err(Attempt::Corrupt)?;
        let index_moves =
            || rollup::moves(self.table.as_ref(), counted.as_ref(), Some(&obs.placement));
        let story = current.story_id.as_deref();
        // Not grouped yet (an earlier grouping failed, or records from before stories), or a
        // story merge left unfinished: group now. No write when it is.
        let ungrouped = || {
            (story.is_none() || current.story_merging.is_some()).then(|| Grouping {
                existing_story: current.story_id.clone(),
                old_entries: current.story_entries(),
            })
        };
        let lock = Condition::Equals {
            attr: attr::STATE_TAG.into(),
            value: Value::String(current.state_tag.clone()),
        };
        // Only CURRENT's own content seen again may still owe the crisis stage its evidence
        // (a crash or failure after its write); the mark names the content fed. A partial view
        // of it (a list entry after its detail) and a repeat of an older version are not fed
        // again: feeding them would move the mark back and forth with the arrival order.
        let unchanged = |same_as_current: bool| Outcome::Unchanged {
            crises_fed: !same_as_current
                || current.crises_fed.as_deref() == Some(current.content_hash.as_str()),
        };

        if obs.version_sk >= current.version_sk {
            if continues_run(
                &obs.content_hash,
                &obs.fields,
                &current.content_hash,
                &record,
            ) {
                let same = obs.content_hash == current.content_hash;
                return Ok((unchanged(same), ungrouped()));
            }
            let first_seen = earliest(&current.first_seen_at, &obs.version_at);
            let mut next =
                obs.current_record(current.versions + 1, first_seen, &obs.version_sk, story);
            carry_story_merging(&current, &mut next);
            let fresh = crate::search::postings_to_write(&obs.search_postings, &record, &obs.id);
            crate::search::write_postings(self.table.as_ref(), fresh).await?;
            let mut ops = vec![put(obs.version_record(), Condition::None), put(next, lock)];
            ops.extend(index_moves().await?);
            self.table.transact_write(ops).await?;
            let grouping = Grouping {
                existing_story: current.story_id.clone(),
                old_entries: current.story_entries(),
            };
            return Ok((Outcome::Changed, Some(grouping)));
        }

        // A late observation: place it in the history.
        let versions = self.version_records(&obs.id).await?;
        let before = versions.iter().rev().find(|v| v.sk <= obs.version_sk);
        if before.is_some_and(|v| continues_run(&obs.content_hash, &obs.fields, &v.hash, &v.record))
        {
            return Ok((unchanged(false), ungrouped()));
        }
        // It starts a run. The runs right after it that only continue it (the same content
        // seen earlier than we knew, or a partial view of it) fold into it: their records go.
        let folded: Vec<&VersionRecord> = versions
            .iter()
            .filter(|v| v.sk > obs.version_sk)
            .take_while(|v| continues_run(&v.hash, &v.record, &obs.content_hash, &obs.fields))
            .collect();
        let first_seen = earliest(&current.first_seen_at, &obs.version_at).to_owned();
        let version_count = current.versions + 1 - folded.len() as u64;
        let mut ops = Vec::with_capacity(folded.len() + 4);
        for version in &folded {
            ops.push(TransactOp::Delete {
                key: Key::new(schema::item_pk(&obs.id), version.sk.clone()),
                condition: Condition::Present,
            });
        }
        // The lock alone does not cover the version list: a concurrent late observation that
        // folds one record into a new one, away from `CURRENT`'s run, leaves the count, the
        // first fetch and `CURRENT`'s version as they were, so the state tag too. Such a write
        // adds a record right before the one it removes; when it touches this decision's
        // window, it removes `before` or the first record after this observation. Both must
        // still be there (the folded ones are, by their deletes' conditions).
        let after = versions.iter().find(|v| v.sk > obs.version_sk);
        let unfolded_after = after.filter(|v| !folded.iter().any(|f| f.sk == v.sk));
        for neighbour in before.into_iter().chain(unfolded_after) {
            ops.push(TransactOp::Check {
                key: Key::new(schema::item_pk(&obs.id), neighbour.sk.clone()),
                condition: Condition::Present,
            });
        }
        ops.push(put(obs.version_record(), Condition::Absent));
        if folded.iter().any(|v| v.sk == current.version_sk) {
            // CURRENT's own run now starts with this observation: its record takes this item.
            let mut next = obs.current_record(version_count, &first_seen, &obs.version_sk, story);
            carry_story_merging(&current, &mut next);
            if obs.content_hash == current.content_hash {
                // The same content: what reached the crisis stage still has.
                if let Some(fed) = &current.crises_fed {
                    next.insert(attr::CRISES_FED.into(), Value::String(fed.clone()));
                }
                ops.push(put(next, lock));
                ops.extend(index_moves().await?);
                self.table.transact_write(ops).await?;
                return Ok((Outcome::Stale, ungrouped()));
            }
            // CURRENT was a partial view of this content (a list entry, and this its detail):
            // what readers see changes, as for a newer version.
            let fresh = crate::search::postings_to_write(&obs.search_postings, &record, &obs.id);
            crate::search::write_postings(self.table.as_ref(), fresh).await?;
            ops.push(put(next, lock));
            ops.extend(index_moves().await?);
            self.table.transact_write(ops).await?;
            let grouping = Grouping {
                existing_story: current.story_id.clone(),
                old_entries: current.story_entries(),
            };
            return Ok((Outcome::Changed, Some(grouping)));
        }
        let mut update = Update::default();
        update
            .set
            .insert(attr::VERSIONS.into(), Value::from(version_count));
        update.set.insert(
            attr::FIRST_SEEN_AT.into(),
            Value::String(first_seen.clone()),
        );
        update.set.insert(
            attr::STATE_TAG.into(),
            Value::String(state_tag(&current.version_sk, version_count, &first_seen)),
        );
        ops.push(TransactOp::Update {
            key: current_key,
            update,
            condition: lock,
        });
        self.table.transact_write(ops).await?;
        Ok((Outcome::Stale, ungrouped()))
    }

    /// Groups one item into its story and returns where it went; when `CURRENT` moved on to
    /// other content meanwhile, groups that content instead (its entries replace the ones
    /// just written). None when the item could not be grouped now.
    async fn group_story(
        &self,
        mut job: story::StoryJob,
        window: chrono::Duration,
    ) -> Result<Option<story::Grouped>, TableError> {
        for _ in 0..MAX_ATTEMPTS {
            if let Some(story) = story::group(self.table.as_ref(), &job, window).await? {
                return Ok(Some(story));
            }
            let key = Key::new(schema::item_pk(&job.id), schema::CURRENT);
            let Some(record) = self.table.get(&key).await? else {
                return Ok(None);
            };
            let (Ok(item), Some(hash)) = (
                serde_json::from_value::<NormalizedItem>(Value::Object(record.clone())),
                record.get(attr::CONTENT_HASH).and_then(Value::as_str),
            ) else {
                tracing::error!(item_id = %job.id, "CURRENT unreadable; story not grouped");
                return Ok(None);
            };
            let enrichment = crate::enrich::enrich(&item, &self.registry, None);
            let written = (
                job.keys.clone(),
                schema::item_time_sk(job.published_at, &job.id),
            );
            job = story::StoryJob {
                id: job.id.clone(),
                content_hash: hash.to_owned(),
                published_at: item.published_at,
                fingerprint: enrichment.fingerprint,
                keys: enrichment.story_keys,
                existing_story: record
                    .get(attr::STORY_ID)
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                old_entries: Some(written),
                title: item.title,
                mission: item.mission,
                source: item.source,
                language: item.language,
            };
        }
        tracing::warn!(item_id = %job.id, "content kept changing; story grouping left to the next delivery");
        Ok(None)
    }

    /// Every version record, oldest first.
    async fn version_records(&self, id: &str) -> Result<Vec<VersionRecord>, TableError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    Query::partition(Index::Primary, schema::item_pk(id))
                        .range(SortKeyRange::BeginsWith(schema::VERSION_PREFIX.into()))
                        .after(cursor),
                )
                .await?;
            for record in page.items {
                if let Some(Value::String(sk)) = record.get(table::SK)
                    && let Some((_, hash)) = sk.rsplit_once('#')
                {
                    out.push(VersionRecord {
                        sk: sk.clone(),
                        hash: hash.to_owned(),
                        record,
                    });
                }
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }
}

/// Writes one mission record per registry mission, unless the table already holds this
/// registry; returns how many missions the registry has. See [`sync_registry_report`].
pub async fn sync_registry(table: &dyn Table, registry: &Registry) -> Result<usize, TableError> {
    Ok(sync_registry_report(table, registry).await?.missions)
}

/// What [`sync_registry_report`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrySync {
    /// Missions in the registry.
    pub missions: usize,
    /// Records written: 0 when the table held this registry already, else every mission's
    /// record and the digest record.
    pub written: usize,
}

/// The registry's mission records, written only when they differ from the last ones written.
///
/// The scrape function calls this at every cold start (the registry ships with the code), so
/// an unchanged registry must cost one read, not ~134 puts: the digest record holds the
/// SHA-256 of the records last written, and the records are rewritten when it differs. The
/// digest is written after the records, so a sync cut short is redone at the next start.
pub async fn sync_registry_report(
    table: &dyn Table,
    registry: &Registry,
) -> Result<RegistrySync, TableError> {
    let mut records = Vec::with_capacity(registry.missions.len());
    for mission in &registry.missions {
        records.push(mission_record(mission)?);
    }
    let digest = registry_digest(&records)?;
    let digest_key = Key::new(schema::REGISTRY_DIGEST_PK, schema::META);
    let stored = table.get(&digest_key).await?;
    let missions = records.len();
    let same_registry = stored.as_ref().and_then(|r| r.get(REGISTRY_DIGEST_ATTR))
        == Some(&Value::String(digest.clone()));
    let flag = |name: &str| stored.as_ref().and_then(|r| r.get(name)) == Some(&Value::Bool(true));
    let backfilled = flag(LATEST_BACKFILLED_ATTR) && flag(ROLLUP_BACKFILLED_ATTR);
    if same_registry && backfilled {
        return Ok(RegistrySync {
            missions,
            written: 0,
        });
    }
    // Once per table (and per new registry, whose missions may be new): the role index and
    // daily counts (`rollup`) made complete for items from before them, then the summary of
    // last official publications (`latest`), which reads each mission's last one from the
    // role index so, exact however far back it is; the digest record remembers both.
    let ids: Vec<String> = registry.missions.iter().map(|m| m.id.clone()).collect();
    let indexed = rollup::backfill(table, &ids).await?;
    if indexed.items > 0 {
        tracing::info!(?indexed, "role index and daily counts backfilled");
    }
    let summarized = latest::backfill(table, &ids).await?;
    if indexed.missions > 0 && !summarized {
        // A summary made before these role indexes read each mission's last 200 items only:
        // what it missed is noted now (a mission added to the registry costs this too).
        let found = latest::renote(table, &ids).await?;
        tracing::info!(
            found,
            "summary of last publications checked against the role index"
        );
    }
    let written = if same_registry {
        0
    } else {
        table
            .batch_write(records.into_iter().map(WriteOp::Put).collect())
            .await?;
        missions + 1
    };
    let mut record = Item::new();
    record.insert(table::PK.into(), Value::String(digest_key.pk));
    record.insert(table::SK.into(), Value::String(digest_key.sk));
    record.insert(REGISTRY_DIGEST_ATTR.into(), Value::String(digest));
    record.insert("missions".into(), Value::from(missions));
    record.insert(LATEST_BACKFILLED_ATTR.into(), Value::Bool(true));
    record.insert(ROLLUP_BACKFILLED_ATTR.into(), Value::Bool(true));
    table.put(record, Condition::None).await?;
    Ok(RegistrySync { missions, written })
}

/// The digest record's attribute saying `latest::backfill` ran on this table.
const LATEST_BACKFILLED_ATTR: &str = "latest_backfilled";

/// The digest record's attribute saying `rollup::backfill` ran on this table.
const ROLLUP_BACKFILLED_ATTR: &str = "rollup_backfilled";

/// The digest record's attribute holding the SHA-256 (hex) of the mission records.
const REGISTRY_DIGEST_ATTR: &str = "digest";

/// A mission's table record: the mission's fields and its keys.
fn mission_record(mission: &crate::model::Mission) -> Result<Item, TableError> {
    let Ok(Value::Object(mut record)) = serde_json::to_value(mission) else {
        return Err(TableError::Validation(format!(
            "mission {} does not serialize to an object",
            mission.id
        )));
    };
    let keys = [
        (table::PK, schema::mission_pk(&mission.id)),
        (table::SK, schema::META.to_owned()),
        (table::GSI1_PK, schema::ALL_MISSIONS.to_owned()),
        (table::GSI1_SK, mission.id.clone()),
        (table::GSI2_PK, schema::country_pk(&mission.country_code)),
        (table::GSI2_SK, schema::mission_pk(&mission.id)),
    ];
    for (name, value) in keys {
        record.insert(name.into(), Value::String(value));
    }
    Ok(record)
}

/// SHA-256 (hex) of the records as JSON: any change to a mission, its keys or the set of
/// missions changes it.
fn registry_digest(records: &[Item]) -> Result<String, TableError> {
    let json = serde_json::to_vec(records)
        .map_err(|e| TableError::Validation(format!("mission records as JSON: {e}")))?;
    Ok(hex::encode(Sha256::digest(&json)))
}

/// What story grouping needs from the item's state before this delivery.
#[derive(Debug, Default)]
struct Grouping {
    existing_story: Option<String>,
    old_entries: Option<(Vec<String>, String)>,
}

/// Why one round did not decide.
enum Attempt {
    /// A condition failed: someone else wrote first. Re-read and decide again.
    Lost,
    Table(TableError),
    Corrupt(String),
}

impl From<TableError> for Attempt {
    fn from(e: TableError) -> Attempt {
        match e {
            TableError::ConditionFailed { .. } | TableError::TransactionCanceled { .. } => {
                Attempt::Lost
            }
            other => Attempt::Table(other),
        }
    }
}

/// One line of an items object, ready to be written.
struct Observation {
    id: String,
    /// The item's fields as table attributes.
    fields: Item,
    content_hash: String,
    version_at: String,
    version_sk: String,
    mission: String,
    country: Option<String>,
    published_sk: String,
    /// The search index's postings of this content (`crate::search`).
    search_postings: Vec<Item>,
    /// Written with `crises_fed` already set: nothing in it for the crisis stage by itself.
    fed_at_write: bool,
    /// Where the item goes in its mission's role index and daily counts.
    placement: rollup::Placement,
}

impl Observation {
    fn new(
        item: &NormalizedItem,
        id: &str,
        country: Option<&str>,
        enrichment: &Enrichment,
    ) -> Result<Self, String> {
        let Ok(Value::Object(mut fields)) = serde_json::to_value(item) else {
            return Err("item does not serialize to an object".into());
        };
        // Enrichment follows from the content, so every version carries its own.
        let ids = |values: Vec<&str>| {
            Value::from(values.into_iter().map(String::from).collect::<Vec<_>>())
        };
        let topics: Vec<&str> = enrichment.topics.iter().map(|t| t.id.as_str()).collect();
        fields.insert(attr::TOPICS.into(), ids(topics.clone()));
        fields.insert(attr::CRISIS.into(), Value::Bool(enrichment.crisis));
        fields.insert(
            attr::PLACES.into(),
            ids(enrichment
                .places
                .iter()
                .map(|p| p.country_code.as_str())
                .collect()),
        );
        fields.insert(
            attr::ACCREDITED_MISSIONS.into(),
            ids(enrichment.missions.iter().map(String::as_str).collect()),
        );
        // The shingles are the bulk of a fingerprint and are rebuilt from the text when needed.
        let mut stored = enrichment.clone();
        stored.fingerprint.shingles.clear();
        let Ok(details) = serde_json::to_string(&stored) else {
            return Err("enrichment does not serialize".into());
        };
        fields.insert(attr::ENRICHMENT.into(), Value::String(details));
        let content_hash = item.content_hash();
        Ok(Observation {
            id: id.to_owned(),
            fields,
            version_at: schema::sortable_time(item.fetched_at),
            version_sk: schema::version_sk(item.fetched_at, &content_hash),
            content_hash,
            mission: item.mission.clone(),
            country: country.map(str::to_owned),
            published_sk: schema::item_time_sk(item.published_at, id),
            search_postings: crate::search::postings(item, id, country, &topics, Utc::now()),
            fed_at_write: false,
            placement: rollup::Placement {
                mission: item.mission.clone(),
                role: item.role,
                published: item.published_at,
                item_id: id.to_owned(),
            },
        })
    }

    fn base_record(&self, sk: &str) -> Item {
        let mut record = self.fields.clone();
        let mut set = |name: &str, value: &str| {
            record.insert(name.into(), Value::String(value.to_owned()));
        };
        set(table::PK, &schema::item_pk(&self.id));
        set(table::SK, sk);
        set(attr::ITEM_ID, &self.id);
        set(attr::VERSION_AT, &self.version_at);
        set(attr::CONTENT_HASH, &self.content_hash);
        record
    }

    /// A version record: the version's item and enrichment tags; the enrichment's details
    /// are `CURRENT`'s alone (only the current version's fingerprint and story keys are read).
    fn version_record(&self) -> Item {
        let mut record = self.base_record(&self.version_sk);
        record.remove(attr::ENRICHMENT);
        record
    }

    /// `story_id` is carried over from the record this one replaces (grouping sets it anew).
    fn current_record(
        &self,
        versions: u64,
        first_seen_at: &str,
        version_sk: &str,
        story_id: Option<&str>,
    ) -> Item {
        let mut record = self.base_record(schema::CURRENT);
        if let Some(story) = story_id {
            record.insert(attr::STORY_ID.into(), Value::String(story.to_owned()));
        }
        record.insert(attr::VERSIONS.into(), Value::from(versions));
        record.insert(
            attr::FIRST_SEEN_AT.into(),
            Value::String(first_seen_at.to_owned()),
        );
        record.insert(
            attr::STATE_TAG.into(),
            Value::String(state_tag(version_sk, versions, first_seen_at)),
        );
        // Every write of a new CURRENT carries the role index and count moves (`rollup`).
        record.insert(attr::INDEXED.into(), Value::Bool(true));
        let mut set = |name: &str, value: String| {
            record.insert(name.into(), Value::String(value));
        };
        if self.fed_at_write {
            set(attr::CRISES_FED, self.content_hash.clone());
        }
        set(table::GSI1_PK, schema::mission_items_pk(&self.mission));
        set(table::GSI1_SK, self.published_sk.clone());
        if let Some(cc) = &self.country {
            set(table::GSI2_PK, schema::country_items_pk(cc));
            set(table::GSI2_SK, self.published_sk.clone());
        }
        record
    }
}

/// What a decision needs from `CURRENT`.
struct CurrentState {
    version_sk: String,
    content_hash: String,
    versions: u64,
    first_seen_at: String,
    state_tag: String,
    story_id: Option<String>,
    /// A story merge recorded and not finished (`story::story_attr::MERGING`): grouping
    /// runs again, whatever the content.
    story_merging: Option<Value>,
    crises_fed: Option<String>,
    /// The stored version's story keys and `{published}#{item_id}`, to replace its entries.
    story_entries: Option<(Vec<String>, String)>,
}

impl CurrentState {
    fn story_entries(&self) -> Option<(Vec<String>, String)> {
        self.story_entries.clone()
    }
}

impl CurrentState {
    fn of(record: &Item) -> Result<CurrentState, String> {
        let text = |name: &str| match record.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(format!("CURRENT lacks string `{name}`")),
        };
        let version_at = text(attr::VERSION_AT)?;
        let content_hash = text(attr::CONTENT_HASH)?;
        let versions = record
            .get(attr::VERSIONS)
            .and_then(as_count)
            .ok_or_else(|| format!("CURRENT lacks number `{}`", attr::VERSIONS))?;
        let story_entries = (|| {
            let details = record.get(attr::ENRICHMENT)?.as_str()?;
            let enrichment: Enrichment = serde_json::from_str(details).ok()?;
            let published = parse_time(record.get("published_at")?.as_str()?)?;
            let id = record.get(attr::ITEM_ID)?.as_str()?;
            Some((enrichment.story_keys, schema::item_time_sk(published, id)))
        })();
        Ok(CurrentState {
            story_id: record
                .get(attr::STORY_ID)
                .and_then(Value::as_str)
                .map(str::to_owned),
            story_merging: record.get(story::story_attr::MERGING).cloned(),
            crises_fed: record
                .get(attr::CRISES_FED)
                .and_then(Value::as_str)
                .map(str::to_owned),
            story_entries,
            version_sk: format!("{}{version_at}#{content_hash}", schema::VERSION_PREFIX),
            content_hash,
            versions,
            first_seen_at: text(attr::FIRST_SEEN_AT)?,
            state_tag: text(attr::STATE_TAG)?,
        })
    }
}

/// One stored version: its sort key, content hash and whole record (the item's fields).
struct VersionRecord {
    sk: String,
    hash: String,
    record: Item,
}

/// Whether an observation (`hash`, `fields`) adds nothing to the run of content that starts
/// with `run_hash` / `run`, so that it belongs to that run instead of starting a new one:
/// the same content, or a [partial view](is_partial_view) of it.
fn continues_run(hash: &str, fields: &Item, run_hash: &str, run: &Item) -> bool {
    hash == run_hash || is_partial_view(fields, run)
}

/// Whether `partial` shows a subset of what `full` shows: no body where `full` has one, the
/// same title, URL and publication time, and the same summary or none.
///
/// This is a portal list entry beside its publication's detail: the list names the
/// publication, the detail adds the body (`content_detail`). A list fetched after the detail
/// says nothing new, while a detail fetched after a list-only version is a new version (it
/// adds the body). See the module documentation for the rule this gives.
fn is_partial_view(partial: &Item, full: &Item) -> bool {
    let present = |item: &Item, name: &str| item.get(name).filter(|v| !v.is_null()).cloned();
    present(partial, "body").is_none()
        && present(full, "body").is_some()
        && ["title", "url", "published_at"]
            .iter()
            .all(|name| present(partial, name) == present(full, name))
        && present(partial, "summary").is_none_or(|s| Some(s) == present(full, "summary"))
}

fn put(item: Item, condition: Condition) -> TransactOp {
    TransactOp::Put { item, condition }
}

/// A deterministic digest of `CURRENT`'s bookkeeping: it changes with every write that
/// matters, and two delivery orders that reach the same state reach the same tag.
fn state_tag(version_sk: &str, versions: u64, first_seen_at: &str) -> String {
    let digest = Sha256::digest(format!("{version_sk}|{versions}|{first_seen_at}").as_bytes());
    hex::encode(&digest[..8])
}

/// Whether `item` is what `CURRENT` (`record`) already holds, observed no earlier, and the item
/// is grouped into a story: the decision [`Reconciler::try_reconcile`] makes first, taken
/// without the item's enrichment. An unreadable record answers no (the full round reports it).
fn unchanged_and_grouped(record: &Item, item: &NormalizedItem) -> bool {
    let Ok(current) = CurrentState::of(record) else {
        return false;
    };
    let content_hash = item.content_hash();
    // Fed to the crisis stage too: an item whose crisis feed was cut off (a crash, a failure)
    // takes the full path, which feeds it again. Items with nothing for the crisis stage carry
    // no mark, so they take the full path as well (still one get, no write).
    current.story_id.is_some()
        && current.story_merging.is_none()
        && content_hash == current.content_hash
        && current.crises_fed.as_deref() == Some(current.content_hash.as_str())
        && schema::version_sk(item.fetched_at, &content_hash) >= current.version_sk
}

/// A replaced `CURRENT` keeps an unfinished story merge, so its next grouping finishes it.
fn carry_story_merging(current: &CurrentState, next: &mut Item) {
    if let Some(merging) = &current.story_merging {
        next.insert(story::story_attr::MERGING.into(), merging.clone());
    }
}

/// The earlier of two `sortable_time` strings (byte order is time order).
fn earliest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if b < a { b } else { a }
}

/// Cuts an over-long body at a character boundary (see [`MAX_STORED_BODY_BYTES`]).
fn fit_for_table(item: &mut NormalizedItem) {
    if let Some(body) = &mut item.body
        && body.len() > MAX_STORED_BODY_BYTES
    {
        let mut end = MAX_STORED_BODY_BYTES;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
    }
}

/// A count as a table adapter may hand it back: an integer, or a float with no fraction.
pub(crate) fn as_count(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// Parses a `sortable_time` (or any RFC 3339) string back.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
