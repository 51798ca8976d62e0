//! The sequencer's key as a client holds it: every receipt the relayer hands back is
//! checked under it, so it is decoded once, and once a process has checked enough
//! receipts to repay a table of the key's multiples, checked with that table.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    OnceLock,
};

use micropay_protocol::{
    ed25519::{DecodedKey, PrecomputedKey},
    Receipted,
};
use solana_sdk::pubkey::Pubkey;

/// Checks under the decoded key before the table is built: building it costs about
/// as much as 150 checks save with it (`cargo bench -p micropay-protocol --bench
/// signatures`), so a one-off `micropay pay` never builds it and a paying agent or
/// tipping client soon does.
const CHECKS_BEFORE_TABLE: u32 = 150;

#[derive(Debug)]
pub struct SequencerKey {
    key: Pubkey,
    /// `None` if the key is not a point: no receipt verifies.
    decoded: Option<DecodedKey>,
    checks: AtomicU32,
    table: OnceLock<PrecomputedKey>,
}

impl SequencerKey {
    pub fn new(key: Pubkey) -> Self {
        Self {
            key,
            decoded: DecodedKey::decode(key.as_array()),
            checks: AtomicU32::new(0),
            table: OnceLock::new(),
        }
    }

    pub fn pubkey(&self) -> Pubkey {
        self.key
    }

    /// Whether the sequencer receipted this very state (the strict predicate).
    pub fn receipted(&self, receipted: &Receipted) -> bool {
        if let Some(table) = self.table.get() {
            return receipted.receipt_verifies_under(table);
        }
        let Some(decoded) = &self.decoded else {
            return false;
        };
        // Only the check that reaches the count builds the table, where it runs (about
        // 5 ms, once per process); the others go on with the decoded key meanwhile
        // instead of waiting for it.
        if self.checks.fetch_add(1, Ordering::Relaxed) + 1 == CHECKS_BEFORE_TABLE {
            let table = self.table.get_or_init(|| PrecomputedKey::new(decoded));
            return receipted.receipt_verifies_under(table);
        }
        receipted.receipt_verifies_under(decoded)
    }
}

#[cfg(test)]
mod tests {
    use micropay_protocol::{SignedStream, StreamState};
    use solana_sdk::{signature::Keypair, signer::Signer};

    use super::*;

    /// Before and after the table, the answer is the predicate's.
    #[test]
    fn receipts_are_checked_the_same_before_and_after_the_table() {
        let (payer, sequencer, impostor) = (Keypair::new(), Keypair::new(), Keypair::new());
        let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100)
            .tip(Pubkey::new_unique(), 10)
            .unwrap();
        let signed = SignedStream::sign(state, &payer).unwrap();
        let genuine = signed.clone().receipt(&sequencer).unwrap();
        let forged = signed.receipt(&impostor).unwrap();
        let key = SequencerKey::new(sequencer.pubkey());
        for check in 0..CHECKS_BEFORE_TABLE + 2 {
            assert_eq!(key.table.get().is_some(), check >= CHECKS_BEFORE_TABLE);
            let receipted = if check % 2 == 0 { &genuine } else { &forged };
            assert_eq!(key.receipted(receipted), check % 2 == 0, "check {check}");
        }
    }

    #[test]
    fn a_key_that_is_not_a_point_verifies_nothing() {
        let sequencer = Keypair::new();
        let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100)
            .tip(Pubkey::new_unique(), 10)
            .unwrap();
        let receipted = SignedStream::sign(state, &Keypair::new())
            .unwrap()
            .receipt(&sequencer)
            .unwrap();
        // y = 2 is not the y of any curve point.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert!(DecodedKey::decode(&off_curve).is_none());
        let key = SequencerKey::new(Pubkey::new_from_array(off_curve));
        assert!(!key.receipted(&receipted));
    }
}
