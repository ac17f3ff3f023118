//! `pantau parse --kind KIND FILE`: what normalize would make of one raw file.
//!
//! `--kind article` is not a source kind: it reads FILE as one article page (main text,
//! title, date, author, language) and prints one item with kind `html_list`, the kind of
//! source whose listing pages lead to such articles.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Args;
use pantau::model::{RawMeta, Role, SourceKind};
use pantau::parse::date::zone;
use pantau::parse::{ParseInput, article, parse};

#[derive(Args, Debug)]
pub struct ParseArgs {
    /// The source kind: kemlu_portal, feed, ...; or `article` for one HTML article page.
    #[arg(long)]
    pub kind: String,
    /// The raw file (a portal API response, a feed, ...).
    pub file: PathBuf,
    /// The mission the file belongs to (for portal URLs and identities).
    #[arg(long, default_value = "pusat")]
    pub mission: String,
    /// IANA zone for dates given without one.
    #[arg(long, default_value = "Asia/Jakarta")]
    pub zone: String,
    /// The URL the file was fetched from (resolves relative links).
    #[arg(long)]
    pub url: Option<String>,
    /// The source's language, for items that state none (`id`, `en`, ...).
    #[arg(long)]
    pub language: Option<String>,
}

/// The pseudo-kind for one article page.
const ARTICLE: &str = "article";

pub fn run(args: ParseArgs) -> anyhow::Result<()> {
    let is_article = args.kind == ARTICLE;
    let kind = if is_article {
        SourceKind::HtmlList
    } else {
        SourceKind::parse(&args.kind).ok_or_else(|| {
            let known: Vec<_> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
            anyhow!(
                "unknown kind {:?}; known: {}, {ARTICLE}",
                args.kind,
                known.join(", ")
            )
        })?
    };
    let body =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("file://{}", args.file.display()));
    let meta = RawMeta {
        article: is_article,
        ..RawMeta::fetched(
            kind,
            Role::Official,
            &args.mission,
            "cli",
            &url,
            chrono::Utc::now(),
        )
    };
    let raw_key = args.file.display().to_string();
    let input = ParseInput {
        body: &body,
        meta: &meta,
        raw_key: &raw_key,
        time_zone: &args.zone,
        source_language: args.language.as_deref(),
    };
    let items = if is_article {
        let zone = zone(&args.zone).ok_or_else(|| anyhow!("unknown time zone {:?}", args.zone))?;
        article::parse(&input, zone)?
    } else {
        parse(&input)?
    };
    for item in &items {
        println!("{}", serde_json::to_string(item)?);
    }
    eprintln!("{} items", items.len());
    Ok(())
}
