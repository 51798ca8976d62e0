//! What one settlement says: an item per stream epoch (an open epoch, or a top-up of
//! one the chain settled lower), and the payees they pay, with the accounts the
//! program needs for each.

use std::collections::{BTreeSet, HashMap};

use micropay_interface::client::{associated_token_address, SettleItem, SettlePayee};
use solana_sdk::{account::Account, pubkey::Pubkey};

use micropay_interface::state::Slot;
use micropay_protocol::entries_hash;

use super::EngineError;
use crate::{
    domain::{now_ms, EpochKey, StoredEpoch, StreamStatus},
    store::SettlementStore,
};

/// One stream epoch to settle.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub epoch: StoredEpoch,
    /// For a top-up: the entries the chain recorded as settled.
    pub previous: Option<Vec<(Pubkey, u64)>>,
}

impl Candidate {
    /// `epoch` as an open-epoch item, or as a top-up when the chain's `slot` settled
    /// it lower: the top-up names the entries the chain recorded, rebuilt from the
    /// stored tips and checked against the recorded hash. `None` (and the epoch
    /// finished as short) if the chain settled a state this relayer never receipted.
    pub async fn for_slot(
        epoch: &StoredEpoch,
        slot: &Slot,
        store: &dyn SettlementStore,
    ) -> Result<Option<Self>, EngineError> {
        if slot.epoch.get() <= epoch.state().epoch {
            return Ok(Some(Self {
                epoch: epoch.clone(),
                previous: None,
            }));
        }
        let settled = store.entries_at(&epoch.key(), slot.last_seq.get()).await?;
        let hash = entries_hash(settled.iter().map(|(wallet, amount)| (wallet, *amount)));
        if hash != slot.last_entries_hash {
            tracing::error!(epoch = ?epoch.key(), "the chain settled a state this relayer never receipted");
            store
                .finish(&epoch.key(), StreamStatus::Short, now_ms())
                .await?;
            return Ok(None);
        }
        Ok(Some(Self {
            epoch: epoch.clone(),
            previous: Some(settled),
        }))
    }

    pub fn key(&self) -> EpochKey {
        self.epoch.key()
    }

    /// The item, signed by the stream key; the sequencer signs the transaction, so no
    /// receipt travels with it.
    pub fn item(&self) -> SettleItem {
        let signed = &self.epoch.receipted.signed;
        SettleItem::for_state(&signed.state, signed.signature, self.previous.clone(), None)
    }

    pub fn wallets(&self) -> impl Iterator<Item = Pubkey> + '_ {
        let now = self.epoch.state().entries.keys().copied();
        let before = self.previous.iter().flatten().map(|(wallet, _)| *wallet);
        now.chain(before)
    }

    /// Tips this settlement pays for (a top-up pays those after the settled seq, but
    /// counting its seq keeps the figure simple and conservative).
    pub fn tips(&self) -> u64 {
        u64::from(self.epoch.state().seq)
    }
}

/// Each payee's token account, and whether the program needs its wallet passed too
/// ([`SettlePayee::associated`]).
pub struct PayeeDirectory {
    payees: HashMap<Pubkey, SettlePayee>,
}

impl PayeeDirectory {
    /// `accounts` holds the chain's token account for each wallet, in order.
    pub fn new(
        wallets: &[Pubkey],
        token_accounts: &[Option<Account>],
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Self {
        let payees = wallets
            .iter()
            .zip(token_accounts)
            .map(|(wallet, account)| {
                let account = account.as_ref().map(|a| (&a.owner, a.data.as_slice()));
                let payee = SettlePayee::associated(wallet, mint, token_program, account);
                (*wallet, payee)
            })
            .collect();
        Self { payees }
    }

    /// The token accounts to read for `wallets`.
    pub fn token_accounts(
        wallets: &[Pubkey],
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Vec<Pubkey> {
        wallets
            .iter()
            .map(|wallet| associated_token_address(wallet, mint, token_program))
            .collect()
    }

    /// The distinct payees of `batch`.
    pub fn for_batch(&self, batch: &[&Candidate]) -> Vec<SettlePayee> {
        let wallets: BTreeSet<Pubkey> = batch.iter().flat_map(|c| c.wallets()).collect();
        wallets
            .iter()
            .filter_map(|wallet| self.payees.get(wallet).cloned())
            .collect()
    }

    pub fn get(&self, wallet: &Pubkey) -> Option<&SettlePayee> {
        self.payees.get(wallet)
    }
}

#[cfg(test)]
mod tests {
    use bytemuck::Zeroable;
    use micropay_interface::state::{U32, U64};
    use micropay_protocol::{SignedStream, StreamState};
    use solana_sdk::signature::Keypair;

    use super::*;
    use crate::{
        domain::Accepted,
        settlement::testing::Fixture,
        store::{IntakeStore, SqlStore},
    };

    /// An epoch receipted to seq 2 (10 to Alice, then 5 to Bob), stored; its first state.
    async fn two_tips(store: &SqlStore) -> (StoredEpoch, StreamState) {
        let (key, sequencer) = (Keypair::new(), Keypair::new());
        let (alice, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
        let first = StreamState::new(Pubkey::new_unique(), 1, 0, 4, 100)
            .tip(alice, 10)
            .unwrap();
        let second = first.tip(bob, 5).unwrap();
        for (state, previous_seq, tip) in
            [(&first, None, (alice, 10)), (&second, Some(1), (bob, 5))]
        {
            let receipted = SignedStream::sign(state.clone(), &key)
                .unwrap()
                .receipt(&sequencer)
                .unwrap();
            let accepted = Accepted {
                receipted,
                previous_seq,
                tip,
                at_ms: 1_000,
            };
            assert!(store.accept(accepted).await.unwrap());
        }
        (store.pending().await.unwrap().remove(0), first)
    }

    /// The chain's slot after it settled `state`.
    fn settled(state: &StreamState) -> Slot {
        let mut slot = Slot::zeroed();
        slot.epoch = U64::new(state.epoch + 1);
        slot.last_seq = U32::new(state.seq);
        slot.last_entries_hash = entries_hash(state.entry_list().iter().map(|(w, a)| (w, *a)));
        slot
    }

    #[tokio::test]
    async fn an_epoch_the_chain_has_not_settled_is_settled_as_it_is() {
        let fixture = Fixture::new().await;
        let (epoch, _) = two_tips(&fixture.store).await;
        let mut slot = Slot::zeroed();
        slot.epoch = U64::new(epoch.state().epoch);
        let candidate = Candidate::for_slot(&epoch, &slot, &fixture.store)
            .await
            .unwrap()
            .unwrap();
        assert!(candidate.previous.is_none());
        assert_eq!(candidate.item().seq, 2);
        assert_eq!(candidate.tips(), 2);
    }

    #[tokio::test]
    async fn a_lower_state_settled_first_is_topped_up_naming_what_the_chain_recorded() {
        let fixture = Fixture::new().await;
        let (epoch, first) = two_tips(&fixture.store).await;
        let candidate = Candidate::for_slot(&epoch, &settled(&first), &fixture.store)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(candidate.previous, Some(first.entry_list()));
        let wallets: BTreeSet<Pubkey> = candidate.wallets().collect();
        assert_eq!(wallets.len(), 2);
    }

    #[tokio::test]
    async fn a_settled_state_this_relayer_never_receipted_finishes_the_epoch_short() {
        let fixture = Fixture::new().await;
        let (epoch, first) = two_tips(&fixture.store).await;
        // Same seq, other entries: signed by the payer, never receipted here.
        let forged = StreamState::new(first.tab, 1, 0, 4, 100)
            .tip(Pubkey::new_unique(), 10)
            .unwrap();
        let slot = settled(&forged);
        let candidate = Candidate::for_slot(&epoch, &slot, &fixture.store)
            .await
            .unwrap();
        assert!(candidate.is_none());
        assert!(fixture.store.pending().await.unwrap().is_empty());
    }

    #[test]
    fn a_payee_whose_token_account_cannot_be_read_has_its_wallet_passed() {
        let (mint, token_program) = (Pubkey::new_unique(), Pubkey::new_unique());
        let wallets: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let account = |owner: Pubkey, wallet: &Pubkey| {
            let mut data = vec![0; 165];
            data[..32].copy_from_slice(mint.as_ref());
            data[32..64].copy_from_slice(wallet.as_ref());
            Account {
                owner,
                data,
                ..Account::default()
            }
        };
        let accounts = vec![
            Some(account(token_program, &wallets[0])),
            None,
            // Owned by another program: not a token account of this mint.
            Some(account(Pubkey::new_unique(), &wallets[2])),
        ];
        let directory = PayeeDirectory::new(&wallets, &accounts, &mint, &token_program);
        let passed: Vec<bool> = wallets
            .iter()
            .map(|w| directory.get(w).unwrap().pass_wallet)
            .collect();
        assert_eq!(passed, vec![false, true, true]);
        assert_eq!(
            directory.get(&wallets[0]).unwrap().token_account,
            PayeeDirectory::token_accounts(&wallets[..1], &mint, &token_program)[0]
        );
    }
}
