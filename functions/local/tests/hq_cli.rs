//! `pantau hq import` and `pantau hq report` as a user runs them.

mod common;

use std::process::Command;

use common::PANTAU;
use serde_json::Value;

fn pantau(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(PANTAU)
        .arg("hq")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn import_twice_then_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kasus.csv");
    std::fs::write(
        &file,
        "perwakilan;tanggal;judul;nomor;WNI ditahan\n\
         tokyo;2026-03-02;Pendampingan WNI ditahan;K-1;2\n\
         tokyo;31/02/2026;Tanggal rusak;K-2;\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let file = file.to_str().unwrap();
    let (ok, stdout, stderr) = pantau(&data, &["import", file, "--kind", "citizen_case"]);
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(report["rejections"][0]["row"], 3);
    assert_eq!(report["rejections"][0]["column"], "tanggal");
    assert!(stderr.contains("1 imported"), "{stderr}");
    let (ok, stdout, _) = pantau(&data, &["import", file, "--kind", "citizen_case"]);
    assert!(ok);
    let again: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (again["imported"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(1))
    );

    let (ok, stdout, stderr) = pantau(
        &data,
        &[
            "report",
            "--mission",
            "tokyo",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--json",
        ],
    );
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["records"], 1);
    assert_eq!(
        report["unmatched_records"][0]["title"],
        "Pendampingan WNI ditahan"
    );

    let (ok, _, stderr) = pantau(&data, &["import", "kasus.pdf"]);
    assert!(!ok);
    assert!(stderr.contains(".csv"), "{stderr}");
}
