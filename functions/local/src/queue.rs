//! The in-process stand-in for S3 notifications and SQS: a blob store wrapper that announces
//! every new `raw/` or `items/` object, and queue workers that hand the announcements to the
//! stage handlers as real SQS event JSON, redeliver what a handler reports as failed, and
//! dead-letter what keeps failing.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use futures::future::BoxFuture;
use pantau::events::{s3_put_notification, sqs_event};
use pantau::keys::{ITEMS_PREFIX, RAW_PREFIX};
use pantau::store::{Blob, BlobError, BlobInfo, BlobMeta, BlobStore, ListPage};
use serde_json::Value;
use tokio::sync::mpsc;

/// As on AWS: after this many deliveries a message goes to the dead-letter file.
const MAX_RECEIVES: u32 = 5;
/// SQS hands a Lambda at most 10 messages per batch.
const BATCH: usize = 10;

/// One queued S3 notification.
#[derive(Debug, Clone)]
pub struct Message {
    id: String,
    body: Value,
    receives: u32,
}

#[derive(Clone)]
pub struct Queue {
    name: &'static str,
    tx: mpsc::UnboundedSender<Message>,
    next_id: Arc<AtomicU64>,
    /// Messages sent and not yet handled (or dead-lettered), retries included.
    pending: Arc<AtomicUsize>,
    /// Messages handled for good, and dead-lettered, since start.
    handled: Arc<AtomicUsize>,
    dead: Arc<AtomicUsize>,
}

impl Queue {
    pub fn new(name: &'static str) -> (Queue, mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = Queue {
            name,
            tx,
            next_id: Arc::new(AtomicU64::new(1)),
            pending: Arc::new(AtomicUsize::new(0)),
            handled: Arc::new(AtomicUsize::new(0)),
            dead: Arc::new(AtomicUsize::new(0)),
        };
        (queue, rx)
    }

    fn send_notification(&self, bucket: &str, key: &str, size: u64) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let message = Message {
            id: format!("{}-{n}", self.name),
            body: s3_put_notification(bucket, key, size, chrono::Utc::now()),
            receives: 0,
        };
        self.pending.fetch_add(1, Ordering::SeqCst);
        // The receiver lives as long as the process; a closed queue means shutdown.
        let _ = self.tx.send(message);
    }

    /// How many messages are waiting or being handled.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// How many messages were handled, and how many dead-lettered, since start.
    pub fn totals(&self) -> (usize, usize) {
        (
            self.handled.load(Ordering::SeqCst),
            self.dead.load(Ordering::SeqCst),
        )
    }
}

/// Announces new objects the way S3 event notifications do: `raw/` to one queue, `items/` and
/// `hq/` (headquarters' files, imported by the same function) to the other.
pub struct NotifyingBlobStore {
    pub inner: Arc<dyn BlobStore>,
    pub raw: Queue,
    pub items: Queue,
}

#[async_trait]
impl BlobStore for NotifyingBlobStore {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }

    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError> {
        let size = body.len() as u64;
        self.inner.put(key, body, meta).await?;
        if key.starts_with(RAW_PREFIX) {
            self.raw.send_notification(self.bucket(), key, size);
        } else if key.starts_with(ITEMS_PREFIX) || key.starts_with(pantau::hq::trigger::HQ_PREFIX) {
            self.items.send_notification(self.bucket(), key, size);
        }
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        self.inner.get(key).await
    }

    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError> {
        self.inner.head(key).await
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError> {
        self.inner.list(prefix, after, limit).await
    }
}

/// A stage handler as the queue sees it: an SQS batch in, the failures out.
pub type Handler = Arc<dyn Fn(SqsEvent) -> BoxFuture<'static, SqsBatchResponse> + Send + Sync>;

/// Delivers batches to `handler` until the queue closes. Failed messages come back after
/// a delay that grows with each try; after MAX_RECEIVES they are appended to `dead_letters`.
pub async fn work(
    queue: Queue,
    mut rx: mpsc::UnboundedReceiver<Message>,
    handler: Handler,
    dead_letters: PathBuf,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        for m in &mut batch {
            m.receives += 1;
        }
        let event = sqs_event(batch.iter().map(|m| (m.id.clone(), m.body.clone())));
        let response = handler(event).await;
        // `settled`: handled for good; `requeued`: coming back after a delay.
        let mut settled = batch.len();
        let mut requeued = 0;
        for failure in response.batch_item_failures {
            let Some(message) = batch
                .iter()
                .find(|m| m.id == failure.item_identifier)
                .cloned()
            else {
                tracing::warn!(queue = queue.name, id = %failure.item_identifier, "handler reported an unknown message id");
                continue;
            };
            if message.receives >= MAX_RECEIVES {
                tracing::error!(queue = queue.name, id = %message.id, "dead-lettered after {MAX_RECEIVES} deliveries");
                dead_letter(&dead_letters, queue.name, &message);
                queue.dead.fetch_add(1, Ordering::SeqCst);
                settled -= 1;
                continue;
            }
            settled -= 1;
            requeued += 1;
            let tx = queue.tx.clone();
            let delay = Duration::from_secs(2u64.pow(message.receives));
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = tx.send(message);
            });
        }
        queue.handled.fetch_add(settled, Ordering::SeqCst);
        queue
            .pending
            .fetch_sub(batch.len() - requeued, Ordering::SeqCst);
    }
}

fn dead_letter(path: &PathBuf, queue: &str, message: &Message) {
    use std::io::Write;
    let line = serde_json::json!({
        "queue": queue,
        "message_id": message.id,
        "receives": message.receives,
        "body": message.body,
        "at": chrono::Utc::now(),
    });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        tracing::error!(path = %path.display(), error = %e, "could not write dead letter");
    }
}
