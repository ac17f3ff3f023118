//! The two ports the domain stores through, and their adapters.
//!
//! The domain never calls an AWS SDK: it holds an `Arc<dyn BlobStore>` and an
//! `Arc<dyn Table>`. Each port has a cloud adapter (S3, DynamoDB) and an embedded one (a
//! folder, an SQLite file) that behave the same way; one conformance suite
//! per port (`tests/tests/{blob,table}_conformance.rs`, bodies in `tests/src/conformance/`)
//! runs the same test bodies on all of them.

pub mod blob;
pub mod contention;
pub mod disk;
pub mod dynamo;
pub mod s3;
pub mod sqlite;
pub mod table;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use blob::{Blob, BlobError, BlobInfo, BlobMeta, BlobStore, ListPage};
pub use table::{
    Condition, Cursor, Index, Item, Key, Page, Query, SortKeyRange, Table, TableError, TransactOp,
    Update, WriteOp,
};
