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
            in_flight: HashMap::new(),
        }
    }

    fn chain(&self) -> &dyn Chain {
        self.relayer.chain.as_ref()
    }

    /// One pass: reconcile, confirm, rotate, settle.
    pub async fn run_once(&mut self) -> Result<PassReport, EngineError> {
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
        let settle_all = self.relayer.settle_now.swap(false, Ordering::SeqCst);
        for epoch in &open {
            let tab = self.relayer.tabs.cached(&epoch.tab()).await;
            if (settle_all || self.config.policy.is_due(epoch, tab.as_ref(), now))
                && self
                    .relayer
                    .store
                    .close_epoch(&epoch.tab(), epoch.epoch())
                    .await?
            {
                report.rotated += 1;
            }
        }
        // Tables learn the accounts of open epochs while tips still arrive, so that
        // settling them later does not wait for extensions to be rooted.
        let mut warm: Vec<Pubkey> = Vec::new();
        for epoch in &open {
            warm.push(epoch.tab());
            warm.extend(epoch.signed.state.entries.keys().copied());
        }
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
        let in_flight: Vec<(Pubkey, u64)> = self
            .in_flight
            .values()
            .flat_map(|f| f.epochs.iter().copied())
            .collect();
        let now = now_ms();
        let lease_until = now + self.config.lease.as_millis() as i64;
        let mut ready: Vec<SignedState> = Vec::new();
        for epoch in self.relayer.store.all_closed().await? {
            let key = (epoch.tab(), epoch.epoch());
            let Some(tab) = self.relayer.tabs.cached(&key.0).await else {
                continue;
            };
            if tab.epoch != key.1 || in_flight.contains(&key) {
                continue;
            }
            if ready.iter().any(|s| s.state.tab == key.0) {
                continue;
            }
            if self
                .relayer
                .store
                .lease(&key.0, key.1, &self.config.instance, now, lease_until)
                .await?
            {
                ready.push(epoch.signed);
            }
        }
        // Every address of the pass goes into the tables in one round (one wait for the
        // new entries to activate), not one round per batch.
        let mut needed = self.fixed_addresses();
        needed.extend(ready.iter().map(|s| s.state.tab));
        needed.extend(ready.iter().flat_map(|s| s.state.entries.keys().copied()));
        if !ready.is_empty() {
            self.ensure_tables(&needed).await?;
        }
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

    fn fits(&self, batch: &[&SignedState]) -> Result<bool, EngineError> {
        let ixs = self.instructions(batch, 1_400_000)?;
        let mut addresses = self.fixed_addresses();
        addresses.extend(batch.iter().map(|s| s.state.tab));
        addresses.extend(batch.iter().flat_map(|s| s.state.entries.keys().copied()));
        let virtual_table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses,
        };
        let tx = self.compile(&ixs, &[virtual_table], Hash::default())?;
        Ok(transaction_fits(&tx))
    }

    /// Simulates, sends and tracks one batch. A batch that fails simulation is split
    /// to isolate the state that cannot settle.
    async fn send_batch(&mut self, batch: Vec<&SignedState>) -> Result<usize, EngineError> {
        let mut queue = vec![batch];
        let mut sent = 0;
        while let Some(batch) = queue.pop() {
            let mut needed = self.fixed_addresses();
            needed.extend(batch.iter().map(|s| s.state.tab));
            needed.extend(batch.iter().flat_map(|s| s.state.entries.keys().copied()));
            self.ensure_tables(&needed).await?;
            tracing::debug!(tabs = batch.len(), "lookup tables ready");

            let (blockhash, last_valid_block_height) = self.chain().latest_blockhash().await?;
            let probe = self.compile(
                &self.instructions(&batch, 1_400_000)?,
                &self.tables,
                blockhash,
            )?;
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
            let tx = self.compile(&self.instructions(&batch, units)?, &self.tables, blockhash)?;
            let signature = tx.signatures[0];
            // Durable before sent: after a crash, the epoch's transaction is known.
            for state in &batch {
                self.relayer
                    .store
                    .record_settle_tx(&state.state.tab, state.state.epoch, &signature)
                    .await?;
            }
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
    async fn ensure_tables(&mut self, needed: &[Pubkey]) -> Result<(), EngineError> {
        self.extend_tables(needed).await?;
        if let Some(slot) = self.unrooted_extension {
            while self.chain().rooted_slot().await? <= slot {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            self.verify_tables().await?;
            self.unrooted_extension = None;
        }
        Ok(())
    }

    /// Adds the addresses no table holds yet, creating tables as needed. The
    /// extensions are sent together and confirmed, not waited for until rooted.
    async fn extend_tables(&mut self, needed: &[Pubkey]) -> Result<(), EngineError> {
        if !self.tables_loaded {
            self.load_tables().await?;
            self.tables_loaded = true;
        }
        let mut missing: Vec<Pubkey> = needed
            .iter()
            .filter(|key| !self.tables.iter().any(|t| t.addresses.contains(key)))
            .copied()
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let mut extensions = Vec::new();
        while !missing.is_empty() {
            let room = self
                .tables
                .last()
                .map_or(0, |t| LOOKUP_TABLE_CAPACITY - t.addresses.len());
            if room == 0 {
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
                continue;
            }
            let take = missing.len().min(room);
            let added: Vec<Pubkey> = missing.drain(..take).collect();
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
        // Until confirmed and reloaded, the local tables are only a plan.
        self.unrooted_extension = Some(u64::MAX);
        let result = self.confirm_all(extensions).await;
        if result.is_err() {
            self.verify_tables().await?;
        }
        result?;
        self.unrooted_extension = Some(self.chain().slot().await?);
        Ok(())
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
