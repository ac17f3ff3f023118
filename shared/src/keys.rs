//! The bucket's key layout, in one place.
//!
//! `raw/{yyyy}/{mm}/{dd}/{mission}/{source}/{fetched_at}-{sha256 prefix}.{ext}` holds what a
//! fetch returned; `items/...` mirrors it with `.jsonl`, so a redelivered event for the same raw
//! object rewrites the same items object.

use chrono::{DateTime, Utc};

pub const RAW_PREFIX: &str = "raw/";
pub const ITEMS_PREFIX: &str = "items/";

/// The raw key of one fetch.
pub fn raw_key(
    mission: &str,
    source: &str,
    fetched_at: DateTime<Utc>,
    sha256_hex: &str,
    ext: &str,
) -> String {
    format!(
        "{RAW_PREFIX}{}/{mission}/{source}/{}-{}.{ext}",
        fetched_at.format("%Y/%m/%d"),
        fetched_at.format("%Y%m%dT%H%M%S%.3fZ"),
        &sha256_hex[..sha256_hex.len().min(16)],
    )
}

/// The items key for a raw key, or None when `raw_key` is not under `raw/`.
pub fn items_key_for(raw_key: &str) -> Option<String> {
    let rest = raw_key.strip_prefix(RAW_PREFIX)?;
    let stem = match rest.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => stem,
        _ => rest,
    };
    Some(format!("{ITEMS_PREFIX}{stem}.jsonl"))
}

/// The raw key an items key was made from is not recoverable (the extension is gone), so
/// items carry `raw_key` themselves; this only tells the mission and source of either kind.
pub fn mission_and_source(key: &str) -> Option<(&str, &str)> {
    let rest = key
        .strip_prefix(RAW_PREFIX)
        .or_else(|| key.strip_prefix(ITEMS_PREFIX))?;
    let mut parts = rest.splitn(6, '/');
    let (_y, _m, _d) = (parts.next()?, parts.next()?, parts.next()?);
    Some((parts.next()?, parts.next()?))
}

/// A file extension for a content type, so raw objects open in the right tool.
pub fn ext_for(content_type: Option<&str>, body: &[u8]) -> &'static str {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("json") {
        "json"
    } else if ct.contains("xml") || ct.contains("rss") || ct.contains("atom") {
        "xml"
    } else if ct.contains("html") {
        "html"
    } else {
        let head = String::from_utf8_lossy(&body[..body.len().min(256)]).to_ascii_lowercase();
        let head = head.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with('{') || head.starts_with('[') {
            "json"
        } else if head.starts_with("<?xml") || head.starts_with("<rss") || head.starts_with("<feed")
        {
            "xml"
        } else if head.starts_with('<') {
            "html"
        } else {
            "bin"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_key_mirrors_raw_key() {
        let at = DateTime::parse_from_rfc3339("2025-03-04T05:06:07.089Z")
            .unwrap()
            .with_timezone(&Utc);
        let raw = raw_key("tokyo", "portal-berita", at, "abcdef0123456789ffff", "json");
        assert_eq!(
            raw,
            "raw/2025/03/04/tokyo/portal-berita/20250304T050607.089Z-abcdef0123456789.json"
        );
        assert_eq!(
            items_key_for(&raw).unwrap(),
            "items/2025/03/04/tokyo/portal-berita/20250304T050607.089Z-abcdef0123456789.jsonl"
        );
        assert_eq!(mission_and_source(&raw), Some(("tokyo", "portal-berita")));
        assert_eq!(items_key_for("items/x.jsonl"), None);
    }

    #[test]
    fn extension_from_type_or_content() {
        assert_eq!(
            ext_for(Some("application/json; charset=utf-8"), b""),
            "json"
        );
        assert_eq!(ext_for(Some("application/rss+xml"), b""), "xml");
        assert_eq!(ext_for(None, b"\xef\xbb\xbf<?xml version"), "xml");
        assert_eq!(
            ext_for(Some("application/octet-stream"), b" {\"a\":1}"),
            "json"
        );
    }
}
