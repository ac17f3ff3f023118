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
//! - language: `<html lang>`, `content-language`, `og:locale`; else None (the item's
//!   language is then read from the text, with this as the prior: [`super::language`]);
//! - canonical URL: `<link rel=canonical>` resolved against the page URL.
//!
//! [`extract`] is total: the third-party extractor runs under `catch_unwind`, and a page
//! it gives nothing for is an error value.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html, Node, Selector};

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
    extract_with(html, url, zone, now, &ExtractOptions::default())
}

/// [`extract_at`] with the limits and text rules spelled out (the quality test turns rules
/// off one at a time to measure each).
pub fn extract_with(
    html: &str,
    url: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
    options: &ExtractOptions,
) -> Result<Article, ParseError> {
    let raw_key = url.unwrap_or("(article)");
    let refuse = |reason: String| ParseError::NotAnArticle {
        raw_key: raw_key.to_owned(),
        reason,
    };
    if html.len() > options.max_bytes {
        return Err(refuse(format!(
            "page is {} bytes, above the {} byte limit",
            html.len(),
            options.max_bytes
        )));
    }
    let depth = nesting_depth(html);
    if depth > options.max_depth {
        return Err(refuse(format!(
            "elements nest {depth} deep, above the limit of {}",
            options.max_depth
        )));
    }
    let (main, page) =
        main_text_bounded(html, url, zone, now, options).map_err(|reason| match reason {
            Failure::Panicked(message) => ParseError::Panicked {
                raw_key: raw_key.to_owned(),
                parser: "article",
                message,
            },
            Failure::Nothing(reason) => refuse(reason),
        })?;
    let (published, published_raw) = match page.published {
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
        title: page.title.or(main.title),
        text: main.text,
        published,
        published_raw,
        author: page.author.or(main.author),
        language: page.language,
        canonical_url: page.canonical_url,
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
    super::language::assign(&mut item, input.source_language);
    Ok(vec![item])
}

/// What the page's own markup says (read before the boilerplate is removed).
struct PageMeta {
    title: Option<String>,
    published: Option<(ParsedDate, String)>,
    author: Option<String>,
    language: Option<String>,
    canonical_url: Option<String>,
}

impl PageMeta {
    fn read(doc: &Html, url: Option<&str>, zone: Tz, now: DateTime<Utc>) -> Self {
        PageMeta {
            title: title(doc),
            published: published(doc, zone, now),
            author: author(doc),
            language: language(doc),
            canonical_url: canonical(doc, url),
        }
    }
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

/// Limits on what [`extract_with`] takes on, and the rules it applies around the
/// extractor. The default is what Pantau runs.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Larger pages are refused: an article page is rarely over 2 MB.
    pub max_bytes: usize,
    /// Pages whose elements nest deeper are refused: real pages stay under ~60 levels, and
    /// the tree walks (ours and the extractor's) must not run out of stack.
    pub max_depth: usize,
    /// Time the extraction may take; past it the page is refused (the worker thread is
    /// left to finish on its own, its result dropped). Generous, as unoptimized test builds
    /// are some 20 times slower than release ones.
    pub time_limit: Duration,
    pub rules: Rules,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 1000,
            time_limit: Duration::from_secs(30),
            rules: Rules::default(),
        }
    }
}

/// The boilerplate rules around rs-trafilatura, each measured in docs/extraction.md. All
/// but `short_tail` on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Before extraction: remove `aside`/`footer`/`nav` and blocks whose class or id names
    /// boilerplate (`related`, `comments`, `share`, ...).
    pub boilerplate_blocks: bool,
    /// Before extraction: remove lists and blocks that are 80% link text (menus).
    pub link_lists: bool,
    /// After extraction: drop short blocks of the extracted HTML that are mostly link text
    /// ("Read more: ...", teaser lists), trafilatura's link-density test.
    pub link_dense_blocks: bool,
    /// After extraction: drop lines that are only a date or a time (post headers, comment
    /// stamps).
    pub date_only_lines: bool,
    /// After extraction: keep the first of repeated short lines.
    pub repeated_lines: bool,
    /// After extraction: cut the text at a short line that opens a comment section.
    pub comment_tail: bool,
    /// After extraction: with a box of links, drop the short line that labels it.
    pub link_box_labels: bool,
    /// After extraction: drop image captions and credits (`figcaption`).
    pub captions: bool,
    /// After extraction: drop short non-sentence lines after the last sentence (off).
    pub short_tail: bool,
    /// Before extraction: also remove blocks whose class or id says `author` or `bio`.
    pub author_boxes: bool,
    /// After extraction: drop a line that is only "read more" ("weiterlesen", "baca
    /// selengkapnya"): a link out, and the label above it with it.
    pub read_more_lines: bool,
    /// With `read_more_lines`: also drop the short paragraph just above a "read more",
    /// which is the teaser it continues.
    pub read_more_teasers: bool,
    /// After extraction: drop short counter lines ("Aufrufe: 1120 |", "Views: 345").
    pub counter_lines: bool,
    /// After extraction: drop a line that is only a page-furniture label ("Tags",
    /// "Schlagworte", "Share", "Bagikan"), whose links the pre-cleaning removed.
    pub label_lines: bool,
    /// After extraction: drop a "see also" label line ("Auch interessant:", "Baca juga:",
    /// "Related"); among the last three lines, cut the text there (what follows is the
    /// teaser it announces).
    pub related_tail: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            boilerplate_blocks: true,
            link_lists: true,
            link_dense_blocks: true,
            date_only_lines: true,
            repeated_lines: true,
            comment_tail: true,
            link_box_labels: true,
            captions: true,
            // Measured and left off: it cost as many found segments (signatures like
            // "x Franzi") as unwanted labels it removed.
            short_tail: false,
            author_boxes: true,
            read_more_lines: true,
            read_more_teasers: true,
            counter_lines: true,
            label_lines: true,
            related_tail: true,
        }
    }
}

/// Stack for the extraction thread: the extractor walks the tree recursively, and the
/// depth limit keeps the walk well within this.
const EXTRACTION_STACK: usize = 16 * 1024 * 1024;

/// [`main_text`] on a thread of its own, so a slow page costs at most the time limit and a
/// deep one cannot overflow the caller's stack.
fn main_text_bounded(
    html: &str,
    url: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
    options: &ExtractOptions,
) -> Result<(MainText, PageMeta), Failure> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let (html, url, rules) = (html.to_owned(), url.map(str::to_owned), options.rules);
    let spawned = std::thread::Builder::new()
        .name("article-extract".into())
        .stack_size(EXTRACTION_STACK)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                main_text(&html, url.as_deref(), zone, now, rules)
            }))
            .unwrap_or_else(|payload| {
                Err(Failure::Panicked(
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".into()),
                ))
            });
            // The receiver is gone only when the caller stopped waiting.
            let _ = sender.send(result);
        });
    if let Err(e) = spawned {
        return Err(Failure::Nothing(format!("no thread for extraction: {e}")));
    }
    match receiver.recv_timeout(options.time_limit) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Failure::Nothing(format!(
            "extraction took longer than {:?}",
            options.time_limit
        ))),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Failure::Panicked(
            "extraction thread ended without a result".into(),
        )),
    }
}

/// The page parsed once: its metadata read, then its boilerplate blocks removed and the rest
/// given to the extractor, whose text the line rules then clean.
fn main_text(
    html: &str,
    url: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
    rules: Rules,
) -> Result<(MainText, PageMeta), Failure> {
    let mut doc = Html::parse_document(html);
    let page = PageMeta::read(&doc, url, zone, now);
    let cleaned = without_boilerplate_blocks(&mut doc, rules);
    let html = cleaned.as_deref().unwrap_or(html);
    let options = rs_trafilatura::Options {
        url: url.map(str::to_owned),
        ..Default::default()
    };
    let result = rs_trafilatura::extract_with_options(html, &options)
        .map_err(|e| Failure::Nothing(e.to_string()))?;
    let blocks = match &result.content_html {
        Some(content) => blocks(content, rules),
        None => Blocks::default(),
    };
    let text = paragraphs(&result.content_text, rules, &blocks);
    if text.is_empty() {
        return Err(Failure::Nothing("no main text found".into()));
    }
    let metadata = result.metadata;
    let main = MainText {
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
    };
    Ok((main, page))
}

/// How deep elements nest in `html`, counted on the raw text (before any parsing, which
/// is what must be protected): start tags minus end tags, leaving out void elements and
/// those whose end tag may be omitted (`p`, `li`, `td`, ...), which the parser closes
/// by itself.
pub(super) fn nesting_depth(html: &str) -> usize {
    const UNCOUNTED: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param", "keygen", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td",
        "th", "tbody", "thead", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "html", "head",
        "body", "!doctype",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[at..]) {
        at += offset + 1;
        if bytes[at..].starts_with(b"!--") {
            match find_ascii_case_insensitive(&bytes[at..], b"-->") {
                Some(end) => at += end + 3,
                None => break,
            }
            continue;
        }
        let closing = bytes.get(at) == Some(&b'/');
        let name_start = if closing { at + 1 } else { at };
        let name_len = bytes[name_start.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'!')
            .count();
        // A tag name starts with a letter (`a<3` is text).
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() && bytes[name_start] != b'!' {
            continue;
        }
        // Compared in any case, without a lowered copy of every tag's name.
        let name = &bytes[name_start..name_start + name_len];
        let is = |listed: &str| name.eq_ignore_ascii_case(listed.as_bytes());
        if !closing && (is("script") || is("style")) {
            // Their text is not markup (`a<b` in a script): skip to the end tag.
            let end_tag: &[u8] = if is("script") {
                b"</script"
            } else {
                b"</style"
            };
            match find_ascii_case_insensitive(&bytes[at..], end_tag) {
                Some(offset) => at += offset + end_tag.len(),
                None => break,
            }
            continue;
        }
        if name.starts_with(b"!--") || UNCOUNTED.iter().any(|listed| is(listed)) {
            continue;
        }
        // `<br/>`-style self-closing tags do not open anything.
        let tag_end = memchr::memchr(b'>', &bytes[at..]);
        let self_closing = tag_end.is_some_and(|end| end > 0 && bytes[at + end - 1] == b'/');
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
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

/// Words in a class or id that mark an author box (a bio under the article).
const AUTHOR_BOX_WORDS: &[&str] = &["author", "authors", "bio", "biography"];

/// Elements that are boilerplate by their tag.
const BOILERPLATE_TAGS: &[&str] = &["aside", "footer", "nav"];

/// The page with boilerplate blocks (by tag, or by class/id words) removed, when there are
/// any. A block holding half the page's text or more is kept whatever its name says: a
/// wrapper called `has-sidebar` is the page, not a sidebar.
fn without_boilerplate_blocks(doc: &mut Html, rules: Rules) -> Option<String> {
    if !rules.boilerplate_blocks && !rules.link_lists {
        return None;
    }
    let lengths = text_lengths(doc.root_element());
    let total = lengths(doc.root_element()).text;
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
            .any(|word| {
                let is = |listed: &&str| listed.eq_ignore_ascii_case(word);
                BOILERPLATE_WORDS.iter().any(is)
                    || (rules.author_boxes && AUTHOR_BOX_WORDS.iter().any(is))
            });
        let boilerplate =
            rules.boilerplate_blocks && (named || BOILERPLATE_TAGS.contains(&value.name()));
        if (boilerplate || (rules.link_lists && is_link_list(element, lengths(element))))
            && !doomed
                .iter()
                .any(|&d| node.ancestors().any(|a| a.id() == d))
            && lengths(element).text * 2 < total
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
fn is_link_list(element: ElementRef, lengths: TextLengths) -> bool {
    if !matches!(element.value().name(), "ul" | "ol" | "div" | "section") {
        return false;
    }
    let TextLengths { text: all, linked } = lengths;
    all != 0 && linked * 10 >= all * 8
}

/// The text below one node: bytes of visible text (each text node trimmed; the text right
/// inside a script, style or noscript is not visible), and of that in links (`a` elements,
/// a link inside a link counted in both).
#[derive(Clone, Copy, Default)]
struct TextLengths {
    text: usize,
    linked: usize,
}

/// [`TextLengths`] of every element under `root` (zero for any other), counted in one walk
/// from the leaves up: judging each block by walking its own subtree again cost a walk per
/// level of nesting. The lookup holds node ids only, not the tree.
fn text_lengths(root: ElementRef<'_>) -> impl Fn(ElementRef) -> TextLengths + use<> {
    let nodes: Vec<_> = root.descendants().collect();
    let mut lengths = HashMap::<_, TextLengths>::with_capacity(nodes.len());
    // In reverse document order every node comes after all of its descendants.
    for node in nodes.iter().rev() {
        let mut own = TextLengths::default();
        match node.value() {
            Node::Text(text) => {
                let visible = node
                    .parent()
                    .and_then(|p| p.value().as_element())
                    .is_none_or(|e| !matches!(e.name(), "script" | "style" | "noscript"));
                if visible {
                    own.text = text.trim().len();
                }
            }
            Node::Element(element) => {
                for child in node.children() {
                    if let Some(child) = lengths.get(&child.id()) {
                        own.text += child.text;
                        own.linked += child.linked;
                    }
                }
                if element.name() == "a" {
                    own.linked += own.text;
                }
            }
            _ => {}
        }
        lengths.insert(node.id(), own);
    }
    move |element: ElementRef| lengths.get(&element.id()).copied().unwrap_or_default()
}

fn find_ascii_case_insensitive(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// Lines of text → paragraphs with collapsed whitespace, separated by blank lines, without
/// the lines the text rules drop.
fn paragraphs(text: &str, rules: Rules, dropped: &Blocks) -> String {
    let (link_dense, headings) = (&dropped.dropped, &dropped.headings);
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    let mut kept_chars = 0;
    // Where "see also" labels stood (as positions in `kept`).
    let mut related_at = Vec::new();
    for line in text.lines().map(collapse_whitespace) {
        if line.is_empty() {
            continue;
        }
        if rules.comment_tail && opens_comments(&line) {
            if kept_chars >= COMMENTS_AFTER_CHARS {
                break;
            }
            continue;
        }
        let read_more = rules.read_more_lines && is_read_more(&line);
        if read_more
            && rules.read_more_teasers
            && kept.len() > 1
            && kept
                .last()
                .is_some_and(|teaser: &String| teaser.chars().count() < READ_MORE_TEASER_CHARS)
            && let Some(teaser) = kept.pop()
        {
            kept_chars -= teaser.len();
        }
        if read_more || link_dense.contains(&line) || within_dropped(&line, link_dense) {
            // A "see also" label right above a box the rules dropped labelled that box:
            // what comes after the box is not its teasers.
            if related_at.last() == Some(&kept.len()) {
                related_at.pop();
            }
            // The short line above a box of links is its label ("Read more", "Related").
            if rules.link_box_labels
                && kept.last().is_some_and(|previous: &String| {
                    is_label(previous) && (previous.ends_with(':') || headings.contains(previous))
                })
                && let Some(label) = kept.pop()
            {
                kept_chars -= label.len();
            }
            continue;
        }
        if rules.date_only_lines && is_date_only(&line) {
            continue;
        }
        if rules.counter_lines && is_counter(&line) {
            continue;
        }
        if rules.label_lines && is_furniture_label(&line) {
            continue;
        }
        if rules.related_tail && is_related_label(&line) {
            related_at.push(kept.len());
            continue;
        }
        // Short repeated lines are teasers, labels and counters; a repeated long paragraph
        // is rare enough to keep.
        if rules.repeated_lines
            && line.chars().count() < REPEAT_LINE_CHARS
            && !seen.insert(line.clone())
        {
            continue;
        }
        kept_chars += line.len();
        kept.push(line);
    }
    // A "see also" label among the last lines announces the teasers after it.
    if let Some(&at) = related_at.last()
        && at > 0
        && kept.len() - at.min(kept.len()) <= RELATED_TAIL_LINES
    {
        kept.truncate(at);
    }
    // A label left last ("Related:") lost its box to the pre-cleaning.
    if rules.link_box_labels
        && kept.len() > 1
        && kept.last().is_some_and(|l| is_label(l) && l.ends_with(':'))
    {
        kept.pop();
    }
    if rules.short_tail {
        // Lines after the article's last sentence are labels whose box is gone ("Tags",
        // "Weiterführender Link", "mehr anzeigen").
        while kept.last().is_some_and(|last| is_label(last)) && kept.len() > 1 {
            kept.pop();
        }
    }
    kept.join("\n\n")
}

const REPEAT_LINE_CHARS: usize = 120;

/// A paragraph above a "read more" shorter than this is its teaser.
const READ_MORE_TEASER_CHARS: usize = 200;

/// What a "read more" link says, lowercased, in the languages of Pantau's sources and of
/// the evaluation pages.
const READ_MORE: &[&str] = &[
    "read more",
    "continue reading",
    "more",
    "show more",
    "load more",
    "weiterlesen",
    "mehr lesen",
    "mehr anzeigen",
    "mehr",
    "lade weitere inhalte",
    "lire la suite",
    "lire plus",
    "en savoir plus",
    "selengkapnya",
    "baca selengkapnya",
    "baca lebih lanjut",
    "lanjut baca",
    "leer más",
    "続きを読む",
];

/// A line that is only a "read more" link's text (`Weiterlesen »`, `Read more...`).
fn is_read_more(line: &str) -> bool {
    let bare = line
        .trim_matches(|c: char| !c.is_alphanumeric() && !c.is_whitespace() || c.is_whitespace())
        .to_lowercase();
    READ_MORE.contains(&bare.as_str())
}

/// Lines after a "see also" label that make it the text's tail.
const RELATED_TAIL_LINES: usize = 2;

/// "See also" labels, lowercased.
const RELATED_LABELS: &[&str] = &[
    "related",
    "related articles",
    "related posts",
    "related stories",
    "see also",
    "read also",
    "also read",
    "more on this topic",
    "you may also like",
    "auch interessant",
    "das könnte sie auch interessieren",
    "das könnte dich auch interessieren",
    "lesen sie auch",
    "mehr zum thema",
    "weitere artikel",
    "ähnliche artikel",
    "à lire aussi",
    "lire aussi",
    "voir aussi",
    "sur le même sujet",
    "baca juga",
    "lihat juga",
    "berita terkait",
    "artikel terkait",
    "berita lainnya",
];

/// A line that is only a "see also" label (`Auch interessant:`, `Baca juga`).
fn is_related_label(line: &str) -> bool {
    let bare = line.trim().trim_end_matches(':').trim().to_lowercase();
    RELATED_LABELS.contains(&bare.as_str())
}

/// Labels of page furniture (tag lists, share buttons, ratings, print links), lowercased.
const FURNITURE_LABELS: &[&str] = &[
    "tags",
    "tag",
    "topics",
    "categories",
    "category",
    "share",
    "share this",
    "share this article",
    "print",
    "schlagworte",
    "schlagwörter",
    "stichworte",
    "kategorien",
    "kategorie",
    "teilen",
    "artikel teilen",
    "drucken",
    "bewertung",
    "mots-clés",
    "partager",
    "imprimer",
    "bagikan",
    "topik",
    "kategori",
    "label",
    "cetak",
];

/// A line that is only a furniture label (`Tags:`, `Schlagworte`, `Bagikan`).
fn is_furniture_label(line: &str) -> bool {
    let bare = line.trim().trim_end_matches(':').trim().to_lowercase();
    FURNITURE_LABELS.contains(&bare.as_str())
}

/// A short line that counts something: `Aufrufe: 1120 |`, `Views: 345`, `Hits: 12 | Rating:
/// 4.5`. Each `|`-separated part is a label of letters, a colon, and a number.
fn is_counter(line: &str) -> bool {
    if line.chars().count() > 60 {
        return false;
    }
    let parts: Vec<&str> = line
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    !parts.is_empty()
        && parts.iter().all(|part| {
            let Some((label, count)) = part.split_once(':') else {
                return false;
            };
            let (label, count) = (label.trim(), count.trim());
            !label.is_empty()
                && label.chars().count() <= 25
                && label.chars().all(|c| c.is_alphabetic() || c == ' ')
                && (count.is_empty() && parts.len() > 1
                    || !count.is_empty()
                        && count
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == '.' || c == ','))
        })
}

/// A line of a dropped block that the extractor split (at `<br>`): long enough not to be
/// found in one by chance.
fn within_dropped(line: &str, dropped: &HashSet<String>) -> bool {
    line.chars().count() >= 20 && dropped.iter().any(|block| block.contains(line))
}

/// A line that can label what follows it: short, and not a sentence.
fn is_label(line: &str) -> bool {
    line.chars().count() <= 60 && !line.ends_with(['.', '!', '?', '"', '»', '“'])
}

/// A comment heading ends the article only after this much text: near the top, "View
/// comments" is a link in the post's header.
const COMMENTS_AFTER_CHARS: usize = 250;

/// Blocks of the extracted HTML below this many characters are judged by their links.
const LINK_DENSE_MAX_CHARS: usize = 200;

/// The texts (whitespace collapsed) of the blocks of `content_html` the rules drop: the
/// innermost blocks that are short and mostly link text ("Read more: ...", teaser lists
/// the extractor kept), and image captions.
fn blocks(content_html: &str, rules: Rules) -> Blocks {
    const BLOCKS: &[&str] = &[
        "p",
        "li",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "td",
        "th",
        "dd",
        "dt",
        "blockquote",
        "figcaption",
        "section",
    ];
    let fragment = Html::parse_fragment(content_html);
    let mut dense = HashSet::new();
    let headings = selector("h1, h2, h3, h4, h5, h6")
        .map(|css| fragment.select(&css).map(text_of).collect())
        .unwrap_or_default();
    if let Some(captions) = selector("figcaption").filter(|_| rules.captions) {
        dense.extend(fragment.select(&captions).map(text_of));
    }
    if !rules.link_dense_blocks {
        return Blocks {
            dropped: dense,
            headings,
        };
    }
    for element in fragment
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let name = element.value().name();
        // A top heading that links to its own article is the article's title.
        if !BLOCKS.contains(&name) || name == "h1" {
            continue;
        }
        let has_inner_block = element
            .descendants()
            .skip(1)
            .filter_map(ElementRef::wrap)
            .any(|e| BLOCKS.contains(&e.value().name()));
        if has_inner_block {
            continue;
        }
        let text = text_of(element);
        let all = text.chars().count();
        if all == 0 {
            continue;
        }
        let linked: usize = element
            .descendants()
            .filter_map(ElementRef::wrap)
            // Same-page anchors (`#section`) are a table of contents, not a way out. (The
            // extractor's HTML may drop `href`s: a bare `<a>` counts as a link.)
            .filter(|e| {
                e.value().name() == "a"
                    && !e
                        .value()
                        .attr("href")
                        .is_some_and(|href| href.starts_with('#'))
            })
            .map(text_of)
            // A written-out address (`info@...`, `www....`) is content, not navigation.
            .filter(|t| !(t.contains('@') || t.starts_with("http") || t.starts_with("www.")))
            .map(|t| t.chars().count())
            .sum();
        let short = all < LINK_DENSE_MAX_CHARS;
        if (short && linked * 10 >= all * LINK_DENSE_TENTHS) || linked * 10 >= all * 9 {
            dense.insert(text);
        }
    }
    Blocks {
        dropped: dense,
        headings,
    }
}

/// What the extracted HTML says about the lines of the extracted text (each set holds
/// block texts, whitespace collapsed).
#[derive(Default)]
struct Blocks {
    /// Blocks the rules drop: link-dense ones and captions.
    dropped: HashSet<String>,
    /// Headings, which may label a box of links.
    headings: HashSet<String>,
}

/// Share of link text (in tenths) that makes a short block boilerplate.
const LINK_DENSE_TENTHS: usize = 8;

/// Month and weekday names (and their short forms) in the languages Pantau's sources and
/// the evaluation pages use; with digits, they make up a line that is only a date.
const DATE_WORDS: &[&str] = &[
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "januar",
    "februar",
    "märz",
    "mai",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "janvier",
    "février",
    "mars",
    "avril",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "januari",
    "februari",
    "maret",
    "agustus",
    "okt",
    "des",
    "desember",
    "mei",
    "agu",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "senin",
    "selasa",
    "rabu",
    "kamis",
    "jumat",
    "sabtu",
    "minggu",
    "am",
    "pm",
    "uhr",
    "wib",
    "wita",
    "wit",
    "utc",
    "gmt",
    "um",
    "at",
    "on",
    "den",
    "le",
];

/// A short line made only of numbers and date words: `19:49`, `3:59 PM`, `31. Mai`,
/// `23.10.2018`, `January 13`.
fn is_date_only(line: &str) -> bool {
    if line.chars().count() > 40 || !line.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    line.split(|c: char| c.is_whitespace() || ",.:/-|()".contains(c))
        .filter(|word| !word.is_empty())
        .all(|word| {
            word.chars().all(|c| c.is_ascii_digit())
                || DATE_WORDS.contains(&word.to_lowercase().as_str())
                || (word.len() <= 4
                    && word.chars().next().is_some_and(|c| c.is_ascii_digit())
                    && ["st", "nd", "rd", "th"].iter().any(|s| word.ends_with(s)))
        })
}

/// A short line that heads a comment section ("Comments", "3 Kommentare", "Leave a reply"):
/// what follows it is readers, not the article.
fn opens_comments(line: &str) -> bool {
    const COMMENT_WORDS: &[&str] = &[
        "comment",
        "comments",
        "kommentar",
        "kommentare",
        "commentaire",
        "commentaires",
        "komentar",
        "reply",
        "replies",
        "responses",
        "antworten",
    ];
    line.chars().count() <= 40
        && !line.ends_with('.')
        && line
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| COMMENT_WORDS.contains(&word.to_lowercase().as_str()))
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
        let _ = extract("<script>", None);
        let _ = extract("<div><script>a<b", None);
    }

    #[test]
    fn deeply_nested_pages_are_refused_before_parsing() {
        let closed = format!(
            "<html><body>{}<p>text</p>{}</body></html>",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        let unclosed = "<div>".repeat(100_000) + "text";
        for page in [closed, unclosed] {
            let started = std::time::Instant::now();
            let err = extract(&page, None).unwrap_err();
            assert!(err.to_string().contains("nest 100000 deep"), "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "refused at once"
            );
        }
    }

    #[test]
    fn nesting_within_the_limit_does_not_overflow_the_stack() {
        let depth = ExtractOptions::default().max_depth - 10;
        let page = format!(
            "<html><body>{}<article>{}</article>{}</body></html>",
            "<div>".repeat(depth),
            PAGE.split("<article>")
                .nth(1)
                .unwrap()
                .split("</article>")
                .next()
                .unwrap(),
            "</div>".repeat(depth)
        );
        assert_eq!(
            nesting_depth(&page),
            depth + 2,
            "the divs, <article> and <h1>"
        );
        // Any answer will do: the point is that the extractor's recursion fits its stack.
        match extract(&page, None) {
            Ok(a) => assert!(a.text.contains("Duta Besar"), "{}", a.text),
            Err(e) => assert!(matches!(e, ParseError::NotAnArticle { .. }), "{e}"),
        }
    }

    #[test]
    fn nesting_is_counted_on_elements_not_on_script_text_or_void_tags() {
        assert_eq!(
            nesting_depth("<div><p>a<p>b<br><img src=x><span/></div>"),
            1
        );
        assert_eq!(
            nesting_depth("<script>if (a<b && c<d) { x = '<div><div>' }</script><div></div>"),
            1
        );
        assert_eq!(
            nesting_depth("<!-- <div> --><section><div></div></section>"),
            2
        );
        assert_eq!(nesting_depth("a < b and c<3"), 0);
    }

    #[test]
    fn oversized_pages_and_slow_extractions_are_errors() {
        let options = ExtractOptions {
            max_bytes: 1000,
            ..ExtractOptions::default()
        };
        let err = extract_with(PAGE, None, chrono_tz::UTC, now(), &options).unwrap_err();
        assert!(err.to_string().contains("byte limit"), "{err}");
        let options = ExtractOptions {
            time_limit: Duration::ZERO,
            ..ExtractOptions::default()
        };
        let err = extract_with(PAGE, None, chrono_tz::UTC, now(), &options).unwrap_err();
        assert!(err.to_string().contains("took longer"), "{err}");
    }

    #[test]
    fn link_boxes_dates_and_comments_are_not_the_article() {
        let page = PAGE.replace(
            "</article>",
            r#"<p>Kontak: <a href="mailto:info@kbri.jp">info@kbri.jp</a></p>
            <p>Baca juga: <a href="/x">KBRI Tokyo gelar festival kuliner Indonesia terbesar di Jepang</a></p>
            <p><strong>Berita lainnya:</strong></p>
            <ul><li><a href="/y">Duta Besar bertemu menteri luar negeri Jepang</a></li></ul>
            <p>Lihat juga:</p><p>Festival kuliner Indonesia di Osaka</p>
            <p>20.01.2025</p>
            <h3>3 Komentar</h3><p>Mantap sekali acaranya, semoga diadakan lagi tahun depan.</p>
            </article>"#,
        );
        let a = extract(&page, None).unwrap();
        assert!(a.text.contains("mencoba membatik"), "{}", a.text);
        assert!(
            a.text.contains("info@kbri.jp"),
            "an address is content: {}",
            a.text
        );
        for boilerplate in [
            "festival kuliner",
            "menteri luar negeri",
            "Berita lainnya",
            // A teaser after a "see also" label at the end (its link went with the
            // pre-cleaning): cut with the label.
            "Lihat juga",
            "di Osaka",
            "20.01.2025",
            "Komentar",
            "Mantap",
        ] {
            assert!(!a.text.contains(boilerplate), "{boilerplate} in {}", a.text);
        }
    }

    #[test]
    fn line_rules_recognize_furniture_and_leave_prose() {
        for line in [
            "weiterlesen",
            "Read more »",
            "Baca selengkapnya...",
            "mehr anzeigen",
        ] {
            assert!(is_read_more(line), "{line}");
        }
        for line in [
            "Read more about the exhibition here.",
            "Weiterlesen lohnt sich",
        ] {
            assert!(!is_read_more(line), "{line}");
        }
        for line in ["Aufrufe: 1120 |", "Views: 345", "Hits: 12 | Rating: 4.5"] {
            assert!(is_counter(line), "{line}");
        }
        for line in [
            "Telefon: +81 3 3441 4201",
            "Jakarta: 12 orang",
            "Catatan:",
            "2024",
        ] {
            assert!(!is_counter(line), "{line}");
        }
        for line in ["Tags:", "Schlagworte", "Bagikan"] {
            assert!(is_furniture_label(line), "{line}");
        }
        assert!(!is_furniture_label("Tags of the exhibition"));
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
