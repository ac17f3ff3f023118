//! Configuration the Lambda functions read once in `main`: environment variables with a clear
//! message for each missing or malformed one, AWS clients built once, and logging.

use std::path::PathBuf;
use std::sync::Arc;

use crate::registry::{Registry, RegistryError};
use crate::store::dynamo::DynamoTable;
use crate::store::s3::S3BlobStore;
use crate::store::{BlobStore, Table};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set: {purpose}")]
    Missing {
        name: &'static str,
        purpose: &'static str,
    },
    #[error("environment variable {name}={value:?} is malformed: {reason}")]
    Malformed {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Reads a required variable.
pub fn required(name: &'static str, purpose: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing { name, purpose }),
    }
}

/// Reads an optional variable; set but empty counts as unset.
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads an optional number.
pub fn optional_number<T: std::str::FromStr>(name: &'static str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    optional(name)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Malformed {
                    name,
                    value: v.clone(),
                    reason: e.to_string(),
                })
        })
        .transpose()
}

/// What every function needs: where the bucket and table are, and which registry to use.
#[derive(Debug, Clone)]
pub struct FunctionEnv {
    pub bucket: String,
    pub table: String,
    /// A registry file replacing the one built in (`PANTAU_REGISTRY`).
    pub registry_file: Option<PathBuf>,
    /// Path-style S3 addressing, for S3-compatible servers (`PANTAU_S3_PATH_STYLE=true`).
    pub s3_path_style: bool,
}

impl FunctionEnv {
    pub fn from_env() -> Result<FunctionEnv, ConfigError> {
        let path_style = optional("PANTAU_S3_PATH_STYLE");
        let s3_path_style = match path_style.as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "PANTAU_S3_PATH_STYLE",
                    value: other.into(),
                    reason: "expected true or false".into(),
                });
            }
        };
        Ok(FunctionEnv {
            bucket: required("PANTAU_BUCKET", "the S3 bucket for raw/ and items/ objects")?,
            table: required("PANTAU_TABLE", "the DynamoDB table")?,
            registry_file: optional("PANTAU_REGISTRY").map(PathBuf::from),
            s3_path_style,
        })
    }

    /// The registry: the configured file, or the one built into the binary, plus the sources
    /// the environment configures (ReliefWeb when `PANTAU_RELIEFWEB_APPNAME` is set).
    pub fn registry(&self) -> Result<Registry, ConfigError> {
        let mut registry = match &self.registry_file {
            Some(path) => Registry::load_file(path)?,
            None => Registry::load_default()?,
        };
        registry.add_configured_sources();
        Ok(registry)
    }

    /// The AWS adapters, with clients built once from the standard AWS environment
    /// (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL` for local servers).
    pub async fn aws_stores(&self) -> (Arc<dyn BlobStore>, Arc<dyn Table>) {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let s3_conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(self.s3_path_style)
            .build();
        let blobs = S3BlobStore::new(aws_sdk_s3::Client::from_conf(s3_conf), &self.bucket);
        let table = DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), &self.table);
        (Arc::new(blobs), Arc::new(table))
    }
}

/// JSON logs on Lambda (CloudWatch keeps one line per event, with the request id that the
/// runtime's span adds); `RUST_LOG` sets the level, `info` by default.
pub fn init_lambda_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_names_itself_and_its_purpose() {
        let e = required("PANTAU_TEST_SURELY_UNSET", "a test").unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable PANTAU_TEST_SURELY_UNSET is not set: a test"
        );
    }
}
