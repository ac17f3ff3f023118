//! The API function's sample event, `events/http-get-health.json`, run as on AWS: the Lambda
//! runtime API is `cargo lambda watch`'s emulator, the event goes in with `cargo lambda invoke`,
//! the function is this package's `api` binary, and its table is a DynamoDB table in moto.
//!
//! `cargo lambda watch` would build and start the function itself (`cargo run -p pantau-api`),
//! but that build resolves features for this one package, unlike `cargo test --workspace`,
//! and so compiles `pantau` and its dependents a second time (about a minute on two cores).
//! With `--only-lambda-apis` the emulator serves the runtime API alone and the test starts the
//! binary cargo has already built for it (`CARGO_BIN_EXE_api`), as an IDE would.
//!
//! cargo-lambda comes from PyPI into `.venv` (`make test-setup`); `PANTAU_CARGO_LAMBDA` names
//! it. Without it this test says so and passes, except under CI (`CI` set).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pantau::store::dynamo::DynamoTable;
use pantau_tests::moto::MotoServer;
use serde_json::Value;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cargo-lambda executable, or None (with the reason printed) when the test should skip.
fn cargo_lambda() -> Option<PathBuf> {
    let path = std::env::var_os("PANTAU_CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/cargo-lambda"));
    if path.exists() {
        return Some(path);
    }
    let message = format!(
        "cargo-lambda not found at {} (run `make test-setup`, or set PANTAU_CARGO_LAMBDA)",
        path.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}; under CI the sample event must be invoked");
    }
    println!("skipped: {message}");
    None
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// A child process killed when the test ends, passing or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_listener(port: u16, what: &mut Child) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = what.try_wait().unwrap() {
            panic!("cargo lambda watch exited at start: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr} after 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn health_sample_event_answers_200_through_cargo_lambda() {
    let Some(cargo_lambda) = cargo_lambda() else {
        return;
    };
    let moto = MotoServer::start().expect("moto (make test-setup)");
    const TABLE: &str = "pantau-invoke-test";
    DynamoTable::new(moto.dynamodb().await, TABLE)
        .create_table_if_missing()
        .await
        .unwrap();

    // The emulator: Lambda's runtime API for the function, the invoke API for the caller.
    let port = free_port();
    let mut watch = Command::new(&cargo_lambda)
        .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address"])
        .args(["127.0.0.1", "--invoke-port", &port.to_string()])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting cargo lambda watch");
    wait_for_listener(port, &mut watch);
    let _watch = Killed(watch);

    // The function, with the environment the template gives it, pointed at moto. `_` is the
    // emulator's name for "whichever function is asked for".
    let function = Command::new(env!("CARGO_BIN_EXE_api"))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("PANTAU_BUCKET", "unused-by-the-api")
        .env("PANTAU_TABLE", TABLE)
        .env(
            "PANTAU_CURSOR_KEY",
            "a-test-cursor-key-of-at-least-32-bytes",
        )
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting the api binary");
    let _function = Killed(function);

    // `cargo lambda invoke` waits for the function to take the event; blocking, so off the
    // runtime the moto client runs on.
    let event = workspace_root().join("functions/api/events/http-get-health.json");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&cargo_lambda)
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string(), "--data-file"])
            .arg(event)
            .arg("_")
            .output()
            .expect("running cargo lambda invoke")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo lambda invoke: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: Value = serde_json::from_str(stdout.trim()).expect("an API Gateway response");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok", "table": "ok"}));
}
