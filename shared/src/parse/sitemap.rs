//! Sitemaps (sitemaps.org 0.9), Google News sitemaps (`news:` namespace) and sitemap indexes.
//!
//! [`read`] gives a document's page entries (`<url>`: `loc`, `lastmod`, and a news entry's
//! title, publication date and language) or, for a `<sitemapindex>`, its child sitemaps.
//! [`parse`] (normalize) makes an item of each news entry, which carries a title; plain
//! entries give none, since their pages are fetched by scrape and parsed as articles.
//!
//! The reader is quick-xml's pull parser: no DTD is read and no entity other than the five
//! predefined ones and character references is resolved, so entity expansion ("billion
//! laughs") cannot happen; entries past [`MAX_ENTRIES`] are dropped, and malformed XML keeps
//! the entries read before the error.

use chrono_tz::Tz;
use quick_xml::Reader;
use quick_xml::events::Event;

use super::date::parse_date;
use super::text::normalize_title;
use super::url::canonical_url;
use super::{NormalizedItem, ParseError, ParseInput, new_item, primary_language};
use crate::fetch::decode_xml_to_utf8;
use crate::model::TimeBasis;

/// The protocol's limit on entries per sitemap file.
pub const MAX_ENTRIES: usize = 50_000;

/// One `<url>` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitemapEntry {
    pub loc: String,
    pub lastmod: Option<String>,
    /// `news:title`.
    pub news_title: Option<String>,
    /// `news:publication_date`.
    pub news_publication_date: Option<String>,
    /// `news:language` of `news:publication`.
    pub news_language: Option<String>,
}

/// A sitemap's content: page entries, or (an index) child sitemaps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    pub urls: Vec<SitemapEntry>,
    /// `<loc>` of each `<sitemap>` of a `<sitemapindex>`.
    pub sitemaps: Vec<String>,
}

/// Reads a sitemap or sitemap index. An error when the document is neither (no `<urlset>` or
/// `<sitemapindex>` root) or is broken before any entry.
pub fn read(xml: &str) -> Result<Sitemap, String> {
    let mut reader = Reader::from_str(xml);
    let mut map = Sitemap::default();
    let mut saw_root = false;
    // The open elements' local names, and the text of the innermost.
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut entry: Option<SitemapEntry> = None;
    let mut child: Option<String> = None;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                if map.urls.is_empty() && map.sitemaps.is_empty() {
                    return Err(format!("XML error: {e}"));
                }
                tracing::warn!(error = %e, "sitemap XML breaks off; keeping the entries before");
                break;
            }
        };
        match event {
            Event::Start(start) => {
                let name = local_name(start.name().as_ref());
                match (path.len(), name.as_str()) {
                    (0, "urlset" | "sitemapindex") => saw_root = true,
                    (1, "url") => entry = Some(SitemapEntry::default()),
                    (1, "sitemap") => child = Some(String::new()),
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::End(_) => {
                let Some(name) = path.pop() else { continue };
                let value = text.trim().to_owned();
                text.clear();
                let parent = path.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("url", _) if path.len() == 1 => {
                        if let Some(e) = entry.take().filter(|e| !e.loc.is_empty())
                            && map.urls.len() < MAX_ENTRIES
                        {
                            map.urls.push(e);
                        }
                    }
                    ("sitemap", _) if path.len() == 1 => {
                        if let Some(loc) = child.take().filter(|l| !l.is_empty())
                            && map.sitemaps.len() < MAX_ENTRIES
                        {
                            map.sitemaps.push(loc);
                        }
                    }
                    ("loc", Some("url")) => set(&mut entry, |e| e.loc = value),
                    ("loc", Some("sitemap")) => {
                        if let Some(c) = child.as_mut() {
                            *c = value;
                        }
                    }
                    ("lastmod", Some("url")) => set(&mut entry, |e| e.lastmod = some(value)),
                    ("title", Some("news")) => set(&mut entry, |e| e.news_title = some(value)),
                    ("publication_date", Some("news")) => {
                        set(&mut entry, |e| e.news_publication_date = some(value))
                    }
                    ("language", Some("publication")) => {
                        set(&mut entry, |e| e.news_language = some(value))
                    }
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t),
            Event::CData(t) => text.push_str(&t),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => {
                    let name: &str = &r;
                    // Only the five predefined entities; anything a DTD could define stays
                    // literal text.
                    match quick_xml::escape::resolve_predefined_entity(name) {
                        Some(resolved) => text.push_str(resolved),
                        None => {
                            text.push('&');
                            text.push_str(name);
                            text.push(';');
                        }
                    }
                }
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err("no <urlset> or <sitemapindex> element".into());
    }
    Ok(map)
}

/// Normalize: an item for each news entry (one with a title).
pub(crate) fn parse(input: &ParseInput, zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    let (xml, _) = decode_xml_to_utf8(input.body, input.meta.charset.as_deref());
    let map = read(&xml).map_err(|reason| ParseError::NotAFeed {
        raw_key: input.raw_key.to_owned(),
        reason: format!("not a sitemap: {reason}"),
    })?;
    let mut items = Vec::new();
    for entry in map.urls {
        let Some(title) = entry
            .news_title
            .as_deref()
            .map(normalize_title)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        let Some(url) = canonical_url(&entry.loc) else {
            tracing::warn!(raw_key = input.raw_key, loc = %entry.loc, "sitemap entry without a usable URL skipped");
            continue;
        };
        let mut item = new_item(input, title);
        item.guid = Some(url.clone());
        item.url = Some(url);
        let raw_date = entry.news_publication_date.or(entry.lastmod);
        if let Some(date) = raw_date.as_deref().and_then(|d| parse_date(d, zone)) {
            item.published_at = date.at;
            item.time_basis = date.basis;
        } else {
            item.time_basis = TimeBasis::FetchTime;
        }
        item.published_raw = raw_date;
        item.language = entry
            .news_language
            .as_deref()
            .and_then(primary_language)
            .or_else(|| input.source_language.map(str::to_owned));
        items.push(item);
    }
    Ok(items)
}

fn set(entry: &mut Option<SitemapEntry>, f: impl FnOnce(&mut SitemapEntry)) {
    if let Some(e) = entry.as_mut() {
        f(e)
    }
}

fn some(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The local part of a possibly prefixed name (`news:title` → `title`).
fn local_name(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;
    use crate::parse::test_support;

    const NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example.jp/world/indonesia-ties?utm_source=x</loc>
    <lastmod>2025-05-30T08:00:00+09:00</lastmod>
    <news:news>
      <news:publication><news:name>Example</news:name><news:language>ja</news:language></news:publication>
      <news:publication_date>2025-05-30T07:45:00+09:00</news:publication_date>
      <news:title>Japan &amp; Indonesia sign &#x201C;pact&#x201D;</news:title>
    </news:news>
  </url>
  <url><loc> https://news.example.jp/plain </loc><lastmod>2025-05-29</lastmod></url>
  <url><lastmod>2025-05-29</lastmod></url>
</urlset>"#;

    #[test]
    fn news_sitemaps_give_entries_with_their_news_fields() {
        let map = read(NEWS).unwrap();
        assert!(map.sitemaps.is_empty());
        assert_eq!(map.urls.len(), 2, "the entry without <loc> is dropped");
        let news = &map.urls[0];
        assert_eq!(
            news.loc,
            "https://news.example.jp/world/indonesia-ties?utm_source=x"
        );
        assert_eq!(news.lastmod.as_deref(), Some("2025-05-30T08:00:00+09:00"));
        assert_eq!(
            news.news_title.as_deref(),
            Some("Japan & Indonesia sign \u{201C}pact\u{201D}")
        );
        assert_eq!(news.news_language.as_deref(), Some("ja"));
        assert_eq!(
            news.news_publication_date.as_deref(),
            Some("2025-05-30T07:45:00+09:00")
        );
        assert_eq!(map.urls[1].loc, "https://news.example.jp/plain");
        assert_eq!(map.urls[1].news_title, None);
    }

    #[test]
    fn an_index_gives_its_child_sitemaps() {
        let xml = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>https://example.org/s1.xml</loc><lastmod>2025-01-01</lastmod></sitemap>
            <sitemap><loc><![CDATA[https://example.org/s2.xml]]></loc></sitemap>
            <sitemap></sitemap>
        </sitemapindex>"#;
        let map = read(xml).unwrap();
        assert_eq!(
            map.sitemaps,
            ["https://example.org/s1.xml", "https://example.org/s2.xml"]
        );
        assert!(map.urls.is_empty());
    }

    #[test]
    fn hostile_or_broken_input_is_an_error_or_a_bounded_result_never_a_panic() {
        // Entity expansion: the DTD is not read, the entity stays literal text.
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<urlset><url><loc>https://example.org/&lol2;</loc></url></urlset>"#;
        let map = read(laughs).unwrap();
        assert_eq!(map.urls[0].loc, "https://example.org/&lol2;");

        assert!(read("").is_err());
        assert!(read("<rss><channel/></rss>").is_err());
        assert!(read("not xml at all <<<").is_err());
        let truncated = "<urlset><url><loc>https://example.org/a</loc></url><url><loc>https://exa";
        assert_eq!(read(truncated).map(|m| m.urls.len()).unwrap_or(1), 1);
        let deep = format!(
            "<urlset>{}{}</urlset>",
            "<x>".repeat(10_000),
            "</x>".repeat(10_000)
        );
        assert!(read(&deep).unwrap().urls.is_empty());
    }

    #[test]
    fn normalize_makes_items_of_news_entries_only() {
        let meta = test_support::meta(
            SourceKind::Sitemap,
            "tokyo",
            "https://news.example.jp/sitemap.xml",
        );
        let input = ParseInput {
            body: NEWS.as_bytes(),
            meta: &meta,
            raw_key: "raw/sitemap.xml",
            time_zone: "Asia/Tokyo",
            source_language: Some("en"),
        };
        let items = crate::parse::parse(&input).unwrap();
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.title, "Japan & Indonesia sign \u{201C}pact\u{201D}");
        assert_eq!(
            item.url.as_deref(),
            Some("https://news.example.jp/world/indonesia-ties")
        );
        assert_eq!(item.published_at.to_rfc3339(), "2025-05-29T22:45:00+00:00");
        assert_eq!(item.time_basis, TimeBasis::Stated);
        // Declared `ja`, but the title is in Latin script and too short to tell which
        // language: unknown rather than a wrong `ja` (see `parse::language`).
        assert_eq!(item.language, None);

        let bad = ParseInput {
            body: b"<html>nope</html>",
            ..input
        };
        assert!(matches!(
            crate::parse::parse(&bad),
            Err(ParseError::NotAFeed { .. })
        ));
    }
}
