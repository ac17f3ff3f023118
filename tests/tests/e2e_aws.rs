//! The whole pipeline on the AWS adapters: S3 and DynamoDB through the real SDKs, served by
//! moto on loopback, with the handlers fed real event JSON.

use std::sync::Arc;

use pantau::store::dynamo::DynamoTable;
use pantau::store::s3::S3BlobStore;
use pantau_tests::moto::MotoServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publications_travel_from_portal_to_api_on_s3_and_dynamodb() {
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let blobs = S3BlobStore::new(moto.s3().await, "pantau-e2e");
    blobs.create_bucket_if_missing().await.unwrap();
    let dynamodb = moto.dynamodb().await;
    let table = DynamoTable::new(dynamodb.clone(), "pantau-e2e");
    table.create_table_if_missing().await.unwrap();
    let clean = DynamoTable::new(dynamodb, "pantau-e2e-clean");
    clean.create_table_if_missing().await.unwrap();
    pantau_tests::pipeline::end_to_end(Arc::new(blobs), Arc::new(table), Arc::new(clean))
        .await
        .unwrap();
}
