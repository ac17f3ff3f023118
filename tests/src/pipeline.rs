//! The whole pipeline on any pair of adapters: offline fixture server on loopback → scrape →
//! normalize → reconcile → API, with every event delivered the way AWS may deliver it.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, ensure};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use pantau::events::{s3_put_notification, sqs_event};
use pantau::fetch::{FetchPolicy, Fetcher};
use pantau::keys::items_key_for;
use pantau::normalize::Normalizer;
use pantau::offline::{self, OfflineServer};
use pantau::reconcile::{Reconciler, sync_registry};
use pantau::registry::Registry;
use pantau::schema;
use pantau::scrape::{CycleReport, ScrapeConfig, Scraper};
use pantau::store::{BlobStore, Index, Item, Query, Table};
use serde_json::Value;

/// Missions the offline recordings cover, used to keep the test world small.
pub const MISSIONS: [&str; 3] = ["tokyo", "kualalumpur", "riyadh"];

pub struct World {
    pub server: OfflineServer,
    pub registry: Arc<Registry>,
    pub blobs: Arc<dyn BlobStore>,
    pub table: Arc<dyn Table>,
}

impl World {
    /// The built-in registry cut down to [`MISSIONS`] and headquarters, pointed at a fresh
    /// offline server.
    pub async fn new(blobs: Arc<dyn BlobStore>, table: Arc<dyn Table>) -> anyhow::Result<World> {
        let server = OfflineServer::start_loopback().await?;
        let registry = Arc::new(test_registry(server.base_url())?);
        sync_registry(table.as_ref(), &registry).await?;
        Ok(World {
            server,
            registry,
            blobs,
            table,
        })
    }

    pub fn scraper(&self) -> anyhow::Result<Scraper> {
        let policy = FetchPolicy {
            allow_private_networks: true,
            per_host_min_interval: std::time::Duration::ZERO,
            ..FetchPolicy::default()
        };
        Ok(Scraper {
            registry: self.registry.clone(),
            blobs: self.blobs.clone(),
            table: self.table.clone(),
            fetcher: Fetcher::new(policy)?,
            config: ScrapeConfig::default(),
        })
    }

    pub fn normalizer(&self) -> Normalizer {
        Normalizer {
            blobs: self.blobs.clone(),
            registry: self.registry.clone(),
        }
    }

    pub fn reconciler(&self, table: Arc<dyn Table>) -> Reconciler {
        Reconciler {
            blobs: self.blobs.clone(),
            table,
            registry: self.registry.clone(),
        }
    }

    /// One scrape cycle at `now`; fails the test on any failed source.
    pub async fn scrape(&self, now: DateTime<Utc>) -> anyhow::Result<CycleReport> {
        let report = self.scraper()?.run_cycle(now).await;
        ensure!(
            report.failed.is_empty(),
            "sources failed: {:?}",
            report.failed
        );
        Ok(report)
    }
}

/// The built-in registry cut down to [`MISSIONS`] and headquarters, pointed at an offline
/// server's `base_url`.
pub fn test_registry(base_url: &str) -> anyhow::Result<Registry> {
    let mut registry = Registry::load_default()?;
    registry
        .missions
        .retain(|m| MISSIONS.contains(&m.id.as_str()));
    offline::point_registry_at(&mut registry, base_url);
    Ok(registry)
}

/// How events reach a handler.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    /// Each event once, in order.
    Once,
    /// Each event twice, all shuffled (S3 and SQS are at-least-once and unordered).
    TwiceShuffled { seed: u64 },
    /// Each event one to three times (seeded), all shuffled, in batches of 1 to 10 handled
    /// up to `in_flight` at a time, each batch after a pause of up to `max_delay_ms`: what
    /// Lambda's concurrent pollers of an at-least-once queue may do.
    Repeated {
        seed: u64,
        max_delay_ms: u64,
        in_flight: usize,
    },
}

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Distinct events (object keys).
    pub events: usize,
    /// Messages sent, repeats included.
    pub messages: usize,
    /// Handler invocations, redeliveries of failed messages included.
    pub invocations: usize,
    /// Messages a handler reported failed and that were delivered again.
    pub redelivered: usize,
    /// Keys of the messages that failed [`MAX_RECEIVES`] times: the dead-letter queue.
    pub dead_letters: Vec<String>,
    /// Dead letters moved back to the queue and delivered again (a DLQ redrive).
    pub redriven: usize,
}

impl std::ops::AddAssign for DeliveryStats {
    fn add_assign(&mut self, other: DeliveryStats) {
        self.events += other.events;
        self.messages += other.messages;
        self.invocations += other.invocations;
        self.redelivered += other.redelivered;
        self.dead_letters.extend(other.dead_letters);
        self.redriven += other.redriven;
    }
}

/// Times SQS hands a message to the function before it goes to the dead-letter queue (the
/// template's `maxReceiveCount`).
pub const MAX_RECEIVES: usize = 3;

/// Delivers a notification per key in SQS batches of up to 10. A message the handler reports
/// failed is delivered again, as SQS does after its visibility timeout (moto's server answers
/// 500 now and then under concurrent transactions, as AWS throttles); one that fails
/// [`MAX_RECEIVES`] times would land in the dead-letter queue, and fails the delivery.
pub async fn deliver<F, Fut>(
    bucket: &str,
    keys: &[String],
    delivery: Delivery,
    handler: F,
) -> anyhow::Result<DeliveryStats>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: std::future::Future<Output = SqsBatchResponse>,
{
    let stats = deliver_to_dead_letters(bucket, keys, delivery, handler).await;
    ensure!(
        stats.dead_letters.is_empty(),
        "{} message(s) failed {MAX_RECEIVES} times (dead-letter queue): {:?}",
        stats.dead_letters.len(),
        stats.dead_letters
    );
    Ok(stats)
}

/// [`deliver`], but a message that fails [`MAX_RECEIVES`] times goes to the dead-letter queue
/// (`DeliveryStats::dead_letters`) instead of failing the delivery.
pub async fn deliver_to_dead_letters<F, Fut>(
    bucket: &str,
    keys: &[String],
    delivery: Delivery,
    handler: F,
) -> DeliveryStats
where
    F: Fn(SqsEvent) -> Fut,
    Fut: std::future::Future<Output = SqsBatchResponse>,
{
    use futures::StreamExt;

    let mut events: Vec<&String> = keys.iter().collect();
    // (batch, pause before it), and how many batches run at once.
    let mut batches: Vec<(Vec<&String>, u64)> = Vec::new();
    let mut in_flight = 1;
    match delivery {
        Delivery::Once => {}
        Delivery::TwiceShuffled { seed } => {
            events.extend(keys.iter());
            fastrand::Rng::with_seed(seed).shuffle(&mut events);
        }
        Delivery::Repeated {
            seed,
            max_delay_ms,
            in_flight: concurrency,
        } => {
            let mut rng = fastrand::Rng::with_seed(seed);
            events = keys
                .iter()
                .flat_map(|k| std::iter::repeat_n(k, rng.usize(1..=3)))
                .collect();
            rng.shuffle(&mut events);
            let mut rest = &events[..];
            while !rest.is_empty() {
                let size = rng.usize(1..=10).min(rest.len());
                batches.push((rest[..size].to_vec(), rng.u64(0..=max_delay_ms)));
                rest = &rest[size..];
            }
            in_flight = concurrency.max(1);
        }
    }
    if batches.is_empty() {
        batches = events.chunks(10).map(|b| (b.to_vec(), 0)).collect();
    }
    let stats = std::sync::Mutex::new(DeliveryStats {
        events: keys.len(),
        messages: events.len(),
        ..DeliveryStats::default()
    });
    let (handler, stats_ref) = (&handler, &stats);
    let _: Vec<()> = futures::stream::iter(batches.into_iter().enumerate())
        .map(|(batch_no, (batch, pause_ms))| async move {
            if pause_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
            }
            deliver_batch(bucket, batch_no, &batch, handler, stats_ref).await
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    stats.into_inner().unwrap_or_default()
}

/// One batch, redelivered until every message succeeds or has been received
/// [`MAX_RECEIVES`] times.
async fn deliver_batch<F, Fut>(
    bucket: &str,
    batch_no: usize,
    batch: &[&String],
    handler: &F,
    stats: &std::sync::Mutex<DeliveryStats>,
) where
    F: Fn(SqsEvent) -> Fut,
    Fut: std::future::Future<Output = SqsBatchResponse>,
{
    let mut pending: Vec<(String, &String)> = batch
        .iter()
        .enumerate()
        .map(|(i, key)| (format!("m-{batch_no}-{i}"), *key))
        .collect();
    for receive in 1..=MAX_RECEIVES {
        let bodies = pending
            .iter()
            .map(|(id, key)| (id.clone(), s3_put_notification(bucket, key, 0, Utc::now())));
        let response = handler(sqs_event(bodies)).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        pending.retain(|(id, _)| failed.contains(id));
        if let Ok(mut stats) = stats.lock() {
            stats.invocations += 1;
            if receive < MAX_RECEIVES {
                stats.redelivered += pending.len();
            }
        }
        if pending.is_empty() {
            break;
        }
        eprintln!("receive {receive}: redelivering {failed:?}");
    }
    if !pending.is_empty()
        && let Ok(mut stats) = stats.lock()
    {
        stats
            .dead_letters
            .extend(pending.iter().map(|(_, key)| (*key).clone()));
    }
}

/// Normalizes the raw keys, then reconciles their items objects into `table`.
pub async fn normalize_and_reconcile(
    world: &World,
    raw_keys: &[String],
    table: Arc<dyn Table>,
    delivery: Delivery,
) -> anyhow::Result<()> {
    let bucket = world.blobs.bucket().to_owned();
    let normalizer = world.normalizer();
    deliver(&bucket, raw_keys, delivery, |e| normalizer.handle(e)).await?;
    let items_keys: Vec<String> = raw_keys.iter().filter_map(|k| items_key_for(k)).collect();
    let reconciler = world.reconciler(table);
    deliver(&bucket, &items_keys, delivery, |e| reconciler.handle(e)).await?;
    Ok(())
}

/// Every item record the pipeline wrote for `missions`, found through the table's own access
/// patterns (the mission time index, then each item's partition), as a comparable map.
pub async fn dump_items(
    table: &dyn Table,
    missions: &[&str],
) -> anyhow::Result<BTreeMap<String, Item>> {
    let mut out = BTreeMap::new();
    for mission in missions {
        let index = query_all(
            table,
            Query::partition(Index::Gsi1, schema::mission_items_pk(mission)),
        )
        .await?;
        for current in index {
            let pk = current
                .get("pk")
                .and_then(Value::as_str)
                .context("item without pk")?
                .to_owned();
            for record in query_all(table, Query::partition(Index::Primary, pk)).await? {
                let key = format!(
                    "{}|{}",
                    record["pk"].as_str().unwrap_or(""),
                    record["sk"].as_str().unwrap_or("")
                );
                out.insert(key, record);
            }
        }
    }
    Ok(out)
}

/// The first few records (and attributes) in which two dumps differ, for a failure message.
pub fn describe_differences(a: &BTreeMap<String, Item>, b: &BTreeMap<String, Item>) -> String {
    let mut lines = Vec::new();
    for key in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if x != y => {
                let attrs: Vec<String> = x
                    .keys()
                    .chain(y.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .filter(|name| x.get(*name) != y.get(*name))
                    .map(|name| format!("{name}: {:?} vs {:?}", x.get(name), y.get(name)))
                    .collect();
                lines.push(format!("{key} differs: {}", attrs.join("; ")));
            }
            (Some(_), None) => lines.push(format!("{key} only in the first")),
            (None, Some(_)) => lines.push(format!("{key} only in the second")),
            _ => {}
        }
        if lines.len() >= 8 {
            break;
        }
    }
    lines.join("\n")
}

/// All pages of a query.
pub async fn query_all(table: &dyn Table, query: Query) -> anyhow::Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(query.clone().limit(100).after(cursor.take()))
            .await?;
        items.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(items),
        }
    }
}

/// The foundation's promise, on whichever adapters are given: real publications travel the
/// whole way; doubled, shuffled delivery leaves exactly what one clean delivery leaves;
/// unchanged sources write nothing; a new publication shows up through the API.
///
/// `table` gets the doubled delivery, `clean_table` (empty) the clean one. The portals' lists
/// carry the bodies, as the real API's do.
pub async fn end_to_end(
    blobs: Arc<dyn BlobStore>,
    table: Arc<dyn Table>,
    clean_table: Arc<dyn Table>,
) -> anyhow::Result<()> {
    end_to_end_with(blobs, table, clean_table, PortalLists::WithBodies).await
}

/// What the offline portals' list answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalLists {
    /// The bodies, as the real API's lists do: a publication's detail repeats its list entry
    /// (an unchanged repeat in reconcile).
    WithBodies,
    /// Titles and dates only: each publication's detail adds the body, a second version.
    WithoutBodies,
}

/// [`end_to_end`] with the portals' lists as `lists` says.
pub async fn end_to_end_with(
    blobs: Arc<dyn BlobStore>,
    table: Arc<dyn Table>,
    clean_table: Arc<dyn Table>,
    lists: PortalLists,
) -> anyhow::Result<()> {
    let world = World::new(blobs, table.clone()).await?;
    let mut owners: Vec<&str> = MISSIONS.to_vec();
    owners.push(pantau::registry::HQ_OWNER);

    // 1. First cycle: every source is due and new; each new portal publication's detail is
    //    fetched once, after its list.
    world
        .server
        .set_lists_without_bodies(lists == PortalLists::WithoutBodies);
    let t0 = Utc::now();
    let first = world.scrape(t0).await?;
    ensure!(
        !first.written.is_empty() && first.changed > 0,
        "first cycle wrote nothing: {first:?}"
    );
    ensure!(
        first.linked_fetched > 0 && first.linked_failed == 0,
        "first cycle fetched no portal details: {first:?}"
    );

    // 2. Clean delivery into one table, doubled and shuffled into the other: same records.
    normalize_and_reconcile(&world, &first.written, clean_table.clone(), Delivery::Once).await?;
    normalize_and_reconcile(
        &world,
        &first.written,
        table.clone(),
        Delivery::TwiceShuffled { seed: 20261128 },
    )
    .await?;
    let doubled = dump_items(table.as_ref(), &owners).await?;
    let clean = dump_items(clean_table.as_ref(), &owners).await?;
    ensure!(!clean.is_empty(), "no items stored");
    check_details(&clean, lists)?;
    ensure!(
        doubled == clean,
        "doubled delivery differs from clean delivery: {} vs {} records\n{}",
        doubled.len(),
        clean.len(),
        describe_differences(&doubled, &clean)
    );

    // 3. The API returns exactly the mission's recorded publications, newest first.
    let expected = recorded_titles(&world.server, "tokyo").await?;
    let served = api_items(&world, "tokyo", "&role=official").await?;
    let served_titles: std::collections::BTreeSet<String> = served
        .iter()
        .filter_map(|i| i["title"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        served_titles == expected,
        "API titles differ from the recording:\n served: {served_titles:?}\n recorded: {expected:?}"
    );
    let times: Vec<&str> = served
        .iter()
        .filter_map(|i| i["published_at"].as_str())
        .collect();
    ensure!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "items not newest first: {times:?}"
    );

    // The Iwate earthquake advisory's Indonesian and English versions are one story.
    let quake = served
        .iter()
        .find(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Imbauan KBRI Tokyo terkait Gempa"))
        })
        .context("the Iwate earthquake advisory is not served")?;
    let story = quake["story_id"]
        .as_str()
        .context("advisory without story")?;
    ensure!(
        served
            .iter()
            .any(|i| i["language"] == "en" && i["story_id"] == story && i["id"] != quake["id"]),
        "the advisory's English version is not in its story {story}"
    );

    // 4. Unchanged sources write nothing.
    let second = world.scrape(t0 + chrono::Duration::hours(3)).await?;
    ensure!(
        second.written.is_empty() && second.unchanged > 0,
        "second cycle: {second:?}"
    );

    // 5. A new publication travels the whole way.
    let title = "KBRI Tokyo Buka Posko Pengaduan WNI Terdampak Topan";
    world.server.publish(
        "tokyo",
        serde_json::json!({
            "slug": "kbri-tokyo-buka-posko-pengaduan-wni-terdampak-topan",
            "title": title,
            "title_eng": "",
            "publish_date": (t0 + chrono::Duration::hours(9)).format("%Y-%m-%d %H:%M:%S").to_string(),
            "content_detail": "<p>KBRI Tokyo membuka posko pengaduan bagi WNI terdampak topan.</p>",
            "content_detail_eng": ""
        }),
    );
    let third = world.scrape(t0 + chrono::Duration::hours(6)).await?;
    ensure!(
        third.written.len() == 2 && third.linked_fetched == 1,
        "third cycle (the list and the new publication's detail): {third:?}"
    );
    normalize_and_reconcile(
        &world,
        &third.written,
        table.clone(),
        Delivery::TwiceShuffled { seed: 7 },
    )
    .await?;
    normalize_and_reconcile(&world, &third.written, clean_table.clone(), Delivery::Once).await?;
    let doubled = dump_items(table.as_ref(), &owners).await?;
    let clean = dump_items(clean_table.as_ref(), &owners).await?;
    ensure!(
        doubled == clean,
        "third cycle: doubled delivery differs from clean delivery\n{}",
        describe_differences(&doubled, &clean)
    );
    let served = api_items(&world, "tokyo", "").await?;
    ensure!(
        served.first().and_then(|i| i["title"].as_str()) == Some(title),
        "new publication is not first: {:?}",
        served.first()
    );
    Ok(())
}

/// The portal details did their part: with bodyless lists, some items have two versions, the
/// list entry without a body and then the detail with it (`CURRENT`); with lists carrying
/// bodies, every item has one version. No item has a bodyless version after one with a body.
fn check_details(dump: &BTreeMap<String, Item>, lists: PortalLists) -> anyhow::Result<()> {
    let mut detailed = 0;
    for (key, current) in dump.iter().filter(|(k, _)| k.ends_with("|CURRENT")) {
        let pk = key.trim_end_matches("|CURRENT");
        let versions: Vec<&Item> = dump
            .range(format!("{pk}|V#")..format!("{pk}|V$"))
            .map(|(_, v)| v)
            .collect();
        let has_body = |r: &Item| r.get("body").is_some_and(|b| !b.is_null());
        if versions.len() == 2 && !has_body(versions[0]) && has_body(versions[1]) {
            ensure!(
                has_body(current) && current["content_hash"] == versions[1]["content_hash"],
                "{pk}: CURRENT is not the detail"
            );
            detailed += 1;
        }
        ensure!(
            versions.len() == 1 || versions.last().is_some_and(|v| has_body(v)),
            "{pk}: a bodyless version after {} version(s)",
            versions.len().saturating_sub(1)
        );
    }
    match lists {
        PortalLists::WithoutBodies => {
            ensure!(detailed > 0, "no item got its body from a portal detail")
        }
        PortalLists::WithBodies => {
            let versions = dump.keys().filter(|k| k.contains("|V#")).count();
            let items = dump.keys().filter(|k| k.ends_with("|CURRENT")).count();
            ensure!(
                versions == items,
                "a detail that repeats its list entry made a version: {versions} versions of {items} items"
            )
        }
    }
    Ok(())
}

/// Titles (Indonesian and, where given, English) of a portal's recorded publications, read
/// from the offline server's API the way a browser would.
pub async fn recorded_titles(
    server: &OfflineServer,
    portal: &str,
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let client = reqwest::Client::new();
    let mut titles = std::collections::BTreeSet::new();
    for page in 1.. {
        let url = format!(
            "{}/kemlu/public-content-service/api/contentMenu?type=menu&slug[]={portal}&slug[]=berita&portal={portal}&page={page}&limit=50&order_by=publish_date&order_dir=desc&lang=id",
            server.base_url()
        );
        let body: Value = client.get(&url).send().await?.json().await?;
        let publications = body["data"]["publication"]
            .as_array()
            .context("no data.publication")?;
        if publications.is_empty() {
            break;
        }
        for p in publications {
            for field in ["title", "title_eng"] {
                if let Some(t) = p[field].as_str().map(str::trim).filter(|t| !t.is_empty()) {
                    titles.insert(t.to_owned());
                }
            }
        }
        if page > 100 {
            anyhow::bail!("offline server never ran out of pages");
        }
    }
    Ok(titles)
}

/// Every item of a mission through `GET /missions/{id}/items`, following cursors;
/// `filters` is appended to the query (e.g. `&role=official`).
pub async fn api_items(world: &World, mission: &str, filters: &str) -> anyhow::Result<Vec<Value>> {
    use tower::ServiceExt;
    let state = pantau::api::ApiState::new(
        world.table.clone(),
        world.registry.clone(),
        &Default::default(),
    )
    .await?;
    let key = pantau::api::access::create_key(world.table.as_ref(), "e2e").await?;
    let app = pantau::api::router(state);
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut uri = format!("/missions/{mission}/items?limit=7{filters}");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let request = http::Request::get(&uri)
            .header(pantau::api::access::KEY_HEADER, &key.secret)
            .body(axum::body::Body::empty())?;
        let response = app.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 10 << 20).await?;
        ensure!(
            status == 200,
            "GET {uri}: {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let body: Value = serde_json::from_slice(&bytes)?;
        items.extend(body["items"].as_array().cloned().unwrap_or_default());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(items),
        }
    }
    anyhow::bail!("pagination did not end")
}
