//! The table port on an SQLite file: DynamoDB's single-table semantics for `pantau run`.
//!
//! One SQL table holds every item, keyed by `(pk, sk)`, with the attributes SQL must see in
//! columns: the two GSIs' keys (NULL unless the item carries both keys of that index, which
//! makes the indexes sparse as in DynamoDB; the GSI indexes are partial, so an item outside an
//! index costs it nothing) and `expires_at`. Text compares with SQLite's BINARY collation,
//! which on UTF-8 is byte order, the order DynamoDB sorts string keys in.
//!
//! **The GSI indexes hold whole rows.** DynamoDB stores a copy of each item in an index that
//! projects `ALL` (the template's), so a page of a mission's or a country's items is one read
//! of adjacent entries. Pointer indexes here made it 50 lookups at random places in the file:
//! from a cold page cache at a million items, a feed took 8-9 ms at the median and up to 46 ms.
//! Both GSI indexes therefore carry every column (covering indexes), at ~20% more file each.
//! See docs/performance.md.
//!
//! **Stored form.** The `item` column holds the rest of the item (see [`encode`]): the
//! attributes already in columns are not repeated, and a rest of [`COMPRESS_FROM_BYTES`] or
//! more is deflated when that saves space. Reads put the item back together, so callers see
//! exactly what they wrote. Rows of files written before this form (the whole item as JSON
//! text) are still read.
//!
//! **Grouped commits** ([`SqliteTable::group_commits`]) are for bulk loads: writes share one
//! open transaction, committed every so many writes and by [`SqliteTable::commit`], instead of
//! one commit (and its WAL pages) per write; a group is committed early as soon as its dirty
//! pages fill the page cache and SQLite begins to spill them into the WAL mid-transaction (the
//! larger the store, the fewer writes that takes). Each write is still all-or-nothing (a
//! savepoint), and this connection reads its own writes, so the records written are the same;
//! only other processes see them later, and a crash loses the writes since the last commit.
//!
//! Every request is validated by the shared `rules` before it touches the file, so this
//! adapter refuses exactly what the DynamoDB adapter refuses. Conditional writes and
//! transactions run in `BEGIN IMMEDIATE` transactions, so a condition and its write are
//! atomic even with several processes on one file.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::table::{
    Condition, Cursor, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, Key, Page, Query,
    SortKeyRange, TTL, Table, TableError, TransactOp, Update, WriteOp, rules,
};

/// The table and its indexes. An index whose definition here changed is rebuilt on open
/// ([`drop_changed_indexes`], which reads the statements back by splitting at `;`).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk         TEXT NOT NULL,
    sk         TEXT NOT NULL,
    gsi1pk     TEXT,
    gsi1sk     TEXT,
    gsi2pk     TEXT,
    gsi2sk     TEXT,
    expires_at INTEGER,
    item       TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk, gsi2pk, gsi2sk, expires_at, item) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk, gsi1pk, gsi1sk, expires_at, item) WHERE gsi2pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
";

/// The stored rest of an item is deflated from this size up (smaller JSON barely shrinks).
const COMPRESS_FROM_BYTES: usize = 200;

/// miniz level: 1 is several times faster than the default 6 and within ~10% of its size on
/// item JSON.
const COMPRESSION_LEVEL: u8 = 1;

/// First byte of a stored rest (a BLOB): how the bytes after it are encoded.
const FORM_JSON: u8 = 0;
const FORM_DEFLATE: u8 = 1;

/// No stored item inflates beyond this (DynamoDB's item limit is 400 KB; the margin covers
/// items written through `put` with large attributes).
const MAX_INFLATED_BYTES: usize = 4 * 1024 * 1024;

/// Item JSON deflates about 3-5 times at level 1: the first output buffer is this many times
/// the deflated size, so most reads inflate without growing it.
const INFLATE_RATIO_GUESS: usize = 5;

/// The columns every read selects, in this order (see [`row_item`]).
const ROW_COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at, item";

/// The page size of a new file. Rows are stored in b-tree pages (`WITHOUT ROWID`), which keep
/// at most about a quarter of a page of a row and put the rest in overflow pages of its own:
/// with 4 KiB pages, a row over 1,002 bytes (an item's `CURRENT`, ~2 KB deflated, and about
/// half its versions) took a second page, three quarters empty, and a second read. With 16
/// KiB pages a row of up to 4,086 bytes stays whole in its leaf. An existing file keeps its
/// size; `VACUUM` after `PRAGMA page_size` (or `VACUUM INTO`) rewrites one with another.
const PAGE_BYTES: i64 = 16 * 1024;

/// [`PAGE_BYTES`], or `PANTAU_SQLITE_PAGE_BYTES` for a measurement against another size.
fn page_bytes() -> i64 {
    std::env::var("PANTAU_SQLITE_PAGE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PAGE_BYTES)
}

/// Expired rows are deleted on open and after every this many writes (reads hide them anyway).
const PURGE_EVERY_WRITES: u64 = 1000;

/// How long a writer waits for another process's lock on the file before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection: the fixed ones and every shape of query
/// (index × sort-key condition × limit × cursor) reconcile and the API use. Preparing a
/// statement costs about as much as running a small one.
const STATEMENT_CACHE: usize = 64;

/// SQLite's page cache, in KiB (negative `cache_size`): the default 2 MB holds little of the
/// indexes of a year of items; 64 MB keeps the hot pages of story and search partitions.
const PAGE_CACHE_KIB: i64 = 64 * 1024;

/// The page cache while writes are grouped (a bulk load): a group's dirty pages stay in
/// memory until its commit instead of spilling into the WAL, and the story and search
/// partitions a load keeps reading stay cached.
const BULK_PAGE_CACHE_KIB: i64 = 512 * 1024;

/// Bytes of the file read through a memory map instead of `read` calls (SQLite caps this at
/// its build's maximum, 2 GB): a page cache miss then costs a memory copy, not a system
/// call. Writes still go through the WAL.
const MMAP_BYTES: i64 = 2 * 1024 * 1024 * 1024;

/// The table port on one SQLite connection. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct SqliteTable {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    writes: AtomicU64,
    /// Grouped commits: commit every this many writes; 0 commits every write.
    group_writes: AtomicU64,
    /// Writes in the open grouped transaction.
    uncommitted: AtomicU64,
    /// Groups committed before their count because the page cache began to spill.
    spill_commits: AtomicU64,
}

impl Drop for Inner {
    /// A grouped transaction still open is committed, not rolled back with the connection.
    fn drop(&mut self) {
        let conn = self.conn.get_mut().unwrap_or_else(|p| p.into_inner());
        if !conn.is_autocommit()
            && let Err(e) = conn.execute_batch("COMMIT")
        {
            tracing::error!(error = %e, "sqlite: committing grouped writes on close failed");
        }
    }
}

impl SqliteTable {
    /// Opens (creating when missing) the table in the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<SqliteTable, TableError> {
        let opened = Connection::open(path).and_then(|conn| {
            // Only a new file takes it (an existing one keeps its page size: see PAGE_BYTES).
            conn.pragma_update(None, "page_size", page_bytes())?;
            // WAL lets readers in other processes (a `sqlite3` shell, a second `pantau`)
            // work while this one writes; NORMAL sync is durable enough with WAL.
            conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
                row.get::<_, String>(0)
            })?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            Ok(conn)
        });
        opened
            .map_err(sql_error("open"))
            .and_then(SqliteTable::init)
            .map_err(|e| match e {
                TableError::Backend {
                    op,
                    message,
                    retryable,
                } => TableError::Backend {
                    op,
                    message: format!("{}: {message}", path.display()),
                    retryable,
                },
                other => other,
            })
    }

    /// A table that lives as long as this value (for tests and throwaway runs).
    pub fn in_memory() -> Result<SqliteTable, TableError> {
        SqliteTable::init(Connection::open_in_memory().map_err(sql_error("open"))?)
    }

    fn init(conn: Connection) -> Result<SqliteTable, TableError> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_error("open"))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Plans that do not depend on bound values. Without this SQLite plans a `LIMIT ?` as
        // the constant it was bound to and marks the statement "prepare again on rebind": every
        // query with another limit or bounds was compiled anew, ~6% of a bulk load's time (story
        // grouping's entry queries). Every query here names its index's `IS NOT NULL` term
        // itself, so the partial indexes are still chosen (the query-plan tests check it).
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(sql_error("open"))?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
            .map_err(sql_error("open"))?;
        // An in-memory database has no file to map; SQLite ignores the pragma there.
        conn.query_row(&format!("PRAGMA mmap_size = {MMAP_BYTES}"), [], |_| Ok(()))
            .optional()
            .map_err(sql_error("open"))?;
        let changed = drop_changed_indexes(&conn).map_err(sql_error("open"))?;
        if !changed.is_empty() {
            tracing::info!(indexes = ?changed, "sqlite: rebuilding indexes whose definition changed (once)");
        }
        let started = Instant::now();
        conn.execute_batch(SCHEMA).map_err(sql_error("open"))?;
        if !changed.is_empty() {
            tracing::info!(indexes = ?changed, seconds = started.elapsed().as_secs_f64(), "sqlite: indexes rebuilt");
        }
        purge_expired(&conn, rules::now()).map_err(sql_error("open"))?;
        Ok(SqliteTable {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                writes: AtomicU64::new(0),
                group_writes: AtomicU64::new(0),
                uncommitted: AtomicU64::new(0),
                spill_commits: AtomicU64::new(0),
            }),
        })
    }

    /// Groups writes into transactions of `writes` writes each (a bulk load); 0 or 1 goes
    /// back to one commit per write, committing what is pending. See the module doc.
    pub async fn group_commits(&self, writes: u64) -> Result<(), TableError> {
        self.inner
            .group_writes
            .store(if writes > 1 { writes } else { 0 }, Ordering::Relaxed);
        if writes <= 1 {
            self.commit().await?;
        }
        let cache_kib = if writes > 1 {
            BULK_PAGE_CACHE_KIB
        } else {
            PAGE_CACHE_KIB
        };
        self.run("group_commits", move |conn| {
            cache_spilled(conn, true);
            conn.pragma_update(None, "cache_size", -cache_kib)
                .map_err(sql_error("group_commits"))
        })
        .await
    }

    /// Groups committed early, before their count of writes, because the group's dirty pages
    /// had filled the page cache (see `write`): how often a bulk load outgrows the cache.
    pub fn spill_commits(&self) -> u64 {
        self.inner.spill_commits.load(Ordering::Relaxed)
    }

    /// Commits the grouped writes pending, if any.
    pub async fn commit(&self) -> Result<(), TableError> {
        let this = self.clone();
        self.run("commit", move |conn| {
            if !conn.is_autocommit() {
                conn.execute_batch("COMMIT").map_err(sql_error("commit"))?;
            }
            this.inner.uncommitted.store(0, Ordering::Relaxed);
            cache_spilled(conn, true);
            Ok(())
        })
        .await
    }

    /// `batch_get` and `batch_get_some`: every key in one trip to the blocking pool (a get per
    /// key cost a thread hand-off each, and story grouping reads a few hundred candidates per
    /// item), keeping only the attributes in `only` when given.
    async fn batch_read(
        &self,
        keys: &[Key],
        only: Option<&'static [&'static str]>,
    ) -> Result<Vec<Option<Item>>, TableError> {
        for key in keys {
            rules::key(key)?;
        }
        let keys = keys.to_vec();
        self.run("batch_get", move |conn| {
            let now = rules::now();
            keys.iter()
                .map(|key| {
                    let stored = read_stored_of(conn, "batch_get", key, only)?;
                    Ok(stored.filter(|item| !rules::expired(item, now)))
                })
                .collect()
        })
        .await
    }

    /// Commits the grouped writes pending and empties the write-ahead log into the file (a
    /// bulk load's WAL holds a copy of every page it touched since the last checkpoint), so
    /// the file's size is the store's size.
    pub async fn checkpoint(&self) -> Result<(), TableError> {
        self.commit().await?;
        self.run("checkpoint", |conn| {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(sql_error("checkpoint"))
        })
        .await
    }

    /// Runs one write request (`work`) all-or-nothing: in its own `BEGIN IMMEDIATE`
    /// transaction, or, with grouped commits, in a savepoint of the open group transaction.
    fn write<T>(
        &self,
        conn: &mut Connection,
        op: &'static str,
        work: impl FnOnce(&Connection) -> Result<T, TableError>,
    ) -> Result<T, TableError> {
        let group = self.inner.group_writes.load(Ordering::Relaxed);
        if group == 0 {
            let tx = immediate(conn, op)?;
            let out = work(&tx)?;
            tx.commit().map_err(sql_error(op))?;
            self.wrote(conn);
            return Ok(out);
        }
        if conn.is_autocommit() {
            conn.execute_batch("BEGIN IMMEDIATE")
                .map_err(sql_error(op))?;
        }
        // Dropped on error: rolled back to where it started, the group's earlier writes kept.
        let savepoint = Savepoint::begin(conn).map_err(sql_error(op))?;
        let out = work(savepoint.conn)?;
        savepoint.release().map_err(sql_error(op))?;
        let full = self.inner.uncommitted.fetch_add(1, Ordering::Relaxed) + 1 >= group;
        // A group whose dirty pages filled the cache has begun writing them into the WAL
        // mid-transaction, and from then on every page read searches the WAL's frames (a
        // large store's group wrote 1.5 GB that way): commit now, not at the count.
        let spilling = cache_spilled(conn, false) > 0;
        if full || spilling {
            conn.execute_batch("COMMIT").map_err(sql_error(op))?;
            self.inner.uncommitted.store(0, Ordering::Relaxed);
            cache_spilled(conn, true);
            if !full {
                self.inner.spill_commits.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.wrote(conn);
        Ok(out)
    }

    /// Drops the grouped writes pending, as a killed process would lose them (SQLite's
    /// recovery ignores a transaction's uncommitted WAL frames): for tests of what a load
    /// stopped mid-way leaves behind.
    #[cfg(any(test, feature = "testing"))]
    pub async fn abandon(&self) -> Result<(), TableError> {
        let this = self.clone();
        self.run("abandon", move |conn| {
            if !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK")
                    .map_err(sql_error("abandon"))?;
            }
            this.inner.uncommitted.store(0, Ordering::Relaxed);
            Ok(())
        })
        .await
    }

    /// Every stored row, expired or not, ordered by `pk` then `sk`: compare two dumps to
    /// compare whole tables in tests.
    #[cfg(any(test, feature = "testing"))]
    pub async fn dump(&self) -> Result<Vec<Item>, TableError> {
        self.run("dump", |conn| {
            let mut stmt = conn
                .prepare(&format!("SELECT {ROW_COLUMNS} FROM items ORDER BY pk, sk"))
                .map_err(sql_error("dump"))?;
            let rows = stmt.query_map([], row_parts).map_err(sql_error("dump"))?;
            let mut items = Vec::new();
            for parts in rows {
                items.push(row_item("dump", parts.map_err(sql_error("dump"))?)?);
            }
            Ok(items)
        })
        .await
    }

    /// Runs blocking SQLite work off the async executor, holding the connection.
    async fn run<T: Send + 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce(&mut Connection) -> Result<T, TableError> + Send + 'static,
    ) -> Result<T, TableError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock left no open transaction behind (dropping a
            // rusqlite Transaction rolls it back), so the connection is still sound.
            let mut conn = inner.conn.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut conn)
        })
        .await
        .map_err(|e| TableError::Backend {
            op,
            message: format!("sqlite task failed: {e}"),
            retryable: false,
        })?
    }

    /// Counts a write and purges expired rows now and then.
    fn wrote(&self, conn: &Connection) {
        let n = self.inner.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(PURGE_EVERY_WRITES) {
            // Purging is housekeeping: a failure here must not fail the write that triggered it.
            let _ = purge_expired(conn, rules::now());
        }
    }
}

/// A savepoint of one grouped write, through cached statements: rusqlite's own savepoint
/// prepares its SQL on every use, a few percent of a bulk load. Rolled back when dropped
/// unreleased (an error or a panic in the write).
struct Savepoint<'c> {
    conn: &'c Connection,
    released: bool,
}

impl<'c> Savepoint<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Savepoint<'c>> {
        conn.prepare_cached("SAVEPOINT grouped_write")?
            .execute([])?;
        Ok(Savepoint {
            conn,
            released: false,
        })
    }

    /// Keeps the write; on failure the drop rolls it back.
    fn release(mut self) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("RELEASE grouped_write")?
            .execute([])?;
        self.released = true;
        Ok(())
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        for sql in ["ROLLBACK TO grouped_write", "RELEASE grouped_write"] {
            if let Err(e) = self
                .conn
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
            {
                tracing::error!(error = %e, sql, "sqlite: undoing a failed grouped write");
            }
        }
    }
}

/// Drops every index of [`SCHEMA`] whose definition in the file differs from the schema's
/// (the `SCHEMA` batch then builds it anew), and says which. Files from before the GSI
/// indexes were partial, and from before they covered their rows, are rebuilt once this way;
/// on a file of a million items that takes a minute or two.
fn drop_changed_indexes(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut changed = Vec::new();
    for statement in SCHEMA.split(';').map(str::trim) {
        let Some(rest) = statement.strip_prefix("CREATE INDEX IF NOT EXISTS ") else {
            continue;
        };
        let name = rest.split_whitespace().next().unwrap_or_default();
        // SQLite keeps the statement as written, without its `IF NOT EXISTS`.
        let wanted = format!("CREATE INDEX {rest}");
        let stored: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()?;
        if stored.is_some_and(|sql| sql != wanted) {
            // The name comes from SCHEMA, never from the file.
            conn.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
            changed.push(name.to_owned());
        }
    }
    Ok(changed)
}

fn purge_expired(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM items WHERE expires_at <= ?1", params![now])
}

fn sql_error(op: &'static str) -> impl Fn(rusqlite::Error) -> TableError {
    move |e| {
        let retryable = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        TableError::Backend {
            op,
            message: format!("sqlite: {e}"),
            retryable,
        }
    }
}

fn corrupt(op: &'static str, what: String) -> TableError {
    TableError::Backend {
        op,
        message: format!("stored item is unreadable: {what}"),
        retryable: false,
    }
}

/// The stored rest of an item: the item without what its row's columns hold (the keys; each
/// GSI's keys when both are there; `expires_at` when it is an integer), as JSON, deflated
/// from [`COMPRESS_FROM_BYTES`] up when that is smaller. [`row_item`] is its inverse.
fn encode(item: &Item, columns: &Columns) -> Result<Vec<u8>, TableError> {
    let mut rest = item.clone();
    rest.remove(super::table::PK);
    rest.remove(super::table::SK);
    if columns.gsi1.0.is_some() {
        rest.remove(GSI1_PK);
        rest.remove(GSI1_SK);
    }
    if columns.gsi2.0.is_some() {
        rest.remove(GSI2_PK);
        rest.remove(GSI2_SK);
    }
    if columns.ttl_exact {
        rest.remove(TTL);
    }
    let json = serde_json::to_vec(&rest).map_err(|e| TableError::Validation(e.to_string()))?;
    if json.len() >= COMPRESS_FROM_BYTES {
        let deflated = miniz_oxide::deflate::compress_to_vec(&json, COMPRESSION_LEVEL);
        if deflated.len() < json.len() {
            let mut out = Vec::with_capacity(deflated.len() + 1);
            out.push(FORM_DEFLATE);
            out.extend_from_slice(&deflated);
            return Ok(out);
        }
    }
    let mut out = Vec::with_capacity(json.len() + 1);
    out.push(FORM_JSON);
    out.extend_from_slice(&json);
    Ok(out)
}

/// One row as selected by [`ROW_COLUMNS`].
struct RowParts {
    pk: String,
    sk: String,
    gsi1: (Option<String>, Option<String>),
    gsi2: (Option<String>, Option<String>),
    expires_at: Option<i64>,
    stored: SqlValue,
}

fn row_parts(row: &rusqlite::Row<'_>) -> rusqlite::Result<RowParts> {
    Ok(RowParts {
        pk: row.get(0)?,
        sk: row.get(1)?,
        gsi1: (row.get(2)?, row.get(3)?),
        gsi2: (row.get(4)?, row.get(5)?),
        expires_at: row.get(6)?,
        stored: row.get(7)?,
    })
}

/// The item a row holds: its stored rest with the columns' attributes put back.
fn row_item(op: &'static str, row: RowParts) -> Result<Item, TableError> {
    row_item_of(op, row, None)
}

/// [`row_item`], keeping of the stored rest only the attributes in `only` (all when None);
/// the others are skipped while parsing, never built.
fn row_item_of(op: &'static str, row: RowParts, only: Option<&[&str]>) -> Result<Item, TableError> {
    let json = match row.stored {
        // A file from before the compact form: the whole item as JSON text.
        SqlValue::Text(text) => {
            return serde_json::from_str(&text).map_err(|e| corrupt(op, e.to_string()));
        }
        SqlValue::Blob(bytes) => match bytes.split_first() {
            Some((&FORM_JSON, json)) => json.to_vec(),
            Some((&FORM_DEFLATE, deflated)) => inflate(deflated).map_err(|e| corrupt(op, e))?,
            _ => return Err(corrupt(op, "unknown stored form".into())),
        },
        _ => return Err(corrupt(op, "neither text nor blob".into())),
    };
    let mut item: Item = match only {
        None => serde_json::from_slice(&json),
        Some(names) => {
            use serde::de::DeserializeSeed;
            let mut parser = serde_json::Deserializer::from_slice(&json);
            Only(names)
                .deserialize(&mut parser)
                .and_then(|item| parser.end().map(|()| item))
        }
    }
    .map_err(|e| corrupt(op, e.to_string()))?;
    let mut restore = |name: &str, value: Option<String>| {
        if let Some(v) = value
            && !item.contains_key(name)
        {
            item.insert(name.into(), Value::String(v));
        }
    };
    restore(super::table::PK, Some(row.pk));
    restore(super::table::SK, Some(row.sk));
    if let (Some(p), Some(s)) = row.gsi1 {
        restore(GSI1_PK, Some(p));
        restore(GSI1_SK, Some(s));
    }
    if let (Some(p), Some(s)) = row.gsi2 {
        restore(GSI2_PK, Some(p));
        restore(GSI2_SK, Some(s));
    }
    if let Some(t) = row.expires_at
        && !item.contains_key(TTL)
    {
        item.insert(TTL.into(), Value::from(t));
    }
    Ok(item)
}

/// Parses a stored rest (a JSON object) into the attributes it names (and `expires_at`, which
/// reads must see); the values of the others are scanned past, not built.
struct Only<'a>(&'a [&'a str]);

impl<'de> serde::de::DeserializeSeed<'de> for Only<'_> {
    type Value = Item;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Only<'_> {
    type Value = Item;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a stored item (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut item = Item::new();
        while let Some(name) = map.next_key::<String>()? {
            if name == TTL || self.0.contains(&name.as_str()) {
                let value = map.next_value::<Value>()?;
                item.insert(name, value);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(item)
    }
}

/// Inflates a stored rest. The decompressor's state (~11 KB of tables) is kept per thread and
/// the output is sized for item JSON's usual ratio at first: a fresh state and two regrowths
/// per read were a tenth of a bulk load's time, most of it in `malloc`.
fn inflate(deflated: &[u8]) -> Result<Vec<u8>, String> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
    thread_local! {
        static STATE: std::cell::RefCell<Box<DecompressorOxide>> =
            std::cell::RefCell::new(Box::default());
    }
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        state.init();
        // The whole output is one buffer, so back-references need no wrapping.
        let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let first = deflated.len().saturating_mul(INFLATE_RATIO_GUESS);
        let mut out = vec![0u8; first.clamp(256, MAX_INFLATED_BYTES)];
        let mut input = deflated;
        let mut written = 0;
        loop {
            let (status, consumed, produced) =
                decompress(&mut state, input, &mut out, written, flags);
            written += produced;
            match status {
                TINFLStatus::Done => {
                    out.truncate(written);
                    return Ok(out);
                }
                TINFLStatus::HasMoreOutput => {
                    input = input.get(consumed..).ok_or("inflating: input overrun")?;
                    if out.len() >= MAX_INFLATED_BYTES {
                        return Err(format!("inflates beyond {MAX_INFLATED_BYTES} bytes"));
                    }
                    let grown = out.len().saturating_mul(2).min(MAX_INFLATED_BYTES);
                    out.resize(grown, 0);
                }
                failed => return Err(format!("inflating: {failed:?}")),
            }
        }
    })
}

/// The stored item under `key`, expired or not.
fn read_stored(conn: &Connection, op: &'static str, key: &Key) -> Result<Option<Item>, TableError> {
    read_stored_of(conn, op, key, None)
}

/// [`read_stored`], keeping only the attributes in `only` (see [`row_item_of`]).
fn read_stored_of(
    conn: &Connection,
    op: &'static str,
    key: &Key,
    only: Option<&[&str]>,
) -> Result<Option<Item>, TableError> {
    let parts = conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2"
        ))
        .and_then(|mut stmt| {
            stmt.query_row(params![key.pk, key.sk], row_parts)
                .optional()
        })
        .map_err(sql_error(op))?;
    parts.map(|p| row_item_of(op, p, only)).transpose()
}

/// What reads and conditions see: an expired item is absent.
fn visible(stored: Option<&Item>, now: i64) -> Option<&Item> {
    stored.filter(|item| !rules::expired(item, now))
}

/// An index's two key values, both or neither: an item is in a GSI only with both keys.
fn index_keys(item: &Item, pk_name: &str, sk_name: &str) -> (Option<String>, Option<String>) {
    match (item.get(pk_name), item.get(sk_name)) {
        (Some(Value::String(p)), Some(Value::String(s))) => (Some(p.clone()), Some(s.clone())),
        _ => (None, None),
    }
}

/// What of an item its row keeps in columns.
struct Columns {
    gsi1: (Option<String>, Option<String>),
    gsi2: (Option<String>, Option<String>),
    /// Stored truncated, so `expires_at <= now` in SQL agrees with `rules::expired`.
    expires_at: Option<i64>,
    /// The column holds the attribute exactly (an integer), so the stored rest omits it.
    ttl_exact: bool,
}

impl Columns {
    fn of(item: &Item) -> Columns {
        let ttl = item.get(TTL);
        Columns {
            gsi1: index_keys(item, GSI1_PK, GSI1_SK),
            gsi2: index_keys(item, GSI2_PK, GSI2_SK),
            expires_at: ttl.and_then(Value::as_f64).map(|t| t as i64),
            ttl_exact: ttl.and_then(Value::as_i64).is_some(),
        }
    }
}

fn write_item(
    conn: &Connection,
    op: &'static str,
    key: &Key,
    item: &Item,
) -> Result<(), TableError> {
    let columns = Columns::of(item);
    let stored = encode(item, &columns)?;
    let Columns {
        gsi1: (g1pk, g1sk),
        gsi2: (g2pk, g2sk),
        expires_at,
        ..
    } = columns;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at, item)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            key.pk, key.sk, g1pk, g1sk, g2pk, g2sk, expires_at, stored
        ])
    })
    .map_err(sql_error(op))?;
    Ok(())
}

fn delete_row(conn: &Connection, op: &'static str, key: &Key) -> Result<(), TableError> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.execute(params![key.pk, key.sk]))
        .map_err(sql_error(op))?;
    Ok(())
}

/// Reads the item under `key` and checks `condition` against what reads would see.
/// Returns the stored item (an expired one too: an update applies to what is stored, as on
/// DynamoDB, which keeps expired items until it gets round to deleting them).
fn check(
    conn: &Connection,
    op: &'static str,
    key: &Key,
    condition: &Condition,
    now: i64,
) -> Result<Option<Item>, TableError> {
    let stored = read_stored(conn, op, key)?;
    if !rules::holds(condition, visible(stored.as_ref(), now)) {
        return Err(TableError::ConditionFailed { key: key.clone() });
    }
    Ok(stored)
}

/// Pages the page cache has written to the WAL in the middle of a transaction because it
/// was full (`SQLITE_DBSTATUS_CACHE_SPILL`), since the last reset; `reset` zeroes the count.
/// rusqlite has no wrapper for `sqlite3_db_status`.
fn cache_spilled(conn: &Connection, reset: bool) -> i64 {
    let (mut current, mut highwater) = (0, 0);
    // SAFETY: the handle belongs to this open connection, which the caller holds (no other
    // thread uses it meanwhile), and both out-pointers outlive the call.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_status(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_CACHE_SPILL,
            &mut current,
            &mut highwater,
            i32::from(reset),
        )
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        i64::from(current)
    } else {
        0
    }
}

fn immediate<'c>(
    conn: &'c mut Connection,
    op: &'static str,
) -> Result<rusqlite::Transaction<'c>, TableError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error(op))
}

/// The SQL `WHERE` terms, `ORDER BY` and arguments of a query (limit excluded).
fn query_sql(query: &Query, cursor: Option<&Item>, now: i64) -> (String, Vec<SqlValue>) {
    // Column names are the attribute names, from constants (never from input).
    let (ipk, isk) = query.index.key_names();
    let mut args: Vec<SqlValue> = Vec::new();
    let mut bind = |v: &str| {
        args.push(SqlValue::Text(v.to_owned()));
        format!("?{}", args.len())
    };
    let mut terms = vec![
        format!("{ipk} = {}", bind(&query.partition)),
        format!("{isk} IS NOT NULL"),
    ];
    match &query.range {
        SortKeyRange::All => {}
        SortKeyRange::Eq(v) => terms.push(format!("{isk} = {}", bind(v))),
        SortKeyRange::BeginsWith(p) => {
            // The lower bound lets SQLite seek in the index; substr/length count characters
            // on both sides, so the equality is an exact prefix test.
            let p = bind(p);
            terms.push(format!(
                "{isk} >= {p} AND substr({isk}, 1, length({p})) = {p}"
            ));
        }
        SortKeyRange::Between(lo, hi) => {
            terms.push(format!("{isk} BETWEEN {} AND {}", bind(lo), bind(hi)))
        }
        SortKeyRange::Lt(v) => terms.push(format!("{isk} < {}", bind(v))),
        SortKeyRange::Le(v) => terms.push(format!("{isk} <= {}", bind(v))),
        SortKeyRange::Gt(v) => terms.push(format!("{isk} > {}", bind(v))),
        SortKeyRange::Ge(v) => terms.push(format!("{isk} >= {}", bind(v))),
    }
    // Items sort by the index sort key. On a GSI, ties are broken by the table key (DynamoDB
    // leaves their order undefined; moto uses the same tie-break), so a cursor — the last
    // item's full position — resumes strictly after it. On the table itself `sk` is unique.
    let (op, dir) = if query.forward {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let order = match query.index {
        Index::Primary => format!("sk {dir}"),
        Index::Gsi1 | Index::Gsi2 => format!("{isk} {dir}, pk {dir}, sk {dir}"),
    };
    if let Some(c) = cursor {
        let text = |name: &str| c.get(name).and_then(Value::as_str).unwrap_or_default();
        let after = match query.index {
            Index::Primary => format!("sk {op} {}", bind(text("sk"))),
            Index::Gsi1 | Index::Gsi2 => {
                let (a, b, d) = (bind(text(isk)), bind(text("pk")), bind(text("sk")));
                format!("({isk}, pk, sk) {op} ({a}, {b}, {d})")
            }
        };
        terms.push(after);
    }
    args.push(SqlValue::Integer(now));
    terms.push(format!(
        "(expires_at IS NULL OR expires_at > ?{})",
        args.len()
    ));
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM items WHERE {} ORDER BY {order}",
        terms.join(" AND ")
    );
    (sql, args)
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        rules::key(key)?;
        let key = key.clone();
        self.run("get", move |conn| {
            let stored = read_stored(conn, "get", &key)?;
            Ok(stored.filter(|item| !rules::expired(item, rules::now())))
        })
        .await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.batch_read(keys, None).await
    }

    /// Skips, while decoding, the attributes not asked for: a feed page's `CURRENT` records
    /// are mostly enrichment it does not show.
    async fn batch_get_some(
        &self,
        keys: &[Key],
        attrs: &'static [&'static str],
    ) -> Result<Vec<Option<Item>>, TableError> {
        self.batch_read(keys, Some(attrs)).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        let key = rules::item(&item)?;
        let this = self.clone();
        self.run("put", move |conn| {
            this.write(conn, "put", |tx| {
                if condition != Condition::None {
                    check(tx, "put", &key, &condition, rules::now())?;
                }
                write_item(tx, "put", &key, &item)
            })
        })
        .await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        rules::key(key)?;
        rules::update(&update)?;
        let key = key.clone();
        let this = self.clone();
        self.run("update", move |conn| {
            this.write(conn, "update", |tx| {
                let stored = check(tx, "update", &key, &condition, rules::now())?;
                let new = rules::apply(&key, stored, &update)?;
                rules::item(&new)?;
                write_item(tx, "update", &key, &new)?;
                Ok(new)
            })
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        rules::key(key)?;
        let key = key.clone();
        let this = self.clone();
        self.run("delete", move |conn| {
            this.write(conn, "delete", |tx| {
                if condition != Condition::None {
                    check(tx, "delete", &key, &condition, rules::now())?;
                }
                delete_row(tx, "delete", &key)
            })
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        let (limit, cursor) = rules::query(&query)?;
        self.run("query", move |conn| {
            let (mut sql, mut args) = query_sql(&query, cursor.as_ref(), rules::now());
            if let Some(n) = limit {
                // One row more than the page tells whether anything follows it.
                args.push(SqlValue::Integer(n as i64 + 1));
                sql.push_str(&format!(" LIMIT ?{}", args.len()));
            }
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_error("query"))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), row_parts)
                .map_err(sql_error("query"))?;
            let mut items = Vec::new();
            for parts in rows {
                items.push(row_item("query", parts.map_err(sql_error("query"))?)?);
            }
            let mut page = Page {
                items,
                cursor: None,
            };
            if let Some(n) = limit
                && page.items.len() > n
            {
                page.items.truncate(n);
                page.cursor = page
                    .items
                    .last()
                    .map(|it| Cursor::for_item(query.index, it));
            }
            Ok(page)
        })
        .await
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        rules::batch(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let this = self.clone();
        self.run("batch_write", move |conn| {
            this.write(conn, "batch_write", |tx| {
                for op in &ops {
                    match op {
                        WriteOp::Put(item) => write_item(tx, "batch_write", &Key::of(item)?, item)?,
                        WriteOp::Delete(key) => delete_row(tx, "batch_write", key)?,
                    }
                }
                Ok(())
            })
        })
        .await
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        rules::transaction(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let this = self.clone();
        self.run("transact_write", move |conn| {
            const OP: &str = "transact_write";
            this.write(conn, OP, |tx| {
                let now = rules::now();
                // Like DynamoDB, every operation is checked and each gets a reason code, so the
                // caller learns which ones failed; then all are written or none.
                let mut reasons = Vec::with_capacity(ops.len());
                // Per key: the item to write, or None to delete it.
                let mut writes: Vec<(Key, Option<Item>)> = Vec::with_capacity(ops.len());
                for op in &ops {
                    let key = op.key()?;
                    let outcome = match op {
                        TransactOp::Put { item, condition } => {
                            check(tx, OP, &key, condition, now).map(|_| Some(Some(item.clone())))
                        }
                        TransactOp::Delete { condition, .. } => {
                            check(tx, OP, &key, condition, now).map(|_| Some(None))
                        }
                        TransactOp::Check { condition, .. } => {
                            check(tx, OP, &key, condition, now).map(|_| None)
                        }
                        TransactOp::Update {
                            update, condition, ..
                        } => check(tx, OP, &key, condition, now).and_then(|stored| {
                            let new = rules::apply(&key, stored, update)?;
                            rules::item(&new)?;
                            Ok(Some(Some(new)))
                        }),
                    };
                    match outcome {
                        Ok(write) => {
                            reasons.push("None".to_owned());
                            writes.extend(write.map(|w| (key, w)));
                        }
                        Err(TableError::ConditionFailed { .. }) => {
                            reasons.push("ConditionalCheckFailed".to_owned())
                        }
                        Err(TableError::Validation(_)) => {
                            reasons.push("ValidationError".to_owned())
                        }
                        Err(e) => return Err(e),
                    }
                }
                if reasons.iter().any(|r| r != "None") {
                    return Err(TableError::TransactionCanceled { reasons });
                }
                for (key, write) in &writes {
                    match write {
                        Some(item) => write_item(tx, OP, key, item)?,
                        None => delete_row(tx, OP, key)?,
                    }
                }
                Ok(())
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test items are objects"),
        }
    }

    /// `batch_get_some` gives each item's asked attributes as `batch_get` has them, with the
    /// keys (columns) and the expiry, and nothing else; in order, None for a key with no item
    /// or an expired one; stored deflated or not.
    #[tokio::test]
    async fn a_batch_get_of_some_attributes_keeps_those_and_the_keys() {
        let table = SqliteTable::in_memory().unwrap();
        let long = "kata ".repeat(200);
        let records = [
            json!({"pk": "a", "sk": "1", "gsi1pk": "G", "gsi1sk": "x", "title": "t", "body": long,
                   "enrichment": "{\"fingerprint\": [1, 2]}", "n": 3, "nested": {"x": [1, "y"]}}),
            json!({"pk": "b", "sk": "1", "title": "kecil", "other": false, "expires_at": 4_000_000_000u64}),
            json!({"pk": "c", "sk": "1", "title": "basi", "expires_at": 1}),
        ];
        for r in records {
            table.put(item(r), Condition::None).await.unwrap();
        }
        let keys = [
            Key::new("a", "1"),
            Key::new("zz", "9"),
            Key::new("b", "1"),
            Key::new("c", "1"),
        ];
        let whole = table.batch_get(&keys).await.unwrap();
        let some = table
            .batch_get_some(&keys, &["title", "body", "n", "missing"])
            .await
            .unwrap();
        assert_eq!(some.len(), 4);
        assert!(some[1].is_none() && some[3].is_none(), "{some:?}");
        let kept =
            |i: usize| -> Vec<String> { some[i].as_ref().unwrap().keys().cloned().collect() };
        assert_eq!(
            kept(0),
            ["body", "gsi1pk", "gsi1sk", "n", "pk", "sk", "title"]
        );
        assert_eq!(kept(2), ["expires_at", "pk", "sk", "title"]);
        for i in [0, 2] {
            let (whole, some) = (whole[i].as_ref().unwrap(), some[i].as_ref().unwrap());
            for (name, value) in some {
                assert_eq!(whole.get(name), Some(value), "{name}");
            }
        }
    }

    #[tokio::test]
    async fn file_survives_reopen_and_purges_expired_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.sqlite");
        {
            let t = SqliteTable::open(&path).unwrap();
            t.put(item(json!({"pk": "a", "sk": "1", "n": 1})), Condition::None)
                .await
                .unwrap();
            t.put(
                item(json!({"pk": "a", "sk": "2", "expires_at": 1})),
                Condition::None,
            )
            .await
            .unwrap();
        }
        let t = SqliteTable::open(&path).unwrap();
        let got = t.get(&Key::new("a", "1")).await.unwrap().unwrap();
        assert_eq!(got.get("n"), Some(&json!(1)));
        let rows: i64 = t
            .run("test", |c| {
                c.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
                    .map_err(sql_error("test"))
            })
            .await
            .unwrap();
        assert_eq!(rows, 1, "the expired row is purged on open");
    }

    /// Every attribute comes back as written, whichever of them the row keeps in columns
    /// and whether the rest is deflated; old rows (whole JSON text) still read.
    #[tokio::test]
    async fn stored_form_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.sqlite");
        let t = SqliteTable::open(&path).unwrap();
        let long = "kata ".repeat(400);
        let items = [
            json!({"pk": "p", "sk": "small", "n": 1}),
            json!({"pk": "p", "sk": "gsi", "gsi1pk": "G", "gsi1sk": "1", "gsi2pk": "H",
                   "gsi2sk": "2", "body": long, "nested": {"a": [1, 2.5, null, true]}}),
            // Only one key of an index: not in it, both attributes kept as written.
            json!({"pk": "p", "sk": "half", "gsi1pk": "G", "gsi2sk": "x"}),
            json!({"pk": "p", "sk": "ttl-int", "expires_at": 4_000_000_000_i64}),
            json!({"pk": "p", "sk": "ttl-float", "expires_at": 4_000_000_000.5}),
        ];
        for i in &items {
            t.put(item(i.clone()), Condition::None).await.unwrap();
        }
        let dumped = t.dump().await.unwrap();
        let mut want: Vec<Item> = items.iter().cloned().map(item).collect();
        want.sort_by(|a, b| a["sk"].as_str().cmp(&b["sk"].as_str()));
        assert_eq!(dumped, want);
        let big: Vec<u8> = t
            .run("test", |c| {
                c.query_row("SELECT item FROM items WHERE sk = 'gsi'", [], |r| r.get(0))
                    .map_err(sql_error("test"))
            })
            .await
            .unwrap();
        assert_eq!(big[0], FORM_DEFLATE);
        assert!(
            big.len() < long.len() / 4,
            "deflated to {} bytes",
            big.len()
        );
        let page = t.query(Query::partition(Index::Gsi1, "G")).await.unwrap();
        assert_eq!(
            page.items,
            vec![want[0].clone()],
            "only the item with both keys"
        );

        // A row as files before the compact form stored it.
        let old = json!({"pk": "p", "sk": "old", "gsi1pk": "G", "gsi1sk": "0", "v": "x"});
        let text = old.to_string();
        t.run("test", move |c| {
            c.execute(
                "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, item) VALUES ('p', 'old', 'G', '0', ?1)",
                params![text],
            )
            .map_err(sql_error("test"))
        })
        .await
        .unwrap();
        assert_eq!(
            t.get(&Key::new("p", "old")).await.unwrap(),
            Some(item(old.clone()))
        );
        let page = t.query(Query::partition(Index::Gsi1, "G")).await.unwrap();
        assert_eq!(page.items[0], item(old));
    }

    /// A file whose GSI indexes held every row gets them rebuilt partial, one whose GSI1 was a
    /// pointer index gets it rebuilt covering, and queries use them and read the same rows.
    #[tokio::test]
    async fn indexes_of_an_older_definition_are_rebuilt() {
        let old_schemas = [
            SCHEMA
                .replace(" WHERE gsi1pk IS NOT NULL", "")
                .replace(" WHERE gsi2pk IS NOT NULL", ""),
            SCHEMA
                .replace(", gsi2pk, gsi2sk, expires_at, item)", ")")
                .replace(", gsi1pk, gsi1sk, expires_at, item)", ")"),
        ];
        for old_schema in old_schemas {
            assert_ne!(old_schema, SCHEMA);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("table.sqlite");
            {
                let t = SqliteTable::open(&path).unwrap();
                t.run("test", move |c| {
                    c.execute_batch("DROP INDEX items_gsi1; DROP INDEX items_gsi2;")
                        .and_then(|()| c.execute_batch(&old_schema))
                        .map_err(sql_error("test"))
                })
                .await
                .unwrap();
                for i in 0..3 {
                    let record = json!({"pk": format!("p{i}"), "sk": "s", "gsi1pk": "G",
                        "gsi1sk": format!("{i}"), "gsi2pk": "H", "gsi2sk": "x", "body": "b".repeat(300)});
                    t.put(item(record), Condition::None).await.unwrap();
                }
            }
            let t = SqliteTable::open(&path).unwrap();
            let sql: Vec<String> = t
                .run("test", |c| {
                    let mut stmt = c
                        .prepare("SELECT sql FROM sqlite_master WHERE name IN ('items_gsi1', 'items_gsi2') ORDER BY name")
                        .map_err(sql_error("test"))?;
                    let rows = stmt
                        .query_map([], |r| r.get::<_, String>(0))
                        .map_err(sql_error("test"))?;
                    Ok(rows.filter_map(Result::ok).collect())
                })
                .await
                .unwrap();
            assert_eq!(sql.len(), 2);
            assert!(sql.iter().all(|s| s.contains("WHERE")), "{sql:?}");
            assert!(
                sql.iter().all(|s| s.contains("expires_at, item)")),
                "{sql:?}"
            );
            let page = t
                .query(Query::partition(Index::Gsi1, "G").backward())
                .await
                .unwrap();
            let sks: Vec<&str> = page
                .items
                .iter()
                .map(|i| i["gsi1sk"].as_str().unwrap())
                .collect();
            assert_eq!(sks, ["2", "1", "0"]);
            assert_eq!(page.items[0]["body"], json!("b".repeat(300)));
            let page = t.query(Query::partition(Index::Gsi2, "H")).await.unwrap();
            assert_eq!(page.items.len(), 3);
            // Opening again rebuilds nothing.
            let again = t
                .run("test", |c| {
                    drop_changed_indexes(c).map_err(sql_error("test"))
                })
                .await;
            assert_eq!(again.unwrap(), Vec::<String>::new());
        }
    }

    /// Letters that deflate little (~4.7 bits each), as the stored form compresses: a linear
    /// congruential generator's.
    fn undeflatable_text(state: &mut u64, letters: usize) -> String {
        (0..letters)
            .map(|_| {
                *state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                char::from(b'a' + (*state >> 59) as u8 % 26)
            })
            .collect()
    }

    /// A new file gets 16 KiB pages, where an item's `CURRENT` (~2 KB stored) stays whole in
    /// its leaf: 4 KiB pages put it in two, the second three quarters empty. A file made with
    /// 4 KiB pages keeps them and still reads and writes.
    #[tokio::test]
    async fn new_files_get_pages_that_hold_a_current_whole() {
        let dir = tempfile::tempdir().unwrap();
        // Rows of ~2 KB as stored, as a deflated `CURRENT` is.
        let rows = |t: SqliteTable| async move {
            let mut state = 1u64;
            for i in 0..300u64 {
                let text = undeflatable_text(&mut state, 3300);
                let record =
                    item(json!({"pk": format!("ITEM#{i:04}"), "sk": "CURRENT", "t": text}));
                t.put(record, Condition::None).await.unwrap();
            }
            let stat = |sql: &'static str| {
                let t = t.clone();
                async move {
                    t.run("test", move |c| {
                        c.query_row(sql, [], |r| r.get::<_, i64>(0))
                            .map_err(sql_error("test"))
                    })
                    .await
                    .unwrap()
                }
            };
            let page = stat("PRAGMA page_size").await;
            let pages = stat("PRAGMA page_count").await;
            let got = t
                .get(&Key::new("ITEM#0299", "CURRENT"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(got["t"].as_str().map(str::len), Some(3300));
            (page, page * pages)
        };
        let (page, bytes) = rows(SqliteTable::open(&dir.path().join("new.sqlite")).unwrap()).await;
        assert_eq!(page, PAGE_BYTES);

        let old = dir.path().join("old.sqlite");
        Connection::open(&old)
            .unwrap()
            .execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
            .unwrap();
        let (old_page, old_bytes) = rows(SqliteTable::open(&old).unwrap()).await;
        assert_eq!(old_page, 4096, "an existing file keeps its page size");
        // 300 rows of ~2 KB: a 4 KiB page holds the first KB of one and an overflow page the
        // rest of another; 16 KiB pages hold seven whole.
        assert!(
            bytes * 3 < old_bytes * 2,
            "16 KiB pages: {bytes} bytes; 4 KiB: {old_bytes}"
        );
    }

    /// A file is read through a memory map; a bulk load (grouped commits) gets the larger page
    /// cache, and gives it back when it ends.
    #[tokio::test]
    async fn files_are_mapped_and_bulk_loads_get_the_larger_cache() {
        let dir = tempfile::tempdir().unwrap();
        let t = SqliteTable::open(&dir.path().join("table.sqlite")).unwrap();
        let pragma = |name: &'static str| {
            let t = t.clone();
            async move {
                t.run("test", move |conn| {
                    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0))
                        .map_err(sql_error("test"))
                })
                .await
                .unwrap()
            }
        };
        assert!(pragma("mmap_size").await > 0);
        assert_eq!(pragma("cache_size").await, -PAGE_CACHE_KIB);
        t.group_commits(1000).await.unwrap();
        assert_eq!(pragma("cache_size").await, -BULK_PAGE_CACHE_KIB);
        t.group_commits(0).await.unwrap();
        assert_eq!(pragma("cache_size").await, -PAGE_CACHE_KIB);
    }

    /// Grouped commits: the connection reads its own writes at once, a failed write leaves
    /// the group's earlier ones, and what is pending is committed on close.
    #[tokio::test]
    async fn grouped_commits_keep_each_write_atomic_and_commit_on_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.sqlite");
        {
            let t = SqliteTable::open(&path).unwrap();
            t.group_commits(1000).await.unwrap();
            t.put(item(json!({"pk": "a", "sk": "1"})), Condition::None)
                .await
                .unwrap();
            assert!(t.get(&Key::new("a", "1")).await.unwrap().is_some());
            // Fails on its second operation's condition: nothing of it is written.
            let failed = t
                .transact_write(vec![
                    TransactOp::Put {
                        item: item(json!({"pk": "a", "sk": "2"})),
                        condition: Condition::None,
                    },
                    TransactOp::Put {
                        item: item(json!({"pk": "a", "sk": "1"})),
                        condition: Condition::Absent,
                    },
                ])
                .await;
            assert!(matches!(
                failed,
                Err(TableError::TransactionCanceled { .. })
            ));
            assert!(t.get(&Key::new("a", "2")).await.unwrap().is_none());
            // Another process sees nothing yet.
            let other = Connection::open(&path).unwrap();
            let seen: i64 = other
                .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
                .unwrap();
            assert_eq!(seen, 0, "grouped writes are not committed yet");
            t.put(item(json!({"pk": "a", "sk": "3"})), Condition::Absent)
                .await
                .unwrap();
        }
        let t = SqliteTable::open(&path).unwrap();
        let keys: Vec<String> = t
            .dump()
            .await
            .unwrap()
            .iter()
            .map(|i| i["sk"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(keys, ["1", "3"]);
    }

    /// A group whose dirty pages outgrow the page cache is committed at once, before its
    /// count of writes: the cache no longer spills into the WAL for the rest of the group.
    #[tokio::test]
    async fn a_group_that_fills_the_cache_commits_early() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.sqlite");
        let t = SqliteTable::open(&path).unwrap();
        t.group_commits(1_000_000).await.unwrap();
        // A cache of 10 pages (160 KB at 16 KiB) for a group of 200 writes of ~1.8 KB each
        // as stored (~360 KB).
        t.run("test", |conn| {
            conn.pragma_update(None, "cache_size", 10)
                .map_err(sql_error("test"))
        })
        .await
        .unwrap();
        let mut state = 1u64;
        let mut text = || undeflatable_text(&mut state, 3000);
        for n in 0..200 {
            let row = item(json!({"pk": format!("p{n}"), "sk": "1", "text": text()}));
            t.put(row, Condition::None).await.unwrap();
        }
        assert!(t.spill_commits() > 0, "no group was committed early");
        // Another process sees the groups committed so far without any `commit` call.
        let other = Connection::open(&path).unwrap();
        let seen: i64 = other
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap();
        assert!(seen > 0 && seen <= 200, "{seen} rows committed");
        t.commit().await.unwrap();
        assert_eq!(t.dump().await.unwrap().len(), 200);
    }

    #[test]
    fn open_failure_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/table.sqlite");
        match SqliteTable::open(&path) {
            Err(e @ TableError::Backend { .. }) => {
                assert!(e.to_string().contains("no/such/dir"), "{e}")
            }
            Err(other) => panic!("expected Backend, got {other:?}"),
            Ok(_) => panic!("opened a file in a missing directory"),
        }
    }

    #[tokio::test]
    async fn primary_query_needs_no_sort() {
        let t = SqliteTable::in_memory().unwrap();
        let q = Query::partition(Index::Primary, "p").backward();
        let (sql, _) = query_sql(&q, None, 0);
        let plan: Vec<String> = t
            .run("test", move |c| {
                let mut stmt = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .map_err(sql_error("test"))?;
                let rows = stmt
                    .query_map(params!["p", 0], |r| r.get::<_, String>(3))
                    .map_err(sql_error("test"))?;
                Ok(rows.filter_map(Result::ok).collect())
            })
            .await
            .unwrap();
        assert!(
            !plan.iter().any(|l| l.contains("TEMP B-TREE")),
            "plan: {plan:?}"
        );
    }

    #[tokio::test]
    async fn gsi_queries_read_their_covering_index() {
        for (index, name) in [(Index::Gsi1, "items_gsi1"), (Index::Gsi2, "items_gsi2")] {
            gsi_query_reads(index, name).await;
        }
    }

    async fn gsi_query_reads(index: Index, name: &str) {
        let t = SqliteTable::in_memory().unwrap();
        let q = Query::partition(index, "p").limit(10);
        let (sql, _) = query_sql(&q, None, 0);
        let plan: Vec<String> = t
            .run("test", move |c| {
                let mut stmt = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .map_err(sql_error("test"))?;
                let rows = stmt
                    .query_map(params!["p", 0], |r| r.get::<_, String>(3))
                    .map_err(sql_error("test"))?;
                Ok(rows.filter_map(Result::ok).collect())
            })
            .await
            .unwrap();
        // Covering: the rows come from the index, not from 50 lookups in the table.
        assert!(
            plan.iter()
                .any(|l| l.contains(&format!("COVERING INDEX {name}"))),
            "plan: {plan:?}"
        );
        assert!(
            !plan.iter().any(|l| l.contains("TEMP B-TREE")),
            "plan: {plan:?}"
        );
    }

    /// Story grouping runs the same range queries thousands of times a minute, each with its
    /// own bounds and limit: each must be planned once and use its index.
    #[tokio::test]
    async fn range_queries_are_planned_once_and_use_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let t = SqliteTable::open(&dir.path().join("table.sqlite")).unwrap();
        for i in 0..20 {
            t.put(
                item(json!({"pk": "p", "sk": format!("{i:02}"), "gsi1pk": "g", "gsi1sk": format!("2026-{i:02}")})),
                Condition::None,
            )
            .await
            .unwrap();
        }
        // A query of each shape for a round, and the index it must use.
        type Shape = (fn(usize) -> Query, &'static str);
        let shapes: [Shape; 3] = [
            (
                |n| {
                    Query::partition(Index::Primary, "p")
                        .range(SortKeyRange::Between(format!("{n:02}"), "15".into()))
                        .backward()
                        .limit(n + 2)
                },
                "PRIMARY",
            ),
            (
                |n| {
                    Query::partition(Index::Primary, "p")
                        .range(SortKeyRange::BeginsWith(n.to_string()))
                },
                "PRIMARY",
            ),
            (
                |n| {
                    Query::partition(Index::Gsi1, "g")
                        .range(SortKeyRange::Ge(format!("2026-{n:02}")))
                        .backward()
                        .limit(n + 1)
                },
                "items_gsi1",
            ),
        ];
        for (shape, index) in shapes {
            for n in 0..5 {
                t.query(shape(n)).await.unwrap();
            }
            // The statement `query` ran, as its cache holds it (the limit's placeholder too).
            let (mut sql, mut args) = query_sql(&shape(0), None, 0);
            if let Some(limit) = shape(0).limit {
                args.push(SqlValue::Integer(limit as i64 + 1));
                sql.push_str(&format!(" LIMIT ?{}", args.len()));
            }
            let (plan, replans) = t
                .run("test", move |c| {
                    let plan: Vec<String> = c
                        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .and_then(|mut stmt| {
                            stmt.query_map(rusqlite::params_from_iter(args), |r| {
                                r.get::<_, String>(3)
                            })?
                            .collect()
                        })
                        .map_err(sql_error("test"))?;
                    let stmt = c.prepare_cached(&sql).map_err(sql_error("test"))?;
                    Ok((plan, stmt.get_status(rusqlite::StatementStatus::RePrepare)))
                })
                .await
                .unwrap();
            assert!(
                plan.iter().any(|l| l.contains(index)),
                "{index}: plan {plan:?}"
            );
            assert!(
                !plan.iter().any(|l| l.contains("TEMP B-TREE")),
                "plan: {plan:?}"
            );
            assert_eq!(replans, 0, "{:?} was prepared again on rebinding", shape(0));
        }
    }
}
