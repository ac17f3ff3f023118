//! The trafilatura evaluation (`shared/extdata/trafilatura-eval`): main-text extraction
//! scored as trafilatura scores itself. Each page of `cache/` has, in `evaldata.json`, text
//! segments a good extraction contains (`with`) and boilerplate it must not (`without`). A
//! `with` segment found in the extracted text is a true positive, missed a false negative; a
//! `without` segment found is a false positive. Precision, recall and F1 are over the totals
//! of all pages; a page whose extraction fails counts all its `with` segments as missed.
//!
//! [`trafilatura_evaluation`] scores Pantau's extractor (`parse::article::extract`) for
//! `make quality`; [`extractor_comparison`] scores every candidate crate (behind the
//! `extractor-comparison` feature) for docs/extraction.md.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Pages of the cache with their segments.
pub struct Page {
    pub url: String,
    pub html: String,
    pub with: Vec<String>,
    pub without: Vec<String>,
}

/// The pages of `cache/` that `evaldata.json` describes; None (with a message) when absent.
pub fn pages(extdata: &Path) -> Option<Vec<Page>> {
    let dir = extdata.join("trafilatura-eval");
    let (Ok(eval), true) = (
        std::fs::read(dir.join("evaldata.json")),
        dir.join("cache").is_dir(),
    ) else {
        println!("skipping: shared/extdata/trafilatura-eval is absent");
        return None;
    };
    let eval: serde_json::Value = serde_json::from_slice(&eval).expect("evaldata.json is JSON");
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let mut pages = Vec::new();
    for (url, entry) in eval
        .as_object()
        .expect("evaldata.json maps URLs to entries")
    {
        let Some(file) = entry["file"].as_str() else {
            continue;
        };
        let path: PathBuf = dir.join("cache").join(file);
        // Only 110 of the 990 pages are in the cache: the others are skipped.
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        pages.push(Page {
            url: url.clone(),
            html: decode(&bytes),
            with: strings(&entry["with"]),
            without: strings(&entry["without"]),
        });
    }
    pages.sort_by(|a, b| a.url.cmp(&b.url));
    Some(pages)
}

/// The pages in two halves, for tuning rules on one and checking them on the other (so a
/// rule that only fits the pages it was made on shows): in URL order, even positions are
/// the tuning half, odd ones the held-out half. `PANTAU_EVAL_HALF=tune` (or `held-out`)
/// keeps only that half in the tests that read it.
pub fn halves(pages: Vec<Page>) -> (Vec<Page>, Vec<Page>) {
    let (mut tune, mut held_out) = (Vec::new(), Vec::new());
    for (position, page) in pages.into_iter().enumerate() {
        if position % 2 == 0 {
            tune.push(page);
        } else {
            held_out.push(page);
        }
    }
    (tune, held_out)
}

/// The page's text: UTF-8 unless its `<meta charset>` says otherwise.
fn decode(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let label = head
        .split("charset=")
        .nth(1)
        .map(|rest| {
            rest.trim_start_matches(['"', '\''])
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default();
    let encoding =
        encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::WINDOWS_1252);
    encoding.decode(bytes).0.into_owned()
}

/// Segment counts over a corpus, and how the runs went.
#[derive(Debug, Default)]
pub struct Score {
    pub pages: usize,
    pub failures: usize,
    pub panics: usize,
    pub true_positives: usize,
    pub false_negatives: usize,
    pub false_positives: usize,
    pub true_negatives: usize,
    pub elapsed: Duration,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    /// The counts of two disjoint sets of pages together.
    pub fn plus(&self, other: &Score) -> Score {
        Score {
            pages: self.pages + other.pages,
            failures: self.failures + other.failures,
            panics: self.panics + other.panics,
            true_positives: self.true_positives + other.true_positives,
            false_negatives: self.false_negatives + other.false_negatives,
            false_positives: self.false_positives + other.false_positives,
            true_negatives: self.true_negatives + other.true_negatives,
            elapsed: self.elapsed + other.elapsed,
        }
    }
    pub fn pages_per_second(&self) -> f64 {
        self.pages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Runs `extract` (page HTML and URL → main text, or an error) on every page and scores it.
/// With `PANTAU_EVAL_VERBOSE` set, every missed and every unwanted segment is printed.
pub fn score(pages: &[Page], extract: impl Fn(&str, &str) -> Result<String, String>) -> Score {
    let verbose = std::env::var_os("PANTAU_EVAL_VERBOSE").is_some();
    let mut score = Score::default();
    let start = Instant::now();
    for page in pages {
        score.pages += 1;
        let text = match catch_unwind(AssertUnwindSafe(|| extract(&page.html, &page.url))) {
            Ok(Ok(text)) => Some(text),
            Ok(Err(reason)) => {
                if verbose {
                    println!("  failed   {}: {reason}", page.url);
                }
                score.failures += 1;
                None
            }
            Err(_) => {
                score.panics += 1;
                None
            }
        };
        // PANTAU_EVAL_DUMP=DIR writes each page's extracted text there, to read misses in context.
        if let (Some(dir), Some(text)) = (std::env::var_os("PANTAU_EVAL_DUMP"), &text) {
            let name: String = page
                .url
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .take(100)
                .collect();
            let _ = std::fs::write(Path::new(&dir).join(name + ".txt"), text);
        }
        let Some(text) = text else {
            score.false_negatives += page.with.len();
            score.true_negatives += page.without.len();
            continue;
        };
        for segment in &page.with {
            if text.contains(segment.as_str()) {
                score.true_positives += 1;
            } else {
                score.false_negatives += 1;
                if verbose {
                    println!("  missed   {}: {segment:?}", page.url);
                }
            }
        }
        for segment in &page.without {
            if text.contains(segment.as_str()) {
                score.false_positives += 1;
                if verbose {
                    println!("  unwanted {}: {segment:?}", page.url);
                }
            } else {
                score.true_negatives += 1;
            }
        }
    }
    score.elapsed = start.elapsed();
    score
}

pub fn print_header() {
    println!(
        "{:<34} {:>6} {:>9} {:>7} {:>6} {:>6} {:>6} {:>8}",
        "extractor", "pages", "failures", "panics", "prec", "recall", "F1", "pages/s"
    );
}

pub fn print_row(name: &str, s: &Score) {
    println!(
        "{:<34} {:>6} {:>9} {:>7} {:>6.3} {:>6.3} {:>6.3} {:>8.1}",
        name,
        s.pages,
        s.failures,
        s.panics,
        s.precision(),
        s.recall(),
        s.f1(),
        s.pages_per_second()
    );
}

/// The candidates side by side: `cargo test -p pantau --features extractor-comparison
/// --test quality extractor_comparison -- --ignored --nocapture` (unoptimized, like `make
/// quality`; add `--release` for speeds worth comparing to other tools).
#[cfg(feature = "extractor-comparison")]
pub fn compare(extdata: &Path) {
    let Some(pages) = pages(extdata) else {
        return;
    };
    print_header();
    print_row(
        "pantau (parse::article)",
        &score(&pages, |html, url| {
            pantau::parse::article::extract(html, Some(url))
                .map(|a| a.text)
                .map_err(|e| e.to_string())
        }),
    );
    print_row(
        "rs-trafilatura 0.2 (default)",
        &score(&pages, |html, url| {
            let options = rs_trafilatura::Options {
                url: Some(url.to_owned()),
                ..Default::default()
            };
            rs_trafilatura::extract_with_options(html, &options)
                .map(|r| r.content_text)
                .map_err(|e| e.to_string())
        }),
    );
    print_row(
        "rs-trafilatura 0.2 (favor_recall)",
        &score(&pages, |html, url| {
            let options = rs_trafilatura::Options {
                url: Some(url.to_owned()),
                favor_recall: true,
                ..Default::default()
            };
            rs_trafilatura::extract_with_options(html, &options)
                .map(|r| r.content_text)
                .map_err(|e| e.to_string())
        }),
    );
    print_row(
        "dom_smoothie 0.19 (formatted)",
        &score(&pages, |html, url| {
            let config = dom_smoothie::Config {
                text_mode: dom_smoothie::TextMode::Formatted,
                ..Default::default()
            };
            dom_smoothie::Readability::new(html, Some(url), Some(config))
                .and_then(|mut r| r.parse())
                .map(|a| a.text_content.to_string())
                .map_err(|e| e.to_string())
        }),
    );
}
