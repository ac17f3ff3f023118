//! The whole pipeline on the embedded store: a folder for S3 and an SQLite file for DynamoDB.

use std::sync::Arc;

use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau_tests::pipeline::PortalLists;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publications_travel_from_portal_to_api_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).unwrap());
    let table = Arc::new(SqliteTable::open(&dir.path().join("pantau.sqlite")).unwrap());
    let clean = Arc::new(SqliteTable::open(&dir.path().join("clean.sqlite")).unwrap());
    // Lists without bodies: every publication's detail adds one, a second version, and the
    // doubled, shuffled delivery of lists and details must still match the clean one.
    pantau_tests::pipeline::end_to_end_with(blobs, table, clean, PortalLists::WithoutBodies)
        .await
        .unwrap();
}
