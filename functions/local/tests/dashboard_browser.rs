//! The dashboard in a real browser: headless Chromium against `pantau run --offline`: the
//! map, the crisis board and a mission's page.
//!
//! Chromium renders the page with its scripts, waits for the API's answers (virtual time), and
//! prints the resulting DOM; the test reads what an analyst would see from it. Screenshots are
//! kept under the target directory (`tmp/dashboard-*.png`) for a human to look at.
//!
//! `make test` installs Debian's chromium and sets `PANTAU_CHROMIUM`; without either, the test
//! says so and skips.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::OfflineRun;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PANTAU_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "PANTAU_CHROMIUM={} does not exist",
            path.display()
        );
        return Some(path);
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Opens `url` in headless Chromium, saves a screenshot to `png` and returns the rendered DOM.
fn render(browser: &Path, url: &str, png: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let common_args = |cmd: &mut Command| {
        cmd.args([
            "--headless",
            "--no-sandbox", // tests run as root in CI containers
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1400,1100",
            // Enough virtual time for the page's fetches to come back and be drawn.
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let mut dump = Command::new(browser);
    common_args(&mut dump);
    let output = dump
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut shot = Command::new(browser);
    common_args(&mut shot);
    let status = shot
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        status.status.success() && png.exists(),
        "no screenshot at {}",
        png.display()
    );
    println!("screenshot: {}", png.display());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Occurrences of `needle` in `dom`.
fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

#[test]
fn the_map_and_a_mission_page_render_with_data() {
    let Some(browser) = chromium() else {
        println!("SKIPPED: no Chromium (install Debian's chromium, or set PANTAU_CHROMIUM)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = OfflineRun::start(dir.path());
    assert!(
        run.wait_for_items("/missions/tokyo/items") > 0,
        "no publications served within 60 s"
    );
    // The first cycle's hazard and media items open crises; the board is drawn once they are in.
    assert!(
        run.wait_for_list("/crises", "crises", 2) >= 2,
        "no crises within 60 s"
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));

    // The front page: the map with a marker per host country, and the list of missions.
    let dom = render(
        &browser,
        &format!("{}/#key={}", run.base, run.key),
        &shots.join("dashboard-map.png"),
    );
    let markers = count(&dom, "<circle ");
    let missions = count(&dom, "<li data-id=");
    let countries = count(&dom, "<path d=");
    println!("map: {countries} country outlines, {markers} markers; {missions} missions listed");
    assert!(
        countries > 150,
        "the world map has its countries: {countries}"
    );
    assert!(markers >= 90, "a marker per host country: {markers}");
    assert!(missions >= 130, "every mission is listed: {missions}");
    assert!(dom.contains("class=\"legend\""), "the map has its legend");
    // The crisis board: the recorded world holds crises (an earthquake in Japan, floods in
    // Malaysia) with the missions' responses and their latencies.
    let crises = count(&dom, "data-crisis=");
    let responses = count(&dom, "<span class=\"latency\">");
    println!("crisis board: {crises} crises, {responses} responses with latencies");
    assert!(
        crises >= 2,
        "the crisis board lists the recorded crises: {crises}"
    );
    assert!(
        responses >= 2,
        "responses are listed with their latencies: {responses}"
    );
    // The recordings are fixed in time: their crises are active only for a few days after
    // they were made, so the map's crisis colours are checked while there are active ones.
    let active = run.list_len("/crises?state=active", "crises");
    let crisis_markers = count(&dom, "marker crisis-");
    println!("map: {crisis_markers} countries marked in crisis; {active} active crises");
    assert!(
        active == 0 || crisis_markers >= 1,
        "the map marks the countries in crisis: {crisis_markers}"
    );
    assert!(
        !dom.contains(&run.key),
        "the key is taken out of the address and the page"
    );

    // A mission's own page, by its address: its name, health line and publications.
    let dom = render(
        &browser,
        &format!("{}/#mission=tokyo&key={}", run.base, run.key),
        &shots.join("dashboard-mission-tokyo.png"),
    );
    let items = count(&dom, "<div class=\"title\">");
    println!("mission page tokyo: {items} publications");
    assert!(
        dom.contains("<li data-id=\"tokyo\" class=\"active\">"),
        "tokyo is the open mission"
    );
    assert!(
        dom.contains("Publikasi resmi terakhir"),
        "the mission's health line is drawn"
    );
    assert!(items > 0, "the mission's publications are listed");
    let bars = count(&dom, "<rect ");
    println!("mission page tokyo: {bars} bars in its activity chart");
    assert!(
        dom.contains("class=\"activity-chart\""),
        "the activity chart is drawn"
    );
    // Likewise the chart covers the last 90 days, which the recordings leave one day.
    let days = run.list_len("/missions/tokyo/activity", "days");
    assert!(
        days == 0 || bars > 0,
        "the chart has bars for the mission's {days} days with items"
    );
}
