//! Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat): `{"text": ...}`.

use async_trait::async_trait;
use serde_json::json;

use super::{Channel, ChannelError, endpoint_of, http_client, post_json};
use crate::alerts::message::AlertMessage;

pub struct SlackChannel {
    url: String,
    client: reqwest::Client,
}

impl SlackChannel {
    pub fn new(url: String) -> SlackChannel {
        SlackChannel {
            url,
            client: http_client(),
        }
    }

    /// The body sent for `message`.
    pub fn body(message: &AlertMessage) -> Vec<u8> {
        json!({ "text": message.text() }).to_string().into_bytes()
    }
}

#[async_trait]
impl Channel for SlackChannel {
    fn name(&self) -> &str {
        "slack"
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        // The URL's path is the secret: only its host is ever shown.
        let endpoint = endpoint_of(&self.url);
        post_json(
            &self.client,
            "slack",
            &self.url,
            &endpoint,
            Self::body(message),
            &[],
        )
        .await
    }
}
