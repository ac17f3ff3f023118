//! Where alert messages go. Each channel sends one message or says why it could not; the
//! outbox decides about retries. Secrets (webhook key, bot token, URLs that embed one) come
//! from the environment, never from the repository, and never appear in errors.
//!
//! | channel    | configured by                                                        |
//! |------------|----------------------------------------------------------------------|
//! | `console`  | `PANTAU_ALERT_CONSOLE=1` (what `pantau run` uses by default)         |
//! | `file`     | `PANTAU_ALERT_FILE=/path/alerts.jsonl` (one JSON message per line)   |
//! | `webhook`  | `PANTAU_ALERT_WEBHOOK_URL` and `PANTAU_ALERT_WEBHOOK_SECRET` (HMAC)  |
//! | `telegram` | `PANTAU_ALERT_TELEGRAM_TOKEN`, `PANTAU_ALERT_TELEGRAM_CHAT_ID` (and `PANTAU_ALERT_TELEGRAM_API`, default `https://api.telegram.org`) |
//! | `slack`    | `PANTAU_ALERT_SLACK_URL` (a Slack-compatible incoming webhook)       |
//! | `sns`      | `PANTAU_ALERT_SNS_TOPIC_ARN`                                         |

pub mod console;
pub mod file;
pub mod slack;
pub mod sns;
pub mod telegram;
pub mod webhook;

use std::sync::Arc;

use async_trait::async_trait;

use super::message::AlertMessage;
use crate::config::optional;

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The endpoint answered with an error status. `endpoint` never holds a secret.
    #[error("{channel}: {endpoint} answered {status}")]
    Status {
        channel: &'static str,
        endpoint: String,
        status: u16,
    },
    /// The request did not complete (connection refused, timeout).
    #[error("{channel}: request to {endpoint} failed: {message}")]
    Transport {
        channel: &'static str,
        endpoint: String,
        message: String,
    },
    #[error("file channel: writing {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("sns: publishing to {topic}: {message}")]
    Sns { topic: String, message: String },
}

impl ChannelError {
    /// Every channel failure is retried by the outbox (nothing is dropped); this tells the
    /// logs whether the failure looks passing (5xx, 429, transport) or needs an operator.
    pub fn is_retryable(&self) -> bool {
        match self {
            ChannelError::Status { status, .. } => *status >= 500 || *status == 429,
            ChannelError::Transport { .. } | ChannelError::Sns { .. } => true,
            ChannelError::File { .. } => false,
        }
    }
}

#[async_trait]
pub trait Channel: Send + Sync {
    /// The name rules and delivery records use (`webhook`, `sns`...).
    fn name(&self) -> &str;
    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError>;
}

/// The channels configured here, by name.
#[derive(Clone, Default)]
pub struct Channels(pub Vec<Arc<dyn Channel>>);

impl Channels {
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.0.iter().find(|c| c.name() == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|c| c.name().to_owned()).collect()
    }

    /// The channels the environment configures (see the table above). SNS needs an AWS
    /// client, made here once.
    pub async fn from_env() -> Channels {
        let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
        if optional("PANTAU_ALERT_CONSOLE").is_some_and(|v| v != "0") {
            channels.push(Arc::new(console::ConsoleChannel));
        }
        if let Some(path) = optional("PANTAU_ALERT_FILE") {
            channels.push(Arc::new(file::FileChannel::new(path)));
        }
        if let (Some(url), Some(secret)) = (
            optional("PANTAU_ALERT_WEBHOOK_URL"),
            optional("PANTAU_ALERT_WEBHOOK_SECRET"),
        ) {
            channels.push(Arc::new(webhook::WebhookChannel::new(
                url,
                secret.into_bytes(),
            )));
        }
        if let (Some(token), Some(chat)) = (
            optional("PANTAU_ALERT_TELEGRAM_TOKEN"),
            optional("PANTAU_ALERT_TELEGRAM_CHAT_ID"),
        ) {
            let api = optional("PANTAU_ALERT_TELEGRAM_API")
                .unwrap_or_else(|| telegram::DEFAULT_API.to_owned());
            channels.push(Arc::new(telegram::TelegramChannel::new(api, token, chat)));
        }
        if let Some(url) = optional("PANTAU_ALERT_SLACK_URL") {
            channels.push(Arc::new(slack::SlackChannel::new(url)));
        }
        if let Some(topic) = optional("PANTAU_ALERT_SNS_TOPIC_ARN") {
            let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            channels.push(Arc::new(sns::SnsChannel::new(
                aws_sdk_sns::Client::new(&config),
                topic,
            )));
        }
        Channels(channels)
    }
}

/// The names of the channels the environment configures, without building them (what an
/// evaluator needs to create deliveries).
pub fn configured_names() -> Vec<String> {
    let set = |name: &'static str| optional(name).is_some();
    let mut names = Vec::new();
    if optional("PANTAU_ALERT_CONSOLE").is_some_and(|v| v != "0") {
        names.push("console");
    }
    if set("PANTAU_ALERT_FILE") {
        names.push("file");
    }
    if set("PANTAU_ALERT_WEBHOOK_URL") && set("PANTAU_ALERT_WEBHOOK_SECRET") {
        names.push("webhook");
    }
    if set("PANTAU_ALERT_TELEGRAM_TOKEN") && set("PANTAU_ALERT_TELEGRAM_CHAT_ID") {
        names.push("telegram");
    }
    if set("PANTAU_ALERT_SLACK_URL") {
        names.push("slack");
    }
    if set("PANTAU_ALERT_SNS_TOPIC_ARN") {
        names.push("sns");
    }
    names.into_iter().map(str::to_owned).collect()
}

/// A client for the HTTP channels: short timeouts (the outbox retries), no redirects (a
/// webhook that moves is a configuration to fix, and the body must not follow elsewhere).
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Pantau-alerts/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Posts a JSON body; any non-2xx answer or transport failure is an error naming `endpoint`
/// (which the caller keeps free of secrets).
pub(crate) async fn post_json(
    client: &reqwest::Client,
    channel: &'static str,
    url: &str,
    endpoint: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> Result<(), ChannelError> {
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.map_err(|e| ChannelError::Transport {
        channel,
        endpoint: endpoint.to_owned(),
        // reqwest's message holds the URL: strip it (a Telegram URL holds the bot token).
        message: e.without_url().to_string(),
    })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(ChannelError::Status {
            channel,
            endpoint: endpoint.to_owned(),
            status: status.as_u16(),
        })
    }
}

/// The host of a URL, for errors and logs (never its path or query, which may hold a secret).
pub(crate) fn endpoint_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{}://{h}{}",
                    u.scheme(),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_else(|| "(unparsable url)".into())
}
