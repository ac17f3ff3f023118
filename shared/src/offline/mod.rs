//! The recorded sources `pantau run --offline` serves from loopback, and the fixture web
//! server of the end-to-end tests.
//!
//! [`OfflineServer`] answers like the real sources do:
//! - the kemlu portal API under `/kemlu/public-content-service/api` (`contentMenu` lists,
//!   `content/publication` details), with recorded publications for `pusat` and a dozen
//!   missions, and a valid empty list for every other portal;
//! - host-country media feeds under `/feeds/<name>.xml` (RSS 2.0 and Atom 1.0);
//! - the generated media searches and the hazard feeds under `/remote/<host>/<path>`
//!   (Google News RSS search and GDELT article lists, recorded for a few countries and
//!   empty for the rest; USGS, GDACS and BMKG as of the snapshot).
//!
//! Every successful answer carries the validators its real counterpart would (portal API:
//! a strong ETag, the hash of the body, and Last-Modified; feeds: as listed in
//! [`MEDIA_FEEDS`]), and conditional requests get `304 Not Modified`.
//!
//! Tests can change the world ([`OfflineServer::publish`], [`OfflineServer::edit`],
//! [`OfflineServer::set_feed`]), break it ([`OfflineServer::fail_next`],
//! [`OfflineServer::serve_malformed`]) and count what was asked
//! ([`OfflineServer::requests`], [`OfflineServer::request_log`]).
//! [`point_registry_at`] points a registry's sources at a running server.

mod http;
mod snapshot;
mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::model::{Role, Source, SourceKind};
use crate::registry::Registry;

pub use snapshot::{
    FeedValidators, GDELT_RECORDINGS, GOOGLE_NEWS_RECORDINGS, HAZARD_RECORDINGS, IMITATED_HOSTS,
    MEDIA_FEEDS, MediaFeed, Recording, media_feed, recorded_portals,
};
pub use world::RequestRecord;

use world::{Fault, World};

/// Where the portal API lives on the offline server; a `kemlu_portal` source's `url`.
pub const PORTAL_API_PATH: &str = "/kemlu/public-content-service/api";
/// Where the imitated remote hosts live: `https://<host>/<path>?<query>` is served at
/// `/remote/<host>/<path>?<query>`.
pub const REMOTE_PREFIX: &str = "/remote";

/// The offline world on a loopback port. Dropping it stops the server.
pub struct OfflineServer {
    base_url: String,
    world: Arc<Mutex<World>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl OfflineServer {
    /// Binds `addr` (usually `127.0.0.1:0`) and serves the recorded snapshot.
    pub async fn start(addr: SocketAddr) -> std::io::Result<OfflineServer> {
        let world = Arc::new(Mutex::new(World::recorded()?));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let router = http::router(world.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                // A send or a dropped sender both mean "stop".
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "offline server stopped with an error");
            }
        });
        tracing::info!(%local, "offline sources served");
        Ok(OfflineServer {
            base_url: format!("http://{local}"),
            world,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// [`OfflineServer::start`] on a free loopback port.
    pub async fn start_loopback() -> std::io::Result<OfflineServer> {
        OfflineServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The portal API base a `kemlu_portal` source should use.
    pub fn portal_api_url(&self) -> String {
        format!("{}{PORTAL_API_PATH}", self.base_url)
    }

    /// A media feed's URL, e.g. `feed_url("japantimes")`.
    pub fn feed_url(&self, name: &str) -> String {
        format!("{}/feeds/{name}.xml", self.base_url)
    }

    /// Stops the server and waits until it has.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Puts a publication on top of `portal`'s list, so the next fetch sees it first. Fields
    /// left out are filled (`id`, `publish_date` = now, section `berita`, ...); give at least
    /// `slug` and `title`.
    pub fn publish(&self, portal: &str, publication: Value) {
        self.world().publish(portal, publication);
    }

    /// Retitles a publication (and bumps its `updated_at`); false when there is no such one.
    pub fn edit(&self, portal: &str, slug: &str, new_title: &str) -> bool {
        self.world().edit(portal, slug, new_title)
    }

    /// While on, portal lists leave the publications' bodies out and only their details
    /// (`content/publication`) carry them, as a portal whose list is titles and dates would.
    /// Off by default: the recorded lists carry `content_detail`, as the real API's do.
    pub fn set_lists_without_bodies(&self, on: bool) {
        self.world().lists_without_bodies = on;
    }

    /// Replaces a media feed's document; false for an unknown feed name.
    pub fn set_feed(&self, name: &str, body: impl Into<String>) -> bool {
        self.world().set_feed(name, body.into())
    }

    /// The portal's publications as currently served (all sections, newest first).
    pub fn publications(&self, portal: &str) -> Vec<Value> {
        self.world()
            .portals
            .get(portal)
            .map(|p| p.publications.clone())
            .unwrap_or_default()
    }

    /// How many requests had a path (and query) starting with `path_prefix`.
    pub fn requests(&self, path_prefix: &str) -> usize {
        self.world()
            .log
            .iter()
            .filter(|r| r.path_and_query.starts_with(path_prefix))
            .count()
    }

    /// Every request so far, in order.
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.world().log.clone()
    }

    /// The next `times` requests under `path_prefix` get `status` (503 and 429 with
    /// `Retry-After: 1`) instead of their answer.
    pub fn fail_next(&self, path_prefix: &str, status: u16, times: usize) {
        self.world().faults.push(Fault {
            path_prefix: path_prefix.to_owned(),
            status,
            remaining: times,
        });
    }

    /// While on, successful answers under `path_prefix` come with a truncated body (status
    /// 200, validators of the broken body), like a server cut off mid-write.
    pub fn serve_malformed(&self, path_prefix: &str, on: bool) {
        let mut world = self.world();
        world.malformed_prefixes.retain(|p| p != path_prefix);
        if on {
            world.malformed_prefixes.push(path_prefix.to_owned());
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves the data consistent enough for a fixture.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for OfflineServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Points `registry` at an offline server at `base_url`: every `kemlu_portal` source (the
/// missions' and headquarters') reads `{base_url}/kemlu/public-content-service/api`, and
/// each offline media feed becomes a `feed` source (role `media`, id `media-<name>`) of the
/// missions it belongs to, when the registry has them, and every source on an imitated host
/// ([`IMITATED_HOSTS`]: the generated news searches, the hazard feeds) reads the same path
/// and query under `{base_url}/remote/<host>`. Running it twice changes nothing more.
pub fn point_registry_at(registry: &mut Registry, base_url: &str) {
    let base_url = base_url.trim_end_matches('/');
    let portal_api = format!("{base_url}{PORTAL_API_PATH}");
    let portal_sources = registry
        .missions
        .iter_mut()
        .flat_map(|m| m.sources.iter_mut())
        .chain(registry.hq_sources.iter_mut())
        .filter(|s| s.kind == SourceKind::KemluPortal);
    for source in portal_sources {
        source.url = portal_api.clone();
    }
    // Generated searches and hazard feeds: same path and query, on the offline server.
    let remote_sources = registry
        .missions
        .iter_mut()
        .flat_map(|m| m.sources.iter_mut())
        .chain(registry.hq_sources.iter_mut())
        .chain(registry.global_sources.iter_mut());
    for source in remote_sources {
        if let Some(offline) = remote_url(&source.url, base_url) {
            source.url = offline;
        }
    }
    for feed in MEDIA_FEEDS {
        let url = format!("{base_url}/feeds/{}.xml", feed.name);
        for mission in registry
            .missions
            .iter_mut()
            .filter(|m| feed.missions.contains(&m.id.as_str()))
        {
            match mission.sources.iter_mut().find(|s| s.id == feed.source_id) {
                Some(existing) => existing.url = url.clone(),
                None => mission.sources.push(Source {
                    id: feed.source_id.to_owned(),
                    kind: SourceKind::Feed,
                    role: Role::Media,
                    url: url.clone(),
                    cadence_minutes: 30,
                    portal: None,
                    section: None,
                    language: Some(feed.language.to_owned()),
                    time_zone: None,
                    conditional_get: true,
                    list: Default::default(),
                }),
            }
        }
    }
}

/// `https://<host>/<path>?<query>` as served offline, when `host` is one the server imitates.
fn remote_url(url: &str, base_url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    if !IMITATED_HOSTS.contains(&host) {
        return None;
    }
    let query = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
    Some(format!(
        "{base_url}{REMOTE_PREFIX}/{host}{}{query}",
        parsed.path()
    ))
}

/// Drops every source whose URL is not on the offline server at `base_url` (ReliefWeb,
/// media feeds an operator added, ...), so an offline run does not show them failing. Returns how many
/// were dropped. Call it after [`point_registry_at`].
pub fn retain_served_sources(registry: &mut Registry, base_url: &str) -> usize {
    let base_url = format!("{}/", base_url.trim_end_matches('/'));
    let served = |s: &Source| s.url.starts_with(&base_url);
    let before = registry.sources().count();
    for mission in &mut registry.missions {
        mission.sources.retain(served);
    }
    registry.hq_sources.retain(served);
    registry.global_sources.retain(served);
    before - registry.sources().count()
}

#[cfg(test)]
mod tests;
