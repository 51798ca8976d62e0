//! Where the paywall keeps the receipts of the payments it took, for the resource's
//! owner: with them the owner can settle without the relayer (DESIGN, trust point 4).

use std::{
    fs::File,
    io::Write,
    path::Path,
    sync::{Mutex, PoisonError},
};

use async_trait::async_trait;
use micropay_api::ReceiptJson;

#[async_trait]
pub trait ReceiptSink: Send + Sync + 'static {
    /// Keeps a checked receipt; the call is answered only after this returns.
    async fn keep(&self, receipt: &ReceiptJson) -> std::io::Result<()>;
}

/// Receipts appended to a file, one JSON object per line, each the relayer API's
/// `ReceiptJson`. The relayer holds them durably too, so the file is written through
/// the OS cache without an fsync per call. A line is one small `write` into that
/// cache, made in place: cheaper than the two hops to tokio's blocking pool an async
/// file makes per call, each of which waits for a thread when the cores are busy.
pub struct ReceiptLog {
    file: Mutex<File>,
}

impl ReceiptLog {
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
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
        // One write per line, under the lock: lines never interleave.
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line)
    }
}
