//! An `html_list` source's listing page → its entries (article URL, title, date), read with
//! the CSS selectors the registry gives for the source ([`ListSelectors`]).
//!
//! Each element matching `list_item` is one entry; inside it, `link` (default: the first
//! `a[href]`) gives the URL, resolved against the page URL and made canonical; `title`
//! (default: the link's text, else its `title` attribute) the title; `date` (optional) the
//! visible date, or its `datetime`/`content` attribute, read by [`super::date`]. An item
//! without a usable link is skipped; the same URL twice is kept once. Fetching the article
//! pages themselves belongs to scrape.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html, Selector};

use super::ParseError;
use super::date::{ParsedDate, parse_date_at};
use super::text::{collapse_whitespace, normalize_title};
use super::url::{canonical_url, resolve};
use crate::model::ListSelectors;

/// Used when the registry names no `list_item`: an `<article>`, or a list entry.
const DEFAULT_LIST_ITEM: &str = "article, li";

/// One entry of a listing page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListEntry {
    pub url: String,
    pub title: Option<String>,
    pub date: Option<ParsedDate>,
    /// The date as the page wrote it.
    pub date_raw: Option<String>,
}

/// The entries of the listing page `html`, fetched from `page_url`, in page order.
/// `raw_key` names the page in errors; zone-less dates are read in `zone`, relative ones
/// against `now` (the fetch time).
pub fn entries(
    html: &str,
    page_url: &str,
    selectors: &ListSelectors,
    zone: Tz,
    now: DateTime<Utc>,
    raw_key: &str,
) -> Result<Vec<ListEntry>, ParseError> {
    let compile = |what: &str, css: &str| {
        Selector::parse(css).map_err(|e| ParseError::NotAnArticle {
            raw_key: raw_key.to_owned(),
            reason: format!("the registry's {what} selector `{css}` is not valid CSS: {e}"),
        })
    };
    let item = compile(
        "list_item",
        selectors.list_item.as_deref().unwrap_or(DEFAULT_LIST_ITEM),
    )?;
    let link = compile("link", selectors.link.as_deref().unwrap_or("a[href]"))?;
    let title = selectors
        .title
        .as_deref()
        .map(|css| compile("title", css))
        .transpose()?;
    let date = selectors
        .date
        .as_deref()
        .map(|css| compile("date", css))
        .transpose()?;

    let doc = Html::parse_document(html);
    let mut out: Vec<ListEntry> = Vec::new();
    for element in doc.select(&item) {
        let Some(anchor) = element.select(&link).next() else {
            continue;
        };
        let href = anchor.value().attr("href").or_else(|| {
            anchor
                .select(&any_link())
                .find_map(|a| a.value().attr("href"))
        });
        let Some(url) = href
            .map(str::trim)
            .filter(|h| !h.is_empty() && !h.starts_with('#') && !h.starts_with("javascript:"))
            .and_then(|h| resolve(Some(page_url), h))
            .and_then(|u| canonical_url(&u))
        else {
            continue;
        };
        if out.iter().any(|e| e.url == url) {
            continue;
        }
        let title = match &title {
            Some(selector) => element.select(selector).next().map(text_of),
            None => {
                Some(text_of(anchor)).or_else(|| anchor.value().attr("title").map(str::to_owned))
            }
        }
        .map(|t| normalize_title(&t))
        .filter(|t| !t.is_empty());
        let (date, date_raw) = date
            .as_ref()
            .and_then(|selector| element.select(selector).next())
            .and_then(|node| {
                let value = node.value();
                [value.attr("datetime"), value.attr("content")]
                    .into_iter()
                    .flatten()
                    .map(str::to_owned)
                    .chain(std::iter::once(text_of(node)))
                    .find_map(|raw| parse_date_at(&raw, zone, now).map(|d| (d, raw)))
            })
            .map_or((None, None), |(d, raw)| (Some(d), Some(raw)));
        out.push(ListEntry {
            url,
            title,
            date,
            date_raw,
        });
    }
    Ok(out)
}

fn any_link() -> Selector {
    // A constant, valid selector.
    Selector::parse("a[href]").unwrap_or_else(|_| unreachable!())
}

fn text_of(element: ElementRef) -> String {
    collapse_whitespace(&element.text().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeBasis;

    const LISTING: &str = r#"<!doctype html><html><body>
<nav><ul><li><a href="/">Beranda</a></li><li><a href="/kontak">Kontak</a></li></ul></nav>
<div class="news-list">
  <div class="news-item">
    <a class="thumb" href="/berita/satu?utm_source=home#top"><img src="1.jpg"></a>
    <h3 class="news-title"><a href="/berita/satu?utm_source=home#top">  Pameran
      Batik di Tokyo </a></h3>
    <span class="news-date">Senin, 20 Januari 2025</span>
  </div>
  <div class="news-item">
    <h3 class="news-title"><a href="https://kemlu.go.id/tokyo/berita/dua">Kunjungan Menteri</a></h3>
    <time class="news-date" datetime="2025-01-18T09:30:00+09:00">18 Jan</time>
  </div>
  <div class="news-item">
    <h3 class="news-title">No link here</h3>
  </div>
  <div class="news-item">
    <h3 class="news-title"><a href="/berita/satu?fbclid=abc">Duplicate of the first</a></h3>
  </div>
</div>
<footer><a href="/privacy">Privacy</a></footer>
</body></html>"#;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-02-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn selectors() -> ListSelectors {
        ListSelectors {
            list_item: Some("div.news-item".into()),
            link: Some(".news-title a".into()),
            title: Some(".news-title".into()),
            date: Some(".news-date".into()),
            follow_other_hosts: false,
        }
    }

    #[test]
    fn entries_follow_the_registry_selectors() {
        let zone: Tz = "Asia/Tokyo".parse().unwrap();
        let got = entries(
            LISTING,
            "https://kemlu.go.id/tokyo/",
            &selectors(),
            zone,
            now(),
            "raw/list.html",
        )
        .unwrap();
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[0].url, "https://kemlu.go.id/berita/satu");
        assert_eq!(got[0].title.as_deref(), Some("Pameran Batik di Tokyo"));
        let first = got[0].date.as_ref().unwrap();
        assert_eq!(first.at.to_rfc3339(), "2025-01-19T15:00:00+00:00");
        assert!(matches!(first.basis, TimeBasis::AssumedZone { .. }));
        assert_eq!(got[1].url, "https://kemlu.go.id/tokyo/berita/dua");
        assert_eq!(got[1].title.as_deref(), Some("Kunjungan Menteri"));
        assert_eq!(
            got[1].date_raw.as_deref(),
            Some("2025-01-18T09:30:00+09:00")
        );
        assert_eq!(got[1].date.as_ref().unwrap().basis, TimeBasis::Stated);
    }

    #[test]
    fn defaults_take_the_first_link_and_its_text() {
        let only_items = ListSelectors {
            list_item: Some("div.news-item".into()),
            ..Default::default()
        };
        let got = entries(
            LISTING,
            "https://kemlu.go.id/tokyo/",
            &only_items,
            chrono_tz::UTC,
            now(),
            "k",
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        // The thumbnail link comes first and has no text.
        assert_eq!(got[0].title, None);
        assert_eq!(got[0].date, None);
    }

    #[test]
    fn bad_selectors_are_errors_naming_the_page() {
        let bad = ListSelectors {
            list_item: Some("div[".into()),
            ..Default::default()
        };
        let err = entries(
            LISTING,
            "https://x.org/",
            &bad,
            chrono_tz::UTC,
            now(),
            "raw/list.html",
        )
        .unwrap_err();
        assert!(err.to_string().contains("raw/list.html"), "{err}");
        assert!(err.to_string().contains("list_item"), "{err}");
    }

    #[test]
    fn garbage_gives_no_entries() {
        for html in ["", "<<<", "<li><a href=''>x</a></li>", "\u{0}"] {
            let got = entries(
                html,
                "https://x.org/",
                &ListSelectors::default(),
                chrono_tz::UTC,
                now(),
                "k",
            );
            assert!(got.unwrap().is_empty(), "{html:?}");
        }
    }
}
