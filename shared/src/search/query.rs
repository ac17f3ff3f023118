//! The reading side of the search index: a page of items matching every query term, newest
//! first (see the parent module for the layout).

use chrono::{DateTime, Datelike, Duration, Utc};
use futures::StreamExt;
use serde_json::Value;

use super::{month_of, posting_attr, term_pk, text_terms};
use crate::reconcile::read::{ItemFilter, ItemPage, ReadError, StoredItem, stored_item};
use crate::schema;
use crate::store::table::{self, Index, SortKeyRange};
use crate::store::{Cursor, Item, Key, Query, Table, TableError};

/// A page of search results: the same shape as a mission's items.
pub type SearchPage = ItemPage;

/// Without `since`, search looks back this far from `until` (or now).
pub const DEFAULT_WINDOW_DAYS: i64 = 100;

/// The widest `since`..`until` a search accepts: one posting partition per month is read.
pub const MAX_WINDOW_DAYS: i64 = 400;

/// Postings read per page at most; a very selective filter then gets a short page with a
/// cursor instead of a long request.
const MAX_POSTINGS_PER_PAGE: usize = 1000;

/// Postings a probe reads per term at most: enough to tell a rare term from a common one.
const PROBE_POSTINGS: usize = 100;

/// Items read at once to re-check hits.
const GETS_IN_FLIGHT: usize = 16;

/// What to search for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// Stems every result must contain (see [`SearchQuery::terms_of`]); at least one.
    pub terms: Vec<String>,
    pub mission: Option<String>,
    /// ISO 3166-1 alpha-2, upper case: the country of the item's mission.
    pub country: Option<String>,
    /// A topic tag id (`crate::topics`), such as `disaster.earthquake`.
    pub topic: Option<String>,
    /// Role, language and the publication window.
    pub filter: ItemFilter,
}

impl SearchQuery {
    /// The stems of what a user typed, each once; empty when only stop words remain.
    pub fn terms_of(text: &str) -> Vec<String> {
        text_terms(text)
    }

    /// The publication window searched: `since`..`until`, by default the last
    /// [`DEFAULT_WINDOW_DAYS`] before `now`.
    pub fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let until = self.filter.until.unwrap_or(now);
        let since = self
            .filter
            .since
            .unwrap_or(until - Duration::days(DEFAULT_WINDOW_DAYS));
        (since, until)
    }

    /// Whether a posting can be a result, by what never changes for an item and by the topic
    /// mask of the version it was written for (a posting without one may match: its item
    /// decides).
    fn posting_may_match(&self, posting: &Item) -> bool {
        let attr = |name: &str| posting.get(name).and_then(Value::as_str);
        let topic_may_match = self
            .topic
            .as_deref()
            .is_none_or(|topic| super::mask_may_hold(posting, topic));
        self.mission
            .as_deref()
            .is_none_or(|m| attr(posting_attr::MISSION) == Some(m))
            && self
                .country
                .as_deref()
                .is_none_or(|c| attr(posting_attr::COUNTRY) == Some(c))
            && self
                .filter
                .role
                .is_none_or(|r| attr(posting_attr::ROLE) == Some(r.as_str()))
            && topic_may_match
    }

    /// Whether the item's current record (read for `posting_sk`) is a result: the posting is
    /// not stale, every term is in its text, every filter holds.
    fn current_matches(&self, record: &Item, posting_sk: &str) -> Option<StoredItem> {
        let stored = stored_item(record)?;
        let item = &stored.item;
        if schema::item_time_sk(item.published_at, &stored.id) != posting_sk {
            return None;
        }
        let f = &self.filter;
        let filters_hold = self.mission.as_deref().is_none_or(|m| item.mission == m)
            && f.role.is_none_or(|r| item.role == r)
            && f.language
                .as_deref()
                .is_none_or(|l| item.language.as_deref() == Some(l))
            && self.topic.as_deref().is_none_or(|topic| {
                record
                    .get(crate::reconcile::attr::TOPICS)
                    .and_then(Value::as_array)
                    .is_some_and(|ts| ts.iter().any(|t| t.as_str() == Some(topic)))
            });
        if !filters_hold {
            return None;
        }
        let text = super::item_text_terms(item);
        self.terms
            .iter()
            .all(|t| text.contains(t))
            .then_some(stored)
    }
}

/// Months from `until`'s back to `since`'s, newest first (`yyyy-mm`).
fn months_back(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<String> {
    let last = month_of(since);
    let mut out = Vec::new();
    let mut t = until;
    loop {
        let month = month_of(t);
        let done = month <= last;
        out.push(month);
        if done {
            return out;
        }
        // Any day of the previous month: step back from the 1st.
        let first_of_month = t
            .date_naive()
            .with_day0(0)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc());
        match first_of_month {
            Some(first) => t = first - Duration::days(1),
            None => return out,
        }
    }
}

async fn read_current(table: &dyn Table, id: String) -> Result<Option<Item>, TableError> {
    table
        .get(&Key::new(schema::item_pk(&id), schema::CURRENT))
        .await
}

/// The term whose postings drive a query: the one with the fewest postings in the window's
/// newest month, found by reading at most [`PROBE_POSTINGS`] of each (one small query per
/// term, and none for a single term); ties go to the longest stem. Reading the rarest term's
/// postings bounds the work by the rare word, not by the common one beside it.
async fn rarest_term<'q>(
    table: &dyn Table,
    query: &'q SearchQuery,
    newest_month: &str,
    range: &SortKeyRange,
) -> Result<&'q str, TableError> {
    let mut best: Option<(usize, &str)> = None;
    for term in &query.terms {
        let count = if query.terms.len() == 1 {
            0
        } else {
            let probe = Query::partition(Index::Primary, term_pk(term, newest_month))
                .range(range.clone())
                .backward()
                .limit(PROBE_POSTINGS);
            table.query(probe).await?.items.len()
        };
        let better = best.is_none_or(|(n, t)| count < n || (count == n && term.len() > t.len()));
        if better {
            best = Some((count, term));
        }
    }
    Ok(best.map_or("", |(_, t)| t))
}

/// The driving term a cursor was made with (its partition is `TERM#{stem}#{month}`); a stem
/// that is not one of the query's is a foreign cursor.
fn cursor_term<'q>(query: &'q SearchQuery, cursor: &Cursor) -> Result<&'q str, ReadError> {
    let attrs = cursor.key_attrs().map_err(|_| ReadError::ForeignCursor)?;
    let pk = attrs
        .get(table::PK)
        .and_then(Value::as_str)
        .ok_or(ReadError::ForeignCursor)?;
    query
        .terms
        .iter()
        .find(|t| {
            pk.strip_prefix("TERM#")
                .and_then(|rest| rest.strip_prefix(t.as_str()))
                .is_some_and(|rest| rest.starts_with('#') && rest.len() == "#yyyy-mm".len())
        })
        .map(String::as_str)
        .ok_or(ReadError::ForeignCursor)
}

/// One page of items matching `query`, newest first. `now` places the default window.
pub async fn search(
    table: &dyn Table,
    query: &SearchQuery,
    limit: usize,
    cursor: Option<Cursor>,
    now: DateTime<Utc>,
) -> Result<SearchPage, ReadError> {
    if query.terms.is_empty() {
        return Ok(SearchPage::default());
    }
    let (since, until) = query.window(now);
    if since > until {
        // `since` in the future: nothing yet (and DynamoDB refuses an inverted BETWEEN).
        return Ok(SearchPage::default());
    }
    let months = months_back(since, until);
    let range = SortKeyRange::Between(
        schema::sortable_time(since),
        format!("{}$", schema::sortable_time(until)),
    );
    // A next page keeps the term its first page was driven by (it is in the cursor).
    let driving = match &cursor {
        Some(c) => cursor_term(query, c)?,
        None => rarest_term(table, query, &months[0], &range).await?,
    };
    let partitions: Vec<String> = months.iter().map(|m| term_pk(driving, m)).collect();
    // Resume in the month the cursor was made in.
    let (mut month, mut next) = match cursor {
        None => (0, None),
        Some(c) => {
            let attrs = c.key_attrs().map_err(|_| ReadError::ForeignCursor)?;
            let pk = attrs.get(table::PK).and_then(Value::as_str);
            let at = partitions
                .iter()
                .position(|p| Some(p.as_str()) == pk)
                .filter(|_| attrs.contains_key(table::SK))
                .ok_or(ReadError::ForeignCursor)?;
            (at, Some(c))
        }
    };
    let limit = limit.max(1);
    let mut matches: Vec<(StoredItem, Cursor)> = Vec::new();
    let page_of = |matches: Vec<(StoredItem, Cursor)>, next| SearchPage {
        items: matches.into_iter().map(|(item, _)| item).collect(),
        next,
    };
    let mut last_read: Option<Cursor> = None;
    let mut reads = 0;
    while month < partitions.len() {
        let want = (limit + 1 - matches.len()).clamp(10, 100);
        let page = table
            .query(
                Query::partition(Index::Primary, partitions[month].clone())
                    .range(range.clone())
                    .backward()
                    .limit(want)
                    .after(next.take()),
            )
            .await?;
        let candidates: Vec<Item> = page
            .items
            .iter()
            .filter(|p| query.posting_may_match(p))
            .cloned()
            .collect();
        let ids: Vec<String> = candidates
            .iter()
            .map(|p| super::posting_item_id(p).unwrap_or_default().to_owned())
            .collect();
        let currents: Vec<_> = futures::stream::iter(ids)
            .map(|id| read_current(table, id))
            .buffered(GETS_IN_FLIGHT)
            .collect()
            .await;
        let mut checked = candidates.iter().zip(currents);
        for posting in &page.items {
            reads += 1;
            let position = Cursor::for_item(Index::Primary, posting);
            last_read = Some(position.clone());
            if !query.posting_may_match(posting) {
                continue;
            }
            let Some((_, current)) = checked.next() else {
                break;
            };
            let sk = posting.get(table::SK).and_then(Value::as_str).unwrap_or("");
            let Some(found) = current?.and_then(|r| query.current_matches(&r, sk)) else {
                continue;
            };
            if matches.len() == limit {
                // A further match exists: the page ends at the last one returned.
                let next = matches.last().map(|(_, c)| c.clone());
                return Ok(page_of(matches, next));
            }
            matches.push((found, position));
        }
        match page.cursor {
            Some(c) if reads >= MAX_POSTINGS_PER_PAGE => {
                return Ok(page_of(matches, last_read.or(Some(c))));
            }
            Some(c) => next = Some(c),
            None => {
                month += 1;
                if reads >= MAX_POSTINGS_PER_PAGE && month < partitions.len() {
                    return Ok(page_of(matches, last_read));
                }
            }
        }
    }
    Ok(page_of(matches, None))
}
