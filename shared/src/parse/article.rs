//! One article page → its main text and what the page says about it.
//!
//! The main text (navigation, menus, footers, comments and other boilerplate removed) comes
//! from rs-trafilatura, chosen by measurement over the candidates (docs/extraction.md). The
//! metadata is read here, from the page's own markup, so the rules are ours and the dates go
//! through [`super::date`] like every other date Pantau reads:
//! - title: `og:title`, else `<title>`, else the first `<h1>`, else the extractor's title;
//! - published: `article:published_time` (and its `og:`/`dc`/`pubdate` cousins), `itemprop=
//!   datePublished`, `<time datetime>`, then the visible text of an element whose class
//!   names a date, else the extractor's date;
//! - author: `<meta name=author>`, `article:author` (when not a URL), `itemprop=author`,
//!   `rel=author`, a byline element, else the extractor's author;
//! - language: `<html lang>`, `content-language`, `og:locale`; else None;
//! - canonical URL: `<link rel=canonical>` resolved against the page URL.
//!
//! [`extract`] is total: the third-party extractor runs under `catch_unwind`, and a page
//! it gives nothing for is an error value.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html, Selector};

use super::date::{ParsedDate, parse_date_at};
use super::text::{collapse_whitespace, normalize_title, summarize};
use super::url::{canonical_url, resolve};
use super::{ParseError, ParseInput, SUMMARY_CHARS, new_item, primary_language};
use crate::model::{NormalizedItem, TimeBasis};

/// What an article page holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    /// The main text, paragraphs separated by blank lines.
    pub text: String,
    pub published: Option<ParsedDate>,
    /// The date as the page wrote it.
    pub published_raw: Option<String>,
    pub author: Option<String>,
    /// Primary language subtag (`id`, `en`, ...), from the page's markup.
    pub language: Option<String>,
    /// `<link rel=canonical>`, resolved and made canonical.
    pub canonical_url: Option<String>,
}

/// [`extract_at`] with dates in UTC and relative dates counted from now.
pub fn extract(html: &str, url: Option<&str>) -> Result<Article, ParseError> {
    extract_at(html, url, chrono_tz::UTC, Utc::now())
}

/// The article in `html` (fetched from `url`, which resolves relative links); zone-less
/// dates are read in `zone`, relative ones (`2 jam lalu`) against `now`.
pub fn extract_at(
    html: &str,
    url: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Article, ParseError> {
    let raw_key = url.unwrap_or("(article)");
    let main = main_text(html, url).map_err(|reason| match reason {
        Failure::Panicked(message) => ParseError::Panicked {
            raw_key: raw_key.to_owned(),
            parser: "article",
            message,
        },
        Failure::Nothing(reason) => ParseError::NotAnArticle {
            raw_key: raw_key.to_owned(),
            reason,
        },
    })?;
    let doc = Html::parse_document(html);
    let (published, published_raw) = match published(&doc, zone, now) {
        Some((date, raw)) => (Some(date), Some(raw)),
        None => match main.date {
            Some(at) => (
                Some(ParsedDate {
                    at,
                    basis: TimeBasis::Stated,
                }),
                Some(at.to_rfc3339()),
            ),
            None => (None, None),
        },
    };
    Ok(Article {
        title: title(&doc).or(main.title),
        text: main.text,
        published,
        published_raw,
        author: author(&doc).or(main.author),
        language: language(&doc),
        canonical_url: canonical(&doc, url),
    })
}

/// The one item of an article page (`pantau parse --kind article`): kind and role from the
/// fetch's meta, URL the page's canonical link (else the fetch URL), summary the text's start.
pub fn parse(input: &ParseInput, zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    let html = String::from_utf8_lossy(input.body);
    let page_url = Some(input.meta.final_url.as_str()).filter(|u| !u.is_empty());
    let article =
        extract_at(&html, page_url, zone, input.meta.fetched_at).map_err(|e| match e {
            ParseError::NotAnArticle { reason, .. } => ParseError::NotAnArticle {
                raw_key: input.raw_key.to_owned(),
                reason,
            },
            ParseError::Panicked {
                parser, message, ..
            } => ParseError::Panicked {
                raw_key: input.raw_key.to_owned(),
                parser,
                message,
            },
            other => other,
        })?;
    let mut item = new_item(input, article.title.clone().unwrap_or_default());
    item.url = article
        .canonical_url
        .or_else(|| page_url.and_then(canonical_url));
    item.summary = Some(summarize(&article.text, SUMMARY_CHARS)).filter(|s| !s.is_empty());
    item.body = Some(article.text);
    if let Some(date) = article.published {
        item.published_at = date.at;
        item.time_basis = date.basis;
        item.published_raw = article.published_raw;
    }
    item.language = article
        .language
        .or_else(|| input.source_language.and_then(primary_language));
    item.authors.extend(article.author);
    Ok(vec![item])
}

/// What the main-text extractor gave.
struct MainText {
    text: String,
    title: Option<String>,
    author: Option<String>,
    date: Option<DateTime<Utc>>,
}

enum Failure {
    Panicked(String),
    Nothing(String),
}

fn main_text(html: &str, url: Option<&str>) -> Result<MainText, Failure> {
    let cleaned = without_boilerplate_blocks(html);
    let html = cleaned.as_deref().unwrap_or(html);
    let options = rs_trafilatura::Options {
        url: url.map(str::to_owned),
        ..Default::default()
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        rs_trafilatura::extract_with_options(html, &options)
    }))
    .map_err(|payload| {
        Failure::Panicked(
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into()),
        )
    })?
    .map_err(|e| Failure::Nothing(e.to_string()))?;
    let text = paragraphs(&result.content_text);
    if text.is_empty() {
        return Err(Failure::Nothing("no main text found".into()));
    }
    let metadata = result.metadata;
    Ok(MainText {
        text,
        title: metadata
            .title
            .map(|t| normalize_title(&t))
            .filter(|t| !t.is_empty()),
        author: metadata
            .author
            .map(|a| collapse_whitespace(&a))
            .filter(|a| !a.is_empty()),
        date: metadata.date,
    })
}

/// Words in a class or id that mark a block as boilerplate around an article: related
/// links, comments, sharing, tags, newsletters, author boxes. Matched as whole words of
/// the attribute (split at `-`, `_`, space), so `content` is not `comment`.
const BOILERPLATE_WORDS: &[&str] = &[
    "related",
    "comment",
    "comments",
    "share",
    "sharing",
    "tags",
    "tagcloud",
    "newsletter",
    "subscribe",
    "breadcrumb",
    "breadcrumbs",
    "recommended",
    "recommendations",
    "readmore",
    "advert",
    "cookie",
    "pagination",
    "authorbox",
];

/// Elements that are boilerplate by their tag.
const BOILERPLATE_TAGS: &[&str] = &["aside", "footer", "nav"];

/// The page with boilerplate blocks (by tag, or by class/id words) removed, when there are
/// any. A block holding half the page's text or more is kept whatever its name says: a
/// wrapper called `has-sidebar` is the page, not a sidebar.
fn without_boilerplate_blocks(html: &str) -> Option<String> {
    let mut doc = Html::parse_document(html);
    let total = text_len(doc.root_element());
    let mut doomed = Vec::new();
    for node in doc.root_element().descendants() {
        let Some(element) = ElementRef::wrap(node) else {
            continue;
        };
        let value = element.value();
        if matches!(value.name(), "html" | "body" | "main" | "article") {
            continue;
        }
        let named = [value.attr("class"), value.attr("id")]
            .into_iter()
            .flatten()
            .flat_map(|attr| attr.split(|c: char| c == '-' || c == '_' || c.is_whitespace()))
            .any(|word| BOILERPLATE_WORDS.contains(&word.to_ascii_lowercase().as_str()));
        if (named || BOILERPLATE_TAGS.contains(&value.name()) || is_link_list(element))
            && !doomed
                .iter()
                .any(|&d| node.ancestors().any(|a| a.id() == d))
            && text_len(element) * 2 < total
        {
            doomed.push(node.id());
        }
    }
    if doomed.is_empty() {
        return None;
    }
    for id in doomed {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
    Some(doc.html())
}

/// A list or block whose text is 80% or more link text: a menu or a "read more" box, not
/// prose. (Counting `<p>` too cost more recall than it gained precision.)
fn is_link_list(element: ElementRef) -> bool {
    if !matches!(element.value().name(), "ul" | "ol" | "div" | "section") {
        return false;
    }
    let all = text_len(element);
    if all == 0 {
        return false;
    }
    let linked: usize = element
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "a")
        .map(text_len)
        .sum();
    linked * 10 >= all * 8
}

/// Characters of visible text (scripts and styles are not).
fn text_len(element: ElementRef) -> usize {
    element
        .descendants()
        .filter(|n| {
            n.parent()
                .and_then(|p| p.value().as_element())
                .is_none_or(|e| !matches!(e.name(), "script" | "style" | "noscript"))
        })
        .filter_map(|n| n.value().as_text())
        .map(|t| t.trim().len())
        .sum()
}

/// Lines of text → paragraphs with collapsed whitespace, separated by blank lines.
fn paragraphs(text: &str) -> String {
    text.lines()
        .map(collapse_whitespace)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// The first non-empty `attr` of an element matching `css`.
fn attr_of(doc: &Html, css: &str, attr: &str) -> Option<String> {
    let selector = selector(css)?;
    doc.select(&selector)
        .filter_map(|e| e.value().attr(attr))
        .map(collapse_whitespace)
        .find(|v| !v.is_empty())
}

fn text_of(element: ElementRef) -> String {
    collapse_whitespace(&element.text().collect::<String>())
}

/// `og:title`; else the first `<h1>` when `<title>` contains it (`<title>` often adds the
/// site's name); else `<title>`; else the first `<h1>`.
fn title(doc: &Html) -> Option<String> {
    let tidy = |t: String| Some(normalize_title(&t)).filter(|t| !t.is_empty());
    let first = |css: &str| {
        let selector = selector(css)?;
        doc.select(&selector).map(text_of).find_map(tidy)
    };
    if let Some(og) = attr_of(doc, r#"meta[property="og:title"]"#, "content").and_then(tidy) {
        return Some(og);
    }
    match (first("title"), first("h1")) {
        (Some(title), Some(h1)) if title.contains(&h1) => Some(h1),
        (title, h1) => title.or(h1),
    }
}

/// Meta tags that carry the publication time, most specific first.
const DATE_META: &[(&str, &str)] = &[
    (r#"meta[property="article:published_time"]"#, "content"),
    (r#"meta[name="article:published_time"]"#, "content"),
    (r#"meta[property="og:published_time"]"#, "content"),
    (r#"meta[property="og:article:published_time"]"#, "content"),
    (r#"meta[itemprop="datePublished"]"#, "content"),
    (r#"[itemprop="datePublished"][datetime]"#, "datetime"),
    (r#"meta[name="pubdate"]"#, "content"),
    (r#"meta[name="publishdate"]"#, "content"),
    (r#"meta[name="publish-date"]"#, "content"),
    (r#"meta[name="date"]"#, "content"),
    (r#"meta[name="DC.date.issued"]"#, "content"),
    (r#"meta[name="dc.date"]"#, "content"),
    (r#"meta[name="DC.date"]"#, "content"),
    (r#"time[pubdate][datetime]"#, "datetime"),
    (r#"time[datetime]"#, "datetime"),
];

/// Elements whose visible text is likely the date, when no markup states it.
const DATE_TEXT: &[&str] = &[
    r#"[itemprop="datePublished"]"#,
    "time",
    r#"[class*="date"]"#,
    r#"[class*="time"]"#,
    r#"[class*="tanggal"]"#,
    r#"[class*="meta"]"#,
];

fn published(doc: &Html, zone: Tz, now: DateTime<Utc>) -> Option<(ParsedDate, String)> {
    let read = |raw: String| parse_date_at(&raw, zone, now).map(|d| (d, raw));
    DATE_META
        .iter()
        .find_map(|(css, attr)| attr_of(doc, css, attr).and_then(read))
        .or_else(|| {
            DATE_TEXT.iter().find_map(|css| {
                let selector = selector(css)?;
                doc.select(&selector)
                    .map(text_of)
                    .filter(|t| !t.is_empty() && t.chars().count() <= 80)
                    .find_map(read)
            })
        })
}

fn author(doc: &Html) -> Option<String> {
    let plausible = |a: String| {
        let a = collapse_whitespace(a.trim_start_matches("By ").trim_start_matches("Oleh "));
        let looks_like_url = a.starts_with("http://") || a.starts_with("https://");
        (!a.is_empty() && !looks_like_url && a.chars().count() <= 100).then_some(a)
    };
    attr_of(doc, r#"meta[name="author"]"#, "content")
        .and_then(plausible)
        .or_else(|| {
            attr_of(doc, r#"meta[property="article:author"]"#, "content").and_then(plausible)
        })
        .or_else(|| {
            [
                r#"[itemprop="author"] [itemprop="name"]"#,
                r#"[itemprop="author"]"#,
                r#"[rel="author"]"#,
                r#"[class*="byline"]"#,
                r#"[class*="author"]"#,
            ]
            .iter()
            .find_map(|css| {
                let selector = selector(css)?;
                doc.select(&selector).map(text_of).find_map(plausible)
            })
        })
}

fn language(doc: &Html) -> Option<String> {
    attr_of(doc, "html[lang]", "lang")
        .or_else(|| attr_of(doc, "html[xml\\:lang]", "xml:lang"))
        .or_else(|| attr_of(doc, r#"meta[http-equiv="content-language" i]"#, "content"))
        .or_else(|| attr_of(doc, r#"meta[property="og:locale"]"#, "content"))
        .and_then(|tag| primary_language(&tag))
}

fn canonical(doc: &Html, url: Option<&str>) -> Option<String> {
    let href = attr_of(doc, r#"link[rel="canonical"]"#, "href")?;
    resolve(url, &href).and_then(|u| canonical_url(&u))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;
    use crate::parse::test_support;

    const PAGE: &str = r#"<!doctype html>
<html lang="id-ID"><head>
<title>Ignored for og:title | KBRI Tokyo</title>
<meta property="og:title" content="KBRI Tokyo Gelar Pameran Batik">
<meta property="article:published_time" content="2025-01-20T10:00:00+09:00">
<meta name="author" content="Siti Rahma">
<link rel="canonical" href="/berita/pameran-batik?utm_source=x">
</head><body>
<nav><ul><li><a href="/">Beranda</a></li><li><a href="/berita">Berita</a></li>
<li><a href="/kontak">Kontak</a></li></ul></nav>
<div class="sidebar"><h3>Berita Terpopuler</h3><ul><li><a href="/a">Lainnya satu</a></li>
<li><a href="/b">Lainnya dua</a></li></ul></div>
<article>
<h1>KBRI Tokyo Gelar Pameran Batik</h1>
<p>Kedutaan Besar Republik Indonesia di Tokyo menggelar pameran batik selama tiga hari di
gedung kedutaan, menampilkan karya perajin dari Yogyakarta, Solo dan Pekalongan.</p>
<p>Duta Besar menyampaikan bahwa pameran ini bertujuan memperkenalkan warisan budaya
Indonesia kepada masyarakat Jepang dan memperkuat hubungan kedua negara.</p>
<p>Ribuan pengunjung hadir setiap hari, dan banyak di antaranya mencoba membatik sendiri
dengan bimbingan para perajin yang didatangkan khusus untuk acara tersebut.</p>
</article>
<footer><p>Hak Cipta 2025 Kementerian Luar Negeri. Seluruh hak dilindungi.</p></footer>
</body></html>"#;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-02-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn extracts_text_and_metadata_without_boilerplate() {
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let a = extract_at(PAGE, Some("https://kemlu.go.id/tokyo/x"), tokyo, now()).unwrap();
        assert_eq!(a.title.as_deref(), Some("KBRI Tokyo Gelar Pameran Batik"));
        assert!(a.text.contains("menggelar pameran batik"), "{}", a.text);
        assert!(a.text.contains("\n\n"), "paragraphs: {}", a.text);
        assert!(a.text.contains("mencoba membatik"), "{}", a.text);
        for boilerplate in ["Beranda", "Berita Terpopuler", "Hak Cipta"] {
            assert!(!a.text.contains(boilerplate), "{boilerplate} in {}", a.text);
        }
        let published = a.published.unwrap();
        assert_eq!(published.at.to_rfc3339(), "2025-01-20T01:00:00+00:00");
        assert_eq!(published.basis, TimeBasis::Stated);
        assert_eq!(a.author.as_deref(), Some("Siti Rahma"));
        assert_eq!(a.language.as_deref(), Some("id"));
        assert_eq!(
            a.canonical_url.as_deref(),
            Some("https://kemlu.go.id/berita/pameran-batik")
        );
    }

    #[test]
    fn visible_date_and_byline_when_no_meta_says() {
        let page = PAGE
            .replace(
                r#"<meta property="article:published_time" content="2025-01-20T10:00:00+09:00">"#,
                "",
            )
            .replace(r#"<meta name="author" content="Siti Rahma">"#, "")
            .replace(
                "<h1>KBRI",
                r#"<span class="post-date">Senin, 20 Januari 2025 10:00 WIB</span>
                   <span class="byline">Oleh Budi Santoso</span><h1>KBRI"#,
            )
            .replace(r#"lang="id-ID""#, "");
        let a = extract_at(&page, None, chrono_tz::UTC, now()).unwrap();
        assert_eq!(
            a.published.unwrap().at.to_rfc3339(),
            "2025-01-20T03:00:00+00:00"
        );
        assert_eq!(a.author.as_deref(), Some("Budi Santoso"));
        assert_eq!(a.language, None);
        assert_eq!(a.canonical_url, None, "a relative link without a base");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in ["", "   ", "<html><body></body></html>", "<p>"] {
            assert!(extract(input, None).is_err(), "{input:?}");
        }
        // Text that merely looks like markup is text: any answer will do, but no panic.
        let _ = extract("<<<>>>", Some("https://example.org/"));
        let _ = extract("\u{0}\u{1}<p>\u{fffd}", None);
        let deep = "<div>".repeat(500) + "text";
        let _ = extract(&deep, Some("not a url"));
    }

    #[test]
    fn an_article_page_is_one_item() {
        let meta = test_support::meta(SourceKind::HtmlList, "tokyo", "https://kemlu.go.id/tokyo/x");
        let input = ParseInput {
            body: PAGE.as_bytes(),
            meta: &meta,
            raw_key: "raw/page.html",
            time_zone: "Asia/Tokyo",
            source_language: None,
        };
        let items = parse(&input, "Asia/Tokyo".parse().unwrap()).unwrap();
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.title, "KBRI Tokyo Gelar Pameran Batik");
        assert_eq!(
            item.url.as_deref(),
            Some("https://kemlu.go.id/berita/pameran-batik")
        );
        assert_eq!(item.language.as_deref(), Some("id"));
        assert_eq!(item.authors, vec!["Siti Rahma".to_owned()]);
        assert_eq!(item.time_basis, TimeBasis::Stated);
        assert!(item.body.as_deref().unwrap().contains("Duta Besar"));
    }
}
