//! The blob store on Amazon S3 (or anything that speaks its API, such as moto in the tests).
//!
//! A thin mapping: one SDK call per port call. What this file decides is which failures are
//! worth retrying (throttling, 5xx, timeouts, connection trouble) and which are not (access
//! denied, a missing bucket, a malformed request), so handlers can report the first kind as
//! batch failures for SQS to redeliver and log the second.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;

use super::blob::{
    Blob, BlobError, BlobInfo, BlobMeta, BlobStore, DEFAULT_CONTENT_TYPE, ListPage, validate_key,
    validate_meta,
};

/// S3's own cap on one listing page.
const MAX_PAGE: usize = 1000;

/// S3 error codes that say "later": throttling and the service's own trouble.
const RETRYABLE_CODES: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "TooManyRequests",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
];

/// A blob store in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    /// A store over `bucket`; the client (endpoint, region, credentials) is built once in main.
    pub fn new(client: Client, bucket: impl Into<String>) -> S3BlobStore {
        S3BlobStore {
            client,
            bucket: bucket.into(),
        }
    }

    /// Creates the bucket unless it already exists and is ours: for local stacks and tests
    /// (the deployed bucket comes from the template).
    pub async fn create_bucket_if_missing(&self) -> Result<(), BlobError> {
        let mut request = self.client.create_bucket().bucket(&self.bucket);
        // Outside us-east-1 S3 wants the region named again in the request body.
        if let Some(region) = self.client.config().region().map(|r| r.as_ref().to_owned())
            && region != "us-east-1"
        {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), CreateBucketError::BucketAlreadyOwnedByYou(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(self.error("create_bucket", "", e)),
        }
    }

    /// Maps an SDK error to the port's, deciding whether a retry may help.
    fn error<E, R>(&self, op: &'static str, key: &str, err: SdkError<E, R>) -> BlobError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + HttpStatus,
    {
        let retryable = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            // The server hung up or sent something unreadable: a network fault, usually.
            SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                let status = service.raw().status_code();
                status >= 500
                    || status == 429
                    || service
                        .err()
                        .code()
                        .is_some_and(|code| RETRYABLE_CODES.contains(&code))
            }
            _ => false,
        };
        BlobError::Backend {
            op,
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            message: aws_sdk_s3::error::DisplayErrorContext(&err).to_string(),
            retryable,
        }
    }
}

/// The HTTP status of a raw response, for error classification.
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// The port's metadata from what S3 answers (an object put without content type reads with
/// S3's default, which the port does not promise; ours always sets one).
fn blob_meta(content_type: Option<&str>, metadata: Option<&HashMap<String, String>>) -> BlobMeta {
    BlobMeta {
        content_type: content_type.map(str::to_owned),
        metadata: metadata
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError> {
        validate_key(key)?;
        validate_meta(key, meta)?;
        let content_type = meta.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE);
        let metadata: HashMap<String, String> = meta
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_metadata(Some(metadata))
            .body(body.into())
            .send()
            .await
            .map_err(|e| self.error("put", key, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                return Ok(None);
            }
            Err(e) => return Err(self.error("get", key, e)),
        };
        let meta = blob_meta(output.content_type(), output.metadata());
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Backend {
                op: "get",
                bucket: self.bucket.clone(),
                key: key.to_owned(),
                message: format!("reading the body: {e}"),
                retryable: true,
            })?
            .into_bytes();
        Ok(Some(Blob { body, meta }))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError> {
        validate_key(key)?;
        let output = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            // HEAD has no body, so a missing key is known by its 404 alone.
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), HeadObjectError::NotFound(_))
                    || e.raw().status().as_u16() == 404 =>
            {
                return Ok(None);
            }
            Err(e) => return Err(self.error("head", key, e)),
        };
        Ok(Some(BlobInfo {
            key: key.to_owned(),
            size: output.content_length().unwrap_or(0).max(0) as u64,
            meta: blob_meta(output.content_type(), output.metadata()),
        }))
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(after.map(str::to_owned))
            .max_keys(limit as i32)
            .send()
            .await
            .map_err(|e| self.error("list", prefix, e))?;
        let keys: Vec<String> = output
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect();
        let next = if output.is_truncated().unwrap_or(false) {
            keys.last().cloned()
        } else {
            None
        };
        Ok(ListPage { keys, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A client for `endpoint` that tries once, so each test sees the first answer.
    fn client(endpoint: &str) -> Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new("t", "t", None, None, "test"))
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .build();
        Client::from_conf(conf)
    }

    /// A loopback server answering every request with `status` and an S3 error `code`.
    async fn failing_server(status: &'static str, code: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                     <Error><Code>{code}</Code><Message>m</Message></Error>"
                );
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/xml\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    async fn get_error(endpoint: &str) -> BlobError {
        let store = S3BlobStore::new(client(endpoint), "bucket");
        store.get("raw/k").await.unwrap_err()
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_retryable() {
        for (status, code) in [
            ("503 Slow Down", "SlowDown"),
            ("500 Internal Server Error", "InternalError"),
            ("400 Bad Request", "RequestTimeout"),
        ] {
            let err = get_error(&failing_server(status, code).await).await;
            assert!(err.is_retryable(), "{status} {code}: {err}");
            assert!(err.to_string().contains("bucket/raw/k"), "{err}");
        }
    }

    #[tokio::test]
    async fn refusals_are_permanent() {
        for (status, code) in [
            ("403 Forbidden", "AccessDenied"),
            ("404 Not Found", "NoSuchBucket"),
        ] {
            let err = get_error(&failing_server(status, code).await).await;
            assert!(!err.is_retryable(), "{status} {code}: {err}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_retryable() {
        // A port that was free a moment ago: the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = get_error(&format!("http://127.0.0.1:{port}")).await;
        assert!(err.is_retryable(), "{err}");
    }
}
