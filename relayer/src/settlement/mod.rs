//! The settlement engine, as a pipeline run once per pass: reconcile what is stored
//! with the chain ([`reconcile`]), close what the [`policy`] says is due, plan items
//! (open epochs and top-ups, [`plan`]), pack them into transactions against the
//! lookup [`tables`] ([`pack`], sizing them with [`size`]), then simulate, record, send and confirm
//! ([`sender`]). A settlement is recorded before it is sent, and the chain decides
//! what landed, so a crash at any point neither loses nor repeats a payment.

pub mod pack;
pub mod plan;
pub mod policy;
pub mod reconcile;
pub mod sender;
pub mod size;
pub mod tables;
#[cfg(test)]
mod testing;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use micropay_interface::state::{Params, Tab};
use solana_sdk::{pubkey::Pubkey, signature::Keypair};

use crate::{
    chain::{decode_config, Chain, ChainError},
    domain::{now_ms, EpochKey, StoredEpoch, StreamStatus},
    intake::TabCache,
    metrics::Metrics,
    store::{SettlementStore, StoreError},
};
use pack::Packer;
use plan::{Candidate, PayeeDirectory};
use policy::Policy;
use reconcile::Outcome;
use sender::{Outbox, Settlements};
use tables::Tables;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Build(String),
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub policy: Policy,
    /// Names this instance in settlement leases.
    pub instance: String,
    pub lease: Duration,
    pub compute_unit_price: u64,
    /// A lookup table that has held no tab being settled for this long is retired.
    pub table_idle: Duration,
}

/// Counts of one pass, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub closed: usize,
    pub sent: usize,
    pub confirmed: usize,
    pub reconciled: usize,
}

pub struct Engine {
    store: Arc<dyn SettlementStore>,
    chain: Arc<dyn Chain>,
    tabs: Arc<TabCache>,
    metrics: Arc<Metrics>,
    /// The sequencer: it signs settlements, so their items need no receipts.
    payer: Arc<Keypair>,
    config: Pubkey,
    settings: EngineConfig,
    /// "Settle now": every epoch opened at or before this time (unix ms) is due, as
    /// soon as the program would accept it. It stays in force until those are settled,
    /// so an epoch waiting out a top-up window is not forgotten.
    settle_opened_before_ms: Arc<AtomicI64>,
    tables: Tables,
    settlements: Settlements,
    /// Whether settlements recorded before this start are being followed.
    adopted: bool,
}

/// The chain as one pass sees it.
struct ChainView {
    params: Params,
    mint: Pubkey,
    token_program: Pubkey,
    tabs: HashMap<Pubkey, Tab>,
    /// Cluster time, unix seconds.
    now: i64,
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn SettlementStore>,
        chain: Arc<dyn Chain>,
        tabs: Arc<TabCache>,
        metrics: Arc<Metrics>,
        payer: Arc<Keypair>,
        config: Pubkey,
        settings: EngineConfig,
        settle_opened_before_ms: Arc<AtomicI64>,
    ) -> Self {
        Self {
            store,
            chain,
            tabs,
            metrics,
            payer,
            config,
            settings,
            settle_opened_before_ms,
            tables: Tables::default(),
            settlements: Settlements::default(),
            adopted: false,
        }
    }

    /// One pass.
    pub async fn run_once(&mut self) -> Result<PassReport, EngineError> {
        let settle_opened_before_ms = self.settle_opened_before_ms.load(Ordering::SeqCst);
        self.pass(settle_opened_before_ms).await
    }

    async fn view(&self, pending: &[StoredEpoch]) -> Result<ChainView, EngineError> {
        let mut tabs: Vec<Pubkey> = pending.iter().map(|e| e.state().tab).collect();
        tabs.sort();
        tabs.dedup();
        let config_account = self.chain.accounts(&[self.config]).await?;
        let config = decode_config(config_account[0].as_ref()).ok_or_else(|| {
            EngineError::Build(format!("{} is not a micropay config", self.config))
        })?;
        let tabs = self.tabs.refresh(self.chain.as_ref(), &tabs).await?;
        let now = match self.chain.unix_time().await {
            Ok(now) => now,
            Err(error) => {
                tracing::warn!(%error, "cluster clock unavailable; using the local clock");
                now_ms() / 1_000
            }
        };
        Ok(ChainView {
            params: config.params_at(now),
            mint: config.mint,
            token_program: config.token_program,
            tabs,
            now,
        })
    }

    async fn pass(&mut self, settle_opened_before_ms: i64) -> Result<PassReport, EngineError> {
        if !self.adopted {
            for recorded in self.store.unconfirmed_settlements().await? {
                tracing::info!(signature = %recorded.tx.signatures[0], streams = recorded.epochs.len(), "following a settlement sent before this start");
                self.settlements.adopt(recorded);
            }
            self.adopted = true;
        }
        let mut report = PassReport {
            confirmed: self
                .settlements
                .confirm(self.chain.as_ref(), self.store.as_ref(), &self.metrics)
                .await?,
            ..PassReport::default()
        };
        let pending = self.store.pending().await?;
        let view = self.view(&pending).await?;
        let in_flight = self.settlements.epochs();

        // The newest pending epoch of each stream: older open ones take no more tips.
        let mut newest: HashMap<(Pubkey, u64, u8), u64> = HashMap::new();
        for epoch in &pending {
            let state = epoch.state();
            let entry = newest
                .entry((state.tab, state.incarnation, state.slot))
                .or_default();
            *entry = (*entry).max(state.epoch);
        }
        let mut to_close = Vec::new();
        let mut ready = Vec::new();
        let mut top_ups = Vec::new();
        for epoch in &pending {
            let tab = view.tabs.get(&epoch.state().tab);
            match reconcile::outcome(epoch, tab, &view.params, view.now) {
                Outcome::Final(status) => {
                    self.store.finish(&epoch.key(), status, now_ms()).await?;
                    if status == StreamStatus::Short {
                        tracing::warn!(epoch = ?epoch.key(), "settled below its receipted state after the top-up window");
                    }
                    report.reconciled += 1;
                }
                Outcome::TopUp => {
                    if epoch.status == StreamStatus::Open {
                        to_close.push(epoch.key());
                    }
                    top_ups.push(epoch);
                }
                Outcome::Waiting => {
                    let tab = tab.expect("a waiting epoch has its tab");
                    let next_in_line =
                        tab.slots[epoch.state().slot as usize].epoch.get() == epoch.state().epoch;
                    match epoch.status {
                        StreamStatus::Open => {
                            let due = self.settings.policy.is_due(
                                epoch,
                                tab,
                                &view.params,
                                view.now * 1_000,
                                settle_opened_before_ms,
                                newest[&(
                                    epoch.state().tab,
                                    epoch.state().incarnation,
                                    epoch.state().slot,
                                )] > epoch.state().epoch,
                            );
                            if due {
                                to_close.push(epoch.key());
                                ready.push(epoch);
                            }
                        }
                        StreamStatus::Closed if next_in_line => ready.push(epoch),
                        _ => {}
                    }
                }
            }
        }
        // Read again once closed: a tip written between the read above and the close is
        // part of its epoch, and the settlement must carry it.
        let after_close;
        if !to_close.is_empty() {
            let closed = self.store.close(&to_close).await?;
            crate::crash::point("epochs-closed");
            report.closed = closed.iter().filter(|c| **c).count();
            after_close = self.store.pending().await?;
            let current: HashMap<EpochKey, &StoredEpoch> =
                after_close.iter().map(|e| (e.key(), e)).collect();
            let as_closed = |epochs: Vec<&StoredEpoch>| -> Vec<&StoredEpoch> {
                epochs
                    .into_iter()
                    .filter_map(|e| current.get(&e.key()).copied())
                    .collect()
            };
            ready = as_closed(ready);
            top_ups = as_closed(top_ups);
        }
        let window = view.params.top_up_window.get();
        ready.retain(|epoch| {
            let slot = &view.tabs[&epoch.state().tab].slots[epoch.state().slot as usize];
            !slot.in_top_up_window(view.now, window)
        });
        let mut chosen: Vec<&StoredEpoch> = Vec::new();
        let mut streams = HashSet::new();
        for epoch in top_ups.into_iter().chain(ready) {
            if !in_flight.contains(&epoch.key()) && streams.insert(epoch.stream()) {
                chosen.push(epoch);
            }
        }
        let candidates = self.candidates(&chosen, &view).await?;
        report.sent = self.settle(candidates, &view).await?;
        let (chain, store) = (self.chain.as_ref(), self.store.as_ref());
        let idle = self.settings.table_idle;
        let returned = self.tables.retire(chain, store, &self.payer, idle).await?;
        self.metrics.tables(self.tables.counts(), returned);
        Ok(report)
    }

    /// Leases `chosen` and turns them into candidates.
    async fn candidates(
        &self,
        chosen: &[&StoredEpoch],
        view: &ChainView,
    ) -> Result<Vec<Candidate>, EngineError> {
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<EpochKey> = chosen.iter().map(|e| e.key()).collect();
        let now = now_ms();
        let until = now + self.settings.lease.as_millis() as i64;
        let leased = self
            .store
            .lease(&keys, &self.settings.instance, now, until)
            .await?;
        let mut candidates = Vec::new();
        for (epoch, leased) in chosen.iter().zip(leased) {
            if !leased {
                continue;
            }
            let state = epoch.state();
            let slot = &view.tabs[&state.tab].slots[state.slot as usize];
            if let Some(candidate) = Candidate::for_slot(epoch, slot, self.store.as_ref()).await? {
                candidates.push(candidate);
            }
        }
        Ok(candidates)
    }

    async fn settle(
        &mut self,
        mut candidates: Vec<Candidate>,
        view: &ChainView,
    ) -> Result<usize, EngineError> {
        if candidates.is_empty() {
            return Ok(0);
        }
        let mut wallets: Vec<Pubkey> = candidates.iter().flat_map(|c| c.wallets()).collect();
        wallets.sort();
        wallets.dedup();
        let token_accounts = self
            .chain
            .accounts(&PayeeDirectory::token_accounts(
                &wallets,
                &view.mint,
                &view.token_program,
            ))
            .await?;
        let payees =
            PayeeDirectory::new(&wallets, &token_accounts, &view.mint, &view.token_program);
        let payer = self.payer.clone();
        let packer = Packer {
            payer: &payer,
            config: self.config,
            mint: view.mint,
            token_program: view.token_program,
            compute_unit_price: self.settings.compute_unit_price,
            payees: &payees,
        };
        let (shared, tabs) = packer.table_accounts(candidates.iter());
        self.tables
            .ensure(
                self.chain.as_ref(),
                self.store.as_ref(),
                &self.payer,
                &shared,
                &tabs,
            )
            .await?;
        // Streams of one table side by side, so that most batches need only it.
        let index = size::LookupIndex::new(self.tables.all());
        candidates.sort_by_key(|c| {
            let tab = c.epoch.state().tab;
            (
                index.first_holder(&tab).unwrap_or(usize::MAX),
                tab,
                c.epoch.state().slot,
            )
        });
        let batches = packer.pack(candidates, &index)?;
        let outbox = Outbox {
            chain: self.chain.as_ref(),
            store: self.store.as_ref(),
            metrics: &self.metrics,
        };
        let mut sent = 0;
        for batch in batches {
            sent += self.settlements.send_batch(&outbox, &packer, batch).await?;
        }
        Ok(sent)
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
