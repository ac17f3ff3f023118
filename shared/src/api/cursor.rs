//! Signed pagination cursors.
//!
//! A `next_cursor` is the table's cursor (where the query stopped) and an HMAC-SHA256 over it
//! and the query it belongs to (mission and filters): `{table cursor}.{mac}`, both URL-safe
//! base64. A cursor that was edited, forged, or made for another mission or other filters
//! fails the check, so a client cannot steer the table query by crafting keys.
//!
//! The signing key is `PANTAU_CURSOR_KEY` when set; otherwise one is generated on first use and
//! kept in the table (`SECRET#cursor-key`), so every process serving that table signs alike.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// Signs cursors and checks them.
#[derive(Clone)]
pub struct CursorSigner {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for CursorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSigner(..)")
    }
}

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor this API returned for this query")]
pub struct CursorRefused;

impl CursorSigner {
    pub fn new(key: &[u8]) -> CursorSigner {
        CursorSigner { key: key.into() }
    }

    fn mac(&self, scope: &str, cursor: &str) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        // The scope cannot contain NUL, so (scope, cursor) pairs cannot collide.
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(cursor.as_bytes());
        mac
    }

    /// The opaque cursor handed to clients for `cursor` within `scope` (the query's identity).
    pub fn sign(&self, scope: &str, cursor: &Cursor) -> String {
        let tag = self.mac(scope, &cursor.0).finalize().into_bytes();
        format!("{}.{}", cursor.0, URL_SAFE_NO_PAD.encode(tag))
    }

    /// The table cursor inside `token`, if this signer made it for `scope`.
    pub fn open(&self, scope: &str, token: &str) -> Result<Cursor, CursorRefused> {
        let (cursor, tag) = token.rsplit_once('.').ok_or(CursorRefused)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CursorRefused)?;
        // `verify_slice` compares in constant time.
        self.mac(scope, cursor)
            .verify_slice(&tag)
            .map_err(|_| CursorRefused)?;
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
        for junk in ["", ".", "abc", "abc.", "abc.%%%"] {
            assert_eq!(signer.open("items|tokyo", junk), Err(CursorRefused));
        }
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
