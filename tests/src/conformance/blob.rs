//! What every `BlobStore` adapter must do, one function per case.
//!
//! Each case takes an empty store and panics on the first difference from S3's behaviour as
//! the port describes it. `tests/tests/blob_conformance.rs` runs every case on the folder
//! adapter and on the S3 adapter against moto, so the two cannot drift apart.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use pantau::store::blob::DEFAULT_CONTENT_TYPE;
use pantau::store::{BlobError, BlobMeta, BlobStore};

/// Metadata as the scraper writes it: HTTP facts of a fetch.
fn fetch_meta(content_type: &str, url: &str) -> BlobMeta {
    BlobMeta {
        content_type: Some(content_type.to_owned()),
        metadata: BTreeMap::from([
            ("url".to_owned(), url.to_owned()),
            ("status".to_owned(), "200".to_owned()),
            ("etag".to_owned(), "\"abc-123\"".to_owned()),
        ]),
    }
}

/// Puts many small objects at once, as a busy scrape does (and to keep the suite fast).
async fn put_all(s: &dyn BlobStore, keys: &[String]) {
    let meta = BlobMeta::default();
    futures::stream::iter(keys)
        .map(|key| s.put(key, Bytes::from(key.clone()), &meta))
        .buffer_unordered(16)
        .try_collect::<()>()
        .await
        .unwrap();
}

/// Every key under `prefix`, following `next` page by page.
async fn list_all(s: &dyn BlobStore, prefix: &str, limit: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.list(prefix, after.as_deref(), limit).await.unwrap();
        assert!(
            page.keys.len() <= limit.clamp(1, 1000),
            "page over the limit"
        );
        keys.extend(page.keys);
        match page.next {
            Some(next) => after = Some(next),
            None => return keys,
        }
    }
}

/// A binary body (every byte value, invalid UTF-8 included) comes back byte for byte, with its
/// content type and user metadata; so does an empty body, and one put without content type
/// reads back as `application/octet-stream`.
pub async fn round_trip(s: &dyn BlobStore) {
    assert!(!s.bucket().is_empty());
    let body: Vec<u8> = (0..=255u8)
        .cycle()
        .take(70_000)
        .chain([0xff, 0xfe, 0x00])
        .collect();
    let meta = fetch_meta("image/png", "https://kemlu.go.id/tokyo/a%20b?x=1");
    s.put(
        "raw/2025/01/02/tokyo/feed/a.png",
        Bytes::from(body.clone()),
        &meta,
    )
    .await
    .unwrap();
    let blob = s
        .get("raw/2025/01/02/tokyo/feed/a.png")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(blob.body, body);
    assert_eq!(blob.meta, meta);

    s.put(
        "empty",
        Bytes::new(),
        &fetch_meta("text/plain", "https://x/"),
    )
    .await
    .unwrap();
    let blob = s.get("empty").await.unwrap().unwrap();
    assert!(blob.body.is_empty());
    assert_eq!(blob.meta.content_type.as_deref(), Some("text/plain"));

    s.put("untyped", Bytes::from_static(b"?"), &BlobMeta::default())
        .await
        .unwrap();
    let blob = s.get("untyped").await.unwrap().unwrap();
    assert_eq!(
        blob.meta.content_type.as_deref(),
        Some(DEFAULT_CONTENT_TYPE)
    );
    assert!(blob.meta.metadata.is_empty());
}

/// A key never written is absent for get and head, including one that is only the start of
/// other keys, or a folder of them.
pub async fn missing_is_none(s: &dyn BlobStore) {
    s.put(
        "raw/a/b.json",
        Bytes::from_static(b"{}"),
        &BlobMeta::default(),
    )
    .await
    .unwrap();
    for key in ["nothing", "raw/a/b", "raw/a", "raw", "raw/a/b.json/c"] {
        assert!(s.get(key).await.unwrap().is_none(), "get {key:?}");
        assert!(s.head(key).await.unwrap().is_none(), "head {key:?}");
    }
}

/// head tells size, content type and metadata without the body.
pub async fn head_gives_size_and_metadata(s: &dyn BlobStore) {
    let meta = fetch_meta("application/rss+xml; charset=utf-8", "https://x/feed");
    s.put("raw/feed.xml", Bytes::from(vec![b'x'; 12_345]), &meta)
        .await
        .unwrap();
    let info = s.head("raw/feed.xml").await.unwrap().unwrap();
    assert_eq!(info.key, "raw/feed.xml");
    assert_eq!(info.size, 12_345);
    assert_eq!(info.meta, meta);
}

/// Writing a key again replaces body and metadata whole (no metadata key survives from the
/// first write), and writing the same thing twice is harmless.
pub async fn overwrite_replaces_body_and_metadata(s: &dyn BlobStore) {
    let first = fetch_meta("text/html", "https://x/1");
    s.put(
        "items/k.jsonl",
        Bytes::from_static(b"first, and longer"),
        &first,
    )
    .await
    .unwrap();
    let mut second = BlobMeta {
        content_type: Some("application/x-ndjson".into()),
        metadata: BTreeMap::new(),
    };
    second.metadata.insert("items".into(), "2".into());
    for _ in 0..2 {
        s.put("items/k.jsonl", Bytes::from_static(b"second"), &second)
            .await
            .unwrap();
        let blob = s.get("items/k.jsonl").await.unwrap().unwrap();
        assert_eq!(blob.body, "second");
        assert_eq!(blob.meta, second);
        let info = s.head("items/k.jsonl").await.unwrap().unwrap();
        assert_eq!((info.size, info.meta), (6, second.clone()));
    }
    assert_eq!(
        s.list("items/", None, 10).await.unwrap().keys,
        ["items/k.jsonl"]
    );
}

/// A prefix with more keys than one page: a full page of 1,000 with `next` set to its last
/// key, then the rest with no `next`; keys under neighbouring prefixes never appear, and a
/// limit over 1,000 is capped at 1,000.
pub async fn list_pages_through_a_prefix(s: &dyn BlobStore) {
    let prefix = "raw/2025/01/02/tokyo/feed/";
    let mut keys: Vec<String> = (0..1050).map(|i| format!("{prefix}{i:05}.xml")).collect();
    // Neighbours: a longer folder name, a shorter one, names that sort just before and just
    // after '/', and another mission.
    let neighbours: Vec<String> = [
        "raw/2025/01/02/tokyo/feed2/00000.xml",
        "raw/2025/01/02/tokyo/fee/00000.xml",
        "raw/2025/01/02/tokyo/feed-x",
        "raw/2025/01/02/tokyo/feed0",
        "raw/2025/01/02/osaka/feed/00000.xml",
    ]
    .map(String::from)
    .into();
    keys.extend(neighbours.iter().cloned());
    put_all(s, &keys).await;
    let mut expected: Vec<String> = keys[..1050].to_vec();
    expected.sort();

    let first = s.list(prefix, None, 1000).await.unwrap();
    assert_eq!(first.keys, expected[..1000]);
    assert_eq!(first.next.as_deref(), Some(expected[999].as_str()));
    let second = s.list(prefix, first.next.as_deref(), 1000).await.unwrap();
    assert_eq!(second.keys, expected[1000..]);
    assert_eq!(second.next, None);

    let capped = s.list(prefix, None, 5000).await.unwrap();
    assert_eq!(capped.keys.len(), 1000);
    assert!(capped.next.is_some());

    // The whole mission folder, across pages: the 1,050 plus the four tokyo neighbours.
    let tokyo = list_all(s, "raw/2025/01/02/tokyo/", 1000).await;
    assert_eq!(tokyo.len(), 1054);
    assert!(tokyo.windows(2).all(|w| w[0] < w[1]), "not in byte order");
}

/// A prefix need not end at a folder boundary (`raw/2025/01/0` takes days 01 to 09 and a file
/// named `0x`), `after` need not be a key, small pages add up to the whole, and keys sort by
/// their bytes ('-' and '.' before '/', capitals before small letters, non-ASCII last).
pub async fn list_prefix_within_a_name(s: &dyn BlobStore) {
    let keys: Vec<String> = [
        "raw/2025/01/01/a",
        "raw/2025/01/02/b",
        "raw/2025/01/0x.json",
        "raw/2025/01/10/c",
        "raw/2025/02/01/d",
        "o/a/b",
        "o/a-b",
        "o/a.b",
        "o/a0",
        "o/A",
        "o/é",
        "o/z",
    ]
    .map(String::from)
    .into();
    put_all(s, &keys).await;

    let page = s.list("raw/2025/01/0", None, 100).await.unwrap();
    assert_eq!(
        page.keys,
        [
            "raw/2025/01/01/a",
            "raw/2025/01/02/b",
            "raw/2025/01/0x.json"
        ]
    );
    assert_eq!(page.next, None);
    assert_eq!(list_all(s, "raw/2025/0", 2).await.len(), 5);
    assert_eq!(
        s.list("raw/2025/01/01/a", None, 10).await.unwrap().keys,
        ["raw/2025/01/01/a"]
    );
    assert!(
        s.list("raw/2025/03/", None, 10)
            .await
            .unwrap()
            .keys
            .is_empty()
    );
    assert!(
        s.list("raw/2025/01/0x.json/", None, 10)
            .await
            .unwrap()
            .keys
            .is_empty()
    );

    // `after` between keys, and after the last one.
    let page = s
        .list("raw/", Some("raw/2025/01/01/zzz"), 10)
        .await
        .unwrap();
    assert_eq!(page.keys[0], "raw/2025/01/02/b");
    assert!(
        s.list("raw/", Some("raw/2025/02/01/d"), 10)
            .await
            .unwrap()
            .keys
            .is_empty()
    );

    assert_eq!(
        list_all(s, "o/", 3).await,
        ["o/A", "o/a-b", "o/a.b", "o/a/b", "o/a0", "o/z", "o/é"]
    );
    // Everything, from the top, one key a page (a limit of 0 counts as 1, so a paging loop
    // always moves on).
    let mut all = keys.clone();
    all.sort();
    assert_eq!(list_all(s, "", 1).await, all);
    let zero = s.list("", None, 0).await.unwrap();
    assert_eq!(zero.keys, [all[0].clone()]);
    assert_eq!(zero.next.as_deref(), Some(all[0].as_str()));
}

/// Keys with spaces, `+`, `%`, query characters, a leading dot and non-ASCII letters are
/// stored, read and listed as themselves (and `a b` and `a+b` stay two objects).
pub async fn keys_with_odd_characters(s: &dyn BlobStore) {
    let mut keys: Vec<String> = [
        "odd/a b.txt",
        "odd/a+b.txt",
        "odd/100%.txt",
        "odd/%2F.txt",
        "odd/q?x=1&y=2#z",
        "odd/.hidden",
        "odd/日本/東京 大使館.json",
        "odd/Jakarta–Ñandú 🎉",
        "odd/~'!$()*,;@[]",
    ]
    .map(String::from)
    .into();
    for key in &keys {
        s.put(
            key,
            Bytes::from(key.clone()),
            &fetch_meta("text/plain", "https://x/"),
        )
        .await
        .unwrap();
    }
    for key in &keys {
        let blob = s
            .get(key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key:?}"));
        assert_eq!(blob.body, key.as_bytes(), "{key:?}");
        assert_eq!(s.head(key).await.unwrap().unwrap().size, key.len() as u64);
    }
    keys.sort();
    assert_eq!(list_all(s, "odd/", 4).await, keys);
    assert_eq!(
        s.list("odd/日本/", None, 10).await.unwrap().keys,
        ["odd/日本/東京 大使館.json"]
    );
}

/// Keys and metadata that S3 would refuse, or that could leave the disk adapter's folder,
/// are refused the same way by every adapter, before anything is stored.
pub async fn invalid_input_is_refused(s: &dyn BlobStore) {
    let long = "k".repeat(1025);
    for key in [
        "", "/abs", "a/../b", "../up", "a//b", "a/./b", "a/", "a\0b", "a\nb", &long,
    ] {
        let put = s
            .put(key, Bytes::from_static(b"x"), &BlobMeta::default())
            .await;
        assert!(
            matches!(put, Err(BlobError::InvalidKey { .. })),
            "put {key:?}: {put:?}"
        );
        let get = s.get(key).await;
        assert!(
            matches!(get, Err(BlobError::InvalidKey { .. })),
            "get {key:?}: {get:?}"
        );
        let head = s.head(key).await;
        assert!(
            matches!(head, Err(BlobError::InvalidKey { .. })),
            "head {key:?}"
        );
    }
    // 1,024 bytes is still a key (in segments short enough for file names).
    let longest = [250, 250, 250, 250, 20].map(|n| "k".repeat(n)).join("/");
    assert_eq!(longest.len(), 1024);
    s.put(&longest, Bytes::new(), &BlobMeta::default())
        .await
        .unwrap();

    let bad_metas = [
        ("Url", "x"),       // upper case key
        ("my_key", "x"),    // underscore
        ("", "x"),          // empty key
        ("url", "é"),       // not ASCII
        ("url", "a\nb"),    // control character
        ("url", " padded"), // a server would trim it
        ("url", "padded "),
    ];
    for (k, v) in bad_metas {
        let mut meta = BlobMeta::default();
        meta.metadata.insert(k.into(), v.into());
        let put = s.put("meta/bad", Bytes::new(), &meta).await;
        assert!(
            matches!(put, Err(BlobError::InvalidMetadata { .. })),
            "{k:?}={v:?}: {put:?}"
        );
    }
    let mut too_big = BlobMeta::default();
    too_big.metadata.insert("big".into(), "x".repeat(2046));
    let put = s.put("meta/bad", Bytes::new(), &too_big).await;
    assert!(
        matches!(put, Err(BlobError::InvalidMetadata { .. })),
        "{put:?}"
    );
    for content_type in ["", "text/html\r\nx-evil: 1", "tëxt/html"] {
        let meta = BlobMeta {
            content_type: Some(content_type.into()),
            metadata: BTreeMap::new(),
        };
        let put = s.put("meta/bad", Bytes::new(), &meta).await;
        assert!(
            matches!(put, Err(BlobError::InvalidMetadata { .. })),
            "{content_type:?}"
        );
    }
    assert!(s.get("meta/bad").await.unwrap().is_none());
    assert_eq!(s.list("", None, 10).await.unwrap().keys, [longest.as_str()]);

    // Right at the edges it is accepted.
    let mut edge = fetch_meta("text/plain", "");
    edge.metadata.clear();
    edge.metadata.insert("big".into(), "x".repeat(2045));
    s.put("meta/ok", Bytes::new(), &edge).await.unwrap();
    assert_eq!(s.get("meta/ok").await.unwrap().unwrap().meta, edge);
}
