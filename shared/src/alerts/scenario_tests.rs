//! The alert scenarios: the crisis timelines of reconcile (`crises::timelines`) landed through
//! the real reconcile on the embedded SQLite store, rules evaluated at simulated moments, and
//! exactly which messages are written, when, with what content, and how they are delivered.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};

use super::conditions::severity;
use super::regions::region_of;
use super::*;
use crate::crises::timelines::{self, at};
use crate::crises::{CrisisConfig, list_crises_at};
use crate::model::{AlertLevel, HazardKind, NormalizedItem, SourceKind};
use crate::reconcile::Reconciler;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::{BlobMeta, BlobStore};

const DASHBOARD: &str = "https://pantau.example.go.id";

struct Fixture {
    table: Arc<SqliteTable>,
    blobs: Arc<DiskBlobStore>,
    registry: Arc<Registry>,
    reconciler: Reconciler,
    objects: std::sync::atomic::AtomicUsize,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap());
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let registry = Arc::new(Registry::load_default().unwrap());
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    Fixture {
        table,
        blobs,
        registry,
        reconciler,
        objects: Default::default(),
        _dir: dir,
    }
}

impl Fixture {
    async fn land(&self, items: &[NormalizedItem]) {
        let n = self.objects.fetch_add(1, Ordering::SeqCst);
        let key = format!("items/alerts/{n:04}.jsonl");
        let body: String = items
            .iter()
            .map(|i| serde_json::to_string(i).unwrap() + "\n")
            .collect();
        self.blobs
            .put(&key, Bytes::from(body), &BlobMeta::default())
            .await
            .unwrap();
        self.reconciler.reconcile_object(&key).await.unwrap();
    }

    fn evaluator(&self) -> Evaluator {
        Evaluator {
            table: self.table.clone(),
            registry: self.registry.clone(),
            crisis_config: CrisisConfig::default(),
            settings: AlertSettings {
                dashboard_url: DASHBOARD.into(),
                channels: vec!["webhook".into()],
            },
            hq: None,
        }
    }

    async fn rule(&self, json: &str) -> Rule {
        let rule = NewRule::from_json(json.as_bytes())
            .unwrap()
            .into_rule(at("2020-01-01T00:00:00Z"));
        rules::add_rule(self.table.as_ref(), &rule).await.unwrap();
        rule
    }

    async fn evaluate(&self, scope: Scope, now: DateTime<Utc>) -> EvaluationReport {
        self.evaluator().evaluate(scope, now).await.unwrap()
    }

    /// Every message, oldest first.
    async fn messages(&self) -> Vec<AlertMessage> {
        let mut all: Vec<AlertMessage> = outbox::history(self.table.as_ref(), 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.message)
            .collect();
        all.reverse();
        all
    }
}

/// (rule name, event, subjects) of messages: what fired, in order.
fn summary(messages: &[AlertMessage]) -> Vec<(String, AlertEvent, Vec<String>)> {
    messages
        .iter()
        .map(|m| {
            (
                m.rule_name.clone(),
                m.event,
                m.subjects.iter().map(|s| s.subject.clone()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_turkiye_earthquake_alerts_once_on_opening_then_on_silence_then_resolves() {
    let f = fixture();
    let items = timelines::turkiye_earthquake();
    f.rule(r#"{"name":"Gempa Timur Tengah","kind":"crisis_opened","region":"middle_east","min_severity":"warning"}"#).await;
    f.rule(r#"{"name":"Turki tanpa respons 2 jam","kind":"crisis_no_response","after_hours":2,"country":"tr"}"#).await;
    f.rule(r#"{"name":"Bangladesh","kind":"crisis_opened","country":"BD"}"#)
        .await;
    f.rule(r#"{"name":"Banjir saja","kind":"crisis_opened","crisis_kind":"flood"}"#)
        .await;

    // USGS and GDACS land; reconcile's event hook evaluates the crisis rules.
    f.land(&items[..2]).await;
    let report = f.evaluate(Scope::Crises, at("2023-02-06T01:30:00Z")).await;
    assert_eq!((report.rules, report.fired, report.messages), (4, 1, 1));
    let crisis = &list_crises_at(
        f.table.as_ref(),
        &CrisisConfig::default(),
        Some("TR"),
        false,
        5,
        at("2023-02-06T01:30:00Z"),
    )
    .await
    .unwrap()[0];
    assert_eq!(severity(crisis), Severity::Severe, "M7.8 and a red alert");
    let subject = format!("crisis:{}", crisis.id);
    let opened = f.messages().await;
    assert_eq!(
        summary(&opened),
        [(
            "Gempa Timur Tengah".into(),
            AlertEvent::Fired,
            vec![subject.clone()]
        )]
    );
    let m = &opened[0];
    let s = &m.subjects[0];
    assert_eq!(s.link, format!("{DASHBOARD}/#crisis={}", crisis.id));
    assert_eq!(
        s.text_id,
        "Gempa bumi di Türkiye sejak 2023-02-06 01:17 UTC. Dasar: USGS M7.8 >= 6.0. 2 sinyal, 0 respons perwakilan. Perwakilan: KBRI Ankara, KJRI Istanbul."
    );
    assert_eq!(
        s.text_en,
        "Earthquake in Türkiye since 2023-02-06 01:17 UTC. Opened by: USGS M7.8 >= 6.0. 2 signals, 0 mission responses. Missions: KBRI Ankara, KJRI Istanbul."
    );
    assert_eq!(
        m.title_id,
        "[PERINGATAN] Krisis: Gempa bumi di Türkiye sejak 2023-02-06 01:17 UTC (Gempa Timur Tengah)"
    );
    assert_eq!(
        m.title_en,
        "[ALERT] Crisis: Earthquake in Türkiye since 2023-02-06 01:17 UTC (Gempa Timur Tengah)"
    );
    assert_eq!(s.facts["severity"], "severe");
    let text = m.text();
    assert!(text.contains(&s.text_id) && text.contains(&s.text_en) && text.contains(&s.link));

    // The same events again (SQS redelivery), and a second evaluation: nothing new.
    f.land(&items[..2]).await;
    let again = f.evaluate(Scope::Crises, at("2023-02-06T01:31:00Z")).await;
    assert_eq!(again.messages, 0);

    // Media reports land; two hours on, no mission has answered: the schedule tells.
    f.land(&items[2..4]).await;
    let report = f.evaluate(Scope::All, at("2023-02-06T03:20:00Z")).await;
    assert_eq!((report.fired, report.messages), (1, 1));
    let silence = f.messages().await.pop().unwrap();
    assert_eq!(silence.rule_name, "Turki tanpa respons 2 jam");
    assert_eq!(
        silence.subjects[0].text_id,
        "Belum ada respons perwakilan atas krisis gempa bumi di Türkiye setelah 2 jam (sejak 2023-02-06 01:17 UTC). Perwakilan: KBRI Ankara, KJRI Istanbul. Dasar: USGS M7.8 >= 6.0."
    );
    assert_eq!(
        silence.subjects[0].text_en,
        "No mission response to the earthquake crisis in Türkiye after 2 hours (since 2023-02-06 01:17 UTC). Missions: KBRI Ankara, KJRI Istanbul. Opened by: USGS M7.8 >= 6.0."
    );
    assert_eq!(
        silence.subjects[0].facts["missions"],
        serde_json::json!(["ankara", "istanbul"])
    );

    // KBRI Ankara's advisory is linked: the event resolves the no-response alert at once.
    f.land(&items[4..5]).await;
    let report = f.evaluate(Scope::Crises, at("2023-02-06T04:20:00Z")).await;
    assert_eq!((report.resolved, report.messages), (1, 1));
    let resolved = f.messages().await.pop().unwrap();
    assert_eq!(resolved.event, AlertEvent::Resolved);
    assert!(
        resolved
            .title_en
            .starts_with("[RESOLVED] Crisis without a mission response: "),
        "{}",
        resolved.title_en
    );
    assert!(
        resolved
            .title_id
            .starts_with("[SELESAI] Krisis tanpa respons perwakilan: ")
    );

    // Everything redelivered, in another order; evaluated twice: nothing new.
    f.land(&items[5..]).await;
    let mut shuffled = items.clone();
    shuffled.reverse();
    f.land(&shuffled).await;
    for now in ["2023-02-06T06:00:00Z", "2023-02-06T06:00:00Z"] {
        assert_eq!(f.evaluate(Scope::All, at(now)).await.messages, 0);
    }
    // A replayed event long after the crisis closed says nothing (closing is the schedule's).
    assert_eq!(
        f.evaluate(Scope::Crises, at("2023-03-01T00:00:00Z"))
            .await
            .messages,
        0
    );

    // The quiet period after the last signal passes: the schedule tells it closed.
    let report = f.evaluate(Scope::All, at("2023-02-09T03:18:00Z")).await;
    assert_eq!((report.resolved, report.messages), (1, 1));
    assert_eq!(
        summary(&f.messages().await),
        [
            (
                "Gempa Timur Tengah".into(),
                AlertEvent::Fired,
                vec![subject.clone()]
            ),
            (
                "Turki tanpa respons 2 jam".into(),
                AlertEvent::Fired,
                vec![subject.clone()]
            ),
            (
                "Turki tanpa respons 2 jam".into(),
                AlertEvent::Resolved,
                vec![subject.clone()]
            ),
            (
                "Gempa Timur Tengah".into(),
                AlertEvent::Resolved,
                vec![subject.clone()]
            ),
        ]
    );
    // Every message has one pending webhook delivery.
    for h in outbox::history(f.table.as_ref(), 10).await.unwrap() {
        let channels: Vec<_> = h
            .deliveries
            .iter()
            .map(|d| (d.channel.as_str(), d.status.as_str()))
            .collect();
        assert_eq!(channels, [("webhook", "pending")]);
    }
}

#[tokio::test]
async fn an_unanswered_protest_surge_fires_reminds_and_resolves_when_it_closes() {
    let f = fixture();
    f.land(&timelines::bangladesh_protests()).await;
    f.rule(r#"{"name":"Tanpa respons 24 jam","kind":"crisis_no_response","after_hours":24,"remind_every_hours":6}"#).await;
    f.rule(r#"{"name":"Hanya yang parah","kind":"crisis_opened","min_severity":"warning"}"#)
        .await;
    let start = at("2024-07-18T06:00:00Z");
    let mut seen = Vec::new();
    for hours in [23, 24, 29, 30, 30, 35, 36, 84] {
        let report = f.evaluate(Scope::All, start + Duration::hours(hours)).await;
        seen.push((hours, report.fired, report.reminded, report.resolved));
    }
    assert_eq!(
        seen,
        [
            (23, 0, 0, 0),
            (24, 1, 0, 0),
            (29, 0, 0, 0),
            (30, 0, 1, 0),
            (30, 0, 0, 0),
            (35, 0, 0, 0),
            (36, 0, 1, 0),
            // Closed 72 h after the last signal (start + 12 h).
            (84, 0, 0, 1),
        ]
    );
    let messages = f.messages().await;
    let reminder = &messages[1];
    assert_eq!(reminder.event, AlertEvent::Reminder);
    assert!(
        reminder.title_id.starts_with("[PENGINGAT] "),
        "{}",
        reminder.title_id
    );
    assert!(reminder.title_en.starts_with("[REMINDER] "));
    assert!(
        reminder.subjects[0].text_en.contains("after 30 hours"),
        "{}",
        reminder.subjects[0].text_en
    );
    assert!(reminder.subjects[0].text_id.contains("Bangladesh"));
    // A media surge is a `watch`: the severe-only rule never fired.
    assert!(
        messages
            .iter()
            .all(|m| m.rule_name == "Tanpa respons 24 jam")
    );
}

#[tokio::test]
async fn a_minor_flood_alerts_nobody() {
    let f = fixture();
    f.land(&timelines::malaysia_minor_flood()).await;
    f.rule(r#"{"name":"Semua krisis","kind":"crisis_opened"}"#)
        .await;
    f.rule(r#"{"name":"Tanpa respons","kind":"crisis_no_response","after_hours":1}"#)
        .await;
    let report = f.evaluate(Scope::All, at("2024-11-30T00:00:00Z")).await;
    assert_eq!((report.rules, report.messages), (2, 0));
}

/// Ten silent missions in one region are one message; two in another, a second.
#[tokio::test]
async fn a_storm_of_silent_missions_is_one_message_per_region_and_each_resolves_alone() {
    let f = fixture();
    let europe: Vec<String> = f
        .registry
        .missions
        .iter()
        .filter(|m| region_of(&m.country_code) == "europe")
        .take(10)
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(europe.len(), 10);
    let asia = ["kualalumpur".to_owned(), "penang".to_owned()];
    let t0 = at("2025-05-01T08:00:00Z");
    let posts: Vec<NormalizedItem> = europe
        .iter()
        .chain(asia.iter())
        .map(|m| {
            timelines::official(
                m,
                &format!("{m}-1"),
                "Kegiatan rutin",
                "Pertemuan bilateral.",
                t0,
            )
        })
        .collect();
    f.land(&posts).await;
    f.rule(r#"{"name":"Sunyi seminggu","kind":"mission_silent","days":7}"#)
        .await;
    f.rule(r#"{"name":"Sunyi di Asia Tenggara","kind":"mission_silent","days":7,"region":"southeast_asia"}"#).await;

    assert_eq!(
        f.evaluate(Scope::All, t0 + Duration::days(6))
            .await
            .messages,
        0
    );
    // Two evaluators at once (the scheduled step overlapping a slow one): each transition
    // is told once.
    let now = t0 + Duration::days(8);
    let (a, b) = tokio::join!(f.evaluate(Scope::All, now), f.evaluate(Scope::All, now));
    assert_eq!(a.fired + b.fired, 14, "{a:?} {b:?}");
    let messages = f.messages().await;
    let mut shape: Vec<(String, Option<String>, usize)> = messages
        .iter()
        .map(|m| (m.rule_name.clone(), m.region.clone(), m.subjects.len()))
        .collect();
    shape.sort();
    assert_eq!(
        shape,
        [
            (
                "Sunyi di Asia Tenggara".into(),
                Some("southeast_asia".into()),
                2
            ),
            ("Sunyi seminggu".into(), Some("europe".into()), 10),
            ("Sunyi seminggu".into(), Some("southeast_asia".into()), 2),
        ]
    );
    let storm = messages.iter().find(|m| m.subjects.len() == 10).unwrap();
    assert!(
        storm.title_id.starts_with(
            "[PERINGATAN] Perwakilan tidak mempublikasikan berita: 10 perwakilan di Eropa"
        ),
        "{}",
        storm.title_id
    );
    assert!(
        storm
            .title_en
            .starts_with("[ALERT] Mission silent: 10 missions in Europe"),
        "{}",
        storm.title_en
    );
    for s in &storm.subjects {
        let id = s.subject.strip_prefix("mission:").unwrap();
        assert!(europe.contains(&id.to_owned()));
        assert_eq!(s.link, format!("{DASHBOARD}/#mission={id}"));
        assert!(
            s.text_id
                .contains("tidak mempublikasikan berita resmi selama 8 hari"),
            "{}",
            s.text_id
        );
        assert!(
            s.text_en
                .contains("has published nothing official for 8 days"),
            "{}",
            s.text_en
        );
        assert_eq!(s.facts["days_silent"], 8);
    }

    // One European mission publishes again: its resolution is its own message.
    let back = timelines::official(
        &europe[3],
        "back",
        "Kembali",
        "Kabar terbaru.",
        now + Duration::hours(1),
    );
    f.land(&[back]).await;
    let report = f.evaluate(Scope::All, now + Duration::hours(2)).await;
    assert_eq!((report.resolved, report.messages), (1, 1));
    let last = f.messages().await.pop().unwrap();
    assert_eq!(
        (last.event, last.region.as_deref(), last.subjects.len()),
        (AlertEvent::Resolved, None, 1)
    );
    assert_eq!(last.subjects[0].subject, format!("mission:{}", europe[3]));
}

/// A channel that fails while `down` is set, and records what it accepted.
struct FlakyChannel {
    name: &'static str,
    down: AtomicBool,
    received: Mutex<Vec<String>>,
    attempts: std::sync::atomic::AtomicUsize,
}

impl FlakyChannel {
    fn new(name: &'static str) -> Arc<FlakyChannel> {
        Arc::new(FlakyChannel {
            name,
            down: AtomicBool::new(false),
            received: Mutex::new(Vec::new()),
            attempts: Default::default(),
        })
    }
}

#[async_trait]
impl Channel for FlakyChannel {
    fn name(&self) -> &str {
        self.name
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(ChannelError::Status {
                channel: "webhook",
                endpoint: "http://127.0.0.1:9".into(),
                status: 503,
            });
        }
        self.received.lock().unwrap().push(message.id.clone());
        Ok(())
    }
}

/// Source-health alerts for three failing sources in three regions: three messages.
async fn three_messages(f: &Fixture, now: DateTime<Utc>) {
    for (owner, source) in [
        ("tokyo", "portal-berita"),
        ("berlin", "portal-berita"),
        ("riyadh", "portal-berita"),
    ] {
        let mut record = crate::store::Item::new();
        record.insert("pk".into(), crate::schema::mission_pk(owner).into());
        record.insert("sk".into(), crate::schema::source_sk(source).into());
        record.insert("gsi1pk".into(), crate::schema::ALL_SOURCES.into());
        record.insert("gsi1sk".into(), format!("{owner}/{source}").into());
        record.insert("owner".into(), owner.into());
        record.insert("source".into(), source.into());
        record.insert("consecutive_failures".into(), 5.into());
        record.insert("last_error".into(), "HTTP 503".into());
        f.table
            .put(record, crate::store::Condition::None)
            .await
            .unwrap();
    }
    f.rule(r#"{"name":"Sumber gagal","kind":"source_unhealthy","cycles":3}"#)
        .await;
    let report = f.evaluate(Scope::All, now).await;
    assert_eq!((report.fired, report.messages), (3, 3));
}

#[tokio::test]
async fn a_channel_down_for_an_hour_gets_every_alert_exactly_once_when_it_recovers() {
    let f = fixture();
    let t0 = at("2025-06-01T00:00:00Z");
    three_messages(&f, t0).await;
    let webhook = FlakyChannel::new("webhook");
    webhook.down.store(true, Ordering::SeqCst);
    let channels = Channels(vec![webhook.clone() as Arc<dyn Channel>]);
    // Two deliverers (two scrape cycles overlapping, or reconcile's hook beside the schedule).
    let d1 = Deliverer::new(f.table.clone(), channels.clone());
    let d2 = Deliverer::new(f.table.clone(), channels);
    let mut delivered_at = BTreeMap::new();
    for tick in 0..=24 {
        let now = t0 + Duration::minutes(5 * tick);
        webhook
            .down
            .store(now < t0 + Duration::hours(1), Ordering::SeqCst);
        let (a, b) = tokio::join!(d1.deliver_due(now), d2.deliver_due(now));
        let delivered = a.unwrap().delivered + b.unwrap().delivered;
        if delivered > 0 {
            delivered_at.insert(tick * 5, delivered);
        }
    }
    let mut received = webhook.received.lock().unwrap().clone();
    received.sort();
    let mut expected: Vec<String> = f.messages().await.into_iter().map(|m| m.id).collect();
    expected.sort();
    assert_eq!(received, expected, "each message exactly once");
    // Backoff 30 s doubling: attempts at 0, 5, 10, 15, 20, 30, 50 min failed; the next is due
    // at 50 + 32 = 82 min, delivered at the 85-minute tick.
    assert_eq!(delivered_at, BTreeMap::from([(85, 3)]));
    assert_eq!(webhook.attempts.load(Ordering::SeqCst), 3 * 8);
    for h in outbox::history(f.table.as_ref(), 10).await.unwrap() {
        let d = &h.deliveries[0];
        assert_eq!((d.status.as_str(), d.attempts), ("delivered", 8), "{d:?}");
        assert_eq!(d.last_error, None);
    }
    // Nothing is due any more, ever.
    let later = d1.deliver_due(t0 + Duration::days(30)).await.unwrap();
    assert_eq!(later, DeliveryReport::default());
}

#[tokio::test]
async fn a_delivery_to_a_channel_not_configured_is_kept_for_later() {
    let f = fixture();
    let t0 = at("2025-06-01T00:00:00Z");
    three_messages(&f, t0).await;
    let none = Deliverer::new(f.table.clone(), Channels::default());
    assert_eq!(none.deliver_due(t0).await.unwrap().unknown_channel, 3);
    assert_eq!(
        none.deliver_due(t0 + Duration::minutes(59))
            .await
            .unwrap()
            .unknown_channel,
        0
    );
    let webhook = FlakyChannel::new("webhook");
    let later = Deliverer::new(
        f.table.clone(),
        Channels(vec![webhook.clone() as Arc<dyn Channel>]),
    );
    assert_eq!(
        later
            .deliver_due(t0 + Duration::hours(1))
            .await
            .unwrap()
            .delivered,
        3
    );
}

/// Reconcile's hook runs on a crisis opened now: the alert is in the outbox without any
/// scheduled evaluation.
#[tokio::test]
async fn reconcile_evaluates_crisis_rules_when_a_crisis_opens() {
    let f = fixture();
    f.rule(r#"{"name":"Semua gempa","kind":"crisis_opened","crisis_kind":"earthquake"}"#)
        .await;
    let quake = timelines::hazard(
        SourceKind::Usgs,
        "us-now-1",
        HazardKind::Earthquake,
        Some(6.6),
        Some(AlertLevel::Yellow),
        "JP",
        "Noto Peninsula, Japan",
        Utc::now() - Duration::minutes(20),
    );
    f.land(std::slice::from_ref(&quake)).await;
    let messages = f.messages().await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0].event, AlertEvent::Fired);
    assert!(
        messages[0].subjects[0]
            .text_id
            .starts_with("Gempa bumi di Japan sejak"),
        "{}",
        messages[0].subjects[0].text_id
    );
    // Redelivered: unchanged, nothing new.
    f.land(&[quake]).await;
    assert_eq!(f.messages().await.len(), 1);
}

struct OneUnmatched;

#[async_trait]
impl HqRecords for OneUnmatched {
    async fn unmatched(
        &self,
        _table: &dyn crate::store::Table,
        older_than: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<UnmatchedRecord>, AlertError> {
        Ok(vec![UnmatchedRecord {
            record_id: "hq-2025-001".into(),
            mission: "tokyo".into(),
            date: now - older_than - Duration::days(1),
            title: "Evakuasi 12 WNI dari Noto".into(),
        }])
    }
}

#[tokio::test]
async fn hq_record_rules_wait_for_headquarters_records() {
    let f = fixture();
    f.rule(r#"{"name":"Catatan pusat","kind":"hq_record_unmatched","after_days":3}"#)
        .await;
    let now = at("2025-07-01T00:00:00Z");
    let report = f.evaluate(Scope::All, now).await;
    assert_eq!((report.skipped_rules, report.messages), (1, 0));
    let mut evaluator = f.evaluator();
    evaluator.hq = Some(Arc::new(OneUnmatched));
    let report = evaluator.evaluate(Scope::All, now).await.unwrap();
    assert_eq!((report.fired, report.messages), (1, 1));
    let m = f.messages().await.pop().unwrap();
    assert_eq!(
        m.subjects[0].text_id,
        "Catatan pusat \"Evakuasi 12 WNI dari Noto\" (KBRI Tokyo, 2025-06-27) belum ada publikasinya."
    );
    assert_eq!(m.subjects[0].link, format!("{DASHBOARD}/#mission=tokyo"));
    // Without the records again, the firing state is left alone (not resolved).
    assert_eq!(
        f.evaluate(Scope::All, now + Duration::days(1))
            .await
            .messages,
        0
    );
}

#[tokio::test]
async fn an_unpublished_headquarters_record_alerts_until_the_mission_publishes_it() {
    use crate::hq::{HqRecord, RecordKind, record_id, store_record};
    let f = fixture();
    f.rule(r#"{"name":"Catatan pusat","kind":"hq_record_unmatched","after_days":3}"#)
        .await;
    let mut record = HqRecord {
        id: String::new(),
        kind: RecordKind::CitizenCase,
        mission: Some("tokyo".into()),
        country_code: "JP".into(),
        date: at("2025-06-20T00:00:00Z").date_naive(),
        title: "Pendampingan kekonsuleran 4 WNI ditahan di Osaka".into(),
        summary: None,
        category: None,
        reference: Some("B-123/KBRI-TKY/2025".into()),
        figures: Default::default(),
    };
    record.id = record_id(&record);
    store_record(f.table.as_ref(), &record, "kasus.csv")
        .await
        .unwrap();
    let mut evaluator = f.evaluator();
    evaluator.hq = Some(Arc::new(crate::hq::unmatched::UnmatchedRecords::new(
        f.registry.clone(),
    )));

    // Ten days on, nothing published: one alert for the record, once.
    let now = at("2025-06-30T00:00:00Z");
    let report = evaluator.evaluate(Scope::All, now).await.unwrap();
    assert_eq!((report.fired, report.messages), (1, 1));
    let m = f.messages().await.pop().unwrap();
    assert_eq!(m.subjects[0].subject, format!("hq:{}", record.id));
    assert_eq!(
        evaluator.evaluate(Scope::All, now).await.unwrap().messages,
        0,
        "the same condition fires once"
    );

    // The mission publishes it (a day after the record's date): the matching report now pairs
    // them and the alert resolves.
    f.land(&[crate::crises::timelines::official(
        "tokyo",
        "tokyo-osaka-wni",
        "KBRI Tokyo dampingi 4 WNI yang ditahan di Osaka",
        "KBRI Tokyo memberikan pendampingan kekonsuleran kepada 4 WNI yang ditahan di Osaka.",
        at("2025-06-21T03:00:00Z"),
    )])
    .await;
    let report = evaluator
        .evaluate(Scope::All, now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((report.resolved, report.messages), (1, 1));
}
