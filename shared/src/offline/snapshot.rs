//! The recorded world, embedded in the binary: the kemlu portal's publications per portal
//! (`shared/offline/portal/<portal>.json`) and a few host-country media feeds
//! (`shared/offline/feeds/<name>.xml`). All of it was written for this project; see
//! `shared/offline/README.md` for what follows the real sources and what is invented.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Each portal's publications, newest first, in the API's publication shape.
const PORTAL_FILES: &[(&str, &str)] = &[
    ("pusat", include_str!("../../offline/portal/pusat.json")),
    ("tokyo", include_str!("../../offline/portal/tokyo.json")),
    ("osaka", include_str!("../../offline/portal/osaka.json")),
    ("seoul", include_str!("../../offline/portal/seoul.json")),
    ("beijing", include_str!("../../offline/portal/beijing.json")),
    (
        "hongkong",
        include_str!("../../offline/portal/hongkong.json"),
    ),
    (
        "kualalumpur",
        include_str!("../../offline/portal/kualalumpur.json"),
    ),
    (
        "johorbahru",
        include_str!("../../offline/portal/johorbahru.json"),
    ),
    (
        "singapore",
        include_str!("../../offline/portal/singapore.json"),
    ),
    ("riyadh", include_str!("../../offline/portal/riyadh.json")),
    ("jeddah", include_str!("../../offline/portal/jeddah.json")),
    ("cairo", include_str!("../../offline/portal/cairo.json")),
    ("london", include_str!("../../offline/portal/london.json")),
];

/// The portals with recorded publications (`pusat` and the missions); every other portal
/// answers with an empty list.
pub fn recorded_portals() -> impl Iterator<Item = &'static str> {
    PORTAL_FILES.iter().map(|(portal, _)| *portal)
}

/// A portal's recorded publications, newest first.
pub(crate) fn portal_publications(
    portal: &str,
) -> Option<Result<Vec<serde_json::Value>, serde_json::Error>> {
    PORTAL_FILES
        .iter()
        .find(|(p, _)| *p == portal)
        .map(|(_, json)| serde_json::from_str(json))
}

/// Which validators a feed's server sends. Real servers differ: some send both, some only
/// one, some none (then only the content hash can tell "unchanged").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedValidators {
    EtagAndLastModified,
    LastModifiedOnly,
    EtagOnly,
    None,
}

/// A host-country media feed the offline server serves at `/feeds/<name>.xml`.
#[derive(Debug, Clone, Copy)]
pub struct MediaFeed {
    /// File name without `.xml`, e.g. `japantimes`.
    pub name: &'static str,
    /// The registry source id it gets, e.g. `media-japantimes`.
    pub source_id: &'static str,
    /// The missions whose host-country media this is.
    pub missions: &'static [&'static str],
    pub content_type: &'static str,
    pub validators: FeedValidators,
    /// The Last-Modified the server states (the feed's own last build time).
    pub last_modified: &'static str,
    pub language: &'static str,
    /// Entries in the recorded document.
    pub entries: usize,
    pub body: &'static str,
}

pub const MEDIA_FEEDS: &[MediaFeed] = &[
    // RSS 2.0, CDATA descriptions, +0900 and GMT dates, utm-tagged links; the one feed
    // that sends both validators.
    MediaFeed {
        name: "japantimes",
        source_id: "media-japantimes",
        missions: &["tokyo", "osaka"],
        content_type: "application/rss+xml; charset=UTF-8",
        validators: FeedValidators::EtagAndLastModified,
        last_modified: "Fri, 27 Nov 2026 09:40:12 GMT",
        language: "en",
        entries: 8,
        body: include_str!("../../offline/feeds/japantimes.xml"),
    },
    // Atom 1.0 with escaped HTML summaries and +08:00 offsets; Last-Modified only.
    MediaFeed {
        name: "thestar",
        source_id: "media-thestar",
        missions: &["kualalumpur", "johorbahru"],
        content_type: "application/atom+xml; charset=utf-8",
        validators: FeedValidators::LastModifiedOnly,
        last_modified: "Fri, 27 Nov 2026 13:10:00 GMT",
        language: "en",
        entries: 7,
        body: include_str!("../../offline/feeds/thestar.xml"),
    },
    // RSS 2.0 served as text/xml behind a CDN that strips validators.
    MediaFeed {
        name: "scmp",
        source_id: "media-scmp",
        missions: &["hongkong"],
        content_type: "text/xml; charset=utf-8",
        validators: FeedValidators::None,
        last_modified: "Sat, 28 Nov 2026 00:12:44 GMT",
        language: "en",
        entries: 6,
        body: include_str!("../../offline/feeds/scmp.xml"),
    },
    // RSS 2.0 with content:encoded and a named zone (EST) among +0300 dates; ETag only.
    MediaFeed {
        name: "arabnews",
        source_id: "media-arabnews",
        missions: &["riyadh", "jeddah"],
        content_type: "application/rss+xml",
        validators: FeedValidators::EtagOnly,
        last_modified: "Sun, 22 Nov 2026 11:05:00 GMT",
        language: "en",
        entries: 5,
        body: include_str!("../../offline/feeds/arabnews.xml"),
    },
];

pub fn media_feed(name: &str) -> Option<&'static MediaFeed> {
    MEDIA_FEEDS.iter().find(|f| f.name == name)
}

/// When the snapshot was taken: the Last-Modified of portals with nothing recorded.
pub(crate) fn snapshot_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_824_000, 0).unwrap_or_default() // 2026-11-28T00:00:00Z
}

/// The portal API's `YYYY-MM-DD HH:MM:SS` (local time, no zone).
pub(crate) const PORTAL_DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A portal date read as if it were UTC: good enough to order versions of one portal, which
/// is all a Last-Modified needs.
pub(crate) fn portal_date_as_utc(date: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(date, PORTAL_DATE_FORMAT)
        .ok()
        .map(|d| d.and_utc())
}
