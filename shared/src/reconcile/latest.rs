//! Each mission's last official publication, kept in one partition so that the missions list
//! and the silent-missions report read it for the whole fleet in one query (a page per ~1 MB),
//! not one query per mission.
//!
//! Records (keys in [`crate::schema`]): `LATEST#{role}` / `{mission}` holding `latest`, the
//! `{published}#{item_id}` (`schema::item_time_sk`) of the newest item of that role reconcile
//! has written for the mission. Reconcile notes an official item before writing it, when it
//! is new or its publication time changed ([`note_published`]: one put conditioned on the
//! stored value being smaller, so the greatest wins in any order, ties included); a failure
//! in between is redone by the redelivery, so the summary never lags the items.
//!
//! Tables holding items from before the summary: [`backfill`] (run by `sync_registry`, after
//! the role index's own backfill) reads each mission's last official publication
//! ([`super::read::last_published_item`]: the newest entry of its role index, exact however
//! far back) and then writes the marker `LATEST#{role}` / `~complete`. A summary made before
//! the role index (by a look-back of 200 items, which missed a post behind more items of other
//! roles) is checked once more ([`renote`]) by the `sync_registry` that completes the index. Readers trust the summary only when the marker is there
//! ([`latest_published`] answers `None` otherwise) and fall back to one query per mission.
//!
//! The summary holds the newest publication time ever written: an item whose publication
//! time later moves back (a corrected date) leaves it where it was.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::parse_time;
use crate::model::Role;
use crate::schema;
use crate::store::table::{self, Index};
use crate::store::{Condition, Item, Key, Query, Table, TableError};

/// Attribute of a summary record: `{published}#{item_id}` of the mission's newest item.
pub const LATEST_ATTR: &str = "latest";

/// Records that `mission` published item `item_id` of `role` at `published_at`, unless the
/// summary holds a newer one (or this one): one conditional put. Idempotent, and concurrent
/// notes keep the greatest.
pub async fn note_published(
    table: &dyn Table,
    role: Role,
    mission: &str,
    published_at: DateTime<Utc>,
    item_id: &str,
) -> Result<(), TableError> {
    let latest = schema::item_time_sk(published_at, item_id);
    let mut record = Item::new();
    let mut set = |name: &str, value: String| {
        record.insert(name.into(), Value::String(value));
    };
    set(table::PK, schema::latest_pk(role.as_str()));
    set(table::SK, mission.to_owned());
    set(LATEST_ATTR, latest.clone());
    let condition = Condition::AbsentOrBelow {
        attr: LATEST_ATTR.into(),
        value: latest,
    };
    match table.put(record, condition).await {
        // The summary already holds this item or a newer one.
        Err(TableError::ConditionFailed { .. }) => Ok(()),
        other => other,
    }
}

/// Every mission's newest publication of `role`, by mission id: one query (paged). `None`
/// when the summary is not known to be complete (no [`schema::LATEST_COMPLETE_SK`] marker):
/// the caller then asks each mission ([`super::read::last_published`]).
pub async fn latest_published(
    table: &dyn Table,
    role: Role,
) -> Result<Option<HashMap<String, DateTime<Utc>>>, TableError> {
    let mut out = HashMap::new();
    let mut complete = false;
    let mut cursor = None;
    loop {
        let page = table
            .query(Query::partition(Index::Primary, schema::latest_pk(role.as_str())).after(cursor))
            .await?;
        for record in &page.items {
            let text = |name: &str| record.get(name).and_then(Value::as_str);
            match text(table::SK) {
                Some(schema::LATEST_COMPLETE_SK) => complete = true,
                Some(mission) => {
                    let published = text(LATEST_ATTR)
                        .and_then(|l| l.split_once('#'))
                        .and_then(|(time, _)| parse_time(time));
                    if let Some(t) = published {
                        out.insert(mission.to_owned(), t);
                    }
                }
                None => {}
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(complete.then_some(out))
}

/// Makes the official summary complete for `missions` when it is not yet: notes each
/// mission's last official publication as the items say (one query per mission, once per
/// table), then writes the marker. Returns whether it had to.
pub async fn backfill(table: &dyn Table, missions: &[String]) -> Result<bool, TableError> {
    let role = Role::Official;
    let marker = Key::new(schema::latest_pk(role.as_str()), schema::LATEST_COMPLETE_SK);
    if table.get(&marker).await?.is_some() {
        return Ok(false);
    }
    renote(table, missions).await?;
    let mut record = Item::new();
    record.insert(table::PK.into(), Value::String(marker.pk));
    record.insert(table::SK.into(), Value::String(marker.sk));
    table.put(record, Condition::None).await?;
    Ok(true)
}

/// Notes each of `missions`' last official publication as the items say
/// ([`super::read::last_published_item`]: its role index's newest entry once complete), and
/// returns how many it found. The puts keep the greatest, so a summary already right is left
/// as it is: `sync_registry` runs this again when it has just completed role indexes, for a
/// summary made before them, whose look-back (200 items) may have missed a post.
pub async fn renote(table: &dyn Table, missions: &[String]) -> Result<usize, TableError> {
    let role = Role::Official;
    let mut found = 0;
    for mission in missions {
        let last = super::read::last_published_item(table, mission, role)
            .await
            .map_err(|e| match e {
                super::read::ReadError::Table(t) => t,
                other => TableError::Validation(other.to_string()),
            })?;
        if let Some((published_at, item_id)) = last {
            note_published(table, role, mission, published_at, &item_id).await?;
            found += 1;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTable;

    fn at(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    #[tokio::test]
    async fn the_newest_publication_wins_in_any_order_and_needs_the_marker() {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("t.sqlite")).unwrap();
        let role = Role::Official;
        for (mission, time, id) in [
            ("tokyo", "2025-03-02T00:00:00Z", "b"),
            ("tokyo", "2025-03-01T00:00:00Z", "a"),
            ("tokyo", "2025-03-03T00:00:00Z", "c"),
            ("tokyo", "2025-03-03T00:00:00Z", "c"),
            ("osaka", "2025-01-01T00:00:00Z", "x"),
        ] {
            note_published(&table, role, mission, at(time), id)
                .await
                .unwrap();
        }
        assert_eq!(latest_published(&table, role).await.unwrap(), None);
        // Nothing stored the old way: the backfill only writes the marker.
        assert!(backfill(&table, &["tokyo".into()]).await.unwrap());
        assert!(!backfill(&table, &["tokyo".into()]).await.unwrap());
        let latest = latest_published(&table, role).await.unwrap().unwrap();
        assert_eq!(latest.len(), 2);
        assert_eq!(latest["tokyo"], at("2025-03-03T00:00:00Z"));
        assert_eq!(latest["osaka"], at("2025-01-01T00:00:00Z"));
        let record = table
            .get(&Key::new(schema::latest_pk("official"), "tokyo"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record[LATEST_ATTR], "2025-03-03T00:00:00.000Z#c");
    }

    /// Concurrent notes of one mission (reconcile runs several objects at once) keep the
    /// newest.
    #[tokio::test]
    async fn concurrent_notes_keep_the_newest() {
        let table = SqliteTable::in_memory().unwrap();
        let times: Vec<DateTime<Utc>> = (1..=20)
            .map(|d| at(&format!("2025-04-{d:02}T00:00:00Z")))
            .collect();
        let notes = times.iter().rev().map(|t| {
            let table = table.clone();
            let t = *t;
            async move { note_published(&table, Role::Official, "m", t, "i").await }
        });
        for r in futures::future::join_all(notes).await {
            r.unwrap();
        }
        let record = table
            .get(&Key::new(schema::latest_pk("official"), "m"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record[LATEST_ATTR], schema::item_time_sk(times[19], "i"));
    }
}
