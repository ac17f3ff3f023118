//! Pantau's side of `make bench-normalize`: parses the same files the Python reference
//! stack does (bench/normalize.py) and prints one JSON object per measurement.
//!
//!     bench_normalize feeds LIST     files named in LIST (one path a line) as feeds
//!     bench_normalize pages LIST [TEXT_DIR]   the same, as article pages (main-text
//!                                    extraction); with TEXT_DIR, each page's text is
//!                                    written there as FILE_NAME.txt (for scoring)
//!     bench_normalize peak-feed MB   parse a generated feed of MB megabytes, report VmHWM
//!     bench_normalize feed-items LIST [LANGUAGE]   every item of every feed in LIST as a
//!                                    JSON line (fetch time fixed, LANGUAGE as the source's
//!                                    language), to check that a faster parser reads the same
//!
//! Each list is run whole, again and again until a second has passed, so short corpora
//! still give a stable figure. Build it optimized: `cargo build --release -p pantau
//! --example bench_normalize`.

use std::time::{Duration, Instant};

use chrono::Utc;
use pantau::model::{RawMeta, Role, SourceKind};
use pantau::parse::{self, ParseInput};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [mode, list] if mode == "feeds" => read_list(list).map(|files| bench_feeds(&files)),
        [mode, list] if mode == "pages" => read_list(list).map(|files| bench_pages(&files)),
        [mode, list, text_dir] if mode == "pages" => read_list(list).and_then(|files| {
            write_texts(&files, text_dir)?;
            Ok(bench_pages(&files))
        }),
        [mode, megabytes] if mode == "peak-feed" => megabytes
            .parse::<usize>()
            .map_err(|e| format!("{megabytes:?} is not a number of megabytes: {e}"))
            .and_then(peak_feed),
        [mode, list] if mode == "feed-items" => read_list(list).map(|files| feed_items(&files, None)),
        [mode, list, language] if mode == "feed-items" => {
            read_list(list).map(|files| feed_items(&files, Some(language)))
        }
        _ => Err(
            "usage: bench_normalize feeds LIST | pages LIST | peak-feed MB | feed-items LIST [LANGUAGE]"
                .into(),
        ),
    };
    match result {
        Ok(json) => println!("{json}"),
        Err(message) => {
            eprintln!("bench_normalize: {message}");
            std::process::exit(2);
        }
    }
}

/// The files of a list, read into memory (reading is not what is measured).
fn read_list(list: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let names = std::fs::read_to_string(list).map_err(|e| format!("{list}: {e}"))?;
    names
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|path| {
            std::fs::read(path)
                .map(|bytes| (path.to_owned(), bytes))
                .map_err(|e| format!("{path}: {e}"))
        })
        .collect()
}

fn meta(kind: SourceKind, url: &str) -> RawMeta {
    RawMeta {
        mission: "bench".into(),
        source: "bench".into(),
        kind,
        role: Role::Official,
        url: url.into(),
        final_url: url.into(),
        status: 200,
        content_type: None,
        etag: None,
        last_modified: None,
        fetched_at: Utc::now(),
        sha256: String::new(),
        language: None,
        charset: None,
        article: false,
    }
}

/// Items of one feed file, through the same entry point `normalize` uses.
fn parse_feed(path: &str, body: &[u8]) -> usize {
    let meta = meta(SourceKind::Feed, "https://example.org/feed");
    let input = ParseInput {
        body,
        meta: &meta,
        raw_key: path,
        time_zone: "UTC",
        source_language: None,
    };
    parse::parse(&input).map(|items| items.len()).unwrap_or(0)
}

/// Every item of every file as a JSON line (a file that is not a feed: its error), with the
/// fetch time fixed so two builds' outputs can be compared line by line.
fn feed_items(files: &[(String, Vec<u8>)], language: Option<&str>) -> String {
    let mut meta = meta(SourceKind::Feed, "https://example.org/feed");
    meta.fetched_at = chrono::DateTime::UNIX_EPOCH;
    let mut out = String::new();
    for (path, body) in files {
        let input = ParseInput {
            body,
            meta: &meta,
            raw_key: path,
            time_zone: "UTC",
            source_language: language,
        };
        match parse::parse(&input) {
            Ok(items) => {
                for item in items {
                    let json = serde_json::to_string(&item).unwrap_or_else(|e| e.to_string());
                    out.push_str(&json);
                    out.push('\n');
                }
            }
            Err(e) => out.push_str(&format!("{path}: {e}\n")),
        }
    }
    out
}

/// One item per page whose main text is found.
fn parse_page(path: &str, body: &[u8]) -> usize {
    let meta = meta(SourceKind::HtmlList, "https://example.org/article");
    let input = ParseInput {
        body,
        meta: &meta,
        raw_key: path,
        time_zone: "UTC",
        source_language: None,
    };
    parse::article::parse(&input, chrono_tz::UTC)
        .map(|items| items.len())
        .unwrap_or(0)
}

/// Each page's extracted text into `dir/NAME.txt` (empty when nothing was found), so the
/// benchmark can score it against the evaluation's segments.
fn write_texts(files: &[(String, Vec<u8>)], dir: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    for (path, body) in files {
        let meta = meta(SourceKind::HtmlList, "https://example.org/article");
        let input = ParseInput {
            body,
            meta: &meta,
            raw_key: path,
            time_zone: "UTC",
            source_language: None,
        };
        let text = parse::article::parse(&input, chrono_tz::UTC)
            .ok()
            .and_then(|items| items.into_iter().next())
            .and_then(|item| item.body)
            .unwrap_or_default();
        let name = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = std::path::Path::new(dir).join(format!("{name}.txt"));
        std::fs::write(&out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

fn bench_feeds(files: &[(String, Vec<u8>)]) -> String {
    measure("feeds", files, parse_feed)
}

fn bench_pages(files: &[(String, Vec<u8>)]) -> String {
    measure("pages", files, parse_page)
}

/// Runs `parse` over all files until at least a second has passed; the rates are per pass.
fn measure(name: &str, files: &[(String, Vec<u8>)], parse: fn(&str, &[u8]) -> usize) -> String {
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let (mut passes, mut items) = (0u32, 0usize);
    while passes == 0 || start.elapsed() < Duration::from_secs(1) {
        items = files.iter().map(|(path, body)| parse(path, body)).sum();
        passes += 1;
    }
    let seconds = start.elapsed().as_secs_f64() / f64::from(passes);
    let cpu = match (cpu_start, cpu_seconds()) {
        (Some(before), Some(after)) => format!("{:.6}", (after - before) / f64::from(passes)),
        _ => "null".into(),
    };
    format!(
        r#"{{"stack":"pantau","corpus":"{name}","files":{},"bytes":{bytes},"items":{items},"seconds":{seconds:.6},"cpu_seconds":{cpu},"passes":{passes}}}"#,
        files.len()
    )
}

/// The CPU time (user and system) this process has used, from /proc/self/stat. On a machine
/// shared with other work, wall time measures the neighbours too; CPU time much less.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): utime and
    // stime are the 12th and 13th, in clock ticks (USER_HZ, 100 a second on Linux).
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// A generated RSS 2.0 feed of about `megabytes` MB parsed once; the process's peak
/// resident memory (VmHWM, which includes the feed itself) is the figure.
fn peak_feed(megabytes: usize) -> Result<String, String> {
    let target = megabytes * 1024 * 1024;
    let mut feed = String::with_capacity(target + 4096);
    feed.push_str(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title><link>https://example.org/</link><description>generated</description>"#,
    );
    let mut n = 0;
    while feed.len() < target {
        n += 1;
        feed.push_str(&format!(
            "<item><title>Berita nomor {n}: KBRI menggelar acara budaya</title>\
             <link>https://example.org/berita/{n}?utm_source=rss</link>\
             <guid>https://example.org/berita/{n}</guid>\
             <pubDate>Mon, 20 Jan 2025 10:{:02}:00 +0700</pubDate>\
             <description>&lt;p&gt;Kedutaan Besar Republik Indonesia menggelar acara budaya \
             ke-{n} yang dihadiri warga dan mitra setempat, dengan pameran batik, kuliner dan \
             pertunjukan musik tradisional.&lt;/p&gt;</description></item>",
            n % 60
        ));
    }
    feed.push_str("</channel></rss>");
    let start = Instant::now();
    let items = parse_feed("generated.xml", feed.as_bytes());
    let seconds = start.elapsed().as_secs_f64();
    let peak_kb = vm_hwm_kb().ok_or("no VmHWM in /proc/self/status (not Linux?)")?;
    Ok(format!(
        r#"{{"stack":"pantau","corpus":"peak-feed","bytes":{},"items":{items},"seconds":{seconds:.6},"vm_hwm_kb":{peak_kb}}}"#,
        feed.len()
    ))
}

fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
