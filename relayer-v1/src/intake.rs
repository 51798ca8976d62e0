//! Deciding whether a submitted signed state may be accepted. Pure: the caller supplies
//! the tab's on-chain state and what the store holds.

use micropay::state::Tab;
use micropay_protocol::{client::SignedState, EpochState};
use solana_sdk::pubkey::Pubkey;

use crate::store::{EpochStatus, StoredEpoch};

/// Why a submission was refused, mapped to the API's stable codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("insufficient funds: {available} available, state totals {needed}")]
    InsufficientFunds { available: u64, needed: u64 },
    #[error("stale state: {0}")]
    Stale(String),
    #[error("policy: {0}")]
    Policy(String),
}

/// What the relayer knows of a tab when a state for it arrives.
pub struct TabContext<'a> {
    /// The tab as last seen on chain.
    pub chain: &'a Tab,
    /// The newest epoch stored for the tab.
    pub latest: Option<&'a StoredEpoch>,
    /// Closed, not yet settled epochs of the tab.
    pub closed: &'a [StoredEpoch],
    /// Unix seconds.
    pub now: i64,
    /// A session key must stay valid at least this long to be accepted, so that the
    /// states it signs can still settle.
    pub min_session_validity: i64,
}

/// An accepted submission: what to store.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The stored seq it replaces (`None` for the first state of an epoch).
    pub previous_seq: Option<u32>,
    /// The one tip it adds.
    pub tip: (Pubkey, u64),
}

impl TabContext<'_> {
    /// The state the next tip must extend: the open epoch, or an empty next one.
    pub fn base(&self, tab: Pubkey) -> (EpochState, Option<u32>) {
        if let Some(latest) = self.latest {
            if latest.status == EpochStatus::Open && latest.epoch() >= self.chain.epoch {
                return (latest.signed.state.clone(), Some(latest.signed.state.seq));
            }
        }
        let after_latest = self.latest.map_or(0, |l| l.epoch() + 1);
        let epoch = after_latest.max(self.chain.epoch);
        (EpochState::new(tab, self.chain.incarnation, epoch), None)
    }

    /// Totals of earlier epochs that are signed but not settled, and the part of them
    /// signed by `signer`.
    fn unsettled_before(&self, epoch: u64, signer: &Pubkey) -> (u64, u64) {
        self.closed
            .iter()
            .filter(|c| c.epoch() >= self.chain.epoch && c.epoch() < epoch)
            .fold((0u64, 0u64), |(all, by_signer), c| {
                let total = c.signed.state.total;
                let mine = if c.signed.signer == *signer { total } else { 0 };
                (all.saturating_add(total), by_signer.saturating_add(mine))
            })
    }

    pub fn check(&self, submitted: &SignedState) -> Result<Accepted, Rejection> {
        let state = &submitted.state;
        if !submitted.verify() {
            return Err(Rejection::BadSignature(
                "signature does not verify over the state".into(),
            ));
        }
        if state.incarnation != self.chain.incarnation {
            return Err(Rejection::Stale(format!(
                "tab incarnation is {}, state is for {}",
                self.chain.incarnation, state.incarnation
            )));
        }
        let session = if submitted.signer == self.chain.owner {
            None
        } else {
            let session = self
                .chain
                .signers
                .iter()
                .find(|s| !s.is_empty() && s.key == submitted.signer)
                .ok_or_else(|| {
                    Rejection::BadSignature(
                        "signer is not the owner or a session key of the tab".into(),
                    )
                })?;
            if session.expires_at < self.now.saturating_add(self.min_session_validity) {
                return Err(Rejection::Policy(
                    "session key expires too soon for its states to settle".into(),
                ));
            }
            Some(session)
        };

        let (base, previous_seq) = self.base(state.tab);
        if state.epoch != base.epoch || state.seq != base.seq.wrapping_add(1) {
            return Err(Rejection::Stale(format!(
                "expected epoch {} seq {}, got epoch {} seq {}",
                base.epoch,
                base.seq.wrapping_add(1),
                state.epoch,
                state.seq
            )));
        }
        let tip = single_tip(&base, state).ok_or_else(|| {
            Rejection::Policy("a state must add exactly one tip to the previous one".into())
        })?;

        let (unsettled, unsettled_by_signer) =
            self.unsettled_before(state.epoch, &submitted.signer);
        let available = self
            .chain
            .balance
            .saturating_sub(self.chain.pending_withdrawal)
            .saturating_sub(unsettled);
        if state.total > available {
            return Err(Rejection::InsufficientFunds {
                available,
                needed: state.total,
            });
        }
        if let Some(session) = session {
            let committed = session
                .spent
                .saturating_add(unsettled_by_signer)
                .saturating_add(state.total);
            if committed > session.cap {
                return Err(Rejection::Policy(
                    "session key's spending cap reached".into(),
                ));
            }
        }
        Ok(Accepted { previous_seq, tip })
    }
}

/// The `(payee, amount)` by which `next` extends `base`, if it adds exactly one tip.
fn single_tip(base: &EpochState, next: &EpochState) -> Option<(Pubkey, u64)> {
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
    let (payee, amount) = changed?;
    let dropped = base.entries.keys().any(|p| !next.entries.contains_key(p));
    let total_ok = base.total.checked_add(amount) == Some(next.total);
    (!dropped && total_ok).then_some((payee, amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use micropay::state::{SessionSigner, MAX_SESSION_SIGNERS};
    use solana_sdk::signature::{Keypair, Signer};

    struct World {
        owner: Keypair,
        session: Keypair,
        tab: Tab,
        tab_key: Pubkey,
        payee: Pubkey,
    }

    fn world() -> World {
        let owner = Keypair::new();
        let session = Keypair::new();
        let mut signers = [SessionSigner::default(); MAX_SESSION_SIGNERS];
        signers[0] = SessionSigner {
            key: session.pubkey(),
            expires_at: 10_000,
            cap: 1_000,
            spent: 100,
        };
        let tab = Tab {
            config: Pubkey::new_unique(),
            owner: owner.pubkey(),
            incarnation: 3,
            epoch: 5,
            balance: 10_000,
            pending_withdrawal: 2_000,
            withdraw_unlock_at: 0,
            settled_total: 0,
            signers,
            bump: 255,
        };
        World {
            owner,
            session,
            tab,
            tab_key: Pubkey::new_unique(),
            payee: Pubkey::new_unique(),
        }
    }

    fn stored(signed: SignedState, status: EpochStatus) -> StoredEpoch {
        StoredEpoch {
            signed,
            status,
            opened_at_ms: 0,
            settle_tx: None,
        }
    }

    fn ctx<'a>(
        w: &'a World,
        latest: Option<&'a StoredEpoch>,
        closed: &'a [StoredEpoch],
    ) -> TabContext<'a> {
        TabContext {
            chain: &w.tab,
            latest,
            closed,
            now: 1_000,
            min_session_validity: 600,
        }
    }

    fn signed(state: EpochState, key: &Keypair) -> SignedState {
        SignedState::sign(state, key).unwrap()
    }

    #[test]
    fn first_tip_starts_the_chain_epoch() {
        let w = world();
        let state = EpochState::new(w.tab_key, 3, 5).tip(w.payee, 10).unwrap();
        let accepted = ctx(&w, None, &[]).check(&signed(state, &w.owner)).unwrap();
        assert_eq!(
            accepted,
            Accepted {
                previous_seq: None,
                tip: (w.payee, 10)
            }
        );
    }

    #[test]
    fn extension_by_one_tip_is_accepted_anything_else_is_not() {
        let w = world();
        let s1 = EpochState::new(w.tab_key, 3, 5).tip(w.payee, 10).unwrap();
        let latest = stored(signed(s1.clone(), &w.owner), EpochStatus::Open);
        let c = ctx(&w, Some(&latest), &[]);
        let s2 = s1.tip(w.payee, 5).unwrap();
        assert_eq!(
            c.check(&signed(s2.clone(), &w.owner)).unwrap(),
            Accepted {
                previous_seq: Some(1),
                tip: (w.payee, 5)
            }
        );
        // Replaying the stored state, or skipping a seq: stale.
        assert!(matches!(c.check(&latest.signed), Err(Rejection::Stale(_))));
        let s3 = s2.tip(w.payee, 1).unwrap();
        assert!(matches!(
            c.check(&signed(s3, &w.owner)),
            Err(Rejection::Stale(_))
        ));
        // Two tips folded into one step.
        let mut two = s1
            .tip(w.payee, 5)
            .unwrap()
            .tip(Pubkey::new_unique(), 5)
            .unwrap();
        two.seq = 2;
        assert!(matches!(
            c.check(&signed(two, &w.owner)),
            Err(Rejection::Policy(_))
        ));
        // A total that does not add up.
        let mut bad_total = s1.tip(w.payee, 5).unwrap();
        bad_total.total += 1;
        assert!(matches!(
            c.check(&signed(bad_total, &w.owner)),
            Err(Rejection::Policy(_))
        ));
    }

    #[test]
    fn forged_and_foreign_signatures_are_refused() {
        let w = world();
        let state = EpochState::new(w.tab_key, 3, 5).tip(w.payee, 10).unwrap();
        let mut forged = signed(state.clone(), &w.owner);
        forged.state = forged.state.tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, None, &[]).check(&forged),
            Err(Rejection::BadSignature(_))
        ));
        let stranger = signed(state, &Keypair::new());
        assert!(matches!(
            ctx(&w, None, &[]).check(&stranger),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn funds_count_pending_withdrawal_and_unsettled_epochs() {
        let w = world();
        // 10,000 balance - 2,000 pending = 8,000 available.
        let closed_state = EpochState::new(w.tab_key, 3, 5)
            .tip(w.payee, 3_000)
            .unwrap();
        let closed = [stored(signed(closed_state, &w.owner), EpochStatus::Closed)];
        let c = ctx(&w, Some(&closed[0]), &closed);
        let ok = EpochState::new(w.tab_key, 3, 6)
            .tip(w.payee, 5_000)
            .unwrap();
        assert!(c.check(&signed(ok, &w.owner)).is_ok());
        let too_much = EpochState::new(w.tab_key, 3, 6)
            .tip(w.payee, 5_001)
            .unwrap();
        assert_eq!(
            c.check(&signed(too_much, &w.owner)),
            Err(Rejection::InsufficientFunds {
                available: 5_000,
                needed: 5_001
            })
        );
    }

    #[test]
    fn session_keys_respect_cap_and_expiry() {
        let mut w = world();
        // cap 1,000, spent 100.
        let ok = EpochState::new(w.tab_key, 3, 5).tip(w.payee, 900).unwrap();
        assert!(ctx(&w, None, &[]).check(&signed(ok, &w.session)).is_ok());
        let over = EpochState::new(w.tab_key, 3, 5).tip(w.payee, 901).unwrap();
        assert!(matches!(
            ctx(&w, None, &[]).check(&signed(over, &w.session)),
            Err(Rejection::Policy(_))
        ));
        w.tab.signers[0].expires_at = 1_500;
        let soon = EpochState::new(w.tab_key, 3, 5).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, None, &[]).check(&signed(soon, &w.session)),
            Err(Rejection::Policy(_))
        ));
    }

    #[test]
    fn other_incarnation_and_settled_epochs_are_stale() {
        let w = world();
        let old_life = EpochState::new(w.tab_key, 2, 5).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, None, &[]).check(&signed(old_life, &w.owner)),
            Err(Rejection::Stale(_))
        ));
        let settled = EpochState::new(w.tab_key, 3, 4).tip(w.payee, 1).unwrap();
        assert!(matches!(
            ctx(&w, None, &[]).check(&signed(settled, &w.owner)),
            Err(Rejection::Stale(_))
        ));
    }
}
