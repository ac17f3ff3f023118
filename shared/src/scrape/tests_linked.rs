//! Linked pages (html_list articles, sitemaps, portal publication details), source health,
//! the User-Agent, lying validators and per-host politeness, against real HTTP on loopback
//! with a disk blob store and SQLite.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::*;
use crate::fetch::FetchPolicy;
use crate::fetch::tests::{loopback_policy, serve};
use crate::model::{ListSelectors, Mission, MissionKind, Role, Source};
use crate::parse::ParseInput;
use crate::store::disk::DiskBlobStore;
use crate::store::sqlite::SqliteTable;
use crate::store::testing::list_all;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn hours(n: i64) -> chrono::Duration {
    chrono::Duration::hours(n)
}

fn source(id: &str, kind: SourceKind, url: &str) -> Source {
    Source {
        id: id.into(),
        kind,
        role: Role::Media,
        url: url.into(),
        cadence_minutes: 60,
        portal: None,
        section: None,
        language: None,
        time_zone: None,
        conditional_get: true,
        list: ListSelectors::default(),
    }
}

struct Harness {
    scraper: Scraper,
    blobs: Arc<DiskBlobStore>,
    table: Arc<SqliteTable>,
    _dir: tempfile::TempDir,
}

fn harness(sources: Vec<Source>, policy: FetchPolicy, config: ScrapeConfig) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(DiskBlobStore::new(dir.path()).unwrap());
    let table = Arc::new(SqliteTable::in_memory().unwrap());
    let registry = Registry {
        missions: vec![Mission {
            id: "tokyo".into(),
            kind: MissionKind::Kbri,
            city: "Tokyo".into(),
            country: "Jepang".into(),
            country_code: "JP".into(),
            time_zone: "Asia/Tokyo".into(),
            sources,
        }],
        ..Registry::default()
    };
    Harness {
        scraper: Scraper {
            registry: Arc::new(registry),
            blobs: blobs.clone(),
            table: table.clone(),
            fetcher: Fetcher::new(policy).unwrap(),
            config,
        },
        blobs,
        table,
        _dir: dir,
    }
}

impl Harness {
    fn src(&self, id: &str) -> SourceRef<'_> {
        self.scraper
            .registry
            .sources()
            .find(|s| s.source.id == id)
            .unwrap()
    }
    async fn state(&self, id: &str) -> SourceState {
        let item = self
            .table
            .get(&state_key("tokyo", id))
            .await
            .unwrap()
            .expect("state written");
        serde_json::from_value(Value::Object(item)).unwrap()
    }
    async fn raw(&self, key: &str) -> (RawMeta, Vec<u8>) {
        let blob = self.blobs.get(key).await.unwrap().unwrap();
        (
            RawMeta::from_metadata(&blob.meta.metadata).unwrap(),
            blob.body.to_vec(),
        )
    }
    async fn keys(&self) -> Vec<String> {
        list_all(self.blobs.as_ref(), "").await.unwrap()
    }
}

/// Hits per request path.
#[derive(Default)]
struct Hits(Mutex<BTreeMap<String, usize>>);

impl Hits {
    fn hit(&self, path: &str) {
        *self.0.lock().unwrap().entry(path.to_owned()).or_default() += 1;
    }
    fn of(&self, path: &str) -> usize {
        self.0.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn article_page(n: &str) -> String {
    format!(
        "<html lang=\"id\"><head><title>Berita {n}</title>\
         <meta property=\"article:published_time\" content=\"2025-05-3{n}T09:00:00+09:00\"></head>\
         <body><nav><a href=\"/\">Beranda</a></nav><article><h1>Berita {n}</h1>\
         <p>KBRI Tokyo menyelenggarakan kegiatan nomor {n} bersama diaspora Indonesia di Jepang, \
         dihadiri oleh ratusan warga negara Indonesia dari berbagai kota.</p>\
         <p>Duta Besar menyampaikan terima kasih atas partisipasi masyarakat dan berharap \
         kegiatan serupa dapat terus diadakan setiap tahun.</p></article></body></html>"
    )
}

// ---- html_list ---------------------------------------------------------------------------

/// A listing page linking the article numbers in `links` (`9` is on `localhost`, another host
/// than `127.0.0.1`), with an ETag that follows its content and honours `If-None-Match`.
async fn listing_server(hits: Arc<Hits>, links: Arc<Mutex<Vec<&'static str>>>) -> Url {
    let page_hits = hits.clone();
    let router = Router::new()
        .route(
            "/list.html",
            get(move |headers: HeaderMap| {
                let (hits, links) = (page_hits.clone(), links.clone());
                async move {
                    hits.hit("/list.html");
                    let links = links.lock().unwrap().clone();
                    let etag = format!("\"{}\"", links.join("-"));
                    if headers
                        .get(header::IF_NONE_MATCH)
                        .is_some_and(|v| *v == *etag)
                    {
                        hits.hit("/list.html 304");
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    let port = headers
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .and_then(|h| h.rsplit(':').next())
                        .unwrap_or("0")
                        .to_owned();
                    let items: String = links
                        .iter()
                        .map(|n| match *n {
                            "9" => format!(
                                "<li><a href=\"http://localhost:{port}/berita/9\">Elsewhere</a></li>"
                            ),
                            n => format!(
                                "<li><a href=\"/berita/{n}?utm_source=list\">Berita {n}</a></li>"
                            ),
                        })
                        .collect();
                    (
                        [
                            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
                            (header::ETAG, etag),
                        ],
                        format!("<html><body><ul class=\"news\">{items}</ul></body></html>"),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/berita/{n}",
            get(move |Path(n): Path<String>| {
                let hits = hits.clone();
                async move {
                    hits.hit(&format!("/berita/{n}"));
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        article_page(&n),
                    )
                }
            }),
        );
    serve(router).await
}

fn links(list: &[&'static str]) -> Arc<Mutex<Vec<&'static str>>> {
    Arc::new(Mutex::new(list.to_vec()))
}

#[tokio::test]
async fn html_list_fetches_each_new_article_once_within_the_per_cycle_limit_and_host() {
    let hits = Arc::new(Hits::default());
    let listed = links(&["2", "1"]);
    let base = listing_server(hits.clone(), listed.clone()).await;
    let mut list = source(
        "berita",
        SourceKind::HtmlList,
        base.join("list.html").unwrap().as_str(),
    );
    list.list = ListSelectors {
        list_item: Some("ul.news li".into()),
        ..ListSelectors::default()
    };
    let config = ScrapeConfig {
        max_new_linked: 2,
        ..ScrapeConfig::default()
    };
    let h = harness(vec![list], loopback_policy(), config);

    // Cycle 1: the listing and its two articles.
    let first = h
        .scraper
        .scrape_source(h.src("berita"), t0())
        .await
        .unwrap();
    assert_eq!(first.linked_fetched, 2);
    assert_eq!(first.written.len(), 3, "{:?}", first.written);
    assert_eq!((hits.of("/berita/1"), hits.of("/berita/2")), (1, 1));
    let (listing_meta, _) = h.raw(&first.written[0]).await;
    assert!(!listing_meta.article);
    for key in &first.written[1..] {
        let (meta, body) = h.raw(key).await;
        assert!(meta.article, "{key}");
        assert_eq!(meta.kind, SourceKind::HtmlList);
        // Normalize reads it with the article extractor.
        let items = crate::parse::parse(&ParseInput {
            body: &body,
            meta: &meta,
            raw_key: key,
            time_zone: "Asia/Tokyo",
            source_language: None,
        })
        .unwrap();
        assert_eq!(items.len(), 1, "{key}");
        assert!(items[0].title.starts_with("Berita "), "{}", items[0].title);
        assert!(items[0].body.as_deref().unwrap_or("").contains("diaspora"));
    }
    assert_eq!(first.state.seen.len(), 2);

    // Cycle 2: three new articles, one elsewhere: the two listed first are fetched.
    *listed.lock().unwrap() = vec!["5", "4", "9", "3", "2", "1"];
    let second = h
        .scraper
        .scrape_source(h.src("berita"), t0() + hours(1))
        .await
        .unwrap();
    assert_eq!(second.linked_fetched, 2);
    assert_eq!((hits.of("/berita/5"), hits.of("/berita/4")), (1, 1));
    assert_eq!(hits.of("/berita/3"), 0, "over the per-cycle limit");

    // Cycle 3: an article was left over, so the listing is asked for without its ETag (a 304
    // would hide the links), found unchanged by hash, and the last article is fetched.
    let third = h
        .scraper
        .scrape_source(h.src("berita"), t0() + hours(2))
        .await
        .unwrap();
    assert_eq!(hits.of("/list.html 304"), 0);
    assert_eq!(third.linked_fetched, 1);
    assert_eq!(third.written.len(), 1, "only the new article");
    assert_eq!(hits.of("/berita/3"), 1);
    assert_eq!(hits.of("/berita/9"), 0, "another host is not followed");

    // Cycle 4: nothing left: a 304 and no article fetched again.
    let fourth = h
        .scraper
        .scrape_source(h.src("berita"), t0() + hours(3))
        .await
        .unwrap();
    assert_eq!(hits.of("/list.html 304"), 1);
    assert!(fourth.written.is_empty());
    assert_eq!(fourth.linked_fetched, 0);
    for n in ["1", "2", "3", "4", "5"] {
        assert_eq!(hits.of(&format!("/berita/{n}")), 1, "article {n}");
    }
    assert_eq!(h.state("berita").await.seen.len(), 5);
}

#[tokio::test]
async fn a_first_run_fetches_at_most_the_limit_and_leaves_the_older_articles_for_good() {
    let hits = Arc::new(Hits::default());
    let base = listing_server(hits.clone(), links(&["3", "2", "1"])).await;
    let list = source(
        "berita",
        SourceKind::HtmlList,
        base.join("list.html").unwrap().as_str(),
    );
    let config = ScrapeConfig {
        max_new_linked: 2,
        ..ScrapeConfig::default()
    };
    let h = harness(vec![list], loopback_policy(), config);
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(report.linked_fetched, 2);
    assert_eq!(hits.of("/berita/1"), 0);
    // The next cycle over the unchanged listing writes nothing and fetches no article.
    let report = h.scraper.run_cycle(t0() + hours(2)).await;
    assert_eq!((report.due, report.not_modified), (1, 1));
    assert!(report.written.is_empty());
    assert_eq!(hits.of("/berita/1"), 0);
}

#[tokio::test]
async fn follow_other_hosts_lets_a_listing_link_elsewhere_and_the_seen_set_stays_bounded() {
    let hits = Arc::new(Hits::default());
    let listed = links(&["1", "2", "9"]);
    let base = listing_server(hits.clone(), listed.clone()).await;
    let mut list = source(
        "berita",
        SourceKind::HtmlList,
        base.join("list.html").unwrap().as_str(),
    );
    list.list.follow_other_hosts = true;
    // Six remembered pages; a listing's first three links are considered.
    let config = ScrapeConfig {
        seen_capacity: 6,
        ..ScrapeConfig::default()
    };
    let h = harness(vec![list], loopback_policy(), config);
    let src = h.src("berita");
    let first = h.scraper.scrape_source(src, t0()).await.unwrap();
    assert_eq!(first.linked_fetched, 3);
    assert_eq!(hits.of("/berita/9"), 1, "the other host is followed");

    *listed.lock().unwrap() = vec!["5", "4", "3", "2", "1"];
    let second = h.scraper.scrape_source(src, t0() + hours(1)).await.unwrap();
    assert_eq!(second.linked_fetched, 3);
    *listed.lock().unwrap() = vec!["7", "6", "5"];
    let third = h.scraper.scrape_source(src, t0() + hours(2)).await.unwrap();
    assert_eq!(third.linked_fetched, 2);
    // Eight pages fetched, six remembered: the oldest are forgotten first.
    let state = h.state("berita").await;
    assert_eq!(state.seen.len(), 6);
    let hash = |n: &str| link_hash(base.join(&format!("berita/{n}")).unwrap().as_str());
    assert!(!state.seen.contains(&hash("1")));
    assert!(!state.seen.contains(&hash("2")));
    assert!(state.seen.contains(&hash("7")));
    assert!(state.seen.contains(&hash("3")));
}

// ---- sitemap -----------------------------------------------------------------------------

#[tokio::test]
async fn a_sitemap_index_is_followed_within_its_limit_and_its_pages_fetched_once() {
    let hits = Arc::new(Hits::default());
    let (h2, h3) = (hits.clone(), hits.clone());
    let router = Router::new()
        .route(
            "/sitemap_index.xml",
            get(move |headers: HeaderMap| {
                let hits = h2.clone();
                async move {
                    hits.hit("/sitemap_index.xml");
                    let host = headers.get(header::HOST).unwrap().to_str().unwrap().to_owned();
                    let children: String = ["s1", "s2", "s3"]
                        .iter()
                        .map(|s| format!("<sitemap><loc>http://{host}/{s}.xml</loc></sitemap>"))
                        .collect();
                    (
                        [(header::CONTENT_TYPE, "application/xml")],
                        format!(
                            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{children}</sitemapindex>"
                        ),
                    )
                }
            }),
        )
        .route(
            "/{file}",
            get(move |Path(file): Path<String>, headers: HeaderMap| {
                let hits = h3.clone();
                async move {
                    hits.hit(&format!("/{file}"));
                    let host = headers.get(header::HOST).unwrap().to_str().unwrap().to_owned();
                    let pages: &[&str] = match file.as_str() {
                        "s1.xml" => &["1", "2"],
                        "s2.xml" => &["2", "3"],
                        "s3.xml" => &["4"],
                        _ => {
                            return (
                                [(header::CONTENT_TYPE, "text/html")],
                                article_page(file.trim_start_matches("page")),
                            )
                                .into_response();
                        }
                    };
                    let urls: String = pages
                        .iter()
                        .map(|n| {
                            format!(
                                "<url><loc>http://{host}/page{n}</loc><news:news><news:publication>\
                                 <news:name>X</news:name><news:language>id</news:language></news:publication>\
                                 <news:publication_date>2025-05-30</news:publication_date>\
                                 <news:title>Berita {n}</news:title></news:news></url>"
                            )
                        })
                        .collect();
                    (
                        [(header::CONTENT_TYPE, "application/xml")],
                        format!(
                            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
                             xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">{urls}</urlset>"
                        ),
                    )
                        .into_response()
                }
            }),
        );
    let base = serve(router).await;
    let config = ScrapeConfig {
        max_child_sitemaps: 2,
        ..ScrapeConfig::default()
    };
    let h = harness(
        vec![source(
            "sitemap",
            SourceKind::Sitemap,
            base.join("sitemap_index.xml").unwrap().as_str(),
        )],
        loopback_policy(),
        config,
    );

    let report = h.scraper.run_cycle(t0()).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.linked_fetched, 3, "pages 1, 2 and 3, page 2 once");
    assert_eq!(hits.of("/s3.xml"), 0, "the third child is over the limit");
    assert_eq!(
        report.written.len(),
        3 + 3,
        "index, two children, three pages"
    );
    let mut articles = 0;
    let mut news_items = 0;
    for key in &report.written {
        let (meta, body) = h.raw(key).await;
        let items = crate::parse::parse(&ParseInput {
            body: &body,
            meta: &meta,
            raw_key: key,
            time_zone: "Asia/Tokyo",
            source_language: None,
        })
        .unwrap();
        if meta.article {
            articles += 1;
            assert_eq!(items.len(), 1);
        } else {
            news_items += items.len();
        }
    }
    assert_eq!((articles, news_items), (3, 4));

    // Next cycle: the sitemaps are unchanged and no page is fetched again.
    let outcome = h
        .scraper
        .scrape_source(h.src("sitemap"), t0() + hours(1))
        .await
        .unwrap();
    assert!(outcome.written.is_empty(), "{:?}", outcome.written);
    assert_eq!(outcome.linked_fetched, 0);
    for n in ["1", "2", "3"] {
        assert_eq!(hits.of(&format!("/page{n}")), 1, "page {n}");
    }
    assert_eq!(h.keys().await.len(), 6);
}

// ---- kemlu portal details ----------------------------------------------------------------

#[tokio::test]
async fn portal_publication_details_are_fetched_once_each_new_publication() {
    let hits = Arc::new(Hits::default());
    let slugs = Arc::new(Mutex::new(vec!["dua", "satu"]));
    let (h2, h3, s2) = (hits.clone(), hits.clone(), slugs.clone());
    let router = Router::new()
        .route(
            "/api/contentMenu",
            get(move || {
                let (hits, slugs) = (h2.clone(), s2.clone());
                async move {
                    hits.hit("list");
                    let list: Vec<_> = slugs
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|s| serde_json::json!({"slug": s, "title": format!("Judul {s}")}))
                        .collect();
                    axum::Json(
                        serde_json::json!({"data": {"publication": list, "meta": {"filtered": 2}}}),
                    )
                }
            }),
        )
        .route(
            "/api/content/publication",
            get(move |RawQuery(query): RawQuery| {
                let hits = h3.clone();
                async move {
                    let query = query.unwrap_or_default();
                    let slug = url::form_urlencoded::parse(query.as_bytes())
                        .find(|(k, _)| k == "slug")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    hits.hit(&slug);
                    assert!(query.contains("portal=tokyo"), "{query}");
                    axum::Json(serde_json::json!({"data": {
                        "slug": slug,
                        "title": format!("Judul {slug}"),
                        "publish_date": "2025-05-30 10:00:00",
                        "content_detail": "<p>Isi lengkap berita.</p>"
                    }}))
                }
            }),
        );
    let base = serve(router).await;
    let mut portal = source(
        "portal-berita",
        SourceKind::KemluPortal,
        base.join("api").unwrap().as_str(),
    );
    portal.role = Role::Official;
    portal.section = Some("berita".into());
    let config = ScrapeConfig {
        fetch_portal_details: true,
        ..ScrapeConfig::default()
    };
    let h = harness(vec![portal], loopback_policy(), config);

    let first = h
        .scraper
        .scrape_source(h.src("portal-berita"), t0())
        .await
        .unwrap();
    assert_eq!(first.linked_fetched, 2);
    assert_eq!((hits.of("satu"), hits.of("dua")), (1, 1));
    assert_eq!(first.written.len(), 3, "the list and two details");
    let detail = first.written.last().unwrap();
    let (meta, body) = h.raw(detail).await;
    assert_eq!(meta.kind, SourceKind::KemluPortal);
    assert!(!meta.article);
    assert!(
        meta.url
            .contains("/api/content/publication?portal=tokyo&slug="),
        "{}",
        meta.url
    );
    let items = crate::parse::parse(&ParseInput {
        body: &body,
        meta: &meta,
        raw_key: detail,
        time_zone: "Asia/Tokyo",
        source_language: None,
    })
    .unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].title.starts_with("Judul "));

    // A new publication appears: only its detail is fetched.
    slugs.lock().unwrap().insert(0, "tiga");
    let second = h
        .scraper
        .scrape_source(h.src("portal-berita"), t0() + hours(1))
        .await
        .unwrap();
    assert_eq!(second.linked_fetched, 1);
    assert_eq!(
        (hits.of("satu"), hits.of("dua"), hits.of("tiga")),
        (1, 1, 1)
    );
    // And nothing once more.
    let third = h
        .scraper
        .scrape_source(h.src("portal-berita"), t0() + hours(2))
        .await
        .unwrap();
    assert_eq!(third.linked_fetched, 0);
    assert_eq!(hits.of("list"), 3);
}

// ---- health ------------------------------------------------------------------------------

#[tokio::test]
async fn a_source_failing_n_times_is_marked_unhealthy_retried_slowly_and_cleared_by_success() {
    let failing = Arc::new(Mutex::new(true));
    let f2 = failing.clone();
    let base = serve(Router::new().route(
        "/feed.xml",
        get(move || {
            let failing = f2.clone();
            async move {
                if *failing.lock().unwrap() {
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                } else {
                    "<rss><channel><title>ok</title></channel></rss>".into_response()
                }
            }
        }),
    ))
    .await;
    let config = ScrapeConfig {
        unhealthy_after_failures: 2,
        unhealthy_retry_delay: Duration::from_secs(5 * 3600),
        ..ScrapeConfig::default()
    };
    let mut feed = source(
        "feed",
        SourceKind::Feed,
        base.join("feed.xml").unwrap().as_str(),
    );
    // Short cadence: backoff alone would retry within the hour.
    feed.cadence_minutes = 5;
    let h = harness(vec![feed], loopback_policy(), config);

    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!((report.failed.len(), report.unhealthy_sources), (1, 0));
    let state = h.state("feed").await;
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(state.unhealthy_since, None);
    assert!(state.next_due_at.unwrap() < t0() + hours(1));

    let later = t0() + hours(1);
    let report = h.scraper.run_cycle(later).await;
    assert_eq!((report.failed.len(), report.unhealthy_sources), (1, 1));
    let state = h.state("feed").await;
    assert_eq!(state.unhealthy_since, Some(later));
    let reason = state.unhealthy_reason.clone().unwrap();
    assert!(
        reason.contains("2 failures in a row") && reason.contains("500"),
        "{reason}"
    );
    assert!(
        state.next_due_at.unwrap() >= later + hours(5),
        "retried slowly"
    );
    assert!(is_unhealthy(&state));

    // Not due yet: still counted as unhealthy.
    let report = h.scraper.run_cycle(later + hours(1)).await;
    assert_eq!((report.due, report.unhealthy_sources), (0, 1));

    // Still failing: the mark keeps its date.
    let again = later + hours(6);
    h.scraper.run_cycle(again).await;
    let state = h.state("feed").await;
    assert_eq!(state.consecutive_failures, 3);
    assert_eq!(state.unhealthy_since, Some(later));

    *failing.lock().unwrap() = false;
    let report = h.scraper.run_cycle(again + hours(6)).await;
    assert_eq!((report.fetched, report.unhealthy_sources), (1, 0));
    let state = h.state("feed").await;
    assert_eq!(
        (state.unhealthy_since, state.unhealthy_reason),
        (None, None)
    );
    assert_eq!(state.consecutive_failures, 0);
}

#[test]
fn a_state_written_before_the_health_fields_still_reads() {
    let old = serde_json::json!({
        "owner": "tokyo", "source": "feed", "last_attempt_at": null, "last_success_at": null,
        "last_change_at": null, "consecutive_failures": 1, "last_error": "x", "next_due_at": null
    });
    let state: SourceState = serde_json::from_value(old).unwrap();
    assert_eq!(state.unhealthy_since, None);
    assert!(state.seen.is_empty());
}

// ---- User-Agent, validators, politeness --------------------------------------------------

#[tokio::test]
async fn the_user_agent_names_pantau_and_the_operators_contact_url() {
    let agents = Arc::new(Mutex::new(Vec::<String>::new()));
    let a2 = agents.clone();
    let base = serve(Router::new().route(
        "/feed.xml",
        get(move |headers: HeaderMap| {
            let agents = a2.clone();
            async move {
                let ua = headers.get(header::USER_AGENT).unwrap().to_str().unwrap();
                agents.lock().unwrap().push(ua.to_owned());
                "<rss/>"
            }
        }),
    ))
    .await;
    let policy = loopback_policy().with_contact_url(Some("https://ops.example.org/pantau"));
    let h = harness(
        vec![source(
            "feed",
            SourceKind::Feed,
            base.join("feed.xml").unwrap().as_str(),
        )],
        policy,
        ScrapeConfig::default(),
    );
    h.scraper.run_cycle(t0()).await;
    let agents = agents.lock().unwrap().clone();
    assert!(!agents.is_empty());
    for ua in agents {
        assert!(ua.starts_with("Pantau/"), "{ua}");
        assert!(ua.contains("+https://ops.example.org/pantau"), "{ua}");
    }
    assert_eq!(crate::fetch::user_agent(None), crate::fetch::USER_AGENT);
    assert_eq!(
        crate::fetch::user_agent(Some("  ")),
        crate::fetch::USER_AGENT
    );
    assert!(!crate::fetch::user_agent(Some("https://x.org/\r\nX: y")).contains('\n'));
}

/// A server whose ETag never changes though its content does, and which answers 304 to it.
async fn lying_server(version: Arc<AtomicUsize>) -> Url {
    serve(Router::new().route(
        "/feed.xml",
        get(move |headers: HeaderMap| {
            let version = version.clone();
            async move {
                if headers.get(header::IF_NONE_MATCH).is_some() {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                let v = version.load(Ordering::SeqCst);
                ([(header::ETAG, "\"same\"")], format!("<rss>v{v}</rss>")).into_response()
            }
        }),
    ))
    .await
}

#[tokio::test]
async fn a_source_with_lying_validators_sends_none_and_the_hash_decides() {
    let version = Arc::new(AtomicUsize::new(1));
    let base = lying_server(version.clone()).await;
    let url = base.join("feed.xml").unwrap();
    let mut honest = source("trusting", SourceKind::Feed, url.as_str());
    honest.cadence_minutes = 1;
    let mut liar = honest.clone();
    liar.id = "distrusting".into();
    liar.conditional_get = false;
    let h = harness(
        vec![honest, liar],
        loopback_policy(),
        ScrapeConfig::default(),
    );

    let first = h.scraper.run_cycle(t0()).await;
    assert_eq!(first.changed, 2);
    version.store(2, Ordering::SeqCst);
    let second = h.scraper.run_cycle(t0() + hours(1)).await;
    // The trusting source believes the 304 and misses v2; the other stores it.
    assert_eq!((second.changed, second.not_modified), (1, 1));
    let changed = &second.written[0];
    assert!(changed.contains("/distrusting/"), "{changed}");
    // And with the content the same, the hash says unchanged: nothing written.
    let third = h.scraper.run_cycle(t0() + hours(2)).await;
    assert!(third.written.is_empty(), "{:?}", third.written);
}

/// Request arrival times, per host name the client used.
#[derive(Default)]
struct Arrivals(Mutex<Vec<(String, std::time::Instant)>>);

#[tokio::test]
async fn a_search_hosts_interval_holds_across_the_fleet_and_other_hosts_are_not_slowed() {
    let arrivals = Arc::new(Arrivals::default());
    let a2 = arrivals.clone();
    let base = serve(Router::new().fallback(get(move |headers: HeaderMap| {
        let arrivals = a2.clone();
        async move {
            let host = headers.get(header::HOST).unwrap().to_str().unwrap();
            let name = host.rsplit_once(':').map_or(host, |(n, _)| n).to_owned();
            arrivals
                .0
                .lock()
                .unwrap()
                .push((name, std::time::Instant::now()));
            "<rss/>"
        }
    })))
    .await;
    let port = base.port().unwrap();
    // Six missions' search feeds on a throttled host, six feeds on another.
    let interval = Duration::from_millis(200);
    let mut policy = loopback_policy();
    policy.host_min_intervals = [("127.0.0.1".to_owned(), interval)].into();
    let mut sources = Vec::new();
    for n in 0..6 {
        sources.push(source(
            &format!("search-{n}"),
            SourceKind::Feed,
            &format!("http://127.0.0.1:{port}/search?q={n}"),
        ));
        sources.push(source(
            &format!("other-{n}"),
            SourceKind::Feed,
            &format!("http://localhost:{port}/feed{n}.xml"),
        ));
    }
    let config = ScrapeConfig {
        max_concurrent_sources: 12,
        ..ScrapeConfig::default()
    };
    let h = harness(sources, policy, config);
    let report = h.scraper.run_cycle(t0()).await;
    assert_eq!(report.fetched, 12, "{:?}", report.failed);

    let arrivals = arrivals.0.lock().unwrap().clone();
    let times = |host: &str| {
        let mut t: Vec<_> = arrivals
            .iter()
            .filter(|(h, _)| h == host)
            .map(|(_, at)| *at)
            .collect();
        t.sort();
        t
    };
    // Six feeds and robots.txt on the throttled host, each start at least the interval apart
    // (a little slack: the gate spaces starts at the client, this measures arrivals).
    let throttled = times("127.0.0.1");
    assert_eq!(throttled.len(), 7);
    let gaps: Vec<Duration> = throttled.windows(2).map(|w| w[1] - w[0]).collect();
    for gap in &gaps {
        assert!(*gap >= interval - Duration::from_millis(40), "{gaps:?}");
    }
    let other = times("localhost");
    assert_eq!(other.len(), 7);
    assert!(
        other[6] - other[0] < interval * 3,
        "the other host is not spaced: {:?}",
        other[6] - other[0]
    );
}

#[tokio::test]
async fn linked_page_failures_do_not_fail_the_source_and_only_lasting_ones_are_remembered() {
    let hits = Arc::new(Hits::default());
    let h2 = hits.clone();
    let router = Router::new()
        .route(
            "/list.html",
            get(|| async {
                "<ul><li><a href=\"/gone\">Gone</a></li><li><a href=\"/busy\">Busy</a></li></ul>"
            }),
        )
        .route(
            "/{page}",
            get(move |Path(page): Path<String>| {
                let hits = h2.clone();
                async move {
                    hits.hit(&page);
                    let status = if page == "gone" {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    Response::builder()
                        .status(status)
                        .body(axum::body::Body::empty())
                        .unwrap()
                }
            }),
        );
    let base = serve(router).await;
    let h = harness(
        vec![source(
            "list",
            SourceKind::HtmlList,
            base.join("list.html").unwrap().as_str(),
        )],
        loopback_policy(),
        ScrapeConfig::default(),
    );
    let report = h.scraper.run_cycle(t0()).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!((report.linked_fetched, report.linked_failed), (0, 2));
    h.scraper
        .scrape_source(h.src("list"), t0() + hours(1))
        .await
        .unwrap();
    // The 404 is not asked again; the 503 may pass, so it is.
    assert_eq!((hits.of("gone"), hits.of("busy")), (1, 2));
}
