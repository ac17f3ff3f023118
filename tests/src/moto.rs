//! Starts moto's server mode (`moto_server`, installed into `.venv` by `make test-setup`) on a
//! free loopback port, and stops it when dropped. By default through `tests/moto/pantau-moto-server`:
//! moto with DynamoDB transactions that back up only the items they touch, not whole tables
//! (`tests/moto/server.py` says why).
//!
//! Where moto is not installed the tests that need it fail with a message saying how to
//! install it; they never silently pass.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub struct MotoServer {
    child: Child,
    endpoint: String,
}

/// Where the moto executable is: `PANTAU_MOTO_SERVER`, else `tests/moto/pantau-moto-server`
/// (which runs the workspace's `.venv`), if moto is installed there.
fn moto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PANTAU_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let installed = tests.join("../.venv/bin/moto_server");
    if !installed.exists() {
        return installed;
    }
    tests.join("moto/pantau-moto-server")
}

/// Runs moto (`$0 $@`) and stops it when its stdin, whose writing end only this process
/// holds, closes: when the `MotoServer` is dropped, and also when the test process exits
/// without dropping it (a server kept in a `static` for a whole test binary is never
/// dropped). The shell lives as long as moto, so `try_wait` still sees moto exit.
const WATCHDOG: &str = r#"exec 3<&0
"$0" "$@" </dev/null &
moto=$!
{ read _ <&3; kill $moto 2>/dev/null; } &
wait $moto"#;

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

impl MotoServer {
    /// Starts a fresh server with empty state; waits until it accepts connections.
    pub fn start() -> anyhow::Result<MotoServer> {
        let bin = moto_binary();
        if !bin.exists() {
            bail!(
                "moto_server not found at {} (run `make test-setup`, or set PANTAU_MOTO_SERVER)",
                bin.display()
            );
        }
        let port = free_port()?;
        let child = Command::new("sh")
            .args(["-c", WATCHDOG])
            .arg(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // PANTAU_MOTO_LOG=FILE keeps moto's log (its tracebacks explain a 500).
            .stderr(match std::env::var_os("PANTAU_MOTO_LOG") {
                Some(path) => Stdio::from(std::fs::File::create(path)?),
                None => Stdio::null(),
            })
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = MotoServer {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("moto_server exited at start: {status}");
            }
            if Instant::now() > deadline {
                bail!("moto_server did not listen on {addr} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration for this server: fixed test credentials, `us-east-1`.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    /// An S3 client using path-style addressing (moto serves buckets on one host).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        s3_client_for(&self.endpoint).await
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
    }
}

/// SDK configuration for any endpoint standing in for AWS (moto, or a proxy in front of it):
/// fixed test credentials, `us-east-1`, the SDK's default retry policy.
pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// An S3 client for `endpoint` using path-style addressing (moto serves buckets on one host).
pub async fn s3_client_for(endpoint: &str) -> aws_sdk_s3::Client {
    s3_client_from(&sdk_config_for(endpoint).await)
}

fn s3_client_from(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// [`sdk_config_for`] with the SDK's standard retry policy (3 attempts, exponential backoff
/// with jitter) on a 100 times shorter clock: first backoff 10 ms instead of 1 s, at most
/// 200 ms instead of 20 s. Retried the same way, a fault-injection run then takes minutes
/// rather than hours.
pub async fn sdk_config_with_quick_retries(endpoint: &str) -> aws_config::SdkConfig {
    let retry = aws_config::retry::RetryConfig::standard()
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(200));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .retry_config(retry)
        .load()
        .await
}

/// S3 and DynamoDB clients for `endpoint` with [`sdk_config_with_quick_retries`].
pub async fn clients_with_quick_retries(
    endpoint: &str,
) -> (aws_sdk_s3::Client, aws_sdk_dynamodb::Client) {
    let config = sdk_config_with_quick_retries(endpoint).await;
    (
        s3_client_from(&config),
        aws_sdk_dynamodb::Client::new(&config),
    )
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog stop moto; the shell then exits with it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_server_stops_moto() {
        let server = MotoServer::start().expect("start moto");
        let addr: SocketAddr = server
            .endpoint()
            .trim_start_matches("http://")
            .parse()
            .expect("endpoint is host:port");
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok());
        drop(server);
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
            "moto still listens on {addr} after drop"
        );
    }
}
