//! Our own reader for plain RSS 2.0 and Atom 1.0: the fields Pantau keeps, read straight off
//! quick-xml's pull reader, for the common feed that needs nothing more.
//!
//! It reads exactly what feed-rs reads for those fields (same XML reader and configuration,
//! same text coalescing, entities, namespaces, link resolution, date calls in the same order),
//! without feed-rs's per-element copies (every name, attribute and base URL cloned into every
//! element). Media RSS is read as feed-rs scopes and orders it (see [`MediaScope`]), and
//! contacts are split into name and address with feed-rs's own pattern. At the first thing it
//! does not map the way feed-rs would — another format, a namespace it leaves to feed-rs
//! (iTunes, Podcast), a split at which feed-rs would panic, an encoding other than UTF-8, any
//! XML error — it returns [`NotHandled`] and the caller runs feed-rs as before. The differential test in `feed.rs` holds the two
//! readers to the same items.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use regex::Regex;
use url::Url;

use super::feed::{
    ContentFields, EntryFields, FeedFields, IMAGE_ENDINGS, LinkFields, PersonFields, TextFields,
};

/// Why the reader stopped: the document is left to feed-rs. The reason is for tests and
/// debugging (what the reader would need to learn next).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotHandled(pub &'static str);

type Read<T> = Result<T, NotHandled>;

/// The namespaces feed-rs tells apart (`feed_rs::xml::NS`), by URI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ns {
    Atom,
    Rss,
    Unknown,
    Content,
    DublinCore,
    MediaRss,
    Itunes,
    Podcast,
    CommentApi,
}

impl Ns {
    fn parse(uri: &str) -> Ns {
        match uri {
            "http://purl.org/rss/1.0/" => Ns::Rss,
            "http://www.w3.org/2005/Atom" => Ns::Atom,
            "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
            "http://purl.org/dc/elements/1.1/" => Ns::DublinCore,
            "http://search.yahoo.com/mrss/" => Ns::MediaRss,
            "http://www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
            "https://podcastindex.org/namespace/1.0" => Ns::Podcast,
            "http://wellformedweb.org/CommentAPI/" => Ns::CommentApi,
            _ => Ns::Unknown,
        }
    }
}

/// The feed in `body` (already through `readable_body`), or [`NotHandled`]. `base` is the
/// document's address (feed-rs's `base_uri`); `timestamp` reads a date, and is called for
/// the same dates, in the same order, as feed-rs calls its timestamp parser.
pub(crate) fn read(
    body: &[u8],
    base: &str,
    timestamp: &mut dyn FnMut(&str) -> Option<DateTime<Utc>>,
) -> Read<FeedFields> {
    // feed-rs decodes by the declaration; a UTF-8 document is all this reader takes.
    let text = std::str::from_utf8(body).map_err(|_| NotHandled("not UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // feed-rs reads XML only when a `<` comes before any `{` (else JSON or nothing).
    match text.bytes().find(|b| *b == b'<' || *b == b'{') {
        Some(b'<') => {}
        _ => return Err(NotHandled("not XML")),
    }
    let base = Url::parse(base).map_err(|_| NotHandled("base URL"))?;
    let mut reader = Reader::new(text, base, timestamp);
    let root = reader.root()?;
    let name = local_name(root.name().into_inner());
    match name {
        "feed" => {
            reader.default_ns = Ns::Atom;
            reader.atom_feed(&root)
        }
        // RSS 0.91 and 0.92 are read by feed-rs as 2.0 too.
        "rss"
            if matches!(
                attribute(&root, "version").as_deref(),
                Some("2.0" | "" | "0.91" | "0.92")
            ) =>
        {
            reader.default_ns = Ns::Rss;
            reader.rss()
        }
        _ => Err(NotHandled("not RSS 2.0 or Atom")),
    }
}

/// One event as feed-rs sees it: text, CDATA and references between two tags are one text.
enum Item<'i> {
    Start(BytesStart<'i>, Option<Ns>),
    End,
    Text(String),
    Eof,
}

/// An element being read: its start tag and namespace.
struct Element<'i> {
    start: BytesStart<'i>,
    ns: Ns,
}

impl Element<'_> {
    fn local(&self) -> &str {
        local_name(self.start.name().into_inner())
    }
}

struct Reader<'i, 't> {
    xml: NsReader<&'i [u8]>,
    /// The tag that ended a text, to be read next.
    pending: Option<Item<'i>>,
    /// An event looked at but not yet read.
    peeked: Option<Item<'i>>,
    default_ns: Ns,
    /// Depth of the element last started (1 for the root).
    depth: usize,
    /// The document's address, and the `xml:base` addresses in effect below it with the
    /// depth of the element that set each (feed-rs's base stack).
    base: Url,
    xml_bases: Vec<(usize, Url)>,
    timestamp: &'t mut dyn FnMut(&str) -> Option<DateTime<Utc>>,
}

impl<'i, 't> Reader<'i, 't> {
    fn new(
        text: &'i str,
        base: Url,
        timestamp: &'t mut dyn FnMut(&str) -> Option<DateTime<Utc>>,
    ) -> Self {
        let mut xml = NsReader::from_str(text);
        // As feed-rs configures it.
        let config = xml.config_mut();
        config.expand_empty_elements = true;
        config.trim_markup_names_in_closing_tags = true;
        config.trim_text(false);
        Reader {
            xml,
            pending: None,
            peeked: None,
            default_ns: Ns::Unknown,
            depth: 0,
            base,
            xml_bases: Vec::new(),
            timestamp,
        }
    }

    /// The next event, text coalesced the way feed-rs coalesces it.
    fn next(&mut self) -> Read<Item<'i>> {
        let item = match self.peeked.take() {
            Some(item) => item,
            None => self.read(true)?,
        };
        self.follow_base(&item)?;
        Ok(item)
    }

    /// The next tag (or the end), text passed over without being copied.
    fn next_tag(&mut self) -> Read<Item<'i>> {
        let item = match self.peeked.take() {
            Some(item) => item,
            None => self.read(false)?,
        };
        self.follow_base(&item)?;
        Ok(item)
    }

    /// The next event, left to be read.
    fn peek(&mut self) -> Read<&Item<'i>> {
        let item = match self.peeked.take() {
            Some(item) => item,
            None => self.read(true)?,
        };
        Ok(self.peeked.insert(item))
    }

    /// The base stack as feed-rs keeps it while it reads elements: an element's `xml:base`
    /// (absolute, or relative to the base above) holds until its end tag.
    fn follow_base(&mut self, item: &Item<'i>) -> Read<()> {
        match item {
            Item::Start(start, _) => {
                self.depth += 1;
                if start.contains("xml:base")
                    && let Some(xml_base) = attribute(start, "xml:base")
                {
                    match Url::parse(&xml_base) {
                        Ok(url) => self.xml_bases.push((self.depth, url)),
                        Err(url::ParseError::RelativeUrlWithoutBase) => {
                            if let Ok(url) = self.base().join(&xml_base) {
                                self.xml_bases.push((self.depth, url));
                            }
                        }
                        // feed-rs fails the document.
                        Err(_) => return Err(NotHandled("xml:base")),
                    }
                }
            }
            Item::End => {
                self.depth = self.depth.saturating_sub(1);
                while self
                    .xml_bases
                    .last()
                    .is_some_and(|(at, _)| *at > self.depth)
                {
                    self.xml_bases.pop();
                }
            }
            Item::Text(_) | Item::Eof => {}
        }
        Ok(())
    }

    /// The base of the element being read.
    fn base(&self) -> &Url {
        self.xml_bases.last().map_or(&self.base, |(_, url)| url)
    }

    fn read(&mut self, keep_text: bool) -> Read<Item<'i>> {
        if let Some(item) = self.pending.take() {
            return Ok(item);
        }
        let mut text: Option<String> = None;
        loop {
            let (resolved, event) = self
                .xml
                .read_resolved_event()
                .map_err(|_| NotHandled("XML error"))?;
            let tag = match event {
                Event::Start(start) => {
                    let ns = match resolved {
                        ResolveResult::Bound(ns) => Some(Ns::parse(ns.as_ref())),
                        ResolveResult::Unknown(_) | ResolveResult::Unbound => None,
                    };
                    Item::Start(start, ns)
                }
                Event::End(_) => Item::End,
                Event::Text(t) => {
                    if keep_text && !t.is_empty() {
                        text.get_or_insert_with(String::new).push_str(&t);
                    }
                    continue;
                }
                Event::CData(t) => {
                    if keep_text && !t.is_empty() {
                        text.get_or_insert_with(String::new).push_str(&t);
                    }
                    continue;
                }
                Event::GeneralRef(r) => {
                    // A bad character reference fails feed-rs's whole document.
                    let resolved = r
                        .resolve_char_ref()
                        .map_err(|_| NotHandled("character reference"))?;
                    if !keep_text {
                        continue;
                    }
                    let buffer = text.get_or_insert_with(String::new);
                    match resolved {
                        Some(ch) => buffer.push(ch),
                        None => {
                            let name: &str = &r;
                            match quick_xml::escape::resolve_predefined_entity(name) {
                                Some(resolved) => buffer.push_str(resolved),
                                // feed-rs keeps an unknown entity as written.
                                None => {
                                    buffer.push('&');
                                    buffer.push_str(name);
                                    buffer.push(';');
                                }
                            }
                        }
                    }
                    continue;
                }
                Event::Decl(decl) => {
                    // feed-rs would switch decoders on another encoding.
                    if let Some(encoding) = decl.encoding() {
                        let encoding = encoding.map_err(|_| NotHandled("declaration"))?;
                        if !encoding.eq_ignore_ascii_case("utf-8") {
                            return Err(NotHandled("another encoding"));
                        }
                    }
                    continue;
                }
                Event::Eof => match text.take() {
                    Some(text) => return Ok(Item::Text(text)),
                    None => return Ok(Item::Eof),
                },
                // Comments, processing instructions, the doctype: skipped, as feed-rs does.
                _ => continue,
            };
            return match text.take() {
                Some(text) => {
                    self.pending = Some(tag);
                    Ok(Item::Text(text))
                }
                None => Ok(tag),
            };
        }
    }

    /// The document's first element.
    fn root(&mut self) -> Read<BytesStart<'i>> {
        loop {
            match self.next_tag()? {
                Item::Start(start, _) => return Ok(start),
                Item::Text(_) => {}
                Item::End | Item::Eof => return Err(NotHandled("no root")),
            }
        }
    }

    /// The next child element of the element being read, or None at its end.
    fn child(&mut self) -> Read<Option<Element<'i>>> {
        loop {
            match self.next_tag()? {
                Item::Start(start, ns) => {
                    let ns = ns.unwrap_or(self.default_ns);
                    return Ok(Some(Element { start, ns }));
                }
                Item::Text(_) => {}
                Item::End => return Ok(None),
                Item::Eof => return Err(NotHandled("unclosed element")),
            }
        }
    }

    /// The rest of an element whose start was read: skipped to its end tag.
    fn finish(&mut self) -> Read<()> {
        let mut depth = 1usize;
        loop {
            match self.next_tag()? {
                Item::Start(..) => depth += 1,
                Item::End => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Item::Text(_) => {}
                Item::Eof => return Err(NotHandled("unclosed element")),
            }
        }
    }

    /// The text right after a start tag, if any (feed-rs's `child_as_text`).
    fn text(&mut self) -> Read<Option<String>> {
        if !matches!(self.peek()?, Item::Text(_)) {
            return Ok(None);
        }
        match self.next()? {
            Item::Text(text) => Ok(Some(text)),
            _ => Ok(None),
        }
    }

    /// A date element's text as the timestamp parser reads it (None without text).
    fn date(&mut self) -> Read<Option<DateTime<Utc>>> {
        Ok(self.text()?.and_then(|text| (self.timestamp)(&text)))
    }

    /// RSS 2.0: the first `channel` child of `rss`; nothing after it is read.
    fn rss(&mut self) -> Read<FeedFields> {
        while let Some(child) = self.child()? {
            if child.local() == "channel" {
                return self.rss_channel();
            }
            self.finish()?;
        }
        Err(NotHandled("no channel"))
    }

    fn rss_channel(&mut self) -> Read<FeedFields> {
        let mut feed = FeedFields::default();
        while let Some(child) = self.child()? {
            match (child.ns, child.local()) {
                (Ns::Rss, "language") => feed.language = self.text()?.map(|t| t.to_lowercase()),
                // Not kept, but split by feed-rs into name and address: a contact it would
                // panic on is left to it.
                (Ns::Rss, "managingEditor" | "webMaster") => {
                    if let Some(contact) = self.text()? {
                        person(&contact)?;
                    }
                }
                // Dates not kept, but read: the timestamp parser records what it sees.
                (Ns::Rss, "pubDate" | "lastBuildDate" | "updated") => {
                    self.date()?;
                }
                (Ns::Rss, "item") => {
                    let entry = self.rss_item()?;
                    feed.entries.push(entry);
                    // The item's end tag was read.
                    continue;
                }
                (Ns::Itunes | Ns::Podcast, _) => {
                    return Err(NotHandled("iTunes or Podcast channel element"));
                }
                _ => {}
            }
            self.finish()?;
        }
        Ok(feed)
    }

    /// One `<item>`, through its end tag.
    fn rss_item(&mut self) -> Read<EntryFields> {
        let mut entry = EntryFields::default();
        // Links with whether each is a `<comments>` link (those that repeat another are
        // dropped at the end, as feed-rs drops them).
        let mut links: Vec<(LinkFields, bool)> = Vec::new();
        let mut media = MediaScope::default();
        let mut enclosure_images = Vec::new();
        while let Some(child) = self.child()? {
            match (child.ns, child.local()) {
                (Ns::Rss, "title") => entry.title = self.text()?.map(TextFields::plain),
                (Ns::Rss, "link") => {
                    if let Some(text) = self.text()? {
                        links.push((self.link(&text, None), false));
                    }
                }
                (Ns::Rss, "description") => entry.summary = self.text()?.map(TextFields::html),
                (Ns::Rss, "author") | (Ns::DublinCore, "creator") => {
                    if let Some(text) = self.text()? {
                        entry.authors.push(person(&text)?);
                    }
                }
                (Ns::Rss, "category") => {
                    if let Some(text) = self.text()? {
                        entry.categories.push(text.trim().to_owned());
                    }
                }
                (Ns::Rss, "guid") => {
                    if let Some(text) = self.text()? {
                        entry.id = text.trim().to_owned();
                    }
                }
                (Ns::Rss, "enclosure") => {
                    if let Some(image) = self.enclosure_image(&child.start)? {
                        enclosure_images.push(image);
                    }
                }
                (Ns::Rss, "pubDate") | (Ns::DublinCore, "date") => entry.published = self.date()?,
                (Ns::Rss | Ns::Atom, "updated") => entry.updated = self.date()?,
                (Ns::Content, "encoded") => {
                    entry.content = self
                        .text()?
                        .filter(|t| !t.is_empty())
                        .map(ContentFields::Html);
                }
                (Ns::CommentApi, "commentRss" | "commentRSS") => {
                    if let Some(text) = self.text()? {
                        links.push((self.link(&text, None), false));
                    }
                }
                (Ns::Rss, "comments") => {
                    if let Some(text) = self.text()? {
                        links.push((self.link(&text, None), true));
                    }
                }
                (Ns::MediaRss, _) => {
                    self.media_element(&child, &mut media)?;
                    // Read through its end tag.
                    continue;
                }
                (Ns::Itunes | Ns::Podcast, _) => {
                    return Err(NotHandled("iTunes or Podcast item element"));
                }
                _ => {}
            }
            self.finish()?;
        }
        entry.images = rss_media_images(media, enclosure_images);
        if entry.updated.is_none() && entry.published.is_some() {
            entry.updated = entry.published;
        }
        // A comments link to where another link already points is dropped.
        let others: Vec<String> = links
            .iter()
            .filter(|(_, comments)| !comments)
            .map(|(l, _)| l.href.clone())
            .collect();
        entry.links = links
            .into_iter()
            .filter(|(link, comments)| !comments || !others.contains(&link.href))
            .map(|(link, _)| link)
            .collect();
        Ok(entry)
    }

    /// A Media RSS element of an entry, or one inside a `media:group` or `media:content`,
    /// read into `scope` through its end tag (feed-rs's `inner_handle_mediarss_element`).
    fn media_element(&mut self, element: &Element<'i>, scope: &mut MediaScope) -> Read<()> {
        match (element.ns, element.local()) {
            // Representations of one thing: a scope of its own below this one.
            (Ns::MediaRss, "group") => {
                let mut group = MediaScope::default();
                while let Some(child) = self.child()? {
                    self.media_element(&child, &mut group)?;
                }
                scope.groups.push(group);
                return Ok(());
            }
            (Ns::MediaRss, "content") => return self.media_content(&element.start, scope),
            (Ns::MediaRss, "thumbnail") => {
                // The last `url` as written (feed-rs neither resolves nor checks it).
                let mut url = None;
                for attribute in element.start.attributes().filter_map(Result::ok) {
                    if attribute.key.as_ref() == "url" {
                        url = Some(unescaped(&attribute.value));
                    }
                }
                scope.thumbnails.extend(url);
            }
            (Ns::MediaRss, "title" | "description") => self.media_text(&element.start)?,
            // Credits, texts, ratings, community, anything else: nothing Pantau keeps, and
            // nothing feed-rs fails on.
            _ => {}
        }
        self.finish()
    }

    /// The `url` (resolved against the base) and the lowercased `type` of a `media:content` or
    /// an `<enclosure>`.
    fn url_and_type(&self, start: &BytesStart<'i>) -> Read<(Option<Url>, Option<String>)> {
        let (mut url, mut kind) = (None, None);
        for attribute in start.attributes().filter_map(Result::ok) {
            match attribute.key.as_ref() {
                "url" => url = parse_uri(&unescaped(&attribute.value), Some(self.base())),
                "type" => {
                    let value = unescaped(&attribute.value);
                    // Types feed-rs's MIME parser surely takes; anything else is left to it.
                    if !is_plain_media_type(&value) {
                        return Err(NotHandled("media type"));
                    }
                    kind = Some(value.to_ascii_lowercase());
                }
                _ => {}
            }
        }
        Ok((url, kind))
    }

    /// A `media:content`, through its end tag (feed-rs's `handle_media_content`): kept in
    /// `scope` when it has an address, from its `url` or a `media:player` inside it.
    fn media_content(&mut self, start: &BytesStart<'i>, scope: &mut MediaScope) -> Read<()> {
        let (mut url, kind) = self.url_and_type(start)?;
        while let Some(child) = self.child()? {
            match (child.ns, child.local()) {
                (Ns::MediaRss, "player") => {
                    // feed-rs resolves the player against the content's base, not its own.
                    if attribute(&child.start, "xml:base").is_some() {
                        return Err(NotHandled("xml:base on a media player"));
                    }
                    if let Some(player) = attribute(&child.start, "url")
                        .and_then(|player| parse_uri(&player, Some(self.base())))
                    {
                        url = Some(player);
                    }
                }
                (Ns::MediaRss, "title" | "description") => self.media_text(&child.start)?,
                (Ns::MediaRss, "rating" | "text" | "credit") => {}
                // Thumbnails, groups, even other contents: into the same scope.
                (Ns::MediaRss, _) => {
                    self.media_element(&child, scope)?;
                    continue;
                }
                _ => {}
            }
            self.finish()?;
        }
        if let Some(url) = url {
            let is_image = match kind {
                Some(kind) => kind.starts_with("image/"),
                None => {
                    let path = url.path().to_ascii_lowercase();
                    IMAGE_ENDINGS.iter().any(|e| path.ends_with(e))
                }
            };
            scope.contents.push(is_image.then(|| url.to_string()));
        }
        Ok(())
    }

    /// A `media:title` or `media:description`: not kept, but feed-rs fails the whole
    /// document on one without text or of a type other than `plain` or `html`.
    fn media_text(&mut self, start: &BytesStart<'i>) -> Read<()> {
        if !matches!(
            attribute(start, "type").as_deref(),
            None | Some("plain" | "html")
        ) {
            return Err(NotHandled("media text type"));
        }
        match self.text()? {
            Some(_) => Ok(()),
            None => Err(NotHandled("media text without text")),
        }
    }

    /// An `<enclosure>` that is an image: its address (feed-rs's media content URL, read by
    /// `feed.rs` as it reads media); None when it is not one.
    fn enclosure_image(&self, start: &BytesStart<'i>) -> Read<Option<String>> {
        let (url, kind) = self.url_and_type(start)?;
        let Some(url) = url else { return Ok(None) };
        let is_image = match kind {
            Some(kind) => kind.starts_with("image/"),
            None => {
                let path = url.path().to_ascii_lowercase();
                IMAGE_ENDINGS.iter().any(|e| path.ends_with(e))
            }
        };
        Ok(is_image.then(|| url.to_string()))
    }

    /// A link's address as feed-rs's `Link::new` makes it: resolved against the document's
    /// base when relative, else as written; trimmed.
    fn link(&self, href: &str, rel: Option<String>) -> LinkFields {
        let href = match parse_uri(href, Some(self.base())) {
            Some(url) => url.to_string(),
            None => href.to_owned(),
        };
        LinkFields {
            href: href.trim().to_owned(),
            rel,
        }
    }

    /// Atom 1.0: the children of `feed`.
    fn atom_feed(&mut self, root: &BytesStart<'i>) -> Read<FeedFields> {
        let mut feed = FeedFields {
            language: attribute(root, "xml:lang"),
            ..FeedFields::default()
        };
        while let Some(child) = self.child()? {
            match (child.ns, child.local()) {
                (Ns::Atom, "title" | "rights" | "subtitle") => {
                    self.atom_text(&child.start)?;
                }
                (Ns::Atom, "updated") => {
                    self.date()?;
                }
                (Ns::Atom, "author") => {
                    if let Some(person) = self.atom_person()? {
                        feed.authors.push(person);
                    }
                    continue;
                }
                (Ns::Atom, "contributor") => {
                    self.atom_person()?;
                    continue;
                }
                (Ns::Atom, "entry") => {
                    let entry = self.atom_entry()?;
                    feed.entries.push(entry);
                    continue;
                }
                _ => {}
            }
            self.finish()?;
        }
        Ok(feed)
    }

    /// One `<entry>`, through its end tag.
    fn atom_entry(&mut self) -> Read<EntryFields> {
        let mut entry = EntryFields::default();
        let mut media = MediaScope::default();
        while let Some(child) = self.child()? {
            match (child.ns, child.local()) {
                (Ns::Atom, "id") => {
                    if let Some(id) = self.text()? {
                        entry.id = id;
                    }
                }
                (Ns::Atom, "title") => entry.title = Some(self.atom_text(&child.start)?),
                (Ns::Atom, "summary") => entry.summary = Some(self.atom_text(&child.start)?),
                (Ns::Atom, "rights") => {
                    self.atom_text(&child.start)?;
                }
                (Ns::Atom, "updated") => {
                    if let Some(text) = self.text()? {
                        entry.updated = (self.timestamp)(&text);
                    }
                }
                (Ns::Atom, "published" | "pubDate") => {
                    if let Some(text) = self.text()? {
                        entry.published = (self.timestamp)(&text);
                    }
                }
                (Ns::Atom, "author") => {
                    if let Some(person) = self.atom_person()? {
                        entry.authors.push(person);
                    }
                    continue;
                }
                (Ns::Atom, "contributor") => {
                    self.atom_person()?;
                    continue;
                }
                (Ns::Atom, "content") => {
                    entry.language = attribute(&child.start, "xml:lang");
                    entry.content = Some(self.atom_content(&child.start)?);
                }
                (Ns::Atom, "link") => {
                    if let Some(link) = self.atom_link(&child.start) {
                        entry.links.push(link);
                    }
                }
                (Ns::Atom, "category") => {
                    if let Some(category) = atom_category(&child.start) {
                        entry.categories.push(category);
                    }
                }
                (Ns::CommentApi, "commentRss" | "commentRSS") => {
                    if let Some(text) = self.text()? {
                        entry.links.push(self.link(&text, None));
                    }
                }
                (Ns::MediaRss, _) => {
                    self.media_element(&child, &mut media)?;
                    continue;
                }
                _ => {}
            }
            self.finish()?;
        }
        // Media objects in the order feed-rs makes them (Atom does not reorder them).
        let mut objects = Vec::new();
        media.into_objects(&mut objects);
        entry.images = objects.into_iter().flatten().collect();
        Ok(entry)
    }

    /// An Atom text construct of type `text`, `html` or `xhtml` (feed-rs's `handle_text`);
    /// other types and markup inside plain text are left to feed-rs.
    fn atom_text(&mut self, start: &BytesStart<'i>) -> Read<TextFields> {
        let html = match attribute(start, "type").as_deref() {
            None | Some("text") => false,
            Some("html" | "text/html") => true,
            Some("xhtml") => return Ok(TextFields::html(self.xhtml()?)),
            _ => return Err(NotHandled("text type")),
        };
        let content = match self.text()? {
            Some(text) => text,
            None => match self.peek()? {
                // An empty element: its (empty) serialized children.
                Item::End => String::new(),
                _ => return Err(NotHandled("markup in text")),
            },
        };
        Ok(if html {
            TextFields::html(content)
        } else {
            TextFields::plain(content)
        })
    }

    /// Atom `<content>` inline as text, HTML or XHTML (feed-rs's `handle_content`); anything
    /// else (`src`, other types) is left to feed-rs.
    fn atom_content(&mut self, start: &BytesStart<'i>) -> Read<ContentFields> {
        if attribute(start, "src").is_some() {
            return Err(NotHandled("content src"));
        }
        let text = match attribute(start, "type").as_deref() {
            None | Some("text" | "html" | "xhtml" | "text/html") => self.atom_text(start)?,
            _ => return Err(NotHandled("content type")),
        };
        Ok(if text.html {
            ContentFields::Html(text.content)
        } else {
            ContentFields::Plain(text.content)
        })
    }

    /// The children of an XHTML text construct written out again as feed-rs writes them
    /// (`children_as_xhtml`): local names, attributes unescaped as they are, text minimally
    /// escaped; a single `div` wrapping everything is dropped. The element's end tag is left
    /// to be read.
    fn xhtml(&mut self) -> Read<String> {
        let mut buffer = String::new();
        // Names of the elements open inside the construct (end tags repeat them: quick-xml
        // checks that they match).
        let mut open: Vec<String> = Vec::new();
        let mut first_element = true;
        let (mut div_open, mut div_close) = (None, None);
        loop {
            // The construct's own end tag is left to be read.
            if open.is_empty() && matches!(self.peek()?, Item::End) {
                break;
            }
            match self.next()? {
                Item::Start(start, _) => {
                    let name = local_name(start.name().into_inner()).to_owned();
                    if open.is_empty() {
                        if !first_element {
                            div_open = None;
                            div_close = None;
                        } else if name != "div" {
                            first_element = false;
                        }
                    }
                    buffer.push('<');
                    buffer.push_str(&name);
                    for attribute in start.attributes().filter_map(Result::ok) {
                        buffer.push(' ');
                        buffer.push_str(attribute.key.as_ref());
                        buffer.push_str("=\"");
                        buffer.push_str(&unescaped(&attribute.value));
                        buffer.push('"');
                    }
                    buffer.push('>');
                    open.push(name);
                    if first_element {
                        first_element = false;
                        div_open = Some(buffer.len());
                    }
                }
                Item::Text(text) => {
                    if open.is_empty() && text.bytes().any(|c| !c.is_ascii_whitespace()) {
                        // Text outside the wrapping div.
                        first_element = false;
                        div_open = None;
                        div_close = None;
                    }
                    buffer.push_str(&quick_xml::escape::minimal_escape(&text));
                }
                Item::End => {
                    let Some(name) = open.pop() else {
                        break;
                    };
                    let close_start = buffer.len();
                    buffer.push_str("</");
                    buffer.push_str(&name);
                    buffer.push('>');
                    if open.is_empty() && div_open.is_some() {
                        div_close = Some(close_start);
                    }
                }
                Item::Eof => return Err(NotHandled("unclosed element")),
            }
        }
        if let (Some(div_open), Some(div_close)) = (div_open, div_close) {
            buffer.truncate(div_close);
            buffer.drain(..div_open);
        }
        Ok(buffer)
    }

    /// An Atom `<author>` or `<contributor>`, through its end tag: a person when it has a
    /// name or an address.
    fn atom_person(&mut self) -> Read<Option<PersonFields>> {
        let (mut name, mut email) = (None, None);
        while let Some(child) = self.child()? {
            // By local name, in any namespace, as feed-rs reads them.
            let local = child.local().to_owned();
            let text = self.text()?;
            match (local.as_str(), text) {
                ("name", Some(text)) => name = Some(text),
                ("email", text) => email = text,
                _ => {}
            }
            self.finish()?;
        }
        Ok((name.is_some() || email.is_some()).then_some(PersonFields { name, email }))
    }

    /// An Atom `<link>`: its `href` resolved, its `rel` (`alternate` when unsaid).
    fn atom_link(&self, start: &BytesStart<'i>) -> Option<LinkFields> {
        let href = attribute(start, "href")?;
        let mut rel = None;
        for attribute in start.attributes().filter_map(Result::ok) {
            if attribute.key.as_ref() == "rel" {
                rel = Some(unescaped(&attribute.value));
            }
        }
        Some(self.link(&href, Some(rel.unwrap_or_else(|| "alternate".to_owned()))))
    }
}

/// An Atom `<category>`: its label, else its term (trimmed); None without a term.
fn atom_category(start: &BytesStart<'_>) -> Option<String> {
    let term = attribute(start, "term")?;
    let mut label = None;
    for attribute in start.attributes().filter_map(Result::ok) {
        if attribute.key.as_ref() == "label" {
            label = Some(unescaped(&attribute.value));
        }
    }
    Some(label.unwrap_or_else(|| term.trim().to_owned()))
}

/// An RSS person (`author`, `dc:creator`, a contact) split as feed-rs's
/// `parse_person_name_email` splits it: an e-mail address found by its pattern, and the
/// longer text on either side of it (less the one character next to it) as the name; without
/// an address, the whole text is the name. Where feed-rs's cut falls inside a character it
/// panics, and the document is left to it.
fn person(raw: &str) -> Read<PersonFields> {
    let captures = if raw.contains('@') {
        let pattern = email_pattern().ok_or(NotHandled("e-mail pattern"))?;
        pattern.captures(raw)
    } else {
        None
    };
    let Some((span, address)) = captures.and_then(|c| Some((c.get(0)?, c.get(3)?))) else {
        return Ok(PersonFields {
            name: Some(raw.trim().to_owned()),
            email: None,
        });
    };
    let before = span.start();
    let after = raw.len() - span.end();
    let rest = if before > after {
        raw.get(..span.start() - 1)
    } else if span.end() < raw.len() {
        raw.get(span.end() + 1..)
    } else {
        Some("")
    };
    let rest = rest
        .ok_or(NotHandled("person split inside a character"))?
        .trim();
    Ok(PersonFields {
        name: (!rest.is_empty()).then(|| rest.to_owned()),
        email: Some(address.as_str().trim().to_owned()),
    })
}

/// feed-rs's e-mail pattern, compiled once (None only if it did not compile).
fn email_pattern() -> Option<&'static Regex> {
    static PATTERN: OnceLock<Option<Regex>> = OnceLock::new();
    PATTERN
        .get_or_init(|| {
            Regex::new(
                r"\b(<\[\()?(mailto:)?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})(>]\))?\b",
            )
            .ok()
        })
        .as_ref()
}

/// The Media RSS of one entry as feed-rs scopes it (`MediaRssState`): the elements directly
/// in the entry, and each `media:group` as a scope below the one it is in.
#[derive(Default)]
struct MediaScope {
    /// Each `media:content` with an address: the address when it is an image.
    contents: Vec<Option<String>>,
    /// `media:thumbnail` addresses as written.
    thumbnails: Vec<String>,
    groups: Vec<MediaScope>,
}

impl MediaScope {
    /// The media objects feed-rs makes (`emit_media_objects`), each as its images: one per
    /// scope that has content (its images, then its thumbnails), this scope's first, then
    /// each group's, depth first. A group without thumbnails takes those of the scope above.
    fn into_objects(self, objects: &mut Vec<Vec<String>>) {
        if !self.contents.is_empty() {
            let mut images: Vec<String> = self.contents.into_iter().flatten().collect();
            images.extend(self.thumbnails.iter().cloned());
            objects.push(images);
        }
        for mut group in self.groups {
            if group.thumbnails.is_empty() {
                group.thumbnails.clone_from(&self.thumbnails);
            }
            group.into_objects(objects);
        }
    }
}

/// An RSS item's images as feed-rs orders its media objects (`postprocess_media`): with any
/// Media RSS object, the first is taken out by `swap_remove` (the last takes its place), the
/// enclosures are merged into it (dropped: it has content already), and it goes last; without
/// one, the enclosures' images.
fn rss_media_images(media: MediaScope, enclosure_images: Vec<String>) -> Vec<String> {
    let mut objects = Vec::new();
    media.into_objects(&mut objects);
    if objects.is_empty() {
        return enclosure_images;
    }
    let first = objects.swap_remove(0);
    objects.push(first);
    objects.into_iter().flatten().collect()
}

/// The first attribute called `name`, unescaped as feed-rs unescapes attributes (as written
/// when the escapes are broken).
fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    start
        .attributes()
        .filter_map(Result::ok)
        .find(|a| a.key.as_ref() == name)
        .map(|a| unescaped(&a.value))
}

fn unescaped(value: &str) -> String {
    quick_xml::escape::unescape(value)
        .map(|v| v.into_owned())
        .unwrap_or_else(|_| value.to_owned())
}

/// The element's name without its prefix (feed-rs's `parse_name`).
fn local_name(qualified: &str) -> &str {
    qualified.split(':').next_back().unwrap_or_default()
}

/// feed-rs's `parse_uri`: absolute as it is, relative against the base, else nothing.
fn parse_uri(uri: &str, base: Option<&Url>) -> Option<Url> {
    match Url::parse(uri) {
        Ok(url) => Some(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(uri).ok(),
        Err(_) => None,
    }
}

/// `type/subtype` in the letters every MIME parser takes, no parameters.
fn is_plain_media_type(value: &str) -> bool {
    let name = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match value.split_once('/') {
        Some((kind, subtype)) => name(kind) && name(subtype),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_split_as_feed_rs_splits_them() {
        let split = |raw: &str| person(raw).map(|p| (p.name, p.email));
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(split(" Redaksi "), Ok((some("Redaksi"), None)));
        // The longer side of the address is the name, less the character next to it.
        assert_eq!(
            split("redaksi@example.co.id (Redaksi)"),
            Ok((some("(Redaksi)"), some("redaksi@example.co.id")))
        );
        assert_eq!(
            split("Redaksi Harian <redaksi@example.co.id>"),
            Ok((some("Redaksi Harian"), some("redaksi@example.co.id")))
        );
        assert_eq!(
            split("mailto:desk@example.org"),
            Ok((None, some("desk@example.org")))
        );
        // feed-rs would cut inside the `é` (and panic): left to it.
        assert!(split("\u{e9}<[(a@b.cc").is_err());
    }

    /// One media object per scope with content: its images, then its thumbnails.
    fn scope(contents: &[&str], thumbnails: &[&str], groups: Vec<MediaScope>) -> MediaScope {
        MediaScope {
            contents: contents.iter().map(|c| Some((*c).to_owned())).collect(),
            thumbnails: thumbnails.iter().map(|t| (*t).to_owned()).collect(),
            groups,
        }
    }

    #[test]
    fn media_objects_come_in_feed_rs_order() {
        let images = |media, enclosures: &[&str]| {
            rss_media_images(media, enclosures.iter().map(|e| (*e).to_owned()).collect())
        };
        // Without Media RSS content, the enclosures; with it, the enclosures are dropped.
        assert_eq!(images(scope(&[], &["t"], vec![]), &["e"]), ["e"]);
        assert_eq!(images(scope(&["a"], &["t"], vec![]), &["e"]), ["a", "t"]);
        // Objects 1..4 (the entry's own, then each group, depth first) become 4, 2, 3, 1; a
        // group without thumbnails takes those of the scope above it.
        let media = scope(
            &["1"],
            &["t"],
            vec![
                scope(&["2"], &[], vec![scope(&["3"], &["t3"], vec![])]),
                scope(&["4"], &["t4"], vec![]),
            ],
        );
        assert_eq!(
            images(media, &["e"]),
            ["4", "t4", "2", "t", "3", "t3", "1", "t"]
        );
        // A scope without content makes no object, but its thumbnails pass down.
        let media = scope(&[], &["t"], vec![scope(&["g"], &[], vec![])]);
        assert_eq!(images(media, &[]), ["g", "t"]);
    }
}
