//! Access keys: every data route needs an `x-api-key` header holding a key made by
//! `pantau keys create`.
//!
//! A key is 32 bytes from the operating system's CSPRNG, shown once as `pantau_` and URL-safe
//! base64. The table keeps only its SHA-256 (`APIKEY#{hash}`, see `crate::schema`). A fast hash
//! is right here, unlike for passwords: a 256-bit random key cannot be guessed, so the slow,
//! salted hashes made for low-entropy passwords (argon2, bcrypt) would add a cost to every
//! request and nothing to security. A request's key is looked up by its hash, so the lookup
//! gives an attacker no byte-by-byte timing signal; the stored hash is still compared in
//! constant time in case a backend ever matches keys loosely.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ApiError, ApiState};
use crate::schema;
use crate::store::table::{self, Index};
use crate::store::{Condition, Cursor, Item, Key, Query, Table, TableError, Update};

/// The header a request carries its key in.
pub const KEY_HEADER: &str = "x-api-key";

const KEY_PREFIX: &str = "pantau_";

/// An access key as `pantau keys list` shows it: never the key itself.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    /// Short public id (`key_` and the hash's first 12 hex digits), for revoking.
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just made: the secret (shown once) and its record.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub secret: String,
    pub info: KeyInfo,
}

/// What the table says about a presented key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    Valid,
    Unknown,
    Revoked,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("a key name must be 1 to 64 printable characters, got {0:?}")]
    BadName(String),
    #[error("no key has the id `{0}` (see `pantau keys list`)")]
    NoSuchKey(String),
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, AccessError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| AccessError::Random(e.to_string()))?;
    Ok(bytes)
}

fn hash_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn key_id(hash_hex: &str) -> String {
    format!("key_{}", &hash_hex[..12])
}

/// Makes a key named `name`, stores its hash and returns the key (the only time it is seen).
pub async fn create_key(table: &dyn Table, name: &str) -> Result<NewKey, AccessError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AccessError::BadName(name.to_owned()));
    }
    let secret = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(32)?)
    );
    store_key(table, &secret, name).await
}

/// Stores the hash of `secret` as a key named `name` (tests use it with a known secret).
pub(crate) async fn store_key(
    table: &dyn Table,
    secret: &str,
    name: &str,
) -> Result<NewKey, AccessError> {
    let hash = hash_hex(secret);
    let info = KeyInfo {
        id: key_id(&hash),
        name: name.to_owned(),
        created_at: Utc::now(),
        revoked_at: None,
    };
    let created = schema::sortable_time(info.created_at);
    let mut record = Item::new();
    for (k, v) in [
        (table::PK, schema::api_key_pk(&hash)),
        (table::SK, schema::API_KEY_SK.to_owned()),
        (table::GSI1_PK, schema::ALL_API_KEYS.to_owned()),
        (table::GSI1_SK, format!("{created}#{}", info.id)),
        ("key_id", info.id.clone()),
        ("key_hash", hash.clone()),
        ("name", info.name.clone()),
        ("created_at", created),
    ] {
        record.insert(k.to_owned(), Value::String(v));
    }
    table.put(record, Condition::Absent).await?;
    Ok(NewKey {
        secret: secret.to_owned(),
        info,
    })
}

/// Every key, oldest first.
pub async fn list_keys(table: &dyn Table) -> Result<Vec<KeyInfo>, AccessError> {
    Ok(key_records(table)
        .await?
        .iter()
        .filter_map(|r| key_info(r).map(|(info, _)| info))
        .collect())
}

/// Marks the key with this id revoked; requests with it are refused from then on. Revoking
/// twice keeps the first time.
pub async fn revoke_key(table: &dyn Table, id: &str) -> Result<KeyInfo, AccessError> {
    let records = key_records(table).await?;
    let (mut info, hash) = records
        .iter()
        .filter_map(key_info)
        .find(|(info, _)| info.id == id)
        .ok_or_else(|| AccessError::NoSuchKey(id.to_owned()))?;
    if info.revoked_at.is_none() {
        let now = Utc::now();
        let mut update = Update::default();
        update.set.insert(
            "revoked_at".into(),
            Value::String(schema::sortable_time(now)),
        );
        table
            .update(
                &Key::new(schema::api_key_pk(&hash), schema::API_KEY_SK),
                update,
                Condition::Present,
            )
            .await?;
        info.revoked_at = Some(now);
    }
    Ok(info)
}

/// Whether `presented` is a key of this table and not revoked.
pub async fn check_key(table: &dyn Table, presented: &str) -> Result<KeyCheck, TableError> {
    let hash = hash_hex(presented);
    let Some(record) = table
        .get(&Key::new(schema::api_key_pk(&hash), schema::API_KEY_SK))
        .await?
    else {
        return Ok(KeyCheck::Unknown);
    };
    let stored = record.get("key_hash").and_then(Value::as_str).unwrap_or("");
    if !constant_time_eq(stored.as_bytes(), hash.as_bytes()) {
        return Ok(KeyCheck::Unknown);
    }
    if record.get("revoked_at").is_some_and(|v| !v.is_null()) {
        return Ok(KeyCheck::Revoked);
    }
    Ok(KeyCheck::Valid)
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

async fn key_records(table: &dyn Table) -> Result<Vec<Item>, TableError> {
    let query = Query::partition(Index::Gsi1, schema::ALL_API_KEYS);
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = table.query(query.clone().after(cursor)).await?;
        out.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

fn key_info(record: &Item) -> Option<(KeyInfo, String)> {
    let text = |k: &str| record.get(k).and_then(Value::as_str);
    let time = |k: &str| {
        text(k)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Some((
        KeyInfo {
            id: text("key_id")?.to_owned(),
            name: text("name").unwrap_or_default().to_owned(),
            created_at: time("created_at")?,
            revoked_at: time("revoked_at"),
        },
        text("key_hash")?.to_owned(),
    ))
}

/// The key a request was let in with, as the key check leaves it in the request's extensions:
/// cursors are bound to it and the rate limit counts by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's public id (`key_…`), never the secret.
    pub key_id: String,
}

impl Caller {
    /// The caller holding the key `secret`.
    pub fn of_secret(secret: &str) -> Caller {
        Caller {
            key_id: key_id(&hash_hex(secret)),
        }
    }

    /// A cursor scope that only this key's requests can open.
    pub fn bind(&self, scope: String) -> String {
        format!("{scope}\x1fkey={}", self.key_id)
    }
}

/// Middleware on the data routes: refuses a request without a valid, unrevoked key, and one
/// over its key's rate limit. The key is checked against the table on every request, so a
/// revocation takes effect at once.
pub(super) async fn require_key(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = match request.headers().get(KEY_HEADER).map(|v| v.to_str()) {
        None => {
            return ApiError::Unauthorized("this route needs an `x-api-key` header")
                .into_response();
        }
        Some(Ok(key)) if !key.trim().is_empty() => key.trim().to_owned(),
        Some(_) => {
            return ApiError::Unauthorized("the `x-api-key` header is empty or not text")
                .into_response();
        }
    };
    match check_key(state.table.as_ref(), &presented).await {
        Ok(KeyCheck::Valid) => {
            let caller = Caller::of_secret(&presented);
            if let Err(wait) = state.limits.take(&caller.key_id, std::time::Instant::now()) {
                return super::limits::too_many_requests(wait);
            }
            request.extensions_mut().insert(caller);
            let mut response = next.run(request).await;
            // Answers given for a key are that key-holder's: no shared cache may keep them.
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Ok(KeyCheck::Unknown) => {
            ApiError::Unauthorized("the `x-api-key` is not a key of this API").into_response()
        }
        Ok(KeyCheck::Revoked) => {
            ApiError::Unauthorized("the `x-api-key` has been revoked").into_response()
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTable;

    #[tokio::test]
    async fn keys_are_stored_hashed_listed_and_revoked() {
        let table = SqliteTable::in_memory().unwrap();
        let a = create_key(&table, "analyst desk").await.unwrap();
        let b = create_key(&table, "ops").await.unwrap();
        assert!(a.secret.starts_with("pantau_") && a.secret.len() == 7 + 43);
        assert_ne!(a.secret, b.secret);
        assert_eq!(check_key(&table, &a.secret).await.unwrap(), KeyCheck::Valid);
        assert_eq!(
            check_key(&table, "pantau_guess").await.unwrap(),
            KeyCheck::Unknown
        );
        // The secret is nowhere in the table.
        let records = key_records(&table).await.unwrap();
        assert_eq!(records.len(), 2);
        assert!(!format!("{records:?}").contains(&a.secret[7..]));

        let listed = list_keys(&table).await.unwrap();
        let names: Vec<_> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"analyst desk") && names.contains(&"ops"));
        let revoked = revoke_key(&table, &a.info.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(
            check_key(&table, &a.secret).await.unwrap(),
            KeyCheck::Revoked
        );
        assert_eq!(check_key(&table, &b.secret).await.unwrap(), KeyCheck::Valid);
        assert!(matches!(
            revoke_key(&table, "key_000000000000").await,
            Err(AccessError::NoSuchKey(_))
        ));
        assert!(matches!(
            create_key(&table, " ").await,
            Err(AccessError::BadName(_))
        ));
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
