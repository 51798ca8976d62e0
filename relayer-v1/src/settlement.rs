//! The settlement engine: decides which epochs to settle (policy), rotates them, packs
//! them into as few transactions as the limits allow (packer), sends and confirms them,
//! and reconciles the store with the chain so that nothing is lost or paid twice.

use std::{
    collections::HashMap,
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use micropay::state::Tab;
use micropay_protocol::client::{
    event_authority_address, settle_batch, vault_address, vault_authority_address, SettleAccounts,
    SignedState, INSTRUCTIONS_SYSVAR_ID,
};
use solana_address_lookup_table_interface::{
    instruction::{create_lookup_table, extend_lookup_table},
    state::AddressLookupTable,
};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{
    hash::Hash,
    instruction::{Instruction, InstructionError},
    message::{v0, AddressLookupTableAccount, VersionedMessage},
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::{TransactionError, VersionedTransaction},
};

use crate::{
    chain::{Chain, ChainError, TxStatus},
    service::{now_ms, Relayer},
    store::{EpochStatus, StoreError, StoredEpoch},
};

pub const MAX_TX_BYTES: usize = 1_232;
pub const MAX_TX_ACCOUNTS: usize = 64;
const LOOKUP_TABLE_CAPACITY: usize = 256;
/// Addresses per extend transaction (32 bytes each; stays well under the size limit).
const EXTEND_CHUNK: usize = 20;
/// Signature fee per signature, the fee payer's and each precompile signature.
const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Build(String),
}

/// When an open epoch is settled.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Settle an epoch once its first tip is this old.
    pub max_age: Duration,
    /// ... or once its total reaches this many token units.
    pub max_total: u64,
    /// ... or once it holds this many tips.
    pub max_tips: u32,
    /// ... or when the owner's pending withdrawal unlocks within this long.
    pub withdrawal_horizon: Duration,
}

impl Policy {
    pub fn is_due(&self, epoch: &StoredEpoch, tab: Option<&Tab>, now_ms: i64) -> bool {
        let state = &epoch.signed.state;
        let age_ms = now_ms.saturating_sub(epoch.opened_at_ms);
        let withdrawal_soon = tab.is_some_and(|tab| {
            tab.pending_withdrawal > 0
                && tab.withdraw_unlock_at.saturating_mul(1_000)
                    <= now_ms.saturating_add(self.withdrawal_horizon.as_millis() as i64)
        });
        age_ms >= self.max_age.as_millis() as i64
            || state.total >= self.max_total
            || state.seq >= self.max_tips
            || withdrawal_soon
    }
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub policy: Policy,
    /// Identifies this instance in settlement leases.
    pub instance: String,
    pub lease: Duration,
    pub compute_unit_price: u64,
}

/// Accounts to put in lookup tables.
struct TableNeeds {
    /// Used by many transactions: copied into every table that receives tabs.
    shared: Vec<Pubkey>,
    tabs: Vec<Pubkey>,
}

/// A sent settlement awaiting confirmation.
struct InFlight {
    tx: VersionedTransaction,
    epochs: Vec<(Pubkey, u64)>,
    tips: u64,
    last_valid_block_height: u64,
    sent_at: Instant,
    last_sent: Instant,
}

/// How often an unconfirmed settlement is broadcast again. Re-sending the same signed
/// transaction is harmless: it lands at most once.
const REBROADCAST: Duration = Duration::from_secs(1);

/// Counts of one engine pass, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub rotated: usize,
    pub sent: usize,
    pub confirmed: usize,
    pub reconciled: usize,
}

pub struct Engine {
    relayer: Arc<Relayer>,
    payer: Arc<Keypair>,
    accounts: SettleAccounts,
    config: EngineConfig,
    /// Whether the lookup tables of earlier runs were loaded from the store.
    tables_loaded: bool,
    tables: Vec<AddressLookupTableAccount>,
    /// The slot of the latest table extension not yet known to be rooted.
    unrooted_extension: Option<u64>,
    /// Extensions were sent since the tables were last read back from the chain.
    tables_unverified: bool,
    in_flight: HashMap<Signature, InFlight>,
}

impl Engine {
    pub fn new(
        relayer: Arc<Relayer>,
        payer: Arc<Keypair>,
        accounts: SettleAccounts,
        config: EngineConfig,
    ) -> Self {
        Self {
            relayer,
            payer,
            accounts,
            config,
            tables_loaded: false,
            tables: Vec::new(),
            unrooted_extension: None,
            tables_unverified: false,
            in_flight: HashMap::new(),
        }
    }

    fn chain(&self) -> &dyn Chain {
        self.relayer.chain.as_ref()
    }

    /// One pass: reconcile, confirm, rotate, settle.
    pub async fn run_once(&mut self) -> Result<PassReport, EngineError> {
        // Taken before the open epochs are read, so that a request made during a pass
        // covers everything accepted before it; kept for the next pass if this one fails.
        let settle_all = self.relayer.settle_now.swap(false, Ordering::SeqCst);
        let result = self.pass(settle_all).await;
        if result.is_err() {
            self.relayer
                .settle_now
                .fetch_or(settle_all, Ordering::SeqCst);
        }
        result
    }

    async fn pass(&mut self, settle_all: bool) -> Result<PassReport, EngineError> {
        let mut report = PassReport::default();
        let open = self.relayer.store.open_epochs().await?;
        let closed = self.relayer.store.all_closed().await?;
        let mut tabs: Vec<Pubkey> = open.iter().chain(&closed).map(StoredEpoch::tab).collect();
        tabs.sort();
        tabs.dedup();
        self.relayer.tabs.refresh(self.chain(), &tabs).await?;

        report.confirmed = self.confirm().await?;
        report.reconciled = self.reconcile(&open, &closed).await?;

        let now = now_ms();
        let mut due = Vec::new();
        for epoch in &open {
            let tab = self.relayer.tabs.cached(&epoch.tab()).await;
            if settle_all || self.config.policy.is_due(epoch, tab.as_ref(), now) {
                due.push((epoch.tab(), epoch.epoch()));
            }
        }
        if !due.is_empty() {
            let closed = self.relayer.store.close_epochs(&due).await?;
            report.rotated = closed.into_iter().filter(|closed| *closed).count();
        }
        // Tables learn the accounts of open epochs while tips still arrive, so that
        // settling them later does not wait for extensions to be rooted.
        let warm = self.table_needs(open.iter().map(|e| &e.signed));
        if let Err(error) = self.extend_tables(&warm).await {
            tracing::warn!(%error, "extending lookup tables for open epochs failed");
        }
        report.sent = self.settle_closed().await?;
        Ok(report)
    }

    /// Marks epochs the chain has moved past as settled, and epochs of a tab that was
    /// closed (or reopened) as void. The chain's epoch is the truth: a settlement that
    /// landed advanced it, whoever sent it.
    async fn reconcile(
        &self,
        open: &[StoredEpoch],
        closed: &[StoredEpoch],
    ) -> Result<usize, EngineError> {
        let mut changed = 0;
        for epoch in open.iter().chain(closed) {
            let tab = self.relayer.tabs.cached(&epoch.tab()).await;
            let status = match tab {
                None => Some(EpochStatus::Void),
                Some(tab) if tab.incarnation != epoch.signed.state.incarnation => {
                    Some(EpochStatus::Void)
                }
                Some(tab) if tab.epoch > epoch.epoch() => Some(EpochStatus::Settled),
                Some(_) => None,
            };
            if let Some(status) = status {
                self.relayer
                    .store
                    .finish(&epoch.tab(), epoch.epoch(), status)
                    .await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Checks sent settlements: landed ones are counted, expired ones forgotten (their
    /// epochs are still closed and will be sent again).
    async fn confirm(&mut self) -> Result<usize, EngineError> {
        if self.in_flight.is_empty() {
            return Ok(0);
        }
        let signatures: Vec<Signature> = self.in_flight.keys().copied().collect();
        let statuses = self.chain().statuses(&signatures).await?;
        let height = self.chain().block_height().await?;
        let mut confirmed = 0;
        for (signature, status) in signatures.iter().zip(statuses) {
            let metrics = &self.relayer.metrics;
            match status {
                TxStatus::Landed(None) => {
                    let flight = self.in_flight.remove(signature).expect("in flight");
                    tracing::debug!(%signature, after = ?flight.sent_at.elapsed(), tabs = flight.epochs.len(), "settlement confirmed");
                    for (tab, epoch) in &flight.epochs {
                        self.relayer
                            .store
                            .finish(tab, *epoch, EpochStatus::Settled)
                            .await?;
                    }
                    metrics.settlements.with_label_values(&["confirmed"]).inc();
                    metrics.tabs_per_tx.observe(flight.epochs.len() as f64);
                    metrics.tips_per_tx.observe(flight.tips as f64);
                    confirmed += 1;
                }
                TxStatus::Landed(Some(error)) => {
                    tracing::warn!(%signature, ?error, "settlement landed with an error");
                    metrics.settlements.with_label_values(&["failed"]).inc();
                    self.in_flight.remove(signature);
                }
                TxStatus::Unknown => {
                    let flight = self.in_flight.get_mut(signature).expect("in flight");
                    if height > flight.last_valid_block_height {
                        tracing::info!(%signature, "settlement expired unseen; will rebuild it");
                        metrics.settlements.with_label_values(&["expired"]).inc();
                        self.in_flight.remove(signature);
                    } else if flight.last_sent.elapsed() >= REBROADCAST {
                        flight.last_sent = Instant::now();
                        if let Err(error) = self.relayer.chain.send(&flight.tx).await {
                            tracing::debug!(%signature, %error, "rebroadcast failed");
                        }
                    }
                }
            }
        }
        Ok(confirmed)
    }

    /// Settles every closed epoch that is next in line on chain and not in flight.
    async fn settle_closed(&mut self) -> Result<usize, EngineError> {
        let in_flight: std::collections::HashSet<(Pubkey, u64)> = self
            .in_flight
            .values()
            .flat_map(|f| f.epochs.iter().copied())
            .collect();
        let now = now_ms();
        let lease_until = now + self.config.lease.as_millis() as i64;
        // Each tab's oldest closed epoch that the chain is waiting for.
        let mut candidates: Vec<SignedState> = Vec::new();
        let mut tabs_taken = std::collections::HashSet::new();
        for epoch in self.relayer.store.all_closed().await? {
            let key = (epoch.tab(), epoch.epoch());
            let Some(tab) = self.relayer.tabs.cached(&key.0).await else {
                continue;
            };
            if tab.epoch != key.1 || in_flight.contains(&key) || !tabs_taken.insert(key.0) {
                continue;
            }
            candidates.push(epoch.signed);
        }
        let keys: Vec<(Pubkey, u64)> = candidates
            .iter()
            .map(|s| (s.state.tab, s.state.epoch))
            .collect();
        let leased = if keys.is_empty() {
            Vec::new()
        } else {
            self.relayer
                .store
                .lease(&keys, &self.config.instance, now, lease_until)
                .await?
        };
        let mut ready: Vec<SignedState> = candidates
            .into_iter()
            .zip(leased)
            .filter_map(|(state, leased)| leased.then_some(state))
            .collect();
        // Every address of the pass goes into the tables in one round (one wait for the
        // new entries to activate), not one round per batch: `send_batch` relies on it.
        if !ready.is_empty() {
            let needs = self.table_needs(ready.iter());
            self.ensure_tables(&needs).await?;
        }
        // Tabs of one table side by side, so that most batches need only that table.
        let table_of: HashMap<Pubkey, usize> = self
            .tables
            .iter()
            .enumerate()
            .flat_map(|(index, table)| table.addresses.iter().map(move |a| (*a, index)))
            .collect();
        ready.sort_by_key(|s| {
            let table = table_of.get(&s.state.tab).copied().unwrap_or(usize::MAX);
            (table, s.state.tab)
        });
        let mut sent = 0;
        for batch in self.pack(&ready)? {
            sent += self.send_batch(batch).await?;
        }
        Ok(sent)
    }

    fn fixed_addresses(&self) -> Vec<Pubkey> {
        let program = self.accounts.program_id;
        vec![
            self.accounts.config,
            vault_address(&program, &self.accounts.config).0,
            vault_authority_address(&program, &self.accounts.config).0,
            self.accounts.mint,
            self.accounts.fee_destination,
            self.accounts.token_program,
            INSTRUCTIONS_SYSVAR_ID,
            event_authority_address(&program).0,
        ]
    }

    fn instructions(
        &self,
        batch: &[&SignedState],
        unit_limit: u32,
    ) -> Result<Vec<Instruction>, EngineError> {
        let [precompile, settle] =
            settle_batch(&self.accounts, batch).map_err(|e| EngineError::Build(e.to_string()))?;
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(unit_limit)];
        if self.config.compute_unit_price > 0 {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(
                self.config.compute_unit_price,
            ));
        }
        ixs.extend([precompile, settle]);
        Ok(ixs)
    }

    fn compile(
        &self,
        ixs: &[Instruction],
        tables: &[AddressLookupTableAccount],
        blockhash: Hash,
    ) -> Result<VersionedTransaction, EngineError> {
        let message = v0::Message::try_compile(&self.payer.pubkey(), ixs, tables, blockhash)
            .map_err(|e| EngineError::Build(e.to_string()))?;
        VersionedTransaction::try_new(VersionedMessage::V0(message), &[self.payer.as_ref()])
            .map_err(|e| EngineError::Build(e.to_string()))
    }

    /// Splits states into batches whose settlement transaction fits the size and
    /// account limits, assuming every non-program account comes from lookup tables.
    pub fn pack<'a>(
        &self,
        states: &'a [SignedState],
    ) -> Result<Vec<Vec<&'a SignedState>>, EngineError> {
        let mut batches: Vec<Vec<&SignedState>> = Vec::new();
        let mut current: Vec<&SignedState> = Vec::new();
        for state in states {
            current.push(state);
            if !self.fits(&current)? {
                let last = current.pop().expect("just pushed");
                if current.is_empty() {
                    tracing::error!(tab = %last.state.tab, "a single state does not fit a transaction");
                    continue;
                }
                batches.push(std::mem::take(&mut current));
                current.push(last);
            }
        }
        if !current.is_empty() {
            batches.push(current);
        }
        Ok(batches)
    }

    /// Whether the batch's transaction fits, compiled against the lookup tables as
    /// they are (an address in none of them counts in full).
    fn fits(&self, batch: &[&SignedState]) -> Result<bool, EngineError> {
        let ixs = self.instructions(batch, 1_400_000)?;
        let tx = self.compile(&ixs, &self.tables_for(&ixs), Hash::default())?;
        Ok(transaction_fits(&tx))
    }

    /// The accounts `states` need in lookup tables: the shared ones (the fixed
    /// accounts and the payees) and the tabs, in address order (the order batches are
    /// packed in).
    fn table_needs<'a>(&self, states: impl Iterator<Item = &'a SignedState>) -> TableNeeds {
        let mut shared = Vec::new();
        let mut tabs = Vec::new();
        for state in states {
            tabs.push(state.state.tab);
            shared.extend(state.state.entries.keys().copied());
        }
        shared.sort();
        shared.dedup();
        tabs.sort();
        let mut fixed = self.fixed_addresses();
        fixed.extend(shared);
        TableNeeds {
            shared: fixed,
            tabs,
        }
    }

    /// The lookup tables ordered for `ixs`: the one holding most of their accounts
    /// first, so that compiling takes as many as possible from one table (every extra
    /// table costs a transaction about 35 bytes).
    fn tables_for(&self, ixs: &[Instruction]) -> Vec<AddressLookupTableAccount> {
        let used: std::collections::HashSet<&Pubkey> = ixs
            .iter()
            .flat_map(|ix| ix.accounts.iter().map(|meta| &meta.pubkey))
            .collect();
        let mut tables = self.tables.clone();
        tables.sort_by_key(|table| {
            std::cmp::Reverse(table.addresses.iter().filter(|a| used.contains(a)).count())
        });
        tables
    }

    /// Simulates, sends and tracks one batch, whose accounts are already in the
    /// lookup tables. A batch that fails simulation is split to isolate the state that
    /// cannot settle.
    async fn send_batch(&mut self, batch: Vec<&SignedState>) -> Result<usize, EngineError> {
        let mut queue = vec![batch];
        let mut sent = 0;
        while let Some(batch) = queue.pop() {
            let (blockhash, last_valid_block_height) = self.chain().latest_blockhash().await?;
            let ixs = self.instructions(&batch, 1_400_000)?;
            let tables = self.tables_for(&ixs);
            let probe = self.compile(&ixs, &tables, blockhash)?;
            if !transaction_fits(&probe) {
                // The packer counted on tables that changed since (or a table per tab).
                if batch.len() > 1 {
                    let half = batch.len() / 2;
                    queue.push(batch[half..].to_vec());
                    queue.push(batch[..half].to_vec());
                } else {
                    tracing::error!(tab = %batch[0].state.tab, "a single state does not fit a transaction");
                }
                continue;
            }
            let simulation = self.chain().simulate(&probe).await?;
            tracing::debug!(error = ?simulation.error, units = ?simulation.units_consumed, "simulated");
            if let Some(error) = simulation.error {
                if batch.len() > 1 {
                    let half = batch.len() / 2;
                    queue.push(batch[half..].to_vec());
                    queue.push(batch[..half].to_vec());
                    continue;
                }
                let state = &batch[0].state;
                tracing::warn!(tab = %state.tab, epoch = state.epoch, ?error, logs = ?simulation.logs, "settlement does not simulate");
                if is_program_error(&error) {
                    // The program refuses this state for good (the tab was drained by a
                    // withdrawal, or it was settled under us): reconciliation decides.
                    self.relayer
                        .metrics
                        .settlements
                        .with_label_values(&["refused"])
                        .inc();
                }
                continue;
            }
            let units = simulation
                .units_consumed
                .map_or(1_400_000, |u| (u + u / 5 + 10_000).min(1_400_000))
                as u32;
            let tx = self.compile(&self.instructions(&batch, units)?, &tables, blockhash)?;
            let signature = tx.signatures[0];
            // Durable before sent: after a crash, the epoch's transaction is known.
            let epochs: Vec<(Pubkey, u64)> =
                batch.iter().map(|s| (s.state.tab, s.state.epoch)).collect();
            self.relayer
                .store
                .record_settle_tx(&epochs, &signature)
                .await?;
            self.chain().send(&tx).await?;
            let metrics = &self.relayer.metrics;
            metrics.settlements.with_label_values(&["sent"]).inc();
            metrics.fee_lamports.inc_by(transaction_fee(
                batch.len(),
                units,
                self.config.compute_unit_price,
            ));
            self.in_flight.insert(
                signature,
                InFlight {
                    tx,
                    sent_at: Instant::now(),
                    last_sent: Instant::now(),
                    epochs: batch.iter().map(|s| (s.state.tab, s.state.epoch)).collect(),
                    tips: batch.iter().map(|s| u64::from(s.state.seq)).sum(),
                    last_valid_block_height,
                },
            );
            sent += 1;
        }
        Ok(sent)
    }

    /// Makes sure every address is in one of this engine's lookup tables and that the
    /// entries are usable: validators resolve a transaction's lookup tables against
    /// their root bank when it arrives, so until an extension is rooted a transaction
    /// using it is dropped and only lands on a later rebroadcast (seen: 12-13 s on a
    /// local validator).
    async fn ensure_tables(&mut self, needs: &TableNeeds) -> Result<(), EngineError> {
        self.extend_tables(needs).await?;
        if let Some(slot) = self.unrooted_extension {
            while self.chain().rooted_slot().await? <= slot {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            self.unrooted_extension = None;
        }
        if self.tables_unverified {
            self.verify_tables().await?;
            self.tables_unverified = false;
        }
        Ok(())
    }

    /// Adds the tabs no table holds yet, creating tables as needed, and gives every
    /// table that receives tabs the shared accounts too, so that a transaction of
    /// neighbouring tabs needs one table. The extensions are sent together and
    /// confirmed, not waited for until rooted.
    async fn extend_tables(&mut self, needs: &TableNeeds) -> Result<(), EngineError> {
        if !self.tables_loaded {
            self.load_tables().await?;
            self.tables_loaded = true;
        }
        if self.tables_unverified {
            // What the chain holds, not what the last extensions planned.
            self.verify_tables().await?;
            self.tables_unverified = false;
        }
        // Copying more than half a table into each one would leave little room.
        let replicate = needs.shared.len() <= LOOKUP_TABLE_CAPACITY / 2;
        let in_any: std::collections::HashSet<Pubkey> = self
            .tables
            .iter()
            .flat_map(|t| t.addresses.iter().copied())
            .collect();
        let in_last: std::collections::HashSet<Pubkey> = self
            .tables
            .last()
            .map(|t| t.addresses.iter().copied().collect())
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        let mut missing_tabs: Vec<Pubkey> = needs
            .tabs
            .iter()
            .filter(|key| !in_any.contains(key) && seen.insert(**key))
            .copied()
            .collect();
        let mut missing_shared: Vec<Pubkey> = needs
            .shared
            .iter()
            .filter(|key| {
                let held = if replicate { &in_last } else { &in_any };
                !held.contains(key) && seen.insert(**key)
            })
            .copied()
            .collect();
        if missing_tabs.is_empty() && missing_shared.is_empty() {
            return Ok(());
        }
        let mut extensions = Vec::new();
        while !missing_tabs.is_empty() || !missing_shared.is_empty() {
            let room = self
                .tables
                .last()
                .map_or(0, |t| LOOKUP_TABLE_CAPACITY - t.addresses.len());
            if room == 0 || (replicate && room < missing_shared.len()) {
                let slot = self.chain().slot().await?;
                let (ix, table) = create_lookup_table(
                    self.payer.pubkey(),
                    self.payer.pubkey(),
                    slot.saturating_sub(1),
                );
                // Remembered before it exists, so that a crash cannot leak it.
                self.relayer
                    .store
                    .add_lookup_table(&self.payer.pubkey(), &table, now_ms())
                    .await?;
                self.send_and_confirm(&[ix]).await?;
                self.tables.push(AddressLookupTableAccount {
                    key: table,
                    addresses: Vec::new(),
                });
                if replicate {
                    missing_shared = needs.shared.clone();
                }
                continue;
            }
            let mut added: Vec<Pubkey> = missing_shared
                .drain(..missing_shared.len().min(room))
                .collect();
            let take = missing_tabs.len().min(room - added.len());
            added.extend(missing_tabs.drain(..take));
            let table = self.tables.last_mut().expect("a table exists");
            for chunk in added.chunks(EXTEND_CHUNK) {
                extensions.push(extend_lookup_table(
                    table.key,
                    self.payer.pubkey(),
                    Some(self.payer.pubkey()),
                    chunk.to_vec(),
                ));
            }
            table.addresses.extend(added);
        }
        // Until read back from the chain, the local tables are only a plan.
        self.tables_unverified = true;
        tracing::debug!(transactions = extensions.len(), "extending lookup tables");
        let result = self.confirm_all(extensions).await;
        // Whatever landed did so by now.
        self.unrooted_extension = Some(self.chain().slot().await?);
        result
    }

    /// The tables an earlier run created that are still live and ours.
    async fn load_tables(&mut self) -> Result<(), EngineError> {
        let authority = self.payer.pubkey();
        let keys = self.relayer.store.lookup_tables(&authority).await?;
        let accounts = self.chain().accounts(&keys).await?;
        for (key, account) in keys.into_iter().zip(accounts) {
            let Some(account) = account else { continue };
            let Ok(table) = AddressLookupTable::deserialize(&account.data) else {
                continue;
            };
            if table.meta.authority == Some(authority) && table.meta.deactivation_slot == u64::MAX {
                self.tables.push(AddressLookupTableAccount {
                    key,
                    addresses: table.addresses.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Reloads the tables from the chain so their contents are the chain's, not ours.
    async fn verify_tables(&mut self) -> Result<(), EngineError> {
        let keys: Vec<Pubkey> = self.tables.iter().map(|t| t.key).collect();
        let accounts = self.chain().accounts(&keys).await?;
        for (table, account) in self.tables.iter_mut().zip(accounts) {
            let account = account
                .ok_or_else(|| EngineError::Build(format!("lookup table {} missing", table.key)))?;
            let parsed = AddressLookupTable::deserialize(&account.data)
                .map_err(|e| EngineError::Build(format!("lookup table {}: {e}", table.key)))?;
            table.addresses = parsed.addresses.to_vec();
        }
        Ok(())
    }

    /// Sends one transaction per instruction, all at once, and waits until every one
    /// has landed successfully (rebroadcasting, and rebuilding expired ones).
    async fn confirm_all(&self, ixs: Vec<Instruction>) -> Result<(), EngineError> {
        let mut pending = ixs;
        for _attempt in 0..5 {
            let (blockhash, last_valid) = self.chain().latest_blockhash().await?;
            let mut sent = Vec::with_capacity(pending.len());
            for ix in &pending {
                let tx = self.compile(std::slice::from_ref(ix), &[], blockhash)?;
                self.chain().send(&tx).await?;
                sent.push((tx, ix.clone()));
            }
            let mut last_sent = Instant::now();
            loop {
                let signatures: Vec<Signature> =
                    sent.iter().map(|(tx, _)| tx.signatures[0]).collect();
                let statuses = self.chain().statuses(&signatures).await?;
                let mut waiting = Vec::new();
                for ((tx, ix), status) in sent.into_iter().zip(statuses) {
                    match status {
                        TxStatus::Landed(None) => {}
                        TxStatus::Landed(Some(error)) => {
                            return Err(EngineError::Build(format!(
                                "{} failed: {error}",
                                tx.signatures[0]
                            )))
                        }
                        TxStatus::Unknown => waiting.push((tx, ix)),
                    }
                }
                sent = waiting;
                if sent.is_empty() {
                    return Ok(());
                }
                if self.chain().block_height().await? > last_valid {
                    break;
                }
                if last_sent.elapsed() >= REBROADCAST {
                    last_sent = Instant::now();
                    for (tx, _) in &sent {
                        self.chain().send(tx).await?;
                    }
                } else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            pending = sent.into_iter().map(|(_, ix)| ix).collect();
        }
        Err(EngineError::Build("transactions expired five times".into()))
    }

    async fn send_and_confirm(&self, ixs: &[Instruction]) -> Result<Signature, EngineError> {
        for _attempt in 0..5 {
            let (blockhash, last_valid) = self.chain().latest_blockhash().await?;
            let tx = self.compile(ixs, &[], blockhash)?;
            let signature = self.chain().send(&tx).await?;
            let mut last_sent = Instant::now();
            loop {
                match self.chain().statuses(&[signature]).await?.pop() {
                    Some(TxStatus::Landed(None)) => return Ok(signature),
                    Some(TxStatus::Landed(Some(error))) => {
                        return Err(EngineError::Build(format!("{signature} failed: {error}")))
                    }
                    _ if self.chain().block_height().await? > last_valid => break,
                    _ if last_sent.elapsed() >= REBROADCAST => {
                        last_sent = Instant::now();
                        self.chain().send(&tx).await?;
                    }
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
        Err(EngineError::Build("transaction expired five times".into()))
    }

    /// Runs passes every `interval` until `shutdown` fires, then finishes the pass in
    /// progress.
    pub async fn run(
        mut self,
        interval: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            match self.run_once().await {
                Ok(report) if report != PassReport::default() => {
                    tracing::info!(?report, "settlement pass")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "settlement pass failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

pub fn transaction_fits(tx: &VersionedTransaction) -> bool {
    let bytes = bincode::serialized_size(tx).map_or(usize::MAX, |n| n as usize);
    let accounts = match &tx.message {
        VersionedMessage::V0(message) => {
            message.account_keys.len()
                + message
                    .address_table_lookups
                    .iter()
                    .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
                    .sum::<usize>()
        }
        VersionedMessage::Legacy(message) => message.account_keys.len(),
    };
    bytes <= MAX_TX_BYTES && accounts <= MAX_TX_ACCOUNTS
}

/// Lamports a settlement of `tabs` costs: one signature fee for the payer and one per
/// precompile signature, plus the priority fee.
pub fn transaction_fee(tabs: usize, units: u32, micro_lamports_per_unit: u64) -> u64 {
    let signatures = 1 + tabs as u64;
    let priority = (u128::from(units) * u128::from(micro_lamports_per_unit)).div_ceil(1_000_000);
    signatures * LAMPORTS_PER_SIGNATURE + priority as u64
}

fn is_program_error(error: &TransactionError) -> bool {
    matches!(
        error,
        TransactionError::InstructionError(_, InstructionError::Custom(_))
    )
}
