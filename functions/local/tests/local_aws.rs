//! `pantau local-aws --once` against a moto server: recorded sources are scraped into S3, S3's
//! notifications reach SQS, the handlers take the messages off the queues, and the items land
//! in DynamoDB.

use std::process::Command;
use std::sync::Arc;

use pantau::keys::{ITEMS_PREFIX, RAW_PREFIX};
use pantau::reconcile::read::{ItemFilter, mission_items};
use pantau::store::dynamo::DynamoTable;
use pantau::store::s3::S3BlobStore;
use pantau::store::{BlobStore, Table};
use pantau_tests::moto::MotoServer;

const PANTAU: &str = env!("CARGO_BIN_EXE_pantau");
const REGISTRY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/small-registry.toml"
);

/// The number after `prefix` in the line that starts with it.
fn number_after(stdout: &str, prefix: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stdout}"))
}

async fn count(blobs: &dyn BlobStore, prefix: &str) -> usize {
    blobs.list(prefix, None, 1000).await.unwrap().keys.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_takes_items_from_portal_through_s3_and_sqs_into_dynamodb() {
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let endpoint = moto.endpoint().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(PANTAU)
            .args(["local-aws", "--once", "--endpoint", &endpoint])
            .args(["--bucket", "pantau-t", "--table", "pantau-t"])
            .args(["--registry", REGISTRY])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    assert!(output.status.success(), "pantau local-aws failed");
    // Every message was readable (moto's notifications, completed, parse as S3 events).
    assert!(!stderr.contains("unreadable"), "{stderr}");

    // What pantau says it did is what is in moto.
    let blobs = S3BlobStore::new(moto.s3().await, "pantau-t");
    let raw = count(&blobs, RAW_PREFIX).await;
    let items_objects = count(&blobs, ITEMS_PREFIX).await;
    assert!(raw >= 3, "one raw object per source at least, got {raw}");
    assert_eq!(items_objects, raw, "every raw object was normalized");
    assert_eq!(number_after(&stdout, "s3: "), raw);
    // Each raw object's notification was handled, plus S3's test event.
    assert_eq!(
        number_after(&stdout, "sqs pantau-t-normalize: "),
        raw + 1,
        "{stdout}"
    );
    assert_eq!(
        number_after(&stdout, "sqs pantau-t-reconcile: "),
        items_objects + 1
    );

    let table: Arc<dyn Table> = Arc::new(DynamoTable::new(moto.dynamodb().await, "pantau-t"));
    let tokyo = mission_items(table.as_ref(), "tokyo", &ItemFilter::default(), 1000, None)
        .await
        .unwrap();
    assert!(!tokyo.items.is_empty(), "no tokyo items in DynamoDB");
    let mut stored = 0;
    for owner in ["tokyo", "riyadh", "pusat"] {
        stored += mission_items(table.as_ref(), owner, &ItemFilter::default(), 1000, None)
            .await
            .unwrap()
            .items
            .len();
    }
    assert_eq!(number_after(&stdout, "table: "), stored);
}

/// `pantau keys --table` makes, lists and revokes keys in a DynamoDB table, so a deployed
/// stack's API can be given keys.
#[test]
fn keys_work_on_a_dynamodb_table() {
    let moto = pantau_tests::moto::MotoServer::start().expect("moto (make test-setup)");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        pantau::store::dynamo::DynamoTable::new(moto.dynamodb().await, "pantau-keys")
            .create_table_if_missing()
            .await
            .unwrap();
    });
    let keys = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pantau"))
            .arg("keys")
            .args(args)
            .args(["--table", "pantau-keys"])
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stdout
    };
    let created = keys(&["create", "crisis centre"]);
    assert!(created.contains("x-api-key: pantau_"), "{created}");
    let id = created
        .split_whitespace()
        .find(|w| w.starts_with("key_"))
        .unwrap()
        .to_owned();
    let listed = keys(&["list"]);
    assert!(
        listed.contains(&id) && listed.contains("active"),
        "{listed}"
    );
    assert!(keys(&["revoke", &id]).contains("revoked"));
}
