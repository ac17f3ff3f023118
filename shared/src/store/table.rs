//! The table port: DynamoDB's single-table semantics, reduced to what Pantau uses.
//!
//! Items are JSON objects (`serde_json::Map`): strings map to `S`, numbers to `N`, booleans
//! to `BOOL`, null to `NULL`, arrays to `L`, objects to `M`. Every item has the string keys
//! `pk` and `sk`; it appears in a global secondary index when it carries that index's two key
//! attributes (sparse indexes). An item whose `expires_at` (epoch seconds) has passed is gone
//! for every read, on both adapters, whether or not the backend has deleted it yet.
//!
//! Which keys hold what is written down once, in `crate::schema`.

use async_trait::async_trait;
use base64::Engine;
use serde_json::{Map, Value};

pub type Item = Map<String, Value>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// The TTL attribute: epoch seconds after which the item is gone.
pub const TTL: &str = "expires_at";
/// DynamoDB's item size limit; both adapters refuse larger items.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's cap on operations in one transaction.
pub const MAX_TRANSACT_OPS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Key {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of an item, or a validation error naming what is missing.
    pub fn of(item: &Item) -> Result<Key, TableError> {
        let get = |name: &str| match item.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(TableError::Validation(format!(
                "item lacks a non-empty string `{name}`"
            ))),
        };
        Ok(Key::new(get(PK)?, get(SK)?))
    }
}

/// A write's precondition, checked atomically with the write.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Write unconditionally.
    None,
    /// The item must not exist (`attribute_not_exists(pk)`).
    Absent,
    /// The item must exist (`attribute_exists(pk)`).
    Present,
    /// The item must exist with `attr` equal to `value` (optimistic locking on a version).
    Equals { attr: String, value: Value },
    /// The item must be absent, or hold `attr` as a string that sorts before `value` (byte
    /// order): a record that keeps the greatest value ever written, in one conditional put.
    AbsentOrBelow { attr: String, value: String },
}

/// An update expression: `SET` these, `REMOVE` those, `ADD` to these numbers (a missing
/// number counts as 0). Like DynamoDB, an update creates the item when it is absent and the
/// condition allows. Key attributes cannot be updated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Item,
    pub remove: Vec<String>,
    pub add: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// The table's own `pk`/`sk`.
    Primary,
    Gsi1,
    Gsi2,
}

impl Index {
    /// The partition and sort key attribute names.
    pub fn key_names(self) -> (&'static str, &'static str) {
        match self {
            Index::Primary => (PK, SK),
            Index::Gsi1 => (GSI1_PK, GSI1_SK),
            Index::Gsi2 => (GSI2_PK, GSI2_SK),
        }
    }

    /// DynamoDB's index name (None for the table itself).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

/// A sort-key condition, compared as DynamoDB compares strings: by UTF-8 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeyRange {
    All,
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Index,
    pub partition: String,
    pub range: SortKeyRange,
    /// Ascending sort key when true (`ScanIndexForward`).
    pub forward: bool,
    /// At most this many items are read for the page (DynamoDB's `Limit`, capped at 1000).
    pub limit: Option<usize>,
    pub cursor: Option<Cursor>,
}

impl Query {
    /// All of a partition, ascending, no limit.
    pub fn partition(index: Index, partition: impl Into<String>) -> Query {
        Query {
            index,
            partition: partition.into(),
            range: SortKeyRange::All,
            forward: true,
            limit: None,
            cursor: None,
        }
    }

    pub fn range(mut self, range: SortKeyRange) -> Query {
        self.range = range;
        self
    }

    pub fn backward(mut self) -> Query {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = Some(limit);
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Query {
        self.cursor = cursor;
        self
    }
}

/// Where a query stopped: the key attributes of the last item read (DynamoDB's
/// `LastEvaluatedKey`), as URL-safe base64 of their JSON. Both adapters make the same
/// cursor for the same item, so a cursor is portable between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    pub fn from_key_attrs(attrs: &Item) -> Cursor {
        let json = serde_json::to_vec(attrs).unwrap_or_default();
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }

    pub fn key_attrs(&self) -> Result<Item, TableError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| TableError::Validation("malformed cursor".into()))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) if m.values().all(Value::is_string) => Ok(m),
            _ => Err(TableError::Validation("malformed cursor".into())),
        }
    }

    /// The key attributes an index's cursor holds for `item`: the table key, plus the
    /// index's own key when querying an index.
    pub fn for_item(index: Index, item: &Item) -> Cursor {
        let mut attrs = Item::new();
        let (ipk, isk) = index.key_names();
        for name in [PK, SK, ipk, isk] {
            if let Some(v) = item.get(name) {
                attrs.insert(name.to_owned(), v.clone());
            }
        }
        Cursor::from_key_attrs(&attrs)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow; pass it back in `Query::cursor`.
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Put(Item),
    Delete(Key),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransactOp {
    Put {
        item: Item,
        condition: Condition,
    },
    Update {
        key: Key,
        update: Update,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Only a condition; writes nothing.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl TransactOp {
    pub fn key(&self) -> Result<Key, TableError> {
        match self {
            TransactOp::Put { item, .. } => Key::of(item),
            TransactOp::Update { key, .. }
            | TransactOp::Delete { key, .. }
            | TransactOp::Check { key, .. } => Ok(key.clone()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A write's condition did not hold; nothing was written.
    #[error("condition failed on {key:?}")]
    ConditionFailed { key: Key },
    /// A transaction was refused whole; `reasons` has one entry per operation, in order:
    /// `None` for operations that were fine, `ConditionalCheckFailed` for the failed ones.
    #[error("transaction cancelled: {reasons:?}")]
    TransactionCanceled { reasons: Vec<String> },
    /// The request is malformed the way DynamoDB would refuse it (bad key, item too large,
    /// duplicate keys in one request, too many operations).
    #[error("invalid table request: {0}")]
    Validation(String),
    /// The backend failed; `retryable` for throttling, timeouts and 5xx.
    #[error("table {op} failed: {message}")]
    Backend {
        op: &'static str,
        message: String,
        retryable: bool,
    },
}

impl TableError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TableError::Backend {
                retryable: true,
                ..
            }
        )
    }
}

#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError>;
    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError>;
    /// Applies the update and returns the item as it is afterwards (`ALL_NEW`).
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError>;
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError>;
    async fn query(&self, query: Query) -> Result<Page, TableError>;
    /// Unconditional puts and deletes, any number (sent in chunks of 25, unprocessed items
    /// retried). Two operations on one key in one call are refused, as DynamoDB does.
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError>;
    /// All or nothing, at most 100 operations on distinct keys.
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError>;
    /// Strongly consistent gets of many keys, answered in the order asked (None for a key
    /// with no item). DynamoDB sends one `BatchGetItem` per [`MAX_BATCH_GET_KEYS`] keys; this
    /// default, for stores where a get is cheap (SQLite), is one get per key. Decorators
    /// forward it, so a counted `batch_get` is one request whatever the store.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            items.push(self.get(key).await?);
        }
        Ok(items)
    }

    /// [`Table::batch_get`] for a reader that needs only `attrs` of each item: the items hold
    /// those and the key attributes, perhaps more. The default reads whole items; the embedded
    /// store skips the other attributes while decoding (a feed page of items does not need
    /// what `CURRENT` holds beside the item, most of its bytes). One request, as `batch_get`.
    async fn batch_get_some(
        &self,
        keys: &[Key],
        attrs: &'static [&'static str],
    ) -> Result<Vec<Option<Item>>, TableError> {
        let _ = attrs;
        self.batch_get(keys).await
    }
}

/// DynamoDB's cap on keys in one `BatchGetItem`.
pub const MAX_BATCH_GET_KEYS: usize = 100;

/// Checks shared by both adapters so they refuse exactly the same requests.
pub mod rules {
    use super::*;

    pub fn item(item: &Item) -> Result<Key, TableError> {
        let key = Key::of(item)?;
        for (ipk, isk) in [(GSI1_PK, GSI1_SK), (GSI2_PK, GSI2_SK)] {
            for name in [ipk, isk] {
                match item.get(name) {
                    None => {}
                    Some(Value::String(s)) if !s.is_empty() => {}
                    Some(_) => {
                        return Err(TableError::Validation(format!(
                            "index key `{name}` must be a non-empty string"
                        )));
                    }
                }
            }
        }
        if item.get(TTL).is_some_and(|ttl| !ttl.is_number()) {
            return Err(TableError::Validation(format!("`{TTL}` must be a number")));
        }
        let size = item_size(item);
        if size > MAX_ITEM_BYTES {
            return Err(TableError::Validation(format!(
                "item {key:?} is {size} bytes, over the {MAX_ITEM_BYTES}-byte limit"
            )));
        }
        Ok(key)
    }

    pub fn key(key: &Key) -> Result<(), TableError> {
        if key.pk.is_empty() || key.sk.is_empty() {
            return Err(TableError::Validation("empty key attribute".into()));
        }
        Ok(())
    }

    pub fn update(update: &Update) -> Result<(), TableError> {
        let touched = update
            .set
            .keys()
            .chain(update.remove.iter())
            .chain(update.add.iter().map(|(k, _)| k));
        let mut seen = std::collections::BTreeSet::new();
        for name in touched {
            if name == PK || name == SK {
                return Err(TableError::Validation(format!(
                    "cannot update key attribute `{name}`"
                )));
            }
            // DynamoDB refuses an expression whose paths overlap ("Two document paths overlap").
            if !seen.insert(name) {
                return Err(TableError::Validation(format!(
                    "attribute `{name}` appears twice in one update"
                )));
            }
        }
        for (name, value) in &update.set {
            let is_index_key = [GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK].contains(&name.as_str());
            if is_index_key && !matches!(value, Value::String(s) if !s.is_empty()) {
                return Err(TableError::Validation(format!(
                    "index key `{name}` must be a non-empty string"
                )));
            }
            if name == TTL && !value.is_number() {
                return Err(TableError::Validation(format!("`{TTL}` must be a number")));
            }
        }
        Ok(())
    }

    /// The checks of a batch write: valid items and keys, each key at most once.
    pub fn batch(ops: &[WriteOp]) -> Result<(), TableError> {
        let mut keys = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                WriteOp::Put(it) => keys.push(item(it)?),
                WriteOp::Delete(k) => {
                    key(k)?;
                    keys.push(k.clone());
                }
            }
        }
        distinct_keys(&keys)
    }

    /// The checks of a transaction: at most `MAX_TRANSACT_OPS` valid operations on distinct keys.
    pub fn transaction(ops: &[TransactOp]) -> Result<(), TableError> {
        if ops.len() > MAX_TRANSACT_OPS {
            return Err(TableError::Validation(format!(
                "{} operations in one transaction, over the limit of {MAX_TRANSACT_OPS}",
                ops.len()
            )));
        }
        let mut keys = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                TransactOp::Put { item: it, .. } => keys.push(item(it)?),
                TransactOp::Update {
                    key: k, update: u, ..
                } => {
                    key(k)?;
                    update(u)?;
                    // DynamoDB's transactional Update requires an expression.
                    if u.set.is_empty() && u.remove.is_empty() && u.add.is_empty() {
                        return Err(TableError::Validation(format!(
                            "empty update of {k:?} in a transaction"
                        )));
                    }
                    keys.push(k.clone());
                }
                TransactOp::Delete { key: k, .. } | TransactOp::Check { key: k, .. } => {
                    key(k)?;
                    keys.push(k.clone());
                }
            }
        }
        distinct_keys(&keys)
    }

    /// The most items one query page reads (DynamoDB's own ceiling is 1 MB; ours is a count).
    pub const MAX_QUERY_LIMIT: usize = 1000;

    /// Checks a query and returns its page size (the limit, capped) and the key attributes of
    /// its cursor, which must name an item of the queried index and partition.
    pub fn query(query: &Query) -> Result<(Option<usize>, Option<Item>), TableError> {
        if query.partition.is_empty() {
            return Err(TableError::Validation(
                "empty partition key in query".into(),
            ));
        }
        let bounds: Vec<&String> = match &query.range {
            SortKeyRange::All => vec![],
            SortKeyRange::Between(lo, hi) => {
                if lo.as_bytes() > hi.as_bytes() {
                    return Err(TableError::Validation(format!(
                        "BETWEEN bounds out of order: {lo:?} > {hi:?}"
                    )));
                }
                vec![lo, hi]
            }
            SortKeyRange::Eq(v)
            | SortKeyRange::BeginsWith(v)
            | SortKeyRange::Lt(v)
            | SortKeyRange::Le(v)
            | SortKeyRange::Gt(v)
            | SortKeyRange::Ge(v) => vec![v],
        };
        if bounds.iter().any(|b| b.is_empty()) {
            return Err(TableError::Validation(
                "empty sort key value in query".into(),
            ));
        }
        let limit = match query.limit {
            Some(0) => {
                return Err(TableError::Validation(
                    "query limit must be at least 1".into(),
                ));
            }
            Some(n) => Some(n.min(MAX_QUERY_LIMIT)),
            None => None,
        };
        let cursor = match &query.cursor {
            None => None,
            Some(c) => {
                let attrs = c.key_attrs()?;
                let (ipk, isk) = query.index.key_names();
                let has =
                    |name: &str| matches!(attrs.get(name), Some(Value::String(s)) if !s.is_empty());
                if ![PK, SK, ipk, isk].into_iter().all(has)
                    || attrs.get(ipk) != Some(&Value::String(query.partition.clone()))
                {
                    return Err(TableError::Validation(
                        "cursor does not belong to this query".into(),
                    ));
                }
                Some(attrs)
            }
        };
        Ok((limit, cursor))
    }

    /// Distinct keys, as both batch and transactional writes require.
    pub fn distinct_keys<'a>(keys: impl IntoIterator<Item = &'a Key>) -> Result<(), TableError> {
        let mut seen = std::collections::BTreeSet::new();
        for k in keys {
            if !seen.insert(k) {
                return Err(TableError::Validation(format!(
                    "duplicate key {k:?} in one request"
                )));
            }
        }
        Ok(())
    }

    /// The current time in epoch seconds, the clock `expired` is read against.
    pub fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    /// Whether an item has expired at `now` (epoch seconds).
    pub fn expired(item: &Item, now: i64) -> bool {
        item.get(TTL)
            .and_then(Value::as_f64)
            .is_some_and(|t| (t as i64) <= now)
    }

    /// Roughly DynamoDB's size accounting: names plus values.
    pub fn item_size(item: &Item) -> usize {
        fn value_size(v: &Value) -> usize {
            match v {
                Value::Null | Value::Bool(_) => 1,
                Value::Number(n) => n.to_string().len().div_ceil(2) + 1,
                Value::String(s) => s.len(),
                Value::Array(a) => 3 + a.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
                Value::Object(m) => {
                    3 + m
                        .iter()
                        .map(|(k, v)| 1 + k.len() + value_size(v))
                        .sum::<usize>()
                }
            }
        }
        item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
    }

    /// Whether a sort key satisfies a range, comparing by bytes as DynamoDB does.
    pub fn in_range(sk: &str, range: &SortKeyRange) -> bool {
        let b = sk.as_bytes();
        match range {
            SortKeyRange::All => true,
            SortKeyRange::Eq(v) => b == v.as_bytes(),
            SortKeyRange::BeginsWith(p) => b.starts_with(p.as_bytes()),
            SortKeyRange::Between(lo, hi) => b >= lo.as_bytes() && b <= hi.as_bytes(),
            SortKeyRange::Lt(v) => b < v.as_bytes(),
            SortKeyRange::Le(v) => b <= v.as_bytes(),
            SortKeyRange::Gt(v) => b > v.as_bytes(),
            SortKeyRange::Ge(v) => b >= v.as_bytes(),
        }
    }

    /// Whether `condition` holds for the current item (None when absent).
    pub fn holds(condition: &Condition, current: Option<&Item>) -> bool {
        match condition {
            Condition::None => true,
            Condition::Absent => current.is_none(),
            Condition::Present => current.is_some(),
            Condition::Equals { attr, value } => current
                .and_then(|c| c.get(attr))
                .is_some_and(|v| same_value(v, value)),
            Condition::AbsentOrBelow { attr, value } => current.is_none_or(|c| {
                c.get(attr)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.as_bytes() < value.as_bytes())
            }),
        }
    }

    /// DynamoDB compares numbers by value (1 == 1.0), everything else structurally.
    pub fn same_value(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            _ => a == b,
        }
    }

    /// Applies an update to the current item (or a new one with just the key).
    pub fn apply(key: &Key, current: Option<Item>, update: &Update) -> Result<Item, TableError> {
        let mut item = current.unwrap_or_else(|| {
            let mut m = Item::new();
            m.insert(PK.into(), Value::String(key.pk.clone()));
            m.insert(SK.into(), Value::String(key.sk.clone()));
            m
        });
        for (k, v) in &update.set {
            item.insert(k.clone(), v.clone());
        }
        for k in &update.remove {
            item.remove(k);
        }
        for (k, delta) in &update.add {
            let now = match item.get(k) {
                None => 0,
                Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
                    TableError::Validation(format!("ADD to non-integer number `{k}`"))
                })?,
                Some(_) => {
                    return Err(TableError::Validation(format!(
                        "ADD to `{k}`, which is not a number"
                    )));
                }
            };
            item.insert(k.clone(), Value::from(now + delta));
        }
        Ok(item)
    }
}

pub use rules::item_size;
