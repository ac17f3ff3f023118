//! Signed pagination cursors.
//!
//! A `next_cursor` is the table's cursor (where the query stopped), when it expires, and an
//! HMAC-SHA256 over both and the query it belongs to: `{table cursor}.{expiry}.{mac}` (URL-safe
//! base64, expiry in Unix seconds). The scope the handlers sign with names the route, the
//! normalized filters and the id of the access key that asked, so a cursor that was edited,
//! forged, made for another route, mission or filters, replayed by another key, or presented
//! after its expiry fails the check: a client cannot steer the table query by crafting keys.
//!
//! The signing key is `PANTAU_CURSOR_KEY` when set; otherwise one is generated on first use and
//! kept in the table (`SECRET#cursor-key`), so every process serving that table signs alike.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use serde_json::Value;

use super::access::{AccessError, random_bytes};
use crate::schema;
use crate::store::table;
use crate::store::{Condition, Cursor, Item, Key, Table, TableError};

type HmacSha256 = hmac::Hmac<sha2_v011::Sha256>;

/// The shortest `PANTAU_CURSOR_KEY` accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;

const TABLE_SECRET: &str = "cursor-key";

/// How long a cursor stays valid by default: long enough to page through a listing, short
/// enough that a leaked one soon stops working.
pub const DEFAULT_TTL: Duration = Duration::hours(24);

/// Signs cursors and checks them.
#[derive(Clone)]
pub struct CursorSigner {
    key: Arc<[u8]>,
    ttl: Duration,
}

impl std::fmt::Debug for CursorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSigner(..)")
    }
}

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor this API returned for this query, or expired")]
pub struct CursorRefused;

impl CursorSigner {
    /// A signer whose cursors live `DEFAULT_TTL`.
    pub fn new(key: &[u8]) -> CursorSigner {
        CursorSigner {
            key: key.into(),
            ttl: DEFAULT_TTL,
        }
    }

    /// The same signer with cursors living `ttl` (`PANTAU_CURSOR_TTL_MINUTES`).
    pub fn with_ttl(mut self, ttl: Duration) -> CursorSigner {
        self.ttl = ttl;
        self
    }

    fn mac(&self, scope: &str, expires: &str, cursor: &str) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        // Neither the scope nor the expiry can contain NUL, so the triples cannot collide.
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(expires.as_bytes());
        mac.update(&[0]);
        mac.update(cursor.as_bytes());
        mac
    }

    /// The opaque cursor handed to clients for `cursor` within `scope` (the query's identity),
    /// valid for the signer's lifetime from now.
    pub fn sign(&self, scope: &str, cursor: &Cursor) -> String {
        self.sign_at(scope, cursor, Utc::now())
    }

    /// `sign` as if it were `now`.
    pub fn sign_at(&self, scope: &str, cursor: &Cursor, now: DateTime<Utc>) -> String {
        let expires = (now + self.ttl).timestamp().to_string();
        let tag = self.mac(scope, &expires, &cursor.0).finalize().into_bytes();
        format!("{}.{expires}.{}", cursor.0, URL_SAFE_NO_PAD.encode(tag))
    }

    /// The table cursor inside `token`, if this signer made it for `scope` and it has not
    /// expired.
    pub fn open(&self, scope: &str, token: &str) -> Result<Cursor, CursorRefused> {
        self.open_at(scope, token, Utc::now())
    }

    /// `open` as if it were `now`.
    pub fn open_at(
        &self,
        scope: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Cursor, CursorRefused> {
        let (signed, tag) = token.rsplit_once('.').ok_or(CursorRefused)?;
        let (cursor, expires) = signed.rsplit_once('.').ok_or(CursorRefused)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CursorRefused)?;
        // `verify_slice` compares in constant time.
        self.mac(scope, expires, cursor)
            .verify_slice(&tag)
            .map_err(|_| CursorRefused)?;
        // Signed by us, so a number; checked only now so junk costs no parsing.
        let expires: i64 = expires.parse().map_err(|_| CursorRefused)?;
        if now.timestamp() > expires {
            return Err(CursorRefused);
        }
        Ok(Cursor(cursor.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CursorKeyError {
    #[error("PANTAU_CURSOR_KEY must be at least {MIN_KEY_LEN} bytes of secret")]
    TooShort,
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Random(#[from] AccessError),
    #[error("the stored cursor key is malformed")]
    Malformed,
}

/// The signer for `configured` (`PANTAU_CURSOR_KEY`), or for the key kept in the table,
/// generated and stored on first use (put if absent, then read: concurrent first uses agree).
pub async fn signer(
    table: &dyn Table,
    configured: Option<&str>,
) -> Result<CursorSigner, CursorKeyError> {
    if let Some(key) = configured {
        if key.len() < MIN_KEY_LEN {
            return Err(CursorKeyError::TooShort);
        }
        return Ok(CursorSigner::new(key.as_bytes()));
    }
    let key = Key::new(schema::secret_pk(TABLE_SECRET), schema::SECRET_SK);
    if table.get(&key).await?.is_none() {
        let mut record = Item::new();
        record.insert(table::PK.into(), Value::String(key.pk.clone()));
        record.insert(table::SK.into(), Value::String(key.sk.clone()));
        record.insert(
            "secret".into(),
            Value::String(hex::encode(random_bytes(32)?)),
        );
        match table.put(record, Condition::Absent).await {
            Ok(()) | Err(TableError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let record = table.get(&key).await?.ok_or(CursorKeyError::Malformed)?;
    let secret = record
        .get("secret")
        .and_then(Value::as_str)
        .and_then(|s| hex::decode(s).ok())
        .filter(|s| s.len() >= MIN_KEY_LEN)
        .ok_or(CursorKeyError::Malformed)?;
    Ok(CursorSigner::new(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTable;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_cursor_opens_only_unchanged_in_its_scope_with_its_key() {
        let signer = CursorSigner::new(&[7; 32]);
        let cursor = Cursor("eyJwayI6IklURU0jMSJ9".into());
        let token = signer.sign("items|tokyo", &cursor);
        assert_eq!(signer.open("items|tokyo", &token), Ok(cursor.clone()));
        assert_eq!(signer.open("items|canberra", &token), Err(CursorRefused));
        let other = CursorSigner::new(&[8; 32]);
        assert_eq!(other.open("items|tokyo", &token), Err(CursorRefused));
        let tampered = token.replacen("eyJ", "eyK", 1);
        assert_eq!(signer.open("items|tokyo", &tampered), Err(CursorRefused));
        for junk in ["", ".", "..", "abc", "abc.", "abc.%%%", "abc.1.%%%"] {
            assert_eq!(signer.open("items|tokyo", junk), Err(CursorRefused));
        }
    }

    #[test]
    fn a_cursor_expires_and_its_expiry_cannot_be_extended() {
        let signer = CursorSigner::new(&[7; 32]).with_ttl(Duration::minutes(10));
        let cursor = Cursor("eyJwayI6IklURU0jMSJ9".into());
        let t0 = Utc::now();
        let token = signer.sign_at("s", &cursor, t0);
        let at = |minutes| t0 + Duration::minutes(minutes);
        assert_eq!(signer.open_at("s", &token, at(9)), Ok(cursor.clone()));
        assert_eq!(signer.open_at("s", &token, at(11)), Err(CursorRefused));
        // Pushing the expiry forward breaks the signature.
        let (rest, tag) = token.rsplit_once('.').unwrap();
        let (table_cursor, _) = rest.rsplit_once('.').unwrap();
        let extended = format!("{table_cursor}.{}.{tag}", at(600).timestamp());
        assert_eq!(signer.open_at("s", &extended, at(1)), Err(CursorRefused));
    }

    #[tokio::test]
    async fn the_table_key_is_made_once_and_reused() {
        let table = SqliteTable::in_memory().unwrap();
        let a = signer(&table, None).await.unwrap();
        let b = signer(&table, None).await.unwrap();
        let token = a.sign("s", &Cursor("c".into()));
        assert!(b.open("s", &token).is_ok());
        assert!(matches!(
            signer(&table, Some("short")).await,
            Err(CursorKeyError::TooShort)
        ));
        let configured = signer(&table, Some(&"k".repeat(32))).await.unwrap();
        assert!(configured.open("s", &token).is_err());
    }
}
