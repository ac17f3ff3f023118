//! Character sets: which encoding a body is in, and its text as UTF-8.
//!
//! The fetcher only *detects* (`detect`) and reports the encoding's name; the raw object keeps
//! the original bytes, so a better decoder later can replay them. Parsers turn bytes into text
//! with `decode_to_utf8`, passing the charset the raw object's metadata recorded.
//!
//! Precedence, as browsers and feed readers apply it:
//! 1. a byte-order mark (it cannot be there by accident);
//! 2. the HTTP `Content-Type` charset;
//! 3. the XML prolog's `encoding` or an HTML `<meta charset>` in the first KiB;
//! 4. otherwise UTF-8 (the web's default today; invalid bytes become U+FFFD).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// How far into a body the XML prolog and HTML `<meta>` are looked for (the HTML prescan's 1024
/// bytes; feeds put the prolog first).
const SNIFF_LEN: usize = 1024;

/// The encoding a body declares, by BOM, `Content-Type` charset, XML prolog or HTML meta;
/// None when it declares none the Encoding Standard knows.
pub fn detect(content_type: Option<&str>, body: &[u8]) -> Option<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(body) {
        return Some(encoding);
    }
    content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .or_else(|| sniff_in_document(body))
}

/// The body as UTF-8 text, and the encoding it was read in. `declared` is a charset label
/// from outside the body (the HTTP header, or the raw object's recorded `charset`); a BOM
/// overrides it, and without either the body's own XML prolog or HTML meta decide.
pub fn decode_to_utf8<'a>(
    body: &'a [u8],
    declared: Option<&str>,
) -> (Cow<'a, str>, &'static Encoding) {
    let encoding = Encoding::for_bom(body)
        .map(|(e, _)| e)
        .or_else(|| declared.and_then(|label| Encoding::for_label(label.trim().as_bytes())))
        .or_else(|| sniff_in_document(body))
        .unwrap_or(UTF_8);
    // Removes a BOM of `encoding` only (a BOM of another encoding was handled above).
    let (text, _had_errors) = encoding.decode_with_bom_removal(body);
    (text, encoding)
}

/// An XML document (a feed, a sitemap) as UTF-8 text ready for an XML parser: decoded as
/// `decode_to_utf8` does, with its XML declaration removed. XML parsers (feed-rs included)
/// obey the declaration's `encoding`, so text already converted to UTF-8 would be decoded a
/// second time under the old name; without a declaration XML is UTF-8.
pub fn decode_xml_to_utf8<'a>(
    body: &'a [u8],
    declared: Option<&str>,
) -> (Cow<'a, str>, &'static Encoding) {
    let (text, encoding) = decode_to_utf8(body, declared);
    let trimmed = text.trim_start();
    if !trimmed.starts_with("<?xml") {
        return (text, encoding);
    }
    let Some(end) = trimmed.find("?>") else {
        return (text, encoding);
    };
    let rest = trimmed[end + 2..].to_owned();
    (Cow::Owned(rest), encoding)
}

/// `charset` from a `Content-Type` value: `text/html; charset="ISO-8859-1"` → `ISO-8859-1`.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']))
            .filter(|v| !v.is_empty())
    })
}

/// The encoding the document names itself: the XML prolog, else an HTML `<meta>`. A
/// document written in ASCII-compatible bytes cannot really be UTF-16, so such a claim means
/// UTF-8 (as the HTML standard rules).
fn sniff_in_document(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(SNIFF_LEN)];
    let encoding = xml_prolog_encoding(head).or_else(|| html_meta_charset(head))?;
    Some(if encoding == UTF_16LE || encoding == UTF_16BE {
        UTF_8
    } else {
        encoding
    })
}

/// `<?xml version="1.0" encoding="windows-1252"?>` at the start (after whitespace).
fn xml_prolog_encoding(head: &[u8]) -> Option<&'static Encoding> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = find(head, b"?>")?;
    let prolog = &head[..end];
    let at = find(prolog, b"encoding")? + b"encoding".len();
    let value = quoted_value_after_equals(&prolog[at..])?;
    Encoding::for_label(value)
}

/// `<meta charset="x">` or `<meta http-equiv="Content-Type" content="text/html; charset=x">`.
fn html_meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"<meta") {
        let tag_start = from + at;
        let tag_end = lower[tag_start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| tag_start + e);
        let tag = &lower[tag_start..tag_end];
        if let Some(c) = find(tag, b"charset") {
            // `charset="x"`, or `charset=x` inside `content="text/html; charset=x"`.
            let value = quoted_value_after_equals(&tag[c + b"charset".len()..]);
            if let Some(encoding) = value.and_then(Encoding::for_label) {
                return Some(encoding);
            }
        }
        from = tag_end;
    }
    None
}

/// After `name`: optional spaces, `=`, optional spaces, and a quoted or bare value.
fn quoted_value_after_equals(rest: &[u8]) -> Option<&[u8]> {
    let rest = trim_start(rest).strip_prefix(b"=")?;
    let rest = trim_start(rest);
    match rest.first()? {
        quote @ (b'"' | b'\'') => {
            let inner = &rest[1..];
            let end = inner.iter().position(|b| b == quote)?;
            Some(&inner[..end])
        }
        _ => {
            let end = rest
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'?' | b';' | b'"' | b'\'')
                })
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        }
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[start..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{SHIFT_JIS, WINDOWS_1252};

    #[test]
    fn header_charset_is_read_and_unquoted() {
        assert_eq!(
            charset_param("text/html; charset=\"ISO-8859-1\""),
            Some("ISO-8859-1")
        );
        assert_eq!(
            charset_param("application/rss+xml;Charset=utf-8"),
            Some("utf-8")
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("text/html; charset="), None);
    }

    #[test]
    fn detection_follows_bom_then_header_then_document() {
        let latin = b"<?xml version='1.0' encoding='windows-1252'?><rss/>";
        assert_eq!(detect(None, latin), Some(WINDOWS_1252));
        // The header outranks the prolog.
        assert_eq!(detect(Some("text/xml; charset=utf-8"), latin), Some(UTF_8));
        // A BOM outranks the header.
        assert_eq!(
            detect(
                Some("text/xml; charset=windows-1252"),
                b"\xEF\xBB\xBF<rss/>"
            ),
            Some(UTF_8)
        );
        assert_eq!(detect(None, b"\xFF\xFEx\x00"), Some(UTF_16LE));
        let html = b"<html><head><META http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"></head>";
        assert_eq!(detect(Some("text/html"), html), Some(SHIFT_JIS));
        assert_eq!(detect(None, b"<meta charset=utf-8>"), Some(UTF_8));
        // A meta claiming UTF-16 in ASCII bytes is UTF-8.
        assert_eq!(detect(None, b"<meta charset=\"utf-16\">"), Some(UTF_8));
        assert_eq!(detect(None, b"<rss>plain</rss>"), None);
        // Unknown labels say nothing.
        assert_eq!(detect(Some("text/html; charset=klingon"), b"x"), None);
    }

    #[test]
    fn bodies_decode_to_utf8() {
        // "Café" in windows-1252, declared by the prolog only.
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>Caf\xE9</t>";
        let (text, encoding) = decode_to_utf8(body, None);
        assert_eq!(encoding, WINDOWS_1252);
        assert!(text.contains("Café"), "{text}");
        // The declared label outranks the prolog; the BOM outranks both and is removed.
        let (text, encoding) = decode_to_utf8(b"\xEF\xBB\xBFCaf\xC3\xA9", Some("windows-1252"));
        assert_eq!((text.as_ref(), encoding), ("Café", UTF_8));
        // Shift_JIS declared from outside: 日本 is 93 FA 96 7B.
        let (text, encoding) = decode_to_utf8(b"\x93\xFA\x96\x7B", Some("shift_jis"));
        assert_eq!((text.as_ref(), encoding), ("日本", SHIFT_JIS));
        // UTF-16LE by BOM.
        let (text, _) = decode_to_utf8(b"\xFF\xFEh\x00i\x00", None);
        assert_eq!(text, "hi");
        // Nothing declared: UTF-8, borrowed when valid, replacement characters when not.
        let (text, encoding) = decode_to_utf8("Jakarta ✓".as_bytes(), None);
        assert!(matches!(text, Cow::Borrowed("Jakarta ✓")));
        assert_eq!(encoding, UTF_8);
        let (text, _) = decode_to_utf8(b"bad \xFF byte", Some("no-such-charset"));
        assert_eq!(text, "bad \u{FFFD} byte");
    }

    /// feed-rs obeys the XML declaration itself: handing it converted text with the old
    /// declaration would garble it, which `decode_xml_to_utf8` avoids.
    #[test]
    fn xml_text_reaches_feed_rs_intact_whatever_declared_the_charset() {
        let item = |title: &[u8]| {
            let mut rss = b"<rss version=\"2.0\"><channel><title>".to_vec();
            rss.extend_from_slice(title);
            rss.extend_from_slice(b"</title></channel></rss>");
            rss
        };
        let title_of = |bytes: &[u8]| {
            feed_rs::parser::parse(bytes)
                .map(|f| f.title.map(|t| t.content))
                .unwrap_or_default()
        };
        let by_prolog = [
            &b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>"[..],
            &item(b"Caf\xE9"),
        ]
        .concat();
        let by_header_only = item(b"Caf\xE9");
        let (utf16_text, _) = decode_to_utf8(&by_prolog, None);
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in utf16_text.replace("windows-1252", "utf-16").encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        for (name, body, declared) in [
            ("prolog", &by_prolog[..], None),
            ("header", &by_header_only[..], Some("windows-1252")),
            ("header over prolog", &by_prolog[..], Some("iso-8859-1")),
            ("utf-16 bom", &utf16[..], None),
        ] {
            let (text, _) = decode_xml_to_utf8(body, declared);
            assert_eq!(title_of(text.as_bytes()).as_deref(), Some("Café"), "{name}");
        }
        // Why: the plain decoding keeps the declaration, and feed-rs decodes again.
        let (text, _) = decode_to_utf8(&by_prolog, None);
        assert_ne!(title_of(text.as_bytes()).as_deref(), Some("Café"));
    }

    #[test]
    fn malformed_declarations_never_panic() {
        for body in [
            &b"<?xml encoding"[..],
            b"<?xml encoding=?>",
            b"<?xml encoding=\"utf-8",
            b"<meta charset",
            b"<meta charset=",
            b"<meta charset='",
            b"<meta",
            b"",
        ] {
            let _ = detect(Some("text/html; charset"), body);
            let _ = decode_to_utf8(body, Some(""));
            let _ = decode_xml_to_utf8(body, None);
        }
    }
}
