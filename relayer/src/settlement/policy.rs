//! When an open stream epoch is closed for settlement.

use std::time::Duration;

use micropay_interface::state::{Params, Slot, Tab};

use crate::domain::StoredEpoch;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Settle an epoch once its first tip is this old.
    pub max_age: Duration,
    /// ... or once its total reaches this many token units.
    pub max_total: u64,
    /// ... or once it holds this many tips.
    pub max_tips: u32,
    /// ... or when the owner's withdrawal, or the key's expiry or end of validity,
    /// comes within this long.
    pub horizon: Duration,
}

impl Policy {
    /// Whether `epoch` should be closed now. Only the epoch the chain waits for, and
    /// only once the slot's last settlement is out of its top-up window: before that
    /// the program refuses to open the next one. `superseded`: its stream has gone on
    /// in a later epoch (its state was full), so it takes no more tips.
    pub fn is_due(
        &self,
        epoch: &StoredEpoch,
        tab: &Tab,
        params: &Params,
        now_ms: i64,
        settle_opened_before_ms: i64,
        superseded: bool,
    ) -> bool {
        let state = epoch.state();
        let Some(slot) = tab.slots.get(state.slot as usize) else {
            return false;
        };
        let now = now_ms / 1_000;
        if slot.epoch.get() != state.epoch || slot.in_top_up_window(now, params.top_up_window.get())
        {
            return false;
        }
        let age_ms = now_ms.saturating_sub(epoch.opened_at_ms);
        epoch.opened_at_ms <= settle_opened_before_ms
            || superseded
            || age_ms >= self.max_age.as_millis() as i64
            || state.total() >= self.max_total
            || state.seq >= self.max_tips
            || self.deadline_near(tab, slot, params, now)
    }

    /// Something will stop this stream's states from settling, or the owner wants
    /// the funds back, within the horizon.
    fn deadline_near(&self, tab: &Tab, slot: &Slot, params: &Params, now: i64) -> bool {
        let soon = now.saturating_add(self.horizon.as_secs() as i64);
        let requested = tab.withdraw_requested_at.get();
        let withdrawal =
            requested != 0 && requested.saturating_add(params.withdrawal_delay.get()) <= soon;
        withdrawal || slot.expires_at.get() <= soon || slot.valid_until.get() <= soon
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use micropay_api::StreamStatus;
    use micropay_interface::state::{I64, KEY_KIND_ED25519, U64};
    use micropay_protocol::{Receipted, SignedStream, StreamState};
    use solana_sdk::pubkey::Pubkey;

    fn setup() -> (Policy, Tab, Params, StoredEpoch) {
        let policy = Policy {
            max_age: Duration::from_secs(30),
            max_total: 1_000,
            max_tips: 100,
            horizon: Duration::from_secs(120),
        };
        let mut tab = Tab::zeroed();
        tab.slots[0].key_kind = KEY_KIND_ED25519;
        tab.slots[0].epoch = U64::new(4);
        tab.slots[0].expires_at = I64::new(i64::MAX);
        tab.slots[0].valid_until = I64::new(i64::MAX);
        let mut params = Params::zeroed();
        params.top_up_window = I64::new(60);
        params.withdrawal_delay = I64::new(3_600);
        let state = StreamState::new(Pubkey::new_unique(), 1, 0, 4, 0)
            .tip(Pubkey::new_unique(), 10)
            .unwrap();
        let epoch = StoredEpoch {
            receipted: Receipted {
                signed: SignedStream {
                    state,
                    signature: [0; 64],
                },
                receipt: [0; 64],
            },
            status: StreamStatus::Open,
            opened_at_ms: 100_000_000,
            updated_at_ms: 100_000_000,
            settle_tx: None,
        };
        (policy, tab, params, epoch)
    }

    #[test]
    fn age_size_and_deadlines_make_an_epoch_due() {
        let (policy, mut tab, params, epoch) = setup();
        let start = epoch.opened_at_ms;
        assert!(!policy.is_due(&epoch, &tab, &params, start + 29_000, 0, false));
        assert!(policy.is_due(&epoch, &tab, &params, start + 30_000, 0, false));
        // "Settle now" covers the epochs opened until it was asked, not later ones.
        assert!(policy.is_due(&epoch, &tab, &params, start + 1, start, false));
        assert!(!policy.is_due(&epoch, &tab, &params, start + 1, start - 1, false));
        // A withdrawal that unlocks within the horizon.
        tab.withdraw_requested_at = I64::new(start / 1_000 - 3_600 + 100);
        assert!(policy.is_due(&epoch, &tab, &params, start, 0, false));
        tab.withdraw_requested_at = I64::new(0);
        // A key expiring within the horizon.
        tab.slots[0].expires_at = I64::new(start / 1_000 + 119);
        assert!(policy.is_due(&epoch, &tab, &params, start, 0, false));
    }

    #[test]
    fn an_epoch_its_stream_has_moved_on_from_is_due_at_once() {
        let (policy, tab, params, epoch) = setup();
        let start = epoch.opened_at_ms;
        assert!(!policy.is_due(&epoch, &tab, &params, start, 0, false));
        assert!(policy.is_due(&epoch, &tab, &params, start, 0, true));
    }

    #[test]
    fn nothing_is_due_that_the_program_would_refuse_now() {
        let (policy, mut tab, params, epoch) = setup();
        let late = epoch.opened_at_ms + 60_000;
        // The chain waits for another epoch.
        tab.slots[0].epoch = U64::new(3);
        assert!(!policy.is_due(&epoch, &tab, &params, late, late, false));
        tab.slots[0].epoch = U64::new(4);
        // The last settlement can still be topped up.
        tab.slots[0].last_settled_at = I64::new(late / 1_000 - 59);
        assert!(!policy.is_due(&epoch, &tab, &params, late, late, false));
        tab.slots[0].last_settled_at = I64::new(late / 1_000 - 61);
        assert!(policy.is_due(&epoch, &tab, &params, late, late, false));
    }
}
