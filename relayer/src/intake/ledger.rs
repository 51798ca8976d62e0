//! Each tab's unsettled states as intake checks them: what the store holds plus the
//! states being written. A tab's final check and the reservation of its state run one
//! at a time, so two streams of one tab cannot both be receipted against the same
//! funds. When this process is the store's only writer (SQLite), what the store holds
//! is also kept in memory: updated as writes land, dropped when settlement moves an
//! epoch on, so that a tip costs no store read.

use std::{collections::HashMap, sync::Arc, time::Instant};

use async_trait::async_trait;
use solana_sdk::{pubkey::Pubkey, signature::Signature, transaction::VersionedTransaction};
use tokio::{sync::Mutex, task::JoinHandle};

use crate::{
    domain::{Accepted, EpochKey, RecordedSettlement, StoredEpoch, StreamStatus},
    store::{IntakeStore, SettlementStore, StoreError, StoreResult},
};

/// Tabs are spread over this many locks.
const STRIPES: usize = 64;
/// Tabs whose stored epochs one stripe keeps in memory; past it, idle ones are dropped.
const CACHED_PER_STRIPE: usize = 4_096;

/// A state [`Ledger::reserve_checked`] accepted, being written.
pub struct Reservation {
    accepted: Accepted,
    write: JoinHandle<StoreResult<bool>>,
    queued: Instant,
}

impl Reservation {
    /// When the state was queued to the store's writer.
    pub fn queued(&self) -> Instant {
        self.queued
    }

    /// The state once its write has ended, and whether it was written (false: another
    /// state of its stream won, or its epoch is no longer open).
    pub async fn written(self) -> StoreResult<(Accepted, bool)> {
        let written = self.write.await.map_err(|_| StoreError::WriterStopped)??;
        Ok((self.accepted, written))
    }
}

#[derive(Default)]
struct Entry {
    /// What the store holds, when kept.
    stored: Option<Vec<StoredEpoch>>,
    /// Reserved states whose write has not ended.
    writing: Vec<StoredEpoch>,
}

pub struct Ledger {
    store: Arc<dyn IntakeStore>,
    keep_stored: bool,
    stripes: Box<[Mutex<HashMap<Pubkey, Entry>>]>,
}

impl Ledger {
    /// `keep_stored`: whether this process is the store's only writer, so that what
    /// it last read or wrote is what the store holds.
    pub fn new(store: Arc<dyn IntakeStore>, keep_stored: bool) -> Self {
        Self {
            store,
            keep_stored,
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
        }
    }

    fn stripe(&self, tab: &Pubkey) -> &Mutex<HashMap<Pubkey, Entry>> {
        let bytes = tab.to_bytes();
        &self.stripes[usize::from(u16::from_le_bytes([bytes[0], bytes[1]])) % STRIPES]
    }

    /// What the store holds for `tab` ([`IntakeStore::tab_epochs`]).
    pub async fn stored(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>> {
        let mut stripe = self.stripe(tab).lock().await;
        self.stored_locked(&mut stripe, tab).await
    }

    /// What the store holds for `tab` with the states being written in place of the
    /// ones they replace.
    pub async fn epochs(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>> {
        let mut stripe = self.stripe(tab).lock().await;
        let mut epochs = self.stored_locked(&mut stripe, tab).await?;
        if let Some(entry) = stripe.get(tab) {
            overlay(&mut epochs, &entry.writing);
        }
        Ok(epochs)
    }

    /// The read runs under the stripe's lock: a write ending, or settlement dropping the
    /// tab, waits for it, so a read that missed them is never kept after them.
    async fn stored_locked(
        &self,
        stripe: &mut HashMap<Pubkey, Entry>,
        tab: &Pubkey,
    ) -> StoreResult<Vec<StoredEpoch>> {
        if let Some(stored) = stripe.get(tab).and_then(|entry| entry.stored.as_ref()) {
            return Ok(stored.clone());
        }
        let stored = self.store.tab_epochs(tab).await?;
        if self.keep_stored {
            if stripe.len() >= CACHED_PER_STRIPE {
                stripe.retain(|_, entry| !entry.writing.is_empty());
            }
            stripe.entry(*tab).or_default().stored = Some(stored.clone());
        }
        Ok(stored)
    }

    /// Runs `check` on `tab`'s epochs, those being written included. The state it
    /// returns counts as being written for every later check until its write ends;
    /// its write starts at once, and [`Reservation::written`] waits for it.
    pub async fn reserve_checked<E: From<StoreError>>(
        self: &Arc<Self>,
        tab: &Pubkey,
        check: impl FnOnce(&[StoredEpoch]) -> Result<Accepted, E>,
    ) -> Result<Reservation, E> {
        let accepted = {
            let mut stripe = self.stripe(tab).lock().await;
            let mut epochs = self.stored_locked(&mut stripe, tab).await?;
            if let Some(entry) = stripe.get(tab) {
                overlay(&mut epochs, &entry.writing);
            }
            let accepted = check(&epochs)?;
            let entry = stripe.entry(*tab).or_default();
            entry.writing.push(as_stored(&accepted, None));
            accepted
        };
        crate::crash::point("state-reserved");
        let queued = Instant::now();
        // Queued before returning, so that the next state of its stream, reserved
        // after this returns, is written after it.
        let pending = self.store.queue(accepted.clone());
        // A task of its own: a caller gone away (its connection closed) must not leave
        // the state counted as being written, nor its outcome unrecorded.
        let ledger = self.clone();
        let write = accepted.clone();
        let write = tokio::spawn(async move {
            let written = pending.written().await;
            if matches!(written, Ok(true)) {
                crate::crash::point("state-written");
            }
            ledger.write_ended(&write, &written).await;
            written
        });
        Ok(Reservation {
            accepted,
            write,
            queued,
        })
    }

    async fn write_ended(&self, accepted: &Accepted, written: &StoreResult<bool>) {
        let state = accepted.state();
        let mut stripe = self.stripe(&state.tab).lock().await;
        let Some(entry) = stripe.get_mut(&state.tab) else {
            return;
        };
        let key = EpochKey::of(state);
        if let Some(at) = entry
            .writing
            .iter()
            .position(|w| w.key() == key && w.state().seq == state.seq)
        {
            entry.writing.swap_remove(at);
        }
        match (written, entry.stored.as_mut()) {
            (Ok(true), Some(stored)) => upsert(stored, accepted),
            // Another writer won, or the outcome is unknown: read the store again.
            _ => entry.stored = None,
        }
        if entry.stored.is_none() && entry.writing.is_empty() {
            stripe.remove(&state.tab);
        }
    }

    /// Drops what is kept of these tabs: settlement changed their epochs' status.
    pub async fn forget(&self, tabs: impl IntoIterator<Item = Pubkey>) {
        for tab in tabs {
            let mut stripe = self.stripe(&tab).lock().await;
            if let Some(entry) = stripe.get_mut(&tab) {
                entry.stored = None;
                if entry.writing.is_empty() {
                    stripe.remove(&tab);
                }
            }
        }
    }
}

fn as_stored(accepted: &Accepted, opened_at_ms: Option<i64>) -> StoredEpoch {
    StoredEpoch {
        receipted: accepted.receipted.clone(),
        status: StreamStatus::Open,
        opened_at_ms: opened_at_ms.unwrap_or(accepted.at_ms),
        updated_at_ms: accepted.at_ms,
        settle_tx: None,
    }
}

/// `epochs` with each of `writing` in place of the state of its epoch it replaces.
fn overlay(epochs: &mut Vec<StoredEpoch>, writing: &[StoredEpoch]) {
    for next in writing {
        match epochs.iter_mut().find(|e| e.key() == next.key()) {
            Some(stored) if stored.state().seq < next.state().seq => *stored = next.clone(),
            Some(_) => {}
            None => epochs.push(next.clone()),
        }
    }
}

/// `stored` once `accepted` is written: the newer state of its epoch, still open.
/// Two states of a stream written in one group end in either order, so a state never
/// replaces a later one.
fn upsert(stored: &mut Vec<StoredEpoch>, accepted: &Accepted) {
    let key = as_stored(accepted, None).key();
    match stored.iter_mut().find(|e| e.key() == key) {
        Some(epoch) if epoch.state().seq < accepted.state().seq => {
            *epoch = as_stored(accepted, Some(epoch.opened_at_ms))
        }
        Some(_) => {}
        None => stored.push(as_stored(accepted, None)),
    }
}

/// The settlement store, telling the ledger of each tab whose epochs it moves on.
pub struct Settling<S> {
    pub store: Arc<S>,
    pub ledger: Arc<Ledger>,
}

fn tabs_of(epochs: &[EpochKey]) -> Vec<Pubkey> {
    let mut tabs: Vec<Pubkey> = epochs.iter().map(|e| e.stream.tab).collect();
    tabs.sort_unstable();
    tabs.dedup();
    tabs
}

#[async_trait]
impl<S: SettlementStore> SettlementStore for Settling<S> {
    async fn pending(&self) -> StoreResult<Vec<StoredEpoch>> {
        self.store.pending().await
    }

    async fn close(&self, epochs: &[EpochKey]) -> StoreResult<Vec<bool>> {
        let closed = self.store.close(epochs).await;
        self.ledger.forget(tabs_of(epochs)).await;
        closed
    }

    async fn lease(
        &self,
        epochs: &[EpochKey],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<Vec<bool>> {
        self.store.lease(epochs, owner, now_ms, until_ms).await
    }

    async fn record_settle_tx(
        &self,
        epochs: &[EpochKey],
        tx: &VersionedTransaction,
        last_valid_block_height: u64,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.store
            .record_settle_tx(epochs, tx, last_valid_block_height, now_ms)
            .await
    }

    async fn unconfirmed_settlements(&self) -> StoreResult<Vec<RecordedSettlement>> {
        self.store.unconfirmed_settlements().await
    }

    async fn forget_settle_tx(&self, epochs: &[EpochKey], tx: &Signature) -> StoreResult<()> {
        self.store.forget_settle_tx(epochs, tx).await
    }

    async fn finish(&self, epoch: &EpochKey, status: StreamStatus, now_ms: i64) -> StoreResult<()> {
        let finished = self.store.finish(epoch, status, now_ms).await;
        self.ledger.forget([epoch.stream.tab]).await;
        finished
    }

    async fn entries_at(&self, epoch: &EpochKey, seq: u32) -> StoreResult<Vec<(Pubkey, u64)>> {
        self.store.entries_at(epoch, seq).await
    }

    async fn lookup_tables(&self, authority: &Pubkey) -> StoreResult<Vec<Pubkey>> {
        self.store.lookup_tables(authority).await
    }

    async fn add_lookup_table(
        &self,
        authority: &Pubkey,
        table: &Pubkey,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.store.add_lookup_table(authority, table, now_ms).await
    }

    async fn remove_lookup_table(&self, table: &Pubkey) -> StoreResult<()> {
        self.store.remove_lookup_table(table).await
    }
}

#[cfg(test)]
mod tests;
