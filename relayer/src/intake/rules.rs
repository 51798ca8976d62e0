//! Whether a signed stream state may be receipted: the program's rules as the
//! sequencer applies them before persisting, plus the funds and cap checks only the
//! sequencer can make (it alone sees every stream's unsettled states). Pure: callers
//! pass the tab as last read from chain and what the store holds.

use micropay_api::ErrorCode;
use micropay_interface::{
    state::{Slot, Tab},
    MAX_SLOTS,
};
use micropay_protocol::{SignedStream, StreamState, MAX_ENTRIES};
use solana_sdk::pubkey::Pubkey;

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
        if !submitted.verify(&slot.key) {
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
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use micropay_api::StreamStatus;
    use micropay_interface::state::{I64, KEY_KIND_ED25519, U32, U64};
    use micropay_protocol::Receipted;
    use solana_sdk::signature::{Keypair, Signer};

    struct World {
        owner: Keypair,
        session: Keypair,
        tab: Tab,
        tab_key: Pubkey,
        payee: Pubkey,
    }

    fn slot(key: &Keypair, epoch: u64, cap: u64, spent: u64) -> Slot {
        let mut slot = Slot::zeroed();
        slot.key = key.pubkey();
        slot.key_kind = KEY_KIND_ED25519;
        slot.expires_at = I64::new(10_000);
        slot.valid_until = I64::new(20_000);
        slot.cap = U64::new(cap);
        slot.spent = U64::new(spent);
        slot.epoch = U64::new(epoch);
        slot
    }

    fn world() -> World {
        let owner = Keypair::new();
        let session = Keypair::new();
        let mut tab = Tab::zeroed();
        tab.owner = owner.pubkey();
        tab.incarnation = U64::new(3);
        tab.balance = U64::new(10_000);
        tab.withdraw_amount = U64::new(2_000);
        tab.slots[0] = slot(&owner, 5, 0, 0);
        tab.slots[0].expires_at = I64::new(i64::MAX);
        tab.slots[0].valid_until = I64::new(i64::MAX);
        tab.slots[1] = slot(&session, 2, 1_000, 100);
        World {
            owner,
            session,
            tab,
            tab_key: Pubkey::new_unique(),
            payee: Pubkey::new_unique(),
        }
    }

    fn ctx<'a>(w: &'a World, stored: &'a [StoredEpoch]) -> TabContext<'a> {
        TabContext {
            tab: &w.tab,
            stored,
            required_fee_bps: 30,
            now: 1_000,
            min_key_validity: 600,
        }
    }

    fn state(w: &World, slot: u8, epoch: u64) -> StreamState {
        StreamState::new(w.tab_key, 3, slot, epoch, 30)
    }

    fn signed(state: StreamState, key: &Keypair) -> SignedStream {
        SignedStream::sign(state, key).unwrap()
    }

    fn stored(signed: SignedStream, status: StreamStatus) -> StoredEpoch {
        StoredEpoch {
            receipted: Receipted {
                signed,
                receipt: [0; 64],
            },
            status,
            opened_at_ms: 0,
            updated_at_ms: 0,
            settle_tx: None,
        }
    }

    #[test]
    fn the_first_tip_opens_the_chain_epoch_of_its_stream() {
        let w = world();
        let s = state(&w, 0, 5).tip(w.payee, 10).unwrap();
        let checked = ctx(&w, &[]).check(w.tab_key, &signed(s, &w.owner)).unwrap();
        assert_eq!(
            checked,
            Checked {
                previous_seq: None,
                tip: (w.payee, 10)
            }
        );
        let s = state(&w, 1, 2).tip(w.payee, 10).unwrap();
        assert!(ctx(&w, &[])
            .check(w.tab_key, &signed(s, &w.session))
            .is_ok());
    }

    #[test]
    fn a_full_stream_goes_on_in_its_next_epoch() {
        let w = world();
        let mut full = state(&w, 0, 5);
        for _ in 0..micropay_protocol::MAX_ENTRIES {
            full = full.tip(Pubkey::new_unique(), 1).unwrap();
        }
        let latest = [stored(signed(full.clone(), &w.owner), StreamStatus::Open)];
        let c = ctx(&w, &latest);
        // Tips to the payees it names still extend it.
        let payee = *full.entries.keys().next().unwrap();
        let more = full.tip_or_next_epoch(payee, 1).unwrap();
        assert_eq!(more.epoch, 5);
        assert!(c.check(w.tab_key, &signed(more, &w.owner)).is_ok());
        // A tip to another payee starts the next epoch.
        let next = full.tip_or_next_epoch(w.payee, 1).unwrap();
        assert_eq!((next.epoch, next.seq), (6, 1));
        assert!(c.check(w.tab_key, &signed(next, &w.owner)).is_ok());
        // Not an epoch further, nor a new epoch while the state has room.
        let skipped = full.next_epoch().next_epoch().tip(w.payee, 1).unwrap();
        assert!(matches!(
            c.check(w.tab_key, &signed(skipped, &w.owner)),
            Err(Rejection::Stale(_))
        ));
        let roomy = state(&w, 0, 5).tip(w.payee, 1).unwrap();
        let latest = [stored(signed(roomy.clone(), &w.owner), StreamStatus::Open)];
        let early = roomy.next_epoch().tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, &latest).check(w.tab_key, &signed(early, &w.owner)),
            Err(Rejection::Stale(_))
        ));
    }

    #[test]
    fn only_the_next_state_by_one_tip_passes() {
        let w = world();
        let s1 = state(&w, 0, 5).tip(w.payee, 10).unwrap();
        let latest = [stored(signed(s1.clone(), &w.owner), StreamStatus::Open)];
        let c = ctx(&w, &latest);
        let s2 = s1.tip(w.payee, 5).unwrap();
        assert_eq!(
            c.check(w.tab_key, &signed(s2.clone(), &w.owner)).unwrap(),
            Checked {
                previous_seq: Some(1),
                tip: (w.payee, 5)
            }
        );
        // The stored state again, or a skipped seq: stale.
        let replay = c.check(w.tab_key, &latest[0].receipted.signed);
        assert!(matches!(replay, Err(Rejection::Stale(_))));
        let s3 = s2.tip(w.payee, 1).unwrap();
        assert!(matches!(
            c.check(w.tab_key, &signed(s3, &w.owner)),
            Err(Rejection::Stale(_))
        ));
        // Two tips in one step.
        let mut two = s1
            .tip(w.payee, 5)
            .unwrap()
            .tip(Pubkey::new_unique(), 5)
            .unwrap();
        two.seq = 2;
        assert!(matches!(
            c.check(w.tab_key, &signed(two, &w.owner)),
            Err(Rejection::Policy(_))
        ));
        // A payee dropped.
        let mut dropped = state(&w, 0, 5).tip(Pubkey::new_unique(), 11).unwrap();
        dropped.seq = 2;
        assert!(matches!(
            c.check(w.tab_key, &signed(dropped, &w.owner)),
            Err(Rejection::Policy(_))
        ));
    }

    #[test]
    fn signatures_must_be_the_slot_keys() {
        let w = world();
        let s = state(&w, 0, 5).tip(w.payee, 10).unwrap();
        let by_session = signed(s.clone(), &w.session);
        assert_eq!(
            ctx(&w, &[]).check(w.tab_key, &by_session),
            Err(Rejection::BadSignature)
        );
        let mut forged = signed(s, &w.owner);
        forged.state = forged.state.tip(w.payee, 1).unwrap();
        forged.state.seq = 1;
        assert_eq!(
            ctx(&w, &[]).check(w.tab_key, &forged),
            Err(Rejection::BadSignature)
        );
        let empty_slot = state(&w, 2, 0).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(empty_slot, &w.owner)),
            Err(Rejection::UnknownStream(_))
        ));
        let beyond = state(&w, MAX_SLOTS as u8, 0).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(beyond, &w.owner)),
            Err(Rejection::UnknownStream(_))
        ));
    }

    /// `S + L`: the same point equation holds, but the encoding is not canonical; the
    /// strict predicate (and so the program) refuses it.
    fn non_canonical(signature: [u8; 64]) -> [u8; 64] {
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut out = signature;
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(out[32 + i]) + u16::from(L[i]) + carry;
            out[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        out
    }

    #[test]
    fn signatures_the_program_would_refuse_are_refused() {
        let mut w = world();
        let s = state(&w, 0, 5).tip(w.payee, 10).unwrap();
        let good = signed(s.clone(), &w.owner);
        assert!(ctx(&w, &[]).check(w.tab_key, &good).is_ok());
        let malleated = SignedStream {
            state: s.clone(),
            signature: non_canonical(good.signature),
        };
        assert_eq!(
            ctx(&w, &[]).check(w.tab_key, &malleated),
            Err(Rejection::BadSignature)
        );
        // A small-order key (the identity point) in the slot: nothing verifies.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        w.tab.slots[0].key = Pubkey::new_from_array(identity);
        let forged = SignedStream {
            state: s,
            signature: [0u8; 64],
        };
        assert_eq!(
            ctx(&w, &[]).check(w.tab_key, &forged),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn funds_cover_every_streams_unsettled_states() {
        let mut w = world();
        // 10,000 balance - 2,000 pending withdrawal = 8,000.
        let session_open = stored(
            signed(state(&w, 1, 2).tip(w.payee, 900).unwrap(), &w.session),
            StreamStatus::Open,
        );
        let owner_closed = stored(
            signed(state(&w, 0, 5).tip(w.payee, 3_000).unwrap(), &w.owner),
            StreamStatus::Closed,
        );
        let stored_all = [owner_closed, session_open];
        let c = ctx(&w, &stored_all);
        let ok = state(&w, 0, 6).tip(w.payee, 4_100).unwrap();
        assert!(c.check(w.tab_key, &signed(ok, &w.owner)).is_ok());
        let over = state(&w, 0, 6).tip(w.payee, 4_101).unwrap();
        assert_eq!(
            c.check(w.tab_key, &signed(over, &w.owner)),
            Err(Rejection::InsufficientFunds {
                available: 4_100,
                needed: 4_101
            })
        );
        // Once the chain settled the closed epoch at a lower seq, only the difference
        // still counts (a top-up is pending).
        w.tab.slots[0].epoch = U64::new(6);
        w.tab.slots[0].last_seq = U32::new(0);
        w.tab.slots[0].last_total = U64::new(1_000);
        w.tab.balance = U64::new(9_000);
        let c = ctx(&w, &stored_all);
        let ok = state(&w, 0, 6).tip(w.payee, 4_100).unwrap();
        assert!(c.check(w.tab_key, &signed(ok, &w.owner)).is_ok());
        let over = state(&w, 0, 6).tip(w.payee, 4_101).unwrap();
        assert!(matches!(
            c.check(w.tab_key, &signed(over, &w.owner)),
            Err(Rejection::InsufficientFunds { .. })
        ));
    }

    #[test]
    fn session_keys_keep_to_cap_expiry_and_removal() {
        let mut w = world();
        // cap 1,000, spent 100.
        let ok = state(&w, 1, 2).tip(w.payee, 900).unwrap();
        assert!(ctx(&w, &[])
            .check(w.tab_key, &signed(ok, &w.session))
            .is_ok());
        let over = state(&w, 1, 2).tip(w.payee, 901).unwrap();
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(over.clone(), &w.session)),
            Err(Rejection::Policy(_))
        ));
        w.tab.slots[1].cap = U64::new(2_000);
        w.tab.slots[1].expires_at = I64::new(1_500);
        let soon = state(&w, 1, 2).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(soon.clone(), &w.session)),
            Err(Rejection::Policy(_))
        ));
        // Removed: `remove_signer` ends expiry now and validity after the delay.
        w.tab.slots[1].expires_at = I64::new(900);
        w.tab.slots[1].valid_until = I64::new(4_600);
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(soon, &w.session)),
            Err(Rejection::Policy(_))
        ));
    }

    #[test]
    fn other_lives_settled_epochs_and_low_fees_are_refused() {
        let w = world();
        let mut old_life = state(&w, 0, 5).tip(w.payee, 1).unwrap();
        old_life.incarnation = 2;
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(old_life, &w.owner)),
            Err(Rejection::Stale(_))
        ));
        let settled = state(&w, 0, 4).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(settled, &w.owner)),
            Err(Rejection::Stale(_))
        ));
        let mut cheap = state(&w, 0, 5);
        cheap.fee_bps = 29;
        let cheap = cheap.tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, &[]).check(w.tab_key, &signed(cheap, &w.owner)),
            Err(Rejection::Policy(_))
        ));
    }

    #[test]
    fn a_closed_epoch_moves_tips_to_the_next() {
        let w = world();
        let closed = [stored(
            signed(state(&w, 0, 5).tip(w.payee, 1).unwrap(), &w.owner),
            StreamStatus::Closed,
        )];
        let (base, previous) = ctx(&w, &closed).base(w.tab_key, 0).unwrap();
        assert_eq!((base.epoch, base.seq, previous), (6, 0, None));
    }
}
