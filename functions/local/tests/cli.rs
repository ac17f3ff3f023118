//! The `pantau` program as a user runs it.

mod common;

use std::process::Command;
use std::time::Instant;

use common::{OfflineRun, PANTAU};

/// `pantau run --offline` on a fresh data directory serves publications within seconds.
#[test]
fn offline_run_serves_publications_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let run = OfflineRun::start(dir.path());
    let base = &run.base;
    let client = reqwest::blocking::Client::new();
    let refused = client.get(format!("{base}/missions")).send().unwrap();
    assert_eq!(refused.status(), 401, "data routes need the key");
    let items = run.wait_for_items("/missions/tokyo/items");
    assert!(items > 0, "no publications served within 60 s");
    let page = client.get(format!("{base}/")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
}

/// Without network, `pantau run` says so plainly and points to the offline mode.
#[test]
fn run_without_network_says_so_and_points_to_offline_mode() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(PANTAU)
        .args(["run", "--data-dir"])
        .arg(dir.path())
        // A closed loopback port stands in for an unreachable portal host.
        .env("PANTAU_PORTAL_PROBE", "127.0.0.1:9")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no network"), "{stderr}");
    assert!(stderr.contains("--offline"), "{stderr}");
}

/// `pantau keys create`, `list` and `revoke` on a data directory.
#[test]
fn keys_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let keys = |args: &[&str]| {
        let output = Command::new(PANTAU)
            .arg("keys")
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    };
    let (ok, out, err) = keys(&["create", "desk asia"]);
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("x-api-key: "))
        .expect("the key is printed")
        .to_owned();
    assert!(secret.starts_with("pantau_"));
    let id = out
        .split_whitespace()
        .find(|w| w.starts_with("key_"))
        .unwrap()
        .to_owned();
    let (ok, listed, _) = keys(&["list"]);
    assert!(ok);
    assert!(listed.contains(&id) && listed.contains("active") && listed.contains("desk asia"));
    assert!(!listed.contains(&secret), "list never shows the key");
    let (ok, revoked, _) = keys(&["revoke", &id]);
    assert!(ok);
    assert!(revoked.contains("revoked"));
    let (ok, _, err) = keys(&["revoke", "key_000000000000"]);
    assert!(!ok && err.contains("no key"), "{err}");
    let table = std::fs::read(dir.path().join("pantau.sqlite")).unwrap();
    let secret_part = &secret.as_bytes()[7..];
    assert!(
        !table.windows(secret_part.len()).any(|w| w == secret_part),
        "the table holds no key"
    );
}

#[test]
fn parse_prints_items_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://example.org/</link>
<item><title>WNI di Osaka &amp; Kyoto</title><link>https://example.org/a?utm_source=x</link><guid>a</guid><pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item>
<item><title>Second</title><link>https://example.org/b</link></item></channel></rss>"#,
    )
    .unwrap();
    let output = Command::new(PANTAU)
        .args(["parse", "--kind", "feed"])
        .arg(&feed)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let items: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["title"], "WNI di Osaka & Kyoto");
    assert_eq!(items[0]["url"], "https://example.org/a");
    assert_eq!(items[0]["published_at"], "2025-06-10T04:00:00Z");

    let bad = Command::new(PANTAU)
        .args(["parse", "--kind", "telex"])
        .arg(&feed)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown kind \"telex\""));
}

/// `pantau run --offline --once` fetches every built-in source, the generated media searches
/// and the hazard feeds included, from the recordings without a single failure.
#[test]
fn offline_once_fetches_every_source_without_failures() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(PANTAU)
        .args(["run", "--offline", "--once", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "off")
        .env_remove("PANTAU_RELIEFWEB_APPNAME")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    println!(
        "pantau run --offline --once took {:.1} s",
        elapsed.as_secs_f64()
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sources: usize = stdout
        .lines()
        .find_map(|l| {
            l.split(" missions, ")
                .nth(1)?
                .strip_suffix(" sources")?
                .parse()
                .ok()
        })
        .expect("the data line names the source count");
    let cycle = stdout
        .lines()
        .find(|l| l.starts_with("scrape cycle: "))
        .expect("a cycle summary");
    assert!(
        cycle.starts_with(&format!("scrape cycle: {sources} due, {sources} fetched, ")),
        "{cycle}"
    );
    assert!(cycle.contains(" 0 failed, 0 deferred"), "{cycle}");
    // Portals (134 + hq), ~380 generated media searches and 4 hazard feeds.
    assert!(sources > 500, "{sources}");
}

/// `pantau parse --kind usgs FILE` prints one hazard item per quake, the event inside.
#[test]
fn parse_reads_a_usgs_feed_into_hazard_items() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/src/parse/testdata/usgs_week.geojson"
    );
    let output = Command::new(PANTAU)
        .args(["parse", "--kind", "usgs", fixture])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let items: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["role"], "hazard");
    assert_eq!(items[0]["guid"], "us7000r1ja");
    assert_eq!(items[0]["hazard"]["magnitude"], 6.1);
    assert_eq!(items[0]["hazard"]["countries"][0]["code"], "JP");
    assert_eq!(items[1]["hazard"]["countries"][0]["code"], "TR");
    assert_eq!(items[2]["hazard"]["countries"], serde_json::json!([]));
}

#[test]
fn parse_article_prints_one_item_with_the_main_text() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        r#"<!doctype html><html lang="en"><head><title>Consular Services Resume | Embassy</title>
<meta property="article:published_time" content="2025-03-04T09:00:00+07:00">
<meta name="author" content="Press Office"></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/contact">Contact us</a></nav>
<article><h1>Consular Services Resume</h1>
<p>The embassy resumes its consular services on Monday after the national holiday, with
passport renewals and civil registration handled at the counters from nine in the morning.</p>
<p>Citizens are asked to book an appointment online and to bring the original documents,
as copies alone cannot be processed at the counter under the current regulations.</p>
</article><footer>Copyright 2025 Embassy of Indonesia</footer></body></html>"#,
    )
    .unwrap();
    let output = Command::new(PANTAU)
        .args([
            "parse",
            "--kind",
            "article",
            "--url",
            "https://example.org/news/1",
        ])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let items: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 1, "{stdout}");
    let item = &items[0];
    assert_eq!(item["kind"], "html_list");
    assert_eq!(item["title"], "Consular Services Resume");
    assert_eq!(item["url"], "https://example.org/news/1");
    assert_eq!(item["published_at"], "2025-03-04T02:00:00Z");
    assert_eq!(item["language"], "en");
    assert_eq!(item["authors"][0], "Press Office");
    let body = item["body"].as_str().unwrap();
    assert!(body.contains("resumes its consular services"), "{body}");
    assert!(
        !body.contains("Contact us") && !body.contains("Copyright"),
        "{body}"
    );
}
