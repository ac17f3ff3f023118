//! The date parser on any text, with and without a fetch time for relative forms; a date it
//! reads must be a real instant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pantau::parse::date::{parse_date, parse_date_at};

fuzz_target!(|raw: &str| {
    let zone = chrono_tz::Asia::Jakarta;
    let _ = parse_date(raw, zone);
    if let Some(parsed) = parse_date_at(raw, zone, pantau_fuzz::fetched_at()) {
        assert!(parsed.at.timestamp() > i64::MIN);
    }
});
