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

/// The remote hosts the offline server imitates under `/remote/<host>/...`: the generated
/// media searches and the hazard feeds. [`super::point_registry_at`] rewrites any source URL
/// on one of these hosts, whatever its path and query, so generated URLs need no list.
pub const IMITATED_HOSTS: &[&str] = &[
    GOOGLE_NEWS_HOST,
    GDELT_HOST,
    "earthquake.usgs.gov",
    "www.gdacs.org",
    "data.bmkg.go.id",
];
pub const GOOGLE_NEWS_HOST: &str = "news.google.com";
pub const GDELT_HOST: &str = "api.gdeltproject.org";

/// Google News RSS searches with recorded results, by edition (`gl`) and language (`hl`,
/// without region); every other search answers with a valid feed of no items.
pub const GOOGLE_NEWS_RECORDINGS: &[(&str, &str, &str)] = &[
    (
        "JP",
        "ja",
        include_str!("../../offline/news/google-JP-ja.xml"),
    ),
    (
        "MY",
        "ms",
        include_str!("../../offline/news/google-MY-ms.xml"),
    ),
    (
        "SA",
        "en",
        include_str!("../../offline/news/google-SA-en.xml"),
    ),
    (
        "HK",
        "en",
        include_str!("../../offline/news/google-HK-en.xml"),
    ),
];

/// GDELT article lists with recorded results, by the query's `sourcecountry` (FIPS 10-4).
pub const GDELT_RECORDINGS: &[(&str, &str)] = &[
    ("JA", include_str!("../../offline/news/gdelt-JA.xml")),
    ("MY", include_str!("../../offline/news/gdelt-MY.xml")),
];

/// A recorded document at one remote URL (host and path; the query is ignored).
#[derive(Debug, Clone, Copy)]
pub struct Recording {
    pub host: &'static str,
    pub path: &'static str,
    pub content_type: &'static str,
    pub validators: FeedValidators,
    pub last_modified: &'static str,
    pub body: &'static str,
}

/// The hazard feeds, as of the snapshot: the last day of the USGS M4.5+ summary (aftershocks
/// off Iwate, a Mentawai M5.3), GDACS's last 24 hours (the Kelantan floods' orange alert)
/// and BMKG's latest and recent M5+ earthquakes.
pub const HAZARD_RECORDINGS: &[Recording] = &[
    Recording {
        host: "earthquake.usgs.gov",
        path: "/earthquakes/feed/v1.0/summary/4.5_day.geojson",
        content_type: "application/json",
        validators: FeedValidators::EtagAndLastModified,
        last_modified: "Fri, 27 Nov 2026 23:58:12 GMT",
        body: include_str!("../../offline/hazard/usgs-4.5_day.geojson"),
    },
    Recording {
        host: "www.gdacs.org",
        path: "/xml/rss_24h.xml",
        content_type: "text/xml; charset=utf-8",
        validators: FeedValidators::LastModifiedOnly,
        last_modified: "Fri, 27 Nov 2026 23:45:01 GMT",
        body: include_str!("../../offline/hazard/gdacs-rss_24h.xml"),
    },
    Recording {
        host: "data.bmkg.go.id",
        path: "/DataMKG/TEWS/autogempa.json",
        content_type: "application/json",
        validators: FeedValidators::EtagAndLastModified,
        last_modified: "Fri, 27 Nov 2026 09:09:40 GMT",
        body: include_str!("../../offline/hazard/bmkg-autogempa.json"),
    },
    Recording {
        host: "data.bmkg.go.id",
        path: "/DataMKG/TEWS/gempaterkini.json",
        content_type: "application/json",
        validators: FeedValidators::EtagAndLastModified,
        last_modified: "Fri, 27 Nov 2026 09:09:40 GMT",
        body: include_str!("../../offline/hazard/bmkg-gempaterkini.json"),
    },
];

pub fn hazard_recording(host: &str, path: &str) -> Option<&'static Recording> {
    HAZARD_RECORDINGS
        .iter()
        .find(|r| r.host == host && r.path == path)
}

/// A Google News search's recorded feed, or a valid one with no items.
pub fn google_news_feed(edition: &str, language: &str, query: &str) -> String {
    let base = language.split('-').next().unwrap_or(language);
    if let Some((_, _, body)) = GOOGLE_NEWS_RECORDINGS
        .iter()
        .find(|(gl, hl, _)| gl.eq_ignore_ascii_case(edition) && *hl == base)
    {
        return (*body).to_owned();
    }
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>"#,
            "<generator>NFE/5.0</generator><title>\"{query}\" - Google News</title>",
            "<link>https://news.google.com/search?hl={hl}&amp;gl={gl}</link><language>{hl}</language>",
            "<webMaster>news-webmaster@google.com</webMaster><copyright>2026 Google Inc.</copyright>",
            "<lastBuildDate>Fri, 27 Nov 2026 23:50:00 GMT</lastBuildDate><description>Google News</description>",
            "</channel></rss>\n"
        ),
        query = xml_escape(query),
        hl = xml_escape(language),
        gl = xml_escape(edition),
    )
}

/// A GDELT article list's recorded feed for the `sourcecountry:` in the query, or a valid
/// one with no items.
pub fn gdelt_feed(query: &str) -> String {
    let country = query
        .split_whitespace()
        .find_map(|term| term.strip_prefix("sourcecountry:"))
        .unwrap_or("");
    if let Some((_, body)) = GDELT_RECORDINGS
        .iter()
        .find(|(fips, _)| fips.eq_ignore_ascii_case(country))
    {
        return (*body).to_owned();
    }
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\n",
            "<title>GDELT DOC API: {query}</title>\n<link>https://api.gdeltproject.org/api/v2/doc/doc</link>\n",
            "<description>GDELT DOC 2.0 article list: {query}, last 24 hours</description>\n",
            "</channel></rss>\n"
        ),
        query = xml_escape(query)
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
