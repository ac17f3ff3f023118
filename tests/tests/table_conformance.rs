//! The table conformance suite on both adapters: every case of
//! `pantau_tests::conformance::table` runs as `sqlite::<case>` on a fresh SQLite file and as
//! `dynamo::<case>` on a fresh table in one moto server shared by this test binary; and as
//! `decorated::<case>` on the test decorators wrapping SQLite, which must be transparent.

use std::sync::OnceLock;

use pantau::store::dynamo::DynamoTable;
use pantau::store::sqlite::SqliteTable;
use pantau::store::testing::{CountingTable, FaultyTable};
use pantau_tests::moto::MotoServer;

/// One moto server for the whole binary: starting one takes a second or two.
fn moto() -> &'static MotoServer {
    static MOTO: OnceLock<MotoServer> = OnceLock::new();
    MOTO.get_or_init(|| MotoServer::start().expect("starting moto for the DynamoDB cases"))
}

/// A fresh SQLite table in its own temporary directory (kept alive by the returned guard).
fn sqlite_table() -> (SqliteTable, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = SqliteTable::open(&dir.path().join("table.sqlite")).expect("open sqlite table");
    (table, dir)
}

/// A fresh DynamoDB table on the shared moto server. The client is made per test: each
/// `#[tokio::test]` has its own runtime, and a client's connections belong to the runtime
/// that opened them.
async fn dynamo_table(case: &str) -> DynamoTable {
    let name = format!("{}-{:08x}", case.replace('_', "-"), fastrand::u32(..));
    let table = DynamoTable::new(moto().dynamodb().await, name);
    table
        .create_table_if_missing()
        .await
        .expect("create table on moto");
    table
}

macro_rules! on_both_adapters {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let (table, _dir) = super::sqlite_table();
                    pantau_tests::conformance::table::$case(&table).await;
                }
            )*
        }

        mod decorated {
            $(
                #[tokio::test]
                async fn $case() {
                    let (table, _dir) = super::sqlite_table();
                    let table = super::CountingTable::new(super::FaultyTable::new(table));
                    pantau_tests::conformance::table::$case(&table).await;
                }
            )*
        }

        mod dynamo {
            $(
                #[tokio::test]
                async fn $case() {
                    let table = super::dynamo_table(stringify!($case)).await;
                    pantau_tests::conformance::table::$case(&table).await;
                }
            )*
        }
    };
}

pantau_tests::table_conformance_cases!(on_both_adapters);

/// `create_table_if_missing` is safe to call again on an existing table (TTL already on).
#[tokio::test]
async fn dynamo_create_table_is_idempotent() {
    let table = dynamo_table("idempotent").await;
    let again = DynamoTable::new(moto().dynamodb().await, table.table_name());
    again
        .create_table_if_missing()
        .await
        .expect("second create_table_if_missing");
}
