//! In-memory ports for this module's and the API's tests: a `Table` with DynamoDB's semantics
//! (through `store::table::rules`, as both real adapters use them) that counts its writes, and
//! a `BlobStore` on a map.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;

use crate::store::table::{self, Index, rules};
use crate::store::{
    Blob, BlobError, BlobInfo, BlobMeta, BlobStore, Condition, Cursor, Item, Key, ListPage, Page,
    Query, Table, TableError, TransactOp, Update, WriteOp,
};

#[derive(Default)]
pub struct MemoryTable {
    items: Mutex<BTreeMap<Key, Item>>,
    /// Items written (put, updated or deleted), counted per operation.
    writes: AtomicUsize,
    reads: AtomicUsize,
}

impl MemoryTable {
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// Every item, in key order: compare two of these to compare whole tables.
    pub fn dump(&self) -> BTreeMap<Key, Item> {
        self.items.lock().unwrap().clone()
    }

    fn live(map: &BTreeMap<Key, Item>, key: &Key) -> Option<Item> {
        map.get(key)
            .filter(|i| !rules::expired(i, chrono::Utc::now().timestamp()))
            .cloned()
    }

    fn failed(key: &Key) -> TableError {
        TableError::ConditionFailed { key: key.clone() }
    }
}

/// The order of an item within an index: the index's sort key, then the table key.
fn position(index: Index, item: &Item) -> Option<(String, String, String)> {
    let (_, isk) = index.key_names();
    let s = |n: &str| item.get(n).and_then(Value::as_str).map(str::to_owned);
    Some((s(isk)?, s(table::PK)?, s(table::SK)?))
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        // Reads yield, so concurrent reconcilers interleave between their read and write.
        tokio::task::yield_now().await;
        rules::key(key)?;
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(Self::live(&self.items.lock().unwrap(), key))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        let key = rules::item(&item)?;
        let mut map = self.items.lock().unwrap();
        if !rules::holds(&condition, Self::live(&map, &key).as_ref()) {
            return Err(Self::failed(&key));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        map.insert(key, item);
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        rules::key(key)?;
        rules::update(&update)?;
        let mut map = self.items.lock().unwrap();
        let current = Self::live(&map, key);
        if !rules::holds(&condition, current.as_ref()) {
            return Err(Self::failed(key));
        }
        let next = rules::apply(key, current, &update)?;
        rules::item(&next)?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        map.insert(key.clone(), next.clone());
        Ok(next)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        rules::key(key)?;
        let mut map = self.items.lock().unwrap();
        if !rules::holds(&condition, Self::live(&map, key).as_ref()) {
            return Err(Self::failed(key));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        map.remove(key);
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        tokio::task::yield_now().await;
        self.reads.fetch_add(1, Ordering::SeqCst);
        let (ipk, isk) = query.index.key_names();
        let now = chrono::Utc::now().timestamp();
        let after = match &query.cursor {
            Some(c) => Some(
                position(query.index, &c.key_attrs()?)
                    .ok_or_else(|| TableError::Validation("cursor lacks key attributes".into()))?,
            ),
            None => None,
        };
        let map = self.items.lock().unwrap();
        let mut matching: Vec<((String, String, String), &Item)> = map
            .values()
            .filter(|i| i.get(ipk).and_then(Value::as_str) == Some(query.partition.as_str()))
            .filter(|i| {
                i.get(isk)
                    .and_then(Value::as_str)
                    .is_some_and(|sk| rules::in_range(sk, &query.range))
            })
            .filter(|i| !rules::expired(i, now))
            .filter_map(|i| Some((position(query.index, i)?, i)))
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        if !query.forward {
            matching.reverse();
        }
        if let Some(after) = after {
            matching.retain(|(p, _)| {
                if query.forward {
                    *p > after
                } else {
                    *p < after
                }
            });
        }
        let limit = query.limit.unwrap_or(1000).min(1000);
        let more = matching.len() > limit;
        matching.truncate(limit);
        let items: Vec<Item> = matching.into_iter().map(|(_, i)| i.clone()).collect();
        // Like DynamoDB: a page that filled its limit carries a cursor, even if nothing follows.
        let cursor = if more || (query.limit.is_some() && items.len() == limit) {
            items.last().map(|i| Cursor::for_item(query.index, i))
        } else {
            None
        };
        Ok(Page { items, cursor })
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        let mut keys = Vec::new();
        for op in &ops {
            keys.push(match op {
                WriteOp::Put(item) => rules::item(item)?,
                WriteOp::Delete(key) => {
                    rules::key(key)?;
                    key.clone()
                }
            });
        }
        rules::distinct_keys(&keys)?;
        let mut map = self.items.lock().unwrap();
        for (op, key) in ops.into_iter().zip(keys) {
            self.writes.fetch_add(1, Ordering::SeqCst);
            match op {
                WriteOp::Put(item) => {
                    map.insert(key, item);
                }
                WriteOp::Delete(_) => {
                    map.remove(&key);
                }
            }
        }
        Ok(())
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        if ops.len() > table::MAX_TRANSACT_OPS {
            return Err(TableError::Validation("too many operations".into()));
        }
        let keys = ops
            .iter()
            .map(TransactOp::key)
            .collect::<Result<Vec<_>, _>>()?;
        rules::distinct_keys(&keys)?;
        let mut map = self.items.lock().unwrap();
        let mut reasons = Vec::new();
        let mut results = Vec::new();
        for (op, key) in ops.iter().zip(&keys) {
            let current = Self::live(&map, key);
            let (condition, result) = match op {
                TransactOp::Put { item, condition } => {
                    rules::item(item)?;
                    (condition, Some(Some(item.clone())))
                }
                TransactOp::Update {
                    update, condition, ..
                } => {
                    rules::update(update)?;
                    let next = rules::apply(key, current.clone(), update)?;
                    rules::item(&next)?;
                    (condition, Some(Some(next)))
                }
                TransactOp::Delete { condition, .. } => (condition, Some(None)),
                TransactOp::Check { condition, .. } => (condition, None),
            };
            let ok = rules::holds(condition, current.as_ref());
            reasons.push(if ok { "None" } else { "ConditionalCheckFailed" }.to_owned());
            results.push(result);
        }
        if reasons.iter().any(|r| r != "None") {
            return Err(TableError::TransactionCanceled { reasons });
        }
        for (key, result) in keys.into_iter().zip(results) {
            match result {
                Some(Some(item)) => {
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    map.insert(key, item);
                }
                Some(None) => {
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    map.remove(&key);
                }
                None => {}
            }
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryBlobs {
    objects: Mutex<BTreeMap<String, Blob>>,
}

impl MemoryBlobs {
    pub fn insert(&self, key: &str, body: impl Into<Bytes>) {
        self.objects.lock().unwrap().insert(
            key.to_owned(),
            Blob {
                body: body.into(),
                meta: BlobMeta::default(),
            },
        );
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    fn bucket(&self) -> &str {
        "memory"
    }

    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError> {
        crate::store::blob::validate_key(key)?;
        self.objects.lock().unwrap().insert(
            key.to_owned(),
            Blob {
                body,
                meta: meta.clone(),
            },
        );
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }

    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError> {
        Ok(self.objects.lock().unwrap().get(key).map(|b| BlobInfo {
            key: key.to_owned(),
            size: b.body.len() as u64,
            meta: b.meta.clone(),
        }))
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError> {
        let map = self.objects.lock().unwrap();
        let limit = limit.clamp(1, 1000);
        let mut keys: Vec<String> = map
            .keys()
            .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
            .cloned()
            .collect();
        let more = keys.len() > limit;
        keys.truncate(limit);
        let next = if more { keys.last().cloned() } else { None };
        Ok(ListPage { keys, next })
    }
}
