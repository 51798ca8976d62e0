//! Sending transactions and following them until they land: settlements tracked
//! across passes (rebroadcast until confirmed or expired), and the engine's own
//! housekeeping transactions confirmed on the spot.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use solana_sdk::{
    instruction::{Instruction, InstructionError},
    signature::{Keypair, Signature},
    transaction::{TransactionError, VersionedTransaction},
};

use super::{
    pack::{transaction_fee, transaction_fits, Batch, Packer, MAX_COMPUTE_UNITS},
    plan::Candidate,
    EngineError,
};
use crate::{
    chain::{Chain, TxStatus},
    domain::{now_ms, EpochKey, RecordedSettlement, StreamStatus},
    metrics::Metrics,
    store::SettlementStore,
};

/// How often an unconfirmed transaction is broadcast again. Re-sending the same
/// signed transaction is harmless: it lands at most once.
const REBROADCAST: Duration = Duration::from_secs(1);

/// A sent settlement awaiting confirmation.
pub struct InFlight {
    pub tx: VersionedTransaction,
    pub epochs: Vec<EpochKey>,
    pub tips: u64,
    pub last_valid_block_height: u64,
    pub sent_at: Instant,
    pub last_sent: Instant,
}

/// What sending a batch uses.
pub struct Outbox<'a> {
    pub chain: &'a dyn Chain,
    pub store: &'a dyn SettlementStore,
    pub metrics: &'a Metrics,
}

#[derive(Default)]
pub struct Settlements {
    in_flight: HashMap<Signature, InFlight>,
}

impl Settlements {
    pub fn epochs(&self) -> HashSet<EpochKey> {
        self.in_flight
            .values()
            .flat_map(|f| f.epochs.iter().copied())
            .collect()
    }

    pub fn track(&mut self, flight: InFlight) {
        self.in_flight.insert(flight.tx.signatures[0], flight);
    }

    /// Follows a settlement recorded before a restart as if this instance had sent
    /// it: rebroadcast until it lands or its blockhash expires, and its epochs are not
    /// sent again meanwhile (which would land a second, failing transaction).
    pub fn adopt(&mut self, recorded: RecordedSettlement) {
        let now = Instant::now();
        self.track(InFlight {
            tx: recorded.tx,
            epochs: recorded.epochs,
            tips: 0,
            last_valid_block_height: recorded.last_valid_block_height,
            sent_at: now,
            last_sent: now.checked_sub(REBROADCAST).unwrap_or(now),
        });
    }

    /// Simulates, records, sends and tracks one batch. A batch that fails simulation
    /// is split to isolate what cannot settle; that stays closed for the next pass
    /// (reconciliation decides if the chain moved on).
    pub async fn send_batch(
        &mut self,
        out: &Outbox<'_>,
        packer: &Packer<'_>,
        batch: Batch,
    ) -> Result<usize, EngineError> {
        // A part of a batch fits with the batch's tables too.
        let tables = batch.tables;
        let mut queue = vec![batch.candidates];
        let mut sent = 0;
        while let Some(batch) = queue.pop() {
            let (blockhash, last_valid_block_height) = out.chain.latest_blockhash().await?;
            let ixs = packer.instructions(&batch, MAX_COMPUTE_UNITS)?;
            let probe = packer.compile(&ixs, &tables, blockhash)?;
            let fits = transaction_fits(&probe);
            let simulation = if fits {
                Some(out.chain.simulate(&probe).await?)
            } else {
                None
            };
            let failed = simulation.as_ref().is_none_or(|s| s.error.is_some());
            if failed {
                if batch.len() > 1 {
                    let half = batch.len() / 2;
                    queue.push(batch[half..].to_vec());
                    queue.push(batch[..half].to_vec());
                } else if let Some(simulation) = simulation {
                    let error = simulation.error.expect("failed");
                    tracing::warn!(epoch = ?batch[0].key(), ?error, logs = ?simulation.logs, "settlement does not simulate");
                    if is_program_error(&error) {
                        out.metrics
                            .settlements
                            .with_label_values(&["refused"])
                            .inc();
                    }
                } else {
                    tracing::error!(epoch = ?batch[0].key(), "a single state does not fit a transaction");
                }
                continue;
            }
            let units = simulation
                .and_then(|s| s.units_consumed)
                .map_or(MAX_COMPUTE_UNITS, |u| {
                    (u + u / 5 + 10_000).min(u64::from(MAX_COMPUTE_UNITS)) as u32
                });
            let tx = packer.compile(&packer.instructions(&batch, units)?, &tables, blockhash)?;
            let epochs: Vec<EpochKey> = batch.iter().map(Candidate::key).collect();
            // Durable before sent: after a crash, the transaction is followed, not repeated.
            out.store
                .record_settle_tx(&epochs, &tx, last_valid_block_height, now_ms())
                .await?;
            crate::crash::point("settlement-recorded");
            out.chain.send(&tx).await?;
            crate::crash::point("settlement-sent");
            if batch.iter().any(|candidate| candidate.previous.is_some()) {
                crate::crash::point("top-up-sent");
            }
            out.metrics.settlements.with_label_values(&["sent"]).inc();
            out.metrics
                .fee_lamports
                .inc_by(transaction_fee(units, packer.compute_unit_price));
            self.track(InFlight {
                tx,
                tips: batch.iter().map(Candidate::tips).sum(),
                epochs,
                last_valid_block_height,
                sent_at: Instant::now(),
                last_sent: Instant::now(),
            });
            sent += 1;
        }
        Ok(sent)
    }

    /// Checks sent settlements: landed ones finish their epochs, expired ones are
    /// forgotten (their epochs stay closed and are sent again), others rebroadcast.
    pub async fn confirm(
        &mut self,
        chain: &dyn Chain,
        store: &dyn SettlementStore,
        metrics: &Metrics,
    ) -> Result<usize, EngineError> {
        if self.in_flight.is_empty() {
            return Ok(0);
        }
        let signatures: Vec<Signature> = self.in_flight.keys().copied().collect();
        let statuses = chain.statuses(&signatures).await?;
        let height = chain.block_height().await?;
        let mut confirmed = 0;
        for (signature, status) in signatures.iter().zip(statuses) {
            match status {
                TxStatus::Landed(None) => {
                    crate::crash::point("settlement-landed");
                    let flight = self.in_flight.remove(signature).expect("in flight");
                    tracing::debug!(%signature, after = ?flight.sent_at.elapsed(), streams = flight.epochs.len(), "settlement confirmed");
                    for epoch in &flight.epochs {
                        store.finish(epoch, StreamStatus::Settled, now_ms()).await?;
                    }
                    metrics.settlements.with_label_values(&["confirmed"]).inc();
                    metrics.streams_per_tx.observe(flight.epochs.len() as f64);
                    metrics.tips_per_tx.observe(flight.tips as f64);
                    confirmed += 1;
                }
                TxStatus::Landed(Some(error)) => {
                    tracing::warn!(%signature, ?error, "settlement landed with an error");
                    metrics.settlements.with_label_values(&["failed"]).inc();
                    let flight = self.in_flight.remove(signature).expect("in flight");
                    // Its epochs stay closed; reconciliation decides what the chain holds.
                    store.forget_settle_tx(&flight.epochs, signature).await?;
                }
                TxStatus::Unknown => {
                    let flight = self.in_flight.get_mut(signature).expect("in flight");
                    if height > flight.last_valid_block_height {
                        tracing::info!(%signature, "settlement expired unseen; it will be rebuilt");
                        metrics.settlements.with_label_values(&["expired"]).inc();
                        self.in_flight.remove(signature);
                    } else if flight.last_sent.elapsed() >= REBROADCAST {
                        flight.last_sent = Instant::now();
                        if let Err(error) = chain.send(&flight.tx).await {
                            tracing::debug!(%signature, %error, "rebroadcast failed");
                        }
                    }
                }
            }
        }
        Ok(confirmed)
    }
}

/// Sends one transaction per instruction, all at once, and waits until every one has
/// landed successfully (rebroadcasting, and rebuilding expired ones).
pub async fn confirm_all(
    chain: &dyn Chain,
    payer: &Keypair,
    ixs: Vec<Instruction>,
) -> Result<(), EngineError> {
    let compile = |ix: &Instruction, blockhash| {
        Packer::compile_plain(payer, std::slice::from_ref(ix), blockhash)
    };
    let mut pending = ixs;
    for _attempt in 0..5 {
        let (blockhash, last_valid) = chain.latest_blockhash().await?;
        let mut sent = Vec::with_capacity(pending.len());
        for ix in &pending {
            let tx = compile(ix, blockhash)?;
            chain.send(&tx).await?;
            sent.push((tx, ix.clone()));
        }
        let mut last_sent = Instant::now();
        loop {
            let signatures: Vec<Signature> = sent.iter().map(|(tx, _)| tx.signatures[0]).collect();
            let statuses = chain.statuses(&signatures).await?;
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
            if chain.block_height().await? > last_valid {
                break;
            }
            if last_sent.elapsed() >= REBROADCAST {
                last_sent = Instant::now();
                for (tx, _) in &sent {
                    chain.send(tx).await?;
                }
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        pending = sent.into_iter().map(|(_, ix)| ix).collect();
    }
    Err(EngineError::Build("transactions expired five times".into()))
}

fn is_program_error(error: &TransactionError) -> bool {
    matches!(
        error,
        TransactionError::InstructionError(_, InstructionError::Custom(_))
    )
}

#[cfg(test)]
mod tests;
