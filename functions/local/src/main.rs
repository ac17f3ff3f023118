//! `pantau`: the whole pipeline in one process on the embedded store, and the tools around it.

mod alerts;
mod cost;
mod crises;
mod fetch_url;
mod hq;
mod keys;
mod local_aws;
mod parse_file;
mod pipeline;
mod queue;
mod replay;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's allocator: the embedded store's page cache and reconcile's small
/// strings made malloc and free ~28% of a bulk load's CPU (the workspace manifest says more).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pantau",
    version,
    about = "Monitor Indonesia's missions abroad"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scrape → normalize → reconcile and the API on this machine.
    Run(pipeline::RunArgs),
    /// Fetch one URL as the scraper would and print the outcome as JSON.
    Fetch(fetch_url::FetchArgs),
    /// Print the normalized items of one raw file as JSON lines.
    Parse(parse_file::ParseArgs),
    /// The pipeline against local S3, SQS and DynamoDB (moto) with the Lambdas' handlers.
    LocalAws(local_aws::LocalAwsArgs),
    /// Re-run normalize and reconcile over the raw objects of a date range.
    Replay(replay::ReplayArgs),
    /// Make, list and revoke the API's access keys.
    Keys(keys::KeysArgs),
    /// List crises with each mission's responses and their latencies.
    Crises(crises::CrisesArgs),
    /// Alert rules, history, a channel test, an evaluation now.
    Alerts(alerts::AlertsArgs),
    /// Count a first and a steady-state cycle's requests and price a month on AWS.
    Cost(cost::CostArgs),
    /// Import headquarters' records and report how they match the missions' publications.
    Hq(hq::HqArgs),
    /// Check a registry file (or the built-in one) and print what it holds.
    Registry {
        /// A registry TOML file; the built-in registry when omitted.
        file: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => pipeline::run(args).await,
        Command::Fetch(args) => fetch_url::run(args).await,
        Command::Parse(args) => parse_file::run(args),
        Command::Registry { file } => check_registry(file),
        Command::LocalAws(args) => local_aws::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Keys(args) => keys::run(args).await,
        Command::Crises(args) => crises::run(args).await,
        Command::Alerts(args) => alerts::run(args).await,
        Command::Cost(args) => cost::run(args).await,
        Command::Hq(args) => hq::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pantau: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn check_registry(file: Option<PathBuf>) -> anyhow::Result<()> {
    let registry = match &file {
        Some(path) => pantau::registry::Registry::load_file(path)?,
        None => pantau::registry::Registry::load_default()?,
    };
    let sources = registry.sources().count();
    let countries: std::collections::BTreeSet<_> =
        registry.missions.iter().map(|m| &m.country_code).collect();
    let mut per_role = std::collections::BTreeMap::<&str, usize>::new();
    for r in registry.sources() {
        *per_role.entry(r.source.role.as_str()).or_default() += 1;
    }
    let per_role: Vec<String> = per_role.iter().map(|(r, n)| format!("{n} {r}")).collect();
    println!(
        "{}: {} missions in {} countries, {} sources ({}): valid",
        file.as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "built-in registry".into()),
        registry.missions.len(),
        countries.len(),
        sources,
        per_role.join(", ")
    );
    Ok(())
}

/// Where `pantau run` listens unless told otherwise.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
