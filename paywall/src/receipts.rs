//! Where the paywall keeps the receipts of the payments it took, for the resource's
//! owner: with them the owner can settle without the relayer (DESIGN, trust point 4).

use std::path::Path;

use async_trait::async_trait;
use micropay_api::ReceiptJson;
use tokio::{fs::File, io::AsyncWriteExt, sync::Mutex};

#[async_trait]
pub trait ReceiptSink: Send + Sync + 'static {
    /// Keeps a checked receipt; the call is answered only after this returns.
    async fn keep(&self, receipt: &ReceiptJson) -> std::io::Result<()>;
}

/// Receipts appended to a file, one JSON object per line, each the relayer API's
/// `ReceiptJson`. The relayer holds them durably too, so the file is written through
/// the OS cache without an fsync per call.
pub struct ReceiptLog {
    file: Mutex<File>,
}

impl ReceiptLog {
    pub async fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }
}

#[async_trait]
impl ReceiptSink for ReceiptLog {
    async fn keep(&self, receipt: &ReceiptJson) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(receipt)?;
        line.push(b'\n');
        let mut file = self.file.lock().await;
        file.write_all(&line).await?;
        file.flush().await
    }
}
