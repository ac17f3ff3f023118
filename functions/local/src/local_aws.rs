//! `pantau local-aws`: the deployed architecture on loopback. S3, SQS and DynamoDB are served
//! by moto (started here from `.venv`, or an endpoint given with `--endpoint`); the bucket
//! notifies the two queues as the template configures it (`raw/` → normalize, `items/` and `hq/` →
//! reconcile); two pollers play Lambda's SQS event source mapping, handing each received
//! batch as an `SqsEvent` to the same `Normalizer::handle` / `Reconciler::handle` the Lambdas
//! run, deleting what succeeded and leaving the reported failures for redelivery.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use clap::Args;
use pantau::api::{ApiConfig, ApiState, router};
use pantau::keys::{ITEMS_PREFIX, RAW_PREFIX};
use pantau::offline::{self, OfflineServer};
use pantau::reconcile::sync_registry;
use pantau::registry::Registry;
use pantau::store::dynamo::DynamoTable;
use pantau::store::s3::S3BlobStore;
use pantau::store::{BlobStore, Table};
use serde_json::{Value, json};

use crate::queue::Handler;

/// Region and account moto answers for; any value works, these match moto's defaults.
const REGION: &str = "us-east-1";
/// Local queues hand a failed message out again after this long. Short, so a `--once` run
/// sees redeliveries, and long enough for a batch on moto to finish first.
const VISIBILITY_TIMEOUT_SECONDS: u32 = 30;
/// As in the template: after this many deliveries a message moves to the dead-letter queue.
const MAX_RECEIVES: u32 = 5;
/// How long `--once` waits for the queues to drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

#[derive(Args, Debug)]
pub struct LocalAwsArgs {
    /// An S3/SQS/DynamoDB endpoint already running (a moto server); started from
    /// --moto-server when omitted.
    #[arg(long, env = "PANTAU_AWS_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The moto server executable to start when no --endpoint is given.
    #[arg(
        long,
        env = "PANTAU_MOTO_SERVER",
        default_value = ".venv/bin/moto_server"
    )]
    pub moto_server: PathBuf,
    /// Bucket name (created when missing).
    #[arg(long, default_value = "pantau-local")]
    pub bucket: String,
    /// Table name (created when missing).
    #[arg(long, default_value = "pantau-local")]
    pub table: String,
    /// Address of the API and dashboard.
    #[arg(long, env = "PANTAU_LISTEN", default_value_t = crate::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// A registry file instead of the built-in one.
    #[arg(long, env = "PANTAU_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Fetch the real sources (needs network) instead of the recorded ones on loopback.
    #[arg(long)]
    pub live: bool,
    /// Seconds between scheduler ticks.
    #[arg(long, default_value_t = 30)]
    pub tick_seconds: u64,
    /// Run one scrape cycle, drain both queues, print a summary and exit.
    #[arg(long)]
    pub once: bool,
}

pub async fn run(args: LocalAwsArgs) -> anyhow::Result<()> {
    init_logging();
    let mut registry = match &args.registry {
        Some(path) => Registry::load_file(path)?,
        None => Registry::load_default()?,
    };
    // ReliefWeb when PANTAU_RELIEFWEB_APPNAME is set (offline, it is dropped: not recorded).
    registry.add_configured_sources();
    let mut _offline: Option<OfflineServer> = None;
    if !args.live {
        let server = OfflineServer::start_loopback()
            .await
            .context("starting the offline source server")?;
        offline::point_registry_at(&mut registry, server.base_url());
        offline::retain_served_sources(&mut registry, server.base_url());
        println!("recorded sources served at {}", server.base_url());
        _offline = Some(server);
    }
    let registry = Arc::new(registry);

    // Kept alive until the end of `run`: dropping it stops the server.
    let mut _moto: Option<MotoProcess> = None;
    let endpoint = match &args.endpoint {
        Some(endpoint) => endpoint.clone(),
        None => {
            let moto = MotoProcess::start(&args.moto_server)?;
            let endpoint = moto.endpoint.clone();
            _moto = Some(moto);
            endpoint
        }
    };
    println!("AWS services (moto): {endpoint}");
    let aws = LocalAws::connect(&endpoint).await;
    let stack = aws.create_stack(&args.bucket, &args.table).await?;
    println!(
        "bucket {} notifies {} (raw/) and {} (items/, hq/); table {}",
        args.bucket, stack.normalize.name, stack.reconcile.name, args.table
    );

    let blobs: Arc<dyn BlobStore> = Arc::new(S3BlobStore::new(aws.s3.clone(), &args.bucket));
    let table: Arc<dyn Table> = Arc::new(DynamoTable::new(aws.dynamodb.clone(), &args.table));
    let missions = sync_registry(table.as_ref(), &registry).await?;
    println!(
        "{missions} missions, {} sources",
        registry.sources().count()
    );

    let (normalize, reconcile) = crate::pipeline::stage_handlers(&blobs, &table, &registry);
    let pollers = [
        Arc::new(Poller::new(&aws, stack.normalize, normalize)),
        Arc::new(Poller::new(&aws, stack.reconcile, reconcile)),
    ];
    for poller in &pollers {
        tokio::spawn(poller.clone().run());
    }

    let contact_url = std::env::var(pantau::fetch::CONTACT_URL_ENV).ok();
    let scraper = crate::pipeline::scraper(
        &registry,
        &blobs,
        &table,
        !args.live,
        contact_url.as_deref(),
    )?;

    if args.once {
        let report = scraper.run_cycle(chrono::Utc::now()).await;
        crate::pipeline::print_cycle(&report);
        let drained = drain(&pollers).await?;
        print_summary(blobs.as_ref(), table.as_ref(), &registry, &pollers).await?;
        if !drained {
            bail!(
                "the queues did not drain within {} s",
                DRAIN_LIMIT.as_secs()
            );
        }
        return Ok(());
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let state = ApiState::new(table.clone(), registry.clone(), &ApiConfig::from_env()?)
        .await
        .context("preparing the API")?;
    crate::keys::first_start_key(table.as_ref()).await?;
    let app = router(state);
    println!("API and dashboard: http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let scheduler = async {
        let mut interval = tokio::time::interval(Duration::from_secs(args.tick_seconds.max(1)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let report = scraper.run_cycle(chrono::Utc::now()).await;
            if report.due > 0 {
                crate::pipeline::print_cycle(&report);
            }
            if !report.written.is_empty() {
                if let Err(e) = drain(&pollers).await {
                    tracing::warn!(error = %e, "could not read the queues' depth");
                }
                print_handled(&pollers);
            }
        }
    };
    tokio::select! {
        _ = scheduler => {}
        result = server => { result??; bail!("the API server stopped") }
        _ = tokio::signal::ctrl_c() => println!("stopping"),
    }
    Ok(())
}

/// A moto server this process started on a free loopback port; stopped when dropped.
struct MotoProcess {
    child: Child,
    endpoint: String,
}

impl MotoProcess {
    fn start(binary: &std::path::Path) -> anyhow::Result<MotoProcess> {
        if !binary.exists() {
            bail!(
                "moto_server not found at {} (run `make test-setup`, or give --endpoint of a running one)",
                binary.display()
            );
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Process::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut moto = MotoProcess {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = moto.child.try_wait()? {
                bail!("moto_server exited at start: {status}");
            }
            if Instant::now() > deadline {
                bail!("moto_server did not listen on {addr} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }
}

impl Drop for MotoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SDK clients for the local endpoint, with moto's test credentials.
struct LocalAws {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

/// One queue of the stack.
struct QueueRef {
    name: String,
    url: String,
    arn: String,
    dead_letter_url: String,
}

struct Stack {
    normalize: QueueRef,
    reconcile: QueueRef,
}

impl LocalAws {
    async fn connect(endpoint: &str) -> LocalAws {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "pantau-local-aws",
            ))
            .load()
            .await;
        // moto serves every bucket on one host: path-style addressing.
        let s3_conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build();
        LocalAws {
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        }
    }

    /// What infra/template.yaml declares, as far as the pipeline sees it: bucket, table, two
    /// queues with dead-letter queues, and the bucket's notifications. Safe to run again.
    async fn create_stack(&self, bucket: &str, table: &str) -> anyhow::Result<Stack> {
        S3BlobStore::new(self.s3.clone(), bucket)
            .create_bucket_if_missing()
            .await?;
        DynamoTable::new(self.dynamodb.clone(), table)
            .create_table_if_missing()
            .await?;
        let normalize = self
            .create_queue(&format!("{bucket}-normalize"), VISIBILITY_TIMEOUT_SECONDS)
            .await?;
        let reconcile = self
            .create_queue(&format!("{bucket}-reconcile"), VISIBILITY_TIMEOUT_SECONDS)
            .await?;
        let notify = |queue: &QueueRef, prefix: &str| {
            QueueConfiguration::builder()
                .id(format!(
                    "{}-to-{}",
                    prefix.trim_end_matches('/'),
                    queue.name
                ))
                .queue_arn(&queue.arn)
                .events(Event::S3ObjectCreated)
                .filter(
                    NotificationConfigurationFilter::builder()
                        .key(
                            S3KeyFilter::builder()
                                .filter_rules(
                                    FilterRule::builder()
                                        .name(FilterRuleName::Prefix)
                                        .value(prefix)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        };
        self.s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .queue_configurations(notify(&normalize, RAW_PREFIX)?)
                    .queue_configurations(notify(&reconcile, ITEMS_PREFIX)?)
                    // Headquarters' files, imported by the reconcile handler (pantau::hq).
                    .queue_configurations(notify(&reconcile, pantau::hq::trigger::HQ_PREFIX)?)
                    .build(),
            )
            .send()
            .await
            .with_context(|| format!("configuring notifications on bucket {bucket}"))?;
        Ok(Stack {
            normalize,
            reconcile,
        })
    }

    /// A queue with its dead-letter queue (`{name}-dlq`) and redrive after MAX_RECEIVES; a
    /// received message not deleted comes back after `visibility_timeout` seconds.
    async fn create_queue(&self, name: &str, visibility_timeout: u32) -> anyhow::Result<QueueRef> {
        let dlq_name = format!("{name}-dlq");
        let dlq_url = self.queue_url(&dlq_name, &[]).await?;
        let dlq_arn = self.queue_arn(&dlq_url).await?;
        let redrive =
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}).to_string();
        let url = self
            .queue_url(
                name,
                &[
                    (
                        QueueAttributeName::VisibilityTimeout,
                        visibility_timeout.to_string(),
                    ),
                    (QueueAttributeName::RedrivePolicy, redrive),
                ],
            )
            .await?;
        let arn = self.queue_arn(&url).await?;
        Ok(QueueRef {
            name: name.to_owned(),
            url,
            arn,
            dead_letter_url: dlq_url,
        })
    }

    async fn queue_url(
        &self,
        name: &str,
        attributes: &[(QueueAttributeName, String)],
    ) -> anyhow::Result<String> {
        let mut request = self.sqs.create_queue().queue_name(name);
        for (attribute, value) in attributes {
            request = request.attributes(attribute.clone(), value);
        }
        let created = request
            .send()
            .await
            .with_context(|| format!("creating queue {name}"))?;
        created
            .queue_url
            .with_context(|| format!("queue {name} has no URL"))
    }

    async fn queue_arn(&self, url: &str) -> anyhow::Result<String> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .with_context(|| format!("reading the ARN of {url}"))?;
        attributes
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .with_context(|| format!("queue {url} has no ARN"))
    }
}

/// Lambda's SQS event source mapping for one queue: receive a batch, hand it to the handler
/// as an `SqsEvent`, delete the messages that did not fail.
struct Poller {
    sqs: aws_sdk_sqs::Client,
    queue: QueueRef,
    handler: Handler,
    /// Messages handled and deleted.
    handled: AtomicUsize,
    /// Deliveries the handler reported as failed (each comes back after the visibility
    /// timeout, up to MAX_RECEIVES times).
    failed: AtomicUsize,
}

impl Poller {
    fn new(aws: &LocalAws, queue: QueueRef, handler: Handler) -> Poller {
        Poller {
            sqs: aws.sqs.clone(),
            queue,
            handler,
            handled: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    async fn run(self: Arc<Self>) {
        loop {
            if let Err(e) = self.poll(5).await {
                tracing::warn!(queue = %self.queue.name, error = %format!("{e:#}"), "polling failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// One long poll of at most `wait_seconds` and the batch it returns; the number received.
    async fn poll(&self, wait_seconds: i32) -> anyhow::Result<usize> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .with_context(|| format!("receiving from {}", self.queue.name))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        let event = sqs_event_from(&messages, &self.queue.arn)?;
        let response = (self.handler)(event).await;
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let mut done = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            if failed.contains(message.message_id().unwrap_or_default()) {
                continue;
            }
            done.push(
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .build()?,
            );
        }
        let deleted = done.len();
        if !done.is_empty() {
            let outcome = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue.url)
                .set_entries(Some(done))
                .send()
                .await
                .with_context(|| format!("deleting handled messages from {}", self.queue.name))?;
            for failure in outcome.failed() {
                tracing::warn!(queue = %self.queue.name, id = failure.id(), "could not delete a handled message; it will be handled again");
            }
        }
        self.handled.fetch_add(deleted, Ordering::SeqCst);
        self.failed
            .fetch_add(messages.len() - deleted, Ordering::SeqCst);
        Ok(messages.len())
    }

    /// Messages waiting plus messages received and not yet deleted (in flight, or failed and
    /// waiting out their visibility timeout).
    async fn depth(&self) -> anyhow::Result<usize> {
        queue_depth(&self.sqs, &self.queue.url).await
    }

    /// Messages moved to the dead-letter queue after MAX_RECEIVES failed deliveries.
    async fn dead_letters(&self) -> anyhow::Result<usize> {
        queue_depth(&self.sqs, &self.queue.dead_letter_url).await
    }
}

/// Messages waiting plus messages received and not yet deleted.
async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<usize> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .with_context(|| format!("reading the depth of {url}"))?
        .attributes
        .unwrap_or_default();
    Ok(attributes
        .values()
        .filter_map(|v| v.parse::<usize>().ok())
        .sum())
}

/// The event Lambda builds from a ReceiveMessage batch (the documented SQS event shape).
fn sqs_event_from(
    messages: &[aws_sdk_sqs::types::Message],
    queue_arn: &str,
) -> anyhow::Result<SqsEvent> {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.as_str().to_owned(), Value::from(value.as_str())))
                .collect();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "md5OfBody": m.md5_of_body(),
                "attributes": attributes,
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).context("building the SQS event")
}

/// Waits until both queues are empty: every raw object normalized, every items object
/// reconciled or dead-lettered. False when DRAIN_LIMIT passed first.
async fn drain(pollers: &[Arc<Poller>]) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut empty_checks = 0;
    while started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(500)).await;
        // In flow order: a normalize message is deleted only after its items object (and so
        // its reconcile message) exists, so reading normalize first cannot miss work.
        let mut depth = 0;
        for poller in pollers {
            depth += poller.depth().await?;
        }
        empty_checks = if depth == 0 { empty_checks + 1 } else { 0 };
        if empty_checks >= 3 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn print_handled(pollers: &[Arc<Poller>]) {
    for poller in pollers {
        println!(
            "sqs {}: {} messages handled, {} failed deliveries",
            poller.queue.name,
            poller.handled.load(Ordering::SeqCst),
            poller.failed.load(Ordering::SeqCst)
        );
    }
}

/// What the run left in S3, SQS and the table.
async fn print_summary(
    blobs: &dyn BlobStore,
    table: &dyn Table,
    registry: &Registry,
    pollers: &[Arc<Poller>],
) -> anyhow::Result<()> {
    println!(
        "s3: {} raw objects, {} items objects",
        count_objects(blobs, RAW_PREFIX).await?,
        count_objects(blobs, ITEMS_PREFIX).await?
    );
    print_handled(pollers);
    for poller in pollers {
        let dead = poller.dead_letters().await?;
        if dead > 0 {
            println!(
                "sqs {}-dlq: {dead} messages failed {MAX_RECEIVES} times",
                poller.queue.name
            );
        }
    }
    let items = crate::replay::count_items(table, registry).await?;
    println!("table: {items} items");
    Ok(())
}

async fn count_objects(blobs: &dyn BlobStore, prefix: &str) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut after: Option<String> = None;
    loop {
        let page = blobs.list(prefix, after.as_deref(), 1000).await?;
        count += page.keys.len();
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(count),
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;
    use futures::FutureExt;

    /// The body moto 5.2 sends for a put, verbatim but for the times.
    const MOTO_BODY: &str = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-28T02:36:29.480Z", "eventName": "ObjectCreated:Put", "s3": {"s3SchemaVersion": "1.0", "configurationId": "raw-to-q", "bucket": {"name": "pantau-local", "arn": "arn:aws:s3:::pantau-local"}, "object": {"key": "raw/2026/11/28/tokyo/portal/a%2Bb+c.json", "size": 12, "eTag": "x"}}}]}"#;

    fn message(body: String) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some("m".into());
        message.body = Some(body);
        message
    }

    #[test]
    fn moto_notifications_are_readable() {
        let objects = pantau::events::objects_in(&message(MOTO_BODY.into())).unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].bucket, "pantau-local");
        assert_eq!(objects[0].key, "raw/2026/11/28/tokyo/portal/a+b c.json");
    }

    /// The poller against moto's SQS: the handler gets Lambda's event shape, the messages it
    /// reports as failed stay on the queue and come back, the others are deleted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_messages_come_back_and_handled_ones_are_deleted() {
        use std::sync::Mutex;
        let moto = pantau_tests::moto::MotoServer::start().expect("moto (make test-setup)");
        let aws = LocalAws::connect(moto.endpoint()).await;
        let queue = aws.create_queue("poller-test", 1).await.unwrap();
        let arn = queue.arn.clone();
        for body in ["ok-1", "fail-once", "ok-2"] {
            aws.sqs
                .send_message()
                .queue_url(&queue.url)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }
        // (body, ApproximateReceiveCount) of every record the handler saw.
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let seen_by_handler = seen.clone();
        let handler: Handler = Arc::new(move |event: SqsEvent| {
            let seen = seen_by_handler.clone();
            let arn = arn.clone();
            async move {
                let mut response = aws_lambda_events::event::sqs::SqsBatchResponse::default();
                for record in event.records {
                    assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
                    assert_eq!(record.event_source_arn.as_deref(), Some(arn.as_str()));
                    let body = record.body.clone().unwrap_or_default();
                    let count = record.attributes["ApproximateReceiveCount"].clone();
                    if body == "fail-once" && count == "1" {
                        response.add_failure(record.message_id.clone().unwrap_or_default());
                    }
                    seen.lock().unwrap().push((body, count));
                }
                response
            }
            .boxed()
        });
        let poller = Poller::new(&aws, queue, handler);

        let started = Instant::now();
        while poller.handled.load(Ordering::SeqCst) < 3 {
            assert!(started.elapsed() < Duration::from_secs(30), "{seen:?}");
            poller.poll(1).await.unwrap();
        }
        assert_eq!(poller.failed.load(Ordering::SeqCst), 1);
        assert_eq!(
            poller.depth().await.unwrap(),
            0,
            "handled messages were deleted"
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert!(seen.contains(&("fail-once".into(), "2".into())), "{seen:?}");
        assert_eq!(seen.iter().filter(|(b, _)| b.starts_with("ok")).count(), 2);
    }
}
