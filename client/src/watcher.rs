//! A payee's watcher: keeps the receipts that name its wallet, and settles them
//! itself, as a receipt holder, when the sequencer does not: when a receipt has
//! waited longer than the watcher's patience, when the payer has asked to withdraw,
//! when the stream's key is leaving, or when the chain settled a lower state of the
//! epoch (a top-up, inside its window). It needs nothing from the relayer to settle.

use std::collections::{BTreeMap, HashMap};

use micropay_interface::{
    client::{settle, SettleAccounts, SettleItem, SettlePayee},
    state::{AccountLayout, Config, Params, Standing, Tab},
};
use micropay_protocol::{entries_hash, Receipted};
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::Transaction,
};

use crate::relayer::{RelayerClient, RelayerError};

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Relayer(#[from] RelayerError),
    #[error("rpc: {0}")]
    Rpc(#[from] solana_client::client_error::ClientError),
    #[error(transparent)]
    Accounts(#[from] crate::accounts::AccountError),
    #[error("{0}")]
    Chain(String),
}

/// What a kept receipt calls for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Nothing to do (yet).
    Wait,
    /// Settle the open epoch with this receipt.
    Open,
    /// The chain settled a lower seq of this epoch: top it up.
    TopUp,
    /// Settled in full, or beyond saving: forget it.
    Done,
}

/// Decides for one receipt. `received_at` is when the watcher first held it; the
/// sequencer is late once `patience` seconds have passed since.
pub fn due(
    receipted: &Receipted,
    tab: Option<&Tab>,
    params: &Params,
    now: i64,
    received_at: i64,
    patience: i64,
) -> Due {
    let state = receipted.state();
    let Some(tab) = tab else {
        return Due::Done;
    };
    let window = params.top_up_window.get();
    match tab.standing(
        state.incarnation,
        state.slot,
        (state.epoch, state.seq),
        now,
        window,
    ) {
        Standing::Pending => {
            let slot = &tab.slots[state.slot as usize];
            let late = now.saturating_sub(received_at) >= patience;
            let leaving = tab.withdraw_requested_at.get() != 0 || !slot.is_live(now);
            let settleable = state.epoch == slot.epoch.get() && !slot.in_top_up_window(now, window);
            if settleable && (late || leaving) {
                Due::Open
            } else {
                Due::Wait
            }
        }
        Standing::TopUp => Due::TopUp,
        Standing::Settled | Standing::Short | Standing::Void => Due::Done,
    }
}

type EpochId = (Pubkey, u64, u8, u64);

pub struct Watcher {
    rpc: RpcClient,
    relayer: RelayerClient,
    /// The payee; it signs and pays for the settlements it sends.
    wallet: Keypair,
    config: Pubkey,
    /// Seconds a receipt may wait for the sequencer before the watcher settles it.
    pub patience: i64,
    /// Every receipt kept, by epoch and seq, with when it was first held.
    receipts: BTreeMap<EpochId, BTreeMap<u32, (Receipted, i64)>>,
    cursor_ms: i64,
}

impl Watcher {
    pub fn new(
        rpc: RpcClient,
        relayer: RelayerClient,
        wallet: Keypair,
        config: Pubkey,
        patience: i64,
    ) -> Self {
        Self {
            rpc,
            relayer,
            wallet,
            config,
            patience,
            receipts: BTreeMap::new(),
            cursor_ms: 0,
        }
    }

    /// Receipts held, newest seq of each epoch.
    pub fn held(&self) -> Vec<&Receipted> {
        self.receipts
            .values()
            .filter_map(|seqs| seqs.values().next_back().map(|(r, _)| r))
            .collect()
    }

    /// Keeps a receipt if it is the sequencer's, names this wallet and is new; says
    /// whether it was kept.
    pub fn keep(&mut self, receipted: Receipted, now: i64) -> bool {
        let state = receipted.state();
        if !state.entries.contains_key(&self.wallet.pubkey())
            || !self.relayer.receipt_verifies(&receipted)
        {
            return false;
        }
        let id = (state.tab, state.incarnation, state.slot, state.epoch);
        let seq = state.seq;
        let held = self.receipts.entry(id).or_default();
        if held.contains_key(&seq) {
            return false;
        }
        held.insert(seq, (receipted, now));
        true
    }

    /// Fetches the receipts the relayer issued since the last call.
    pub async fn collect(&mut self, now: i64) -> Result<usize, WatchError> {
        let page = self
            .relayer
            .payee_receipts(
                &self.wallet.pubkey(),
                self.cursor_ms,
                micropay_api::MAX_PAGE,
            )
            .await?;
        let mut kept = 0;
        for receipt in page {
            self.cursor_ms = self.cursor_ms.max(receipt.receipted_at_ms);
            if let Ok((receipted, _)) = receipt.receipt.to_receipted() {
                kept += usize::from(self.keep(receipted, now));
            }
        }
        Ok(kept)
    }

    async fn chain(&self, tabs: &[Pubkey]) -> Result<(Config, HashMap<Pubkey, Tab>), WatchError> {
        let mut keys = vec![self.config];
        keys.extend_from_slice(tabs);
        let accounts = crate::accounts::multiple(&self.rpc, &keys).await?;
        let program_account = |i: usize| {
            accounts[i]
                .as_ref()
                .filter(|a| a.owner == micropay_interface::ID)
                .map(|a| a.data.clone())
        };
        let config = program_account(0)
            .and_then(|data| Config::view(&data).copied())
            .ok_or_else(|| WatchError::Chain(format!("{} is not a config", self.config)))?;
        let tabs = tabs
            .iter()
            .enumerate()
            .filter_map(|(i, key)| {
                let data = program_account(i + 1)?;
                Some((*key, *Tab::view(&data)?))
            })
            .collect();
        Ok((config, tabs))
    }

    /// Settles every held receipt that is due, one transaction per receipt; returns
    /// the transactions sent. Receipts that are done are forgotten.
    pub async fn settle_due(&mut self, now: i64) -> Result<Vec<Signature>, WatchError> {
        let tabs: Vec<Pubkey> = {
            let mut tabs: Vec<Pubkey> = self.receipts.keys().map(|id| id.0).collect();
            tabs.dedup();
            tabs
        };
        if tabs.is_empty() {
            return Ok(Vec::new());
        }
        let (config, chain_tabs) = self.chain(&tabs).await?;
        let params = config.params_at(now);
        let mut sent = Vec::new();
        let mut done = Vec::new();
        for (id, seqs) in &self.receipts {
            let (receipted, received_at) = seqs.values().next_back().expect("non-empty");
            let tab = chain_tabs.get(&id.0);
            let item = match due(receipted, tab, &params, now, *received_at, self.patience) {
                Due::Wait => continue,
                Due::Done => {
                    done.push(*id);
                    continue;
                }
                Due::Open => item(receipted, None),
                Due::TopUp => {
                    let slot = &tab.expect("top-up has a tab").slots[id.2 as usize];
                    let settled = seqs.get(&slot.last_seq.get()).map(|(r, _)| r.state());
                    let matches = settled.filter(|s| {
                        entries_hash(s.entries.iter().map(|(w, a)| (w, *a)))
                            == slot.last_entries_hash
                    });
                    let Some(settled) = matches else {
                        // The settled state is not one this watcher holds.
                        done.push(*id);
                        continue;
                    };
                    item(receipted, Some(settled.entry_list()))
                }
            };
            sent.push(self.send(&config, item).await?);
            done.push(*id);
        }
        for id in done {
            self.receipts.remove(&id);
        }
        Ok(sent)
    }

    async fn send(&self, config: &Config, item: SettleItem) -> Result<Signature, WatchError> {
        let mut wallets: Vec<Pubkey> = item.entries.iter().map(|(w, _)| *w).collect();
        wallets.extend(item.previous.iter().flatten().map(|(w, _)| *w));
        wallets.sort();
        wallets.dedup();
        let token_accounts: Vec<Pubkey> = wallets
            .iter()
            .map(|w| {
                micropay_interface::client::associated_token_address(
                    w,
                    &config.mint,
                    &config.token_program,
                )
            })
            .collect();
        let accounts = crate::accounts::multiple(&self.rpc, &token_accounts).await?;
        let payees: Vec<SettlePayee> = wallets
            .iter()
            .zip(&accounts)
            .map(|(wallet, account)| {
                let account = account.as_ref().map(|a| (&a.owner, a.data.as_slice()));
                SettlePayee::associated(wallet, &config.mint, &config.token_program, account)
            })
            .collect();
        let settler = self.wallet.pubkey();
        let ix = settle(
            &SettleAccounts {
                settler: &settler,
                config: &self.config,
                mint: &config.mint,
                token_program: &config.token_program,
            },
            &[item],
            &payees,
        )
        .map_err(|e| WatchError::Chain(format!("settle instruction: {e:?}")))?;
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let tx =
            Transaction::new_signed_with_payer(&[ix], Some(&settler), &[&self.wallet], blockhash);
        Ok(self.rpc.send_and_confirm_transaction(&tx).await?)
    }
}

/// A settle item carrying the sequencer's receipt, so that anyone may send it.
fn item(receipted: &Receipted, previous: Option<Vec<(Pubkey, u64)>>) -> SettleItem {
    let signed = &receipted.signed;
    SettleItem::for_state(
        &signed.state,
        signed.signature,
        previous,
        Some(receipted.receipt),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use micropay_interface::state::{I64, KEY_KIND_ED25519, U32, U64};
    use micropay_protocol::{SignedStream, StreamState};

    fn receipted(epoch: u64, tips: u32) -> Receipted {
        let mut state = StreamState::new(Pubkey::new_unique(), 4, 0, epoch, 0);
        for _ in 0..tips {
            state = state.tip(Pubkey::new_unique(), 1).unwrap();
        }
        Receipted {
            signed: SignedStream {
                state,
                signature: [0; 64],
            },
            receipt: [0; 64],
        }
    }

    fn tab(epoch: u64) -> Tab {
        let mut tab = Tab::zeroed();
        tab.incarnation = U64::new(4);
        tab.slots[0].key_kind = KEY_KIND_ED25519;
        tab.slots[0].expires_at = I64::new(i64::MAX);
        tab.slots[0].valid_until = I64::new(i64::MAX);
        tab.slots[0].epoch = U64::new(epoch);
        tab
    }

    #[test]
    fn the_watcher_settles_only_when_the_sequencer_has_not() {
        let mut params = Params::zeroed();
        params.top_up_window = I64::new(60);
        let r = receipted(3, 2);
        let mut t = tab(3);
        // Patient while the sequencer has time; due once late or a withdrawal waits.
        assert_eq!(due(&r, Some(&t), &params, 1_000, 990, 300), Due::Wait);
        assert_eq!(due(&r, Some(&t), &params, 1_300, 990, 300), Due::Open);
        t.withdraw_requested_at = I64::new(995);
        assert_eq!(due(&r, Some(&t), &params, 1_000, 990, 300), Due::Open);
        // Not inside the previous settlement's window: the program would refuse.
        t.slots[0].last_settled_at = I64::new(950);
        assert_eq!(due(&r, Some(&t), &params, 1_000, 990, 300), Due::Wait);
        // Settled lower: top up inside the window, nothing to do after it.
        let mut settled = tab(4);
        settled.slots[0].last_seq = U32::new(1);
        settled.slots[0].last_settled_at = I64::new(990);
        assert_eq!(
            due(&r, Some(&settled), &params, 1_000, 990, 300),
            Due::TopUp
        );
        assert_eq!(due(&r, Some(&settled), &params, 1_051, 990, 300), Due::Done);
        settled.slots[0].last_seq = U32::new(2);
        assert_eq!(due(&r, Some(&settled), &params, 1_000, 990, 300), Due::Done);
        // No tab of this life.
        assert_eq!(due(&r, None, &params, 1_000, 990, 300), Due::Done);
    }
}
