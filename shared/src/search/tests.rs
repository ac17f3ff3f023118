use std::sync::Arc;

use chrono::Duration;

use super::*;
use crate::model::Role;
use crate::reconcile::Reconciler;
use crate::reconcile::read::ItemFilter;
use crate::reconcile::tests::{at, item, jsonl, registry};
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::testing::CountingTable;
use crate::store::{BlobMeta, BlobStore, Cursor};

struct World {
    table: Arc<CountingTable<SqliteTable>>,
    blobs: Arc<DiskBlobStore>,
    reconciler: Reconciler,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(CountingTable::new(SqliteTable::in_memory().unwrap()));
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(registry()),
    };
    World {
        table,
        blobs,
        reconciler,
        _dir: dir,
    }
}

impl World {
    async fn land(&self, key: &str, items: &[NormalizedItem]) {
        self.blobs
            .put(key, jsonl(items).into(), &BlobMeta::default())
            .await
            .unwrap();
        self.reconciler.reconcile_object(key).await.unwrap();
    }

    /// Every matching item id, paging `limit` at a time; also how many pages it took.
    async fn find(&self, q: &str, query: SearchQuery, limit: usize) -> (Vec<String>, usize) {
        let query = SearchQuery {
            terms: SearchQuery::terms_of(q),
            ..query
        };
        let (mut ids, mut pages, mut cursor): (Vec<String>, usize, Option<Cursor>) =
            (Vec::new(), 0, None);
        loop {
            let page = search(self.table.as_ref(), &query, limit, cursor, now())
                .await
                .unwrap();
            pages += 1;
            assert!(page.items.len() <= limit);
            ids.extend(page.items.iter().map(|i| i.id.clone()));
            match page.next {
                Some(c) => cursor = Some(c),
                None => return (ids, pages),
            }
            assert!(pages < 100, "paging does not end");
        }
    }
}

fn now() -> DateTime<Utc> {
    at("2025-03-20T00:00:00Z")
}

fn news(slug: &str, title: &str, body: &str, published: &str) -> NormalizedItem {
    let mut i = item(slug, title, published, "2025-03-19T00:00:00Z");
    i.summary = None;
    i.body = Some(body.into());
    i
}

#[test]
fn terms_are_folded_stemmed_and_bounded() {
    assert_eq!(
        text_terms("Türkiye: WNI dievakuasi dari Istanbul, 2025"),
        ["turkiye", "wni", "evakuasi", "istanbul"]
    );
    assert_eq!(text_terms("TURKIYE"), text_terms("türkiye"));
    assert_eq!(text_terms("Kebakarannya"), text_terms("kebakaran"));
    assert!(text_terms("yang dan di the of").is_empty());
    let long: String = (0..500).map(|n| format!("kata{n} ")).collect();
    let mut i = news("x", "Judul", &long, "2025-03-01T00:00:00Z");
    assert_eq!(item_terms(&i).len(), MAX_TERMS_PER_ITEM);
    assert_eq!(item_terms(&i)[0], "judul");
    i.body = Some("x".repeat(BODY_PREFIX_BYTES) + " tersembunyi");
    assert!(!item_text_terms(&i).contains("sembunyi"));
}

#[test]
fn postings_are_keyed_by_term_month_and_time() {
    let i = news("a", "Gempa", "Gempa di Tokyo", "2025-03-01T12:00:00Z");
    let p = postings(&i, "itm_1", Some("JP"), &["disaster.earthquake"], now());
    assert_eq!(p.len(), 2);
    assert_eq!(p[0][table::PK], "TERM#gempa#2025-03");
    assert_eq!(p[0][table::SK], "2025-03-01T12:00:00.000Z#itm_1");
    assert_eq!(p[1][table::PK], "TERM#tokyo#2025-03");
    assert_eq!(p[0][posting_attr::COUNTRY], "JP");
    assert_eq!(p[0][posting_attr::ROLE], "official");
    assert_eq!(
        p[0][posting_attr::TOPIC_MASK],
        topic_mask(["disaster.earthquake"])
    );
    assert!(mask_may_hold(&p[0], "disaster.earthquake"));
    let ttl = (now() + chrono::Duration::days(POSTING_TTL_DAYS)).timestamp();
    assert_eq!(p[0][table::TTL], ttl);
    // The item id is the sort key's, not repeated in an attribute.
    assert!(!p[0].contains_key(posting_attr::ITEM_ID));
    assert_eq!(super::posting_item_id(&p[0]), Some("itm_1"));
}

#[tokio::test]
async fn affixed_accented_and_english_words_find_their_items() {
    let w = world();
    let fire = news(
        "fire",
        "Kebakaran di Shinjuku",
        "Sebanyak 12 WNI dievakuasi setelah kebakarannya meluas.",
        "2025-03-10T00:00:00Z",
    );
    let mut quake = news(
        "quake",
        "Earthquakes hit Türkiye",
        "Indonesian citizens were evacuated; the embassy is monitoring.",
        "2025-03-11T00:00:00Z",
    );
    quake.language = Some("en".into());
    w.land("items/1.jsonl", &[fire.clone(), quake.clone()])
        .await;
    let any = SearchQuery::default;
    for (q, expected) in [
        ("evakuasi", vec![fire.identity()]),
        ("Mengevakuasi WNI", vec![fire.identity()]),
        ("KEBAKARAN", vec![fire.identity()]),
        ("turkiye", vec![quake.identity()]),
        ("Türkiye earthquake", vec![quake.identity()]),
        ("embassies", vec![quake.identity()]),
        ("kebakaran turkiye", vec![]),
        ("tsunami", vec![]),
    ] {
        assert_eq!(w.find(q, any(), 10).await.0, expected, "query {q}");
    }
    // Both, newest first.
    let both = w.find("evacuated citizens OR kebakaran", any(), 10).await.0;
    assert!(both.is_empty(), "AND over every word");
}

#[tokio::test]
async fn filters_and_stale_versions_are_checked_on_the_current_item() {
    let w = world();
    let a = news("a", "Banjir Tokyo", "banjir", "2025-03-10T00:00:00Z");
    let mut b = news("b", "Banjir Canberra", "banjir", "2025-03-11T00:00:00Z");
    b.mission = "canberra".into();
    let mut c = news("c", "Banjir lagi", "banjir", "2025-03-12T00:00:00Z");
    c.role = Role::Media;
    c.language = Some("en".into());
    w.land("items/1.jsonl", &[a.clone(), b.clone(), c.clone()])
        .await;
    let find = |query: SearchQuery| async { w.find("banjir", query, 10).await.0 };
    assert_eq!(
        find(SearchQuery::default()).await,
        [c.identity(), b.identity(), a.identity()]
    );
    let mission = SearchQuery {
        mission: Some("tokyo".into()),
        ..SearchQuery::default()
    };
    assert_eq!(find(mission).await, [c.identity(), a.identity()]);
    let country = SearchQuery {
        country: Some("AU".into()),
        ..SearchQuery::default()
    };
    assert_eq!(find(country).await, [b.identity()]);
    let role = SearchQuery {
        filter: ItemFilter {
            role: Some(Role::Media),
            ..ItemFilter::default()
        },
        ..SearchQuery::default()
    };
    assert_eq!(find(role).await, [c.identity()]);
    let language = SearchQuery {
        filter: ItemFilter {
            language: Some("id".into()),
            until: Some(at("2025-03-10T12:00:00Z")),
            ..ItemFilter::default()
        },
        ..SearchQuery::default()
    };
    assert_eq!(find(language).await, [a.identity()]);
    let topic = SearchQuery {
        topic: Some("no.such.topic".into()),
        ..SearchQuery::default()
    };
    assert!(find(topic).await.is_empty());

    // `a` is edited: it no longer speaks of floods. Its old postings stay but do not match.
    let mut edited = a.clone();
    edited.title = "Gempa Tokyo".into();
    edited.body = Some("gempa".into());
    edited.fetched_at += Duration::hours(1);
    w.land("items/2.jsonl", &[edited]).await;
    assert_eq!(
        find(SearchQuery::default()).await,
        [c.identity(), b.identity()]
    );
    assert_eq!(
        w.find("gempa", SearchQuery::default(), 10).await.0,
        [a.identity()]
    );
}

/// Every topic has one bit of 32; the masks of different topic sets differ where their bits do,
/// and no topic table order decides a bit.
#[test]
fn topic_masks_hold_their_topics_bits() {
    let ids: Vec<&str> = crate::topics::TAXONOMY.iter().map(|t| t.id).collect();
    let mut used = 0u32;
    for id in &ids {
        let bit = topic_mask([*id]);
        assert_eq!(bit.count_ones(), 1, "{id}");
        used |= bit;
    }
    // 38 topics spread over at least half of the 32 bits.
    assert!(used.count_ones() >= 16, "{used:032b}");
    assert_eq!(topic_mask([]), 0);
    let both = topic_mask(["disaster.flood", "culture"]);
    assert_eq!(both, topic_mask(["culture", "disaster.flood"]));
    let mut posting = Item::new();
    posting.insert(posting_attr::TOPIC_MASK.into(), Value::from(both));
    assert!(mask_may_hold(&posting, "disaster.flood") && mask_may_hold(&posting, "culture"));
    posting.remove(posting_attr::TOPIC_MASK);
    assert!(
        mask_may_hold(&posting, "disaster.flood"),
        "no mask: the item decides"
    );
}

/// A topic filter is applied to the postings' topic masks first: only the items whose mask has
/// the topic's bit are read. Postings are written again when an edit changes the topics, and a
/// posting written before the masks (none on it) is still checked on its item.
#[tokio::test]
async fn a_topic_filter_reads_only_the_items_of_that_topic() {
    let w = world();
    let flood = news(
        "flood",
        "Banjir melanda Tokyo",
        "Banjir besar melanda Tokyo, warga dievakuasi.",
        "2025-03-10T00:00:00Z",
    );
    let others: Vec<NormalizedItem> = (0..20)
        .map(|n| {
            news(
                &format!("fest{n}"),
                &format!("Festival budaya ke-{n} di Tokyo"),
                "Festival budaya Indonesia di Tokyo dihadiri ribuan pengunjung.",
                &format!("2025-03-{:02}T00:00:00Z", 11 + n % 8),
            )
        })
        .collect();
    let mut all = others.clone();
    all.push(flood.clone());
    w.land("items/1.jsonl", &all).await;
    let floods = SearchQuery {
        topic: Some("disaster.flood".into()),
        ..SearchQuery::default()
    };
    w.table.reset();
    assert_eq!(
        w.find("tokyo", floods.clone(), 10).await.0,
        [flood.identity()]
    );
    let counts = w.table.counts();
    assert_eq!(counts.gets, 1, "only the flood item is read: {counts:?}");

    // A festival turns into a flood story: same words, another topic. Its postings are
    // written again with it, so the filter finds it.
    let mut turned = others[0].clone();
    turned.body = Some(format!(
        "{} Banjir kemudian melanda lokasi.",
        turned.body.unwrap()
    ));
    turned.fetched_at += Duration::hours(1);
    w.land("items/2.jsonl", &[turned.clone()]).await;
    let mut found = w.find("tokyo", floods.clone(), 10).await.0;
    found.sort();
    let mut expected = vec![flood.identity(), turned.identity()];
    expected.sort();
    assert_eq!(found, expected);

    // A posting from before the masks: its item decides.
    let old = news(
        "old",
        "Banjir kembali melanda Tokyo",
        "Banjir besar kembali melanda Tokyo, warga dievakuasi.",
        "2025-03-09T00:00:00Z",
    );
    w.land("items/3.jsonl", std::slice::from_ref(&old)).await;
    // Expiring from the real clock, as reconcile's do (`now()` is a year back: expired).
    let mut postings_of_old = postings(&old, &old.identity(), Some("JP"), &[], Utc::now());
    for p in &mut postings_of_old {
        p.remove(posting_attr::TOPIC_MASK);
    }
    write_postings(w.table.as_ref(), postings_of_old)
        .await
        .unwrap();
    let stored = w
        .table
        .get(&crate::store::Key::new(
            schema::item_pk(&old.identity()),
            schema::CURRENT,
        ))
        .await
        .unwrap()
        .unwrap();
    let topics = stored[crate::reconcile::attr::TOPICS].as_array().unwrap();
    assert!(
        topics.contains(&Value::from("disaster.flood")),
        "{topics:?}"
    );
    let found = w.find("tokyo", floods, 10).await.0;
    assert!(
        found.contains(&old.identity()),
        "{found:?} {}",
        old.identity()
    );
}

#[tokio::test]
async fn pages_run_newest_first_across_months_without_dupes() {
    let w = world();
    // 25 items, two days apart: January to March.
    let base = at("2025-01-10T00:00:00Z");
    let items: Vec<NormalizedItem> = (0..25)
        .map(|n| {
            let published = (base + Duration::days(2 * n)).to_rfc3339();
            news(
                &format!("n{n}"),
                &format!("Pemilu {n}"),
                "pemilihan umum",
                &published,
            )
        })
        .collect();
    w.land("items/1.jsonl", &items).await;
    let mut expected: Vec<String> = items.iter().map(|i| i.identity()).collect();
    expected.reverse();
    for limit in [1, 4, 7, 25, 50] {
        let (ids, pages) = w.find("pemilu", SearchQuery::default(), limit).await;
        assert_eq!(ids, expected, "limit {limit}");
        assert_eq!(pages, 25usize.div_ceil(limit).max(1), "limit {limit}");
    }
    // A window inside the range.
    let window = SearchQuery {
        filter: ItemFilter {
            since: Some(at("2025-02-01T00:00:00Z")),
            until: Some(at("2025-02-28T23:59:59Z")),
            ..ItemFilter::default()
        },
        ..SearchQuery::default()
    };
    let (ids, _) = w.find("pemilu", window, 3).await;
    let in_feb: Vec<String> = items
        .iter()
        .rev()
        .filter(|i| i.published_at.format("%m").to_string() == "02")
        .map(|i| i.identity())
        .collect();
    assert_eq!(ids, in_feb);
}

/// A common long word beside a rare short one: the rare word's postings drive the query, so
/// it reads a few postings and items, not the common word's hundreds; pages still run.
#[tokio::test]
async fn the_rarest_word_drives_a_query() {
    let w = world();
    let mut items: Vec<NormalizedItem> = (0..300)
        .map(|n| {
            news(
                &format!("c{n}"),
                &format!("Pertemuan bilateral {n}"),
                "kerjasama perdagangan",
                &format!("2025-03-{:02}T{:02}:00:00Z", 1 + n % 18, n % 24),
            )
        })
        .collect();
    for n in 0..3 {
        items.push(news(
            &format!("r{n}"),
            &format!("Pertemuan bilateral soal zat {n}"),
            "kerjasama perdagangan nikel",
            &format!("2025-03-1{n}T12:00:00Z"),
        ));
    }
    w.land("items/1.jsonl", &items).await;
    w.table.reset();
    let (ids, pages) = w.find("perdagangan zat", SearchQuery::default(), 2).await;
    let rare: Vec<String> = items[300..].iter().rev().map(|i| i.identity()).collect();
    assert_eq!(ids, rare);
    assert_eq!(pages, 2);
    let reads = w.table.counts().reads();
    // Two pages: a probe per word on the first, a few postings and items each.
    assert!(reads < 30, "{reads} reads: the common word drove the query");
    // The cursor of a multi-word query keeps its driving term; another query's is foreign.
    let query = SearchQuery {
        terms: SearchQuery::terms_of("perdagangan zat"),
        ..SearchQuery::default()
    };
    let first = search(w.table.as_ref(), &query, 1, None, now())
        .await
        .unwrap();
    let other = SearchQuery {
        terms: SearchQuery::terms_of("perdagangan nikel"),
        ..SearchQuery::default()
    };
    let result = search(w.table.as_ref(), &other, 1, first.next, now()).await;
    assert!(matches!(
        result,
        Err(crate::reconcile::read::ReadError::ForeignCursor)
    ));
}

#[tokio::test]
async fn a_foreign_cursor_is_refused() {
    let w = world();
    let query = SearchQuery {
        terms: vec!["banjir".into()],
        ..SearchQuery::default()
    };
    let mut attrs = Item::new();
    attrs.insert(table::PK.into(), "TERM#gempa#2025-03".into());
    attrs.insert(table::SK.into(), "x".into());
    let foreign = Cursor::from_key_attrs(&attrs);
    let result = search(w.table.as_ref(), &query, 10, Some(foreign), now()).await;
    assert!(matches!(
        result,
        Err(crate::reconcile::read::ReadError::ForeignCursor)
    ));
}

#[tokio::test]
async fn index_writes_per_new_changed_and_unchanged_item() {
    let w = world();
    let first = news(
        "w1",
        "KBRI Tokyo gelar pertemuan dengan diaspora",
        "Kedutaan Besar Republik Indonesia di Tokyo mengadakan pertemuan dengan warga negara Indonesia \
         yang tinggal di Jepang untuk membahas perlindungan WNI dan layanan kekonsuleran.",
        "2025-03-10T00:00:00Z",
    );
    let terms = item_terms(&first).len();
    w.table.reset();
    w.land("items/1.jsonl", std::slice::from_ref(&first)).await;
    let new = w.table.counts();
    eprintln!("new item: {terms} terms, {new:?}");
    // The item's transaction (4: version, CURRENT, role index entry, day count) and its story
    // (its entries, judging record, membership, story id) as before search; the index adds one posting per term, in batches. Nothing in it answers a crisis
    // by itself, so the mark that it reached the crisis stage (`reconcile::attr::CRISES_FED`)
    // is written with the item, not after.
    let story_keys = crate::stories::Fingerprint::of_item(&first)
        .candidate_keys()
        .len();
    let story_writes = story_keys + 1 + 1 + 1;
    // And the mission's latest official publication (`reconcile::latest`).
    assert_eq!(new.writes(), 4 + story_writes + terms + 1, "{new:?}");

    // A typo fixed in the body: only the new terms are written.
    let mut changed = first.clone();
    changed.body = Some(format!(
        "{} Acara berlangsung meriah.",
        first.body.clone().unwrap()
    ));
    changed.fetched_at = first.fetched_at + Duration::hours(1);
    let added = item_terms(&changed).len() - terms;
    let topics = crate::topics::tag_item(&changed);
    let topics: Vec<&str> = topics.iter().map(|t| t.id.as_str()).collect();
    let before = postings(&changed, &changed.identity(), Some("JP"), &topics, now());
    let previous = {
        let Value::Object(mut record) = serde_json::to_value(&first).unwrap() else {
            unreachable!()
        };
        record.insert(
            crate::reconcile::attr::TOPICS.into(),
            serde_json::json!(topics),
        );
        record
    };
    assert_eq!(
        postings_to_write(&before, &previous, &changed.identity()).len(),
        added
    );
    w.table.reset();
    w.land("items/2.jsonl", &[changed]).await;
    eprintln!("changed item: {added} new terms, {:?}", w.table.counts());

    w.table.reset();
    w.land("items/3.jsonl", &[first]).await;
    assert_eq!(w.table.counts().writes(), 0);
}

/// Search latency on the embedded store with many items (a measurement, not a check):
/// `PANTAU_SEARCH_BENCH_ITEMS=100000 cargo test -p pantau --release --lib search_latency -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn search_latency_on_many_items() {
    use crate::store::{Table, WriteOp};
    let count: usize = std::env::var("PANTAU_SEARCH_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let table = SqliteTable::open(&dir.path().join("bench.sqlite")).unwrap();
    // A vocabulary with Zipf-like use: word `n` appears about 1/(n+1) as often as word 0.
    let vocabulary: Vec<String> = (0..3000).map(|n| format!("kata{n}x")).collect();
    let weights: Vec<f64> = (0..vocabulary.len())
        .map(|n| 1.0 / (n as f64 + 1.0))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut sum = 0.0;
    for w in &weights {
        sum += w / total;
        cumulative.push(sum);
    }
    let mut rng = fastrand::Rng::with_seed(7);
    let mut word = || {
        let r = rng.f64();
        let n = cumulative
            .partition_point(|c| *c < r)
            .min(vocabulary.len() - 1);
        vocabulary[n].clone()
    };
    // Postings expire 100 days after indexing: indexed now, published up to 90 days before.
    let end = Utc::now();
    let started = std::time::Instant::now();
    let mut batch = Vec::new();
    let missions = ["tokyo", "canberra"];
    for n in 0..count {
        let title: Vec<String> = (0..8).map(|_| word()).collect();
        let body: Vec<String> = (0..150).map(|_| word()).collect();
        let published = end - Duration::seconds((n as i64 * 90 * 86_400) / count as i64);
        let mut i = news(
            &format!("b{n}"),
            &title.join(" "),
            &body.join(" "),
            "2025-03-01T00:00:00Z",
        );
        i.published_at = published;
        i.mission = missions[n % 2].into();
        let id = i.identity();
        let Value::Object(mut current) = serde_json::to_value(&i).unwrap() else {
            unreachable!()
        };
        let time = schema::sortable_time(published);
        for (k, v) in [
            (table::PK, schema::item_pk(&id)),
            (table::SK, schema::CURRENT.to_owned()),
            ("item_id", id.clone()),
            ("version_at", time.clone()),
            ("content_hash", i.content_hash()),
            ("first_seen_at", time),
        ] {
            current.insert(k.into(), Value::String(v));
        }
        current.insert("versions".into(), Value::from(1));
        batch.push(WriteOp::Put(current));
        let cc = if n % 2 == 0 { "JP" } else { "AU" };
        batch.extend(
            postings(&i, &id, Some(cc), &[], Utc::now())
                .into_iter()
                .map(WriteOp::Put),
        );
        if batch.len() > 5000 {
            table.batch_write(std::mem::take(&mut batch)).await.unwrap();
        }
    }
    table.batch_write(batch).await.unwrap();
    eprintln!("{count} items loaded in {:?}", started.elapsed());
    for (label, q, mission) in [
        ("common word", "kata3x", None),
        ("mid word", "kata300x", None),
        ("rare word", "kata2900x", None),
        ("two common words (AND)", "kata3x kata5x", None),
        ("common + rare (AND)", "kata1x kata2500x", None),
        ("mid word, one mission", "kata300x", Some("tokyo")),
    ] {
        let query = SearchQuery {
            terms: SearchQuery::terms_of(q),
            mission: mission.map(str::to_owned),
            ..SearchQuery::default()
        };
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..30 {
            let t = std::time::Instant::now();
            let page = search(&table, &query, 50, None, end).await.unwrap();
            times.push(t.elapsed());
            hits = page.items.len();
        }
        times.sort();
        eprintln!(
            "{label:28} `{q}`: p50 {:?}, p99 {:?}, {hits} hits on the first page",
            times[times.len() / 2],
            times[times.len() * 99 / 100]
        );
    }
}
