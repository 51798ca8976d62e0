//! Pushes each receipt, once persisted, to the payees it names: subscribers get every
//! receipt from a broadcast channel and keep those naming their wallet. A subscriber
//! that falls behind is told so and refetches what it missed over the API.

use std::sync::Arc;

use micropay_protocol::Receipted;
use solana_sdk::pubkey::Pubkey;
use tokio::sync::broadcast;

/// Receipts kept for slow subscribers before they lag.
const BACKLOG: usize = 4_096;

#[derive(Clone)]
pub struct ReceiptHub {
    sender: broadcast::Sender<Arc<Receipted>>,
}

impl Default for ReceiptHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl ReceiptHub {
    pub fn publish(&self, receipted: Receipted) {
        // No subscriber is not an error: receipts stay fetchable from the store.
        let _ = self.sender.send(Arc::new(receipted));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Receipted>> {
        self.sender.subscribe()
    }
}

/// Whether `receipted` names `wallet` as a payee.
pub fn names(receipted: &Receipted, wallet: &Pubkey) -> bool {
    receipted.signed.state.entries.contains_key(wallet)
}
