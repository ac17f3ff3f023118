//! HTML → text without building a document, for the markup most feed content is: paragraphs,
//! line breaks, lists, links, emphasis and images, properly nested, with the common
//! character references.
//!
//! For such markup the HTML parser's tree holds exactly the elements as written, so walking
//! the tags as they come gives the text the tree walk gives. Anything where the parser
//! would do more than that (implied or misnested tags, tables, scripts, raw text elements,
//! unusual references, a carriage return it would rewrite) makes these functions answer
//! None, and the caller reads the input with the parser. Building the parser's tree was a
//! tenth of a feed's parse time.

use std::borrow::Cow;

use super::{HIDDEN, HtmlText, MAX_FRAGMENT_DEPTH, TextBuilder, image_source};

/// Phrasing elements read here; with [`CLOSES_P`], [`VOID`], [`RAW_TEXT`] and [`IGNORED`], the
/// elements read here ([`known_name`]). Any other tag sends the input to the parser.
const PHRASING: &[&str] = &[
    // Formatting elements: kept in the parser's list of active formatting elements, which
    // only matters once they are misnested (refused here).
    "a", "b", "i", "em", "strong", "u", "s", "small", "code", "strike", "big", "tt", "font",
    // Ordinary phrasing elements (and one the parser knows nothing of, read as one).
    "blink", "span", "sup", "sub", "cite", "abbr", "q", "mark", "time", "del", "ins", "var", "kbd",
    "samp", "dfn", "label",
];

/// Elements whose content is text up to their end tag (not markup), which a reader never
/// sees: skipped whole, as the parser's tree walk skips them.
const RAW_TEXT: &[&str] = &["script", "style", "iframe"];

/// Void elements that show nothing and end no line or paragraph: skipped.
const IGNORED: &[&str] = &["embed", "meta", "link"];

/// Start tags that close an open `<p>` (the parser's "close a p element"): refused while a
/// `p` is open, as the parser's tree would then differ from the tags as written.
const CLOSES_P: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "figure",
    "figcaption",
    "center",
    "address",
    "main",
    "li",
    "hr",
];

const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

const VOID: &[&str] = &["br", "img", "hr"];

/// Named references read here, with what the HTML parser decodes them to. Any other name
/// sends the input to the parser.
const NAMED: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("hellip", "\u{2026}"),
    ("mdash", "\u{2014}"),
    ("ndash", "\u{2013}"),
    ("lsquo", "\u{2018}"),
    ("rsquo", "\u{2019}"),
    ("ldquo", "\u{201c}"),
    ("rdquo", "\u{201d}"),
    ("laquo", "\u{ab}"),
    ("raquo", "\u{bb}"),
    ("copy", "\u{a9}"),
    ("reg", "\u{ae}"),
    ("trade", "\u{2122}"),
    ("middot", "\u{b7}"),
    ("bull", "\u{2022}"),
    ("deg", "\u{b0}"),
    ("euro", "\u{20ac}"),
    ("times", "\u{d7}"),
    ("eacute", "\u{e9}"),
    ("egrave", "\u{e8}"),
    ("aacute", "\u{e1}"),
    ("agrave", "\u{e0}"),
    ("iacute", "\u{ed}"),
    ("oacute", "\u{f3}"),
    ("uacute", "\u{fa}"),
    ("ouml", "\u{f6}"),
    ("uuml", "\u{fc}"),
    ("auml", "\u{e4}"),
    ("szlig", "\u{df}"),
    ("ccedil", "\u{e7}"),
    ("ntilde", "\u{f1}"),
];

/// The names HTML decodes without their `;` (the "legacy" ones of its entity table, as
/// html5ever has them): `&copy2` is `©2` in text. A `&` and letters that no such name starts
/// is text as written (`AT&T`, `Q&A`).
const LEGACY_NAMES: &[&[u8]] = &[
    b"AElig", b"AMP", b"Aacute", b"Acirc", b"Agrave", b"Aring", b"Atilde", b"Auml", b"COPY",
    b"Ccedil", b"ETH", b"Eacute", b"Ecirc", b"Egrave", b"Euml", b"GT", b"Iacute", b"Icirc",
    b"Igrave", b"Iuml", b"LT", b"Ntilde", b"Oacute", b"Ocirc", b"Ograve", b"Oslash", b"Otilde",
    b"Ouml", b"QUOT", b"REG", b"THORN", b"Uacute", b"Ucirc", b"Ugrave", b"Uuml", b"Yacute",
    b"aacute", b"acirc", b"acute", b"aelig", b"agrave", b"amp", b"aring", b"atilde", b"auml",
    b"brvbar", b"ccedil", b"cedil", b"cent", b"copy", b"curren", b"deg", b"divide", b"eacute",
    b"ecirc", b"egrave", b"eth", b"euml", b"frac12", b"frac14", b"frac34", b"gt", b"iacute",
    b"icirc", b"iexcl", b"igrave", b"iquest", b"iuml", b"laquo", b"lt", b"macr", b"micro",
    b"middot", b"nbsp", b"not", b"ntilde", b"oacute", b"ocirc", b"ograve", b"ordf", b"ordm",
    b"oslash", b"otilde", b"ouml", b"para", b"plusmn", b"pound", b"quot", b"raquo", b"reg",
    b"sect", b"shy", b"sup1", b"sup2", b"sup3", b"szlig", b"thorn", b"times", b"uacute", b"ucirc",
    b"ugrave", b"uml", b"uuml", b"yacute", b"yen", b"yuml",
];

/// `html_extract` for the simple subset; None when the parser must read it.
pub(super) fn html_extract(html: &str) -> Option<HtmlText> {
    if html.contains(['\r', '\0']) {
        return None;
    }
    let bytes = html.as_bytes();
    let mut out = TextBuilder::default();
    let mut images: Vec<String> = Vec::new();
    let mut open: Vec<&'static str> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some(offset) = memchr::memchr2(b'<', b'&', &bytes[at..]) else {
            out.push_text(&html[at..]);
            break;
        };
        out.push_text(&html[at..at + offset]);
        at += offset;
        if bytes[at] == b'&' {
            let (decoded, len) = reference(&bytes[at..], false)?;
            decoded.with_str(|text| out.push_text(text));
            at += len;
            continue;
        }
        let rest = &bytes[at..];
        if rest.starts_with(b"<!--") {
            at += comment_len(rest)?;
        } else if rest.starts_with(b"</") {
            let (name, len) = end_tag(rest)?;
            // Only the open element may close: anything else the parser reads its own way.
            if open.last() != Some(&name) {
                return None;
            }
            open.pop();
            out.close_element(name);
            at += len;
        } else {
            let tag = start_tag(html, at)?;
            let name = tag.name;
            if CLOSES_P.contains(&name) && open.contains(&"p") {
                return None;
            }
            let misplaced = match name {
                // An `a` in an open `a`, a heading in a heading, a list item outside a list:
                // the parser closes or reorders elements for these.
                "a" => open.contains(&"a"),
                "li" => !matches!(open.last(), Some(&("ul" | "ol"))),
                _ if HEADINGS.contains(&name) => open.iter().any(|o| HEADINGS.contains(o)),
                _ => false,
            };
            if misplaced {
                return None;
            }
            match name {
                _ if RAW_TEXT.contains(&name) => {
                    // (The depth measured for `MAX_FRAGMENT_DEPTH` counts an iframe.)
                    if open.len() + 1 >= MAX_FRAGMENT_DEPTH {
                        return None;
                    }
                    at += tag.len;
                    at += raw_text_len(&bytes[at..], name)?;
                    continue;
                }
                _ if IGNORED.contains(&name) => {}
                "br" => out.line_break(),
                "img" => {
                    if let Some(src) = image_source(tag.src.as_deref(), tag.data_src.as_deref())
                        && !images.iter().any(|i| i == src)
                    {
                        images.push(src.to_owned());
                    }
                }
                _ if VOID.contains(&name) => {
                    out.open_element(name);
                    out.close_element(name);
                }
                _ if tag.self_closing => return None,
                _ => {
                    if open.len() >= MAX_FRAGMENT_DEPTH {
                        return None;
                    }
                    open.push(name);
                    out.open_element(name);
                }
            }
            at += tag.len;
        }
    }
    // Elements still open end with the input, innermost first, as the parser closes them.
    while let Some(name) = open.pop() {
        out.close_element(name);
    }
    Some(HtmlText {
        text: out.finish(),
        images,
    })
}

/// `decode_entities` for text whose references are all simple; None otherwise.
pub(super) fn decode_entities(text: &str) -> Option<String> {
    if text.contains(['\r', '\0']) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'&', &bytes[at..]) {
        out.push_str(&text[at..at + offset]);
        at += offset;
        let (decoded, len) = reference(&bytes[at..], false)?;
        decoded.with_str(|text| out.push_str(text));
        at += len;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// What a character reference decodes to: a named one's text or a numeric one's character.
enum Decoded {
    Text(&'static str),
    Char(char),
}

impl Decoded {
    /// Hands the decoded text to `f` (a character is encoded on the stack, not allocated).
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Decoded::Text(text) => f(text),
            Decoded::Char(c) => f(c.encode_utf8(&mut [0u8; 4])),
        }
    }
}

/// The character reference at the start of `rest` (which starts with `&`) and its length in
/// bytes, in text or (`in_attribute`) in an attribute value. A `&` that starts no reference
/// (before a space, `<`, punctuation, the end, or letters no legacy name starts) is the
/// character itself, as the parser reads it. None for a reference read here only by the
/// parser: an unknown name with its `;`, a legacy name without it, a number without its
/// `;` or outside the plain ranges (the parser maps some of those to other characters).
fn reference(rest: &[u8], in_attribute: bool) -> Option<(Decoded, usize)> {
    const AMPERSAND: (Decoded, usize) = (Decoded::Text("&"), 1);
    match rest.get(1) {
        Some(b'#') => {
            let (hex, digits_start) = match rest.get(2) {
                Some(b'x' | b'X') => (true, 3),
                _ => (false, 2),
            };
            let digits = rest[digits_start.min(rest.len())..]
                .iter()
                .take_while(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count();
            let end = digits_start + digits;
            if digits == 0 || digits > 7 || rest.get(end) != Some(&b';') {
                return None;
            }
            let text = std::str::from_utf8(&rest[digits_start..end]).ok()?;
            let value = u32::from_str_radix(text, if hex { 16 } else { 10 }).ok()?;
            let plain = matches!(value,
                0x09 | 0x0a | 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfdcf | 0xfdf0..=0xfffd
                | 0x1_0000..=0x10_ffff)
                && value & 0xfffe != 0xfffe;
            if !plain {
                return None;
            }
            Some((Decoded::Char(char::from_u32(value)?), end + 1))
        }
        Some(b) if b.is_ascii_alphanumeric() => {
            let name_len = rest[1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            let name = &rest[1..1 + name_len];
            if rest.get(1 + name_len) == Some(&b';') {
                let name = std::str::from_utf8(name).ok()?;
                let (_, text) = NAMED.iter().find(|(known, _)| *known == name)?;
                return Some((Decoded::Text(text), name_len + 2));
            }
            // Without `;` only a legacy name can match, the longest one the letters start with.
            let legacy = LEGACY_NAMES
                .iter()
                .filter(|legacy| name.starts_with(legacy))
                .map(|legacy| legacy.len())
                .max();
            match legacy {
                None => Some(AMPERSAND),
                // In an attribute a legacy name followed by a letter, digit or `=` is not
                // decoded (`?a=1&copy=2` stays).
                Some(len)
                    if in_attribute
                        && (len < name.len() || rest.get(1 + name_len) == Some(&b'=')) =>
                {
                    Some(AMPERSAND)
                }
                Some(_) => None,
            }
        }
        // Not a reference: the `&` is text.
        _ => Some(AMPERSAND),
    }
}

/// An attribute value with its references decoded (None when one is read only by the parser).
fn attribute_value(value: &str) -> Option<Cow<'_, str>> {
    if !value.contains('&') {
        return Some(Cow::Borrowed(value));
    }
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'&', &bytes[at..]) {
        out.push_str(&value[at..at + offset]);
        at += offset;
        let (decoded, len) = reference(&bytes[at..], true)?;
        decoded.with_str(|text| out.push_str(text));
        at += len;
    }
    out.push_str(&value[at..]);
    Some(Cow::Owned(out))
}

/// The length of a raw text element's content and end tag, from just after its start tag:
/// up to the first `</name` (any case), which must end in `>` (spaces allowed). None when
/// the parser could read it otherwise: a script with `<!--` (its escaped states), a style
/// or iframe with any `<` (the depth measure would count what is in it), no end tag.
fn raw_text_len(rest: &[u8], name: &str) -> Option<usize> {
    let mut end = 0;
    loop {
        end += memchr::memmem::find(&rest[end..], b"</")?;
        let candidate = &rest[end + 2..];
        if candidate.len() >= name.len()
            && candidate[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        {
            break;
        }
        end += 2;
    }
    let content = &rest[..end];
    let unsafe_content = if name == "script" {
        memchr::memmem::find(content, b"<!--").is_some()
    } else {
        content.contains(&b'<')
    };
    if unsafe_content {
        return None;
    }
    let after_name = end + 2 + name.len();
    let spaces = rest[after_name..]
        .iter()
        .take_while(|b| is_tag_space(**b))
        .count();
    if rest.get(after_name + spaces) != Some(&b'>') {
        return None;
    }
    Some(after_name + spaces + 1)
}

/// The length of the comment at the start of `rest` (`<!--` … `-->`). None for the forms the
/// parser ends early or differently (`<!-->`, `<!--->`, `--!>`) and for one never closed.
fn comment_len(rest: &[u8]) -> Option<usize> {
    let body = &rest[4..];
    if body.starts_with(b">") || body.starts_with(b"->") {
        return None;
    }
    let end = memchr::memmem::find(body, b"-->")?;
    if memchr::memmem::find(&body[..end + 3], b"--!>").is_some() {
        return None;
    }
    Some(4 + end + 3)
}

/// The name (one read here) and length of the end tag at the start of `rest` (`</name>`,
/// spaces allowed before `>`). None for anything else.
fn end_tag(rest: &[u8]) -> Option<(&'static str, usize)> {
    let name_len = rest[2..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = known_name(&rest[2..2 + name_len])?;
    let spaces = rest[2 + name_len..]
        .iter()
        .take_while(|b| is_tag_space(**b))
        .count();
    let close = 2 + name_len + spaces;
    if rest.get(close) != Some(&b'>') || VOID.contains(&name) || IGNORED.contains(&name) {
        return None;
    }
    Some((name, close + 1))
}

/// A start tag read here: its name, the image attributes, whether it ends in `/>`.
struct StartTag<'a> {
    name: &'static str,
    src: Option<Cow<'a, str>>,
    data_src: Option<Cow<'a, str>>,
    self_closing: bool,
    len: usize,
}

/// The start tag at `at` in `html` (at its `<`). Attributes are read as the parser's
/// tokenizer reads them; the first of a name counts. None for a tag not read here, a
/// `<` or a stray `/` in the tag, a value with no `=` after its `=`, a tag the
/// input ends in.
fn start_tag(html: &str, at: usize) -> Option<StartTag<'_>> {
    let bytes = html.as_bytes();
    let name_len = bytes[at + 1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = known_name(&bytes[at + 1..at + 1 + name_len])?;
    // The name ends at a space, `/` or `>` (the parser reads `<a:b>` as one name).
    let after_name = *bytes.get(at + 1 + name_len)?;
    if !(is_tag_space(after_name) || matches!(after_name, b'/' | b'>')) {
        return None;
    }
    let mut tag = StartTag {
        name,
        src: None,
        data_src: None,
        self_closing: false,
        len: 0,
    };
    let (mut seen_src, mut seen_data_src) = (false, false);
    let mut i = at + 1 + name_len;
    loop {
        while bytes.get(i).is_some_and(|b| is_tag_space(*b)) {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => break,
            b'/' if bytes.get(i + 1) == Some(&b'>') => {
                tag.self_closing = true;
                i += 1;
                break;
            }
            b'/' | b'=' => return None,
            _ => {}
        }
        // The name: up to a space, `/`, `>` or `=`.
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !is_tag_space(*b) && !matches!(b, b'/' | b'>' | b'='))
        {
            if matches!(bytes[i], b'"' | b'\'' | b'<' | b'&') {
                return None;
            }
            i += 1;
        }
        let attribute = &html[name_start..i];
        while bytes.get(i).is_some_and(|b| is_tag_space(*b)) {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(|b| is_tag_space(*b)) {
                i += 1;
            }
            match *bytes.get(i)? {
                quote @ (b'"' | b'\'') => {
                    let len = memchr::memchr(quote, &bytes[i + 1..])?;
                    value = &html[i + 1..i + 1 + len];
                    // (A `<` in a value would count as a tag where `MAX_FRAGMENT_DEPTH` is
                    // checked, so the depth would not be the one measured here.)
                    if value.contains('<') {
                        return None;
                    }
                    i += len + 2;
                    // After a quoted value: a space, `>` or `/>`, nothing else.
                    match bytes.get(i)? {
                        b if is_tag_space(*b) || *b == b'>' => {}
                        b'/' if bytes.get(i + 1) == Some(&b'>') => {}
                        _ => return None,
                    }
                }
                b'>' => return None,
                _ => {
                    let start = i;
                    while bytes
                        .get(i)
                        .is_some_and(|b| !is_tag_space(*b) && *b != b'>')
                    {
                        if matches!(bytes[i], b'"' | b'\'' | b'<' | b'=' | b'`') {
                            return None;
                        }
                        i += 1;
                    }
                    value = &html[start..i];
                }
            }
        }
        // Only the image's addresses are decoded: no other value reaches the text.
        if attribute.eq_ignore_ascii_case("src") {
            if !seen_src {
                tag.src = Some(attribute_value(value)?);
            }
            seen_src = true;
        } else if attribute.eq_ignore_ascii_case("data-src") {
            if !seen_data_src {
                tag.data_src = Some(attribute_value(value)?);
            }
            seen_data_src = true;
        }
    }
    tag.len = i + 1 - at;
    Some(tag)
}

/// The tokenizer's whitespace inside a tag: tab, line feed, form feed, space.
fn is_tag_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b' ')
}

/// A tag name read here, lower-cased, as the static name. None for any other.
fn known_name(name: &[u8]) -> Option<&'static str> {
    if name.is_empty() || !name[0].is_ascii_alphabetic() || name.len() > 10 {
        return None;
    }
    let mut lower = [0u8; 10];
    for (to, from) in lower.iter_mut().zip(name) {
        *to = from.to_ascii_lowercase();
    }
    let lower = &lower[..name.len()];
    let known = [PHRASING, CLOSES_P, VOID, RAW_TEXT, IGNORED]
        .into_iter()
        .flatten()
        .find(|known| known.as_bytes() == lower)?;
    debug_assert!(!HIDDEN.contains(known) || RAW_TEXT.contains(known) || known == &"embed");
    Some(known)
}

#[cfg(test)]
mod tests {
    use super::super::{decode_entities_parsed, html_extract_parsed};
    use super::*;

    /// Pieces of markup, in and out of the subset read here, that random fragments are
    /// made of.
    const PIECES: &[&str] = &[
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<a href=\"/x?a=1\">",
        "<a href=x/>",
        "</a>",
        "<ul>",
        "</ul>",
        "<ol>",
        "</ol>",
        "<li>",
        "</li>",
        "<br>",
        "<br/>",
        "<br />",
        "</br>",
        "<hr>",
        "<h2>",
        "</h2>",
        "<h3 class='t'>",
        "</h3>",
        "<span>",
        "</span>",
        "<SPAN>",
        "<Em>",
        "</em>",
        "<strong>",
        "</strong>",
        "<img src=\"/a.jpg\">",
        "<img src='data:x' data-src='/b.png'>",
        "<img src=/c.gif/>",
        "<img SRC = \"/d.jpg\" src=\"/e.jpg\">",
        "<img>",
        "<img src=\"\" data-src=\" /f.jpg \">",
        "<blockquote>",
        "</blockquote>",
        "<table>",
        "<tr>",
        "<td>",
        "</td>",
        "</table>",
        "<script>",
        "</script>",
        "<pre>",
        "</pre>",
        "<p/>",
        "<div/>",
        "<!-- c -->",
        "<!-->",
        "<!---->",
        "<!-- a--!> b -->",
        "<a:b>",
        "<x-y>",
        "</x-y>",
        "<font>",
        "</font>",
        "<li class=a>",
        "<p class=\"a\" id=b>",
        "<p class=\"a\"id=b>",
        "<p =x>",
        "<p a=>",
        "<p a='<b>'>",
        "<p a=\"&amp;\">",
        "<p/ >",
        "< p>",
        "a < b",
        "a <3",
        "&amp;",
        "&lt;",
        "&gt;",
        "&nbsp;",
        "&hellip;",
        "&#39;",
        "&#8212;",
        "&#x201C;",
        "&#X201D;",
        "&#150;",
        "&#0;",
        "&#xD800;",
        "&#1114112;",
        "&#12",
        "&amp",
        "&ampx;",
        "&copy2",
        "&eacute;",
        "&Eacute;",
        "&notin;",
        "AT&T",
        "& ",
        "&&",
        "&#;",
        "&#x;",
        "&;",
        "\r\n",
        "\0",
        "Kedutaan",
        " Besar ",
        "\n",
        "\n\n",
        "\t",
        "\u{a0}",
        "\u{200b}",
        "\u{92}",
        "大使館",
        "سفارة",
        " x ",
        "y",
        ".",
        "</p",
        "<p",
        "<img src=\"/g.jpg\"",
        "<wbr>",
        "<q>",
        "</q>",
        "<li>",
        "<ul><li>",
        "</li></ul>",
        "<p>\n",
        "</section>",
        "<section>",
        "<nav>",
        "<img src=\"/h.jpg?a=1&quality=60&amp;w=2&copy=3&copy2&not&lt,&#38;\">",
        "<img src='/i.jpg?&copy'>",
        "<img src=/j.jpg?x&amp;y>",
        "<a title=\"&\" href=\"?a&b\">",
        "&not",
        "&notit;",
        "Q&A",
        "&AMP",
        "&frac12x",
        "&#146;",
        "&#x92;",
        "<script>a<b && c</script>",
        "<script type=\"text/javascript\">x</SCRIPT >",
        "<script><!-- x --></script>",
        "<script>",
        "</script>",
        "</scriptx>",
        "<style>p{}</style>",
        "<style>a<b</style>",
        "<iframe src=\"https://y.example/e\"></iframe>",
        "<iframe/>",
        "<iframe>",
        "</iframe>",
        "<embed src=x>",
        "<embed/>",
        "</embed>",
        "<meta charset=utf-8>",
        "<link rel=x>",
        "<font color=red>",
        "</font>",
        "<blink>",
        "</blink>",
        "<object>",
    ];

    /// Balanced pieces inside the subset, for fragments that are mostly read here.
    const SIMPLE_PIECES: &[&str] = &[
        "<script>x<y</script>",
        "<iframe src=\"/v\"></iframe>",
        "<font>f</font>",
        "<embed src=x>",
        "<p>Kedutaan Besar</p>",
        "<b>x</b>",
        " teks ",
        "&amp;",
        "&#8212;",
        "<br>",
        "<br/>",
        "<img src=\"/a.jpg\">",
        "<img src='data:x' data-src=' /b.png '>",
        "<ul><li>a</li><li>b</li></ul>",
        "<a href=x>tautan</a>",
        "<p><b>z</b> w<br>v</p>",
        "<div><p>a</p>\n<p>b</p></div>",
        "\n\n",
        "<h2>Judul</h2>",
        "<!-- c -->",
        "<span>s</span>",
        "<blockquote><p>q</p></blockquote>",
        "\u{a0}",
        "<hr>",
        "<em>e</em>",
        "<p>",
        "<ol>\n<li><i>i</i></li>\n</ol>",
        "&nbsp;",
        "<a href=\"/y\"><img src=/c.gif/></a>",
        "大使館",
        "<figure><img src=/d.png><figcaption>f</figcaption></figure>",
    ];

    /// A small deterministic generator (no dependency for one test).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    /// Wherever the subset reader answers, its text and images are the parser's: on
    /// random fragments of pieces in and out of the subset, and on simple ones (mostly
    /// in it, so the comparison is not only of refusals).
    #[test]
    fn the_subset_reads_as_the_parser_reads() {
        let mut random = Lcg(42);
        let (mut read_here, mut total) = (0, 0);
        for round in 0..8_000 {
            let count = 1 + random.below(14);
            // Every other fragment from the simple pieces only.
            let pieces = if round % 2 == 0 {
                SIMPLE_PIECES
            } else {
                PIECES
            };
            let html: String = (0..count)
                .map(|_| pieces[random.below(pieces.len())])
                .collect();
            total += 1;
            if let Some(simple) = html_extract(&html) {
                read_here += 1;
                assert_eq!(simple, html_extract_parsed(&html), "{html:?}");
            }
            if let Some(simple) = decode_entities(&html) {
                assert_eq!(simple, decode_entities_parsed(&html), "{html:?}");
            }
        }
        assert!(read_here * 3 > total, "{read_here} of {total} read here");
    }

    #[test]
    fn typical_feed_content_is_read_here() {
        let html = "<p>Kedutaan Besar&nbsp;RI di <a href=\"https://x.example/?a=1\">Tokyo</a> \
                    menggelar <b>acara</b>&#8230;</p><p><img src=\"/a.jpg\" alt=\"\"/><br/>\
                    Foto: KBRI</p><ul><li>satu</li><li>dua</li></ul>";
        let simple = html_extract(html).expect("read here");
        assert_eq!(simple, html_extract_parsed(html));
        assert_eq!(simple.images, ["/a.jpg"]);
        let amp = "<p>AT&T, Q&A <img src=\"/b.jpg?w=1&quality=60&amp;h=2\"></p>";
        let simple = html_extract(amp).expect("read here");
        assert_eq!(simple, html_extract_parsed(amp));
        assert_eq!(simple.images, ["/b.jpg?w=1&quality=60&h=2"]);
        for refused in [
            "<p>a<div>b</div></p>",
            "<b><i>x</b></i>",
            "<table><tr><td>x</td></tr></table>",
            "<object>x</object>",
            "&copy2",
            "<p>a</p>\r\n",
        ] {
            assert!(html_extract(refused).is_none(), "{refused:?}");
        }
    }
}
