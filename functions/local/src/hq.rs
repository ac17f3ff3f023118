//! `pantau hq`: import headquarters' records from a file and print the matching report, on a
//! data directory's embedded store (the columns are documented in docs/hq-records.md).

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{Duration, NaiveDate, Utc};
use clap::{Args, Subcommand};
use pantau::hq::import::{self, Format, ImportContext};
use pantau::hq::matching::MatchConfig;
use pantau::hq::{RecordKind, report};
use pantau::registry::Registry;
use pantau::store::sqlite::SqliteTable;

#[derive(Args, Debug)]
pub struct HqArgs {
    /// The data directory `pantau run` fills.
    #[arg(long, global = true, env = "PANTAU_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A registry file instead of the built-in one.
    #[arg(long, global = true, env = "PANTAU_REGISTRY")]
    pub registry: Option<PathBuf>,
    #[command(subcommand)]
    pub action: HqAction,
}

#[derive(Subcommand, Debug)]
pub enum HqAction {
    /// Import records from a CSV, JSON or .xlsx file; prints the import report as JSON.
    Import {
        file: PathBuf,
        /// The kind of rows without a kind column: activity_report, citizen_case or
        /// crisis_instruction.
        #[arg(long, default_value = "activity_report")]
        kind: String,
    },
    /// Match records against the missions' official publications over a period.
    Report {
        /// One mission (a registry id); every mission when omitted.
        #[arg(long)]
        mission: Option<String>,
        /// First day, YYYY-MM-DD (default: 30 days before `to`).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day, YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// The whole report as JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(args: HqArgs) -> anyhow::Result<()> {
    let registry = match &args.registry {
        Some(path) => Registry::load_file(path)?,
        None => Registry::load_default()?,
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let path = args.data_dir.join("pantau.sqlite");
    let table = SqliteTable::open(&path).with_context(|| format!("opening {}", path.display()))?;
    match args.action {
        HqAction::Import { file, kind } => {
            let Some(default_kind) = RecordKind::parse(&kind) else {
                bail!("--kind must be activity_report, citizen_case or crisis_instruction");
            };
            let name = file.display().to_string();
            let Some(format) = Format::from_name(&name) else {
                bail!("{name}: name the file .csv, .json, .jsonl or .xlsx");
            };
            let ctx = ImportContext {
                table: &table,
                registry: &registry,
                default_kind,
                source: file
                    .file_name()
                    .map_or(name.clone(), |n| n.to_string_lossy().into_owned()),
            };
            let report = match format {
                // Streamed: memory stays bounded whatever the file's size.
                Format::Csv => {
                    let reader =
                        std::fs::File::open(&file).with_context(|| format!("opening {name}"))?;
                    import::import_reader(&ctx, Box::new(reader)).await?
                }
                _ => {
                    let body = std::fs::read(&file).with_context(|| format!("reading {name}"))?;
                    import::import_bytes(&ctx, format, &body).await?
                }
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&pantau::hq::trigger::report_json(&report))?
            );
            eprintln!(
                "{}: {} rows read, {} imported, {} updated, {} unchanged, {} rejected",
                report.source,
                report.rows_read,
                report.imported,
                report.updated,
                report.unchanged,
                report.rejected
            );
        }
        HqAction::Report {
            mission,
            from,
            to,
            json,
        } => {
            let to = to.unwrap_or_else(|| Utc::now().date_naive());
            let from = from.unwrap_or(to - Duration::days(30));
            if from > to || (to - from).num_days() > report::MAX_PERIOD_DAYS {
                bail!(
                    "--from must be before --to, at most {} days apart",
                    report::MAX_PERIOD_DAYS
                );
            }
            let missions: Vec<_> = match &mission {
                Some(id) => vec![
                    registry
                        .mission(id)
                        .with_context(|| format!("no mission `{id}` in the registry"))?,
                ],
                None => registry
                    .missions
                    .iter()
                    .filter(|m| m.country_code.len() == 2)
                    .collect(),
            };
            let built = report::build(&table, &missions, from, to, &MatchConfig::default()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&built)?);
                return Ok(());
            }
            println!(
                "{from} to {to}: {} records, {} publications, {} matched (rate {})",
                built.records,
                built.publications,
                built.matched,
                built
                    .match_rate
                    .map_or("n/a".to_owned(), |r| format!("{:.0}%", r * 100.0))
            );
            for m in &built.missions {
                println!(
                    "  {:<16} records {:>4}  publications {:>4}  matched {:>4}  unmatched records {:>4}  unmatched publications {:>4}  figure disagreements {:>3}{}",
                    m.mission,
                    m.records,
                    m.publications,
                    m.matched,
                    m.unmatched_records,
                    m.unmatched_publications,
                    m.figure_disagreements,
                    if m.truncated {
                        "  (read cap reached)"
                    } else {
                        ""
                    }
                );
            }
            for d in &built.figure_disagreements {
                println!(
                    "  figure: {} {} recorded {} / published {} — \"{}\" ({})",
                    d.mission,
                    d.disagreement.kind.as_str(),
                    d.disagreement.recorded,
                    d.disagreement.published,
                    d.record_title,
                    d.publication_title
                );
            }
        }
    }
    Ok(())
}
