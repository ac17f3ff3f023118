//! Telegram: the Bot API's `sendMessage` (`{"chat_id", "text"}`), plain text.

use async_trait::async_trait;
use serde_json::json;

use super::{Channel, ChannelError, endpoint_of, http_client, post_json};
use crate::alerts::message::AlertMessage;

pub const DEFAULT_API: &str = "https://api.telegram.org";
/// Telegram refuses longer texts.
pub const MAX_TEXT_CHARS: usize = 4096;

pub struct TelegramChannel {
    api: String,
    token: String,
    chat_id: String,
    client: reqwest::Client,
}

impl TelegramChannel {
    pub fn new(api: String, token: String, chat_id: String) -> TelegramChannel {
        TelegramChannel {
            api: api.trim_end_matches('/').to_owned(),
            token,
            chat_id,
            client: http_client(),
        }
    }

    /// The body sent for `message`: its text, cut to Telegram's limit.
    pub fn body(&self, message: &AlertMessage) -> Vec<u8> {
        let mut text: String = message.text();
        if text.chars().count() > MAX_TEXT_CHARS {
            text = text.chars().take(MAX_TEXT_CHARS - 1).collect::<String>() + "…";
        }
        json!({
            "chat_id": self.chat_id,
            "text": text,
            "disable_web_page_preview": true,
        })
        .to_string()
        .into_bytes()
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn name(&self) -> &str {
        "telegram"
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        let url = format!("{}/bot{}/sendMessage", self.api, self.token);
        // The token is in the path: errors name the API host only.
        let endpoint = format!("{}/bot…/sendMessage", endpoint_of(&self.api));
        post_json(
            &self.client,
            "telegram",
            &url,
            &endpoint,
            self.body(message),
            &[],
        )
        .await
    }
}
