//! The dashboard page: static assets built into the binary (ministry networks may block
//! CDNs), with a Content Security Policy that allows nothing but this origin. All data is
//! drawn with `textContent`, never as HTML, so a hostile title stays text.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");
const MAP_SCRIPT: &str = include_str!("../assets/map.js");
const CHART_SCRIPT: &str = include_str!("../assets/chart.js");
const CRISES_SCRIPT: &str = include_str!("../assets/crises.js");
/// Country outlines for the map (Natural Earth; how it is made: tools/worldmap/README.md).
const WORLD: &str = include_str!("../assets/world.json");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The page and its assets: path, content type, body. The router and the OpenAPI document
/// are both built from this list.
pub const ASSETS: [(&str, &str, &str); 7] = [
    ("/", "text/html; charset=utf-8", INDEX),
    ("/assets/app.js", "text/javascript; charset=utf-8", SCRIPT),
    (
        "/assets/map.js",
        "text/javascript; charset=utf-8",
        MAP_SCRIPT,
    ),
    (
        "/assets/chart.js",
        "text/javascript; charset=utf-8",
        CHART_SCRIPT,
    ),
    (
        "/assets/crises.js",
        "text/javascript; charset=utf-8",
        CRISES_SCRIPT,
    ),
    ("/assets/app.css", "text/css; charset=utf-8", STYLE),
    ("/assets/world.json", "application/json", WORLD),
];

/// `/` and its assets; merged into the API router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new();
    for (path, content_type, body) in ASSETS {
        router = router.route(path, get(move || async move { asset(content_type, body) }));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_a_search_box_and_the_script_never_writes_html() {
        assert!(INDEX.contains(r#"id="search-form""#) && INDEX.contains(r#"id="search-q""#));
        assert!(SCRIPT.contains("/search?"));
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.contains(sink), "app.js uses {sink}");
        }
        // Inline script or style would need the CSP loosened.
        assert!(!INDEX.contains("<script>") && !INDEX.contains("style="));
    }
}
