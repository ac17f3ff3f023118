//! The fetcher's guards and limits on loopback: one allowed address among refused ones, a
//! gzip bomb, robots.txt, `Expires`, charsets.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;

use super::tests::{loopback_policy, serve};
use super::*;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn the_classifier_refuses_private_link_local_metadata_and_special_ranges() {
    for ip in [
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.0.1",
        "192.168.255.255",
        "169.254.169.254", // cloud metadata
        "169.254.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.2",
        "0.1.2.3",
        "192.0.0.8",
        "198.18.0.1",
        "240.0.0.1",
        "224.0.0.1",
        "fd00::1",
        "fdff:ffff::1",
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::10.0.0.1",
        "64:ff9b::a00:1",     // NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
        "2002:a00:1::1",      // 6to4 of 10.0.0.1
        "2002:7f00:1::1",     // 6to4 of 127.0.0.1
    ] {
        assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
    }
    for ip in [
        "172.15.255.255",
        "172.32.0.1",
        "192.169.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.255.255",
        "1.1.1.1",
        "203.217.1.1",
        "fe00::1",
        "2400:cb00::1",
        "64:ff9b::808:808", // NAT64 of 8.8.8.8
        "2002:808:808::1",  // 6to4 of 8.8.8.8
    ] {
        assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
    }
}

/// A listener on 127.0.0.2 that counts connections and answers nothing useful.
async fn second_loopback_listener(port: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = match tokio::net::TcpListener::bind(("127.0.0.2", port)).await {
        Ok(l) => l,
        Err(_) => tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap(),
    };
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, connections)
}

#[tokio::test]
async fn one_allowed_loopback_address_does_not_open_another_even_by_redirect() {
    // The second listener takes the port of a first server on 127.0.0.1 when it can, so the
    // two targets differ by address only.
    let first = serve(Router::new()).await;
    let (other_port, other_connections) = second_loopback_listener(first.port().unwrap()).await;
    let elsewhere = format!("http://127.0.0.2:{other_port}/secret");
    let to = elsewhere.clone();
    let base = serve(Router::new().route("/ok", get(|| async { "fine" })).route(
        "/hop",
        get(move || {
            let to = to.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, to)]) }
        }),
    ))
    .await;
    let f = Fetcher::new(FetchPolicy {
        allow_private_networks: false,
        allowed_addresses: vec![LOCALHOST],
        ..loopback_policy()
    })
    .unwrap();

    let ok = f
        .get(FetchRequest::new(base.join("ok").unwrap()))
        .await
        .unwrap();
    assert_eq!(&ok.body[..], b"fine");

    let redirected = f
        .get(FetchRequest::new(base.join("hop").unwrap()))
        .await
        .unwrap_err();
    assert!(
        matches!(&redirected, FetchError::Blocked { url, .. } if *url == elsewhere),
        "{redirected:?}"
    );
    assert!(!redirected.is_retryable());
    let direct = f
        .get(FetchRequest::new(Url::parse(&elsewhere).unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(direct, FetchError::Blocked { .. }), "{direct:?}");
    assert_eq!(other_connections.load(Ordering::SeqCst), 0);

    // With loopback allowed wholesale, the same redirect does reach 127.0.0.2 (the listener
    // hangs up, so it is a transfer error): the refusal above was the guard's.
    let open = Fetcher::new(loopback_policy()).unwrap();
    let reached = open
        .get(FetchRequest::new(base.join("hop").unwrap()))
        .await
        .unwrap_err();
    assert!(
        !matches!(reached, FetchError::Blocked { .. }),
        "{reached:?}"
    );
    assert!(other_connections.load(Ordering::SeqCst) >= 1);
}

/// A gzip member whose deflate stream is one zero byte then `repeats` copies of "repeat the
/// last 258 bytes", in fixed Huffman codes: 13 bits per 258 output bytes (a ratio near 160:1).
fn gzip_of_zeros(repeats: usize) -> (Vec<u8>, usize) {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        /// Plain values go least significant bit first.
        fn push(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn push_code(&mut self, code: u64, len: u32) {
            let reversed = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
            self.push(reversed, len);
        }
    }
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.push(1, 1); // the final block
    bits.push(1, 2); // fixed Huffman codes
    bits.push_code(0x30, 8); // literal 0
    for _ in 0..repeats {
        bits.push_code(0xc5, 8); // length 258 (symbol 285)
        bits.push_code(0, 5); // distance 1
    }
    bits.push_code(0, 7); // end of block
    if bits.n > 0 {
        bits.push(0, 8 - bits.n);
    }
    let size = 1 + 258 * repeats;
    let crc = crc32_of_zeros(size);
    let mut out = bits.out;
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(size as u32).to_le_bytes());
    (out, size)
}

fn crc32_of_zeros(len: usize) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !(0..len).fold(!0u32, |c, _| table[(c & 0xff) as usize] ^ (c >> 8))
}

async fn gzip_server(body: Vec<u8>) -> Url {
    let body = Bytes::from(body);
    serve(Router::new().route(
        "/bomb",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_ENCODING, "gzip")], body) }
        }),
    ))
    .await
}

#[tokio::test]
async fn the_body_cap_applies_after_decompression_so_a_gzip_bomb_fails_fast() {
    let limit = 1024 * 1024;
    let policy = FetchPolicy {
        max_body_bytes: limit,
        ..loopback_policy()
    };
    // Under the cap: decoded in full (the encoder and the decoding both work).
    let (small, small_size) = gzip_of_zeros(2_000);
    let base = gzip_server(small).await;
    let f = Fetcher::new(policy.clone()).unwrap();
    let ok = f
        .get(FetchRequest::new(base.join("bomb").unwrap()))
        .await
        .unwrap();
    assert_eq!(ok.body.len(), small_size);
    assert!(ok.body.iter().all(|&b| b == 0));

    // 64 MiB from about 400 KiB: refused once the decoded bytes pass 1 MiB.
    let (bomb, bomb_size) = gzip_of_zeros(64 * 1024 * 1024 / 258);
    eprintln!(
        "gzip bomb: {} bytes on the wire inflate to {bomb_size}",
        bomb.len()
    );
    assert!(
        bomb.len() < limit,
        "the compressed body alone is under the cap"
    );
    let base = gzip_server(bomb).await;
    let started = Instant::now();
    let err = f
        .get(FetchRequest::new(base.join("bomb").unwrap()))
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("gzip bomb refused in {took:?}: {err}");
    assert!(
        matches!(err, FetchError::TooLarge { limit: l, .. } if l == limit),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn robots_txt_is_obeyed_on_every_hop_unless_switched_off() {
    let robots_hits = Arc::new(AtomicUsize::new(0));
    let hits = robots_hits.clone();
    let base = serve(
        Router::new()
            .route(
                "/robots.txt",
                get(move || {
                    hits.fetch_add(1, Ordering::SeqCst);
                    async { "User-agent: *\nDisallow: /admin\nAllow: /admin/public\n" }
                }),
            )
            .route("/admin/x", get(|| async { "hidden" }))
            .route("/admin/public", get(|| async { "shown" }))
            .route(
                "/go",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/admin/x")]) }),
            ),
    )
    .await;
    let f = Fetcher::new(loopback_policy()).unwrap();
    let get = |path: &str| f.get(FetchRequest::new(base.join(path).unwrap()));
    let err = get("admin/x").await.unwrap_err();
    assert!(
        matches!(&err, FetchError::DisallowedByRobots { robots, .. } if robots.ends_with("/robots.txt")),
        "{err:?}"
    );
    assert_eq!(err.kind(), "disallowed_by_robots");
    assert!(!err.is_retryable());
    assert_eq!(&get("admin/public").await.unwrap().body[..], b"shown");
    let redirected = get("go").await.unwrap_err();
    assert!(
        matches!(redirected, FetchError::DisallowedByRobots { .. }),
        "{redirected:?}"
    );
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1, "cached per origin");

    let ignoring = Fetcher::new(FetchPolicy {
        obey_robots: false,
        ..loopback_policy()
    })
    .unwrap();
    let ok = ignoring
        .get(FetchRequest::new(base.join("admin/x").unwrap()))
        .await
        .unwrap();
    assert_eq!(&ok.body[..], b"hidden");
}

#[tokio::test]
async fn responses_report_expires_and_charset() {
    let base = serve(
        Router::new()
            .route(
                "/expiring",
                get(|| async {
                    (
                        [
                            (header::DATE, "Sun, 01 Jun 2025 00:00:00 GMT"),
                            (header::EXPIRES, "Sun, 01 Jun 2025 00:30:00 GMT"),
                            (header::CONTENT_TYPE, "text/html; charset=Shift_JIS"),
                        ],
                        "<html></html>",
                    )
                }),
            )
            .route(
                "/meta",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        "<html><head><meta charset=\"iso-8859-1\"></head></html>",
                    )
                }),
            )
            // Bytes, not a str: axum labels a str `text/plain; charset=utf-8`.
            .route("/plain", get(|| async { &b"no declaration"[..] })),
    )
    .await;
    let f = Fetcher::new(loopback_policy()).unwrap();
    let get = |path: &str| f.get(FetchRequest::new(base.join(path).unwrap()));
    let expiring = get("expiring").await.unwrap();
    assert_eq!(expiring.expires, Some(Duration::from_secs(1800)));
    assert_eq!(expiring.charset.as_deref(), Some("Shift_JIS"));
    let meta = get("meta").await.unwrap();
    assert_eq!(meta.charset.as_deref(), Some("windows-1252"));
    assert_eq!(meta.expires, None);
    assert_eq!(get("plain").await.unwrap().charset, None);
}

#[test]
fn expires_parses_against_the_server_date() {
    let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let expires = "Sun, 01 Jun 2025 01:00:00 GMT";
    // Against the server's Date: an hour, however wrong our clock.
    assert_eq!(
        parse_expires(expires, Some("Sun, 01 Jun 2025 00:00:00 GMT"), now),
        Some(Duration::from_secs(3600))
    );
    // Without a Date it is measured from now: long past.
    assert_eq!(parse_expires(expires, None, now), None);
    assert_eq!(parse_expires("0", None, now), None);
    assert_eq!(parse_expires("-1", Some("garbage"), now), None);
}
