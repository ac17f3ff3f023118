//! Canonical URLs: one spelling per page, so the same publication linked with different
//! tracking parameters gets the same identity.

use url::Url;

/// Query parameters that only say how a reader arrived (campaigns, ad clicks, mailing lists).
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "vero_id",
    "oly_anon_id",
    "oly_enc_id",
    "rb_clickid",
    "s_cid",
    "ncid",
    "ocid",
    "spm",
];

fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The canonical form of an absolute http(s) URL: tracking parameters dropped (the others
/// kept, in order and as they were encoded), host lower case, default port and fragment
/// dropped. None when `raw` is not an absolute http(s) URL.
pub fn canonical_url(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    canonicalize(url)
}

/// Resolves `href` against `base` (when `href` is relative) and canonicalizes the result.
pub fn resolve(base: Option<&str>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = match Url::parse(href) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            Url::parse(base?.trim()).ok()?.join(href).ok()?
        }
        Err(_) => return None,
    };
    canonicalize(url)
}

fn canonicalize(mut url: Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    // The url crate already lower-cases (and punycodes) the host and drops a default port
    // for http(s); what is left is the query and the fragment.
    url.set_fragment(None);
    let kept: Vec<String> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            !is_tracking_param(&name)
        })
        .map(str::to_owned)
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.set_query(Some(&kept.join("&")));
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trackers_go_other_params_stay_in_order() {
        let cases = [
            (
                "https://Example.ORG:443/a/b?utm_source=x&id=3&fbclid=abc&b=2&UTM_Medium=y#frag",
                Some("https://example.org/a/b?id=3&b=2"),
            ),
            (
                "http://example.org:80/?gclid=1&mc_cid=2&mc_eid=3",
                Some("http://example.org/"),
            ),
            (
                "https://example.org:8443/x?q=a%20b&z",
                Some("https://example.org:8443/x?q=a%20b&z"),
            ),
            ("https://example.org/x?", Some("https://example.org/x")),
            (
                "https://BÜCHER.example/",
                Some("https://xn--bcher-kva.example/"),
            ),
            ("mailto:a@example.org", None),
            ("javascript:alert(1)", None),
            ("/relative/only", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_url(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Some("https://news.example.org/feed/rss.xml?utm_source=x");
        assert_eq!(
            resolve(base, "../2025/01/story.html?utm_campaign=c#top").as_deref(),
            Some("https://news.example.org/2025/01/story.html")
        );
        assert_eq!(
            resolve(base, "//cdn.example.org/i.jpg").as_deref(),
            Some("https://cdn.example.org/i.jpg")
        );
        assert_eq!(resolve(None, "story.html"), None);
        assert_eq!(resolve(base, "  "), None);
        assert_eq!(
            resolve(None, "HTTPS://Other.example/p").as_deref(),
            Some("https://other.example/p")
        );
    }
}
