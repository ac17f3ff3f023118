//! `pantau crises`: the crises in a data directory's embedded store, with what each mission
//! did about them and how fast.

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use pantau::crises::{self, CrisisState, CrisisView};
use pantau::registry::Registry;
use pantau::store::sqlite::SqliteTable;

#[derive(Args, Debug)]
pub struct CrisesArgs {
    /// The data directory `pantau run` fills.
    #[arg(long, env = "PANTAU_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Only this country's crises (ISO 3166-1 alpha-2, e.g. TR).
    #[arg(long)]
    pub country: Option<String>,
    /// Closed crises too (by default only the active ones).
    #[arg(long)]
    pub all: bool,
    /// As JSON, one crisis per line.
    #[arg(long)]
    pub json: bool,
    /// Read the crises as of this moment (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// At most this many crises.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

pub async fn run(args: CrisesArgs) -> anyhow::Result<()> {
    let path = args.data_dir.join("pantau.sqlite");
    if !path.exists() {
        bail!(
            "no table at {}: run `pantau run` first (or pass --data-dir)",
            path.display()
        );
    }
    let table = SqliteTable::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let now = args.at.unwrap_or_else(Utc::now);
    let views = crises::list_crises_at(
        &table,
        crises::config(),
        args.country.as_deref(),
        !args.all,
        args.limit,
        now,
    )
    .await?;
    if args.json {
        for view in &views {
            println!("{}", serde_json::to_string(view)?);
        }
        return Ok(());
    }
    if views.is_empty() {
        println!(
            "no {}crises{}",
            if args.all { "" } else { "active " },
            args.country
                .as_deref()
                .map(|c| format!(" in {}", c.to_uppercase()))
                .unwrap_or_default()
        );
        return Ok(());
    }
    let registry = Registry::load_default().ok();
    for view in &views {
        print!("{}", describe(view, registry.as_ref()));
    }
    Ok(())
}

/// One crisis as a block of lines: a header, then its responses.
fn describe(view: &CrisisView, registry: Option<&Registry>) -> String {
    let state = match (view.state, view.closed_at) {
        (CrisisState::Closed, Some(t)) => format!("closed {}", t.format("%Y-%m-%d %H:%M")),
        _ => "active".to_owned(),
    };
    let flag = if view.home {
        "  HOME (headquarters' own, no mission response expected)"
    } else if view.no_response {
        "  NO RESPONSE"
    } else {
        ""
    };
    let mut out = format!(
        "{:<2}  {:<10}  opened {} UTC  {:<17}  signals {:>3}  responses {:>2}{flag}\n    {}  ({})\n",
        view.country,
        view.kind.as_str(),
        view.first_signal_at.format("%Y-%m-%d %H:%M"),
        state,
        view.signal_count,
        view.responses.len(),
        view.id,
        view.opened_by,
    );
    for r in &view.responses {
        let mission = registry
            .and_then(|reg| reg.mission(&r.response.mission))
            .map(|m| m.display_name())
            .unwrap_or_else(|| r.response.mission.clone());
        out.push_str(&format!(
            "    {:<18} {:<13} +{:<8} {}\n",
            mission,
            r.response.kind.as_str(),
            latency(r.latency_seconds),
            r.response.title,
        ));
    }
    out
}

/// `3h05m`, `45m`, `-20m`.
fn latency(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let minutes = seconds.abs() / 60;
    match minutes / 60 {
        0 => format!("{sign}{minutes}m"),
        h => format!("{sign}{h}h{:02}m", minutes % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::latency;

    #[test]
    fn latencies_read_as_hours_and_minutes() {
        assert_eq!(latency(3 * 3600), "3h00m");
        assert_eq!(latency(16_200), "4h30m");
        assert_eq!(latency(45 * 60), "45m");
        assert_eq!(latency(-20 * 60), "-20m");
    }
}
