//! Whether a signed stream state may be receipted: the program's rules as the
//! sequencer applies them before persisting, plus the funds and cap checks only the
//! sequencer can make (it alone sees every stream's unsettled states). Pure but for a
//! memo of verified signatures: callers pass the tab as last read from chain and what
//! the store holds.

use micropay_api::ErrorCode;
use micropay_interface::{
    state::{Slot, Tab},
    MAX_SLOTS,
};
use micropay_protocol::{SignedStream, StreamState, MAX_ENTRIES};
use solana_sdk::pubkey::Pubkey;

use super::signatures::VerifiedSignatures;
use crate::domain::StoredEpoch;

/// Why a state was refused; each maps to one API code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the signature is not the stream key's over this state")]
    BadSignature,
    #[error("insufficient funds: {available} available beside the tab's other unsettled states, this state totals {needed}")]
    InsufficientFunds { available: u64, needed: u64 },
    #[error("stale state: {0}")]
    Stale(String),
    #[error("{0}")]
    Policy(String),
    #[error("{0}")]
    UnknownStream(String),
}

impl Rejection {
    pub fn code(&self) -> ErrorCode {
        match self {
            Rejection::BadSignature => ErrorCode::BadSignature,
            Rejection::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            Rejection::Stale(_) => ErrorCode::StaleState,
            Rejection::Policy(_) => ErrorCode::Policy,
            Rejection::UnknownStream(_) => ErrorCode::UnknownStream,
        }
    }
}

/// What the relayer knows when a state for a tab arrives.
pub struct TabContext<'a> {
    pub tab: &'a Tab,
    /// What [`crate::store::IntakeStore::tab_epochs`] returned for the tab.
    pub stored: &'a [StoredEpoch],
    /// The lowest fee a new state may sign: the config's, or its pending one if higher.
    pub required_fee_bps: u16,
    /// Unix seconds.
    pub now: i64,
    /// A key must stay usable this long past a tip, so that its states can settle.
    pub min_key_validity: i64,
    pub signatures: &'a VerifiedSignatures,
}

/// A state that passed: what to store besides it.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    pub previous_seq: Option<u32>,
    pub tip: (Pubkey, u64),
}

impl TabContext<'_> {
    fn slot(&self, slot: u8) -> Result<&Slot, Rejection> {
        let found = self
            .tab
            .slots
            .get(slot as usize)
            .filter(|s| s.has_key() && (slot as usize) < MAX_SLOTS);
        found.ok_or_else(|| Rejection::UnknownStream(format!("no key in slot {slot} of this tab")))
    }

    /// The newest stored epoch of one stream in this life of the tab.
    pub fn latest(&self, slot: u8) -> Option<&StoredEpoch> {
        let incarnation = self.tab.incarnation.get();
        self.stored
            .iter()
            .filter(|e| e.state().slot == slot && e.state().incarnation == incarnation)
            .max_by_key(|e| e.state().epoch)
    }

    /// The state the stream's next tip must extend (the open epoch's newest, or the
    /// empty state of the next epoch), and the stored seq it replaces.
    pub fn base(&self, tab: Pubkey, slot: u8) -> Result<(StreamState, Option<u32>), Rejection> {
        let chain_epoch = self.slot(slot)?.epoch.get();
        let latest = self.latest(slot);
        if let Some(latest) = latest {
            let open = latest.status == crate::domain::StreamStatus::Open;
            if open && latest.state().epoch >= chain_epoch {
                return Ok((latest.state().clone(), Some(latest.state().seq)));
            }
        }
        let epoch = latest.map_or(chain_epoch, |l| chain_epoch.max(l.state().epoch + 1));
        let state = StreamState::new(
            tab,
            self.tab.incarnation.get(),
            slot,
            epoch,
            self.required_fee_bps,
        );
        Ok((state, None))
    }

    /// What `stored` still owes on chain: all of it before the stream settles its
    /// epoch, the part above the settled state while a top-up is pending, else none.
    fn unsettled(&self, stored: &StoredEpoch) -> u64 {
        let state = stored.state();
        let Some(slot) = self.tab.slots.get(state.slot as usize) else {
            return 0;
        };
        if !stored.is_pending() || state.incarnation != self.tab.incarnation.get() {
            return 0;
        }
        let chain_epoch = slot.epoch.get();
        if state.epoch >= chain_epoch {
            state.total()
        } else if state.epoch + 1 == chain_epoch && state.seq > slot.last_seq.get() {
            state.total().saturating_sub(slot.last_total.get())
        } else {
            0
        }
    }

    pub fn check(&self, tab: Pubkey, submitted: &SignedStream) -> Result<Checked, Rejection> {
        self.check_signed(submitted)?;
        self.check_state(tab, &submitted.state)
    }

    /// What depends on the tab alone: the slot's key signed the state, for this life
    /// of the tab, and stays usable long enough for it to settle.
    pub fn check_signed(&self, submitted: &SignedStream) -> Result<(), Rejection> {
        let state = &submitted.state;
        let slot = self.slot(state.slot)?;
        if !self.signatures.verify(submitted, &slot.key) {
            return Err(Rejection::BadSignature);
        }
        if state.incarnation != self.tab.incarnation.get() {
            return Err(Rejection::Stale(format!(
                "the tab's life is incarnation {}, the state is for {}",
                self.tab.incarnation.get(),
                state.incarnation
            )));
        }
        let horizon = self.now.saturating_add(self.min_key_validity);
        if slot.expires_at.get() <= horizon || slot.valid_until.get() <= horizon {
            return Err(Rejection::Policy(format!(
                "the key in slot {} expires or was removed: its states could not settle in time",
                state.slot
            )));
        }
        Ok(())
    }

    /// What depends on the stored states too: the state is its stream's next by one
    /// tip, signs the fee, and fits the tab's funds and the key's cap beside every
    /// other unsettled state.
    pub fn check_state(&self, tab: Pubkey, state: &StreamState) -> Result<Checked, Rejection> {
        let slot = self.slot(state.slot)?;
        let (mut base, mut previous_seq) = self.base(tab, state.slot)?;
        // A full state's stream goes on in its next epoch (`tip_or_next_epoch`).
        if base.entries.len() >= MAX_ENTRIES && state.epoch == base.epoch.saturating_add(1) {
            (base, previous_seq) = (base.next_epoch(), None);
        }
        if state.epoch != base.epoch || state.seq != base.seq.wrapping_add(1) {
            return Err(Rejection::Stale(format!(
                "expected epoch {} seq {}, got epoch {} seq {}",
                base.epoch,
                base.seq.wrapping_add(1),
                state.epoch,
                state.seq
            )));
        }
        if state.fee_bps < self.required_fee_bps {
            return Err(Rejection::Policy(format!(
                "the state signs a fee of {} bps; the config charges {}",
                state.fee_bps, self.required_fee_bps
            )));
        }
        let tip = single_tip(&base, state).ok_or_else(|| {
            Rejection::Policy("a state must add exactly one tip to the previous one".into())
        })?;

        let others = self
            .stored
            .iter()
            .filter(|e| !(e.state().slot == state.slot && e.state().epoch == state.epoch));
        let (unsettled, unsettled_here) = others.fold((0u64, 0u64), |(all, here), e| {
            let owed = self.unsettled(e);
            let same_stream = e.state().slot == state.slot;
            (
                all.saturating_add(owed),
                here.saturating_add(if same_stream { owed } else { 0 }),
            )
        });
        let available = self
            .tab
            .balance
            .get()
            .saturating_sub(self.tab.withdraw_amount.get())
            .saturating_sub(unsettled);
        let needed = state.total();
        if needed > available {
            return Err(Rejection::InsufficientFunds { available, needed });
        }
        if state.slot > 0 {
            let committed = slot
                .spent
                .get()
                .saturating_add(unsettled_here)
                .saturating_add(needed);
            if committed > slot.cap.get() {
                return Err(Rejection::Policy(format!(
                    "the session key's cap of {} would be exceeded",
                    slot.cap.get()
                )));
            }
        }
        Ok(Checked { previous_seq, tip })
    }
}

/// The `(payee, amount)` by which `next` extends `base`, if it adds exactly one tip.
fn single_tip(base: &StreamState, next: &StreamState) -> Option<(Pubkey, u64)> {
    let mut changed = None;
    for (payee, amount) in &next.entries {
        let before = base.entries.get(payee).copied().unwrap_or(0);
        if *amount != before {
            if changed.is_some() || *amount < before {
                return None;
            }
            changed = Some((*payee, amount - before));
        }
    }
    let dropped = base.entries.keys().any(|p| !next.entries.contains_key(p));
    (!dropped).then_some(changed?)
}

#[cfg(test)]
mod tests;
