//! The blob store port: S3's object semantics, reduced to what Pantau uses.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;

/// Content type and user metadata of an object. Metadata keys are lower-case
/// `[a-z0-9-]`, values printable ASCII (S3's rule; both adapters enforce it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobMeta {
    pub content_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub body: Bytes,
    pub meta: BlobMeta,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub key: String,
    pub size: u64,
    pub meta: BlobMeta,
}

/// One page of a listing, keys in byte order; `next` is the last key when more may follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    pub keys: Vec<String>,
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("invalid metadata on {key:?}: {reason}")]
    InvalidMetadata { key: String, reason: String },
    #[error("blob store {op} on {bucket}/{key} failed: {message}")]
    Backend {
        op: &'static str,
        bucket: String,
        key: String,
        message: String,
        retryable: bool,
    },
}

impl BlobError {
    /// Whether trying again later may succeed (throttling, network, 5xx).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BlobError::Backend {
                retryable: true,
                ..
            }
        )
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The bucket name events should carry (a folder's adapter names its own).
    fn bucket(&self) -> &str;
    /// Writes the whole object; writing the same key again replaces it.
    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError>;
    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError>;
    /// Keys under `prefix`, after `after` (exclusive), at most `limit` (capped at 1000).
    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError>;
}

/// The key rules both adapters enforce, so a key that works locally works on S3 and
/// cannot escape the folder of the disk adapter.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let bad = |reason| {
        Err(BlobError::InvalidKey {
            key: key.chars().take(200).collect(),
            reason,
        })
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.len() > 1024 {
        return bad("longer than 1024 bytes");
    }
    if key.starts_with('/') {
        return bad("starts with '/'");
    }
    if key.chars().any(|c| c.is_control()) {
        return bad("contains a control character");
    }
    if key
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return bad("has an empty, '.' or '..' segment");
    }
    Ok(())
}

/// The content type an object put without one reads back with, on both adapters (S3 would
/// otherwise answer its own default, `binary/octet-stream`, and a folder none).
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// S3's user-metadata rules, checked the same way on both adapters.
///
/// Values may not start or end with a space: they travel as HTTP header values, which
/// servers trim, so S3 would not give back what a folder keeps. The content type is a header
/// too: non-empty printable ASCII.
pub fn validate_meta(key: &str, meta: &BlobMeta) -> Result<(), BlobError> {
    let bad = |reason: String| {
        Err(BlobError::InvalidMetadata {
            key: key.to_owned(),
            reason,
        })
    };
    if let Some(ct) = &meta.content_type
        && (ct.is_empty() || !ct.bytes().all(|b| (0x20..0x7f).contains(&b)))
    {
        return bad(format!("content type {ct:?} is not printable ASCII"));
    }
    let mut total = 0;
    for (k, v) in &meta.metadata {
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return bad(format!("metadata key {k:?} is not lower-case [a-z0-9-]"));
        }
        if !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return bad(format!("metadata value of {k:?} is not printable ASCII"));
        }
        if v.starts_with(' ') || v.ends_with(' ') {
            return bad(format!(
                "metadata value of {k:?} starts or ends with a space"
            ));
        }
        total += k.len() + v.len();
    }
    // S3 caps user metadata at 2 KB.
    if total > 2048 {
        return bad(format!("user metadata is {total} bytes, over S3's 2 KB"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_or_fail_on_s3_are_refused() {
        for key in ["", "/abs", "a/../b", "a//b", "a/./b", "a\0b", "a/"] {
            assert!(validate_key(key).is_err(), "{key:?} accepted");
        }
        assert!(validate_key("raw/2025/01/02/tokyo/feed/x.json").is_ok());
        assert!(validate_key(&"k".repeat(1025)).is_err());
    }

    #[test]
    fn metadata_must_be_s3_shaped() {
        let mut meta = BlobMeta::default();
        meta.metadata.insert("Url".into(), "x".into());
        assert!(validate_meta("k", &meta).is_err());
        meta.metadata.clear();
        meta.metadata.insert("url".into(), "é".into());
        assert!(validate_meta("k", &meta).is_err());
        meta.metadata.clear();
        meta.metadata
            .insert("final-url".into(), "https://x/%C3%A9".into());
        assert!(validate_meta("k", &meta).is_ok());
        meta.metadata.insert("etag".into(), " \"x\"".into());
        assert!(validate_meta("k", &meta).is_err());
        meta.metadata.remove("etag");
        meta.content_type = Some("text/html\r\nx: y".into());
        assert!(validate_meta("k", &meta).is_err());
        meta.content_type = Some("text/html; charset=utf-8".into());
        assert!(validate_meta("k", &meta).is_ok());
    }
}
