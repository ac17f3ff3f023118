use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::read::{self, ItemFilter};
use super::*;
use crate::events::{s3_put_notification, sqs_event};
use crate::model::{Mission, MissionKind, Role, SourceKind, TimeBasis};
use crate::store::BlobMeta;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::testing::{CountingTable, Fault, FaultyTable, TableCall};

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(crate) fn registry() -> Registry {
    let mission = |id: &str, city: &str, country: &str, cc: &str, tz: &str| Mission {
        id: id.into(),
        kind: MissionKind::Kbri,
        city: city.into(),
        country: country.into(),
        country_code: cc.into(),
        time_zone: tz.into(),
        sources: vec![crate::model::Source {
            id: "portal-berita".into(),
            kind: SourceKind::KemluPortal,
            role: Role::Official,
            url: "https://backpanel.kemlu.go.id/public-content-service/api".into(),
            cadence_minutes: 60,
            portal: Some(id.into()),
            section: Some("berita".into()),
            language: None,
            time_zone: None,
            conditional_get: true,
            list: Default::default(),
        }],
    };
    Registry {
        missions: vec![
            mission("tokyo", "Tokyo", "Jepang", "JP", "Asia/Tokyo"),
            mission(
                "canberra",
                "Canberra",
                "Australia",
                "AU",
                "Australia/Sydney",
            ),
        ],
        ..Registry::default()
    }
}

/// An official post of tokyo's portal, then `media` newer items of a media source of the same
/// mission: an official post buried behind media, as the role index finds it.
pub(crate) fn official_behind_media(media: usize) -> Vec<NormalizedItem> {
    let mut items = vec![item(
        "resmi",
        "Pengumuman resmi",
        "2025-03-01T00:00:00Z",
        "2025-03-01T01:00:00Z",
    )];
    for n in 0..media {
        let mut m = item(
            &format!("m{n}"),
            &format!("Berita media {n} soal {}", n * 7919),
            &format!("2025-03-02T{:02}:{:02}:00Z", n / 60, n % 60),
            "2025-03-03T00:00:00Z",
        );
        m.role = Role::Media;
        m.source = "news-id".into();
        items.push(m);
    }
    items
}

/// An item of `tokyo`'s portal, identified by `slug`, as fetched at `fetched`.
pub(crate) fn item(slug: &str, title: &str, published: &str, fetched: &str) -> NormalizedItem {
    NormalizedItem {
        mission: "tokyo".into(),
        source: "portal-berita".into(),
        kind: SourceKind::KemluPortal,
        role: Role::Official,
        guid: Some(slug.into()),
        url: Some(format!("https://kemlu.go.id/tokyo/berita/{slug}")),
        title: title.into(),
        summary: Some(format!("Ringkasan {title}")),
        body: Some(format!("Isi {title}")),
        published_at: at(published),
        published_raw: Some(published.into()),
        time_basis: TimeBasis::Stated,
        language: Some("id".into()),
        authors: vec![],
        categories: vec![],
        images: vec![],
        fetched_at: at(fetched),
        raw_key: format!("raw/{fetched}"),
        hazard: None,
    }
}

pub(crate) fn jsonl(items: &[NormalizedItem]) -> String {
    items
        .iter()
        .map(|i| serde_json::to_string(i).unwrap() + "\n")
        .collect()
}

/// A reconciler on an in-memory SQLite table, counted, and a folder of blobs.
struct Fixture {
    table: Arc<CountingTable<SqliteTable>>,
    blobs: Arc<DiskBlobStore>,
    reconciler: Reconciler,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(CountingTable::new(SqliteTable::in_memory().unwrap()));
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(registry()),
    };
    Fixture {
        table,
        blobs,
        reconciler,
        _dir: dir,
    }
}

impl Fixture {
    async fn insert(&self, key: &str, body: impl Into<Bytes>) {
        self.blobs
            .put(key, body.into(), &BlobMeta::default())
            .await
            .unwrap();
    }

    async fn land(&self, key: &str, items: &[NormalizedItem]) -> ReconcileReport {
        self.insert(key, jsonl(items)).await;
        self.reconciler.reconcile_object(key).await.unwrap()
    }

    /// Every row of the table, in key order, but the search index's postings: they are a
    /// cache that tolerates stale entries (`crate::search`), so they depend on delivery order.
    async fn dump(&self) -> Vec<Item> {
        let mut rows = self.table.inner().dump().await.unwrap();
        rows.retain(|r| !r[table::PK].as_str().unwrap_or("").starts_with("TERM#"));
        rows
    }

    fn writes(&self) -> usize {
        self.table.counts().writes()
    }
}

fn report(new: usize, changed: usize, unchanged: usize, stale: usize) -> ReconcileReport {
    ReconcileReport {
        new,
        changed,
        unchanged,
        stale,
        skipped_lines: 0,
        ..Default::default()
    }
}

/// The Lambda runtime and the local queue need `Send` futures.
#[allow(dead_code)]
fn handlers_are_send(r: &'static Reconciler, e: SqsEvent) {
    fn send<T: Send>(_: T) {}
    send(r.handle(e));
    send(r.reconcile_object("items/x"));
}

const P1: &str = "2025-03-01T08:00:00+09:00";
const P2: &str = "2025-03-02T08:00:00+09:00";

#[tokio::test]
async fn new_items_are_stored_with_one_version_and_index_keys() {
    let f = fixture();
    let a = item("a", "Pertemuan", P1, "2025-03-01T00:10:00Z");
    let b = item("b", "Pameran", P2, "2025-03-02T00:10:00Z");
    let postings = crate::search::item_terms(&a).len() + crate::search::item_terms(&b).len();
    let r = f.land("items/1.jsonl", &[a.clone(), b]).await;
    assert_eq!(r, report(2, 0, 0, 0));
    // Per new item: one version record and CURRENT, with its role index entry and its day's
    // count (`reconcile::rollup`, in the same transaction), then its story: 3 entries
    // (publication, names `pertemuan` and `ringkasan`), its judging record, its membership and
    // `story_id` on CURRENT; the mission's latest official publication (`reconcile::latest`,
    // one put per new official item); and one search posting per term.
    assert_eq!(f.writes(), 2 * (4 + 3 + 1 + 1 + 1 + 1) + postings);

    let view = read::get_item(f.table.as_ref(), &a.identity())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.item, a);
    assert_eq!(view.current.versions, 1);
    assert_eq!(view.current.version_at, a.fetched_at);
    assert_eq!(view.current.first_seen_at, a.fetched_at);
    assert_eq!(view.current.content_hash, a.content_hash());
    assert_eq!(view.versions.len(), 1);

    let current = f
        .table
        .get(&Key::new(schema::item_pk(&a.identity()), schema::CURRENT))
        .await
        .unwrap()
        .unwrap();
    let s = |n: &str| current.get(n).and_then(Value::as_str).unwrap().to_owned();
    assert_eq!(s(table::GSI1_PK), "MITEMS#tokyo");
    assert_eq!(s(table::GSI2_PK), "CITEMS#JP");
    assert_eq!(
        s(table::GSI1_SK),
        format!("2025-02-28T23:00:00.000Z#{}", a.identity())
    );
    assert_eq!(s(table::GSI1_SK), s(table::GSI2_SK));
}

#[tokio::test]
async fn an_unchanged_item_costs_one_read_and_no_write() {
    let f = fixture();
    let a1 = item("a", "Pertemuan", P1, "2025-03-01T00:10:00Z");
    let a2 = item("a", "Pertemuan", P1, "2025-03-01T01:10:00Z");
    f.land("items/1.jsonl", std::slice::from_ref(&a1)).await;
    f.table.reset();
    let r = f.land("items/2.jsonl", &[a2]).await;
    assert_eq!(r, report(0, 0, 1, 0));
    let counts = f.table.counts();
    assert_eq!((counts.reads(), counts.writes()), (1, 0), "{counts:?}");
    assert_eq!(counts.gets, 1, "the read is CURRENT's get");
}

#[tokio::test]
async fn a_changed_item_gets_a_new_version_and_keeps_the_old() {
    let f = fixture();
    let a1 = item("a", "Pertemuan", P1, "2025-03-01T00:10:00Z");
    let a2 = item("a", "Pertemuan (diperbarui)", P1, "2025-03-01T05:10:00Z");
    f.land("items/1.jsonl", std::slice::from_ref(&a1)).await;
    let r = f.land("items/2.jsonl", std::slice::from_ref(&a2)).await;
    assert_eq!(r, report(0, 1, 0, 0));

    let view = read::get_item(f.table.as_ref(), &a1.identity())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.item.title, "Pertemuan (diperbarui)");
    assert_eq!(view.current.versions, 2);
    assert_eq!(view.current.first_seen_at, a1.fetched_at);
    let titles: Vec<_> = view
        .versions
        .iter()
        .map(|v| v.item.title.as_str())
        .collect();
    assert_eq!(
        titles,
        ["Pertemuan (diperbarui)", "Pertemuan"],
        "newest first"
    );
}

/// Four fetches of one item: content A, A again, B, B again. Every delivery order must leave
/// the table as the in-order delivery does.
#[tokio::test]
async fn every_delivery_order_leaves_the_same_table() {
    let fetches = [
        item("a", "Versi A", P1, "2025-03-01T01:00:00Z"),
        item("a", "Versi A", P1, "2025-03-01T02:00:00Z"),
        item("a", "Versi B", P1, "2025-03-01T03:00:00Z"),
        item("a", "Versi B", P1, "2025-03-01T04:00:00Z"),
    ];
    let in_order = fixture();
    for (n, x) in fetches.iter().enumerate() {
        in_order
            .land(&format!("items/{n}.jsonl"), std::slice::from_ref(x))
            .await;
    }
    let expected = in_order.dump().await;
    let view = read::get_item(in_order.table.as_ref(), &fetches[0].identity())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.item.title, "Versi B");
    assert_eq!(view.current.version_at, fetches[2].fetched_at);
    let times: Vec<_> = view.versions.iter().map(|v| v.version_at).collect();
    assert_eq!(times, [fetches[2].fetched_at, fetches[0].fetched_at]);

    let mut orders = 0;
    for order in permutations(fetches.len()) {
        let f = fixture();
        for n in &order {
            f.land(
                &format!("items/{n}.jsonl"),
                std::slice::from_ref(&fetches[*n]),
            )
            .await;
        }
        assert_eq!(f.dump().await, expected, "order {order:?}");
        orders += 1;
    }
    assert_eq!(orders, 24);
}

/// `slug`'s entry in a portal list that carries no body (and, here, no summary either).
fn list_entry(slug: &str, title: &str, published: &str, fetched: &str) -> NormalizedItem {
    NormalizedItem {
        body: None,
        summary: None,
        raw_key: format!("raw/list/{fetched}"),
        ..item(slug, title, published, fetched)
    }
}

/// A portal list entry without a body, the publication's detail with it (fetched a
/// millisecond later, as the scraper stamps it), the next cycle's list stating the summary,
/// and the detail delivered again: all 24 orders leave what the fetch order leaves, two
/// versions (the list entry, then the detail as `CURRENT`).
#[tokio::test]
async fn a_list_entry_and_its_detail_leave_the_same_table_in_every_order() {
    let first_list = list_entry("a", "Pertemuan", P1, "2025-03-01T01:00:00Z");
    let detail = item("a", "Pertemuan", P1, "2025-03-01T01:00:00.001Z");
    let next_list = NormalizedItem {
        summary: detail.summary.clone(),
        ..list_entry("a", "Pertemuan", P1, "2025-03-01T02:00:00Z")
    };
    let deliveries = [
        first_list.clone(),
        detail.clone(),
        next_list,
        detail.clone(),
    ];
    let in_order = fixture();
    for (n, x) in deliveries.iter().enumerate() {
        in_order
            .land(&format!("items/{n}.jsonl"), std::slice::from_ref(x))
            .await;
    }
    let expected = in_order.dump().await;
    let view = read::get_item(in_order.table.as_ref(), &detail.identity())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.item, detail, "the detail is CURRENT");
    assert_eq!(view.current.versions, 2);
    assert_eq!(view.current.first_seen_at, first_list.fetched_at);
    let versions: Vec<_> = view
        .versions
        .iter()
        .map(|v| (v.version_at, v.item.body.is_some()))
        .collect();
    assert_eq!(
        versions,
        [(detail.fetched_at, true), (first_list.fetched_at, false)]
    );

    let mut orders = 0;
    for order in permutations(deliveries.len()) {
        let f = fixture();
        for n in &order {
            f.land(
                &format!("items/{n}.jsonl"),
                std::slice::from_ref(&deliveries[*n]),
            )
            .await;
        }
        assert_eq!(f.dump().await, expected, "order {order:?}");
        orders += 1;
    }
    assert_eq!(orders, 24);
}

#[tokio::test]
async fn a_list_entry_after_the_detail_costs_one_read_and_no_write() {
    let f = fixture();
    let detail = item("a", "Pertemuan", P1, "2025-03-01T01:00:00.001Z");
    f.land("items/detail.jsonl", std::slice::from_ref(&detail))
        .await;
    f.table.reset();
    let next_list = list_entry("a", "Pertemuan", P1, "2025-03-01T02:00:00Z");
    assert_eq!(
        f.land("items/list.jsonl", &[next_list]).await,
        report(0, 0, 1, 0)
    );
    let counts = f.table.counts();
    assert_eq!((counts.reads(), counts.writes()), (1, 0), "{counts:?}");
}

/// A detail arriving after the next cycle's list: that list's version was a partial view of
/// the detail, so it folds into the detail's, which becomes `CURRENT` (a change readers see).
#[tokio::test]
async fn a_late_detail_takes_over_a_later_list_only_version() {
    let f = fixture();
    let detail = item("a", "Pertemuan", P1, "2025-03-01T01:00:00.001Z");
    let next_list = list_entry("a", "Pertemuan", P1, "2025-03-01T02:00:00Z");
    assert_eq!(
        f.land("items/list.jsonl", &[next_list]).await,
        report(1, 0, 0, 0)
    );
    assert_eq!(
        f.land("items/detail.jsonl", std::slice::from_ref(&detail))
            .await,
        report(0, 1, 0, 0)
    );
    let view = read::get_item(f.table.as_ref(), &detail.identity())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.item, detail);
    assert_eq!(view.current.versions, 1);
    assert_eq!(view.versions.len(), 1);
    assert_eq!(view.current.first_seen_at, detail.fetched_at);
}

/// Where the list carries the body already, the detail (fetched later) is the same content:
/// whichever arrives first, the version is the list's observation.
#[tokio::test]
async fn a_detail_with_the_lists_content_is_an_unchanged_repeat_in_both_orders() {
    let list = NormalizedItem {
        raw_key: "raw/list".into(),
        ..item("a", "Pertemuan", P1, "2025-03-01T01:00:00Z")
    };
    let detail = NormalizedItem {
        raw_key: "raw/detail".into(),
        ..item("a", "Pertemuan", P1, "2025-03-01T01:00:00.001Z")
    };
    let mut dumps = Vec::new();
    for order in [[&list, &detail], [&detail, &list]] {
        let f = fixture();
        for (n, x) in order.into_iter().enumerate() {
            f.land(&format!("items/{n}.jsonl"), std::slice::from_ref(x))
                .await;
        }
        let view = read::get_item(f.table.as_ref(), &list.identity())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(view.current.item.raw_key, "raw/list");
        assert_eq!(view.current.versions, 1);
        dumps.push(f.dump().await);
    }
    assert_eq!(dumps[0], dumps[1]);
}

#[test]
fn a_partial_view_shows_less_and_nothing_else() {
    let fields = |x: &NormalizedItem| match serde_json::to_value(x).unwrap() {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let detail = item("a", "Pertemuan", P1, "2025-03-01T01:00:00Z");
    let list = list_entry("a", "Pertemuan", P1, "2025-03-01T00:00:00Z");
    assert!(is_partial_view(&fields(&list), &fields(&detail)));
    let with_summary = NormalizedItem {
        summary: detail.summary.clone(),
        ..list.clone()
    };
    assert!(is_partial_view(&fields(&with_summary), &fields(&detail)));
    // Not the other way round, and not when anything shown differs.
    assert!(!is_partial_view(&fields(&detail), &fields(&list)));
    assert!(!is_partial_view(&fields(&list), &fields(&list)));
    let retitled = list_entry("a", "Pertemuan (ralat)", P1, "2025-03-01T00:00:00Z");
    assert!(!is_partial_view(&fields(&retitled), &fields(&detail)));
    let other_summary = NormalizedItem {
        summary: Some("Lain".into()),
        ..list.clone()
    };
    assert!(!is_partial_view(&fields(&other_summary), &fields(&detail)));
    let redated = list_entry("a", "Pertemuan", P2, "2025-03-01T00:00:00Z");
    assert!(!is_partial_view(&fields(&redated), &fields(&detail)));
}

#[tokio::test]
async fn a_late_older_version_is_kept_without_touching_current() {
    let f = fixture();
    let old = item("a", "Lama", P1, "2025-03-01T01:00:00Z");
    let new = item("a", "Baru", P1, "2025-03-01T03:00:00Z");
    assert_eq!(
        f.land("items/new.jsonl", std::slice::from_ref(&new)).await,
        report(1, 0, 0, 0)
    );
    assert_eq!(
        f.land("items/old.jsonl", std::slice::from_ref(&old)).await,
        report(0, 0, 0, 1)
    );
    let view = read::get_item(f.table.as_ref(), &old.identity())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.current.item, new);
    assert_eq!(view.current.versions, 2);
    assert_eq!(view.current.first_seen_at, old.fetched_at);
    assert_eq!(view.versions.len(), 2);
    // Delivered again: nothing more.
    let writes = f.writes();
    assert_eq!(f.land("items/old.jsonl", &[old]).await, report(0, 0, 1, 0));
    assert_eq!(f.writes(), writes);
}

#[tokio::test]
async fn duplicate_shuffled_delivery_through_sqs_leaves_identical_state() {
    let objects: Vec<(String, Vec<NormalizedItem>)> = (0..6)
        .map(|n| {
            let fetched = format!("2025-03-01T0{n}:00:00Z");
            let items = vec![
                item("a", &format!("A rev {}", n / 2), P1, &fetched),
                item("b", "B", P2, &fetched),
                item(&format!("only-{n}"), "Sekali", P2, &fetched),
            ];
            (
                format!("items/2025/03/01/tokyo/portal-berita/{n}.jsonl"),
                items,
            )
        })
        .collect();
    let run = |deliveries: Vec<usize>| {
        let objects = objects.clone();
        async move {
            let f = fixture();
            for (key, items) in &objects {
                f.insert(key, jsonl(items)).await;
            }
            let bodies = deliveries.iter().enumerate().map(|(m, n)| {
                (
                    format!("m{m}"),
                    s3_put_notification(f.blobs.bucket(), &objects[*n].0, 1, Utc::now()),
                )
            });
            let response = f.reconciler.handle(sqs_event(bodies)).await;
            assert!(response.batch_item_failures.is_empty());
            f.dump().await
        }
    };
    let expected = run((0..6).collect()).await;
    for seed in 0..5 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut twice: Vec<usize> = (0..6).chain(0..6).collect();
        rng.shuffle(&mut twice);
        assert_eq!(run(twice.clone()).await, expected, "deliveries {twice:?}");
    }
}

#[tokio::test]
async fn concurrent_reconcilers_agree_with_sequential_ones() {
    let objects: Vec<(String, Vec<NormalizedItem>)> = (0..8)
        .map(|n| {
            let fetched = format!("2025-03-01T0{n}:00:00Z");
            let items = (0..4)
                .map(|k| item(&format!("s{k}"), &format!("T{k} r{}", n / 3), P1, &fetched))
                .collect();
            (format!("items/{n}.jsonl"), items)
        })
        .collect();
    let sequential = fixture();
    for (key, items) in &objects {
        sequential.land(key, items).await;
    }
    let concurrent = fixture();
    for (key, items) in &objects {
        concurrent.insert(key, jsonl(items)).await;
    }
    let mut keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    fastrand::Rng::with_seed(7).shuffle(&mut keys);
    let results = futures::future::join_all(
        keys.iter()
            .chain(keys.iter())
            .map(|k| concurrent.reconciler.reconcile_object(k)),
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(concurrent.dump().await, sequential.dump().await);
}

#[tokio::test]
async fn malformed_lines_are_skipped_and_the_rest_land() {
    let f = fixture();
    let a = item("a", "Satu", P1, "2025-03-01T01:00:00Z");
    let b = item("b", "Dua", P2, "2025-03-01T01:00:00Z");
    let body = format!(
        "{}{{\"title\": \"half an item\"}}\nnot json at all\n\n{}",
        jsonl(std::slice::from_ref(&a)),
        jsonl(std::slice::from_ref(&b))
    );
    f.insert("items/x.jsonl", body).await;
    let r = f
        .reconciler
        .reconcile_object("items/x.jsonl")
        .await
        .unwrap();
    assert_eq!(
        r,
        ReconcileReport {
            new: 2,
            skipped_lines: 2,
            ..ReconcileReport::default()
        }
    );
}

#[tokio::test]
async fn whole_object_failures_are_permanent_and_other_keys_ignored() {
    let f = fixture();
    assert_eq!(
        f.reconciler.reconcile_object("raw/x.json").await.unwrap(),
        ReconcileReport::default()
    );
    let missing = f.reconciler.reconcile_object("items/nope.jsonl").await;
    assert!(matches!(missing, Err(ReconcileError::Missing { .. })));
    assert!(!missing.unwrap_err().is_retryable());

    f.insert("items/bin.jsonl", vec![b'{', 0xff, 0xfe]).await;
    let err = f
        .reconciler
        .reconcile_object("items/bin.jsonl")
        .await
        .unwrap_err();
    assert!(matches!(err, ReconcileError::NotUtf8 { .. }), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(f.writes(), 0);

    // Permanent failures are acknowledged, not redelivered.
    let event = sqs_event([(
        "m".to_string(),
        s3_put_notification(f.blobs.bucket(), "items/bin.jsonl", 3, Utc::now()),
    )]);
    assert!(
        f.reconciler
            .handle(event)
            .await
            .batch_item_failures
            .is_empty()
    );
}

#[tokio::test]
async fn retryable_table_errors_send_the_message_back() {
    let f = fixture();
    let table = Arc::new(FaultyTable::new(SqliteTable::in_memory().unwrap()));
    table
        .faults()
        .fail_next(TableCall::Get, 1, Fault::Retryable);
    let reconciler = Reconciler {
        blobs: f.blobs.clone(),
        table: table.clone(),
        registry: Arc::new(registry()),
    };
    f.insert(
        "items/a.jsonl",
        jsonl(&[item("a", "Satu", P1, "2025-03-01T01:00:00Z")]),
    )
    .await;
    let event = || {
        sqs_event([(
            "m1".to_string(),
            s3_put_notification(f.blobs.bucket(), "items/a.jsonl", 1, Utc::now()),
        )])
    };
    let response = reconciler.handle(event()).await;
    assert_eq!(table.faults().injected(), 1);
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "m1");
    assert!(table.inner().dump().await.unwrap().is_empty());
    // The redelivery, with the table back, lands the item.
    assert!(
        reconciler
            .handle(event())
            .await
            .batch_item_failures
            .is_empty()
    );
    // Version, CURRENT, its role index entry and day count (`reconcile::rollup`), 2 story
    // entries (publication, name `ringkasan`), its judging record, membership, the mission's
    // latest official publication (`reconcile::latest`), and a search posting per term.
    let terms = crate::search::item_terms(&item("a", "Satu", P1, "2025-03-01T01:00:00Z")).len();
    assert_eq!(table.inner().dump().await.unwrap().len(), 9 + terms);
}

#[tokio::test]
async fn oversized_bodies_are_cut_to_fit_the_table() {
    let f = fixture();
    let mut big = item("big", "Panjang", P1, "2025-03-01T01:00:00Z");
    big.body = Some("é".repeat(300 * 1024));
    assert_eq!(
        f.land("items/big.jsonl", &[big.clone()]).await,
        report(1, 0, 0, 0)
    );
    let view = read::get_item(f.table.as_ref(), &big.identity())
        .await
        .unwrap()
        .unwrap();
    let body = view.current.item.body.unwrap();
    assert!(body.len() <= MAX_STORED_BODY_BYTES && body.len() > MAX_STORED_BODY_BYTES - 4);
}

#[tokio::test]
async fn registry_sync_writes_one_record_per_mission() {
    let table = SqliteTable::in_memory().unwrap();
    let registry = registry();
    assert_eq!(sync_registry(&table, &registry).await.unwrap(), 2);
    let missions = read::missions(&table).await.unwrap();
    let ids: Vec<_> = missions.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["canberra", "tokyo"]);
    assert_eq!(missions[1], registry.missions[0]);
    let jp = table
        .query(Query::partition(Index::Gsi2, schema::country_pk("JP")))
        .await
        .unwrap();
    assert_eq!(jp.items.len(), 1);
    // Syncing again keeps the same records.
    sync_registry(&table, &registry).await.unwrap();
    assert_eq!(read::missions(&table).await.unwrap().len(), 2);
}

#[tokio::test]
async fn registry_sync_writes_only_when_the_registry_changed() {
    let table = SqliteTable::in_memory().unwrap();
    let mut registry = registry();
    let first = sync_registry_report(&table, &registry).await.unwrap();
    assert_eq!(
        first,
        RegistrySync {
            missions: 2,
            written: 3
        }
    );

    // Same registry (a later cold start): nothing written. A record changed behind the sync's
    // back stays as it is, which shows no put reached it.
    let mut tampered = table
        .get(&Key::new(schema::mission_pk("tokyo"), schema::META))
        .await
        .unwrap()
        .unwrap();
    tampered.insert("city".into(), Value::String("tampered".into()));
    table.put(tampered, Condition::None).await.unwrap();
    let again = sync_registry_report(&table, &registry).await.unwrap();
    assert_eq!(
        again,
        RegistrySync {
            missions: 2,
            written: 0
        }
    );
    let tokyo = table
        .get(&Key::new(schema::mission_pk("tokyo"), schema::META))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tokyo["city"], "tampered");

    // A changed mission (a new deployment's registry): every record rewritten.
    registry.missions[0].city = "Tokio".into();
    let changed = sync_registry_report(&table, &registry).await.unwrap();
    assert_eq!(
        changed,
        RegistrySync {
            missions: 2,
            written: 3
        }
    );
    let missions = read::missions(&table).await.unwrap();
    assert!(missions.contains(&registry.missions[0]));
    assert_eq!(
        sync_registry_report(&table, &registry)
            .await
            .unwrap()
            .written,
        0
    );
}

/// What a deployment costs the table, per mission: the first `sync_registry` on a table
/// (here empty, as at the first deployment) completes the role index (a get of the mission's
/// marker, a query of its time index, a put of the marker) and then the summary of last
/// publications (each mission's newest official item from its role index: a get of the marker
/// beside one query). A later registry change finds every marker (a get each). The figures
/// docs/cost.md quotes.
#[tokio::test]
async fn a_registry_deployment_costs_a_few_requests_per_mission() {
    let table = CountingTable::new(SqliteTable::in_memory().unwrap());
    let mut registry = crate::registry::Registry::load_default().unwrap();
    let missions = registry.missions.len();
    sync_registry_report(&table, &registry).await.unwrap();
    let first = table.counts();
    eprintln!("first deployment, {missions} missions: {first:?}");
    // Beside the per-mission requests: the digest's get and put, the summary marker's get and
    // put, and the mission records' batch write.
    assert_eq!(
        (first.gets, first.queries, first.puts),
        (2 * missions + 2, 2 * missions, missions + 2),
        "{first:?}"
    );
    assert_eq!(first.batch_items, missions);
    table.reset();
    registry.missions[0].city = "Elsewhere".into();
    sync_registry_report(&table, &registry).await.unwrap();
    let changed = table.counts();
    eprintln!("registry changed: {changed:?}");
    assert_eq!(
        (changed.gets, changed.queries, changed.puts),
        (missions + 2, 0, 1),
        "{changed:?}"
    );
}

/// A table whose summary of last publications was made before the role index, by a look-back
/// of 200 items: a mission whose last official post is behind more media items than that is
/// missing from it (shown silent). The `sync_registry` that completes the role index notes it.
#[tokio::test]
async fn the_registry_sync_that_completes_the_role_index_repairs_an_old_summary() {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(SqliteTable::in_memory().unwrap());
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let registry = Arc::new(registry());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    let items = official_behind_media(read::MAX_READS_FOR_LAST + 10);
    blobs
        .put("items/1.jsonl", jsonl(&items).into(), &BlobMeta::default())
        .await
        .unwrap();
    reconciler.reconcile_object("items/1.jsonl").await.unwrap();
    // Back to the old table: no role index, counts or `indexed`, and the summary as the old
    // backfill left it (complete, without tokyo).
    for row in table.dump().await.unwrap() {
        let key = Key::of(&row).unwrap();
        if key.pk.starts_with("MROLE#")
            || key.pk.starts_with("ACTIVITY#")
            || key.pk.starts_with("LATEST#")
        {
            table.delete(&key, Condition::None).await.unwrap();
        } else if key.sk == schema::CURRENT {
            let update = Update {
                remove: vec![attr::INDEXED.into()],
                ..Update::default()
            };
            table.update(&key, update, Condition::None).await.unwrap();
        }
    }
    assert!(
        latest::backfill(table.as_ref(), &["tokyo".into()])
            .await
            .unwrap()
    );
    let summary = latest::latest_published(table.as_ref(), Role::Official)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.get("tokyo"), None);

    sync_registry(table.as_ref(), &registry).await.unwrap();
    let summary = latest::latest_published(table.as_ref(), Role::Official)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.get("tokyo"), Some(&at("2025-03-01T00:00:00Z")));
    assert_eq!(summary.get("canberra"), None);
}

#[tokio::test]
async fn mission_items_page_newest_first_with_filters() {
    let f = fixture();
    let base = at("2025-03-01T00:00:00Z");
    let items: Vec<NormalizedItem> = (0..25)
        .map(|n| {
            let published = (base + Duration::hours(n)).to_rfc3339();
            let mut i = item(
                &format!("n{n}"),
                &format!("Berita {n}"),
                &published,
                "2025-03-02T00:00:00Z",
            );
            if n % 5 == 0 {
                i.language = Some("en".into());
            }
            i
        })
        .collect();
    f.land("items/many.jsonl", &items).await;

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            read::mission_items(f.table.as_ref(), "tokyo", &ItemFilter::default(), 7, cursor)
                .await
                .unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|i| i.item.published_at));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no dupes"
    );

    let english = ItemFilter {
        language: Some("en".into()),
        since: Some(base + Duration::hours(5)),
        until: Some(base + Duration::hours(20)),
        ..ItemFilter::default()
    };
    let page = read::mission_items(f.table.as_ref(), "tokyo", &english, 10, None)
        .await
        .unwrap();
    let hours: Vec<_> = page
        .items
        .iter()
        .map(|i| (i.item.published_at - base).num_hours())
        .collect();
    assert_eq!(hours, [20, 15, 10, 5], "bounds are inclusive");
    assert_eq!(page.next, None);

    // Filtered pages resume right after their last match.
    let english_only = ItemFilter {
        language: Some("en".into()),
        ..ItemFilter::default()
    };
    let mut hours = Vec::new();
    let mut cursor = None;
    loop {
        let page = read::mission_items(f.table.as_ref(), "tokyo", &english_only, 2, cursor)
            .await
            .unwrap();
        hours.extend(
            page.items
                .iter()
                .map(|i| (i.item.published_at - base).num_hours()),
        );
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(hours, [20, 15, 10, 5, 0]);

    let canberra = read::mission_items(
        f.table.as_ref(),
        "canberra",
        &ItemFilter::default(),
        10,
        None,
    )
    .await
    .unwrap();
    assert!(canberra.items.is_empty());
    let first = read::mission_items(f.table.as_ref(), "tokyo", &ItemFilter::default(), 3, None)
        .await
        .unwrap();
    let foreign = read::mission_items(
        f.table.as_ref(),
        "canberra",
        &ItemFilter::default(),
        3,
        first.next,
    )
    .await;
    assert!(matches!(foreign, Err(read::ReadError::ForeignCursor)));
}

/// All orderings of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

/// Lands `first` one by one, then `rest` all at once (each its own object) through a
/// table that pauses every call a random time below 1.5 ms (`Faults::pause_randomly`), so
/// that concurrent reconcilers of one item interleave; returns the table's rows but postings.
async fn land_then_race(
    first: &[&NormalizedItem],
    rest: &[&NormalizedItem],
    seed: u64,
) -> Vec<Item> {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(FaultyTable::new(SqliteTable::in_memory().unwrap()));
    table
        .faults()
        .pause_randomly(std::time::Duration::from_micros(1500), seed);
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(registry()),
    };
    let put = |key: String, item: &NormalizedItem| {
        let blobs = blobs.clone();
        let body = jsonl(std::slice::from_ref(item));
        async move {
            blobs
                .put(&key, body.into(), &BlobMeta::default())
                .await
                .unwrap();
            key
        }
    };
    for (n, item) in first.iter().enumerate() {
        let key = put(format!("items/first-{n}.jsonl"), item).await;
        reconciler.reconcile_object(&key).await.unwrap();
    }
    let mut keys = Vec::new();
    for (n, item) in rest.iter().enumerate() {
        keys.push(put(format!("items/rest-{n}.jsonl"), item).await);
    }
    let results =
        futures::future::join_all(keys.iter().map(|k| reconciler.reconcile_object(k))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut rows = table.inner().dump().await.unwrap();
    rows.retain(|r| !r[table::PK].as_str().unwrap_or("").starts_with("TERM#"));
    rows
}

/// Issue 9: observations of one item reconciled concurrently (a list entry and its detail
/// in two batches in flight, late lists, a later correction) leave what one reconciler
/// taking them in fetch order leaves. The first case is the race the state tag alone let
/// through: a late detail folding a later list into itself leaves `CURRENT`'s bookkeeping as
/// it was, and a list reconciled beside it, having read the list of versions before the fold,
/// added a version the detail's run already covers.
#[tokio::test]
async fn one_items_observations_reconciled_concurrently_agree_with_fetch_order() {
    let earlier = item("a", "Pertemuan awal", P1, "2025-03-01T00:00:00Z");
    let first_list = list_entry("a", "Pertemuan", P1, "2025-03-01T01:00:00Z");
    let detail = item("a", "Pertemuan", P1, "2025-03-01T01:00:00.001Z");
    let late_list = list_entry("a", "Pertemuan", P1, "2025-03-01T01:30:00Z");
    let next_list = NormalizedItem {
        summary: detail.summary.clone(),
        ..list_entry("a", "Pertemuan", P1, "2025-03-01T02:00:00Z")
    };
    let correction = item("a", "Pertemuan (ralat)", P1, "2025-03-01T03:00:00Z");
    let all = [
        &earlier,
        &first_list,
        &detail,
        &late_list,
        &next_list,
        &correction,
    ];
    let expected = land_then_race(&all, &[], 0).await;

    let mut failures = Vec::new();
    let without_first_list = land_then_race(
        &[&earlier, &detail, &late_list, &next_list, &correction],
        &[],
        0,
    )
    .await;
    for seed in 0..12 {
        let got = land_then_race(
            &[&earlier, &next_list, &correction],
            &[&detail, &late_list],
            seed,
        )
        .await;
        if got != without_first_list {
            failures.push(format!("detail beside late list, seed {seed}"));
        }
    }
    let mut rng = fastrand::Rng::with_seed(9);
    for round in 0..40 {
        let mut order = all.to_vec();
        rng.shuffle(&mut order);
        let split = rng.usize(0..=3);
        let got = land_then_race(&order[..split], &order[split..], round).await;
        if got != expected {
            let fetched: Vec<_> = order.iter().map(|i| i.fetched_at.to_rfc3339()).collect();
            failures.push(format!("round {round}: {split} first of {fetched:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} races lost: {failures:#?}",
        failures.len()
    );
}
