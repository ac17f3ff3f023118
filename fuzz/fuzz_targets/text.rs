//! The text helpers every parser uses: HTML to text, entities, summaries, canonical URLs,
//! charset decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pantau::parse::{text, url};

fuzz_target!(|data: &[u8]| {
    let (decoded, _) = pantau::fetch::decode_xml_to_utf8(data, Some("windows-1252"));
    let s: &str = &decoded;
    let _ = text::html_to_text(s);
    let _ = text::decode_entities(s);
    let summary = text::summarize(s, 300);
    assert!(summary.chars().count() <= 301, "a summary stays near its limit");
    let _ = url::canonical_url(s);
    let _ = url::resolve(Some("https://example.org/a/b"), s);
});
