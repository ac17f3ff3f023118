//! `pantau crises` on a data directory whose table holds the Türkiye earthquake and the
//! Bangladesh protests (`pantau::crises::timelines`), reconciled by the real reconciler.

use std::process::Command;
use std::sync::Arc;

use pantau::crises::timelines;
use pantau::reconcile::Reconciler;
use pantau::registry::Registry;
use pantau::store::disk::DiskBlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::{BlobMeta, BlobStore};

const PANTAU: &str = env!("CARGO_BIN_EXE_pantau");

fn fill(dir: &std::path::Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let table = Arc::new(SqliteTable::open(&dir.join("pantau.sqlite")).unwrap());
        let blobs = Arc::new(DiskBlobStore::new(dir.join("bucket")).unwrap());
        let reconciler = Reconciler {
            blobs: blobs.clone(),
            table,
            registry: Arc::new(Registry::load_default().unwrap()),
        };
        let mut items = timelines::turkiye_earthquake();
        items.extend(timelines::bangladesh_protests());
        for (n, item) in items.iter().enumerate() {
            let key = format!("items/cli/{n}.jsonl");
            let line = serde_json::to_string(item).unwrap() + "\n";
            blobs
                .put(&key, line.into_bytes().into(), &BlobMeta::default())
                .await
                .unwrap();
            reconciler.reconcile_object(&key).await.unwrap();
        }
    });
}

fn pantau(args: &[&str]) -> String {
    let out = Command::new(PANTAU).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn crises_lists_responses_with_missions_kinds_and_latencies() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    let data = dir.path().to_str().unwrap();

    let tr = pantau(&[
        "crises",
        "--data-dir",
        data,
        "--country",
        "tr",
        "--at",
        "2023-02-06T12:00:00Z",
    ]);
    println!("{tr}");
    assert!(
        tr.starts_with("TR  earthquake  opened 2023-02-06 01:17 UTC  active"),
        "{tr}"
    );
    assert!(tr.contains("(USGS M7.8 >= 6.0)"), "{tr}");
    assert!(
        tr.contains("KBRI Ankara        advisory      +3h00m"),
        "{tr}"
    );
    assert!(
        tr.contains("KJRI Istanbul      hotline       +4h30m"),
        "{tr}"
    );
    assert!(!tr.contains("NO RESPONSE"), "{tr}");

    // Both, as of a year later: closed, and the protests flagged.
    let all = pantau(&[
        "crises",
        "--data-dir",
        data,
        "--all",
        "--at",
        "2025-01-01T00:00:00Z",
    ]);
    println!("{all}");
    assert!(all.contains("BD  unrest"), "{all}");
    assert!(all.contains("NO RESPONSE"), "{all}");
    assert_eq!(all.matches("closed 20").count(), 2, "{all}");
    let active = pantau(&["crises", "--data-dir", data, "--at", "2025-01-01T00:00:00Z"]);
    assert_eq!(active.trim(), "no active crises");

    let json = pantau(&["crises", "--data-dir", data, "--all", "--json"]);
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["country"], "BD");
    assert_eq!(lines[1]["responses"][0]["latency_seconds"], 10_800);
}
