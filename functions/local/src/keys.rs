//! `pantau keys`: make, list and revoke the API's access keys, in the embedded store of a data
//! directory or, with `--table`, in a deployed stack's DynamoDB table.
//!
//! Keys are shown once, when made; the table keeps only their SHA-256 (see
//! `pantau::api::access`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use pantau::api::access::{self, KeyInfo};
use pantau::store::Table;
use pantau::store::dynamo::DynamoTable;
use pantau::store::sqlite::SqliteTable;

/// The table file in a data directory (as `pantau run` names it).
const TABLE_FILE: &str = "pantau.sqlite";

#[derive(Args, Debug)]
pub struct KeysArgs {
    /// The data directory whose table holds the keys.
    #[arg(long, global = true, env = "PANTAU_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A DynamoDB table (a deployed stack's `TableName` output) instead of the data directory;
    /// credentials, region and endpoint come from the standard AWS environment.
    #[arg(long, global = true)]
    pub table: Option<String>,
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Make a key and print it (the only time it is shown).
    Create {
        /// Who or what the key is for, e.g. "desk Asia-Pacific".
        name: String,
    },
    /// List the keys: id, name, created, revoked.
    List,
    /// Revoke a key by its id (from `pantau keys list`); requests with it get 401.
    Revoke {
        /// The key's id, `key_` and 12 hex digits.
        id: String,
    },
}

pub async fn run(args: KeysArgs) -> anyhow::Result<()> {
    let table: Arc<dyn Table> = match &args.table {
        Some(name) => {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), name))
        }
        None => Arc::new(open(
            &args.data_dir,
            matches!(args.action, KeysAction::Create { .. }),
        )?),
    };
    let table = table.as_ref();
    match args.action {
        KeysAction::Create { name } => {
            let key = access::create_key(table, &name).await?;
            println!("created {} ({})", key.info.id, key.info.name);
            println!("x-api-key: {}", key.secret);
            println!("(shown once: keep it now; only its hash is stored)");
        }
        KeysAction::List => {
            let keys = access::list_keys(table).await?;
            if keys.is_empty() {
                println!("no keys; make one with `pantau keys create NAME`");
            }
            for k in keys {
                println!("{}", describe(&k));
            }
        }
        KeysAction::Revoke { id } => {
            let k = access::revoke_key(table, &id).await?;
            println!("{}", describe(&k));
        }
    }
    Ok(())
}

fn describe(k: &KeyInfo) -> String {
    let state = match k.revoked_at {
        Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M UTC")),
        None => "active".into(),
    };
    format!(
        "{}  {:<8}  created {}  {}",
        k.id,
        state,
        k.created_at.format("%Y-%m-%d %H:%M UTC"),
        k.name
    )
}

pub(crate) fn open(data_dir: &Path, create: bool) -> anyhow::Result<SqliteTable> {
    let path = data_dir.join(TABLE_FILE);
    if !path.exists() {
        if !create {
            bail!(
                "no table at {}: pass the data directory of `pantau run` with --data-dir",
                path.display()
            );
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    }
    SqliteTable::open(&path).with_context(|| format!("opening {}", path.display()))
}

/// On `pantau run`'s first start (no key at all in the table), makes a key and prints it, so
/// the API and dashboard can be used at once without a bypass that could be left on. Keys
/// revoked on purpose are respected: nothing is made while any key exists.
pub async fn first_start_key(table: &dyn Table) -> anyhow::Result<()> {
    let keys = access::list_keys(table).await?;
    if keys.is_empty() {
        let key = access::create_key(table, "made by the first `pantau run`").await?;
        println!(
            "API key (made now for this data directory, shown once; `pantau keys` manages keys):"
        );
        println!("  x-api-key: {}", key.secret);
    } else {
        let active = keys.iter().filter(|k| k.revoked_at.is_none()).count();
        println!(
            "API keys: {active} active in this data directory (`pantau keys list`, `pantau keys create NAME`)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_start_makes_one_key_and_later_starts_none() {
        let dir = tempfile::tempdir().unwrap();
        let table = open(dir.path(), true).unwrap();
        first_start_key(&table).await.unwrap();
        assert_eq!(access::list_keys(&table).await.unwrap().len(), 1);
        first_start_key(&table).await.unwrap();
        let keys = access::list_keys(&table).await.unwrap();
        assert_eq!(keys.len(), 1);
        // Revoking every key on purpose does not bring a new one at the next start.
        access::revoke_key(&table, &keys[0].id).await.unwrap();
        first_start_key(&table).await.unwrap();
        assert_eq!(access::list_keys(&table).await.unwrap().len(), 1);
    }

    #[test]
    fn listing_a_missing_data_directory_says_which_flag_to_pass() {
        let dir = tempfile::tempdir().unwrap();
        let Err(err) = open(&dir.path().join("nowhere"), false) else {
            panic!("opened a missing table")
        };
        assert!(err.to_string().contains("--data-dir"), "{err}");
    }
}
