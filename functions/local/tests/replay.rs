//! `pantau replay` rebuilds the table from raw objects: after a pipeline run on the embedded
//! store, the table file is deleted and a replay brings back the same items, versions
//! included; a second replay changes nothing.

use std::path::Path;
use std::process::Command;

use pantau::reconcile::read::{ItemFilter, ItemView, get_item, mission_items};
use pantau::store::sqlite::SqliteTable;

const PANTAU: &str = env!("CARGO_BIN_EXE_pantau");
const REGISTRY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/small-registry.toml"
);
/// The owners in that registry: its missions and headquarters.
const OWNERS: [&str; 3] = ["tokyo", "riyadh", "pusat"];

/// Runs `pantau` with `args`; its stdout, or a panic with everything it printed.
fn pantau(args: &[&str], data_dir: &Path) -> String {
    let output = Command::new(PANTAU)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--registry", REGISTRY])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pantau {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    println!("pantau {}:\n{stdout}{stderr}", args.join(" "));
    stdout
}

/// Every item the API can show, with its versions, by owner then newest first.
async fn all_items(data_dir: &Path) -> Vec<ItemView> {
    let table = SqliteTable::open(&data_dir.join("pantau.sqlite")).unwrap();
    let mut views = Vec::new();
    for owner in OWNERS {
        let mut cursor = None;
        loop {
            let page = mission_items(&table, owner, &ItemFilter::default(), 100, cursor)
                .await
                .unwrap();
            for item in page.items {
                views.push(get_item(&table, &item.id).await.unwrap().unwrap());
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    views
}

/// The numbers in "replayed N raw objects: M items (A new, B changed, C unchanged, ...".
fn replay_counts(stdout: &str) -> Vec<usize> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("replayed "))
        .unwrap_or_else(|| panic!("no summary in {stdout}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn replay_rebuilds_a_lost_table_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    pantau(&["run", "--offline", "--once"], data);
    let before = all_items(data).await;
    assert!(
        before.len() > 10,
        "the run stored only {} items",
        before.len()
    );

    for file in ["pantau.sqlite", "pantau.sqlite-wal", "pantau.sqlite-shm"] {
        let _ = std::fs::remove_file(data.join(file));
    }
    // Raw keys are dated by fetch time (UTC): a range around today covers a run at midnight.
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Days::new(1)).to_string();
    let to = (today + chrono::Days::new(1)).to_string();
    let replay = ["replay", "--from", from.as_str(), "--to", to.as_str()];

    let first = replay_counts(&pantau(&replay, data));
    let after = all_items(data).await;
    assert_eq!(after.len(), before.len());
    // The replay rebuilds exactly what the run stored, story ids included: they are the
    // smallest item id of each group of linked items, whatever order the items come in
    // (the replay goes mission by mission, the run as fetched).
    assert_eq!(
        after, before,
        "the replayed table differs from the original"
    );
    let stories = |views: &[ItemView]| -> Vec<Option<String>> {
        views.iter().map(|v| v.current.story_id.clone()).collect()
    };
    assert!(
        stories(&after).iter().all(Option::is_some),
        "an item left ungrouped"
    );
    let (objects, items, new, changed, unchanged, stale) =
        (first[0], first[1], first[2], first[3], first[4], first[5]);
    assert!(objects >= OWNERS.len(), "{first:?}");
    assert_eq!(new, before.len(), "{first:?}");
    // Every other line repeats a stored item: unchanged, or (a list entry replayed after the
    // detail that carries the same content, fetched later) stale, which only moves its
    // first-seen time back to where it was.
    assert_eq!((changed, unchanged + stale), (0, items - new), "{first:?}");

    let second = replay_counts(&pantau(&replay, data));
    assert_eq!(second[0], objects);
    assert_eq!(
        (second[2], second[3]),
        (0, 0),
        "a second replay wrote: {second:?}"
    );
    assert_eq!(second[4], items, "{second:?}");
    assert_eq!(
        all_items(data).await,
        after,
        "a second replay changed the table"
    );

    // One mission only: its raw objects, nothing of the others.
    let tokyo = replay_counts(&pantau(
        &[&replay[..], &["--mission", "tokyo"]].concat(),
        data,
    ));
    assert!(tokyo[0] >= 1 && tokyo[0] < objects, "{tokyo:?}");
}

#[test]
fn replay_refuses_a_reversed_range_and_an_unknown_mission() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["replay", "--from", "2025-06-02", "--to", "2025-06-01"],
            "is after --to",
        ),
        (
            vec![
                "replay",
                "--from",
                "2025-06-01",
                "--to",
                "2025-06-01",
                "--mission",
                "atlantis",
            ],
            "no mission \"atlantis\"",
        ),
    ] {
        let output = Command::new(PANTAU)
            .args(&args)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--registry", REGISTRY])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
