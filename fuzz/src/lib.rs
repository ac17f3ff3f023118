//! What the fuzz targets share: a raw object of a given kind, parsed the way normalize parses
//! it. A parser must turn any bytes into items or an error value; a panic, even one the
//! parse layer catches and reports as `ParseError::Panicked`, is a finding.

use chrono::{DateTime, Utc};
use pantau::model::{RawMeta, Role, SourceKind};
use pantau::parse::{self, ParseError, ParseInput};

/// A fixed fetch time, so a finding replays the same way.
pub fn fetched_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_288_000, 0).unwrap_or_default()
}

/// Parses `data` as a raw object of `kind` (through `parse::parse`, as normalize does).
pub fn parse_as(kind: SourceKind, data: &[u8]) {
    let meta = RawMeta::fetched(
        kind,
        Role::Official,
        "tokyo",
        "fuzz",
        "https://example.org/feed",
        fetched_at(),
    );
    let input = ParseInput {
        body: data,
        meta: &meta,
        raw_key: "fuzz",
        time_zone: "Asia/Tokyo",
        source_language: None,
    };
    if let Err(ParseError::Panicked { message, .. }) = parse::parse(&input) {
        panic!("a parser panicked on this input (caught by the parse layer): {message}");
    }
}
