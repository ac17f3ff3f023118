//! The Türkiye earthquake scenario (`pantau::crises::timelines`) on the AWS path: S3 and
//! DynamoDB through the real SDKs, served by moto on loopback. Same crisis, same responses,
//! same latencies as on the embedded store, including KBRI Ankara's post linked through its
//! story (delivered before the media report that makes the story evidence).

use std::sync::Arc;

use bytes::Bytes;
use pantau::crises::timelines::{self, at};
use pantau::crises::{self, CrisisConfig, CrisisKind, ResponseKind};
use pantau::reconcile::Reconciler;
use pantau::registry::Registry;
use pantau::store::dynamo::DynamoTable;
use pantau::store::s3::S3BlobStore;
use pantau::store::testing::CountingTable;
use pantau::store::{BlobMeta, BlobStore};
use pantau_tests::moto::MotoServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_turkiye_earthquake_scenario_runs_on_s3_and_dynamodb() {
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let blobs = Arc::new(S3BlobStore::new(moto.s3().await, "pantau-crises"));
    blobs.create_bucket_if_missing().await.unwrap();
    let dynamo = DynamoTable::new(moto.dynamodb().await, "pantau-crises");
    dynamo.create_table_if_missing().await.unwrap();
    let table = Arc::new(CountingTable::new(dynamo));
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: Arc::new(Registry::load_default().unwrap()),
    };

    let mut items = timelines::turkiye_earthquake();
    let rescue = timelines::turkiye_rescue_team();
    items.extend([rescue[1].clone(), rescue[0].clone()]);
    let mut opened = 0;
    let mut linked = 0;
    for (n, item) in items.iter().enumerate() {
        let key = format!("items/crises/{n}.jsonl");
        let line = serde_json::to_string(item).unwrap() + "\n";
        blobs
            .put(&key, Bytes::from(line), &BlobMeta::default())
            .await
            .unwrap();
        let report = reconciler.reconcile_object(&key).await.unwrap();
        opened += report.crises_opened;
        linked += report.responses_linked;
    }
    assert_eq!((opened, linked), (1, 3));

    let now = at("2023-02-06T12:00:00Z");
    let config = CrisisConfig::default();
    let list = crises::list_crises_at(table.as_ref(), &config, Some("TR"), true, 10, now)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert_eq!(c.kind, CrisisKind::Earthquake);
    assert_eq!(c.hazard_events, ["EQ1357714", "us6000jllz"]);
    assert_eq!(c.signals.len(), 5);
    let responses: Vec<_> = c
        .responses
        .iter()
        .map(|r| {
            (
                r.response.mission.as_str(),
                r.response.kind,
                r.latency_seconds,
            )
        })
        .collect();
    assert_eq!(
        responses,
        [
            ("ankara", ResponseKind::Advisory, 10_800),
            ("istanbul", ResponseKind::Hotline, 16_200),
            ("ankara", ResponseKind::Other, 79_200),
        ]
    );
    let story = rescue[0].identity().min(rescue[1].identity());
    assert_eq!(
        c.responses[2].response.matched_by,
        ["place:TR".to_owned(), format!("story:{story}")]
    );
    let board = crises::list_crises_at(table.as_ref(), &config, None, true, 10, now)
        .await
        .unwrap();
    assert_eq!(board, list);

    // Redelivery: one read per item, no write, same crisis.
    table.reset();
    for n in 0..items.len() {
        let report = reconciler
            .reconcile_object(&format!("items/crises/{n}.jsonl"))
            .await
            .unwrap();
        assert_eq!(
            (
                report.unchanged,
                report.crises_opened,
                report.responses_linked
            ),
            (1, 0, 0)
        );
    }
    let counts = table.counts();
    assert_eq!(
        (counts.reads(), counts.writes()),
        (items.len(), 0),
        "{counts:?}"
    );
    let detail = crises::crisis_detail_at(table.as_ref(), &config, &c.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&detail, c);
}
