//! The kemlu.go.id portal API (see `shared/reference/kemlu-portal-api.md`).
//!
//! Two answers are read: a section's list, `{"data": {"publication": [...], "meta": {...}}}`,
//! and one publication, `{"data": {"title": ..., "publish_date": ..., ...}}`. A publication
//! gives an Indonesian item and, when it has an English title, an English one; both share
//! the slug as guid (the item identity includes the language, so they stay distinct).
//!
//! The API is lenient about shapes (missing fields, nulls, numbers as strings) and so is
//! this reader; what it will not do is guess: a publication without slug or title is skipped
//! with a warning, and a body that is not the API's JSON is an error.

use chrono_tz::Tz;
use serde_json::{Map, Value};
use url::Url;

use super::date::parse_date;
use super::text::{html_extract, html_to_text, normalize_title, summarize};
use super::{NormalizedItem, ParseError, ParseInput, SUMMARY_CHARS, new_item, push_unique};
use crate::model::TimeBasis;

/// The public site; publication pages and relative image paths live under it.
pub const PORTAL_SITE: &str = "https://kemlu.go.id/";
const DEFAULT_SECTION: &str = "berita";

/// Fields that may hold a summary, Indonesian then English.
const SUMMARY_FIELDS: &[&str] = &["summary", "excerpt", "description", "short_description"];
const SUMMARY_FIELDS_ENG: &[&str] = &[
    "summary_eng",
    "excerpt_eng",
    "description_eng",
    "short_description_eng",
];

pub(crate) fn parse(input: &ParseInput, zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    let shape_error = |reason: String| ParseError::UnexpectedShape {
        raw_key: input.raw_key.to_owned(),
        reason,
    };
    let body = input
        .body
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(input.body);
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::NotJson {
        raw_key: input.raw_key.to_owned(),
        reason: e.to_string(),
    })?;
    let data = value
        .get("data")
        .ok_or_else(|| shape_error(format!("no `data` in a JSON {}", type_name(&value))))?;
    let publications: Vec<&Value> = match data {
        Value::Object(obj) if obj.contains_key("publication") => match &obj["publication"] {
            Value::Array(list) => list.iter().collect(),
            Value::Null => Vec::new(),
            one @ Value::Object(_) => vec![one],
            other => {
                return Err(shape_error(format!(
                    "`data.publication` is a {}",
                    type_name(other)
                )));
            }
        },
        Value::Object(obj) if looks_like_publication(obj) => vec![data],
        Value::Array(list) => list.iter().collect(),
        // A detail request for a publication that is gone answers with no data.
        Value::Null => {
            tracing::warn!(raw_key = input.raw_key, "portal answer has null `data`");
            Vec::new()
        }
        other => {
            return Err(shape_error(format!(
                "`data` is a {} without publications",
                type_name(other)
            )));
        }
    };

    let request = RequestContext::from_url(&input.meta.url, &input.meta.mission);
    let mut items = Vec::new();
    for (index, publication) in publications.into_iter().enumerate() {
        let Value::Object(publication) = publication else {
            tracing::warn!(
                raw_key = input.raw_key,
                index,
                "publication is not an object; skipped"
            );
            continue;
        };
        items.extend(publication_items(input, zone, &request, publication, index));
    }
    Ok(items)
}

/// What the API request itself says: whose portal, which section, and (for a detail request)
/// which publication.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequestContext {
    portal: String,
    section: String,
    slug: Option<String>,
}

impl RequestContext {
    /// `...contentMenu?slug[]=<portal>&slug[]=<section>&portal=<portal>...` or
    /// `...content/publication?portal=<mission>&slug=<slug>`.
    fn from_url(request_url: &str, mission: &str) -> RequestContext {
        let mut context = RequestContext {
            portal: mission.to_owned(),
            section: DEFAULT_SECTION.to_owned(),
            slug: None,
        };
        let Ok(url) = Url::parse(request_url) else {
            return context;
        };
        let mut path_slugs = Vec::new();
        for (name, value) in url.query_pairs() {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match name.as_ref() {
                "portal" => context.portal = value.to_owned(),
                "slug[]" => path_slugs.push(value.to_owned()),
                "slug" => context.slug = Some(value.to_owned()),
                _ => {}
            }
        }
        // `slug[]` is the page path: the portal, then the section.
        if let Some(section) = path_slugs.iter().skip(1).next_back() {
            context.section = section.clone();
        }
        context
    }

    fn page_url(&self, slug: &str) -> Option<String> {
        let mut url = Url::parse(PORTAL_SITE).ok()?;
        url.path_segments_mut().ok()?.clear().extend([
            self.portal.as_str(),
            self.section.as_str(),
            slug,
        ]);
        super::url::canonical_url(url.as_str())
    }
}

/// The Indonesian item and, when there is an English title, the English one.
fn publication_items(
    input: &ParseInput,
    zone: Tz,
    request: &RequestContext,
    publication: &Map<String, Value>,
    index: usize,
) -> Vec<NormalizedItem> {
    let slug = text_field(publication, "slug").or_else(|| request.slug.clone());
    let Some(slug) = slug else {
        tracing::warn!(
            raw_key = input.raw_key,
            index,
            "publication without slug; skipped"
        );
        return Vec::new();
    };
    let title = text_field(publication, "title").map(|t| normalize_title(&t));
    let Some(title) = title.filter(|t| !t.is_empty()) else {
        tracing::warn!(raw_key = input.raw_key, %slug, "publication without title; skipped");
        return Vec::new();
    };

    let mut indonesian = new_item(input, title);
    indonesian.guid = Some(slug.clone());
    indonesian.url = request.page_url(&slug);
    indonesian.language = Some("id".into());
    set_published(&mut indonesian, input, zone, publication, &slug);
    let images = fill_text(
        &mut indonesian,
        publication,
        "content_detail",
        SUMMARY_FIELDS,
    );
    let mut items = vec![indonesian];

    if let Some(title_eng) = text_field(publication, "title_eng")
        .map(|t| normalize_title(&t))
        .filter(|t| !t.is_empty())
    {
        let mut english = items[0].clone();
        english.title = title_eng;
        english.language = Some("en".into());
        english.summary = None;
        english.body = None;
        english.images = Vec::new();
        fill_text(
            &mut english,
            publication,
            "content_detail_eng",
            SUMMARY_FIELDS_ENG,
        );
        // The same publication shows the same photos whichever language its text is in.
        if english.images.is_empty() {
            english.images = images;
        }
        items.push(english);
    }
    items
}

/// `publish_date` is local time without a zone: read it in the source's zone.
fn set_published(
    item: &mut NormalizedItem,
    input: &ParseInput,
    zone: Tz,
    publication: &Map<String, Value>,
    slug: &str,
) {
    let Some(raw) = text_field(publication, "publish_date") else {
        tracing::warn!(
            raw_key = input.raw_key,
            slug,
            "publication without publish_date; using fetch time"
        );
        return;
    };
    match parse_date(&raw, zone) {
        Some(date) => {
            item.published_at = date.at;
            item.time_basis = date.basis;
        }
        None => {
            tracing::warn!(raw_key = input.raw_key, slug, publish_date = %raw, "unreadable publish_date; using fetch time");
            item.time_basis = TimeBasis::FetchTime;
        }
    }
    item.published_raw = Some(raw);
}

/// Body, summary and images from the HTML field `content_field`; returns the images.
fn fill_text(
    item: &mut NormalizedItem,
    publication: &Map<String, Value>,
    content_field: &str,
    summary_fields: &[&str],
) -> Vec<String> {
    let content = text_field(publication, content_field)
        .map(|html| html_extract(&html))
        .unwrap_or_default();
    for src in &content.images {
        if let Some(url) = super::url::resolve(Some(PORTAL_SITE), src) {
            push_unique(&mut item.images, url);
        }
    }
    let body = (!content.text.is_empty()).then_some(content.text);
    let stated_summary = summary_fields
        .iter()
        .filter_map(|f| text_field(publication, f))
        .map(|s| html_to_text(&s))
        .find(|s| !s.is_empty());
    item.summary = stated_summary
        .map(|s| summarize(&s, SUMMARY_CHARS))
        .or_else(|| body.as_deref().map(|b| summarize(b, SUMMARY_CHARS)));
    item.body = body;
    item.images.clone()
}

/// A field as text: strings trimmed, numbers spelled out, anything else (null, objects,
/// empty strings) absent.
fn text_field(obj: &Map<String, Value>, name: &str) -> Option<String> {
    match obj.get(name)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn looks_like_publication(obj: &Map<String, Value>) -> bool {
    ["slug", "title", "publish_date", "content_detail"]
        .iter()
        .any(|k| obj.contains_key(*k))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::super::test_support::meta;
    use super::*;
    use crate::model::{RawMeta, SourceKind};
    use crate::parse::parse as parse_any;

    const LIST_URL: &str = "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu\
        ?type=menu&slug%5B%5D=tokyo&slug%5B%5D=berita&portal=tokyo&page=1&limit=100\
        &order_by=publish_date&order_dir=desc&lang=id";

    /// A list page as the API answers it: one bilingual publication with entities, images
    /// and a script; one without English; one without slug; one with its date as a number
    /// and its slug as a number; a null entry.
    const LIST: &str = r#"{
      "data": {
        "publication": [
          {
            "slug": "kunjungan-menlu-ke-tokyo",
            "title": "Kunjungan Menlu &amp; Delegasi ke&nbsp;Tokyo",
            "title_eng": "  Foreign Minister&#39;s Visit to Tokyo ",
            "publish_date": "2025-01-15 09:30:00",
            "content_detail": "<p>Menteri Luar Negeri RI <b>tiba</b> di Tokyo.</p><p><img src=\"/storage/foto/a.jpg\"> Pertemuan&nbsp;bilateral &ldquo;produktif&rdquo;.</p><script>track()</script>",
            "content_detail_eng": "<p>The Foreign Minister arrived in Tokyo.</p>"
          },
          {
            "slug": "pelayanan-paspor",
            "title": "Pelayanan Paspor",
            "title_eng": "",
            "publish_date": "2025-01-10 14:00:00",
            "content_detail": null
          },
          {
            "title": "Tanpa slug",
            "publish_date": "2025-01-09 10:00:00"
          },
          {
            "slug": 12345,
            "title": "Tanggal rusak",
            "title_eng": null,
            "publish_date": "kemarin",
            "content_detail": "Isi tanpa tag"
          },
          null
        ],
        "meta": {"filtered": "5", "page": 1}
      }
    }"#;

    fn run(body: &str, meta: &RawMeta, zone: &str) -> Result<Vec<NormalizedItem>, ParseError> {
        parse_any(&ParseInput {
            body: body.as_bytes(),
            meta,
            raw_key: "raw/2025/02/01/tokyo/src/x.json",
            time_zone: zone,
            source_language: None,
        })
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn list_page_gives_indonesian_and_english_items() {
        let meta = meta(SourceKind::KemluPortal, "tokyo", LIST_URL);
        let items = run(LIST, &meta, "Asia/Tokyo").unwrap();
        let titles: Vec<_> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Kunjungan Menlu & Delegasi ke Tokyo",
                "Foreign Minister's Visit to Tokyo",
                "Pelayanan Paspor",
                "Tanggal rusak",
            ]
        );

        let (id, en) = (&items[0], &items[1]);
        assert_eq!(id.language.as_deref(), Some("id"));
        assert_eq!(en.language.as_deref(), Some("en"));
        assert_eq!(id.guid.as_deref(), Some("kunjungan-menlu-ke-tokyo"));
        assert_eq!(en.guid, id.guid);
        assert_ne!(id.identity(), en.identity());
        assert_eq!(
            id.url.as_deref(),
            Some("https://kemlu.go.id/tokyo/berita/kunjungan-menlu-ke-tokyo")
        );
        assert_eq!(
            id.body.as_deref(),
            Some("Menteri Luar Negeri RI tiba di Tokyo.\n\nPertemuan bilateral “produktif”.")
        );
        assert_eq!(
            en.body.as_deref(),
            Some("The Foreign Minister arrived in Tokyo.")
        );
        assert_eq!(
            id.summary.as_deref(),
            Some("Menteri Luar Negeri RI tiba di Tokyo. Pertemuan bilateral “produktif”.")
        );
        assert_eq!(id.images, ["https://kemlu.go.id/storage/foto/a.jpg"]);
        assert_eq!(en.images, id.images);
        // 09:30 in Tokyo is 00:30 UTC, and the item says the zone was assumed.
        assert_eq!(id.published_at, utc("2025-01-15T00:30:00Z"));
        assert_eq!(id.published_raw.as_deref(), Some("2025-01-15 09:30:00"));
        assert_eq!(
            id.time_basis,
            TimeBasis::AssumedZone {
                zone: "Asia/Tokyo".into()
            }
        );
        assert_eq!(en.published_at, id.published_at);
        assert_eq!(id.raw_key, "raw/2025/02/01/tokyo/src/x.json");
        assert_eq!(id.mission, "tokyo");

        // No English title: no English item; no content: no body, no summary.
        let passport = &items[2];
        assert_eq!(passport.body, None);
        assert_eq!(passport.summary, None);

        // A number as slug is still a slug; an unreadable date falls back to the fetch.
        let broken = &items[3];
        assert_eq!(broken.guid.as_deref(), Some("12345"));
        assert_eq!(broken.time_basis, TimeBasis::FetchTime);
        assert_eq!(broken.published_at, meta.fetched_at);
        assert_eq!(broken.published_raw.as_deref(), Some("kemarin"));
        assert_eq!(broken.body.as_deref(), Some("Isi tanpa tag"));
    }

    #[test]
    fn the_same_local_time_differs_by_mission_zone() {
        let meta = meta(SourceKind::KemluPortal, "tokyo", LIST_URL);
        let tokyo = run(LIST, &meta, "Asia/Tokyo").unwrap();
        let jakarta = run(LIST, &meta, "Asia/Jakarta").unwrap();
        assert_eq!(
            jakarta[0].published_at - tokyo[0].published_at,
            chrono::Duration::hours(2)
        );
        assert_eq!(
            jakarta[0].time_basis,
            TimeBasis::AssumedZone {
                zone: "Asia/Jakarta".into()
            }
        );
    }

    #[test]
    fn detail_answer_gives_one_publication_with_slug_from_the_request() {
        let url = "https://backpanel.kemlu.go.id/public-content-service/api/content/publication\
                   ?portal=osaka&slug=festival-budaya";
        let meta = meta(SourceKind::KemluPortal, "osaka", url);
        let body = r#"{"data": {
            "title": "Festival Budaya Indonesia",
            "publish_date": "2024-11-02 19:05:00",
            "content_detail": "<div>Ribuan pengunjung&hellip;</div>",
            "headline": 1
        }}"#;
        let items = run(body, &meta, "Asia/Tokyo").unwrap();
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.guid.as_deref(), Some("festival-budaya"));
        assert_eq!(
            item.url.as_deref(),
            Some("https://kemlu.go.id/osaka/berita/festival-budaya")
        );
        assert_eq!(item.body.as_deref(), Some("Ribuan pengunjung…"));
        assert_eq!(item.published_at, utc("2024-11-02T10:05:00Z"));
    }

    #[test]
    fn headquarters_and_other_sections_build_their_urls() {
        let url = "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu\
                   ?slug[]=pusat&slug[]=siaran-pers&portal=pusat&lang=id";
        let meta = meta(SourceKind::KemluPortal, "pusat", url);
        let body = r#"{"data":{"publication":[{"slug":"rilis 1/2","title":"Rilis"}]}}"#;
        let items = run(body, &meta, "Asia/Jakarta").unwrap();
        assert_eq!(
            items[0].url.as_deref(),
            Some("https://kemlu.go.id/pusat/siaran-pers/rilis%201%2F2")
        );
        assert_eq!(items[0].time_basis, TimeBasis::FetchTime);
    }

    #[test]
    fn long_bodies_get_a_word_boundary_summary() {
        let meta = meta(SourceKind::KemluPortal, "tokyo", LIST_URL);
        let long = "kata ".repeat(200);
        let body = serde_json::json!({"data": {"publication": [
            {"slug": "a", "title": "A", "content_detail": format!("<p>{long}</p>")},
            {"slug": "b", "title": "B", "content_detail": "<p>isi</p>", "summary": "<p>Ringkasan&nbsp;resmi</p>"}
        ]}})
        .to_string();
        let items = run(&body, &meta, "Asia/Tokyo").unwrap();
        let summary = items[0].summary.as_deref().unwrap();
        assert!(summary.ends_with("kata…"), "{summary}");
        assert!(summary.chars().count() <= SUMMARY_CHARS + 1);
        assert_eq!(items[1].summary.as_deref(), Some("Ringkasan resmi"));
    }

    #[test]
    fn empty_and_malformed_answers() {
        let meta = meta(SourceKind::KemluPortal, "tokyo", LIST_URL);
        let ok_empty = [
            r#"{"data":{"publication":[],"meta":{"filtered":0}}}"#,
            r#"{"data":{"publication":null}}"#,
            r#"{"data":null}"#,
            "\u{feff}{\"data\":{\"publication\":[]}}",
        ];
        for body in ok_empty {
            assert_eq!(run(body, &meta, "Asia/Tokyo").unwrap(), vec![], "{body}");
        }
        let bad = [
            ("<html>502 Bad Gateway</html>", "not JSON"),
            ("", "not JSON"),
            (r#"{"message":"error"}"#, "no `data`"),
            (r#"{"data":{"publication":"x"}}"#, "is a string"),
            (r#"{"data":{"something":"else"}}"#, "without publications"),
            (r#"[1,2]"#, "no `data`"),
        ];
        for (body, want) in bad {
            let err = run(body, &meta, "Asia/Tokyo").unwrap_err();
            assert!(err.to_string().contains(want), "{body}: {err}");
            assert_eq!(err.raw_key(), "raw/2025/02/01/tokyo/src/x.json");
        }
    }
}
