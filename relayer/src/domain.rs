//! What the relayer keeps: receipted stream epochs, and where each is in its life.

use std::time::{SystemTime, UNIX_EPOCH};

pub use micropay_api::{StatusTotals, StreamStatus};
use micropay_protocol::{Receipted, StreamState};
use solana_sdk::{pubkey::Pubkey, signature::Signature};

/// Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// One stream of a tab: slot 0 is the owner's, the others session keys'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    pub tab: Pubkey,
    pub slot: u8,
}

/// One epoch of one stream in one life of its tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochKey {
    pub stream: StreamKey,
    pub incarnation: u64,
    pub epoch: u64,
}

impl EpochKey {
    /// The epoch `state` belongs to.
    pub fn of(state: &StreamState) -> Self {
        Self {
            stream: StreamKey {
                tab: state.tab,
                slot: state.slot,
            },
            incarnation: state.incarnation,
            epoch: state.epoch,
        }
    }
}

/// The newest receipted state of one stream epoch, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEpoch {
    pub receipted: Receipted,
    pub status: StreamStatus,
    /// When the epoch's first state was receipted.
    pub opened_at_ms: i64,
    /// When its newest state was receipted (or its status last changed).
    pub updated_at_ms: i64,
    /// The last settlement transaction sent for it, if any.
    pub settle_tx: Option<Signature>,
}

impl StoredEpoch {
    pub fn state(&self) -> &StreamState {
        &self.receipted.signed.state
    }

    pub fn stream(&self) -> StreamKey {
        StreamKey {
            tab: self.state().tab,
            slot: self.state().slot,
        }
    }

    pub fn key(&self) -> EpochKey {
        EpochKey::of(self.state())
    }

    /// Still to be paid on chain, in full or in part.
    pub fn is_pending(&self) -> bool {
        self.status.is_pending()
    }
}

/// A receipted state ready to be stored, with the one tip it adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub receipted: Receipted,
    /// The stored seq it replaces (`None` for the first state of an epoch).
    pub previous_seq: Option<u32>,
    pub tip: (Pubkey, u64),
    pub at_ms: i64,
}

impl Accepted {
    pub fn state(&self) -> &StreamState {
        &self.receipted.signed.state
    }

    /// Whether its tip is the epoch's first to the payee: the state's entry for the
    /// payee is the tip alone (entries are sums of tips, each above zero).
    pub fn first_tip_to_payee(&self) -> bool {
        self.state().entries.get(&self.tip.0) == Some(&self.tip.1)
    }
}

/// A settlement transaction as recorded before it was sent, with the epochs it
/// carries that are still closed: after a restart it may yet land.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedSettlement {
    pub tx: solana_sdk::transaction::VersionedTransaction,
    pub last_valid_block_height: u64,
    pub epochs: Vec<EpochKey>,
}

/// The store in sums: epochs by status, when the oldest pending epoch opened, and the
/// settlement transactions recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreTotals {
    pub epochs: Vec<StatusTotals>,
    pub oldest_pending_ms: Option<i64>,
    pub settlement_transactions: u64,
}
