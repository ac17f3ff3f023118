//! Dates as sources write them: ISO 8601 / RFC 3339, RFC 822/2822 (with the usual feed
//! sloppiness), and zone-less local times, which are read in the source's zone and say so.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::model::TimeBasis;

/// A date read from a source, with how its zone was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDate {
    pub at: DateTime<Utc>,
    pub basis: TimeBasis,
}

/// The IANA zone of that name, if chrono-tz knows it.
pub fn zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Reads `raw` in any of the forms sources use. A time with an offset or a named zone is
/// [`TimeBasis::Stated`]; a local time without one is read in `zone` and is
/// [`TimeBasis::AssumedZone`]. None when it is not a date we can read.
pub fn parse_date(raw: &str, zone: Tz) -> Option<ParsedDate> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 100 {
        return None;
    }
    let iso_like = s.as_bytes().first().is_some_and(u8::is_ascii_digit) && s.get(4..5) == Some("-");
    if iso_like && let Some(parsed) = parse_iso(s, zone) {
        return Some(parsed);
    }
    parse_rfc2822ish(s, zone)
}

/// Reads a zone-less `YYYY-MM-DD HH:MM:SS` (the kemlu portal's form) in `zone`.
pub fn local_to_utc(naive: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        // A time repeated when clocks go back: the first of the two.
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // A time skipped when clocks go forward: read it with the offset before the gap.
        LocalResult::None => {
            let before = naive - chrono::Duration::hours(3);
            let offset = zone.offset_from_utc_datetime(&(before - chrono::Duration::hours(12)));
            let offset: FixedOffset = chrono::Offset::fix(&offset);
            (naive - offset).and_utc()
        }
    }
}

fn assumed(at: DateTime<Utc>, zone: Tz) -> ParsedDate {
    ParsedDate {
        at,
        basis: TimeBasis::AssumedZone {
            zone: zone.name().to_owned(),
        },
    }
}

fn stated(at: DateTime<FixedOffset>) -> ParsedDate {
    ParsedDate {
        at: at.with_timezone(&Utc),
        basis: TimeBasis::Stated,
    }
}

/// `2025-01-02T03:04:05Z`, `2025-01-02 03:04:05+0700`, `2025-01-02 03:04`, `2025-01-02`, ...
fn parse_iso(s: &str, zone: Tz) -> Option<ParsedDate> {
    // One spelling: space between date and time, `Z`/`UTC`/`GMT` as an offset.
    let mut t = s.replacen(['T', 't'], " ", 1);
    for utc in ["Z", "z", " UTC", " GMT", "UTC", "GMT"] {
        if let Some(stripped) = t.strip_suffix(utc) {
            t = format!("{stripped}+00:00");
            break;
        }
    }
    const WITH_OFFSET: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M%z",
        "%Y-%m-%d %H:%M %z",
    ];
    for fmt in WITH_OFFSET {
        if let Ok(at) = DateTime::parse_from_str(&t, fmt) {
            return Some(stated(at));
        }
    }
    const LOCAL: &[&str] = &["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"];
    for fmt in LOCAL {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&t, fmt) {
            return Some(assumed(local_to_utc(naive, zone), zone));
        }
    }
    let date = NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()?;
    Some(assumed(
        local_to_utc(date.and_time(NaiveTime::MIN), zone),
        zone,
    ))
}

/// RFC 822/2822 as feeds write it: `Tue, 10 Jun 2003 04:00:00 GMT`, and its relatives
/// (long month names, wrong or long weekdays, `Jun 10 2003`, two-digit years, single-digit
/// hours, `24:` hours, `UTC` or Indonesian zone names, no zone at all).
fn parse_rfc2822ish(s: &str, zone: Tz) -> Option<ParsedDate> {
    let tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let mut day = None;
    let mut month = None;
    let mut year = None;
    let mut time = None;
    let mut offset_seconds = None;
    for token in tokens {
        if month.is_none()
            && let Some(m) = month_number(token)
        {
            month = Some(m);
            continue;
        }
        if token.contains(':') && time.is_none() && token.starts_with(|c: char| c.is_ascii_digit())
        {
            // `04:00:00` possibly glued to its offset: `04:00:00+0700`.
            let (clock, glued) = match token.find(['+', '-']) {
                Some(i) => (&token[..i], Some(&token[i..])),
                None => (token, None),
            };
            time = Some(parse_clock(clock)?);
            if let Some(glued) = glued {
                offset_seconds = Some(parse_offset(glued)?);
            }
            continue;
        }
        if token.starts_with(['+', '-']) && time.is_some() {
            offset_seconds = Some(parse_offset(token)?);
            continue;
        }
        if token.bytes().all(|b| b.is_ascii_digit()) {
            let n: i32 = token.parse().ok()?;
            if day.is_none() && token.len() <= 2 {
                day = Some(n as u32);
            } else if year.is_none() {
                year = Some(match (token.len(), n) {
                    (2, n) if n < 50 => 2000 + n,
                    (2, n) => 1900 + n,
                    (4, n) => n,
                    _ => return None,
                });
            } else {
                return None;
            }
            continue;
        }
        if let Some(seconds) = named_zone_offset(token) {
            if time.is_some() {
                offset_seconds = Some(seconds);
            }
            continue;
        }
        // Weekday names (in any language) and stray words say nothing about the instant.
        if token.chars().all(char::is_alphabetic) && time.is_none() {
            continue;
        }
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year?, month?, day?)?;
    let (time, next_day) = time.unwrap_or((NaiveTime::MIN, false));
    let mut naive = date.and_time(time);
    if next_day {
        naive += chrono::Duration::days(1);
    }
    match offset_seconds {
        Some(seconds) => {
            let offset = FixedOffset::east_opt(seconds)?;
            let at = offset.from_local_datetime(&naive).single()?;
            Some(stated(at))
        }
        None => Some(assumed(local_to_utc(naive, zone), zone)),
    }
}

/// `4:05`, `04:05:06`, `24:00:00` (the day after's midnight, flagged by `true`).
fn parse_clock(clock: &str) -> Option<(NaiveTime, bool)> {
    let mut parts = clock.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let s: u32 = match parts.next() {
        Some(sec) => sec.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    if h == 24 && m == 0 && s == 0 {
        return Some((NaiveTime::MIN, true));
    }
    Some((NaiveTime::from_hms_opt(h, m, s.min(59))?, false))
}

/// `+0700`, `+07:00`, `-05`, in seconds east of UTC.
fn parse_offset(token: &str) -> Option<i32> {
    let sign = if token.starts_with('-') { -1 } else { 1 };
    let digits: String = token[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// Zone abbreviations RFC 822 allows, plus UTC and Indonesia's three.
fn named_zone_offset(token: &str) -> Option<i32> {
    let hours = match token.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "WIB" => 7,
        "WITA" => 8,
        "WIT" => 9,
        _ => return None,
    };
    Some(hours * 3600)
}

/// English and Indonesian month names and their abbreviations.
fn month_number(token: &str) -> Option<u32> {
    let t = token.trim_end_matches('.').to_lowercase();
    if t.len() < 3 || !t.chars().all(char::is_alphabetic) {
        return None;
    }
    const MONTHS: [&[&str]; 12] = [
        &["jan", "january", "januari"],
        &["feb", "february", "februari"],
        &["mar", "march", "maret"],
        &["apr", "april"],
        &["may", "mei"],
        &["jun", "june", "juni"],
        &["jul", "july", "juli"],
        &["aug", "august", "agu", "agt", "ags", "agustus"],
        &["sep", "sept", "september"],
        &["oct", "october", "okt", "oktober"],
        &["nov", "november", "nopember"],
        &["dec", "december", "des", "desember"],
    ];
    MONTHS
        .iter()
        .position(|names| names.contains(&t.as_str()))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tz(name: &str) -> Tz {
        zone(name).unwrap()
    }

    #[test]
    fn portal_local_times_are_read_in_the_missions_zone() {
        let raw = "2025-01-15 09:30:00";
        let tokyo = parse_date(raw, tz("Asia/Tokyo")).unwrap();
        let jakarta = parse_date(raw, tz("Asia/Jakarta")).unwrap();
        assert_eq!(tokyo.at, utc("2025-01-15T00:30:00Z"));
        assert_eq!(jakarta.at, utc("2025-01-15T02:30:00Z"));
        assert_eq!(
            tokyo.basis,
            TimeBasis::AssumedZone {
                zone: "Asia/Tokyo".into()
            }
        );
        // A zone with summer time: the offset follows the date.
        let summer = parse_date("2025-07-01 12:00:00", tz("Europe/Berlin")).unwrap();
        let winter = parse_date("2025-01-01 12:00:00", tz("Europe/Berlin")).unwrap();
        assert_eq!(summer.at, utc("2025-07-01T10:00:00Z"));
        assert_eq!(winter.at, utc("2025-01-01T11:00:00Z"));
        // In the spring-forward gap: read with the offset before the gap, never a panic.
        let gap = parse_date("2025-03-30 02:30:00", tz("Europe/Berlin")).unwrap();
        assert_eq!(gap.at, utc("2025-03-30T01:30:00Z"));
    }

    #[test]
    fn stated_offsets_win_over_the_zone() {
        let jakarta = tz("Asia/Jakarta");
        for (raw, want) in [
            ("2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"),
            ("2025-01-02T10:04:05+07:00", "2025-01-02T03:04:05Z"),
            ("2025-01-02 10:04:05+0700", "2025-01-02T03:04:05Z"),
            ("2025-01-02T03:04:05.123Z", "2025-01-02T03:04:05.123Z"),
            ("Tue, 10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"),
            ("Tue, 10 Jun 2003 04:00:00 +0200", "2003-06-10T02:00:00Z"),
            (
                "Thursday, 10 June 2003 04:00:00 EDT",
                "2003-06-10T08:00:00Z",
            ),
            ("Jun 10 2003 04:00:00 UTC", "2003-06-10T04:00:00Z"),
            ("10 Jun 03 4:00 -0500", "2003-06-10T09:00:00Z"),
            ("Wed, 25 Aug 2012 24:00:00 GMT", "2012-08-26T00:00:00Z"),
            ("Senin, 16 Desember 2024 13:07 WIB", "2024-12-16T06:07:00Z"),
        ] {
            let got = parse_date(raw, jakarta).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(got.at, utc(want), "{raw}");
            assert_eq!(got.basis, TimeBasis::Stated, "{raw}");
        }
    }

    #[test]
    fn zone_less_feed_dates_are_assumed_and_junk_is_none() {
        let tokyo = tz("Asia/Tokyo");
        let d = parse_date("10 September 2019 13:07", tokyo).unwrap();
        assert_eq!(d.at, utc("2019-09-10T04:07:00Z"));
        assert!(matches!(d.basis, TimeBasis::AssumedZone { .. }));
        let d = parse_date("2019-09-10", tokyo).unwrap();
        assert_eq!(d.at, utc("2019-09-09T15:00:00Z"));
        for junk in [
            "",
            "yesterday",
            "2025-13-45 99:99:99",
            "31 Feb 2024 10:00 GMT",
            "Tue, 10 Jun 2003 04:00:00 +9999",
            "12:00",
            "ñ-é 2025",
            &"9".repeat(500),
        ] {
            assert_eq!(parse_date(junk, tokyo), None, "{junk}");
        }
        assert!(zone("Mars/Olympus").is_none());
    }
}
