//! robots.txt: parsed once per origin, cached for a while, consulted before every request.
//!
//! What is supported (RFC 9309's core): `User-agent` groups, where the group naming our
//! product token (`pantau`) wins over `*`; `Allow` / `Disallow` with `*` wildcards and a
//! trailing `$`; the longest matching pattern decides, `Allow` winning a tie. Everything
//! else (`Crawl-delay`, `Sitemap`, unknown lines) is ignored: politeness has its own settings.
//!
//! Fetch outcomes: 2xx → the rules; 4xx (404 most often) → no rules, everything allowed;
//! 5xx or a network failure → allowed for now, with a warning (RFC 9309 would have us stop
//! crawling the site; a mission portal with a flaky robots.txt should not go dark).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

/// The product token robots.txt groups are matched against.
pub const ROBOTS_AGENT: &str = "pantau";

/// The rules of one robots.txt that apply to us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RobotsRules {
    /// (allow, pattern), from the group for `pantau` if there is one, else from `*`.
    rules: Vec<(bool, String)>,
}

impl RobotsRules {
    /// No rules: everything allowed (no robots.txt, or one we could not read).
    pub fn allow_all() -> RobotsRules {
        RobotsRules::default()
    }

    /// Parses a robots.txt for `agent` (a lower-case product token). Never fails: lines it
    /// does not understand are skipped.
    pub fn parse(text: &str, agent: &str) -> RobotsRules {
        let agent = agent.to_ascii_lowercase();
        let mut ours: Vec<(bool, String)> = Vec::new();
        let mut any: Vec<(bool, String)> = Vec::new();
        let mut named_us = false;
        // The agents of the group being read, and whether its rules have started (a
        // `User-agent` line after rules opens a new group).
        let mut group_agents: Vec<String> = Vec::new();
        let mut in_rules = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            let field = field.trim().to_ascii_lowercase();
            let value = value.trim();
            match field.as_str() {
                "user-agent" => {
                    if in_rules {
                        group_agents.clear();
                        in_rules = false;
                    }
                    group_agents.push(product_token(value));
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    // An empty `Disallow:` allows everything: no rule needed.
                    if value.is_empty() {
                        continue;
                    }
                    let rule = (field == "allow", normalize_pattern(value));
                    if group_agents.contains(&agent) {
                        named_us = true;
                        ours.push(rule.clone());
                    }
                    if group_agents.iter().any(|a| a == "*") {
                        any.push(rule);
                    }
                }
                _ => {}
            }
            // A group naming us with no rules at all still counts as naming us.
            if field == "user-agent" && product_token(value) == agent {
                named_us = true;
            }
        }
        RobotsRules {
            rules: if named_us { ours } else { any },
        }
    }

    /// Whether `url` may be fetched: the longest matching pattern decides, Allow on ties.
    pub fn allows(&self, url: &Url) -> bool {
        let mut target = url.path().to_owned();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        if target == "/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if pattern_matches(pattern, &target) {
                let len = pattern.len();
                let better = match best {
                    None => true,
                    Some((best_len, best_allow)) => {
                        len > best_len || (len == best_len && *allow && !best_allow)
                    }
                };
                if better {
                    best = Some((len, *allow));
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// `Pantau/0.1 (+https://…)` → `pantau`: groups name a crawler by its product token.
fn product_token(user_agent: &str) -> String {
    user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Patterns are compared with URLs as the `url` crate serializes them: non-ASCII characters
/// percent-encoded (`/berita/ü` → `/berita/%C3%BC`).
fn normalize_pattern(pattern: &str) -> String {
    const NON_ASCII: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b' ');
    percent_encoding::utf8_percent_encode(pattern, NON_ASCII).to_string()
}

/// A robots.txt pattern against a path (+query): a prefix match, `*` matching any run of
/// characters, `$` at the end anchoring it.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = path;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 && anchored {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    !anchored || rest.is_empty()
}

/// Parsed robots.txt per origin (`scheme://host:port`), each kept for `ttl`. One lock per
/// origin, so concurrent requests to a host wait for one robots.txt fetch, not one each.
pub(crate) struct RobotsCache {
    ttl: Duration,
    origins: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

struct Cached {
    rules: Arc<RobotsRules>,
    until: Instant,
}

impl RobotsCache {
    pub(crate) fn new(ttl: Duration) -> RobotsCache {
        RobotsCache {
            ttl,
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// The rules for `url`'s origin, calling `load` when they are missing or stale.
    pub(crate) async fn rules_for<F, Fut>(&self, url: &Url, load: F) -> Arc<RobotsRules>
    where
        F: FnOnce(Url) -> Fut,
        Fut: std::future::Future<Output = RobotsRules>,
    {
        let origin = url.origin().ascii_serialization();
        let slot = {
            let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
            origins.entry(origin).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.until > Instant::now()) {
            return c.rules.clone();
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let rules = Arc::new(load(robots_url).await);
        *cached = Some(Cached {
            rules: rules.clone(),
            until: Instant::now() + self.ttl,
        });
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(rules: &RobotsRules, path: &str) -> bool {
        rules.allows(
            &Url::parse("https://example.org")
                .unwrap()
                .join(path)
                .unwrap(),
        )
    }

    #[test]
    fn our_group_wins_over_the_star_group() {
        let text = "\
# comment
User-agent: *
Disallow: /

User-agent: Googlebot
User-agent: Pantau
Disallow: /private   # trailing comment
Allow: /private/open
";
        let rules = RobotsRules::parse(text, ROBOTS_AGENT);
        assert!(allows(&rules, "/news"));
        assert!(!allows(&rules, "/private/x"));
        assert!(allows(&rules, "/private/open/page"));
        // Others fall under `*`.
        let other = RobotsRules::parse(text, "someone");
        assert!(!allows(&other, "/news"));
        assert!(allows(&other, "/robots.txt"));
    }

    #[test]
    fn longest_match_decides_and_allow_wins_ties() {
        let text =
            "User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\nAllow: /x\nDisallow: /x\n";
        let rules = RobotsRules::parse(text, ROBOTS_AGENT);
        assert!(!allows(&rules, "/a"));
        assert!(allows(&rules, "/a/b"));
        assert!(!allows(&rules, "/a/b/c/d"));
        assert!(allows(&rules, "/x"));
        assert!(allows(&rules, "/b"));
    }

    #[test]
    fn agents_match_by_product_token_and_patterns_by_encoded_path() {
        let text = "User-agent: Pantau/0.1\nDisallow: /berita/ü\n";
        let rules = RobotsRules::parse(text, ROBOTS_AGENT);
        assert!(!allows(&rules, "/berita/ü-dan-lain"));
        assert!(allows(&rules, "/berita/u"));
    }

    #[test]
    fn wildcards_and_anchors() {
        let text = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search?*q=\nDisallow: /tmp*\n";
        let rules = RobotsRules::parse(text, ROBOTS_AGENT);
        assert!(!allows(&rules, "/files/report.pdf"));
        assert!(allows(&rules, "/files/report.pdf?x=1"));
        assert!(!allows(&rules, "/search?lang=id&q=wni"));
        assert!(allows(&rules, "/search?lang=id"));
        assert!(!allows(&rules, "/tmpfile"));
        assert!(pattern_matches("/a$", "/a"));
        assert!(!pattern_matches("/a$", "/ab"));
        assert!(pattern_matches("/*", "/anything"));
        assert!(pattern_matches("*", "/"));
    }

    #[test]
    fn empty_missing_and_garbage_files_allow_everything() {
        for text in [
            "",
            "User-agent: *\nDisallow:\n",
            "\u{feff}garbage\n\0\0:::\nDisallow /x\n",
            "Disallow: /\n", // a rule outside any group applies to nobody
        ] {
            let rules = RobotsRules::parse(text, ROBOTS_AGENT);
            assert!(allows(&rules, "/x"), "{text:?}");
        }
        assert!(allows(&RobotsRules::allow_all(), "/anything"));
    }

    #[test]
    fn a_group_naming_us_without_rules_allows_all_even_if_star_disallows() {
        let text = "User-agent: *\nDisallow: /\n\nUser-agent: pantau\nAllow:\n";
        let rules = RobotsRules::parse(text, ROBOTS_AGENT);
        assert!(allows(&rules, "/news"));
    }

    #[tokio::test]
    async fn the_cache_loads_once_per_origin_within_the_ttl() {
        let cache = RobotsCache::new(Duration::from_secs(3600));
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let load = |url: Url| {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert_eq!(url.path(), "/robots.txt");
            async { RobotsRules::parse("User-agent: *\nDisallow: /no\n", ROBOTS_AGENT) }
        };
        let a = Url::parse("https://example.org/feed?x=1").unwrap();
        let b = Url::parse("https://example.org/no/page").unwrap();
        let c = Url::parse("https://other.example.org/").unwrap();
        assert!(cache.rules_for(&a, load).await.allows(&a));
        assert!(!cache.rules_for(&b, load).await.allows(&b));
        cache.rules_for(&c, load).await;
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
