//! The scrape stage: pick the sources that are due, fetch them, store what changed.
//!
//! One cycle:
//! 1. read every source's state with one query on GSI1 (`SOURCES`), not one get per source;
//! 2. a source is due when it has no state yet or its `next_due_at` has passed;
//! 3. due sources run concurrently (at most `max_concurrent_sources`), oldest-due first;
//!    politeness towards hosts (gates, robots.txt) is the fetcher's job, so many sources on
//!    one host simply queue at its gate; once `cycle_budget` is spent, sources not yet
//!    started are left, still due, for the next cycle;
//! 4. each response is hashed: a 304, or the hash the source's state already holds for that
//!    URL, means unchanged and writes nothing; anything else becomes a raw object under
//!    `keys::raw_key` with the fetch's facts as metadata (`RawMeta`);
//! 5. the source's state is written back whole (one writer per source per cycle): validators
//!    per URL, health, and the next due time — the cadence (or the server's longer hint) with
//!    ±10% jitter on success, exponential backoff on failure. A failing source never stops
//!    the others.
//!
//! What a source fetches: a `kemlu_portal` source reads its section's list from the portal
//! API (`backfill_pages` pages on its first run, page 1 afterwards); a `sitemap` source its
//! sitemap and, for a sitemap index, at most `max_child_sitemaps` of its children; every other
//! kind is one GET of its URL.
//!
//! Linked pages: the links an `html_list` listing page or a sitemap names, and (when
//! `fetch_portal_details`) the publications a portal list names, are fetched once each (an article page, or the portal's
//! publication detail) and stored as raw objects of their own; at most `max_new_linked` per
//! source per cycle, newest (first listed) first, the rest on later cycles. The source's
//! state remembers the pages fetched (`SourceState::seen`, bounded by `seen_capacity`) so no
//! page is fetched twice. Article links stay on the source's host unless the registry says
//! `follow_other_hosts`. A linked page that fails is logged, not the source's failure.
//!
//! Health: a source failing `unhealthy_after_failures` times in a row is marked unhealthy in
//! its state (`unhealthy_since`, `unhealthy_reason`), retried no sooner than
//! `unhealthy_retry_delay`, and cleared by its next success.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::fetch::{FetchError, FetchRequest, FetchResponse, Fetcher};
use crate::keys;
use crate::model::{RawMeta, SourceKind, SourceState, Validators};
use crate::parse::{html_list, sitemap};
use crate::registry::{Registry, SourceRef};
use crate::schema;
use crate::store::table::{GSI1_PK, GSI1_SK, PK, SK};
use crate::store::{
    BlobError, BlobMeta, BlobStore, Condition, Index, Item, Key, Query, Table, TableError,
};

/// No delay, hint or backoff pushes a source further out than this.
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 3600);
/// The language the portal API is asked for.
pub const PORTAL_LANGUAGE: &str = "id";

#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    /// `limit` of a portal list request.
    pub portal_page_size: u32,
    /// Pages of a portal list read on a source's first run; later runs read page 1 only.
    pub backfill_pages: u32,
    pub max_concurrent_sources: usize,
    /// Wall time a cycle may spend starting sources; None for no limit. Sources already
    /// running finish; the rest are deferred (they stay due and go first next time).
    pub cycle_budget: Option<Duration>,
    /// Failures in a row after which a source is marked unhealthy.
    pub unhealthy_after_failures: u32,
    /// An unhealthy source is retried no sooner than this after each failure.
    pub unhealthy_retry_delay: Duration,
    /// Linked pages (articles, portal publication details) fetched per source per cycle.
    pub max_new_linked: usize,
    /// Child sitemaps of a sitemap index read per source per cycle.
    pub max_child_sitemaps: usize,
    /// Linked pages a source's state remembers as fetched (the oldest are forgotten).
    pub seen_capacity: usize,
    /// Whether a portal source fetches each new publication's detail (on by default). The
    /// detail parses to the same item as its list entry, with the body the list may lack; its
    /// raw object is stamped strictly later than the list's ([`linked_fetch_time`]) and
    /// reconcile treats a bodyless list entry as a partial view of the detail, so the stored
    /// versions do not depend on delivery order (`crate::reconcile`).
    pub fetch_portal_details: bool,
}

impl Default for ScrapeConfig {
    fn default() -> ScrapeConfig {
        ScrapeConfig {
            portal_page_size: 20,
            backfill_pages: 3,
            max_concurrent_sources: 8,
            cycle_budget: None,
            unhealthy_after_failures: UNHEALTHY_AFTER_FAILURES,
            unhealthy_retry_delay: Duration::from_secs(2 * 3600),
            max_new_linked: 10,
            max_child_sitemaps: 5,
            seen_capacity: 2000,
            fetch_portal_details: true,
        }
    }
}

pub struct Scraper {
    pub registry: Arc<Registry>,
    pub blobs: Arc<dyn BlobStore>,
    pub table: Arc<dyn Table>,
    pub fetcher: Fetcher,
    pub config: ScrapeConfig,
}

/// What one cycle did. Counts are of sources: `due = fetched + failed.len() + deferred`, and
/// every fetched source is either `changed` (wrote at least one raw object) or `unchanged`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CycleReport {
    pub due: usize,
    pub fetched: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Of the unchanged: sources whose every response was a 304.
    pub not_modified: usize,
    /// Due sources not started because the cycle budget was spent.
    pub deferred: usize,
    /// Body bytes received (decoded), failed sources' included.
    pub bytes: u64,
    /// Sources that failed; when the states could not be read at all, one entry with owner
    /// and source `*`.
    pub failed: Vec<SourceFailure>,
    /// Raw keys written, including those a source wrote before it failed.
    pub written: Vec<String>,
    /// Registry sources that are now unhealthy (failed `unhealthy_after_failures` or more
    /// times in a row, due or not this cycle): the "silent sources" the deployment alarms on.
    pub unhealthy_sources: usize,
    /// Linked pages (articles, portal publication details) fetched, and those that failed.
    pub linked_fetched: usize,
    pub linked_failed: usize,
}

/// A source failing this many times in a row counts as unhealthy by default
/// (`ScrapeConfig::unhealthy_after_failures`; the API calls its mission `failing` at the same
/// count).
pub const UNHEALTHY_AFTER_FAILURES: u32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct SourceFailure {
    pub owner: String,
    pub source: String,
    pub error: String,
}

/// What scraping one source did.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceOutcome {
    pub owner: String,
    pub source: String,
    /// HTTP requests made (a portal backfill makes several).
    pub requests: usize,
    /// Responses that were unchanged (304 or same hash).
    pub unchanged_responses: usize,
    /// Raw keys written.
    pub written: Vec<String>,
    /// Linked pages fetched (articles, portal publication details).
    pub linked_fetched: usize,
    /// The state as written back.
    pub state: SourceState,
}

#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("{owner}/{source_id}: invalid URL {url:?}: {reason}")]
    InvalidUrl {
        owner: String,
        source_id: String,
        url: String,
        reason: String,
    },
    #[error("{owner}/{source_id}: {reason}")]
    Config {
        owner: String,
        source_id: String,
        reason: String,
    },
    #[error("{owner}/{source_id}: {error}")]
    Fetch {
        owner: String,
        source_id: String,
        #[source]
        error: FetchError,
    },
    #[error("{owner}/{source_id}: storing the raw object: {error}")]
    Blob {
        owner: String,
        source_id: String,
        /// Boxed: the blob store's error is the largest, and errors travel by value.
        #[source]
        error: Box<BlobError>,
    },
    #[error("{owner}/{source_id}: source state: {error}")]
    Table {
        owner: String,
        source_id: String,
        #[source]
        error: TableError,
    },
}

impl ScrapeError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ScrapeError::InvalidUrl { .. } | ScrapeError::Config { .. } => false,
            ScrapeError::Fetch { error, .. } => error.is_retryable(),
            ScrapeError::Blob { error, .. } => error.is_retryable(),
            ScrapeError::Table { error, .. } => error.is_retryable(),
        }
    }

    /// The server's `Retry-After`, when a fetch failed with one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ScrapeError::Fetch { error, .. } => error.retry_after(),
            _ => None,
        }
    }
}

/// Every source state in the table: one query on GSI1 partition `SOURCES`, page by page.
/// A record that does not read as a `SourceState` is skipped with a warning (its source then
/// looks new, which costs one backfill, not the whole view).
pub async fn load_states(table: &dyn Table) -> Result<Vec<SourceState>, TableError> {
    let mut states = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(Query::partition(Index::Gsi1, schema::ALL_SOURCES).after(cursor))
            .await?;
        for item in page.items {
            let at = item.get(GSI1_SK).cloned();
            match serde_json::from_value::<SourceState>(Value::Object(item)) {
                Ok(state) => states.push(state),
                Err(e) => {
                    tracing::warn!(record = ?at, error = %e, "unreadable source state skipped")
                }
            }
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(states),
        }
    }
}

/// Whether a source with this state should be fetched at `now`.
pub fn is_due(state: Option<&SourceState>, now: DateTime<Utc>) -> bool {
    match state.and_then(|s| s.next_due_at) {
        None => true,
        Some(at) => at <= now,
    }
}

/// Whether a source is marked unhealthy, or (a state written before the mark existed) has
/// failed [`UNHEALTHY_AFTER_FAILURES`] or more times in a row.
pub fn is_unhealthy(state: &SourceState) -> bool {
    state.unhealthy_since.is_some() || state.consecutive_failures >= UNHEALTHY_AFTER_FAILURES
}

/// How a linked page is remembered in `SourceState::seen`: 16 hex digits of its URL's SHA-256
/// (collisions at this size only cost a skipped page, one in ~10^19).
pub fn link_hash(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..8])
}

/// The table record of a source state: its fields plus the key attributes.
pub fn state_item(state: &SourceState) -> Result<Item, TableError> {
    let mut item = match serde_json::to_value(state) {
        Ok(Value::Object(m)) => m,
        Ok(_) | Err(_) => {
            return Err(TableError::Validation(format!(
                "source state {}/{} does not serialize to an object",
                state.owner, state.source
            )));
        }
    };
    let key = state_key(&state.owner, &state.source);
    item.insert(PK.into(), Value::String(key.pk));
    item.insert(SK.into(), Value::String(key.sk));
    item.insert(GSI1_PK.into(), Value::String(schema::ALL_SOURCES.into()));
    item.insert(
        GSI1_SK.into(),
        Value::String(format!("{}/{}", state.owner, state.source)),
    );
    Ok(item)
}

pub fn state_key(owner: &str, source: &str) -> Key {
    Key::new(schema::mission_pk(owner), schema::source_sk(source))
}

/// What a source's fetches produced so far; kept when a later page fails.
#[derive(Default)]
struct Progress {
    requests: usize,
    unchanged: usize,
    /// Responses that were a 304.
    not_modified: usize,
    /// Body bytes received.
    bytes: u64,
    written: Vec<String>,
    /// Validators of the URLs fetched this run.
    validators: BTreeMap<String, Validators>,
    /// The longest "come back later" the server asked for (max-age or Expires, Retry-After).
    hint: Option<Duration>,
    /// Linked pages fetched (or given up on) this run, as `link_hash`es.
    seen: Vec<String>,
    linked_fetched: usize,
    linked_failed: usize,
}

/// One source's attempt: what it wrote, whatever the result.
struct Attempt {
    written: Vec<String>,
    bytes: u64,
    linked_fetched: usize,
    linked_failed: usize,
    /// Every response was a 304.
    not_modified: bool,
    /// The source's failures in a row after this attempt.
    failures_after: u32,
    result: Result<SourceOutcome, ScrapeError>,
}

impl Scraper {
    /// Fetches every due source once and records what happened.
    pub async fn run_cycle(&self, now: DateTime<Utc>) -> CycleReport {
        let mut report = CycleReport::default();
        let states = match load_states(self.table.as_ref()).await {
            Ok(states) => states,
            Err(e) => {
                tracing::error!(error = %e, "cannot read source states; cycle skipped");
                report.failed.push(SourceFailure {
                    owner: "*".into(),
                    source: "*".into(),
                    error: format!("reading source states: {e}"),
                });
                return report;
            }
        };
        let mut states: HashMap<(String, String), SourceState> = states
            .into_iter()
            .map(|s| ((s.owner.clone(), s.source.clone()), s))
            .collect();
        let mut due: Vec<(SourceRef<'_>, Option<SourceState>)> = self
            .registry
            .sources()
            .filter_map(|src| {
                let state = states.remove(&(src.owner.to_owned(), src.source.id.clone()));
                let due = is_due(state.as_ref(), now);
                // A source not due keeps its count; a due one's is counted after its attempt.
                if !due && state.as_ref().is_some_and(|s| self.unhealthy(s)) {
                    report.unhealthy_sources += 1;
                }
                due.then_some((src, state))
            })
            .collect();
        // Oldest-due first (never fetched before all), so a cycle cut short by its budget
        // leaves the most recently served sources for next time. Stable: registry order on ties.
        due.sort_by_key(|(_, state)| state.as_ref().and_then(|s| s.next_due_at));
        let due = interleave_by_host(due, |(src, _)| host_of(&src.source.url));
        report.due = due.len();

        let started = tokio::time::Instant::now();
        let budget = self.config.cycle_budget;
        let threshold = self.config.unhealthy_after_failures.max(1);
        let attempts: Vec<(SourceRef<'_>, bool, Option<Attempt>)> = futures::stream::iter(due)
            .map(|(src, state)| async move {
                let unhealthy_before = state.as_ref().is_some_and(|s| self.unhealthy(s));
                // Checked when the source would start, not when the cycle began.
                if budget.is_some_and(|b| started.elapsed() >= b) {
                    return (src, unhealthy_before, None);
                }
                (
                    src,
                    unhealthy_before,
                    Some(self.attempt(src, state, now).await),
                )
            })
            .buffer_unordered(self.config.max_concurrent_sources.max(1))
            .collect()
            .await;
        for (src, unhealthy_before, attempt) in attempts {
            let Some(attempt) = attempt else {
                report.deferred += 1;
                if unhealthy_before {
                    report.unhealthy_sources += 1;
                }
                continue;
            };
            report.written.extend(attempt.written);
            report.bytes += attempt.bytes;
            report.linked_fetched += attempt.linked_fetched;
            report.linked_failed += attempt.linked_failed;
            match attempt.result {
                Ok(outcome) => {
                    report.fetched += 1;
                    if outcome.written.is_empty() {
                        report.unchanged += 1;
                        if attempt.not_modified {
                            report.not_modified += 1;
                        }
                    } else {
                        report.changed += 1;
                    }
                }
                Err(e) => {
                    if attempt.failures_after >= threshold {
                        report.unhealthy_sources += 1;
                    }
                    report.failed.push(SourceFailure {
                        owner: src.owner.to_owned(),
                        source: src.source.id.clone(),
                        error: e.to_string(),
                    });
                }
            }
        }
        tracing::info!(
            due = report.due,
            fetched = report.fetched,
            changed = report.changed,
            unchanged = report.unchanged,
            not_modified = report.not_modified,
            failed = report.failed.len(),
            deferred = report.deferred,
            unhealthy_sources = report.unhealthy_sources,
            linked_fetched = report.linked_fetched,
            linked_failed = report.linked_failed,
            written = report.written.len(),
            bytes = report.bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "scrape cycle done"
        );
        report
    }

    /// Whether a state counts as unhealthy under this scraper's threshold.
    fn unhealthy(&self, state: &SourceState) -> bool {
        state.unhealthy_since.is_some()
            || state.consecutive_failures >= self.config.unhealthy_after_failures.max(1)
    }

    /// Fetches one source now, due or not (reads its state with one get).
    pub async fn scrape_source(
        &self,
        src: SourceRef<'_>,
        now: DateTime<Utc>,
    ) -> Result<SourceOutcome, ScrapeError> {
        let item = self
            .table
            .get(&state_key(src.owner, &src.source.id))
            .await
            .map_err(|error| ScrapeError::Table {
                owner: src.owner.to_owned(),
                source_id: src.source.id.clone(),
                error,
            })?;
        let state = item.and_then(|item| serde_json::from_value(Value::Object(item)).ok());
        self.attempt(src, state, now).await.result
    }

    async fn attempt(
        &self,
        src: SourceRef<'_>,
        previous: Option<SourceState>,
        now: DateTime<Utc>,
    ) -> Attempt {
        let owner = src.owner;
        let id = src.source.id.as_str();
        let mut state = previous.unwrap_or_else(|| SourceState {
            owner: owner.to_owned(),
            source: id.to_owned(),
            ..SourceState::default()
        });
        let first_run = !state.backfilled;
        let mut progress = Progress::default();
        let fetched = self
            .fetch_source(src, &state, first_run, now, &mut progress)
            .await;

        let cadence = Duration::from_secs(60 * u64::from(src.source.cadence_minutes.max(1)));
        state.last_attempt_at = Some(now);
        if !progress.written.is_empty() {
            state.last_change_at = Some(now);
        }
        // Linked pages fetched are remembered whatever the outcome: they are stored.
        state.seen.append(&mut progress.seen);
        let excess = state.seen.len().saturating_sub(self.config.seen_capacity);
        state.seen.drain(..excess);
        match &fetched {
            Ok(()) => {
                // Only this run's URLs: pages read once for the backfill drop out.
                state.validators = std::mem::take(&mut progress.validators);
                state.last_success_at = Some(now);
                state.consecutive_failures = 0;
                state.last_error = None;
                state.unhealthy_since = None;
                state.unhealthy_reason = None;
                state.backfilled = true;
                state.next_due_at = Some(now + to_chrono(success_delay(cadence, progress.hint)));
            }
            Err(e) => {
                state.validators.append(&mut progress.validators);
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                state.last_error = Some(e.to_string());
                let mut delay = failure_delay(cadence, state.consecutive_failures, e.retry_after());
                if state.consecutive_failures >= self.config.unhealthy_after_failures.max(1) {
                    if state.unhealthy_since.is_none() {
                        state.unhealthy_since = Some(now);
                        tracing::warn!(
                            owner,
                            source = id,
                            failures = state.consecutive_failures,
                            "source marked unhealthy"
                        );
                    }
                    state.unhealthy_reason = Some(format!(
                        "{} failures in a row; last: {e}",
                        state.consecutive_failures
                    ));
                    delay = delay.max(self.config.unhealthy_retry_delay).min(MAX_DELAY);
                }
                state.next_due_at = Some(now + to_chrono(delay));
                tracing::warn!(
                    owner,
                    source = id,
                    error = %e,
                    retryable = e.is_retryable(),
                    consecutive_failures = state.consecutive_failures,
                    "source failed"
                );
            }
        }

        let stored = match state_item(&state) {
            Ok(item) => self.table.put(item, Condition::None).await,
            Err(e) => Err(e),
        };
        let result = match (fetched, stored) {
            (Ok(()), Ok(())) => Ok(SourceOutcome {
                owner: owner.to_owned(),
                source: id.to_owned(),
                requests: progress.requests,
                unchanged_responses: progress.unchanged,
                written: progress.written.clone(),
                linked_fetched: progress.linked_fetched,
                state: state.clone(),
            }),
            (Ok(()), Err(error)) => Err(ScrapeError::Table {
                owner: owner.to_owned(),
                source_id: id.to_owned(),
                error,
            }),
            (Err(e), stored) => {
                if let Err(table_error) = stored {
                    tracing::error!(owner, source = id, error = %table_error, "source state not written");
                }
                Err(e)
            }
        };
        Attempt {
            written: progress.written,
            bytes: progress.bytes,
            linked_fetched: progress.linked_fetched,
            linked_failed: progress.linked_failed,
            failures_after: state.consecutive_failures,
            not_modified: progress.requests > 0 && progress.not_modified == progress.requests,
            result,
        }
    }

    /// Fetches the source's URLs in order, recording into `progress` as it goes; stops at the
    /// first failure of the source's own documents. Then fetches the new pages they link to.
    async fn fetch_source(
        &self,
        src: SourceRef<'_>,
        state: &SourceState,
        first_run: bool,
        now: DateTime<Utc>,
        progress: &mut Progress,
    ) -> Result<(), ScrapeError> {
        let source = src.source;
        let mut queue: VecDeque<Url> = self.urls_for(src, first_run)?.into();
        let language = (source.kind == SourceKind::KemluPortal).then(|| PORTAL_LANGUAGE.to_owned());
        // Two pages with the same body in one run would share a key; store it once.
        let mut written_this_run = HashSet::new();
        let mut links: Vec<Url> = Vec::new();
        let mut child_sitemaps_left = self.config.max_child_sitemaps;
        while let Some(url) = queue.pop_front() {
            let url_key = url.to_string();
            let known = state.validators.get(&url_key).cloned().unwrap_or_default();
            let request = FetchRequest {
                url: url.clone(),
                etag: known.etag.clone().filter(|_| source.conditional_get),
                last_modified: known
                    .last_modified
                    .clone()
                    .filter(|_| source.conditional_get),
            };
            let response = self
                .fetcher
                .get(request)
                .await
                .map_err(|error| fetch_error(src, error))?;
            progress.requests += 1;
            progress.bytes += response.body.len() as u64;
            // `max-age` overrides `Expires` (RFC 9111 §5.3).
            progress.hint = progress
                .hint
                .max(response.max_age.or(response.expires))
                .max(response.retry_after);
            // A portal page shorter than the page size is the end of the list: no more
            // backfill pages to ask for (empty portals then cost one request, not three).
            let last_page = source.kind == SourceKind::KemluPortal
                && !response.not_modified
                && portal_page_is_short(&response.body, self.config.portal_page_size);

            if response.not_modified {
                // A 304 may refresh the validators; the content (and its hash) stays.
                let validators = Validators {
                    etag: response.etag.or(known.etag),
                    last_modified: response.last_modified.or(known.last_modified),
                    sha256: known.sha256,
                };
                progress.validators.insert(url_key, validators);
                progress.unchanged += 1;
                progress.not_modified += 1;
                log_response(src, &url, response.status, 0, "not_modified");
                continue;
            }

            // Links are read from every body, changed or not, so pages left over by the
            // per-cycle limit are fetched on the next cycles.
            let found = self.links_in(src, &response);
            links.extend(found.pages);
            for child in found.sitemaps {
                if child_sitemaps_left == 0 {
                    tracing::info!(owner = src.owner, source = %source.id, sitemap = %child, "child sitemap left: limit reached");
                    continue;
                }
                child_sitemaps_left -= 1;
                queue.push_back(child);
            }

            let sha256 = hex::encode(Sha256::digest(&response.body));
            progress.validators.insert(
                url_key,
                Validators {
                    etag: response.etag.clone(),
                    last_modified: response.last_modified.clone(),
                    sha256: Some(sha256.clone()),
                },
            );
            if known.sha256.as_deref() == Some(sha256.as_str()) {
                progress.unchanged += 1;
                log_response(src, &url, response.status, response.body.len(), "unchanged");
            } else {
                self.store(
                    src,
                    &url,
                    response,
                    sha256,
                    language.clone(),
                    false,
                    now,
                    progress,
                    &mut written_this_run,
                )
                .await?;
            }
            if last_page {
                break;
            }
        }
        let backlog = self
            .fetch_linked(
                src,
                state,
                first_run,
                links,
                language,
                now,
                progress,
                &mut written_this_run,
            )
            .await?;
        if backlog {
            // Pages are left for the next cycles; drop the listings' validators so the next
            // fetch gets their bodies (and links) instead of a 304. The hash still says
            // "unchanged", so nothing is stored twice.
            for validators in progress.validators.values_mut() {
                validators.etag = None;
                validators.last_modified = None;
            }
        }
        Ok(())
    }

    /// Stores one response as a raw object, unless a body with the same hash was stored
    /// earlier this run; returns whether it wrote.
    #[allow(clippy::too_many_arguments)]
    async fn store(
        &self,
        src: SourceRef<'_>,
        url: &Url,
        response: FetchResponse,
        sha256: String,
        language: Option<String>,
        article: bool,
        now: DateTime<Utc>,
        progress: &mut Progress,
        written_this_run: &mut HashSet<String>,
    ) -> Result<bool, ScrapeError> {
        let source = src.source;
        let bytes = response.body.len();
        if !written_this_run.insert(sha256.clone()) {
            progress.unchanged += 1;
            log_response(src, url, response.status, bytes, "unchanged");
            return Ok(false);
        }
        let ext = keys::ext_for(response.content_type.as_deref(), &response.body);
        let key = keys::raw_key(src.owner, &source.id, now, &sha256, ext);
        let meta = RawMeta {
            mission: src.owner.to_owned(),
            source: source.id.clone(),
            kind: source.kind,
            role: source.role,
            url: url.to_string(),
            final_url: response.final_url.to_string(),
            status: response.status,
            content_type: response.content_type.clone(),
            etag: response.etag.clone(),
            last_modified: response.last_modified.clone(),
            fetched_at: now,
            sha256,
            language,
            charset: response.charset.clone(),
            article,
        };
        let blob_meta = BlobMeta {
            content_type: response.content_type.clone(),
            metadata: meta.to_metadata(),
        };
        self.blobs
            .put(&key, response.body, &blob_meta)
            .await
            .map_err(|error| ScrapeError::Blob {
                owner: src.owner.to_owned(),
                source_id: source.id.clone(),
                error: Box::new(error),
            })?;
        crate::crash::crashpoint("after_raw_write");
        log_response(
            src,
            url,
            response.status,
            bytes,
            if article { "article" } else { "changed" },
        );
        progress.written.push(key);
        Ok(true)
    }

    /// The pages and child sitemaps a source document links to, by the source's kind.
    fn links_in(&self, src: SourceRef<'_>, response: &FetchResponse) -> Links {
        let source = src.source;
        let page_url = response.final_url.as_str();
        let mut links = Links::default();
        match source.kind {
            SourceKind::HtmlList => {
                let (html, _) =
                    crate::fetch::decode_to_utf8(&response.body, response.charset.as_deref());
                match html_list::entries(
                    &html,
                    page_url,
                    &source.list,
                    chrono_tz::UTC,
                    Utc::now(),
                    page_url,
                ) {
                    Ok(entries) => {
                        links.pages = entries
                            .iter()
                            .filter_map(|e| Url::parse(&e.url).ok())
                            .collect()
                    }
                    Err(e) => {
                        tracing::warn!(owner = src.owner, source = %source.id, error = %e, "listing page unreadable; no articles")
                    }
                }
            }
            SourceKind::Sitemap => {
                let (xml, _) =
                    crate::fetch::decode_xml_to_utf8(&response.body, response.charset.as_deref());
                match sitemap::read(&xml) {
                    Ok(map) => {
                        let parse = |u: &String| {
                            Url::parse(u)
                                .ok()
                                .filter(|u| matches!(u.scheme(), "http" | "https"))
                        };
                        // Newest first (by lastmod, entries without one last): the per-cycle
                        // limit then takes the latest pages.
                        let mut urls = map.urls;
                        urls.sort_by(|a, b| b.lastmod.cmp(&a.lastmod));
                        links.pages = urls.iter().filter_map(|e| parse(&e.loc)).collect();
                        // Child sitemaps are the source's own documents: same host only.
                        links.sitemaps = map
                            .sitemaps
                            .iter()
                            .filter_map(parse)
                            .filter(|u| same_host(u, &source.url))
                            .collect();
                    }
                    Err(reason) => {
                        tracing::warn!(owner = src.owner, source = %source.id, %reason, "sitemap unreadable; no articles")
                    }
                }
            }
            SourceKind::KemluPortal if self.config.fetch_portal_details => {
                let portal = source.portal.as_deref().unwrap_or(src.owner);
                if let Ok(base) = Url::parse(&source.url) {
                    links.pages = portal_slugs(&response.body)
                        .iter()
                        .filter_map(|slug| portal_detail_url(&base, portal, slug))
                        .collect();
                }
            }
            _ => {}
        }
        links
    }

    /// Fetches the linked pages not fetched before, at most `max_new_linked`, and returns
    /// whether new pages were left for later cycles. On a source's first run what a listing
    /// already holds is its past: the pages over the limit are remembered as done instead (the
    /// backfill is bounded, and the next cycle over an unchanged source fetches nothing).
    /// A page that fails is logged and counted; it is tried again next cycle when the failure
    /// may pass, else remembered as done.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_linked(
        &self,
        src: SourceRef<'_>,
        state: &SourceState,
        first_run: bool,
        links: Vec<Url>,
        language: Option<String>,
        now: DateTime<Utc>,
        progress: &mut Progress,
        written_this_run: &mut HashSet<String>,
    ) -> Result<bool, ScrapeError> {
        let source = src.source;
        let article = source.kind != SourceKind::KemluPortal;
        let mut skip: HashSet<String> = state.seen.iter().cloned().collect();
        let mut fresh = Vec::new();
        // Half the memory at most, so what one listing holds is never forgotten while listed.
        let considered = (self.config.seen_capacity / 2).max(1);
        for url in links.into_iter().take(considered) {
            if article && !source.list.follow_other_hosts && !same_host(&url, &source.url) {
                continue;
            }
            let hash = link_hash(url.as_str());
            if skip.insert(hash.clone()) {
                fresh.push((url, hash));
            }
        }
        let mut backlog = fresh.len() > self.config.max_new_linked;
        let left = fresh.split_off(self.config.max_new_linked.min(fresh.len()));
        if backlog && first_run {
            tracing::info!(owner = src.owner, source = %source.id, pages = left.len(), "first run: older linked pages not fetched");
            progress.seen.extend(left.into_iter().map(|(_, hash)| hash));
            backlog = false;
        }
        for (nth, (url, hash)) in fresh.into_iter().enumerate() {
            match self.fetcher.get(FetchRequest::new(url.clone())).await {
                Ok(response) => {
                    let fetched_at = linked_fetch_time(now, nth);
                    progress.requests += 1;
                    progress.bytes += response.body.len() as u64;
                    progress.linked_fetched += 1;
                    let sha256 = hex::encode(Sha256::digest(&response.body));
                    self.store(
                        src,
                        &url,
                        response,
                        sha256,
                        language.clone(),
                        article,
                        fetched_at,
                        progress,
                        written_this_run,
                    )
                    .await?;
                    progress.seen.push(hash);
                }
                Err(error) => {
                    progress.linked_failed += 1;
                    tracing::warn!(owner = src.owner, source = %source.id, url = %url, error = %error, retryable = error.is_retryable(), "linked page failed");
                    if !error.is_retryable() {
                        progress.seen.push(hash);
                    }
                }
            }
        }
        Ok(backlog)
    }

    /// The URLs one run of a source reads.
    fn urls_for(&self, src: SourceRef<'_>, first_run: bool) -> Result<Vec<Url>, ScrapeError> {
        let source = src.source;
        let base = Url::parse(&source.url).map_err(|e| ScrapeError::InvalidUrl {
            owner: src.owner.to_owned(),
            source_id: source.id.clone(),
            url: source.url.clone(),
            reason: e.to_string(),
        })?;
        if source.kind != SourceKind::KemluPortal {
            return Ok(vec![base]);
        }
        let config_error = |reason: &str| ScrapeError::Config {
            owner: src.owner.to_owned(),
            source_id: source.id.clone(),
            reason: reason.to_owned(),
        };
        // The portal slug is the mission's own id unless the registry says otherwise.
        let portal = source.portal.as_deref().unwrap_or(src.owner);
        let section = source
            .section
            .as_deref()
            .ok_or_else(|| config_error("kemlu_portal source has no `section`"))?;
        let pages = if first_run {
            self.config.backfill_pages.max(1)
        } else {
            1
        };
        (1..=pages)
            .map(|page| {
                portal_list_url(&base, portal, section, page, self.config.portal_page_size)
                    .ok_or_else(|| config_error("the portal API URL cannot take a path"))
            })
            .collect()
    }
}

/// When the `nth` (from 0) linked page of a source was fetched, on the cycle's clock: the
/// cycle time `now` (when the source's own documents were fetched) plus `nth + 1` milliseconds
/// (the resolution of raw keys and version times). A portal detail is then strictly later than
/// the list entry it details, so reconcile orders the two by time whatever order their objects
/// arrive in; and a rerun of the same cycle (after a crash) names and stamps its objects exactly
/// as the first run did, which wall-clock time would not.
pub fn linked_fetch_time(now: DateTime<Utc>, nth: usize) -> DateTime<Utc> {
    let nth = i64::try_from(nth).unwrap_or(i64::MAX / 2);
    now + chrono::Duration::milliseconds(1 + nth)
}

/// What a source document links to.
#[derive(Default)]
struct Links {
    /// Pages to fetch once each (articles, portal publication details), in listed order.
    pages: Vec<Url>,
    /// Child sitemaps of a sitemap index.
    sitemaps: Vec<Url>,
}

fn fetch_error(src: SourceRef<'_>, error: FetchError) -> ScrapeError {
    ScrapeError::Fetch {
        owner: src.owner.to_owned(),
        source_id: src.source.id.clone(),
        error,
    }
}

/// Whether `url` is on the host of the source URL `source_url`.
fn same_host(url: &Url, source_url: &str) -> bool {
    Url::parse(source_url).is_ok_and(|s| {
        s.host_str()
            .is_some_and(|h| url.host_str().is_some_and(|u| u.eq_ignore_ascii_case(h)))
    })
}

/// The publication slugs of a portal list page, in list order (newest first).
fn portal_slugs(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    value
        .pointer("/data/publication")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| p.get("slug").and_then(Value::as_str))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// One publication of a portal: `{base}/content/publication?portal={portal}&slug={slug}`.
pub fn portal_detail_url(base: &Url, portal: &str, slug: &str) -> Option<Url> {
    let mut url = base.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .push("content")
        .push("publication");
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("portal", portal)
        .append_pair("slug", slug);
    Some(url)
}

/// Whether a portal list page holds fewer publications than asked for. A body that is not
/// the expected JSON says nothing (false): normalize will report it, and paging goes on.
fn portal_page_is_short(body: &[u8], page_size: u32) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/data/publication")
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .is_some_and(|n| n < page_size as usize)
}

/// One page of a portal section's list, newest first:
/// `{base}/contentMenu?type=menu&slug[]={portal}&slug[]={section}&portal={portal}&page={n}&limit={size}&order_by=publish_date&order_dir=desc&lang=id`.
/// None when `base` cannot take a path (`mailto:` and the like).
/// The host part of a source URL (the whole string when it has none), for grouping.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

/// `due` reordered round-robin over hosts, each host's own order kept: the concurrent source
/// slots then spread over hosts. In plain oldest-due order the ~130 portals, all on one host
/// and all due together, would fill every slot while they wait at that host's politeness gate,
/// and every other host would wait for them.
fn interleave_by_host<T>(due: Vec<T>, host: impl Fn(&T) -> String) -> Vec<T> {
    let mut queues: Vec<(String, std::collections::VecDeque<T>)> = Vec::new();
    for entry in due {
        let h = host(&entry);
        match queues.iter_mut().find(|(q, _)| *q == h) {
            Some((_, queue)) => queue.push_back(entry),
            None => queues.push((h, std::collections::VecDeque::from([entry]))),
        }
    }
    let mut out = Vec::new();
    while queues.iter().any(|(_, q)| !q.is_empty()) {
        for (_, queue) in queues.iter_mut() {
            out.extend(queue.pop_front());
        }
    }
    out
}

pub fn portal_list_url(
    base: &Url,
    portal: &str,
    section: &str,
    page: u32,
    limit: u32,
) -> Option<Url> {
    let mut url = base.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .push("contentMenu");
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("type", "menu")
        .append_pair("slug[]", portal)
        .append_pair("slug[]", section)
        .append_pair("portal", portal)
        .append_pair("page", &page.to_string())
        .append_pair("limit", &limit.to_string())
        .append_pair("order_by", "publish_date")
        .append_pair("order_dir", "desc")
        .append_pair("lang", PORTAL_LANGUAGE);
    Some(url)
}

/// After a success: the cadence, or the server's longer hint, ±10%.
pub fn success_delay(cadence: Duration, hint: Option<Duration>) -> Duration {
    let hint = hint.unwrap_or(Duration::ZERO).min(MAX_DELAY);
    jitter(cadence.max(hint)).max(hint).min(MAX_DELAY)
}

/// After the n-th consecutive failure: cadence × 2^n, capped at a day, ±10%, never sooner than
/// the server's `Retry-After`.
pub fn failure_delay(cadence: Duration, failures: u32, retry_after: Option<Duration>) -> Duration {
    let backoff = cadence
        .saturating_mul(1u32 << failures.min(20))
        .min(MAX_DELAY);
    let retry_after = retry_after.unwrap_or(Duration::ZERO).min(MAX_DELAY);
    jitter(backoff).min(MAX_DELAY).max(retry_after)
}

/// ±10%, so sources with one cadence drift apart instead of hitting their host together.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.9 + 0.2 * fastrand::f64())
}

fn to_chrono(d: Duration) -> chrono::Duration {
    // Delays are capped at a day, so the conversion cannot fail; zero if it ever did.
    chrono::Duration::from_std(d.min(MAX_DELAY)).unwrap_or_default()
}

fn log_response(src: SourceRef<'_>, url: &Url, status: u16, bytes: usize, outcome: &str) {
    tracing::info!(
        owner = src.owner,
        source = %src.source.id,
        url = %url,
        status,
        bytes,
        outcome,
        "fetched"
    );
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_linked;
#[cfg(test)]
mod tests_sources;
