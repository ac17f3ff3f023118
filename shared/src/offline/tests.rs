//! The offline server over real HTTP on loopback, fetched with reqwest.

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde_json::{Value, json};

use super::*;
use crate::model::{Mission, MissionKind};

async fn server() -> OfflineServer {
    OfflineServer::start_loopback().await.unwrap()
}

fn list_url(
    server: &OfflineServer,
    portal: &str,
    section: &str,
    page: usize,
    limit: usize,
) -> String {
    format!(
        "{}/contentMenu?type=menu&slug%5B%5D={portal}&slug%5B%5D={section}&portal={portal}\
         &page={page}&limit={limit}&order_by=publish_date&order_dir=desc&lang=id",
        server.portal_api_url()
    )
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
    )
}

fn slugs(page: &Value) -> Vec<String> {
    page["data"]["publication"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_concatenate_to_the_whole_section_newest_first() {
    let server = server().await;
    for portal in ["kualalumpur", "tokyo"] {
        let expected: Vec<String> = server
            .publications(portal)
            .iter()
            .filter(|p| p["category"]["slug"] == "berita")
            .map(|p| p["slug"].as_str().unwrap().to_owned())
            .collect();
        let mut seen = Vec::new();
        let mut dates = Vec::new();
        for page in 1.. {
            let (status, body) = get_json(&list_url(&server, portal, "berita", page, 5)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["data"]["meta"]["filtered"], json!(expected.len()));
            let page_slugs = slugs(&body);
            if page_slugs.is_empty() {
                break;
            }
            assert!(page_slugs.len() <= 5);
            for p in body["data"]["publication"].as_array().unwrap() {
                dates.push(p["publish_date"].as_str().unwrap().to_owned());
            }
            seen.extend(page_slugs);
        }
        assert_eq!(seen, expected, "{portal}");
        assert!(
            dates.windows(2).all(|w| w[0] >= w[1]),
            "{portal} not newest first"
        );
    }
    // Tokyo's berita spans three pages of five; its one announcement is in another section.
    let (_, tokyo) = get_json(&list_url(&server, "tokyo", "berita", 1, 5)).await;
    assert_eq!(tokyo["data"]["meta"]["filtered"], 15);
    let (_, notices) = get_json(&list_url(&server, "tokyo", "pengumuman", 1, 100)).await;
    assert_eq!(slugs(&notices).len(), 1);
}

#[tokio::test]
async fn unknown_portal_gets_an_empty_list_and_bad_queries_a_400() {
    let server = server().await;
    let (status, body) = get_json(&list_url(&server, "pyongyang", "berita", 1, 100)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["publication"], json!([]));
    assert_eq!(body["data"]["meta"]["filtered"], 0);

    let api = server.portal_api_url();
    for bad in [
        format!("{api}/contentMenu?type=menu&page=1&limit=5"),
        format!("{api}/contentMenu?portal=tokyo&slug[]=tokyo&slug[]=berita&page=zero"),
        format!("{api}/contentMenu?portal=tokyo&slug[]=tokyo&slug[]=berita&limit=500"),
    ] {
        let (status, body) = get_json(&bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["status"], false);
        assert!(body["message"].as_str().unwrap().len() > 5);
    }
}

#[tokio::test]
async fn english_lists_only_translated_publications() {
    let server = server().await;
    let url = list_url(&server, "tokyo", "berita", 1, 100).replace("lang=id", "lang=en");
    let (_, english) = get_json(&url).await;
    let (_, all) = get_json(&list_url(&server, "tokyo", "berita", 1, 100)).await;
    let english = english["data"]["publication"].as_array().unwrap().clone();
    assert!(!english.is_empty());
    assert!(english.len() < slugs(&all).len());
    assert!(
        english
            .iter()
            .all(|p| !p["title_eng"].as_str().unwrap_or("").is_empty())
    );
}

#[tokio::test]
async fn one_publication_by_slug() {
    let server = server().await;
    let slug = "kemlu-pantau-kondisi-wni-pascagempa-m74-di-jepang";
    let url = format!(
        "{}/content/publication?portal=pusat&slug={slug}",
        server.portal_api_url()
    );
    let (status, body) = get_json(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["slug"], slug);
    assert!(
        body["data"]["content_detail"]
            .as_str()
            .unwrap()
            .contains("<strong>")
    );
    assert!(
        body["data"]["headline"]
            .as_str()
            .unwrap()
            .starts_with("Jakarta")
    );

    let missing = format!(
        "{}/content/publication?portal=pusat&slug=nope",
        server.portal_api_url()
    );
    assert_eq!(get_json(&missing).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn conditional_get_answers_304_until_the_world_changes() {
    let server = server().await;
    let client = reqwest::Client::new();
    let url = list_url(&server, "osaka", "berita", 1, 100);
    let first = client.get(&url).send().await.unwrap();
    let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
    let last_modified = first.headers()[LAST_MODIFIED].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));

    let again = client
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG].to_str().unwrap(), etag);
    let since = client
        .get(&url)
        .header(IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);

    server.publish(
        "osaka",
        json!({"slug": "kjri-osaka-buka-layanan-darurat", "title": "KJRI Osaka Buka Layanan Darurat"}),
    );
    let changed = client
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[ETAG].to_str().unwrap(), etag);
    let body: Value = serde_json::from_slice(&changed.bytes().await.unwrap()).unwrap();
    assert_eq!(slugs(&body)[0], "kjri-osaka-buka-layanan-darurat");
    assert_eq!(body["data"]["meta"]["filtered"], 7);
    let since = client
        .get(&url)
        .header(IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(
        since.status(),
        StatusCode::OK,
        "Last-Modified must move on publish"
    );

    assert!(server.edit("osaka", "kjri-osaka-buka-layanan-darurat", "Judul Baru"));
    let (_, edited) = get_json(&url).await;
    assert_eq!(edited["data"]["publication"][0]["title"], "Judul Baru");

    // Every request was seen, 304s included.
    let log = server.request_log();
    assert_eq!(
        server.requests("/kemlu/public-content-service/api/contentMenu"),
        log.len()
    );
    assert_eq!(log.iter().filter(|r| r.status == 304).count(), 2);
}

#[tokio::test]
async fn injected_failures_and_malformed_bodies() {
    let server = server().await;
    let url = list_url(&server, "riyadh", "berita", 1, 10);
    server.fail_next("/kemlu/", 503, 2);
    for _ in 0..2 {
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "1");
    }
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::OK);
    assert_eq!(server.requests("/kemlu/"), 3);
    assert_eq!(server.requests("/feeds/"), 0);

    server.serve_malformed("/feeds/scmp", true);
    let broken = reqwest::get(server.feed_url("scmp")).await.unwrap();
    assert_eq!(broken.status(), StatusCode::OK);
    assert!(feed_rs::parser::parse(broken.bytes().await.unwrap().as_ref()).is_err());
    server.serve_malformed("/feeds/scmp", false);
    let fixed = reqwest::get(server.feed_url("scmp")).await.unwrap();
    assert!(feed_rs::parser::parse(fixed.bytes().await.unwrap().as_ref()).is_ok());
}

#[tokio::test]
async fn feeds_parse_with_their_entry_counts_and_validators() {
    let server = server().await;
    for feed in MEDIA_FEEDS {
        let response = reqwest::get(server.feed_url(feed.name)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], feed.content_type);
        let (etag, last_modified) = world::feed_sends(feed.validators);
        assert_eq!(headers.contains_key(ETAG), etag, "{}", feed.name);
        assert_eq!(
            headers.contains_key(LAST_MODIFIED),
            last_modified,
            "{}",
            feed.name
        );
        let parsed = feed_rs::parser::parse(response.bytes().await.unwrap().as_ref()).unwrap();
        assert_eq!(parsed.entries.len(), feed.entries, "{}", feed.name);
        assert!(
            parsed
                .entries
                .iter()
                .all(|e| e.published.is_some() || e.updated.is_some())
        );
    }
    let kinds: Vec<_> = MEDIA_FEEDS
        .iter()
        .map(|f| f.body.contains("<feed xmlns"))
        .collect();
    assert!(
        kinds.contains(&true) && kinds.contains(&false),
        "need RSS and Atom"
    );

    let jt = server.feed_url("japantimes");
    let etag = reqwest::get(&jt).await.unwrap().headers()[ETAG].clone();
    let client = reqwest::Client::new();
    let again = client
        .get(&jt)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(server.set_feed("japantimes", MEDIA_FEEDS[0].body.replace("Iwate", "Miyagi")));
    assert_eq!(reqwest::get(&jt).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        reqwest::get(format!("{}/feeds/nope.xml", server.base_url()))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let server = server().await;
    let url = server.feed_url("thestar");
    assert!(reqwest::get(&url).await.is_ok());
    server.shutdown().await;
    assert!(reqwest::get(&url).await.is_err());
}

fn portal_source(portal: &str) -> Source {
    Source {
        id: "portal-berita".into(),
        kind: SourceKind::KemluPortal,
        role: if portal == "pusat" {
            Role::Hq
        } else {
            Role::Official
        },
        url: "https://backpanel.kemlu.go.id/public-content-service/api".into(),
        cadence_minutes: 60,
        portal: Some(portal.into()),
        section: Some("berita".into()),
        language: Some("id".into()),
        time_zone: None,
        conditional_get: true,
        list: Default::default(),
    }
}

fn mission(id: &str, zone: &str) -> Mission {
    Mission {
        id: id.into(),
        kind: MissionKind::Kbri,
        city: id.into(),
        country: "X".into(),
        country_code: "XX".into(),
        time_zone: zone.into(),
        sources: vec![portal_source(id)],
    }
}

#[test]
fn point_registry_at_rewrites_portals_and_adds_media_feeds() {
    let mut registry = Registry {
        missions: vec![
            mission("tokyo", "Asia/Tokyo"),
            mission("kualalumpur", "Asia/Kuala_Lumpur"),
            mission("paris", "Europe/Paris"),
        ],
        hq_sources: vec![portal_source("pusat")],
        global_sources: vec![],
    };
    let base = "http://127.0.0.1:4242/";
    point_registry_at(&mut registry, base);
    point_registry_at(&mut registry, base); // idempotent

    let api = "http://127.0.0.1:4242/kemlu/public-content-service/api";
    assert!(
        registry
            .sources()
            .filter(|r| r.source.kind == SourceKind::KemluPortal)
            .all(|r| r.source.url == api)
    );
    assert_eq!(registry.hq_sources[0].url, api);

    let tokyo = registry.mission("tokyo").unwrap();
    let feeds: Vec<&Source> = tokyo
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Feed)
        .collect();
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].id, "media-japantimes");
    assert_eq!(feeds[0].role, Role::Media);
    assert_eq!(feeds[0].url, "http://127.0.0.1:4242/feeds/japantimes.xml");
    let kl = registry.mission("kualalumpur").unwrap();
    assert!(kl.sources.iter().any(|s| s.id == "media-thestar"));
    assert_eq!(registry.mission("paris").unwrap().sources.len(), 1);

    let mut live = portal_source("global");
    live.id = "usgs".into();
    live.kind = SourceKind::Usgs;
    live.url = "https://earthquake.usgs.gov/feed.geojson".into();
    registry.global_sources.push(live);
    let total = registry.sources().count();
    assert_eq!(retain_served_sources(&mut registry, base), 1);
    assert_eq!(registry.sources().count(), total - 1);
    assert!(registry.global_sources.is_empty());
}

#[tokio::test]
async fn the_snapshot_covers_a_dozen_missions_and_a_crisis_seen_from_several() {
    let portals: Vec<&str> = recorded_portals().collect();
    assert!(portals.contains(&"pusat"));
    assert!(portals.len() >= 11);
    // The Iwate earthquake of 19 November, reported by missions and headquarters alike.
    let server = server().await;
    let reporting: Vec<&str> = portals
        .iter()
        .copied()
        .filter(|portal| {
            server.publications(portal).iter().any(|p| {
                let date = p["publish_date"].as_str().unwrap();
                let text = format!("{} {}", p["title"], p["content_detail"]);
                ("2026-11-19".."2026-11-25").contains(&date) && text.contains("M7,4")
            })
        })
        .collect();
    assert!(reporting.len() >= 4, "{reporting:?}");
    assert!(reporting.contains(&"pusat"));
}

/// The built-in registry, pointed at `server` and cut to what it serves.
fn default_registry_at(server: &OfflineServer) -> (Registry, usize) {
    let mut registry = Registry::load_default().unwrap();
    point_registry_at(&mut registry, server.base_url());
    let dropped = retain_served_sources(&mut registry, server.base_url());
    (registry, dropped)
}

async fn fetch(url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn feed_entries(body: &str) -> Vec<String> {
    feed_rs::parser::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("not a feed ({e}): {body}"))
        .entries
        .into_iter()
        .map(|e| e.title.map(|t| t.content).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn every_generated_and_hazard_source_of_the_default_registry_is_served() {
    let server = server().await;
    let (registry, dropped) = default_registry_at(&server);
    assert_eq!(dropped, 0, "every built-in source has an offline answer");
    let base = format!("{}/", server.base_url());
    assert!(registry.sources().all(|r| r.source.url.starts_with(&base)));
    // The path and query travel unchanged: the encoded query is still there.
    let news = registry.source("tokyo", "news-en").unwrap().source;
    assert_eq!(
        news.url,
        format!(
            "{}/remote/news.google.com/rss/search?q=Indonesia+OR+WNI+OR+%22KBRI+Tokyo%22&hl=en&gl=JP&ceid=JP%3Aen",
            server.base_url()
        )
    );
    // Running it again changes nothing.
    let mut again = registry.clone();
    point_registry_at(&mut again, server.base_url());
    assert_eq!(again, registry);

    // A recorded search, an empty one, and both GDELT cases: all valid feeds.
    let (status, headers, body) =
        fetch(&registry.source("tokyo", "news-ja").unwrap().source.url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("xml")
    );
    let titles = feed_entries(&body);
    assert_eq!(titles.len(), 5);
    assert!(titles[0].contains("インドネシア人技能実習生"), "{titles:?}");
    for (mission, source, entries) in [
        ("kualalumpur", "news-ms", 5),
        ("riyadh", "news-en", 4),
        ("hongkong", "news-en", 3),
        ("kualalumpur", "gdelt", 5),
        ("osaka", "gdelt", 4),
        ("paris", "news-fr", 0),
        ("paris", "gdelt", 0),
        ("washington", "news-en", 0),
    ] {
        let url = &registry.source(mission, source).unwrap().source.url;
        let (status, _, body) = fetch(url).await;
        assert_eq!(status, StatusCode::OK, "{mission}/{source}");
        assert_eq!(feed_entries(&body).len(), entries, "{mission}/{source}");
    }

    // The hazard feeds, with their validators honoured.
    let usgs = &registry
        .source("global", "usgs-4-5-day")
        .unwrap()
        .source
        .url;
    let (status, headers, body) = fetch(usgs).await;
    assert_eq!(status, StatusCode::OK);
    let geojson: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(geojson["features"].as_array().unwrap().len(), 6);
    assert_eq!(geojson["metadata"]["count"], 6);
    let etag = headers[ETAG].clone();
    let again = reqwest::Client::new()
        .get(usgs)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let gdacs = &registry.source("global", "gdacs-24h").unwrap().source.url;
    let (status, headers, body) = fetch(gdacs).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.contains_key(LAST_MODIFIED) && !headers.contains_key(ETAG));
    assert!(body.contains("<gdacs:alertlevel>Orange</gdacs:alertlevel>"));
    assert_eq!(feed_entries(&body).len(), 4);

    for (id, array) in [("bmkg-autogempa", false), ("bmkg-gempaterkini", true)] {
        let url = &registry.source("global", id).unwrap().source.url;
        let (status, _, body) = fetch(url).await;
        assert_eq!(status, StatusCode::OK, "{id}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["Infogempa"]["gempa"].is_array(), array, "{id}");
    }

    // Unknown paths on an imitated host are 404, like elsewhere.
    let (status, _, _) = fetch(&format!(
        "{}/remote/earthquake.usgs.gov/earthquakes/feed/v1.0/summary/all_month.geojson",
        server.base_url()
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn reliefweb_is_not_imitated_so_an_offline_run_drops_it() {
    let mut registry = Registry::load_default().unwrap();
    registry.add_reliefweb("pantau");
    point_registry_at(&mut registry, "http://127.0.0.1:4242");
    assert_eq!(
        retain_served_sources(&mut registry, "http://127.0.0.1:4242"),
        1
    );
    assert!(registry.source("global", "reliefweb").is_none());
}

#[test]
fn every_hazard_recording_is_well_formed_and_on_the_snapshot_timeline() {
    for recording in HAZARD_RECORDINGS {
        if recording.content_type.contains("json") {
            let _: Value = serde_json::from_str(recording.body)
                .unwrap_or_else(|e| panic!("{}{}: {e}", recording.host, recording.path));
        } else {
            feed_entries(recording.body);
        }
        // Served before the snapshot's moment (28 Nov 2026 00:00 UTC).
        let at = chrono::DateTime::parse_from_rfc2822(recording.last_modified).unwrap();
        assert!(at < snapshot::snapshot_time(), "{}", recording.path);
    }
    for (_, _, body) in GOOGLE_NEWS_RECORDINGS {
        assert!(!feed_entries(body).is_empty());
    }
    for (_, body) in GDELT_RECORDINGS {
        assert!(!feed_entries(body).is_empty());
    }
}

/// The scrape stage needs nothing new for the hazard kinds: each is one GET of its URL,
/// stored raw under its owner `global`; a second cycle over the unchanged feeds writes nothing.
#[tokio::test]
async fn hazard_and_generated_sources_are_scraped_as_one_get_and_stored_raw() {
    use crate::scrape::{ScrapeConfig, Scraper};
    use crate::store::disk::DiskBlobStore;
    use crate::store::sqlite::SqliteTable;

    let server = server().await;
    let (mut registry, _) = default_registry_at(&server);
    registry.missions.retain(|m| m.id == "tokyo");
    let dir = tempfile::tempdir().unwrap();
    let blobs: Arc<dyn crate::store::BlobStore> = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let table = Arc::new(SqliteTable::in_memory().unwrap());
    let scraper = Scraper {
        registry: Arc::new(registry.clone()),
        blobs: blobs.clone(),
        table,
        fetcher: crate::fetch::Fetcher::new(crate::fetch::tests::loopback_policy()).unwrap(),
        config: ScrapeConfig::default(),
    };
    let now = chrono::Utc::now();
    let report = scraper.run_cycle(now).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // Tokyo: portal, media-japantimes, news-ja, news-en, gdelt; plus hq and 4 hazard feeds.
    assert_eq!(report.due, 10);
    assert_eq!(report.changed, 10);
    for (host, requests) in [
        ("earthquake.usgs.gov", 1),
        ("www.gdacs.org", 1),
        ("data.bmkg.go.id", 2),
        ("news.google.com", 2),
        ("api.gdeltproject.org", 1),
    ] {
        assert_eq!(
            server.requests(&format!("/remote/{host}/")),
            requests,
            "{host}"
        );
    }
    for id in [
        "usgs-4-5-day",
        "gdacs-24h",
        "bmkg-autogempa",
        "bmkg-gempaterkini",
    ] {
        let prefix = format!("/global/{id}/");
        let written: Vec<&String> = report
            .written
            .iter()
            .filter(|k| k.starts_with("raw/") && k.contains(&prefix))
            .collect();
        assert_eq!(written.len(), 1, "{id}: {:?}", report.written);
        let raw = blobs.get(written[0]).await.unwrap().unwrap();
        assert!(!raw.body.is_empty());
    }

    // A day later everything is due again and nothing has changed.
    let report = scraper.run_cycle(now + chrono::TimeDelta::days(1)).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.due, 10);
    assert_eq!(report.unchanged, 10);
    assert!(report.written.is_empty(), "{:?}", report.written);
}
