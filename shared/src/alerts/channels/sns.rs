//! An SNS topic: email and SMS subscriptions are then the operator's choice.

use async_trait::async_trait;

use super::{Channel, ChannelError};
use crate::alerts::message::AlertMessage;

pub struct SnsChannel {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

/// SNS subjects: ASCII, no line breaks, under 100 characters.
pub fn subject(message: &AlertMessage) -> String {
    let ascii: String = message
        .title_en
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    ascii.chars().take(99).collect()
}

impl SnsChannel {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> SnsChannel {
        SnsChannel { client, topic_arn }
    }
}

#[async_trait]
impl Channel for SnsChannel {
    fn name(&self) -> &str {
        "sns"
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject(message))
            .message(message.text())
            .message_attributes(
                "message_id",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(&message.id)
                    .build()
                    .map_err(|e| ChannelError::Sns {
                        topic: self.topic_arn.clone(),
                        message: e.to_string(),
                    })?,
            )
            .send()
            .await
            .map_err(|e| ChannelError::Sns {
                topic: self.topic_arn.clone(),
                message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(())
    }
}
