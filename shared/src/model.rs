//! The domain's nouns: missions, their sources, what a fetch leaves behind, and the
//! normalized item that every later stage works on.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The kind of a diplomatic mission, as the ministry names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MissionKind {
    /// Kedutaan Besar (embassy).
    Kbri,
    /// Konsulat Jenderal (consulate-general).
    Kjri,
    /// Konsulat (consulate).
    Kri,
    /// Perutusan Tetap (permanent mission).
    Ptri,
    /// Kantor Dagang dan Ekonomi (Taipei).
    Kdei,
}

/// One mission abroad, or a pseudo-owner of sources that belong to no single mission
/// (`pusat` for headquarters' own channels, `global` for worldwide hazard feeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mission {
    /// The kemlu.go.id portal slug, e.g. `tokyo`.
    pub id: String,
    pub kind: MissionKind,
    pub city: String,
    pub country: String,
    /// ISO 3166-1 alpha-2, upper case (e.g. `JP`; `HK` for Hong Kong).
    pub country_code: String,
    /// IANA zone of the mission's city, used when a source states no zone.
    pub time_zone: String,
    #[serde(default)]
    pub sources: Vec<Source>,
}

impl Mission {
    /// "KBRI Tokyo", the name analysts use.
    pub fn display_name(&self) -> String {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        format!("{kind} {}", self.city)
    }
}

/// How a source is fetched and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    KemluPortal,
    Feed,
    HtmlList,
    Sitemap,
    Usgs,
    Gdacs,
    Bmkg,
    Reliefweb,
}

impl SourceKind {
    pub const ALL: [SourceKind; 8] = [
        SourceKind::KemluPortal,
        SourceKind::Feed,
        SourceKind::HtmlList,
        SourceKind::Sitemap,
        SourceKind::Usgs,
        SourceKind::Gdacs,
        SourceKind::Bmkg,
        SourceKind::Reliefweb,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::KemluPortal => "kemlu_portal",
            SourceKind::Feed => "feed",
            SourceKind::HtmlList => "html_list",
            SourceKind::Sitemap => "sitemap",
            SourceKind::Usgs => "usgs",
            SourceKind::Gdacs => "gdacs",
            SourceKind::Bmkg => "bmkg",
            SourceKind::Reliefweb => "reliefweb",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose voice a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The mission's own publications.
    Official,
    /// The ministry's own channels.
    Hq,
    /// Host-country media.
    Media,
    /// Hazard alerts.
    Hazard,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Official => "official",
            Role::Hq => "hq",
            Role::Media => "media",
            Role::Hazard => "hazard",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Official, Role::Hq, Role::Media, Role::Hazard]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One place Pantau fetches from, as the registry lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Unique within its owner, e.g. `portal-berita`; appears in S3 keys, so `[a-z0-9-]`.
    pub id: String,
    pub kind: SourceKind,
    pub role: Role,
    /// The feed's URL, or for `kemlu_portal` the API base
    /// (`https://backpanel.kemlu.go.id/public-content-service/api`).
    pub url: String,
    /// Minutes between fetches when the server says nothing better.
    #[serde(default = "default_cadence_minutes")]
    pub cadence_minutes: u32,
    /// `kemlu_portal`: the portal slug to read (the mission id, or `pusat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<String>,
    /// `kemlu_portal`: the section slug (`berita`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// The language the source publishes in, when it is one (`id`, `en`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// IANA zone for dates the source gives without one; defaults to the owner's zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Some servers send validators that lie (an ETag that never changes): turn conditional
    /// GET off for them and let the content hash decide.
    #[serde(default = "yes")]
    pub conditional_get: bool,
    /// `html_list`: CSS selectors for the listing page, written flat in the registry entry.
    #[serde(flatten)]
    pub list: ListSelectors,
}

/// How to read an `html_list` source's listing page: CSS selectors (scraper's dialect).
/// `link`, `title` and `date` are looked up inside each `list_item`; a missing `link` means
/// the first `a[href]` of the item, a missing `title` that link's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSelectors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Article links to other hosts are fetched too (default: the source's host only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_other_hosts: bool,
}

fn default_cadence_minutes() -> u32 {
    60
}

fn yes() -> bool {
    true
}

/// The facts of one fetch, stored as the raw object's S3 metadata so any stage can be
/// replayed from the raw object alone. S3 metadata is ASCII: URLs are stored as the
/// `url` crate serializes them (punycode host, percent-encoded path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawMeta {
    pub mission: String,
    pub source: String,
    pub kind: SourceKind,
    pub role: Role,
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: DateTime<Utc>,
    /// Hex SHA-256 of the body.
    pub sha256: String,
    /// Language the request asked for (the portal API's `lang`), when it asked.
    pub language: Option<String>,
    /// The character set the body declared (`fetch::charset::detect`), by its Encoding
    /// Standard name; the body is stored as served, so readers decode with
    /// `fetch::decode_to_utf8(body, charset)`.
    pub charset: Option<String>,
    /// The body is one article page a listing or sitemap linked to (parsed with the article
    /// extractor), not the source's own document.
    #[serde(default)]
    pub article: bool,
}

impl RawMeta {
    /// A fetch of `url` with status 200 and nothing else known (no headers, no hash): what
    /// tests, fuzz targets and `pantau parse` start from before filling in what they know.
    pub fn fetched(
        kind: SourceKind,
        role: Role,
        mission: &str,
        source: &str,
        url: &str,
        fetched_at: DateTime<Utc>,
    ) -> RawMeta {
        RawMeta {
            mission: mission.into(),
            source: source.into(),
            kind,
            role,
            url: url.into(),
            final_url: url.into(),
            status: 200,
            content_type: None,
            etag: None,
            last_modified: None,
            fetched_at,
            sha256: String::new(),
            language: None,
            charset: None,
            article: false,
        }
    }

    /// As S3 user metadata (lower-case keys, ASCII values).
    pub fn to_metadata(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("mission".into(), self.mission.clone());
        m.insert("source".into(), self.source.clone());
        m.insert("kind".into(), self.kind.as_str().into());
        m.insert("role".into(), self.role.as_str().into());
        m.insert("url".into(), ascii_only(&self.url));
        m.insert("final-url".into(), ascii_only(&self.final_url));
        m.insert("status".into(), self.status.to_string());
        m.insert("fetched-at".into(), self.fetched_at.to_rfc3339());
        m.insert("sha256".into(), self.sha256.clone());
        let optional = [
            ("content-type", &self.content_type),
            ("etag", &self.etag),
            ("last-modified", &self.last_modified),
            ("language", &self.language),
            ("charset", &self.charset),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                m.insert(k.into(), ascii_only(v));
            }
        }
        if self.article {
            m.insert("page".into(), "article".into());
        }
        m
    }

    /// Reads the metadata back; names the first field that is missing or malformed.
    pub fn from_metadata(m: &BTreeMap<String, String>) -> Result<RawMeta, String> {
        let req = |k: &str| {
            m.get(k)
                .cloned()
                .ok_or_else(|| format!("raw object metadata lacks `{k}`"))
        };
        let kind = req("kind")?;
        let role = req("role")?;
        let status = req("status")?;
        let fetched_at = req("fetched-at")?;
        Ok(RawMeta {
            mission: req("mission")?,
            source: req("source")?,
            kind: SourceKind::parse(&kind).ok_or_else(|| format!("unknown kind `{kind}`"))?,
            role: Role::parse(&role).ok_or_else(|| format!("unknown role `{role}`"))?,
            url: req("url")?,
            final_url: match m.get("final-url") {
                Some(u) => u.clone(),
                None => req("url")?,
            },
            status: status
                .parse()
                .map_err(|_| format!("malformed status `{status}`"))?,
            content_type: m.get("content-type").cloned(),
            etag: m.get("etag").cloned(),
            last_modified: m.get("last-modified").cloned(),
            fetched_at: DateTime::parse_from_rfc3339(&fetched_at)
                .map_err(|_| format!("malformed fetched-at `{fetched_at}`"))?
                .with_timezone(&Utc),
            sha256: m.get("sha256").cloned().unwrap_or_default(),
            language: m.get("language").cloned(),
            charset: m.get("charset").cloned(),
            article: m.get("page").is_some_and(|p| p == "article"),
        })
    }
}

/// S3 rejects non-ASCII metadata values; percent-encode whatever is not printable ASCII.
fn ascii_only(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_owned();
    }
    percent_encoding::utf8_percent_encode(s, &NON_PRINTABLE).to_string()
}

const NON_PRINTABLE: percent_encoding::AsciiSet = percent_encoding::CONTROLS.add(0x7f);

/// What a source's last fetches left behind: validators for conditional GET, health, and
/// when it is next due. Written by `scrape`, read by the API's health views. Stored at
/// `schema::mission_pk(owner)` / `schema::source_sk(source)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    /// Mission id, `pusat` or `global`.
    pub owner: String,
    pub source: String,
    /// Per URL fetched for this source (a portal source fetches several pages).
    #[serde(default)]
    pub validators: BTreeMap<String, Validators>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last time the content changed (a raw object was written).
    pub last_change_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub next_due_at: Option<DateTime<Utc>>,
    /// Whether the first-run backfill of older pages is done.
    #[serde(default)]
    pub backfilled: bool,
    /// Set when the source has failed `unhealthy_after_failures` times in a row; cleared by
    /// the next success. Such a source is still retried, slowly.
    #[serde(default)]
    pub unhealthy_since: Option<DateTime<Utc>>,
    /// Why it is unhealthy: the last error when it was marked.
    #[serde(default)]
    pub unhealthy_reason: Option<String>,
    /// Linked pages already fetched (article pages, portal publication details), as short
    /// hashes of their URLs, oldest first and bounded, so no page is fetched twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<String>,
}

/// What lets a fetch say "unchanged": the server's validators and our own hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: Option<String>,
}

/// How a published time was decided, so an analyst can tell a stated time from a guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum TimeBasis {
    /// The source stated the time with its offset or zone.
    Stated,
    /// The source gave a local time without a zone; this zone was assumed.
    AssumedZone { zone: String },
    /// The source gave no usable time; the fetch time stands in.
    FetchTime,
}

/// One publication, normalized: what `normalize` writes, one per line, to `items/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedItem {
    pub mission: String,
    pub source: String,
    pub kind: SourceKind,
    pub role: Role,
    /// The source's own identifier (RSS guid, Atom id, portal slug), when it has one.
    pub guid: Option<String>,
    /// Canonical URL: tracking parameters gone, host lower case, no fragment.
    pub url: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    /// Plain text of the body, whitespace and entities normalized.
    pub body: Option<String>,
    pub published_at: DateTime<Utc>,
    /// The date as the source wrote it.
    pub published_raw: Option<String>,
    pub time_basis: TimeBasis,
    /// BCP 47 primary tag: `id`, `en`, ...
    pub language: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub images: Vec<String>,
    pub fetched_at: DateTime<Utc>,
    /// The raw object this item came from.
    pub raw_key: String,
    /// The structured event, for items a hazard feed gave (USGS, GDACS, BMKG, ReliefWeb).
    /// Absent from other items' JSON, so items objects written before it still parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard: Option<HazardEvent>,
}

/// What kind of hazard an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    Earthquake,
    Tsunami,
    TropicalCyclone,
    Flood,
    Volcano,
    Drought,
    Wildfire,
    Other,
}

/// The colour scale USGS (PAGER) and GDACS share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    Green,
    Yellow,
    Orange,
    Red,
}

impl AlertLevel {
    /// `green`, `Orange`, ` RED ` → the level; None for anything else.
    pub fn parse(s: &str) -> Option<AlertLevel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "green" => Some(AlertLevel::Green),
            "yellow" => Some(AlertLevel::Yellow),
            "orange" => Some(AlertLevel::Orange),
            "red" => Some(AlertLevel::Red),
            _ => None,
        }
    }
}

/// How a hazard event's country was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum CountryBasis {
    /// The feed gave an ISO 3166-1 alpha-3 code (GDACS `iso3`, ReliefWeb `country.iso3`).
    FeedIso3 { iso3: String },
    /// The feed named the country (GDACS `country`, USGS place text).
    FeedName { name: String },
    /// The event's coordinates lie inside the country's boundary.
    Coordinates,
    /// The coordinates are at sea; the country's boundary is within this many km.
    NearCoordinates { km: u32 },
}

/// One country a hazard event concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardCountry {
    /// ISO 3166-1 alpha-2, upper case.
    pub code: String,
    #[serde(flatten)]
    pub basis: CountryBasis,
}

/// One hazard event as a feed reported it: carried on the item the feed's entry became
/// ([`NormalizedItem::hazard`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HazardEvent {
    /// The feed's id of the event, stable across its updates: USGS feature id (`us7000n7n8`),
    /// GDACS event type and id (`EQ1510000`), BMKG `DateTime@Coordinates`, ReliefWeb report id.
    pub event_id: String,
    /// GDACS episode: each update of an event is a new episode of the same event id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode_id: Option<String>,
    pub kind: HazardKind,
    pub magnitude: Option<f64>,
    /// `mww`, `mb`, `M`, ... when the feed says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnitude_type: Option<String>,
    pub alert: Option<AlertLevel>,
    /// The feed's own words on severity (GDACS `severity`, BMKG `Potensi`).
    pub severity: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// The time as the feed wrote it.
    pub occurred_raw: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// When the event ended, for events that last (GDACS `todate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub depth_km: Option<f64>,
    /// Where, in the feed's words (`50 km E of Miyako, Japan`, BMKG `Wilayah`).
    pub place: Option<String>,
    /// The countries concerned, each with how it was decided; empty at sea far from land.
    #[serde(default)]
    pub countries: Vec<HazardCountry>,
    pub link: Option<String>,
    /// USGS `felt`: how many "Did You Feel It?" reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub felt_reports: Option<u64>,
    /// BMKG `Dirasakan`: where it was felt, on the MMI scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub felt: Option<String>,
    /// Whether the feed flags a tsunami (USGS `tsunami`, BMKG `Potensi`).
    pub tsunami: Option<bool>,
    pub mission: String,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
    pub raw_key: String,
}

impl HazardEvent {
    /// The alpha-2 codes of its countries, in order.
    pub fn country_codes(&self) -> Vec<&str> {
        self.countries.iter().map(|c| c.code.as_str()).collect()
    }
}

impl NormalizedItem {
    /// The item's stable identity: the same publication from the same source always gets the
    /// same id, whichever fetch or page it came from. The source's own id wins, then the URL,
    /// then the title (a source with neither is rare and gets the weakest identity).
    pub fn identity(&self) -> String {
        let basis = match (&self.guid, &self.url) {
            (Some(guid), _) if !guid.trim().is_empty() => format!("guid:{}", guid.trim()),
            (_, Some(url)) if !url.is_empty() => format!("url:{url}"),
            _ => format!("title:{}", self.title.trim().to_lowercase()),
        };
        let lang = self.language.as_deref().unwrap_or("");
        let digest = Sha256::digest(
            format!("{}\n{}\n{}\n{}", self.mission, self.source, lang, basis).as_bytes(),
        );
        format!("itm_{}", &hex::encode(digest)[..20])
    }

    /// Hash of what a reader sees; a change makes a new version.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.title.as_str(),
            self.summary.as_deref().unwrap_or(""),
            self.body.as_deref().unwrap_or(""),
            self.url.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        h.update(self.published_at.to_rfc3339().as_bytes());
        hex::encode(h.finalize())[..32].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> NormalizedItem {
        NormalizedItem {
            mission: "tokyo".into(),
            source: "portal-berita".into(),
            kind: SourceKind::KemluPortal,
            role: Role::Official,
            guid: Some("slug-1".into()),
            url: Some("https://kemlu.go.id/tokyo/berita/slug-1".into()),
            title: "Judul".into(),
            summary: None,
            body: Some("Isi".into()),
            published_at: DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
            published_raw: None,
            time_basis: TimeBasis::Stated,
            language: Some("id".into()),
            authors: vec![],
            categories: vec![],
            images: vec![],
            fetched_at: Utc::now(),
            raw_key: "raw/x".into(),
            hazard: None,
        }
    }

    #[test]
    fn identity_ignores_content_but_not_language() {
        let a = item();
        let mut b = item();
        b.title = "Judul baru".into();
        b.fetched_at = Utc::now();
        assert_eq!(a.identity(), b.identity());
        assert_ne!(a.content_hash(), b.content_hash());
        b.language = Some("en".into());
        assert_ne!(a.identity(), b.identity());
    }

    #[test]
    fn items_without_a_hazard_serialize_and_hash_as_before() {
        let plain = item();
        let line = serde_json::to_string(&plain).unwrap();
        assert!(!line.contains("hazard"), "{line}");
        // A line written before the field existed still parses.
        let mut old: serde_json::Value = serde_json::from_str(&line).unwrap();
        old.as_object_mut().unwrap().remove("hazard");
        let back: NormalizedItem = serde_json::from_value(old).unwrap();
        assert_eq!(back, plain);
        // Pinned: identity and content hash of a non-hazard item did not move.
        assert_eq!(plain.identity(), "itm_369e766bb2cef42c81d8");
        assert_eq!(plain.content_hash(), "fc90f3ee2a5a716ef9a6cd0b1d30ccf1");

        // The event rides along without touching either.
        let mut with_event = item();
        with_event.hazard = Some(HazardEvent {
            event_id: "us1".into(),
            episode_id: None,
            kind: HazardKind::Earthquake,
            magnitude: Some(6.0),
            magnitude_type: None,
            alert: Some(AlertLevel::Green),
            severity: None,
            occurred_at: plain.published_at,
            occurred_raw: None,
            updated_at: None,
            ended_at: None,
            latitude: Some(1.0),
            longitude: Some(2.0),
            depth_km: None,
            place: None,
            countries: vec![HazardCountry {
                code: "JP".into(),
                basis: CountryBasis::FeedIso3 { iso3: "JPN".into() },
            }],
            link: None,
            felt_reports: None,
            felt: None,
            tsunami: None,
            mission: "tokyo".into(),
            source: "usgs".into(),
            fetched_at: plain.fetched_at,
            raw_key: "raw/x".into(),
        });
        assert_eq!(with_event.identity(), plain.identity());
        assert_eq!(with_event.content_hash(), plain.content_hash());
        let line = serde_json::to_string(&with_event).unwrap();
        assert!(
            line.contains(r#""basis":"feed_iso3","iso3":"JPN""#),
            "{line}"
        );
        let back: NormalizedItem = serde_json::from_str(&line).unwrap();
        assert_eq!(back, with_event);
    }

    #[test]
    fn alert_levels_read_any_case() {
        assert_eq!(AlertLevel::parse(" Orange "), Some(AlertLevel::Orange));
        assert_eq!(AlertLevel::parse("RED"), Some(AlertLevel::Red));
        assert_eq!(AlertLevel::parse("null"), None);
        assert!(AlertLevel::Red > AlertLevel::Green);
    }

    #[test]
    fn raw_meta_round_trips_through_ascii_metadata() {
        let meta = RawMeta {
            mission: "tokyo".into(),
            source: "feed".into(),
            kind: SourceKind::Feed,
            role: Role::Media,
            url: "https://example.org/ü".into(),
            final_url: "https://example.org/ü".into(),
            status: 200,
            content_type: Some("application/rss+xml".into()),
            etag: Some("\"abc\"".into()),
            last_modified: None,
            fetched_at: DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
            sha256: "00".into(),
            language: None,
            charset: Some("windows-1252".into()),
            article: true,
        };
        let m = meta.to_metadata();
        assert!(m.values().all(|v| v.is_ascii()));
        let back = RawMeta::from_metadata(&m).unwrap();
        assert_eq!(back.url, "https://example.org/%C3%BC");
        assert!(back.article);
        assert_eq!(back.etag, meta.etag);
        assert_eq!(back.charset, meta.charset);
        assert_eq!(back.kind, SourceKind::Feed);
    }
}
