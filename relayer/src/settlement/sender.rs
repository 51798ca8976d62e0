//! Sending transactions and following them until they land: settlements tracked
//! across passes (rebroadcast until confirmed or expired), and the engine's own
//! housekeeping transactions confirmed on the spot.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use solana_sdk::{
    instruction::Instruction,
    signature::{Keypair, Signature},
    transaction::VersionedTransaction,
};

use super::{pack::Packer, EngineError};
use crate::{
    chain::{Chain, TxStatus},
    domain::{now_ms, EpochKey, StreamStatus},
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
                    self.in_flight.remove(signature);
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
