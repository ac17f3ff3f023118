//! `pantau fetch URL --allow-loopback` against the hostile fixture server
//! (`pantau_tests::hostile`): the built binary, production's limits, one JSON object naming
//! the kind of failure.

use std::process::Command;

use pantau_tests::hostile::{self, HostileServer, paths};
use serde_json::Value;

const PANTAU: &str = env!("CARGO_BIN_EXE_pantau");

/// Runs `pantau fetch URL --allow-loopback` off the runtime (the server runs on it); returns
/// the exit success and the one JSON object printed.
async fn pantau_fetch(url: String) -> (bool, Value) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(PANTAU)
            .args(["fetch", &url, "--allow-loopback"])
            .env("RUST_LOG", "warn")
            .output()
    })
    .await
    .expect("join")
    .expect("run pantau");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    println!("pantau fetch → {stdout}");
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    let json = serde_json::from_str(&stdout).expect("JSON");
    (output.status.success(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_names_the_kind_of_each_hostile_failure() {
    let server = HostileServer::start().await.expect("hostile server");

    // Inflates past the 10 MB body cap from ~100 KB on the wire.
    let (ok, out) = pantau_fetch(server.url(paths::GZIP_BOMB)).await;
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "too_large");
    assert_eq!(out["error"]["retryable"], false);

    let (ok, out) = pantau_fetch(server.url(paths::ENDLESS)).await;
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "too_large");

    let (ok, out) = pantau_fetch(server.url(paths::REDIRECT_LOOP)).await;
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "too_many_redirects");
    // The first request and production's 5 redirects.
    assert_eq!(server.requests("/redirect-loop/"), 6);

    let (ok, out) = pantau_fetch(server.url(paths::ROBOTS_DISALLOWED)).await;
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "disallowed_by_robots");
    assert_eq!(server.requests(paths::ROBOTS_DISALLOWED), 0);

    let (ok, out) = pantau_fetch(server.url(paths::TOO_MANY_REQUESTS)).await;
    assert!(!ok);
    assert_eq!(out["status"], 429);
    assert_eq!(out["error"]["kind"], "status");
    assert_eq!(out["error"]["retryable"], true);
    assert_eq!(
        out["retry_after_s"],
        hostile::TOO_MANY_REQUESTS_RETRY_AFTER.as_secs()
    );

    // A wrong charset is reported as declared (the bytes are left as served).
    let (ok, out) = pantau_fetch(server.url(paths::CP1252_DECLARED_UTF8)).await;
    assert!(ok);
    assert_eq!(out["charset"], "UTF-8");
    let (ok, out) = pantau_fetch(server.url(paths::SHIFT_JIS_PROLOG)).await;
    assert!(ok);
    assert_eq!(out["charset"], "Shift_JIS");
    let (ok, out) = pantau_fetch(server.url(paths::SHIFT_JIS_UNDECLARED)).await;
    assert!(ok);
    assert!(out["charset"].is_null());
}
