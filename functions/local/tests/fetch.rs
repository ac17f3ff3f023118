//! `pantau fetch URL` against a loopback server: one JSON object, exit status by outcome.

use std::process::Command;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;

const PANTAU: &str = env!("CARGO_BIN_EXE_pantau");
/// "Café" in windows-1252, declared by the XML prolog only.
const FEED: &[u8] = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss>Caf\xE9</rss>";

/// Serves the fixture on 127.0.0.1 from a background thread; returns its base URL.
fn fixture() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let router = Router::new()
                .route(
                    "/feed.xml",
                    get(|| async {
                        (
                            [
                                (header::CONTENT_TYPE, "application/rss+xml"),
                                (header::ETAG, "\"v1\""),
                            ],
                            FEED,
                        )
                    }),
                )
                .route(
                    "/busy",
                    get(|| async {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            [(header::RETRY_AFTER, "90")],
                        )
                    }),
                )
                .route(
                    "/elsewhere",
                    get(move || async move {
                        let to = format!("http://127.0.0.2:{port}/feed.xml");
                        (StatusCode::FOUND, [(header::LOCATION, to)])
                    }),
                );
            axum::serve(listener, router).await.unwrap();
        });
    });
    base
}

/// Runs `pantau fetch ARGS`; returns the exit success and the printed JSON.
fn pantau_fetch(args: &[&str]) -> (bool, serde_json::Value) {
    let output = Command::new(PANTAU)
        .arg("fetch")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    println!("pantau fetch {args:?} → {stdout}");
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    (
        output.status.success(),
        serde_json::from_str(&stdout).unwrap(),
    )
}

#[test]
fn fetch_prints_the_outcome_as_json_and_fails_with_the_fetch() {
    let base = fixture();
    let feed = format!("{base}/feed.xml");

    let (ok, out) = pantau_fetch(&[&feed, "--allow-loopback"]);
    assert!(ok);
    assert_eq!(out["ok"], true);
    assert_eq!(out["status"], 200);
    assert_eq!(out["final_url"], feed.as_str());
    assert_eq!(out["bytes"], FEED.len());
    assert_eq!(out["content_type"], "application/rss+xml");
    assert_eq!(out["charset"], "windows-1252");
    assert_eq!(out["etag"], "\"v1\"");
    assert!(out["elapsed_ms"].is_u64());
    assert!(out["error"].is_null());

    // Without the flag, loopback is refused like any private address.
    let (ok, out) = pantau_fetch(&[&feed]);
    assert!(!ok);
    assert_eq!(out["ok"], false);
    assert_eq!(out["error"]["kind"], "blocked");
    assert_eq!(out["error"]["retryable"], false);

    // The flag opens 127.0.0.1, not the rest of loopback, even through a redirect.
    let (ok, out) = pantau_fetch(&[&format!("{base}/elsewhere"), "--allow-loopback"]);
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "blocked");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.2")
    );

    let (ok, out) = pantau_fetch(&[&format!("{base}/busy"), "--allow-loopback"]);
    assert!(!ok);
    assert_eq!(out["status"], 503);
    assert_eq!(out["retry_after_s"], 90);
    assert_eq!(out["error"]["kind"], "status");
    assert_eq!(out["error"]["retryable"], true);

    let (ok, out) = pantau_fetch(&["ftp://example.org/x"]);
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "invalid_url");
    let (ok, out) = pantau_fetch(&["not a url"]);
    assert!(!ok);
    assert_eq!(out["error"]["kind"], "invalid_url");
}
