//! Article extraction (main text, title, date, language) on any page.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (html, _) = pantau::fetch::decode_to_utf8(data, None);
    let _ = pantau::parse::article::extract(&html, Some("https://example.org/news/1"));
});
