//! The console: each message as text on standard output (`pantau run`).

use async_trait::async_trait;

use super::{Channel, ChannelError};
use crate::alerts::message::AlertMessage;

pub struct ConsoleChannel;

#[async_trait]
impl Channel for ConsoleChannel {
    fn name(&self) -> &str {
        "console"
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        println!("── alert {} ──\n{}", message.id, message.text());
        Ok(())
    }
}
