//! A JSON-lines file: each message appended as one line (local runs, tests, log shippers).

use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;

use super::{Channel, ChannelError};
use crate::alerts::message::AlertMessage;

pub struct FileChannel {
    path: PathBuf,
}

impl FileChannel {
    pub fn new(path: impl Into<PathBuf>) -> FileChannel {
        FileChannel { path: path.into() }
    }
}

#[async_trait]
impl Channel for FileChannel {
    fn name(&self) -> &str {
        "file"
    }

    async fn send(&self, message: &AlertMessage) -> Result<(), ChannelError> {
        let error = |source| ChannelError::File {
            path: self.path.display().to_string(),
            source,
        };
        let mut line = serde_json::to_vec(message).map_err(|e| error(std::io::Error::other(e)))?;
        line.push(b'\n');
        let path = self.path.clone();
        // One `write_all` of a whole line to a file opened for append: lines never interleave.
        tokio::task::spawn_blocking(move || {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            file.write_all(&line)
        })
        .await
        .map_err(|e| error(std::io::Error::other(e)))?
        .map_err(error)
    }
}
