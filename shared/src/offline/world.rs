//! What the offline server knows and can be told: the portals' publications and the feeds
//! (which tests may change), the faults tests ask for, and the log of requests.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::snapshot::{self, FeedValidators, MediaFeed};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query exactly as sent.
    pub path_and_query: String,
    /// The status answered (304 for a conditional GET that matched).
    pub status: u16,
}

pub(crate) struct Portal {
    /// Newest first (as published; `publish` puts new ones on top).
    pub publications: Vec<Value>,
    pub last_modified: DateTime<Utc>,
}

pub(crate) struct Feed {
    pub meta: &'static MediaFeed,
    pub body: String,
    pub last_modified: DateTime<Utc>,
}

pub(crate) struct Fault {
    pub path_prefix: String,
    pub status: u16,
    pub remaining: usize,
}

pub(crate) struct World {
    pub portals: BTreeMap<String, Portal>,
    pub feeds: BTreeMap<&'static str, Feed>,
    pub faults: Vec<Fault>,
    pub malformed_prefixes: Vec<String>,
    pub log: Vec<RequestRecord>,
    /// Whether list answers leave the bodies out (`content_detail`, `content_detail_eng`), so
    /// that only a publication's detail carries its body.
    pub lists_without_bodies: bool,
}

impl World {
    /// The recorded snapshot. Fails only if an embedded file is broken (a test guards that).
    pub fn recorded() -> std::io::Result<World> {
        let mut portals = BTreeMap::new();
        for portal in snapshot::recorded_portals() {
            let publications = match snapshot::portal_publications(portal) {
                Some(Ok(list)) => list,
                Some(Err(e)) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("offline snapshot portal/{portal}.json: {e}"),
                    ));
                }
                None => Vec::new(),
            };
            let last_modified = publications
                .iter()
                .filter_map(|p| p.get("updated_at").and_then(Value::as_str))
                .filter_map(snapshot::portal_date_as_utc)
                .max()
                .unwrap_or_else(snapshot::snapshot_time);
            portals.insert(
                portal.to_owned(),
                Portal {
                    publications,
                    last_modified,
                },
            );
        }
        let feeds = snapshot::MEDIA_FEEDS
            .iter()
            .map(|meta| {
                let last_modified = DateTime::parse_from_rfc2822(meta.last_modified)
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or_else(|_| snapshot::snapshot_time());
                (
                    meta.name,
                    Feed {
                        meta,
                        body: meta.body.to_owned(),
                        last_modified,
                    },
                )
            })
            .collect();
        Ok(World {
            portals,
            feeds,
            faults: Vec::new(),
            malformed_prefixes: Vec::new(),
            log: Vec::new(),
            lists_without_bodies: false,
        })
    }

    /// The status of an injected fault for this request, using it up.
    pub fn take_fault(&mut self, path_and_query: &str) -> Option<u16> {
        let fault = self
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && path_and_query.starts_with(&f.path_prefix))?;
        fault.remaining -= 1;
        let status = fault.status;
        self.faults.retain(|f| f.remaining > 0);
        Some(status)
    }

    pub fn serves_malformed(&self, path_and_query: &str) -> bool {
        self.malformed_prefixes
            .iter()
            .any(|p| path_and_query.starts_with(p.as_str()))
    }

    /// Adds a publication on top of a portal's list, filling what the caller left out.
    pub fn publish(&mut self, portal: &str, publication: Value) {
        let next_id = self
            .portals
            .values()
            .flat_map(|p| &p.publications)
            .filter_map(|p| p.get("id").and_then(Value::as_i64))
            .max()
            .unwrap_or(50_000)
            + 1;
        let entry = self
            .portals
            .entry(portal.to_owned())
            .or_insert_with(|| Portal {
                publications: Vec::new(),
                last_modified: snapshot::snapshot_time(),
            });
        let newest_date = entry
            .publications
            .first()
            .and_then(|p| p.get("publish_date").and_then(Value::as_str))
            .and_then(snapshot::portal_date_as_utc);
        let mut publication = match publication {
            Value::Object(map) => map,
            other => {
                tracing::warn!(portal, value = %other, "offline publish: not an object, ignored");
                return;
            }
        };
        let date = publication
            .get("publish_date")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                // Later than anything listed, so it is also the newest by date.
                let now = Utc::now();
                let date = match newest_date {
                    Some(newest) if newest >= now => newest + TimeDelta::minutes(1),
                    _ => now,
                };
                date.format(snapshot::PORTAL_DATE_FORMAT).to_string()
            });
        let defaults = [
            ("id", json!(next_id)),
            ("slug", json!(format!("offline-publication-{next_id}"))),
            ("title", json!("")),
            ("title_eng", Value::Null),
            ("publish_date", json!(date)),
            ("headline", Value::Null),
            ("content_detail", json!("")),
            ("content_detail_eng", Value::Null),
            ("thumbnail", Value::Null),
            (
                "category",
                json!({"slug": "berita", "name": "Berita", "name_eng": "News"}),
            ),
            ("portal", json!(portal)),
            ("view_count", json!(0)),
            ("created_at", json!(date)),
            ("updated_at", json!(date)),
        ];
        for (key, value) in defaults {
            publication.entry(key).or_insert(value);
        }
        entry.publications.insert(0, Value::Object(publication));
        entry.last_modified = next_change_time(entry.last_modified);
    }

    /// Changes a publication's title; false when the portal has no such slug.
    pub fn edit(&mut self, portal: &str, slug: &str, new_title: &str) -> bool {
        let Some(entry) = self.portals.get_mut(portal) else {
            return false;
        };
        let Some(Value::Object(publication)) = entry
            .publications
            .iter_mut()
            .find(|p| p.get("slug").and_then(Value::as_str) == Some(slug))
        else {
            return false;
        };
        let now = Utc::now().format(snapshot::PORTAL_DATE_FORMAT).to_string();
        publication.insert("title".into(), json!(new_title));
        publication.insert("updated_at".into(), json!(now));
        entry.last_modified = next_change_time(entry.last_modified);
        true
    }

    /// Replaces a feed's document; false for an unknown feed.
    pub fn set_feed(&mut self, name: &str, body: String) -> bool {
        let Some(feed) = self.feeds.get_mut(name) else {
            return false;
        };
        feed.body = body;
        feed.last_modified = next_change_time(feed.last_modified);
        true
    }
}

/// HTTP dates have one-second resolution: a change must move Last-Modified forward by at
/// least a second, or a client's If-Modified-Since would hide it.
fn next_change_time(previous: DateTime<Utc>) -> DateTime<Utc> {
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or(previous);
    now.max(previous + TimeDelta::seconds(1))
}

/// What the feed's server sends as validators.
pub(crate) fn feed_sends(validators: FeedValidators) -> (bool, bool) {
    match validators {
        FeedValidators::EtagAndLastModified => (true, true),
        FeedValidators::LastModifiedOnly => (false, true),
        FeedValidators::EtagOnly => (true, false),
        FeedValidators::None => (false, false),
    }
}

/// The list query of `contentMenu`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub portal: String,
    pub section: String,
    pub page: usize,
    pub limit: usize,
    pub ascending: bool,
    pub english: bool,
}

impl ListQuery {
    /// Reads the raw query string the way the portal's backend does; the error is the
    /// message of its 400 answer.
    pub fn parse(raw: &str) -> Result<ListQuery, String> {
        let mut portal = None;
        let mut slugs = Vec::new();
        let mut page = None;
        let mut limit = None;
        let mut order_by = None;
        let mut order_dir = None;
        let mut lang = None;
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "portal" => portal = Some(value.into_owned()),
                "slug[]" | "slug" => slugs.push(value.into_owned()),
                "page" => page = Some(value.into_owned()),
                "limit" => limit = Some(value.into_owned()),
                "order_by" => order_by = Some(value.into_owned()),
                "order_dir" => order_dir = Some(value.into_owned()),
                "lang" => lang = Some(value.into_owned()),
                _ => {}
            }
        }
        let portal = portal
            .filter(|p| !p.trim().is_empty())
            .ok_or("The portal field is required.")?;
        let section = slugs
            .get(1)
            .filter(|s| !s.trim().is_empty())
            .cloned()
            .ok_or("The slug field must contain the portal and the section.")?;
        let page = positive(page.as_deref(), 1, usize::MAX)
            .ok_or("The page must be an integer of at least 1.")?;
        let limit = positive(limit.as_deref(), 10, 100)
            .ok_or("The limit must be an integer between 1 and 100.")?;
        match order_by.as_deref() {
            None | Some("publish_date") => {}
            Some(_) => return Err("The selected order by is invalid.".into()),
        }
        let ascending = match order_dir.as_deref() {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(_) => return Err("The selected order dir is invalid.".into()),
        };
        let english = match lang.as_deref() {
            None | Some("id") => false,
            Some("en") => true,
            Some(_) => return Err("The selected lang is invalid.".into()),
        };
        Ok(ListQuery {
            portal,
            section,
            page,
            limit,
            ascending,
            english,
        })
    }
}

fn positive(value: Option<&str>, default: usize, max: usize) -> Option<usize> {
    match value {
        None => Some(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n)),
    }
}

/// One page of a portal's section, in the API's envelope.
/// A list answer without the publications' bodies: what a portal whose list carries only
/// titles and dates would answer.
pub(crate) fn without_bodies(mut answer: Value) -> Value {
    if let Some(list) = answer
        .pointer_mut("/data/publication")
        .and_then(Value::as_array_mut)
    {
        for publication in list.iter_mut().filter_map(Value::as_object_mut) {
            publication.remove("content_detail");
            publication.remove("content_detail_eng");
        }
    }
    answer
}

pub(crate) fn list_page(publications: &[Value], query: &ListQuery) -> Value {
    let in_section = |p: &&Value| {
        p.pointer("/category/slug").and_then(Value::as_str) == Some(query.section.as_str())
    };
    // The English portal lists only what has been translated.
    let translated = |p: &&Value| {
        !query.english
            || p.get("title_eng")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.trim().is_empty())
    };
    let mut matching: Vec<&Value> = publications
        .iter()
        .filter(in_section)
        .filter(translated)
        .collect();
    if query.ascending {
        matching.reverse();
    }
    let filtered = matching.len();
    let page: Vec<&Value> = matching
        .into_iter()
        .skip((query.page - 1).saturating_mul(query.limit))
        .take(query.limit)
        .collect();
    json!({
        "status": true,
        "message": "Success",
        "data": {
            "publication": page,
            "meta": {
                "total": publications.len(),
                "filtered": filtered,
                "page": query.page,
                "limit": query.limit,
                "last_page": filtered.div_ceil(query.limit).max(1),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_reads_repeated_slugs_and_rejects_bad_numbers() {
        let q = ListQuery::parse(
            "type=menu&slug%5B%5D=tokyo&slug%5B%5D=berita&portal=tokyo&page=2&limit=5&lang=en",
        )
        .unwrap();
        assert_eq!(q.portal, "tokyo");
        assert_eq!(q.section, "berita");
        assert_eq!((q.page, q.limit, q.english), (2, 5, true));
        assert!(ListQuery::parse("slug[]=tokyo&slug[]=berita").is_err());
        assert!(ListQuery::parse("portal=tokyo").is_err());
        assert!(ListQuery::parse("portal=tokyo&slug[]=tokyo&slug[]=berita&page=0").is_err());
        assert!(ListQuery::parse("portal=tokyo&slug[]=tokyo&slug[]=berita&page=x").is_err());
        assert!(ListQuery::parse("portal=tokyo&slug[]=tokyo&slug[]=berita&limit=101").is_err());
        assert!(ListQuery::parse("portal=tokyo&slug[]=tokyo&slug[]=berita&lang=fr").is_err());
    }

    #[test]
    fn every_recorded_portal_parses_newest_first_with_the_api_fields() {
        let world = World::recorded().unwrap();
        assert!(world.portals.len() >= 11);
        for (portal, p) in &world.portals {
            assert!(p.publications.len() >= 6, "{portal}");
            let dates: Vec<&str> = p
                .publications
                .iter()
                .map(|x| x["publish_date"].as_str().unwrap())
                .collect();
            let mut sorted = dates.clone();
            sorted.sort_by(|a, b| b.cmp(a));
            assert_eq!(dates, sorted, "{portal} is not newest first");
            for x in &p.publications {
                for field in ["id", "slug", "title", "publish_date", "content_detail"] {
                    assert!(!x[field].is_null(), "{portal}: {field} missing");
                }
                assert!(
                    snapshot::portal_date_as_utc(x["publish_date"].as_str().unwrap()).is_some()
                );
                assert_eq!(x["portal"], json!(portal));
            }
        }
    }

    #[test]
    fn publish_fills_defaults_and_moves_last_modified_forward() {
        let mut world = World::recorded().unwrap();
        let before = world.portals["osaka"].last_modified;
        world.publish("osaka", json!({"slug": "baru", "title": "Baru"}));
        let osaka = &world.portals["osaka"];
        assert_eq!(osaka.publications[0]["slug"], "baru");
        assert_eq!(osaka.publications[0]["category"]["slug"], "berita");
        assert!(osaka.publications[0]["id"].as_i64().unwrap() > 51_000);
        assert!(osaka.last_modified > before);
        assert!(world.edit("osaka", "baru", "Judul diperbaiki"));
        assert!(!world.edit("osaka", "tidak-ada", "x"));
        assert!(!world.edit("atlantis", "baru", "x"));
    }

    #[test]
    fn faults_are_used_up() {
        let mut world = World::recorded().unwrap();
        world.faults.push(Fault {
            path_prefix: "/feeds/".into(),
            status: 503,
            remaining: 2,
        });
        assert_eq!(world.take_fault("/kemlu/x"), None);
        assert_eq!(world.take_fault("/feeds/scmp.xml"), Some(503));
        assert_eq!(world.take_fault("/feeds/scmp.xml"), Some(503));
        assert_eq!(world.take_fault("/feeds/scmp.xml"), None);
    }
}
