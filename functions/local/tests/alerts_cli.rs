//! `pantau alerts` as an operator runs it: rules added, listed and removed on a data
//! directory, the history, and a test message through the JSON-lines file channel.

mod common;

use std::process::Command;

use common::PANTAU;

fn pantau(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(PANTAU)
        .arg("alerts")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn alert_rules_are_added_listed_removed_and_a_channel_tested() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = pantau(
        &data,
        &[
            "rules",
            "add",
            r#"{"name":"Sunyi","kind":"mission_silent","days":7,"region":"europe"}"#,
        ],
        &[],
    );
    assert!(ok, "{err}");
    let id = out
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(id.starts_with("rul_"), "{out}");

    let (ok, out, err) = pantau(
        &data,
        &[
            "rules",
            "add",
            r#"{"name":"x","kind":"mission_silent","days":0}"#,
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("`days` must be 1 to 365"), "{err}{out}");

    let (ok, out, _) = pantau(&data, &["rules", "list"], &[]);
    assert!(
        ok && out.contains(&id) && out.contains("\"region\":\"europe\""),
        "{out}"
    );
    let (ok, out, _) = pantau(&data, &["history"], &[]);
    assert!(ok && out.contains("no alerts yet"), "{out}");
    let (ok, out, _) = pantau(&data, &["rules", "rm", &id], &[]);
    assert!(ok && out.contains(&format!("removed {id}")), "{out}");
    let (ok, _, err) = pantau(&data, &["rules", "rm", &id], &[]);
    assert!(!ok && err.contains("no alert rule"), "{err}");

    // A channel that is not configured is named as such; a configured one sends.
    let (ok, _, err) = pantau(&data, &["test", "webhook"], &[]);
    assert!(!ok && err.contains("not configured"), "{err}");
    let file = dir.path().join("alerts.jsonl");
    let file_env = file.to_str().unwrap();
    let (ok, out, err) = pantau(&data, &["test", "file"], &[("PANTAU_ALERT_FILE", file_env)]);
    assert!(ok, "{err}{out}");
    let written = std::fs::read_to_string(&file).unwrap();
    let message: serde_json::Value = serde_json::from_str(written.trim()).unwrap();
    assert_eq!(
        message["subjects"][0]["text_en"],
        "Test message from Pantau: this channel works."
    );
    assert_eq!(
        message["subjects"][0]["text_id"],
        "Pesan uji dari Pantau: saluran ini berfungsi."
    );
}
