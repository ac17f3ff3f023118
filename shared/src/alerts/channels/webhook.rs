//! A signed generic webhook: the message as JSON, POSTed with
//!
//! - `x-pantau-timestamp`: Unix seconds when it was sent,
//! - `x-pantau-signature`: `v1=` and the hex HMAC-SHA256, keyed with the shared secret, of
//!   `{timestamp}.{body}`,
//! - `x-pantau-delivery`: the message id (the same on a retry, so a receiver can drop repeats).
//!
//! A receiver recomputes the HMAC ([`verify`]) and refuses a timestamp more than
//! [`MAX_SKEW_SECONDS`] away from its clock, so a captured request cannot be replayed later.

use async_trait::async_trait;
use hmac::{KeyInit, Mac};

use super::{Channel, ChannelError, endpoint_of, http_client, post_json};
use crate::alerts::message::AlertMessage;

type HmacSha256 = hmac::Hmac<sha2_v011::Sha256>;

pub const TIMESTAMP_HEADER: &str = "x-pantau-timestamp";
pub const SIGNATURE_HEADER: &str = "x-pantau-signature";
pub const DELIVERY_HEADER: &str = "x-pantau-delivery";
/// How far a receiver lets the timestamp be from its own clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// `v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: this cannot fail, and an empty answer would not verify.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("timestamp is not a number")]
    MalformedTimestamp,
    #[error("timestamp is {0} s away from now (at most {MAX_SKEW_SECONDS})")]
    Stale(i64),
    #[error("signature does not match")]
    Mismatch,
}

/// What a receiver checks: the signature matches (compared in constant time) and the
/// timestamp is recent at `now` (Unix seconds).
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)?;
    let skew = (now - ts).abs();
    if skew > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale(skew));
    }
    let Some(given) = signature
        .trim()
        .strip_prefix("v1=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return Err(SignatureError::Mismatch);
    };
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

pub struct WebhookChannel {
    url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
}

impl WebhookChannel {
    pub fn new(url: String, secret: Vec<u8>) -> WebhookChannel {
        WebhookChannel {
            url,
            secret,
            client: http_client(),
        }
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        let body = serde_json::to_vec(message).unwrap_or_default();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&self.secret, timestamp, &body);
        post_json(
            &self.client,
            "webhook",
            &self.url,
            &endpoint_of(&self.url),
            body,
            &[
                (TIMESTAMP_HEADER, timestamp.to_string()),
                (SIGNATURE_HEADER, signature),
                (DELIVERY_HEADER, message.id.clone()),
            ],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_body_and_a_recent_timestamp() {
        let body = br#"{"id":"alr_1"}"#;
        let sig = sign(b"rahasia", 1_700_000_000, body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64);
        assert_eq!(
            verify(b"rahasia", "1700000000", &sig, body, 1_700_000_100),
            Ok(())
        );
        assert_eq!(
            verify(b"lain", "1700000000", &sig, body, 1_700_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"rahasia", "1700000000", &sig, b"{}", 1_700_000_100),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: moving it forward to pass the clock check breaks the MAC.
        assert_eq!(
            verify(b"rahasia", "1700009000", &sig, body, 1_700_009_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"rahasia", "1700000000", &sig, body, 1_700_000_301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            verify(b"rahasia", "soon", &sig, body, 0),
            Err(SignatureError::MalformedTimestamp)
        );
        assert_eq!(
            verify(b"rahasia", "1700000000", "v1=zz", body, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
    }
}
