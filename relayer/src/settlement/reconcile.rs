//! What the chain says about a stored pending epoch. The chain is the truth: a
//! settlement that landed moved the slot's epoch and recorded its seq, whoever sent it.

use micropay_interface::state::{Params, Standing, Tab};

use crate::domain::{StoredEpoch, StreamStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not settled yet.
    Waiting,
    /// Settled at a lower seq and still inside the top-up window: top it up.
    TopUp,
    /// Final: settled in full, settled short with the window passed, or void.
    Final(StreamStatus),
}

/// `tab` is the tab as the chain holds it now (`None`: closed).
pub fn outcome(epoch: &StoredEpoch, tab: Option<&Tab>, params: &Params, now: i64) -> Outcome {
    let state = epoch.state();
    let Some(tab) = tab else {
        return Outcome::Final(StreamStatus::Void);
    };
    let standing = tab.standing(
        state.incarnation,
        state.slot,
        (state.epoch, state.seq),
        now,
        params.top_up_window.get(),
    );
    match standing {
        Standing::Pending => Outcome::Waiting,
        Standing::TopUp => Outcome::TopUp,
        Standing::Settled => Outcome::Final(StreamStatus::Settled),
        Standing::Short => Outcome::Final(StreamStatus::Short),
        Standing::Void => Outcome::Final(StreamStatus::Void),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use micropay_interface::state::{I64, KEY_KIND_ED25519, U32, U64};
    use micropay_protocol::{Receipted, SignedStream, StreamState};
    use solana_sdk::pubkey::Pubkey;

    fn epoch(epoch: u64, seq_tips: u32) -> StoredEpoch {
        let mut state = StreamState::new(Pubkey::new_unique(), 9, 1, epoch, 0);
        for _ in 0..seq_tips {
            state = state.tip(Pubkey::new_unique(), 1).unwrap();
        }
        StoredEpoch {
            receipted: Receipted {
                signed: SignedStream {
                    state,
                    signature: [0; 64],
                },
                receipt: [0; 64],
            },
            status: StreamStatus::Closed,
            opened_at_ms: 0,
            updated_at_ms: 0,
            settle_tx: None,
        }
    }

    fn tab(chain_epoch: u64, last_seq: u32, settled_at: i64) -> Tab {
        let mut tab = Tab::zeroed();
        tab.incarnation = U64::new(9);
        let slot = &mut tab.slots[1];
        slot.key_kind = KEY_KIND_ED25519;
        slot.valid_until = I64::new(10_000);
        slot.epoch = U64::new(chain_epoch);
        slot.last_seq = U32::new(last_seq);
        slot.last_settled_at = I64::new(settled_at);
        tab
    }

    #[test]
    fn the_chain_decides() {
        let mut params = Params::zeroed();
        params.top_up_window = I64::new(60);
        let stored = epoch(5, 3);
        let at = |tab: Option<&Tab>, now| outcome(&stored, tab, &params, now);
        assert_eq!(at(Some(&tab(5, 0, 0)), 1_000), Outcome::Waiting);
        assert_eq!(
            at(Some(&tab(6, 3, 990)), 1_000),
            Outcome::Final(StreamStatus::Settled)
        );
        assert_eq!(
            at(Some(&tab(7, 0, 990)), 1_000),
            Outcome::Final(StreamStatus::Settled)
        );
        // Someone settled a lower seq first: top up inside the window, short after.
        assert_eq!(at(Some(&tab(6, 2, 990)), 1_000), Outcome::TopUp);
        assert_eq!(
            at(Some(&tab(6, 2, 900)), 1_000),
            Outcome::Final(StreamStatus::Short)
        );
        // Another life of the tab, or no tab: void. A key no longer valid: void.
        let mut reborn = tab(5, 0, 0);
        reborn.incarnation = U64::new(10);
        assert_eq!(at(Some(&reborn), 1_000), Outcome::Final(StreamStatus::Void));
        assert_eq!(at(None, 1_000), Outcome::Final(StreamStatus::Void));
        assert_eq!(
            at(Some(&tab(5, 0, 0)), 10_001),
            Outcome::Final(StreamStatus::Void)
        );
    }
}
