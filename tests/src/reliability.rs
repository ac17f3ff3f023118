//! What the reliability tests share: the report line they print, and full dumps of a table
//! and a bucket to compare a faulty run with a clean one.
//!
//! Every `reliability_*` test prints one line per thing it tried:
//!
//! ```text
//! RELIABILITY<TAB>area<TAB>what was tried<TAB>how many<TAB>outcome
//! ```
//!
//! `make reliability` (scripts/reliability.py) runs those tests and gathers the lines into
//! `docs/reliability.md`, so the table there is exactly what the tests printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use pantau::keys::items_key_for;
use pantau::normalize::Normalizer;
use pantau::reconcile::{Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::store::disk::DiskBlobStore;
use pantau::store::dynamo::DynamoTable;
use pantau::store::s3::S3BlobStore;
use pantau::store::sqlite::SqliteTable;
use pantau::store::{BlobMeta, BlobStore, Item, Table};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::pipeline::{Delivery, DeliveryStats, World, deliver_to_dead_letters};

/// Prints one report line (tabs and newlines inside a field become spaces, so the line
/// stays one row of five fields).
pub fn report(area: &str, tried: &str, how_many: impl std::fmt::Display, outcome: &str) {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    println!(
        "RELIABILITY\t{}\t{}\t{}\t{}",
        clean(area),
        clean(tried),
        clean(&how_many.to_string()),
        clean(outcome)
    );
}

/// A table's or a bucket's whole content, keyed for comparison.
pub type Dump = BTreeMap<String, Value>;

/// Attributes that legitimately differ between two runs of the same events, masked before
/// comparing (only their presence is compared):
/// - `expires_at`: a TTL set from the wall clock at write time (search postings live a fixed
///   number of days after they are written), so two runs a second apart differ;
/// - `next_due_at`: a source's next fetch, drawn with ±10% random jitter so that sources of
///   one cadence spread out (`scrape::jitter`).
const NONDETERMINISTIC_ATTRIBUTES: [&str; 2] = [pantau::store::table::TTL, "next_due_at"];

/// A story membership's `reason` and `linked_to` name the link it was grouped by: the
/// smallest linked item present when it arrived, which `reconcile::story` documents as
/// order-dependent (the membership itself, the story id, is not).
const STORY_ORDER_DEPENDENT: [&str; 2] = ["reason", "linked_to"];

fn masked(mut item: Item) -> Item {
    for name in NONDETERMINISTIC_ATTRIBUTES {
        if let Some(v) = item.get_mut(name) {
            *v = Value::from("<masked>");
        }
    }
    let membership = item
        .get("pk")
        .and_then(Value::as_str)
        .is_some_and(|pk| pk.starts_with("STORY#"));
    if membership {
        for name in STORY_ORDER_DEPENDENT {
            if let Some(v) = item.get_mut(name) {
                *v = Value::from("<order-dependent>");
            }
        }
    }
    item
}

/// Record families of crises (`crate::crises`): compared like the rest (they are a function
/// of the set of signals, not of their arrival order), and reported on a line of their own.
pub const CRISIS_FAMILIES: [&str; 4] = ["CRISIS", "CRISIS_HEAD", "CRISIS_EVENT", "CSIG"];

/// Splits a table dump into (records outside `families`, records in them), by the partition
/// key's prefix before its first `#`.
pub fn split_families(dump: &Dump, families: &[&str]) -> (Dump, Dump) {
    dump.iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| !families.contains(&k.split('#').next().unwrap_or("")))
}

fn table_dump(items: impl IntoIterator<Item = Item>) -> Dump {
    items
        .into_iter()
        .map(|item| {
            let key = format!(
                "{}|{}",
                item.get("pk").and_then(Value::as_str).unwrap_or(""),
                item.get("sk").and_then(Value::as_str).unwrap_or("")
            );
            (key, Value::Object(masked(item)))
        })
        .collect()
}

/// Every record of an SQLite table, every attribute.
pub async fn dump_sqlite(table: &SqliteTable) -> anyhow::Result<Dump> {
    Ok(table_dump(table.dump().await?))
}

/// Every record of a DynamoDB table (a full scan), every attribute.
pub async fn dump_dynamo(
    client: &aws_sdk_dynamodb::Client,
    table_name: &str,
) -> anyhow::Result<Dump> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table_name)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .with_context(|| format!("scanning {table_name}"))?;
        for attrs in page.items() {
            items.push(pantau::store::dynamo::from_attrs(attrs)?);
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(table_dump(items)),
        }
    }
}

/// Every object of a bucket: its body's SHA-256, size, content type and metadata.
pub async fn dump_bucket(blobs: &dyn BlobStore) -> anyhow::Result<Dump> {
    let mut out = Dump::new();
    for key in list_all(blobs, "").await? {
        let blob = blobs
            .get(&key)
            .await?
            .with_context(|| format!("{key} listed but missing"))?;
        out.insert(
            key,
            serde_json::json!({
                "sha256": hex(&Sha256::digest(&blob.body)),
                "size": blob.body.len(),
                "content_type": blob.meta.content_type,
                "metadata": blob.meta.metadata,
            }),
        );
    }
    Ok(out)
}

/// Every key under `prefix`, all pages.
pub async fn list_all(blobs: &dyn BlobStore, prefix: &str) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = blobs.list(prefix, after.as_deref(), 1000).await?;
        keys.extend(page.keys);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(keys),
        }
    }
}

/// Delivers the keys' events; what reaches the dead-letter queue is redriven once (moved back
/// to the queue, as `aws sqs start-message-move-task` does, and delivered with the same
/// receive limit). Fails when a message dead-letters again. `stats.dead_letters` keeps what
/// the first pass dead-lettered.
async fn redriving<F, Fut>(
    bucket: &str,
    keys: &[String],
    delivery: Delivery,
    handler: F,
) -> anyhow::Result<DeliveryStats>
where
    F: Fn(aws_lambda_events::event::sqs::SqsEvent) -> Fut,
    Fut: std::future::Future<Output = aws_lambda_events::event::sqs::SqsBatchResponse>,
{
    let mut stats = deliver_to_dead_letters(bucket, keys, delivery, &handler).await;
    if !stats.dead_letters.is_empty() {
        let again =
            deliver_to_dead_letters(bucket, &stats.dead_letters, Delivery::Once, &handler).await;
        anyhow::ensure!(
            again.dead_letters.is_empty(),
            "{} message(s) dead-lettered again after a redrive: {:?}",
            again.dead_letters.len(),
            again.dead_letters
        );
        stats.redriven += stats.dead_letters.len();
        stats.invocations += again.invocations;
        stats.redelivered += again.redelivered;
    }
    Ok(stats)
}

/// Copies these objects (body and metadata) from one store to another.
pub async fn copy_keys(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    keys: &[String],
) -> anyhow::Result<()> {
    for key in keys {
        let blob = from
            .get(key)
            .await?
            .with_context(|| format!("{key} listed but missing"))?;
        let meta = BlobMeta {
            content_type: blob.meta.content_type.clone(),
            metadata: blob.meta.metadata.clone(),
        };
        to.put(key, blob.body, &meta).await?;
    }
    Ok(())
}

/// `Ok` when the dumps are equal; otherwise an error naming what is missing, extra and
/// different (the first few of each).
pub fn same_dump(what: &str, clean: &Dump, other: &Dump) -> anyhow::Result<()> {
    let missing: Vec<&String> = clean.keys().filter(|k| !other.contains_key(*k)).collect();
    let extra: Vec<&String> = other.keys().filter(|k| !clean.contains_key(*k)).collect();
    let changed: Vec<&String> = clean
        .iter()
        .filter(|(k, v)| other.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k)
        .collect();
    if missing.is_empty() && extra.is_empty() && changed.is_empty() {
        return Ok(());
    }
    // Which record families differ (the partition key's prefix: ITEM, STORY, CRISIS...).
    let mut families = BTreeMap::<&str, usize>::new();
    for k in missing.iter().chain(&extra).chain(&changed) {
        let family = k.split(['#', '|']).next().unwrap_or("");
        *families.entry(family).or_default() += 1;
    }
    // The first few differences in full, on lines of their own (a report line takes only
    // the first line of the error).
    let mut details = String::new();
    for k in changed.iter().take(4) {
        details.push_str(&format!(
            "\n {k}:\n  clean: {}\n  other: {}",
            clean[*k], other[*k]
        ));
    }
    for k in missing.iter().take(2) {
        details.push_str(&format!("\n missing {k}: {}", clean[*k]));
    }
    for k in extra.iter().take(2) {
        details.push_str(&format!("\n extra {k}: {}", other[*k]));
    }
    anyhow::bail!(
        "{what}: {} records clean, {} other; differing by family {families:?}; {} missing {:?}, {} extra {:?}, {} different {:?}{details}",
        clean.len(),
        other.len(),
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        extra.len(),
        extra.iter().take(5).collect::<Vec<_>>(),
        changed.len(),
        changed.iter().take(5).collect::<Vec<_>>(),
    )
}

/// One scrape of the offline world (the [`crate::pipeline::MISSIONS`]) into a folder: the
/// raw objects every run below starts from, so all runs see the same fetches.
pub struct Scraped {
    pub world: World,
    pub raw_keys: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Scraped {
    pub async fn new() -> anyhow::Result<Scraped> {
        let dir = tempfile::tempdir()?;
        let blobs = Arc::new(DiskBlobStore::new(dir.path().join("bucket"))?);
        let world = World::new(blobs, Arc::new(SqliteTable::in_memory()?)).await?;
        let report = world.scrape(chrono::Utc::now()).await?;
        anyhow::ensure!(!report.written.is_empty(), "the scrape wrote nothing");
        let raw_keys = list_all(world.blobs.as_ref(), pantau::keys::RAW_PREFIX).await?;
        Ok(Scraped {
            world,
            raw_keys,
            _dir: dir,
        })
    }

    /// Keeps only the raw objects of these owners (missions, `hq`, `global`): a smaller world
    /// for the slower stores.
    pub fn retain_owners(&mut self, owners: &[&str]) {
        self.raw_keys.retain(|k| {
            pantau::keys::mission_and_source(k).is_some_and(|(owner, _)| owners.contains(&owner))
        });
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.world.registry.clone()
    }
}

/// Where a run's table lives, to dump it whole.
pub enum TableHandle {
    Sqlite(Arc<SqliteTable>),
    Dynamo {
        client: aws_sdk_dynamodb::Client,
        name: String,
    },
}

/// A fresh bucket and table fed the scraped raw objects through normalize and reconcile.
pub struct Run {
    pub blobs: Arc<dyn BlobStore>,
    pub table: Arc<dyn Table>,
    /// The same table reached directly (not through a fault-injecting proxy), for the dump.
    pub dump_table: TableHandle,
    /// The same table and bucket reached directly.
    pub direct_table: Arc<dyn Table>,
    pub dump_blobs: Arc<dyn BlobStore>,
}

impl Run {
    /// A folder and an SQLite file under `dir/name`.
    pub fn embedded(dir: &Path, name: &str) -> anyhow::Result<Run> {
        let root = dir.join(name);
        let blobs: Arc<dyn BlobStore> = Arc::new(DiskBlobStore::new(root.join("bucket"))?);
        let table = Arc::new(SqliteTable::open(&root.join("pantau.sqlite"))?);
        Ok(Run {
            blobs: blobs.clone(),
            table: table.clone(),
            direct_table: table.clone(),
            dump_table: TableHandle::Sqlite(table),
            dump_blobs: blobs,
        })
    }

    /// A bucket and a table named `pantau-{name}` on moto, used through `endpoint` (moto
    /// itself or a proxy in front of it; SDK retries on a short clock, see
    /// [`crate::moto::sdk_config_with_quick_retries`]) and dumped through `direct` (moto).
    pub async fn aws(endpoint: &str, direct: &str, name: &str) -> anyhow::Result<Run> {
        let name = format!("pantau-{name}");
        let direct_blobs = S3BlobStore::new(crate::moto::s3_client_for(direct).await, &name);
        direct_blobs.create_bucket_if_missing().await?;
        let direct_dynamo =
            aws_sdk_dynamodb::Client::new(&crate::moto::sdk_config_for(direct).await);
        let direct_table = DynamoTable::new(direct_dynamo.clone(), &name);
        direct_table.create_table_if_missing().await?;
        let (s3, dynamo) = crate::moto::clients_with_quick_retries(endpoint).await;
        let blobs = S3BlobStore::new(s3, &name);
        Ok(Run {
            blobs: Arc::new(blobs),
            table: Arc::new(DynamoTable::new(dynamo, &name)),
            direct_table: Arc::new(direct_table),
            dump_table: TableHandle::Dynamo {
                client: direct_dynamo,
                name,
            },
            dump_blobs: Arc::new(direct_blobs),
        })
    }

    /// Copies the raw objects in (as the scraper's writes), syncs the registry, then delivers
    /// every raw object's event to normalize and every items object's event to reconcile.
    pub async fn feed(
        &self,
        scraped: &Scraped,
        delivery: Delivery,
    ) -> anyhow::Result<DeliveryStats> {
        copy_keys(
            scraped.world.blobs.as_ref(),
            self.dump_blobs.as_ref(),
            &scraped.raw_keys,
        )
        .await?;
        let registry = scraped.registry();
        sync_registry(self.direct_table.as_ref(), &registry).await?;
        let bucket = self.blobs.bucket().to_owned();
        let normalizer = Normalizer {
            blobs: self.blobs.clone(),
            registry: registry.clone(),
        };
        let mut stats = redriving(&bucket, &scraped.raw_keys, delivery, |e| {
            normalizer.handle(e)
        })
        .await?;
        let items_keys: Vec<String> = scraped
            .raw_keys
            .iter()
            .filter_map(|k| items_key_for(k))
            .collect();
        let reconciler = Reconciler {
            blobs: self.blobs.clone(),
            table: self.table.clone(),
            registry,
        };
        stats += redriving(&bucket, &items_keys, delivery, |e| reconciler.handle(e)).await?;
        Ok(stats)
    }

    /// Full dumps of the table and the bucket.
    pub async fn dumps(&self) -> anyhow::Result<(Dump, Dump)> {
        let table = match &self.dump_table {
            TableHandle::Sqlite(t) => dump_sqlite(t).await?,
            TableHandle::Dynamo { client, name } => dump_dynamo(client, name).await?,
        };
        Ok((table, dump_bucket(self.dump_blobs.as_ref()).await?))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Peak and current resident memory of this process in kB (`VmHWM`, `VmRSS` from
/// /proc/self/status); zeros where /proc is absent.
pub fn memory_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_differ_by_record_and_ignore_only_masked_attributes() {
        let item = |v: i64, ttl: i64| {
            let Value::Object(m) =
                serde_json::json!({"pk": "P", "sk": "S", "v": v, "expires_at": ttl})
            else {
                unreachable!()
            };
            m
        };
        let a = table_dump([item(1, 100)]);
        assert!(same_dump("t", &a, &table_dump([item(1, 200)])).is_ok());
        let err = same_dump("t", &a, &table_dump([item(2, 100)])).unwrap_err();
        assert!(err.to_string().contains("1 different"), "{err}");
        let err = same_dump("t", &a, &Dump::new()).unwrap_err();
        assert!(err.to_string().contains("1 missing"), "{err}");
    }
}
