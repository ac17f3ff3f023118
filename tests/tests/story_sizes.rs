//! What story grouping stores and asks of the table per item: a stream of generated items
//! (`pantau_tests::scale::YearOfItems`, the scale run's generator: a year of official posts,
//! host-country media and hazard events over a 10× fleet, Indonesian and English words of the
//! recorded sources) reconciled into a SQLite file by the real reconcile, objects of 100
//! lines one at a time; then the JSON bytes of every record family and the table requests
//! per new item.
//!
//! `make story-sizes` (`PANTAU_STORY_SIZES_ITEMS`, default 1000).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use pantau::reconcile::{Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::store::blob::{BlobMeta, BlobStore};
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::testing::CountingTable;
use pantau_tests::scale::{YearOfItems, fleet_registry, vocabularies};

const LINES_PER_OBJECT: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a minute or more: make story-sizes"]
async fn story_record_sizes() {
    let count: usize = std::env::var("PANTAU_STORY_SIZES_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let base = Registry::load_default().expect("the built-in registry");
    let registry = Arc::new(fleet_registry(&base, 10));
    let offline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/offline");
    let (id_words, en_words) = vocabularies(&offline);
    let year = YearOfItems::new(&registry, &id_words, &en_words, 20_261_128, Utc::now(), 6);
    let items: Vec<_> = year.take(count).collect();

    let dir = tempfile::tempdir().expect("temporary folder");
    let sqlite = dir.path().join("pantau.sqlite");
    let table = Arc::new(CountingTable::new(
        SqliteTable::open(&sqlite).expect("sqlite"),
    ));
    let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket")).expect("blobs"));
    sync_registry(table.as_ref(), &registry)
        .await
        .expect("mission records");
    let reconciler = Reconciler {
        blobs: blobs.clone(),
        table: table.clone(),
        registry: registry.clone(),
    };
    table.reset();
    let mut new = 0;
    for (n, chunk) in items.chunks(LINES_PER_OBJECT).enumerate() {
        let body: String = chunk
            .iter()
            .map(|i| serde_json::to_string(i).expect("an item serializes") + "\n")
            .collect();
        let key = format!("items/sizes/{n}.jsonl");
        blobs
            .put(&key, Bytes::from(body), &BlobMeta::default())
            .await
            .expect("items object written");
        new += reconciler
            .reconcile_object(&key)
            .await
            .expect("items reconciled")
            .new;
    }
    let counts = table.counts();
    let per = |n: usize| n as f64 / new.max(1) as f64;
    println!(
        "{new} new items: per item {:.2} reads ({:.2} gets, {:.2} queries, {:.2} batch gets), \
         {:.2} writes",
        per(counts.reads()),
        per(counts.gets),
        per(counts.queries),
        per(counts.reads() - counts.gets - counts.queries),
        per(counts.writes())
    );

    let conn =
        rusqlite::Connection::open_with_flags(&sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the table file");
    let sql = "SELECT CASE WHEN instr(pk, '#') > 0 THEN substr(pk, 1, instr(pk, '#') - 1) ELSE pk END
                      || CASE WHEN pk LIKE 'ITEM#%' THEN (CASE sk WHEN 'CURRENT' THEN ' (CURRENT)' ELSE ' (version)' END) ELSE '' END
                      AS kind,
                      count(*), sum(length(item))
               FROM items GROUP BY kind ORDER BY 3 DESC";
    let mut statement = conn.prepare(sql).expect("the breakdown query");
    let rows: Vec<(String, i64, i64)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("breakdown")
        .flatten()
        .collect();
    println!("| record | rows per item | JSON bytes per item |\n|---|---|---|");
    let mut story_bytes = 0;
    for (kind, rows, bytes) in &rows {
        if kind.starts_with("STORY") {
            story_bytes += bytes;
        }
        println!(
            "| {kind} | {:.2} | {:.0} |",
            *rows as f64 / new.max(1) as f64,
            *bytes as f64 / new.max(1) as f64
        );
    }
    println!(
        "story records (STORY and STORY_*): {:.0} bytes of JSON per item",
        story_bytes as f64 / new.max(1) as f64
    );
    assert!(new > 0);
}
