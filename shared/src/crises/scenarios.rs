//! The crisis scenario suite: timelines of realistic events (`timelines`) fed as items objects
//! through the real reconcile on the embedded SQLite store, with the exact crises, evidence,
//! responses, latencies and flags each must produce.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::timelines::{self, at};
use super::*;
use crate::model::NormalizedItem;
use crate::reconcile::{ReconcileReport, Reconciler};
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::testing::CountingTable;
use crate::store::{BlobMeta, BlobStore};

struct Fixture {
    table: Arc<CountingTable<SqliteTable>>,
    blobs: Arc<DiskBlobStore>,
    reconciler: Reconciler,
    objects: std::sync::atomic::AtomicUsize,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(CountingTable::new(
        SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap(),
    ));
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(Registry::load_default().unwrap()),
    };
    Fixture {
        table,
        blobs,
        reconciler,
        objects: Default::default(),
        _dir: dir,
    }
}

impl Fixture {
    /// Lands one items object holding `items` and reconciles it.
    async fn land(&self, items: &[NormalizedItem]) -> ReconcileReport {
        let n = self
            .objects
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let key = format!("items/scenario/{n:04}.jsonl");
        let body: String = items
            .iter()
            .map(|i| serde_json::to_string(i).unwrap() + "\n")
            .collect();
        self.blobs
            .put(&key, Bytes::from(body), &BlobMeta::default())
            .await
            .unwrap();
        self.reconciler.reconcile_object(&key).await.unwrap()
    }

    /// Lands each item in its own object, in the order given.
    async fn land_each(&self, items: &[NormalizedItem]) -> ReconcileReport {
        let mut sum = ReconcileReport::default();
        for item in items {
            let r = self.land(std::slice::from_ref(item)).await;
            sum.new += r.new;
            sum.changed += r.changed;
            sum.unchanged += r.unchanged;
            sum.crises_opened += r.crises_opened;
            sum.responses_linked += r.responses_linked;
        }
        sum
    }

    /// Every crisis, crisis head and signal entry as stored, by key: what must not depend on
    /// the delivery order.
    async fn crisis_records(&self) -> std::collections::BTreeMap<String, Item> {
        let families = ["CRISIS#", "CRISIS_HEAD#", "CSIG#"];
        self.table
            .inner()
            .dump()
            .await
            .unwrap()
            .into_iter()
            .filter_map(|record| {
                let pk = record.get("pk")?.as_str()?.to_owned();
                let sk = record.get("sk")?.as_str()?.to_owned();
                families
                    .iter()
                    .any(|f| pk.starts_with(f))
                    .then(|| (format!("{pk}|{sk}"), record))
            })
            .collect()
    }

    async fn crises(&self, country: Option<&str>, now: DateTime<Utc>) -> Vec<CrisisView> {
        list_crises_at(
            self.table.as_ref(),
            &CrisisConfig::default(),
            country,
            false,
            100,
            now,
        )
        .await
        .unwrap()
    }
}

/// A crisis as compared across delivery orders: all of it, its id included (named after its
/// earliest signal, whatever the order).
fn canonical(view: &CrisisView) -> Value {
    serde_json::to_value(view).unwrap()
}

fn id_of(items: &[NormalizedItem], guid: &str) -> String {
    items
        .iter()
        .find(|i| i.guid.as_deref() == Some(guid))
        .unwrap()
        .identity()
}

fn kinds(view: &CrisisView) -> Vec<(&str, ResponseKind, i64)> {
    view.responses
        .iter()
        .map(|r| {
            (
                r.response.mission.as_str(),
                r.response.kind,
                r.latency_seconds,
            )
        })
        .collect()
}

/// (a) One earthquake, two feeds: one crisis with both events merged, the local media as
/// evidence, the advisory and the hotline as responses at 3 h and 4 h 30 min.
#[tokio::test]
async fn a_turkiye_earthquake_is_one_crisis_with_two_timed_responses() {
    let f = fixture();
    let items = timelines::turkiye_earthquake();
    let report = f.land_each(&items).await;
    assert_eq!(report.new, 7);
    assert_eq!(report.crises_opened, 1);
    assert_eq!(report.responses_linked, 2);

    let now = at("2023-02-06T12:00:00Z");
    let crises = f.crises(Some("TR"), now).await;
    assert_eq!(crises.len(), 1, "{crises:#?}");
    let c = &crises[0];
    assert_eq!(c.kind, CrisisKind::Earthquake);
    assert_eq!(c.state, CrisisState::Active);
    assert_eq!(c.first_signal_at, at("2023-02-06T01:17:34Z"));
    assert_eq!(c.last_signal_at, at("2023-02-06T03:17:34Z"));
    assert_eq!(c.opened_by, "USGS M7.8 >= 6.0");
    assert_eq!(c.hazard_events, ["EQ1357714", "us6000jllz"]);
    let signals: Vec<(&str, bool, &str)> = c
        .signals
        .iter()
        .map(|s| (s.source.as_str(), s.qualifies, s.reason.as_str()))
        .collect();
    assert_eq!(
        signals,
        [
            ("global/usgs", true, "USGS M7.8 >= 6.0"),
            ("global/gdacs", true, "GDACS alert red >= orange"),
            (
                "ankara/media-dailysabah",
                false,
                "media: crisis terms earthquake, magnitude (disaster.earthquake)"
            ),
            (
                "istanbul/media-hurriyetdaily",
                false,
                "media: crisis terms earthquake (disaster.earthquake)"
            ),
        ]
    );
    assert_eq!(
        kinds(c),
        [
            ("ankara", ResponseKind::Advisory, 3 * 3600),
            ("istanbul", ResponseKind::Hotline, 4 * 3600 + 30 * 60)
        ]
    );
    assert_eq!(c.responses[0].response.terms, ["imbauan"]);
    assert_eq!(
        c.responses[0].response.matched_by,
        ["place:TR", "topic:disaster.earthquake"]
    );
    assert_eq!(c.responses[1].response.terms, ["hotline"]);
    assert_eq!(
        c.responses[0].response.item_id,
        id_of(&items, "imbauan-gempa")
    );
    assert!(!c.no_response);

    // The board and the detail agree.
    let board = list_crises_at(
        f.table.as_ref(),
        &CrisisConfig::default(),
        None,
        true,
        10,
        now,
    )
    .await
    .unwrap();
    assert_eq!(board, crises);
    let detail = crisis_detail_at(f.table.as_ref(), &CrisisConfig::default(), &c.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&detail, c);

    // Redelivered as is: every item costs one read, nothing is written, nothing changes.
    f.table.reset();
    let again = f.land(&items).await;
    assert_eq!(
        (again.unchanged, again.crises_opened, again.responses_linked),
        (7, 0, 0)
    );
    let counts = f.table.counts();
    assert_eq!((counts.reads(), counts.writes()), (7, 0), "{counts:?}");
    assert_eq!(f.crises(Some("TR"), now).await, crises);
}

/// (b) A protest surge in Bangladesh with no word from the mission: one crisis opened by the
/// surge, flagged once a day has passed.
#[tokio::test]
async fn a_protest_surge_without_a_response_is_flagged() {
    let f = fixture();
    let items = timelines::bangladesh_protests();
    let report = f.land_each(&items).await;
    assert_eq!((report.crises_opened, report.responses_linked), (1, 0));
    let start = at("2024-07-18T06:00:00Z");

    let early = f.crises(Some("BD"), start + Duration::hours(13)).await;
    assert_eq!(early.len(), 1);
    let c = &early[0];
    assert_eq!(c.kind, CrisisKind::Unrest);
    assert_eq!(c.signals.len(), 5);
    assert_eq!(c.first_signal_at, start);
    assert_eq!(c.last_signal_at, start + Duration::hours(12));
    assert_eq!(
        c.opened_by,
        "media surge: 5 crisis items from 3 sources within 24 h (>= 4 from >= 2)"
    );
    assert!(!c.no_response, "not yet a day");

    let late = f.crises(Some("BD"), start + Duration::hours(24)).await;
    assert!(late[0].no_response);
    assert_eq!(late[0].state, CrisisState::Active);
}

/// (c) A minor flood never crosses a threshold: no crisis, only its signals recorded.
#[tokio::test]
async fn a_minor_flood_opens_no_crisis() {
    let f = fixture();
    let items = timelines::malaysia_minor_flood();
    let report = f.land_each(&items).await;
    assert_eq!(report.crises_opened, 0);
    assert!(f.crises(None, at("2024-11-30T00:00:00Z")).await.is_empty());
    let signals = f
        .table
        .query(Query::partition(
            Index::Primary,
            schema::crisis_signals_pk("MY"),
        ))
        .await
        .unwrap();
    assert_eq!(signals.items.len(), 3);
}

/// (d) Every event of (a), (b), (c) and (f) delivered twice, shuffled, in objects of mixed
/// sizes: the same crises as in order, ids included.
#[tokio::test]
async fn shuffled_redelivered_events_give_identical_crises() {
    let mut all = timelines::turkiye_earthquake();
    all.extend(timelines::bangladesh_protests());
    all.extend(timelines::malaysia_minor_flood());
    all.extend(timelines::japan_two_quakes());
    let now = at("2024-12-31T00:00:00Z");

    let in_order = fixture();
    in_order.land_each(&all).await;
    let expected: Vec<Value> = in_order
        .crises(None, now)
        .await
        .iter()
        .map(canonical)
        .collect();
    assert_eq!(expected.len(), 4);

    for seed in [1, 2, 3] {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut deliveries: Vec<NormalizedItem> = all.iter().chain(all.iter()).cloned().collect();
        rng.shuffle(&mut deliveries);
        let f = fixture();
        let mut rest = &deliveries[..];
        while !rest.is_empty() {
            let n = rng.usize(1..=4).min(rest.len());
            f.land(&rest[..n]).await;
            rest = &rest[n..];
        }
        let got: Vec<Value> = f.crises(None, now).await.iter().map(canonical).collect();
        assert_eq!(got, expected, "seed {seed}");
    }
}

/// (e) The mission's advisory arrives before any hazard signal: linked when the crisis opens.
#[tokio::test]
async fn a_response_delivered_before_the_signal_is_still_linked() {
    let f = fixture();
    let items = timelines::turkiye_earthquake();
    let advisory: Vec<_> = items
        .iter()
        .filter(|i| i.guid.as_deref() == Some("imbauan-gempa"))
        .cloned()
        .collect();
    let first = f.land(&advisory).await;
    assert_eq!(
        (first.new, first.crises_opened, first.responses_linked),
        (1, 0, 0)
    );
    let usgs = f.land(&items[..1]).await;
    assert_eq!((usgs.crises_opened, usgs.responses_linked), (1, 1));
    let c = &f.crises(Some("TR"), at("2023-02-06T12:00:00Z")).await[0];
    assert_eq!(kinds(c), [("ankara", ResponseKind::Advisory, 3 * 3600)]);
}

/// (g) A felt BMKG quake in Indonesia opens a home crisis: kept, marked home, no response
/// linked (not even the Jakarta mission's own post about it) and never flagged for having
/// none; the Türkiye crisis of the same morning is exactly as without it.
#[tokio::test]
async fn a_quake_in_indonesia_is_a_home_crisis_that_expects_no_mission_response() {
    let f = fixture();
    let items = timelines::indonesia_home_quake();
    let report = f.land_each(&items).await;
    assert_eq!(report.new, 9);
    assert_eq!((report.crises_opened, report.responses_linked), (2, 2));

    let week_later = at("2023-02-13T00:00:00Z");
    let home = f.crises(Some("ID"), week_later).await;
    assert_eq!(home.len(), 1, "{home:#?}");
    let c = &home[0];
    assert!(c.home);
    assert_eq!(c.kind, CrisisKind::Earthquake);
    assert_eq!(
        c.opened_by,
        "BMKG M5.6 >= 5.0, felt IV Bantul, III Yogyakarta"
    );
    assert_eq!(c.first_signal_at, at("2023-02-06T02:00:00Z"));
    assert!(c.responses.is_empty(), "{:#?}", c.responses);
    assert!(!c.no_response, "a home crisis is never flagged");
    assert_eq!(c.state, CrisisState::Closed);

    // Türkiye: as in scenario (a).
    let abroad = f.crises(Some("TR"), week_later).await;
    assert_eq!(abroad.len(), 1);
    assert!(!abroad[0].home);
    assert_eq!(
        kinds(&abroad[0]),
        [
            ("ankara", ResponseKind::Advisory, 3 * 3600),
            ("istanbul", ResponseKind::Hotline, 4 * 3600 + 30 * 60)
        ]
    );

    // The Jakarta post first, the quake after: still no link.
    let g = fixture();
    let reversed = g.land_each(&[items[1].clone(), items[0].clone()]).await;
    assert_eq!((reversed.crises_opened, reversed.responses_linked), (1, 0));
    let c = &g.crises(Some("ID"), week_later).await[0];
    assert!(c.home && c.responses.is_empty() && !c.no_response);
}

/// (h) KBRI Ankara's post on the rescue team's arrival matches the crisis by no topic or
/// term, but it is one story with a media report the crisis counted as evidence: a response,
/// `story:{id}`. Whether the post comes before the report, after it, or both before the
/// crisis opens, the crisis is the same; delivered again, nothing more is linked.
#[tokio::test]
async fn an_official_post_in_the_story_of_the_evidence_is_a_response() {
    let quake = timelines::turkiye_earthquake();
    let rescue = timelines::turkiye_rescue_team();
    let (report, post) = (&rescue[0], &rescue[1]);
    let story = report.identity().min(post.identity());
    let now = at("2023-02-08T00:00:00Z");

    let orders: [(&str, Vec<NormalizedItem>); 3] = [
        (
            "post before report",
            [quake.clone(), vec![post.clone(), report.clone()]].concat(),
        ),
        (
            "report before post",
            [quake.clone(), vec![report.clone(), post.clone()]].concat(),
        ),
        (
            "both before the crisis",
            [vec![post.clone(), report.clone()], quake.clone()].concat(),
        ),
    ];
    let mut views = Vec::new();
    for (name, items) in &orders {
        let f = fixture();
        let landed = f.land_each(items).await;
        assert_eq!(landed.responses_linked, 3, "{name}");
        let crises = f.crises(Some("TR"), now).await;
        assert_eq!(crises.len(), 1, "{name}: {crises:#?}");
        let c = &crises[0];
        assert_eq!(
            kinds(c),
            [
                ("ankara", ResponseKind::Advisory, 3 * 3600),
                ("istanbul", ResponseKind::Hotline, 4 * 3600 + 30 * 60),
                ("ankara", ResponseKind::Other, 22 * 3600),
            ],
            "{name}"
        );
        let by_story = &c.responses[2].response;
        assert_eq!(by_story.item_id, post.identity(), "{name}");
        assert_eq!(
            by_story.matched_by,
            ["place:TR".to_owned(), format!("story:{story}")],
            "{name}"
        );
        assert!(by_story.terms.is_empty(), "{name}");
        assert!(
            c.signals.iter().any(|s| s.item_id == report.identity()),
            "{name}: the report is evidence"
        );

        // Delivered again: nothing more.
        let again = f.land(items).await;
        assert_eq!(
            (again.unchanged, again.responses_linked),
            (items.len(), 0),
            "{name}"
        );
        assert_eq!(f.crises(Some("TR"), now).await, crises, "{name}");
        views.push(canonical(c));
    }
    assert_eq!(views[0], views[1]);
    assert_eq!(views[0], views[2]);
}

/// (f) A crisis closes a quiet period after its last signal; a later quake is a new crisis.
#[tokio::test]
async fn a_crisis_closes_after_the_quiet_period_and_a_new_one_opens_later() {
    let f = fixture();
    let items = timelines::japan_two_quakes();
    f.land_each(&items[..2]).await;
    let first_quake = at("2024-01-01T07:10:09Z");
    let last_signal = first_quake + Duration::hours(20);

    let during = f.crises(Some("JP"), first_quake + Duration::days(2)).await;
    assert_eq!(during.len(), 1);
    assert_eq!(during[0].state, CrisisState::Active);
    assert_eq!(during[0].signals.len(), 2, "the aftershock report joined");
    let after = f.crises(Some("JP"), first_quake + Duration::days(5)).await;
    assert_eq!(after[0].state, CrisisState::Closed);
    assert_eq!(after[0].closed_at, Some(last_signal + Duration::hours(72)));
    assert!(after[0].no_response);

    let report = f.land(&items[2..]).await;
    assert_eq!(report.crises_opened, 1);
    let now = first_quake + Duration::days(12) + Duration::hours(1);
    let both = f.crises(Some("JP"), now).await;
    assert_eq!(both.len(), 2);
    assert_eq!(
        (both[0].state, both[0].opened_by.as_str()),
        (CrisisState::Active, "USGS M6.1 >= 6.0")
    );
    assert_eq!(both[1].state, CrisisState::Closed);
    assert_ne!(both[0].id, both[1].id);
    let active = list_crises_at(
        f.table.as_ref(),
        &CrisisConfig::default(),
        None,
        true,
        10,
        now,
    )
    .await
    .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].id, both[0].id);
}

/// (i) The Türkiye earthquake with the rescue-team story (hazard events, media, responses by
/// topic, terms and story) and the Bangladesh surge, one item per object: in every rotation
/// of the timeline, reversed, and reversed then in order (every item twice), the same crisis
/// records (ids, evidence, responses, heads, signal entries), so the same latencies and flags.
#[tokio::test]
async fn every_rotation_and_the_reverse_give_the_same_crises_and_responses() {
    let mut items = timelines::turkiye_earthquake();
    items.extend(timelines::turkiye_rescue_team());
    items.extend(timelines::bangladesh_protests());
    let now = at("2024-07-20T00:00:00Z");

    let reference = fixture();
    let report = reference.land_each(&items).await;
    assert_eq!((report.crises_opened, report.responses_linked), (2, 3));
    let expected = reference.crises(None, now).await;
    assert_eq!(expected.len(), 2, "{expected:#?}");
    let latencies: Vec<Vec<_>> = expected.iter().map(kinds).collect();
    assert_eq!(
        latencies,
        [
            vec![],
            vec![
                ("ankara", ResponseKind::Advisory, 3 * 3600),
                ("istanbul", ResponseKind::Hotline, 4 * 3600 + 30 * 60),
                ("ankara", ResponseKind::Other, 22 * 3600),
            ]
        ]
    );
    assert_eq!(
        expected.iter().map(|c| c.no_response).collect::<Vec<_>>(),
        [true, false]
    );
    let records = reference.crisis_records().await;

    let mut orders: Vec<(String, Vec<NormalizedItem>)> = (1..items.len())
        .map(|r| {
            let mut order = items.clone();
            order.rotate_left(r);
            (format!("rotation {r}"), order)
        })
        .collect();
    let reversed: Vec<NormalizedItem> = items.iter().rev().cloned().collect();
    orders.push(("reversed".into(), reversed.clone()));
    orders.push((
        "reversed, then in order".into(),
        [reversed, items.clone()].concat(),
    ));
    for (name, order) in &orders {
        let f = fixture();
        f.land_each(order).await;
        assert_eq!(f.crises(None, now).await, expected, "{name}");
        assert_eq!(f.crisis_records().await, records, "{name}");
    }
}

/// (j) Two Japanese quakes twelve days apart are two crises, until aftershock reports in
/// between (delivered last) bridge the quiet gaps: then one crisis, named after the first
/// quake, holding both, the second one's record gone. Delivered first, the reports give the
/// very same records.
#[tokio::test]
async fn a_late_signal_bridging_two_crises_merges_them_into_one() {
    let quakes = timelines::japan_two_quakes();
    let first_quake = at("2024-01-01T07:10:09Z");
    let bridges: Vec<NormalizedItem> = [60, 120, 180, 240]
        .iter()
        .map(|hours| {
            timelines::media(
                "tokyo",
                "media-japantimes",
                &format!("jt-aftershock-{hours}"),
                "Another strong aftershock hits Japan",
                "An earthquake aftershock shook Ishikawa, Japan, again.",
                first_quake + Duration::hours(*hours),
            )
        })
        .collect();
    let now = first_quake + Duration::days(30);

    let late = fixture();
    late.land_each(&quakes).await;
    let two = late.crises(Some("JP"), now).await;
    assert_eq!(two.len(), 2, "{two:#?}");
    late.land_each(&bridges).await;
    let one = late.crises(Some("JP"), now).await;
    assert_eq!(one.len(), 1, "{one:#?}");
    assert_eq!(one[0].id, two[1].id, "named after the first quake");
    assert_eq!(one[0].signals.len(), 7);
    assert_eq!(one[0].hazard_events, ["us6000m0xl", "us7000lsze"]);
    assert_eq!(one[0].opened_by, "USGS M7.5 >= 6.0");

    let early = fixture();
    early
        .land_each(&[bridges.clone(), quakes.clone()].concat())
        .await;
    assert_eq!(early.crises(Some("JP"), now).await, one);
    assert_eq!(early.crisis_records().await, late.crisis_records().await);
}

/// (k) The signals of one crisis reconciled all at once, each in its own object, from many
/// tasks on two threads: one crisis, the same records as one at a time (the group's head
/// refuses every decision made from a stale read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reconciles_of_one_country_open_one_crisis() {
    let mut items = timelines::turkiye_earthquake();
    items.extend(timelines::turkiye_rescue_team());
    let now = at("2023-02-08T00:00:00Z");
    let sequential = fixture();
    sequential.land_each(&items).await;

    let f = Arc::new(fixture());
    let tasks: Vec<_> = items
        .iter()
        .rev()
        .cloned()
        .map(|item| {
            let f = f.clone();
            tokio::spawn(async move { f.land(&[item]).await })
        })
        .collect();
    let mut opened = 0;
    for task in tasks {
        opened += task.await.unwrap().crises_opened;
    }
    assert_eq!(opened, 1, "two reconcilers opened a crisis each");
    assert_eq!(
        f.crises(None, now).await,
        sequential.crises(None, now).await
    );
    assert_eq!(f.crisis_records().await, sequential.crisis_records().await);
}

/// (l) A store from before the heads kept a digest and their crises (a head naming only its
/// latest crisis): the next signals find the stored crisis through the country's crisis
/// index and join it rather than open a second one; the head is rewritten in the new form.
#[tokio::test]
async fn a_head_from_before_the_digest_still_finds_its_crisis() {
    let f = fixture();
    let items = timelines::turkiye_earthquake();
    let now = at("2023-02-06T12:00:00Z");
    assert_eq!(f.land(&items[..1]).await.crises_opened, 1);
    let opened = f.crises(Some("TR"), now).await;
    let head_key = Key::new(
        schema::crisis_head_pk("TR", "seismic"),
        schema::CRISIS_HEAD_SK,
    );
    let mut legacy = Item::new();
    legacy.insert("pk".into(), Value::String(head_key.pk.clone()));
    legacy.insert("sk".into(), Value::String(head_key.sk.clone()));
    legacy.insert("crisis_id".into(), Value::String(opened[0].id.clone()));
    f.table
        .put(legacy, crate::store::Condition::None)
        .await
        .unwrap();

    let report = f.land_each(&items[1..]).await;
    assert_eq!(report.crises_opened, 0);
    let crises = f.crises(Some("TR"), now).await;
    assert_eq!(crises.len(), 1, "{crises:#?}");
    assert_eq!(crises[0].signals.len(), 4);
    assert_eq!(crises[0].responses.len(), 2);
    let head = f.table.get(&head_key).await.unwrap().unwrap();
    assert!(
        head.contains_key("digest") && head.contains_key("crises"),
        "{head:?}"
    );
}

/// Responses published before their crisis opened are found by reading the missions' official
/// items (`responses::backlink`): from the role index once a mission's is complete, from its
/// time index before. Both find the same responses.
#[tokio::test]
async fn responses_found_from_the_role_index_are_those_the_time_index_finds() {
    let mut all = timelines::turkiye_earthquake();
    all.extend(timelines::bangladesh_protests());
    all.extend(timelines::japan_two_quakes());
    // Official items first: each crisis finds them when it opens.
    let (official, rest): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|i| i.role == crate::model::Role::Official);
    let now = at("2024-12-31T00:00:00Z");

    let by_time = fixture();
    let by_role = fixture();
    let ids: Vec<String> = by_role
        .reconciler
        .registry
        .missions
        .iter()
        .map(|m| m.id.clone())
        .collect();
    // Markers on the empty table, as `sync_registry` writes them at the first deployment.
    crate::reconcile::rollup::backfill(by_role.table.as_ref(), &ids)
        .await
        .unwrap();
    let mut linked = Vec::new();
    for f in [&by_time, &by_role] {
        let first = f.land_each(&official).await;
        assert_eq!(first.responses_linked, 0);
        linked.push(f.land_each(&rest).await.responses_linked);
    }
    assert_eq!(linked[0], linked[1]);
    assert!(linked[0] >= 2, "{linked:?}");
    let indexed: Vec<Value> = by_role
        .crises(None, now)
        .await
        .iter()
        .map(canonical)
        .collect();
    let read_by_time: Vec<Value> = by_time
        .crises(None, now)
        .await
        .iter()
        .map(canonical)
        .collect();
    assert_eq!(indexed, read_by_time);
}

/// (j) A crisis that goes on: the Türkiye earthquake reported every few minutes for three days
/// (245 media signals, 247 in all), the rescue team's report among the middle ones. The
/// crisis record keeps the two hazard signals, the first 100 and the last 100 others, and the
/// count, so it stays far below DynamoDB's 400 KB item limit (whole, a record grows ~240 bytes
/// a signal: refused past ~1,400 signals, and every later signal lost with it). The crisis
/// read alone still has every signal, and KBRI Ankara's post still answers it through its
/// story with the report, which the record's sample leaves out. Delivered in time order or
/// newest first, the records are the same.
#[tokio::test]
async fn a_long_crisis_keeps_a_bounded_record_and_every_signal() {
    let quake_at = at("2023-02-06T01:17:34Z");
    let rescue = timelines::turkiye_rescue_team();
    let (report, post) = (&rescue[0], &rescue[1]);
    // Reports of the aftermath in Malatya, none sharing the rescue team's story: 122 before
    // the report, 122 after it.
    let aftermath = |n: usize, minutes: i64| {
        timelines::media(
            "ankara",
            if n.is_multiple_of(2) {
                "media-dailysabah"
            } else {
                "media-hurriyetdaily"
            },
            &format!("malatya-{n}"),
            &format!("Earthquake aftermath in Malatya: update {n} on damaged buildings"),
            &format!(
                "Officials in Malatya counted {} damaged buildings after the earthquake.",
                1000 + 7 * n
            ),
            quake_at + Duration::minutes(minutes),
        )
    };
    let mut items = timelines::turkiye_earthquake();
    items.extend((0..122).map(|n| aftermath(n, 60 + 8 * n as i64)));
    items.push(report.clone());
    items.extend((122..244).map(|n| aftermath(n, 23 * 60 + 20 * (n as i64 - 122))));
    items.push(post.clone());
    let now = at("2023-02-12T00:00:00Z");

    let mut records = Vec::new();
    for (name, order) in [("in time order", false), ("newest first", true)] {
        let f = fixture();
        let mut delivered = items.clone();
        if order {
            delivered.reverse();
        }
        for chunk in delivered.chunks(25) {
            f.land(chunk).await;
        }
        let listed = f.crises(Some("TR"), now).await;
        assert_eq!(listed.len(), 1, "{name}");
        let c = &listed[0];
        let total = c.signal_count;
        assert!(total >= 247, "{name}: {total} signals");
        assert_eq!(
            c.signals.len(),
            2 + 2 * STORED_SIGNALS_AT_EACH_END,
            "{name}"
        );
        assert!(
            !c.signals.iter().any(|s| s.item_id == report.identity()),
            "{name}: the report is not in the record's sample"
        );
        let by_story = c
            .responses
            .iter()
            .find(|r| r.response.item_id == post.identity())
            .unwrap_or_else(|| panic!("{name}: the post answers by its story: {:#?}", c.responses));
        assert!(
            by_story
                .response
                .matched_by
                .iter()
                .any(|m| m.starts_with("story:")),
            "{name}: {by_story:?}"
        );

        let stored = f.crisis_records().await;
        let record = &stored[&format!("CRISIS#{}|META", c.id)];
        let size = crate::store::table::item_size(record);
        assert!(size < 100 * 1024, "{name}: the record is {size} bytes");

        let detail = crisis_detail_at(f.table.as_ref(), &CrisisConfig::default(), &c.id, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            detail.signals.len(),
            total,
            "{name}: every signal when read alone"
        );
        assert_eq!(detail.signal_count, total, "{name}");
        assert!(
            detail
                .signals
                .iter()
                .any(|s| s.item_id == report.identity()),
            "{name}"
        );
        assert!(
            detail
                .signals
                .is_sorted_by_key(|s| (s.at, s.item_id.clone())),
            "{name}"
        );
        records.push(stored);
    }
    assert_eq!(records[0], records[1], "the same records in either order");
}

/// (k) The crisis stage refuses a signal for good (here its crisis's record is unreadable):
/// the item is stored all the same, and the report counts the failure, which operators are
/// alarmed on (`crisis_failures`), instead of only a log line.
#[tokio::test]
async fn a_signal_the_crisis_stage_refuses_is_stored_and_counted() {
    let f = fixture();
    let items = timelines::turkiye_earthquake();
    let landed = f.land_each(&items[..2]).await;
    assert_eq!((landed.crises_opened, landed.crisis_failures), (1, 0));
    let crisis = f.crises(Some("TR"), at("2023-02-08T00:00:00Z")).await[0]
        .id
        .clone();
    let mut broken = Item::new();
    broken.insert(table::PK.into(), Value::String(schema::crisis_pk(&crisis)));
    broken.insert(table::SK.into(), Value::String(schema::META.into()));
    broken.insert("signals".into(), Value::String("not a list".into()));
    f.table
        .put(broken, crate::store::Condition::None)
        .await
        .unwrap();

    let report = f.land(&items[2..3]).await;
    assert_eq!((report.new, report.crisis_failures), (1, 1), "{report:?}");
}
