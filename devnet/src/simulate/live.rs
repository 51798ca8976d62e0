//! Clients that sign each tip when they send it, as a wallet does through the SDK:
//! each tip extends the last state the client had receipted, and its receipt is
//! checked before the next.

use std::time::Instant;

use indicatif::ProgressBar;
use micropay_client::relayer::RelayerClient;
use micropay_protocol::StreamState;
use solana_sdk::{pubkey::Pubkey, signature::Keypair};

use super::{plans, Amount, Outcome, Workload};
use crate::Payer;

/// One payer as its client drives it.
struct Tipper {
    tab: Pubkey,
    key: Keypair,
    slot: u8,
    /// The last state this client had receipted, which the next tip extends.
    last: Option<StreamState>,
}

/// Runs `workload` against `relayer`.
pub async fn run(
    relayer: &RelayerClient,
    payers: &[Payer],
    payees: &[Pubkey],
    workload: &Workload,
    progress: &ProgressBar,
) -> Outcome {
    let clients = workload.clients_for(payers.len());
    let started = Instant::now();
    let deadline = match workload.amount {
        Amount::For(duration) => Some(started + duration),
        Amount::Tips(_) => None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (client, tips) in plans(payers.len(), payees.len(), workload)
        .into_iter()
        .enumerate()
    {
        // This client's payers, by position: payer `client + position * clients`.
        let mut mine: Vec<Tipper> = payers[client..]
            .iter()
            .step_by(clients)
            .map(|payer| {
                let (key, slot) = payer.tipper();
                Tipper {
                    tab: payer.tab,
                    key: key.insecure_clone(),
                    slot,
                    last: None,
                }
            })
            .collect();
        let (relayer, payees, progress) = (relayer.clone(), payees.to_vec(), progress.clone());
        tasks.spawn(async move {
            let mut outcome = Outcome::empty(payees.len());
            for tip in tips {
                if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    break;
                }
                let tipper = &mut mine[tip.payer / clients];
                let sent = Instant::now();
                match relayer
                    .tip_after(
                        &tipper.key,
                        &tipper.tab,
                        tipper.slot,
                        tipper.last.take(),
                        &payees[tip.payee],
                        tip.amount,
                    )
                    .await
                {
                    Ok(receipted) => {
                        outcome
                            .latency
                            .saturating_record(sent.elapsed().as_micros() as u64);
                        tipper.last = Some(receipted.signed.state);
                        outcome.accept(&tip);
                    }
                    Err(error) => outcome.fail(error),
                }
                progress.inc(1);
            }
            outcome
        });
    }
    let mut outcome = Outcome::empty(payees.len());
    while let Some(result) = tasks.join_next().await {
        outcome.merge(result.expect("tipper task"));
    }
    outcome.elapsed = started.elapsed();
    outcome
}
