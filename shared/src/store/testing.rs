//! Test support: decorators over the real adapters, instead of fake stores.
//!
//! Tests run on the embedded adapters (`SqliteTable::in_memory()`, a `DiskBlobStore` in a
//! temporary folder) and wrap them when they need to see or bend what happens:
//! - [`CountingTable`] counts the reads and writes each call costs, per kind of call, so a
//!   test can say "an unchanged item costs one read and no write"; [`CountingBlobStore`] does
//!   the same for object requests and bytes (what S3 bills);
//! - [`FaultyTable`] and [`FaultyBlobStore`] make chosen calls fail as a throttled or broken
//!   backend would: the next N calls of one kind, or each call with a seeded probability; and
//!   they can pause every call a seeded random time, so concurrent callers interleave.
//!
//! Every call not told to fail goes to the wrapped adapter unchanged, so the conformance
//! suites pass on the decorators as they do on the bare adapters. Decorators nest
//! (`FaultyTable<CountingTable<SqliteTable>>`) and hand out what they wrap with `inner()`.
//!
//! Compiled for this crate's tests and, with the `testing` feature, for other crates' tests.

use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use super::blob::{Blob, BlobError, BlobInfo, BlobMeta, BlobStore, ListPage};
use super::table::{
    Item, Key, Page, Query, Table, TableError, TransactOp, Update, WriteOp, rules::MAX_QUERY_LIMIT,
};
use super::{Condition, Cursor};

/// What an injected failure looks like to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A throttled or timed-out request that did not reach the store: retryable.
    Retryable,
    /// A refused request that will fail again (permissions, a missing table): not retryable.
    Permanent,
    /// The request took effect but its answer was lost: retryable, and retrying repeats it.
    RetryableAfterApplying,
}

impl Fault {
    fn retryable(self) -> bool {
        !matches!(self, Fault::Permanent)
    }

    fn message(self) -> &'static str {
        match self {
            Fault::Retryable => "injected fault: throttled",
            Fault::Permanent => "injected fault: access denied",
            Fault::RetryableAfterApplying => "injected fault: timed out after applying",
        }
    }
}

/// The calls of the table port, to choose which ones fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableCall {
    Get,
    Query,
    Put,
    Update,
    Delete,
    BatchWrite,
    TransactWrite,
}

impl TableCall {
    pub const ALL: [TableCall; 7] = [
        TableCall::Get,
        TableCall::Query,
        TableCall::Put,
        TableCall::Update,
        TableCall::Delete,
        TableCall::BatchWrite,
        TableCall::TransactWrite,
    ];

    fn name(self) -> &'static str {
        match self {
            TableCall::Get => "get",
            TableCall::Query => "query",
            TableCall::Put => "put",
            TableCall::Update => "update",
            TableCall::Delete => "delete",
            TableCall::BatchWrite => "batch_write",
            TableCall::TransactWrite => "transact_write",
        }
    }
}

/// The calls of the blob store port, to choose which ones fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobCall {
    Put,
    Get,
    Head,
    List,
}

impl BlobCall {
    pub const ALL: [BlobCall; 4] = [BlobCall::Put, BlobCall::Get, BlobCall::Head, BlobCall::List];

    fn name(self) -> &'static str {
        match self {
            BlobCall::Put => "put",
            BlobCall::Get => "get",
            BlobCall::Head => "head",
            BlobCall::List => "list",
        }
    }
}

// ---- counting ------------------------------------------------------------------------------

/// What a [`CountingTable`] has forwarded since it was made or reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub gets: usize,
    /// `batch_get` calls (one request each, whatever the number of keys).
    pub batch_gets: usize,
    /// Query calls: one per page.
    pub queries: usize,
    pub puts: usize,
    pub updates: usize,
    pub deletes: usize,
    /// Puts and deletes sent in batch writes, counted one per item.
    pub batch_items: usize,
    /// Puts, updates and deletes sent in transactions, counted one per operation.
    pub transact_writes: usize,
    /// Condition checks sent in transactions (they write nothing).
    pub transact_checks: usize,
    /// Items the reads returned: query pages' items and the items batch gets and gets found.
    /// DynamoDB bills reads by what they return, so this, not the request count, is what grows
    /// when a query reads more than it needs.
    pub items_read: usize,
}

impl TableCounts {
    /// Read requests: gets, batch gets and query pages.
    pub fn reads(&self) -> usize {
        self.gets + self.batch_gets + self.queries
    }

    /// Items the calls asked to write, whichever call carried them.
    pub fn writes(&self) -> usize {
        self.puts + self.updates + self.deletes + self.batch_items + self.transact_writes
    }
}

/// Forwards every call to `T` and counts it. Calls are counted when made, whatever their
/// outcome: a write refused by its condition still cost a request (DynamoDB bills it too).
pub struct CountingTable<T> {
    inner: T,
    counts: Mutex<TableCounts>,
}

impl<T: Table> CountingTable<T> {
    pub fn new(inner: T) -> CountingTable<T> {
        CountingTable {
            inner,
            counts: Mutex::new(TableCounts::default()),
        }
    }

    pub fn inner(&self) -> &T {
        &self.inner
    }

    pub fn counts(&self) -> TableCounts {
        *lock(&self.counts)
    }

    /// Starts counting from zero, e.g. after a test's setup.
    pub fn reset(&self) {
        *lock(&self.counts) = TableCounts::default();
    }

    fn count(&self, add: impl FnOnce(&mut TableCounts)) {
        add(&mut lock(&self.counts));
    }
}

#[async_trait]
impl<T: Table> Table for CountingTable<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.count(|c| c.gets += 1);
        let found = self.inner.get(key).await?;
        self.count(|c| c.items_read += usize::from(found.is_some()));
        Ok(found)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.count(|c| c.puts += 1);
        self.inner.put(item, condition).await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        self.count(|c| c.updates += 1);
        self.inner.update(key, update, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.count(|c| c.deletes += 1);
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        self.count(|c| c.queries += 1);
        let page = self.inner.query(query).await?;
        self.count(|c| c.items_read += page.items.len());
        Ok(page)
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        self.count(|c| c.batch_items += ops.len());
        self.inner.batch_write(ops).await
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        let checks = ops
            .iter()
            .filter(|op| matches!(op, TransactOp::Check { .. }))
            .count();
        self.count(|c| {
            c.transact_checks += checks;
            c.transact_writes += ops.len() - checks;
        });
        self.inner.transact_write(ops).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.count(|c| c.batch_gets += 1);
        let found = self.inner.batch_get(keys).await?;
        self.count(|c| c.items_read += found.iter().flatten().count());
        Ok(found)
    }

    async fn batch_get_some(
        &self,
        keys: &[Key],
        attrs: &'static [&'static str],
    ) -> Result<Vec<Option<Item>>, TableError> {
        self.count(|c| c.batch_gets += 1);
        let found = self.inner.batch_get_some(keys, attrs).await?;
        self.count(|c| c.items_read += found.iter().flatten().count());
        Ok(found)
    }
}

/// What a [`CountingBlobStore`] has forwarded since it was made or reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlobCounts {
    pub puts: usize,
    pub gets: usize,
    pub heads: usize,
    /// List calls: one per page.
    pub lists: usize,
    /// Body bytes sent by puts.
    pub put_bytes: u64,
    /// Body bytes returned by gets that found their object.
    pub get_bytes: u64,
}

/// Forwards every call to `B` and counts it, like [`CountingTable`]: counted when made,
/// whatever the outcome (S3 bills a GET that answers 404 too).
pub struct CountingBlobStore<B> {
    inner: B,
    counts: Mutex<BlobCounts>,
}

impl<B: BlobStore> CountingBlobStore<B> {
    pub fn new(inner: B) -> CountingBlobStore<B> {
        CountingBlobStore {
            inner,
            counts: Mutex::new(BlobCounts::default()),
        }
    }

    pub fn inner(&self) -> &B {
        &self.inner
    }

    pub fn counts(&self) -> BlobCounts {
        *lock(&self.counts)
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        *lock(&self.counts) = BlobCounts::default();
    }

    fn count(&self, add: impl FnOnce(&mut BlobCounts)) {
        add(&mut lock(&self.counts));
    }
}

#[async_trait]
impl<B: BlobStore> BlobStore for CountingBlobStore<B> {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }

    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError> {
        let size = body.len() as u64;
        self.count(|c| {
            c.puts += 1;
            c.put_bytes += size;
        });
        self.inner.put(key, body, meta).await
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        self.count(|c| c.gets += 1);
        let blob = self.inner.get(key).await?;
        if let Some(found) = &blob {
            let size = found.body.len() as u64;
            self.count(|c| c.get_bytes += size);
        }
        Ok(blob)
    }

    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError> {
        self.count(|c| c.heads += 1);
        self.inner.head(key).await
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError> {
        self.count(|c| c.lists += 1);
        self.inner.list(prefix, after, limit).await
    }
}

// ---- faults --------------------------------------------------------------------------------

/// Which calls of a faulty decorator fail next, and how. Both faulty decorators hand theirs
/// out with `faults()`; `C` is [`TableCall`] or [`BlobCall`].
pub struct Faults<C> {
    plan: Mutex<FaultPlan<C>>,
}

struct FaultPlan<C> {
    /// Per kind of call: how many of its next calls fail, and how.
    next: Vec<(C, usize, Fault)>,
    random: Option<RandomFaults<C>>,
    /// Every call first waits up to this many microseconds, drawn from its own generator.
    pauses: Option<(u64, fastrand::Rng)>,
    injected: usize,
}

struct RandomFaults<C> {
    calls: Vec<C>,
    probability: f64,
    rng: fastrand::Rng,
    fault: Fault,
}

impl<C: Copy + PartialEq> Faults<C> {
    fn new() -> Faults<C> {
        Faults {
            plan: Mutex::new(FaultPlan {
                next: Vec::new(),
                random: None,
                pauses: None,
                injected: 0,
            }),
        }
    }

    /// The next `n` calls of `call` fail with `fault` (replacing what was planned for it).
    pub fn fail_next(&self, call: C, n: usize, fault: Fault) {
        let mut plan = lock(&self.plan);
        plan.next.retain(|(c, _, _)| *c != call);
        if n > 0 {
            plan.next.push((call, n, fault));
        }
    }

    /// Every call of these kinds fails with `fault` until `heal`.
    pub fn fail_always(&self, calls: &[C], fault: Fault) {
        for call in calls {
            self.fail_next(*call, usize::MAX, fault);
        }
    }

    /// Each call of these kinds fails with probability `probability`, drawn from a generator
    /// seeded with `seed` so a failing run can be repeated. Planned `fail_next` failures
    /// come first.
    pub fn fail_randomly(&self, calls: &[C], probability: f64, seed: u64, fault: Fault) {
        lock(&self.plan).random = Some(RandomFaults {
            calls: calls.to_vec(),
            probability,
            rng: fastrand::Rng::with_seed(seed),
            fault,
        });
    }

    /// Every call first waits a random time below `max`, drawn from a generator seeded with
    /// `seed`: concurrent callers then interleave their reads and writes as they would over a
    /// network (the embedded adapters answer each call at once, so a read and the write
    /// decided from it are rarely split). Failures are drawn as before.
    pub fn pause_randomly(&self, max: std::time::Duration, seed: u64) {
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        lock(&self.plan).pauses = Some((micros, fastrand::Rng::with_seed(seed)));
    }

    /// No more injected failures.
    pub fn heal(&self) {
        let mut plan = lock(&self.plan);
        plan.next.clear();
        plan.random = None;
    }

    /// How many calls have failed by injection so far.
    pub fn injected(&self) -> usize {
        lock(&self.plan).injected
    }

    /// Whether this call fails, and how; counts the plan down.
    fn draw(&self, call: C) -> Option<Fault> {
        let mut plan = lock(&self.plan);
        let mut fault = None;
        if let Some(entry) = plan.next.iter_mut().find(|(c, _, _)| *c == call) {
            entry.1 -= 1;
            fault = Some(entry.2);
        }
        plan.next.retain(|(_, n, _)| *n > 0);
        if fault.is_none()
            && let Some(random) = &mut plan.random
            && random.calls.contains(&call)
            && random.rng.f64() < random.probability
        {
            fault = Some(random.fault);
        }
        if fault.is_some() {
            plan.injected += 1;
        }
        fault
    }

    /// Runs `forward` unless the plan fails this call with `error(fault)`: before it reaches
    /// the store, or after it has taken effect for `Fault::RetryableAfterApplying`.
    async fn run<R, E>(
        &self,
        call: C,
        error: impl FnOnce(Fault) -> E,
        forward: impl Future<Output = Result<R, E>>,
    ) -> Result<R, E> {
        let pause = lock(&self.plan)
            .pauses
            .as_mut()
            .map(|(max, rng)| rng.u64(0..*max));
        if let Some(micros) = pause {
            tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
        }
        match self.draw(call) {
            None => forward.await,
            Some(Fault::RetryableAfterApplying) => {
                forward.await?;
                Err(error(Fault::RetryableAfterApplying))
            }
            Some(fault) => Err(error(fault)),
        }
    }
}

/// Forwards calls to `T` except those its [`Faults`] fail, which fail with
/// `TableError::Backend` (retryable or not, as the [`Fault`] says). Queries can also be cut
/// into short pages, as DynamoDB cuts a page at 1 MB whatever the limit.
pub struct FaultyTable<T> {
    inner: T,
    faults: Faults<TableCall>,
    page_cap: Mutex<Option<usize>>,
}

impl<T: Table> FaultyTable<T> {
    pub fn new(inner: T) -> FaultyTable<T> {
        FaultyTable {
            inner,
            faults: Faults::new(),
            page_cap: Mutex::new(None),
        }
    }

    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Which calls fail: `table.faults().fail_next(TableCall::Get, 1, Fault::Retryable)`.
    pub fn faults(&self) -> &Faults<TableCall> {
        &self.faults
    }

    /// From now on queries answer pages of at most `items` items, each with a cursor when
    /// more follow, so callers must page even without a limit of their own.
    pub fn cap_pages(&self, items: usize) {
        *lock(&self.page_cap) = Some(items.clamp(1, MAX_QUERY_LIMIT));
    }

    async fn call<R>(
        &self,
        call: TableCall,
        forward: impl Future<Output = Result<R, TableError>>,
    ) -> Result<R, TableError> {
        let error = |fault: Fault| TableError::Backend {
            op: call.name(),
            message: fault.message().to_owned(),
            retryable: fault.retryable(),
        };
        self.faults.run(call, error, forward).await
    }
}

#[async_trait]
impl<T: Table> Table for FaultyTable<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.call(TableCall::Get, self.inner.get(key)).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.call(TableCall::Put, self.inner.put(item, condition))
            .await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        self.call(TableCall::Update, self.inner.update(key, update, condition))
            .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.call(TableCall::Delete, self.inner.delete(key, condition))
            .await
    }

    async fn query(&self, mut query: Query) -> Result<Page, TableError> {
        if let Some(cap) = *lock(&self.page_cap) {
            query.limit = Some(query.limit.map_or(cap, |limit| limit.min(cap)));
        }
        self.call(TableCall::Query, self.inner.query(query)).await
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        self.call(TableCall::BatchWrite, self.inner.batch_write(ops))
            .await
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        self.call(TableCall::TransactWrite, self.inner.transact_write(ops))
            .await
    }

    /// Fails as a get would.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.call(TableCall::Get, self.inner.batch_get(keys)).await
    }
}

/// Forwards calls to `B` except those its [`Faults`] fail, which fail with
/// `BlobError::Backend` naming the wrapped store's bucket and the key.
pub struct FaultyBlobStore<B> {
    inner: B,
    faults: Faults<BlobCall>,
}

impl<B: BlobStore> FaultyBlobStore<B> {
    pub fn new(inner: B) -> FaultyBlobStore<B> {
        FaultyBlobStore {
            inner,
            faults: Faults::new(),
        }
    }

    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// Which calls fail: `store.faults().fail_next(BlobCall::Put, 1, Fault::Retryable)`.
    pub fn faults(&self) -> &Faults<BlobCall> {
        &self.faults
    }

    async fn call<R>(
        &self,
        call: BlobCall,
        key: &str,
        forward: impl Future<Output = Result<R, BlobError>>,
    ) -> Result<R, BlobError> {
        let error = |fault: Fault| BlobError::Backend {
            op: call.name(),
            bucket: self.inner.bucket().to_owned(),
            key: key.to_owned(),
            message: fault.message().to_owned(),
            retryable: fault.retryable(),
        };
        self.faults.run(call, error, forward).await
    }
}

#[async_trait]
impl<B: BlobStore> BlobStore for FaultyBlobStore<B> {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }

    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError> {
        self.call(BlobCall::Put, key, self.inner.put(key, body, meta))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        self.call(BlobCall::Get, key, self.inner.get(key)).await
    }

    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError> {
        self.call(BlobCall::Head, key, self.inner.head(key)).await
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError> {
        self.call(
            BlobCall::List,
            prefix,
            self.inner.list(prefix, after, limit),
        )
        .await
    }
}

// ---- reading whole stores ------------------------------------------------------------------

/// Every key under `prefix`, in order, following the listing's pages.
pub async fn list_all(store: &dyn BlobStore, prefix: &str) -> Result<Vec<String>, BlobError> {
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list(prefix, after.as_deref(), 1000).await?;
        keys.extend(page.keys);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(keys),
        }
    }
}

/// Every item of a query, following its cursor.
pub async fn query_all(table: &dyn Table, query: Query) -> Result<Vec<Item>, TableError> {
    let mut items = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = table.query(query.clone().after(cursor)).await?;
        items.extend(page.items);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// A poisoned lock only means another test thread panicked; the counts are still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::Index;
    use crate::store::disk::DiskBlobStore;
    use crate::store::sqlite::SqliteTable;

    fn item(pk: &str, sk: &str) -> Item {
        match json!({"pk": pk, "sk": sk}) {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn counts_each_kind_of_call_and_resets() {
        let table = CountingTable::new(SqliteTable::in_memory().unwrap());
        table.put(item("a", "1"), Condition::None).await.unwrap();
        // Refused by its condition: still a request.
        assert!(table.put(item("a", "1"), Condition::Absent).await.is_err());
        table.get(&Key::new("a", "1")).await.unwrap();
        table
            .query(Query::partition(Index::Primary, "a"))
            .await
            .unwrap();
        // One of the two keys is there: one item read.
        table
            .batch_get(&[Key::new("a", "1"), Key::new("zz", "9")])
            .await
            .unwrap();
        table
            .batch_write(vec![
                WriteOp::Put(item("b", "1")),
                WriteOp::Delete(Key::new("b", "2")),
            ])
            .await
            .unwrap();
        table
            .transact_write(vec![
                TransactOp::Put {
                    item: item("c", "1"),
                    condition: Condition::Absent,
                },
                TransactOp::Check {
                    key: Key::new("a", "1"),
                    condition: Condition::Present,
                },
            ])
            .await
            .unwrap();
        let counts = table.counts();
        assert_eq!(
            counts,
            TableCounts {
                gets: 1,
                batch_gets: 1,
                queries: 1,
                items_read: 3,
                puts: 2,
                batch_items: 2,
                transact_writes: 1,
                transact_checks: 1,
                ..TableCounts::default()
            }
        );
        assert_eq!((counts.reads(), counts.writes()), (3, 5));
        table.reset();
        assert_eq!(table.counts(), TableCounts::default());
        // It forwarded: the writes are in SQLite.
        assert!(
            table
                .inner()
                .get(&Key::new("c", "1"))
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn counting_blob_store_counts_requests_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = CountingBlobStore::new(DiskBlobStore::new(dir.path()).unwrap());
        store
            .put("a/b", Bytes::from_static(b"hello"), &BlobMeta::default())
            .await
            .unwrap();
        assert!(store.get("a/b").await.unwrap().is_some());
        // A miss is a request too, with no bytes.
        assert!(store.get("a/missing").await.unwrap().is_none());
        assert!(store.head("a/b").await.unwrap().is_some());
        assert_eq!(list_all(&store, "a/").await.unwrap(), ["a/b"]);
        assert_eq!(
            store.counts(),
            BlobCounts {
                puts: 1,
                gets: 2,
                heads: 1,
                lists: 1,
                put_bytes: 5,
                get_bytes: 5,
            }
        );
        store.reset();
        assert_eq!(store.counts(), BlobCounts::default());
    }

    #[tokio::test]
    async fn faulty_table_fails_the_planned_calls_then_forwards() {
        let table = FaultyTable::new(SqliteTable::in_memory().unwrap());
        table
            .faults()
            .fail_next(TableCall::Put, 2, Fault::Retryable);
        for _ in 0..2 {
            let err = table
                .put(item("a", "1"), Condition::None)
                .await
                .unwrap_err();
            assert!(err.is_retryable(), "{err}");
        }
        assert!(
            table
                .inner()
                .get(&Key::new("a", "1"))
                .await
                .unwrap()
                .is_none()
        );
        table.put(item("a", "1"), Condition::None).await.unwrap();
        assert_eq!(table.faults().injected(), 2);

        table
            .faults()
            .fail_next(TableCall::Get, 1, Fault::Permanent);
        let err = table.get(&Key::new("a", "1")).await.unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("get"), "{err}");

        // Applied, then reported as a timeout: retrying would repeat it.
        table
            .faults()
            .fail_next(TableCall::Delete, 1, Fault::RetryableAfterApplying);
        let err = table
            .delete(&Key::new("a", "1"), Condition::None)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert!(
            table
                .inner()
                .get(&Key::new("a", "1"))
                .await
                .unwrap()
                .is_none()
        );

        table
            .faults()
            .fail_always(&TableCall::ALL, Fault::Retryable);
        assert!(
            table
                .query(Query::partition(Index::Primary, "a"))
                .await
                .is_err()
        );
        table.faults().heal();
        assert!(
            table
                .query(Query::partition(Index::Primary, "a"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn random_faults_repeat_with_their_seed() {
        async fn outcomes(seed: u64) -> Vec<bool> {
            let table = FaultyTable::new(SqliteTable::in_memory().unwrap());
            table
                .faults()
                .fail_randomly(&[TableCall::Get], 0.5, seed, Fault::Retryable);
            let mut out = Vec::new();
            for _ in 0..40 {
                out.push(table.get(&Key::new("a", "1")).await.is_err());
            }
            out
        }
        let first = outcomes(3).await;
        assert_eq!(first, outcomes(3).await);
        let failed = first.iter().filter(|f| **f).count();
        assert!((8..=32).contains(&failed), "{failed} of 40");
    }

    #[tokio::test]
    async fn capped_pages_carry_cursors() {
        let table = FaultyTable::new(SqliteTable::in_memory().unwrap());
        for sk in ["1", "2", "3", "4", "5"] {
            table.put(item("p", sk), Condition::None).await.unwrap();
        }
        table.cap_pages(2);
        let first = table
            .query(Query::partition(Index::Primary, "p"))
            .await
            .unwrap();
        assert_eq!(first.items.len(), 2);
        assert!(first.cursor.is_some());
        let all = query_all(&table, Query::partition(Index::Primary, "p"))
            .await
            .unwrap();
        assert_eq!(all.len(), 5);
    }

    #[tokio::test]
    async fn faulty_blob_store_names_bucket_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = FaultyBlobStore::new(DiskBlobStore::new(dir.path()).unwrap());
        store.faults().fail_next(BlobCall::Put, 1, Fault::Retryable);
        let err = store
            .put("a/b", Bytes::from_static(b"x"), &BlobMeta::default())
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert!(err.to_string().contains("local/a/b"), "{err}");
        assert!(list_all(&store, "").await.unwrap().is_empty());
        store
            .put("a/b", Bytes::from_static(b"x"), &BlobMeta::default())
            .await
            .unwrap();
        assert_eq!(list_all(&store, "a/").await.unwrap(), ["a/b"]);
    }
}
