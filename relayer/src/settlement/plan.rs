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
