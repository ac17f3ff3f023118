//! What the `pantau` program's tests share: the binary, and `pantau run --offline` started on a
//! fresh data directory and stopped when the test ends, however it ends.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

pub const PANTAU: &str = env!("CARGO_BIN_EXE_pantau");

/// A running `pantau run --offline`: its API address and the key its first start printed.
pub struct OfflineRun {
    child: Child,
    pub base: String,
    pub key: String,
    /// The program's later output lines, so a test can print them when it fails.
    pub output: Receiver<String>,
}

impl Drop for OfflineRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OfflineRun {
    /// Starts `pantau run --offline` on `data_dir` and waits (60 s at most) for its address and key.
    pub fn start(data_dir: &Path) -> OfflineRun {
        let mut child = Command::new(PANTAU)
            .args(["run", "--offline", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            // The tests are one client exploring the API as fast as it can; the per-key rate
            // limit has its own tests (shared/src/api/attack_tests.rs) and would only answer 429s.
            .env("PANTAU_RATE_LIMIT_PER_SECOND", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("pantau starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let started = Instant::now();
        let (mut base, mut key) = (None, None);
        while base.is_none() && started.elapsed() < Duration::from_secs(60) {
            if let Ok(line) = output.recv_timeout(Duration::from_secs(1)) {
                println!("pantau: {line}");
                if let Some(rest) = line.strip_prefix("API and dashboard: ") {
                    base = Some(rest.trim_end_matches('/').to_owned());
                }
                if let Some(rest) = line.trim().strip_prefix("x-api-key: ") {
                    key = Some(rest.to_owned());
                }
            }
        }
        OfflineRun {
            child,
            base: base.expect("pantau printed its address"),
            key: key.expect("the first start printed a key"),
            output,
        }
    }

    /// Waits until `path` lists at least one item (60 s at most); returns how many it lists.
    pub fn wait_for_items(&self, path: &str) -> usize {
        self.wait_for_list(path, "items", 1)
    }

    /// How many entries the array `field` of `path`'s answer has now.
    pub fn list_len(&self, path: &str, field: &str) -> usize {
        let body: serde_json::Value = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.base))
            .header("x-api-key", &self.key)
            .send()
            .and_then(|r| r.json())
            .unwrap_or_default();
        body[field].as_array().map_or(0, Vec::len)
    }

    /// Waits until the array `field` of `path`'s answer has at least `min` entries (60 s at
    /// most); returns how many it has.
    pub fn wait_for_list(&self, path: &str, field: &str, min: usize) -> usize {
        let client = reqwest::blocking::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let response = client
                .get(format!("{}{path}", self.base))
                .header("x-api-key", &self.key)
                .send();
            if let Ok(r) = response {
                let body: serde_json::Value = r.json().unwrap_or_default();
                let n = body[field].as_array().map_or(0, Vec::len);
                if n >= min {
                    println!(
                        "{path}: {n} {field} after {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                    return n;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        0
    }
}
