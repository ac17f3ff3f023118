//! The feed parser on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pantau::model::SourceKind;

fuzz_target!(|data: &[u8]| pantau_fuzz::parse_as(SourceKind::Feed, data));
