//! A listing page read with typical registry selectors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pantau::model::ListSelectors;

fuzz_target!(|data: &[u8]| {
    let (html, _) = pantau::fetch::decode_to_utf8(data, None);
    let selectors = ListSelectors {
        list_item: Some("article, li.news-item, .post".into()),
        link: Some("a[href]".into()),
        title: Some("h2, h3, .title".into()),
        date: Some("time, .date".into()),
        ..Default::default()
    };
    let _ = pantau::parse::html_list::entries(
        &html,
        "https://example.org/news/",
        &selectors,
        chrono_tz::Asia::Jakarta,
        pantau_fuzz::fetched_at(),
        "fuzz",
    );
});
