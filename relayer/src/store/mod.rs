//! Durable storage, behind one small trait per role: what intake reads and writes,
//! what settlement reads and writes, and what reports read. [`SqlStore`] implements
//! all three on SQLite (embedded default, WAL, `synchronous=FULL`) and PostgreSQL
//! (shared by several instances), with versioned migrations run at start-up.

mod codec;
mod report;
mod sql;
mod tip_log;
mod writer;

use async_trait::async_trait;
use micropay_api::{SettlementView, StatusTotals};
use solana_sdk::{pubkey::Pubkey, signature::Signature, transaction::VersionedTransaction};
use tokio::sync::oneshot;

pub use sql::SqlStore;
pub use tip_log::Folding;

use crate::domain::{
    Accepted, EpochKey, RecordedSettlement, StoreTotals, StoredEpoch, StreamKey, StreamStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the relayer's disk is full, nothing was stored; retry later ({0})")]
    Full(sqlx::Error),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("the store's writer has stopped")]
    WriterStopped,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        // SQLITE_FULL (what SQLite reports for ENOSPC) and PostgreSQL's disk_full.
        let full = error
            .as_database_error()
            .and_then(|database| database.code())
            .is_some_and(|code| code == "13" || code == "53100");
        if full {
            StoreError::Full(error)
        } else {
            StoreError::Database(error)
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What intake needs: a tab's unsettled epochs, and an atomic compare-and-set of a
/// stream's state.
#[async_trait]
pub trait IntakeStore: Send + Sync + 'static {
    /// Every epoch of every stream of `tab` that is open or closed, plus the newest
    /// epoch of each stream whatever its status.
    async fn tab_epochs(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>>;

    /// Queues the state to be stored durably if the stream epoch's stored seq is
    /// still `previous_seq` (`None`: nothing stored for that epoch) and the epoch is
    /// open. States are written in the order they were queued, so a state may follow
    /// one queued before it. [`PendingWrite::written`] says once it is on disk, or
    /// false if another state won.
    fn queue(&self, accepted: Accepted) -> PendingWrite;

    /// [`Self::queue`] and wait for the write: true once the state is on disk.
    async fn accept(&self, accepted: Accepted) -> StoreResult<bool> {
        self.queue(accepted).written().await
    }
}

/// A state queued by [`IntakeStore::queue`].
pub struct PendingWrite(oneshot::Receiver<StoreResult<bool>>);

impl PendingWrite {
    pub fn new(outcome: oneshot::Receiver<StoreResult<bool>>) -> Self {
        Self(outcome)
    }

    /// Whether the state was written, once its write has ended.
    pub async fn written(self) -> StoreResult<bool> {
        self.0.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// What the settlement engine needs.
#[async_trait]
pub trait SettlementStore: Send + Sync + 'static {
    /// Every open or closed epoch.
    async fn pending(&self) -> StoreResult<Vec<StoredEpoch>>;

    /// Open -> closed, in one transaction: whether each was open.
    async fn close(&self, epochs: &[EpochKey]) -> StoreResult<Vec<bool>>;

    /// Takes the right to settle closed epochs until `until_ms`, except those another
    /// instance holds an unexpired lease on. Whether each was taken.
    async fn lease(
        &self,
        epochs: &[EpochKey],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<Vec<bool>>;

    /// Records the signed transaction carrying these epochs, before it is sent.
    async fn record_settle_tx(
        &self,
        epochs: &[EpochKey],
        tx: &VersionedTransaction,
        last_valid_block_height: u64,
        now_ms: i64,
    ) -> StoreResult<()>;

    /// Recorded settlement transactions some of whose epochs are still closed: sent
    /// before a restart, they may still land.
    async fn unconfirmed_settlements(&self) -> StoreResult<Vec<RecordedSettlement>>;

    /// Unlinks these epochs from a settlement transaction that failed on chain.
    async fn forget_settle_tx(&self, epochs: &[EpochKey], tx: &Signature) -> StoreResult<()>;

    /// Moves a pending epoch to a final status (settled, short or void).
    async fn finish(&self, epoch: &EpochKey, status: StreamStatus, now_ms: i64) -> StoreResult<()>;

    /// The entries of `epoch` as they stood at `seq`: the sum of its tips up to it.
    async fn entries_at(&self, epoch: &EpochKey, seq: u32) -> StoreResult<Vec<(Pubkey, u64)>>;

    /// Address lookup tables `authority` created, oldest first.
    async fn lookup_tables(&self, authority: &Pubkey) -> StoreResult<Vec<Pubkey>>;

    /// Remembers a lookup table before it is created, so that restarts reuse it.
    async fn add_lookup_table(
        &self,
        authority: &Pubkey,
        table: &Pubkey,
        now_ms: i64,
    ) -> StoreResult<()>;

    /// Forgets a lookup table once it is closed and its rent is back.
    async fn remove_lookup_table(&self, table: &Pubkey) -> StoreResult<()>;
}

/// What reports and payees read.
#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// The newest receipt of each stream epoch naming `wallet`, receipted at or after
    /// `since_ms`, oldest first.
    async fn payee_receipts(
        &self,
        wallet: &Pubkey,
        since_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEpoch>>;

    /// The newest stored epoch of a stream.
    async fn latest(&self, stream: &StreamKey) -> StoreResult<Option<StoredEpoch>>;

    /// Epochs by status (count, tips, total), the oldest pending one, and how many
    /// settlement transactions were recorded.
    async fn totals(&self) -> StoreResult<StoreTotals>;

    /// Settlement transactions recorded at or after `since_ms`, oldest first, with
    /// what they carry.
    async fn settlements(&self, since_ms: i64, limit: u32) -> StoreResult<Vec<SettlementView>>;

    /// The tips naming `wallet`, summed by the status of their epoch.
    async fn payee_totals(&self, wallet: &Pubkey) -> StoreResult<Vec<StatusTotals>>;
}
