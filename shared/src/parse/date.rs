//! Dates as sources write them, read into a UTC instant with how its zone was decided.
//!
//! Forms read, in the order tried:
//! - Unix times: 9–10 digits are seconds, 12–13 digits milliseconds (a fraction allowed).
//! - ISO 8601 / RFC 3339: extended (`2025-01-02T03:04:05.123+07:00`) and basic
//!   (`20250102T030405Z`), with or without a zone, minutes or seconds, `2025-01-02`, `2025-01`.
//! - Relative forms, against the fetch time ([`parse_date_at`] only): `2 jam lalu`,
//!   `5 menit yang lalu`, `3 hours ago`, `an hour ago`, `kemarin 14:35`, `yesterday`,
//!   `hari ini`, `just now`.
//! - Everything else as a bag of tokens, which covers RFC 822/2822 and its broken variants
//!   (missing or wrong weekday, two-digit years, named and military zones, no seconds, extra
//!   spaces and commas, asctime order) and the Indonesian forms (`Senin, 16 Desember 2024`,
//!   `Senin (16/12/2024)`, `12 Des 2025 14:35:21 WIB`, `16/12/2024 pukul 14.35 WIB`). A time
//!   alone (`14:35:21 WIB`) is read as the latest such time not after the fetch.
//!
//! The basis: a time with an offset or a named zone is [`TimeBasis::Stated`], and so is a
//! relative `N units ago` (an instant counted back from the fetch; no zone is involved). A
//! local time or a bare date is read in the source's zone and is [`TimeBasis::AssumedZone`];
//! so is `kemarin`/`yesterday` without a stated zone (a calendar day in the source's zone).
//!
//! Numeric dates with separators are day first (`16/12/2024`, the Indonesian and European
//! order) unless the first field is a year or the second cannot be a month (`12/16/2024`).
//! Military zone letters are read as RFC 822 defines them (`A` = −1 h … `M` = −12 h,
//! `N` = +1 h … `Y` = +12 h, `Z` = UTC), which is also how feedparser reads them.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;

use crate::model::TimeBasis;

/// Longer text than this is prose, not a date.
const MAX_DATE_CHARS: usize = 120;

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

/// Reads `raw` in any of the absolute forms sources use; a local time without a zone is
/// read in `zone`. Relative forms and a time without a date need the fetch time: see
/// [`parse_date_at`]. None when it is not a date we can read.
pub fn parse_date(raw: &str, zone: Tz) -> Option<ParsedDate> {
    read(raw, zone, None)
}

/// [`parse_date`], plus the forms that only mean something against `now` (the fetch time):
/// `2 jam lalu`, `3 hours ago`, `kemarin`, `yesterday 14:35`, and a time alone.
pub fn parse_date_at(raw: &str, zone: Tz, now: DateTime<Utc>) -> Option<ParsedDate> {
    read(raw, zone, Some(now))
}

/// Reads a zone-less local time in `zone`.
pub fn local_to_utc(naive: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        // A time repeated when clocks go back: the first of the two.
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // A time skipped when clocks go forward: read it with the offset before the gap.
        LocalResult::None => {
            let before = naive - Duration::hours(15);
            let offset = zone.offset_from_utc_datetime(&before);
            let offset: FixedOffset = chrono::Offset::fix(&offset);
            (naive - offset).and_utc()
        }
    }
}

fn read(raw: &str, zone: Tz, now: Option<DateTime<Utc>>) -> Option<ParsedDate> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > MAX_DATE_CHARS {
        return None;
    }
    if let Some(parsed) = parse_unix(s) {
        return Some(parsed);
    }
    if let Some(parsed) = parse_iso(s, zone) {
        return Some(parsed);
    }
    let lower = s.to_lowercase();
    if let Some(now) = now
        && let Some(parsed) = parse_relative(&lower, zone, now)
    {
        return Some(parsed);
    }
    match read_tokens(&lower)? {
        Reading::Full { naive, offset } => Some(resolve(naive, offset, zone)),
        Reading::TimeOnly { time, offset } => {
            let now = now?;
            latest_at_or_before(time, offset, zone, now)
        }
    }
}

/// A local date-time read in its stated offset, or else in the source's zone.
fn resolve(naive: NaiveDateTime, offset: Option<i32>, zone: Tz) -> ParsedDate {
    let stated = offset
        .and_then(FixedOffset::east_opt)
        .and_then(|o| o.from_local_datetime(&naive).single());
    match stated {
        Some(at) => ParsedDate {
            at: at.with_timezone(&Utc),
            basis: TimeBasis::Stated,
        },
        None => ParsedDate {
            at: local_to_utc(naive, zone),
            basis: TimeBasis::AssumedZone {
                zone: zone.name().to_owned(),
            },
        },
    }
}

/// The local date of `now` in the stated offset, or else in the source's zone.
fn local_date(now: DateTime<Utc>, offset: Option<i32>, zone: Tz) -> NaiveDate {
    match offset.and_then(FixedOffset::east_opt) {
        Some(o) => now.with_timezone(&o).date_naive(),
        None => now.with_timezone(&zone).date_naive(),
    }
}

/// A time of day without a date: today's, or yesterday's when today's is still to come
/// (news pages write only the time for today's items).
fn latest_at_or_before(
    (time, next_day): (NaiveTime, bool),
    offset: Option<i32>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Option<ParsedDate> {
    let today = local_date(now, offset, zone);
    let mut naive = today.and_time(time);
    if next_day {
        naive += Duration::days(1);
    }
    let mut parsed = resolve(naive, offset, zone);
    // A few minutes of clock skew between the source and us is not "tomorrow".
    if parsed.at > now + Duration::minutes(10) {
        parsed = resolve(naive - Duration::days(1), offset, zone);
    }
    Some(parsed)
}

/// `1700000000`, `1700000000.5` (seconds), `1700000000123` (milliseconds).
fn parse_unix(s: &str) -> Option<ParsedDate> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let nanos_of = |digits: &str| -> u32 {
        let mut padded: String = digits.chars().take(9).collect();
        while padded.len() < 9 {
            padded.push('0');
        }
        padded.parse().unwrap_or(0)
    };
    let at = match whole.len() {
        9 | 10 => DateTime::from_timestamp(whole.parse().ok()?, nanos_of(fraction))?,
        12 | 13 if fraction.is_empty() => DateTime::from_timestamp_millis(whole.parse().ok()?)?,
        _ => return None,
    };
    Some(ParsedDate {
        at,
        basis: TimeBasis::Stated,
    })
}

/// Cursor over ASCII digits at the start of a string.
fn take_digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// ISO 8601 in its extended and basic forms. None for anything else, so the token reader
/// can try (`2025-01-02 10:00 WIB` is not ISO but is read there).
fn parse_iso(s: &str, zone: Tz) -> Option<ParsedDate> {
    let (year, rest) = take_digits(s, 4)?;
    let (month, day, rest) = if let Some(rest) = rest.strip_prefix('-') {
        let (month, rest) = take_digits(rest, 2)?;
        match rest.strip_prefix('-') {
            Some(rest) => {
                let (day, rest) = take_digits(rest, 2)?;
                (month, day, rest)
            }
            None if rest.is_empty() => (month, 1, rest),
            None => return None,
        }
    } else {
        let (month, rest) = take_digits(rest, 2)?;
        let (day, rest) = take_digits(rest, 2)?;
        (month, day, rest)
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    if rest.is_empty() {
        return Some(resolve(date.and_time(NaiveTime::MIN), None, zone));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?.trim_start_matches(' ');
    let extended = rest.get(2..3) == Some(":");
    let (hour, rest) = take_digits(rest, 2)?;
    let rest = if extended { &rest[1..] } else { rest };
    let (minute, mut rest) = take_digits(rest, 2)?;
    let mut second = 0;
    if extended {
        if let Some(after) = rest.strip_prefix(':') {
            (second, rest) = take_digits(after, 2)?;
        }
    } else if let Some((s, after)) = take_digits(rest, 2) {
        (second, rest) = (s, after);
    }
    let mut nanos = 0;
    if let Some(after) = rest.strip_prefix(['.', ',']) {
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let fraction: String = after[..digits]
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        nanos = fraction.parse().ok()?;
        rest = &after[digits..];
    }
    let (time, next_day) = clock(hour, minute, second, nanos)?;
    let mut naive = date.and_time(time);
    if next_day {
        naive += Duration::days(1);
    }
    let zone_text = rest.trim();
    let offset = if zone_text.is_empty() {
        None
    } else if let Some(seconds) = named_zone_offset(&zone_text.to_ascii_lowercase()) {
        Some(seconds)
    } else {
        Some(parse_offset(zone_text)?)
    };
    Some(resolve(naive, offset, zone))
}

/// A clock time; `24:00:00` is the next day's midnight (flagged by `true`), a leap second
/// is read as :59.
fn clock(hour: u32, minute: u32, second: u32, nanos: u32) -> Option<(NaiveTime, bool)> {
    if hour == 24 && minute == 0 && second == 0 {
        return Some((NaiveTime::MIN, true));
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second.min(59), nanos)?;
    Some((time, false))
}

/// `+0700`, `+07:00`, `+07`, `-5`, in seconds east of UTC.
fn parse_offset(token: &str) -> Option<i32> {
    let sign = match token.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = token[1..].chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (digits[..1].parse::<i32>().ok()?, digits[1..].parse().ok()?),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// Zone names (lower case): RFC 822's, common abbreviations without ambiguity, Indonesia's
/// three, and `utc+7`/`gmt-05:00` spellings. Military letters are handled apart.
fn named_zone_offset(name: &str) -> Option<i32> {
    for prefix in ["utc", "gmt"] {
        if let Some(rest) = name.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return parse_offset(rest);
        }
    }
    let hours: f32 = match name {
        "gmt" | "ut" | "utc" | "z" | "wet" => 0.0,
        "bst" | "cet" | "met" | "wat" | "west" => 1.0,
        "cest" | "mest" | "eet" | "cat" | "sast" => 2.0,
        "eest" | "msk" | "eat" => 3.0,
        "wib" | "ict" => 7.0,
        "wita" | "sgt" | "hkt" | "awst" | "myt" | "pht" => 8.0,
        "wit" | "jst" | "kst" => 9.0,
        "acst" => 9.5,
        "aest" => 10.0,
        "acdt" => 10.5,
        "aedt" => 11.0,
        "nzst" => 12.0,
        "nzdt" => 13.0,
        "adt" => -3.0,
        "ast" | "at" | "edt" => -4.0,
        "est" | "et" | "cdt" => -5.0,
        "cst" | "ct" | "mdt" => -6.0,
        "mst" | "mt" | "pdt" => -7.0,
        "pst" | "pt" | "akdt" => -8.0,
        "akst" => -9.0,
        "hst" => -10.0,
        _ => return None,
    };
    Some((hours * 3600.0) as i32)
}

/// RFC 822's military zone letters, as that RFC defines them (see the module notes).
fn military_zone_offset(name: &str) -> Option<i32> {
    let &[letter] = name.as_bytes() else {
        return None;
    };
    let hours = match letter {
        b'z' => 0,
        b'a'..=b'i' => -((letter - b'a') as i32 + 1),
        b'k'..=b'm' => -((letter - b'k') as i32 + 10),
        b'n'..=b'y' => (letter - b'n') as i32 + 1,
        _ => return None,
    };
    Some(hours * 3600)
}

/// English and Indonesian month names and their abbreviations.
fn month_number(token: &str) -> Option<u32> {
    let t = token.trim_end_matches('.');
    if t.len() < 3 || !t.chars().all(char::is_alphabetic) {
        return None;
    }
    const MONTHS: [&[&str]; 12] = [
        &["jan", "january", "januari"],
        &["feb", "february", "februari", "pebruari"],
        &["mar", "march", "maret"],
        &["apr", "april"],
        &["may", "mei"],
        &["jun", "june", "juni"],
        &["jul", "july", "juli"],
        &["aug", "august", "agu", "agt", "ags", "agust", "agustus"],
        &["sep", "sept", "september"],
        &["oct", "october", "okt", "oktober"],
        &["nov", "november", "nop", "nopember"],
        &["dec", "december", "des", "desember"],
    ];
    MONTHS
        .iter()
        .position(|names| names.contains(&t))
        .map(|i| i as u32 + 1)
}

/// Words that may stand around a date and say nothing about the instant.
fn is_filler(word: &str) -> bool {
    const WORDS: &[&str] = &[
        // Weekdays, English and Indonesian, and their abbreviations.
        "mon",
        "monday",
        "tue",
        "tues",
        "tuesday",
        "wed",
        "wednesday",
        "thu",
        "thur",
        "thurs",
        "thursday",
        "fri",
        "friday",
        "sat",
        "saturday",
        "sun",
        "sunday",
        "senin",
        "sen",
        "selasa",
        "sel",
        "rabu",
        "rab",
        "kamis",
        "kam",
        "jumat",
        "jum'at",
        "jum",
        "sabtu",
        "sab",
        "minggu",
        "ahad",
        "min",
        // Linking words.
        "at",
        "on",
        "the",
        "of",
        "pukul",
        "jam",
        "pkl",
        "tanggal",
        "tgl",
        "pada",
        "published",
        "posted",
        "updated",
        "diterbitkan",
        "diperbarui",
        "dipublikasikan",
        "date",
        "tanggal:",
    ];
    let word = word.trim_end_matches(['.', ':']);
    WORDS.contains(&word)
}

enum Reading {
    Full {
        naive: NaiveDateTime,
        offset: Option<i32>,
    },
    TimeOnly {
        time: (NaiveTime, bool),
        offset: Option<i32>,
    },
}

#[derive(Default)]
struct Fields {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u32, u32, u32)>,
    offset: Option<i32>,
    pm: Option<bool>,
}

impl Fields {
    fn has_date(&self) -> bool {
        self.day.is_some() && self.month.is_some()
    }
}

/// The token reader: RFC 822 and its relatives, asctime, and the Indonesian forms.
fn read_tokens(lower: &str) -> Option<Reading> {
    let mut f = Fields::default();
    let mut previous_was_time = false;
    for token in lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '|' | '[' | ']'))
        .filter(|t| !t.is_empty())
    {
        let was_time = std::mem::replace(&mut previous_was_time, false);
        let first = token.chars().next()?;
        if matches!(token, "-" | "–" | "—" | "/" | "@" | "·" | "•") {
            continue;
        }
        if first.is_ascii_digit() && token.contains(':') {
            if f.time.is_some() {
                return None;
            }
            read_clock_token(token, &mut f)?;
            previous_was_time = true;
            continue;
        }
        if first.is_ascii_digit() && token.trim_end_matches('.').contains(['/', '-', '.']) {
            let had_time = f.time.is_some();
            read_numeric_date(token, &mut f)?;
            previous_was_time = !had_time && f.time.is_some();
            continue;
        }
        if first.is_ascii_digit() {
            read_number(token, &mut f)?;
            continue;
        }
        if matches!(first, '+' | '-') && f.time.is_some() {
            f.offset = Some(parse_offset(token)?);
            continue;
        }
        if matches!(token, "am" | "a.m." | "pm" | "p.m.") && f.time.is_some() {
            f.pm = Some(token.starts_with('p'));
            previous_was_time = was_time;
            continue;
        }
        if f.month.is_none()
            && let Some(m) = month_number(token)
        {
            f.month = Some(m);
            continue;
        }
        if let Some(seconds) = named_zone_offset(token) {
            if f.time.is_some() && f.offset.is_none() {
                f.offset = Some(seconds);
            }
            continue;
        }
        if was_time && let Some(seconds) = military_zone_offset(token) {
            f.offset = Some(seconds);
            continue;
        }
        if is_filler(token) {
            continue;
        }
        return None;
    }
    let time = match f.time {
        Some((h, m, s)) => {
            let h = match f.pm {
                Some(true) if h < 12 => h + 12,
                Some(false) if h == 12 => 0,
                _ => h,
            };
            Some(clock(h, m, s, 0)?)
        }
        None => None,
    };
    if f.day.is_none() && f.month.is_none() && f.year.is_none() {
        return Some(Reading::TimeOnly {
            time: time?,
            offset: f.offset,
        });
    }
    let date = NaiveDate::from_ymd_opt(f.year?, f.month?, f.day?)?;
    let (time, next_day) = time.unwrap_or((NaiveTime::MIN, false));
    let mut naive = date.and_time(time);
    if next_day {
        naive += Duration::days(1);
    }
    Some(Reading::Full {
        naive,
        offset: f.offset,
    })
}

/// `04:00`, `4:00:00`, `04:00:00.5`, glued to an offset (`04:00:00+0700`), `Z`, or `pm`.
fn read_clock_token(token: &str, f: &mut Fields) -> Option<()> {
    let end = token
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(token.len());
    let (clock_text, glued) = token.split_at(end);
    let mut parts = clock_text.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let s: u32 = match parts.next() {
        Some(sec) => sec.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    f.time = Some((h, m, s));
    match glued {
        "" => {}
        "am" | "a.m." => f.pm = Some(false),
        "pm" | "p.m." => f.pm = Some(true),
        _ if glued.starts_with(['+', '-']) => f.offset = Some(parse_offset(glued)?),
        _ => f.offset = Some(named_zone_offset(glued).or_else(|| military_zone_offset(glued))?),
    }
    Some(())
}

/// `16/12/2024`, `16-12-2024`, `2024/12/16`, `12/16/2024`, `16.12.24`; `14.35` and
/// `14.35.21` are times (the Indonesian way of writing them).
fn read_numeric_date(token: &str, f: &mut Fields) -> Option<()> {
    let token = token.trim_end_matches('.');
    let parts: Vec<&str> = token.split(['/', '-', '.']).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4)
    {
        return None;
    }
    let n = |i: usize| -> Option<u32> { parts.get(i)?.parse().ok() };
    let dotted = token.contains('.') && !token.contains(['/', '-']);
    let looks_like_time = dotted
        && f.time.is_none()
        && parts.iter().all(|p| p.len() <= 2)
        && (parts.len() == 2 || f.has_date());
    if looks_like_time {
        f.time = Some((n(0)?, n(1)?, n(2).unwrap_or(0)));
        return Some(());
    }
    if parts.len() != 3 || f.has_date() {
        return None;
    }
    let (year, month, day) = if parts[0].len() == 4 {
        (n(0)?, n(1)?, n(2)?)
    } else if n(1)? > 12 {
        (n(2)?, n(0)?, n(1)?)
    } else {
        (n(2)?, n(1)?, n(0)?)
    };
    f.year = Some(full_year(
        year,
        parts[if parts[0].len() == 4 { 0 } else { 2 }].len(),
    )?);
    f.month = Some(month);
    f.day = Some(day);
    Some(())
}

/// A bare number: the day (1–2 digits, with an English ordinal suffix allowed), else the year.
fn read_number(token: &str, f: &mut Fields) -> Option<()> {
    let digits = token.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h', '.']);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
        return None;
    }
    let has_suffix = digits.len() != token.len();
    let n: u32 = digits.parse().ok()?;
    if f.day.is_none() && digits.len() <= 2 {
        f.day = Some(n);
    } else if f.year.is_none() && !has_suffix {
        f.year = Some(full_year(n, digits.len())?);
    } else {
        return None;
    }
    Some(())
}

/// Two-digit years: 00–49 are this century, 50–99 the last.
fn full_year(n: u32, digits: usize) -> Option<i32> {
    match digits {
        2 if n < 50 => Some(2000 + n as i32),
        2 => Some(1900 + n as i32),
        4 => Some(n as i32),
        _ => None,
    }
}

/// `2 jam lalu`, `5 menit yang lalu`, `3 hours ago`, `an hour ago`, `sejam lalu`,
/// `kemarin`, `kemarin 14:35 WIB`, `yesterday at 3pm`, `hari ini`, `today`, `just now`.
fn parse_relative(lower: &str, zone: Tz, now: DateTime<Utc>) -> Option<ParsedDate> {
    let stated = |at| ParsedDate {
        at,
        basis: TimeBasis::Stated,
    };
    if matches!(
        lower,
        "just now" | "baru saja" | "now" | "sekarang" | "barusan"
    ) {
        return Some(stated(now));
    }
    for (words, days_back) in [
        (&["kemarin", "yesterday", "kmrn"][..], 1),
        (&["hari ini", "today"][..], 0),
    ] {
        for word in words {
            if let Some(rest) = lower.strip_prefix(word) {
                return relative_day(rest, days_back, zone, now);
            }
        }
    }
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let (ago, rest) = match words.as_slice() {
        [rest @ .., "yang", "lalu"] | [rest @ .., "lalu"] | [rest @ .., "ago"] => (true, rest),
        _ => (false, &words[..]),
    };
    if !ago {
        return None;
    }
    // `Diperbarui 2 jam lalu`: words before the count say nothing.
    let mut rest = rest;
    while rest.len() > 2 && is_filler(rest[0]) {
        rest = &rest[1..];
    }
    let (count, unit) = match rest {
        [count, unit] => (count_word(count)?, *unit),
        // `sejam`, `semenit`, `sehari`: "one hour" in one word.
        [one] => (1, one.strip_prefix("se")?),
        _ => return None,
    };
    let unit_seconds: i64 = match unit.trim_end_matches('.') {
        "detik" | "second" | "seconds" | "sec" | "secs" | "s" => 1,
        "menit" | "minute" | "minutes" | "min" | "mins" | "m" => 60,
        "jam" | "hour" | "hours" | "hr" | "hrs" | "h" => 3600,
        "hari" | "day" | "days" | "d" => 86_400,
        "minggu" | "pekan" | "week" | "weeks" | "w" => 7 * 86_400,
        "bulan" | "month" | "months" => 30 * 86_400,
        "tahun" | "year" | "years" => 365 * 86_400,
        _ => return None,
    };
    let back = Duration::try_seconds(count.checked_mul(unit_seconds)?)?;
    Some(stated(now.checked_sub_signed(back)?))
}

/// A count in a relative form: digits, `a`/`an`/`one`, `se`/`satu`.
fn count_word(word: &str) -> Option<i64> {
    match word {
        "a" | "an" | "one" | "satu" | "se" => Some(1),
        _ if word.len() <= 6 => word.parse().ok().filter(|n| *n >= 0),
        _ => None,
    }
}

/// `kemarin` / `yesterday` / `today`, optionally with a time (`kemarin 14:35 WIB`).
fn relative_day(rest: &str, days_back: i64, zone: Tz, now: DateTime<Utc>) -> Option<ParsedDate> {
    let rest = rest.trim_start_matches([',', ' ']);
    if !rest.is_empty() && !rest.starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    let (time, offset) = if rest.is_empty() {
        ((NaiveTime::MIN, false), None)
    } else {
        match read_tokens(rest)? {
            Reading::TimeOnly { time, offset } => (time, offset),
            Reading::Full { .. } => return None,
        }
    };
    let day = local_date(now, offset, zone) - Duration::days(days_back);
    let mut naive = day.and_time(time.0);
    if time.1 {
        naive += Duration::days(1);
    }
    Some(resolve(naive, offset, zone))
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

    /// The fetch time the relative cases count from: Monday 10 March 2025, 12:00 WIB.
    const NOW: &str = "2025-03-10T05:00:00Z";

    /// What a case expects of the basis: stated, or assumed in the case's zone.
    #[derive(Clone, Copy)]
    enum Basis {
        S,
        A,
    }
    use Basis::{A, S};

    const JKT: &str = "Asia/Jakarta";
    const UTC: &str = "UTC";
    const NYC: &str = "America/New_York";
    const TYO: &str = "Asia/Tokyo";

    /// (text, the source's zone, the UTC instant, the basis).
    const CASES: &[(&str, &str, &str, Basis)] = &[
        // RFC 822/2822 and its broken variants.
        (
            "Tue, 10 Jun 2003 04:00:00 GMT",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 +0200",
            JKT,
            "2003-06-10T02:00:00Z",
            S,
        ),
        ("10 Jun 2003 04:00:00 GMT", JKT, "2003-06-10T04:00:00Z", S),
        (
            "Fri, 10 Jun 2003 04:00:00 GMT",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 03 04:00:00 GMT",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Thu, 01 Jan 04 19:48:21 GMT",
            JKT,
            "2004-01-01T19:48:21Z",
            S,
        ),
        (
            "Fri, 31 Dec 99 10:00:00 GMT",
            JKT,
            "1999-12-31T10:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 EST",
            JKT,
            "2003-06-10T09:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 PDT",
            JKT,
            "2003-06-10T11:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 UT",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 Z",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 A",
            JKT,
            "2003-06-10T05:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 N",
            JKT,
            "2003-06-10T03:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 Y",
            JKT,
            "2003-06-09T16:00:00Z",
            S,
        ),
        ("Tue, 10 Jun 2003 04:00 GMT", JKT, "2003-06-10T04:00:00Z", S),
        (
            "Tue,  10   Jun 2003,  04:00:00  GMT ",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 -0500",
            JKT,
            "2003-06-10T09:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 +05:30",
            JKT,
            "2003-06-09T22:30:00Z",
            S,
        ),
        (
            "Tue, 10 June 2003 04:00:00 GMT",
            JKT,
            "2003-06-10T04:00:00Z",
            S,
        ),
        (
            "Tuesday, June 10, 2003 4:00 PM EDT",
            JKT,
            "2003-06-10T20:00:00Z",
            S,
        ),
        (
            "Sun Jan  4 16:29:06 PST 2004",
            JKT,
            "2004-01-05T00:29:06Z",
            S,
        ),
        (
            "Wed, 25 Aug 2012 24:00:00 GMT",
            JKT,
            "2012-08-26T00:00:00Z",
            S,
        ),
        ("Tue, 10 Jun 2003 04:00:00", NYC, "2003-06-10T08:00:00Z", A),
        (
            "Tue, 10 Jun 2003 04:00:00 GMT+7",
            JKT,
            "2003-06-09T21:00:00Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00+0700",
            JKT,
            "2003-06-09T21:00:00Z",
            S,
        ),
        ("10 Jun 2003 4:00:00 pm GMT", JKT, "2003-06-10T16:00:00Z", S),
        (
            "Tue, 10 Jun 2003 12:30:00 AM GMT",
            JKT,
            "2003-06-10T00:30:00Z",
            S,
        ),
        ("June 10th, 2003 04:00 GMT", JKT, "2003-06-10T04:00:00Z", S),
        (
            "Tue, 10 Jun 2003 04:00:60 GMT",
            JKT,
            "2003-06-10T04:00:59Z",
            S,
        ),
        (
            "Tue, 10 Jun 2003 04:00:00 CET",
            JKT,
            "2003-06-10T03:00:00Z",
            S,
        ),
        // ISO 8601, extended and basic.
        ("2003-12-31T10:14:55Z", JKT, "2003-12-31T10:14:55Z", S),
        ("2003-12-31T10:14:55-08:00", JKT, "2003-12-31T18:14:55Z", S),
        (
            "2003-12-31T10:14:55.123+07:00",
            JKT,
            "2003-12-31T03:14:55.123Z",
            S,
        ),
        ("2003-12-31T10:14:55,5Z", JKT, "2003-12-31T10:14:55.5Z", S),
        ("2003-12-31T10:14Z", JKT, "2003-12-31T10:14:00Z", S),
        ("2003-12-31 10:14:55", JKT, "2003-12-31T03:14:55Z", A),
        ("2003-12-31", JKT, "2003-12-30T17:00:00Z", A),
        ("2003-12", UTC, "2003-12-01T00:00:00Z", A),
        ("20031231T101455Z", JKT, "2003-12-31T10:14:55Z", S),
        ("20031231T101455+0700", JKT, "2003-12-31T03:14:55Z", S),
        ("20031231", JKT, "2003-12-30T17:00:00Z", A),
        ("20031231T1014", TYO, "2003-12-31T01:14:00Z", A),
        ("2003-12-31T10:14:55+07", JKT, "2003-12-31T03:14:55Z", S),
        ("2003-12-31 10:14:55 WIB", UTC, "2003-12-31T03:14:55Z", S),
        ("2003-12-31t10:14:55z", JKT, "2003-12-31T10:14:55Z", S),
        ("2003-12-31T10:14:55 +0000", JKT, "2003-12-31T10:14:55Z", S),
        (
            "2025-03-30 02:30:00",
            "Europe/Berlin",
            "2025-03-30T01:30:00Z",
            A,
        ),
        (
            "2025-07-01 12:00:00",
            "Europe/Berlin",
            "2025-07-01T10:00:00Z",
            A,
        ),
        // Unix times.
        ("1700000000", JKT, "2023-11-14T22:13:20Z", S),
        ("1700000000123", JKT, "2023-11-14T22:13:20.123Z", S),
        ("1700000000.5", JKT, "2023-11-14T22:13:20.5Z", S),
        ("999999999", JKT, "2001-09-09T01:46:39Z", S),
        // Indonesian forms.
        ("10 September 2019 13:07", JKT, "2019-09-10T06:07:00Z", A),
        ("Senin (16/12/2024)", JKT, "2024-12-15T17:00:00Z", A),
        ("Senin, 16 Desember 2024", JKT, "2024-12-15T17:00:00Z", A),
        ("12 Des 2025", JKT, "2025-12-11T17:00:00Z", A),
        ("12 Des 2025 14:35:21 WIB", UTC, "2025-12-12T07:35:21Z", S),
        ("12 Des 2025 14:35:21 WITA", UTC, "2025-12-12T06:35:21Z", S),
        ("12 Des 2025 14:35:21 WIT", UTC, "2025-12-12T05:35:21Z", S),
        (
            "Senin, 16 Desember 2024 13:07 WIB",
            UTC,
            "2024-12-16T06:07:00Z",
            S,
        ),
        (
            "Kamis, 2 Januari 2025 | 09:15 WIB",
            UTC,
            "2025-01-02T02:15:00Z",
            S,
        ),
        ("16/12/2024 pukul 14.35 WIB", UTC, "2024-12-16T07:35:00Z", S),
        (
            "Selasa, 17/12/2024 14:35:21",
            JKT,
            "2024-12-17T07:35:21Z",
            A,
        ),
        (
            "Jumat, 20 Juni 2025 - 08:00 WITA",
            UTC,
            "2025-06-20T00:00:00Z",
            S,
        ),
        ("20-06-2025 08:00", JKT, "2025-06-20T01:00:00Z", A),
        ("2025/06/20 08:00", JKT, "2025-06-20T01:00:00Z", A),
        ("12/16/2024", UTC, "2024-12-16T00:00:00Z", A),
        ("16.12.2024 14.35", JKT, "2024-12-16T07:35:00Z", A),
        ("Rabu, 1 Januari 2025", UTC, "2025-01-01T00:00:00Z", A),
        ("Sabtu, 1 Februari 2025", UTC, "2025-02-01T00:00:00Z", A),
        ("Sabtu, 1 Maret 2025", UTC, "2025-03-01T00:00:00Z", A),
        ("Selasa, 1 April 2025", UTC, "2025-04-01T00:00:00Z", A),
        ("Kamis, 1 Mei 2025", UTC, "2025-05-01T00:00:00Z", A),
        ("Minggu, 1 Juni 2025", UTC, "2025-06-01T00:00:00Z", A),
        ("Selasa, 1 Juli 2025", UTC, "2025-07-01T00:00:00Z", A),
        ("Jumat, 1 Agustus 2025", UTC, "2025-08-01T00:00:00Z", A),
        ("Senin, 1 September 2025", UTC, "2025-09-01T00:00:00Z", A),
        ("Rabu, 1 Oktober 2025", UTC, "2025-10-01T00:00:00Z", A),
        ("Sabtu, 1 November 2025", UTC, "2025-11-01T00:00:00Z", A),
        ("Senin, 1 Desember 2025", UTC, "2025-12-01T00:00:00Z", A),
        ("3 Jan 2025", UTC, "2025-01-03T00:00:00Z", A),
        ("3 Feb 2025", UTC, "2025-02-03T00:00:00Z", A),
        ("4 Mar 2025", UTC, "2025-03-04T00:00:00Z", A),
        ("5 Apr 2025", UTC, "2025-04-05T00:00:00Z", A),
        ("6 Mei 2025", UTC, "2025-05-06T00:00:00Z", A),
        ("7 Jun 2025", UTC, "2025-06-07T00:00:00Z", A),
        ("8 Jul 2025", UTC, "2025-07-08T00:00:00Z", A),
        ("9 Agu 2025", UTC, "2025-08-09T00:00:00Z", A),
        ("10 Agt 2025", UTC, "2025-08-10T00:00:00Z", A),
        ("11 Ags 2025", UTC, "2025-08-11T00:00:00Z", A),
        ("12 Sep 2025", UTC, "2025-09-12T00:00:00Z", A),
        ("13 Sept. 2025", UTC, "2025-09-13T00:00:00Z", A),
        ("14 Okt 2025", UTC, "2025-10-14T00:00:00Z", A),
        ("15 Nov 2025", UTC, "2025-11-15T00:00:00Z", A),
        ("16 Des 2025", UTC, "2025-12-16T00:00:00Z", A),
        // A time alone: the latest such time not after the fetch.
        ("14:35:21 WIB", UTC, "2025-03-09T07:35:21Z", S),
        ("09:15 WIB", UTC, "2025-03-10T02:15:00Z", S),
        ("08:00", JKT, "2025-03-10T01:00:00Z", A),
        // Relative to the fetch.
        ("2 jam lalu", JKT, "2025-03-10T03:00:00Z", S),
        ("5 menit yang lalu", JKT, "2025-03-10T04:55:00Z", S),
        ("3 hours ago", JKT, "2025-03-10T02:00:00Z", S),
        ("an hour ago", JKT, "2025-03-10T04:00:00Z", S),
        ("sejam lalu", JKT, "2025-03-10T04:00:00Z", S),
        ("2 hari lalu", JKT, "2025-03-08T05:00:00Z", S),
        ("1 minggu lalu", JKT, "2025-03-03T05:00:00Z", S),
        ("30 detik lalu", JKT, "2025-03-10T04:59:30Z", S),
        ("10 minutes ago", JKT, "2025-03-10T04:50:00Z", S),
        ("Diperbarui 2 jam lalu", JKT, "2025-03-10T03:00:00Z", S),
        ("just now", JKT, "2025-03-10T05:00:00Z", S),
        ("kemarin", JKT, "2025-03-08T17:00:00Z", A),
        ("yesterday", UTC, "2025-03-09T00:00:00Z", A),
        ("Kemarin, 14:35 WIB", UTC, "2025-03-09T07:35:00Z", S),
        // 01:00 EDT on the fetch day in New York; the day before, after the switch to EDT.
        ("yesterday 3:04 pm", NYC, "2025-03-09T19:04:00Z", A),
        ("hari ini 08:00", JKT, "2025-03-10T01:00:00Z", A),
    ];

    #[test]
    fn dates_in_the_wild_read_to_the_exact_instant_and_basis() {
        let now = utc(NOW);
        let mut failures = Vec::new();
        for &(raw, zone_name, want, basis) in CASES {
            let want_basis = match basis {
                S => TimeBasis::Stated,
                A => TimeBasis::AssumedZone {
                    zone: zone_name.to_owned(),
                },
            };
            let want = Some(ParsedDate {
                at: utc(want),
                basis: want_basis,
            });
            let got = parse_date_at(raw, tz(zone_name), now);
            if got != want {
                failures.push(format!("{raw:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(CASES.len() >= 80, "{} cases", CASES.len());
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn without_a_fetch_time_relative_forms_and_lone_times_are_none() {
        let jakarta = tz(JKT);
        for raw in [
            "yesterday",
            "kemarin",
            "2 jam lalu",
            "3 hours ago",
            "12:00",
            "14:35 WIB",
        ] {
            assert_eq!(parse_date(raw, jakarta), None, "{raw}");
        }
        // The absolute forms read the same either way.
        let now = utc(NOW);
        for &(raw, zone_name, _, _) in &CASES[..95] {
            assert_eq!(
                parse_date(raw, tz(zone_name)),
                parse_date_at(raw, tz(zone_name), now),
                "{raw}"
            );
        }
    }

    #[test]
    fn junk_is_none() {
        let now = utc(NOW);
        for junk in [
            "",
            "   ",
            "2025-13-45 99:99:99",
            "31 Feb 2024 10:00 GMT",
            "Tue, 10 Jun 2003 04:00:00 +9999",
            "Tue, 10 Jun 2003 25:00:00 GMT",
            "ñ-é 2025",
            "hello world",
            "2 jam",
            "lalu",
            "1234567",
            "16 14:35",
            "Senin",
            "the meeting on 5 topics",
            &"9".repeat(500),
            &"Senin, 16 Desember 2024 ".repeat(10),
        ] {
            assert_eq!(parse_date_at(junk, tz(JKT), now), None, "{junk}");
        }
        assert!(zone("Mars/Olympus").is_none());
    }

    /// Random bytes and mutations of the table's cases: an answer or None, never a panic.
    #[test]
    fn never_panics_on_random_or_mutated_input() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_da7e);
        let zones = [
            tz(JKT),
            tz(UTC),
            tz(NYC),
            tz("Pacific/Kiritimati"),
            tz("Europe/Berlin"),
        ];
        let alphabet: Vec<char> = "0123456789:-+/.,() TZtzWIBAPMajdsgumnkerLl年月日ñ\u{0}\u{200b}"
            .chars()
            .collect();
        for i in 0..10_000 {
            let raw: String = if i % 3 == 0 {
                let bytes: Vec<u8> = (0..rng.usize(0..40)).map(|_| rng.u8(..)).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                let mut chars: Vec<char> = CASES[rng.usize(..CASES.len())].0.chars().collect();
                for _ in 0..rng.usize(1..4) {
                    let at = rng.usize(..=chars.len());
                    match rng.u8(0..3) {
                        0 if at < chars.len() => {
                            chars.remove(at);
                        }
                        1 if at < chars.len() => chars[at] = alphabet[rng.usize(..alphabet.len())],
                        _ => chars.insert(at, alphabet[rng.usize(..alphabet.len())]),
                    }
                }
                chars.into_iter().collect()
            };
            let zone = zones[rng.usize(..zones.len())];
            let now = DateTime::from_timestamp(rng.i64(-10_000_000_000..10_000_000_000), 0)
                .unwrap_or_default();
            let _ = parse_date_at(&raw, zone, now);
            let _ = parse_date(&raw, zone);
        }
        // The edges of chrono's range and of the counts.
        for raw in [
            "Fri, 31 Dec 9999 24:00:00 -1400",
            "0000-01-01T00:00:00+14:00",
            "999999 tahun lalu",
            "9999999999999",
            "9999-12-31T23:59:59.999999999999-14:00",
        ] {
            let _ = parse_date_at(raw, tz(JKT), DateTime::<Utc>::MIN_UTC);
            let _ = parse_date_at(raw, tz(JKT), DateTime::<Utc>::MAX_UTC);
        }
    }
}
