//! HTML and messy text → readable plain text: paragraphs kept, markup, scripts and entity
//! soup gone, whitespace collapsed.

use scraper::{Html, Node};

mod simple;

/// Elements whose content a reader never sees. (An `<object>`'s content is its fallback,
/// which is what a reader sees now that plugins are gone: it stays.)
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "svg", "math", "iframe", "embed",
    "canvas", "select", "button",
];

/// Elements that end a line, not a paragraph.
const LINE_BLOCKS: &[&str] = &["li", "tr", "dt", "dd", "option", "caption", "figcaption"];

/// Elements that stand as paragraphs of their own.
const PARAGRAPH_BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "blockquote",
    "pre",
    "figure",
    "hr",
    "address",
    "form",
    "fieldset",
    "details",
    "summary",
    "center",
];

/// Table cells sit side by side.
const CELLS: &[&str] = &["td", "th"];

/// The text of an HTML fragment and the images it shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlText {
    /// Paragraphs separated by a blank line, lines by a newline; no other runs of whitespace.
    pub text: String,
    /// `<img src>` values in document order, as written (resolve them against the page).
    pub images: Vec<String>,
}

/// Readable plain text of an HTML fragment or document.
pub fn html_to_text(html: &str) -> String {
    html_extract(html).text
}

/// Elements a fragment (a feed entry's content, a title with markup) may nest before it is
/// read without an HTML parser. The parser's tree building costs time in proportion to the
/// depth for every tag, so deep nesting costs its square: 4,000 nested `<div>` took seconds,
/// 100,000 would take an hour. Real content nests a few dozen deep.
pub const MAX_FRAGMENT_DEPTH: usize = 256;

/// Plain text and image sources of an HTML fragment or document.
pub fn html_extract(html: &str) -> HtmlText {
    // (The fast paths below give the parser's text; `simple` says for which markup.)
    // Without `<` and `&` there is neither markup nor a reference, and without CR and NUL
    // nothing the HTML parser's input rules would change: the parser would hand back the
    // text as one text node. Many feed summaries are such text, and parsing them was a
    // tenth of a feed's parse time.
    if !html.contains(['<', '&', '\r', '\0']) {
        let mut out = TextBuilder::default();
        out.push_text(html);
        return HtmlText {
            text: out.finish(),
            images: Vec::new(),
        };
    }
    simple::html_extract(html).unwrap_or_else(|| html_extract_parsed(html))
}

/// `html_extract` through the HTML parser.
fn html_extract_parsed(html: &str) -> HtmlText {
    if super::article::nesting_depth(html) > MAX_FRAGMENT_DEPTH {
        return HtmlText {
            text: collapse_whitespace(&decode_entities(&strip_tags(html))),
            images: Vec::new(),
        };
    }
    let doc = Html::parse_fragment(html);
    let mut out = TextBuilder::default();
    let mut images = Vec::new();

    // An explicit walk rather than recursion: deeply nested markup must not exhaust the stack.
    let root = doc.tree.root();
    let mut current = root.first_child();
    while let Some(node) = current {
        let mut descend = false;
        match node.value() {
            Node::Text(text) => out.push_text(text),
            Node::Element(element) => {
                let name = element.name();
                if name == "br" {
                    out.line_break();
                } else if name == "img" {
                    if let Some(src) = image_source(element.attr("src"), element.attr("data-src"))
                        && !images.iter().any(|i| i == src)
                    {
                        images.push(src.to_owned());
                    }
                } else if !HIDDEN.contains(&name) {
                    out.open_element(name);
                    descend = true;
                }
            }
            _ => {}
        }
        if descend && let Some(child) = node.first_child() {
            current = Some(child);
            continue;
        }
        // Close this node and every ancestor it was the last child of.
        let mut closing = node;
        current = loop {
            if let Node::Element(element) = closing.value() {
                out.close_element(element.name());
            }
            if let Some(next) = closing.next_sibling() {
                break Some(next);
            }
            match closing.parent() {
                Some(parent) if parent.id() != root.id() => closing = parent,
                _ => break None,
            }
        };
    }
    HtmlText {
        text: out.finish(),
        images,
    }
}

/// The address an `<img>` shows, from its `src` and `data-src` attributes: `src` unless it
/// is empty or a `data:` URI (lazy-loading pages put the real one in `data-src`), trimmed.
fn image_source<'a>(src: Option<&'a str>, data_src: Option<&'a str>) -> Option<&'a str> {
    src.filter(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:"))
        .or(data_src)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// One line of text from HTML that should have been one (a title with markup in it).
pub fn inline_text(html: &str) -> String {
    collapse_whitespace(&html_to_text(html))
}

/// A title given as text: entities decoded (feeds often escape twice), whitespace collapsed,
/// `<` kept as the literal character it is.
pub fn normalize_title(text: &str) -> String {
    collapse_whitespace(&decode_entities(text))
}

/// A title as it is stored and shown: without the characters that can disguise it where it
/// is displayed. Removed: bidi embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), which reorder the text after them ("Trojan Source" tricks such as
/// `\u{202e}fdp.exe`); zero-width spaces and word joiners (U+200B, U+2060, U+FEFF, U+180E),
/// which hide inside words to dodge matching; and control characters (NUL and the rest of
/// C0, DEL, and the C1 ones that are not Windows-1252 text, see `demoronize`). Kept: the left-to-right and right-to-left marks (U+200E, U+200F, U+061C)
/// and the zero-width (non-)joiners (U+200C, U+200D), which Arabic, Persian, Indic scripts
/// and emoji need. Summaries and bodies are left as they are: only titles are shown in lists
/// and links, where a reordered string misleads most.
pub fn display_safe_title(title: &str) -> String {
    let unsafe_char = |c: char| {
        matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200b}'
                | '\u{2060}'
                | '\u{feff}'
                | '\u{180e}'
        ) || (c.is_control() && !c.is_whitespace())
    };
    if !title.chars().any(unsafe_char) {
        return title.to_owned();
    }
    // C1 characters are first read as the Windows-1252 ones they almost always are.
    let kept: String = title
        .chars()
        .map(demoronize)
        .filter(|c| !unsafe_char(*c))
        .collect();
    collapse_whitespace(&kept)
}

/// `html` with every tag replaced by a space, in one pass (for markup too deep to parse).
/// Comments, scripts and styles are not told apart: their text may remain.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes HTML character references and nothing else.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    simple::decode_entities(text).unwrap_or_else(|| decode_entities_parsed(text))
}

/// `decode_entities` through the HTML parser.
fn decode_entities_parsed(text: &str) -> String {
    // With `<` escaped, the HTML parser sees one text node and only decodes references.
    let doc = Html::parse_fragment(&text.replace('<', "&lt;"));
    let mut out = String::with_capacity(text.len());
    for node in doc.tree.root().descendants() {
        if let Node::Text(t) = node.value() {
            out.push_str(t);
        }
    }
    out
}

/// Plain text with its whitespace normalized: runs of spaces collapsed, blank lines marking
/// paragraphs, single newlines kept as lines.
pub fn plain_text(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    for block in text.replace("\r\n", "\n").split("\n\n") {
        let lines: Vec<String> = block
            .lines()
            .map(collapse_whitespace)
            .filter(|l| !l.is_empty())
            .collect();
        if !lines.is_empty() {
            paragraphs.push(lines.join("\n"));
        }
    }
    paragraphs.join("\n\n")
}

/// All whitespace runs (including no-break spaces and newlines) to one space, trimmed.
/// Invisible characters are dropped, C1 controls read as Windows-1252.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // One pass, no word copied on its own: a space is owed after a run of whitespace and
    // paid before the next visible character.
    let mut space_owed = false;
    for c in text.chars() {
        if is_space(c) {
            space_owed = true;
        } else if !INVISIBLE.contains(&c) {
            if space_owed && !out.is_empty() {
                out.push(' ');
            }
            space_owed = false;
            out.push(demoronize(c));
        }
    }
    out
}

/// The first `max_chars` characters of `text` or fewer, cut at a word boundary, with `…`
/// when something was cut. Paragraph breaks become spaces.
pub fn summarize(text: &str, max_chars: usize) -> String {
    let flat = collapse_whitespace(text);
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let cut = flat
        .char_indices()
        .nth(max_chars)
        .map_or(flat.len(), |(i, _)| i);
    let head = &flat[..cut];
    // Back to the last space, unless that would leave almost nothing (one enormous word).
    let head = match head.rfind(' ') {
        Some(i) if i >= cut / 2 => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end_matches([',', ';', ':', ' ', '-']))
}

/// A C1 control character (U+0080–U+009F) as the Windows-1252 character it almost always
/// is: text once in Windows-1252, decoded as Latin-1 somewhere upstream ("don\u{92}t").
pub fn demoronize(c: char) -> char {
    const CP1252: [char; 32] = [
        '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}',
        '\u{8f}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}',
        '\u{178}',
    ];
    match c {
        '\u{80}'..='\u{9f}' => CP1252[c as usize - 0x80],
        _ => c,
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Characters that take no room and only get in the way of matching text.
const INVISIBLE: [char; 2] = ['\u{200b}', '\u{feff}'];

/// Builds text from a document walk: breaks are deferred until the next word, so no
/// leading, trailing or doubled whitespace ever gets in.
#[derive(Default)]
struct TextBuilder {
    out: String,
    /// 0 nothing, 1 a newline, 2 a blank line, owed before the next word.
    pending_break: u8,
    pending_space: bool,
}

impl TextBuilder {
    fn push_text(&mut self, text: &str) {
        for c in text.chars() {
            if is_space(c) {
                self.pending_space = true;
            } else if INVISIBLE.contains(&c) {
                continue;
            } else {
                let c = demoronize(c);
                if !self.out.is_empty() {
                    match self.pending_break {
                        0 if self.pending_space => self.out.push(' '),
                        0 => {}
                        1 => self.out.push('\n'),
                        _ => self.out.push_str("\n\n"),
                    }
                }
                self.pending_break = 0;
                self.pending_space = false;
                self.out.push(c);
            }
        }
    }

    fn want_break(&mut self, level: u8) {
        self.pending_break = self.pending_break.max(level);
        self.pending_space = false;
    }

    /// `<br>` ends a line; two in a row end a paragraph.
    fn line_break(&mut self) {
        self.pending_break = (self.pending_break + 1).min(2);
        self.pending_space = false;
    }

    fn open_element(&mut self, name: &str) {
        self.boundary(name);
    }

    fn close_element(&mut self, name: &str) {
        self.boundary(name);
    }

    fn boundary(&mut self, name: &str) {
        if PARAGRAPH_BLOCKS.contains(&name) {
            self.want_break(2);
        } else if LINE_BLOCKS.contains(&name) {
            self.want_break(1);
        } else if CELLS.contains(&name) {
            self.pending_space = true;
        }
    }

    fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass `collapse_whitespace` gives what splitting into words and joining them
    /// gave.
    #[test]
    fn whitespace_collapses_as_words_joined() {
        let by_words = |text: &str| {
            text.split(is_space)
                .map(|w| {
                    w.chars()
                        .filter(|c| !INVISIBLE.contains(c))
                        .map(demoronize)
                        .collect::<String>()
                })
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for text in [
            "",
            "   ",
            "a",
            "  Judul \t\n Berita  ",
            "a \u{200b} b\u{feff}c \u{200b}",
            "\u{200b}\u{feff} x",
            "don\u{92}t\u{85}stop \u{a0}\u{2003}here\u{80}",
            "大使館 からの\u{3000}お知らせ",
        ] {
            assert_eq!(collapse_whitespace(text), by_words(text), "{text:?}");
        }
    }

    /// The shortcut for text without markup gives what the parser gives.
    #[test]
    fn text_without_markup_reads_as_the_parser_reads_it() {
        for text in [
            "",
            " ",
            "Some text",
            "  Kedutaan  Besar\tRepublik\n\nIndonesia \u{a0}di\u{2003}Tokyo  ",
            "don\u{92}t \u{80}100 \u{200b}zero\u{feff}width\u{200c}joiner",
            "line\nbreaks\n\n\nand\x0cform feed\x0b",
            "大使館からのお知らせ سفارة إندونيسيا ",
            "a > b = c \" ' ` / \u{1F600}",
        ] {
            assert!(!text.contains(['<', '&', '\r', '\0']));
            assert_eq!(html_extract(text), html_extract_parsed(text), "{text:?}");
        }
    }

    #[test]
    fn blocks_become_paragraphs_and_br_lines() {
        let html = "<div><h2>Judul&nbsp;Berita</h2><p>Satu  dua\n tiga.</p>\
                    <p>Baris<br>kedua<br/><br>ketiga</p>sisa</div>";
        assert_eq!(
            html_to_text(html),
            "Judul Berita\n\nSatu dua tiga.\n\nBaris\nkedua\n\nketiga\n\nsisa"
        );
    }

    #[test]
    fn scripts_styles_and_comments_are_dropped() {
        let html = "<style>p{color:red}</style><p>Halo<script>alert('x')</script> \
                    <!-- catatan --><b>dunia</b></p><noscript>aktifkan JS</noscript>";
        assert_eq!(html_to_text(html), "Halo dunia");
    }

    #[test]
    fn entities_and_odd_spaces_are_decoded() {
        assert_eq!(
            html_to_text("<p>Caf&eacute; &amp; teh&#8212;&#x201C;kopi&#x201D;\u{a0}\u{200b}!</p>"),
            "Café & teh—“kopi” !"
        );
        assert_eq!(html_to_text("   \n\t "), "");
        assert_eq!(html_to_text("just text"), "just text");
    }

    #[test]
    fn lists_and_tables_read_line_by_line() {
        let html = "<ul><li>satu</li><li>dua</li></ul><table><tr><td>a</td><td>b</td></tr>\
                    <tr><td>c</td><td>d</td></tr></table>";
        assert_eq!(html_to_text(html), "satu\ndua\n\na b\nc d");
    }

    #[test]
    fn images_are_collected_in_order_without_data_uris() {
        let html = "<p><img src=\"/a.jpg\"> x <img src='data:image/png;base64,AAA' \
                    data-src='https://cdn.example/b.png'><img src=\"/a.jpg\"><img></p>";
        let got = html_extract(html);
        assert_eq!(got.images, ["/a.jpg", "https://cdn.example/b.png"]);
        assert_eq!(got.text, "x");
    }

    #[test]
    fn deep_nesting_and_broken_markup_do_not_hurt() {
        let deep = "<div>".repeat(5_000) + "dalam" + &"</div>".repeat(5_000);
        assert_eq!(html_to_text(&deep), "dalam");
        assert_eq!(
            html_to_text("<p>tidak <b>ditutup <i>sama"),
            "tidak ditutup sama"
        );
        assert_eq!(html_to_text("</p></div>><<&&;"), "><<&&;");
    }

    #[test]
    fn titles_decode_entities_but_keep_angle_brackets() {
        assert_eq!(
            normalize_title("  Using &lt;div&gt; &amp;amp; <b>  tags\n"),
            "Using <div> &amp; <b> tags"
        );
        assert_eq!(normalize_title("AT&T &amp; Co"), "AT&T & Co");
        assert_eq!(
            inline_text("<b>Kunjungan</b>\n<i>Menlu</i>"),
            "Kunjungan Menlu"
        );
    }

    #[test]
    fn markup_too_deep_to_parse_is_read_without_a_parser() {
        let depth = 100_000;
        let html = format!(
            "{}Isi &amp; berita{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert_eq!(html_to_text(&html), "Isi & berita");
        let shallow = format!("{}Isi{}", "<div>".repeat(3), "</div>".repeat(3));
        assert_eq!(html_to_text(&shallow), "Isi");
    }

    #[test]
    fn display_safe_titles_lose_bidi_overrides_zero_widths_and_controls() {
        assert_eq!(
            display_safe_title("Invoice \u{202e}fdp.exe"),
            "Invoice fdp.exe"
        );
        assert_eq!(
            display_safe_title("Pay\u{200b}pal \u{2066}x\u{2069}"),
            "Paypal x"
        );
        assert_eq!(display_safe_title("A\u{0}B\u{7f}C\u{81}"), "ABC");
        assert_eq!(display_safe_title("don\u{92}t"), "don\u{2019}t");
        // What scripts and emoji need stays.
        for kept in [
            "\u{200f}مرحبا",
            "می\u{200c}خواهم",
            "👩\u{200d}🚒",
            "Kedutaan Besar",
        ] {
            assert_eq!(display_safe_title(kept), kept);
        }
    }

    #[test]
    fn c1_controls_are_read_as_windows_1252() {
        assert_eq!(
            html_to_text("<p>don\u{92}t \u{93}x\u{94}</p>"),
            "don\u{2019}t \u{201c}x\u{201d}"
        );
        assert_eq!(
            normalize_title("Rp\u{a0}5\u{96}10 \u{80}"),
            "Rp 5\u{2013}10 \u{20ac}"
        );
        assert_eq!(plain_text("caf\u{e9}"), "caf\u{e9}");
    }

    #[test]
    fn plain_text_keeps_paragraphs() {
        assert_eq!(
            plain_text("  satu   dua \r\n tiga\n\n\n\nempat  "),
            "satu dua\ntiga\n\nempat"
        );
    }

    #[test]
    fn summaries_cut_at_a_word_boundary() {
        let text = "Kedutaan Besar Republik Indonesia di Tokyo menyelenggarakan acara.";
        assert_eq!(summarize(text, 300), text);
        assert_eq!(summarize(text, 30), "Kedutaan Besar Republik…");
        assert_eq!(
            summarize(&"x".repeat(50), 10),
            format!("{}…", "x".repeat(10))
        );
        assert_eq!(summarize("a\n\nb", 300), "a b");
    }
}
