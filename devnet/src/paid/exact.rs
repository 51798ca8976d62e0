//! The `exact` baseline: x402's scheme that pays each call with its own confirmed
//! SPL transfer, measured on the same validator as the `micropay` calls.

use std::sync::Arc;

use anyhow::Context;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer, transaction::Transaction};

use super::{drive, Latency, PaidWorkload, PRICE};
use crate::{Deployment, Devnet};

/// x402 `exact` on this validator: each call is a token transfer from the caller to
/// the owner, signed by the caller and sent and confirmed before the call is answered.
/// The HTTP hops around it (under a millisecond on loopback) are left out.
pub(super) async fn run(
    devnet: &Devnet,
    deployment: &Deployment,
    owner: &Pubkey,
    workload: &PaidWorkload,
    clients: usize,
) -> anyhow::Result<(Latency, f64)> {
    let payers = deployment
        .payers(
            devnet,
            clients,
            (workload.exact_calls as u64 + 1) * PRICE,
            false,
        )
        .await?;
    let owner_account = micropay_interface::client::associated_token_address(
        owner,
        &deployment.mint,
        &spl_token_interface::ID,
    );
    let rpc = Arc::new(devnet.rpc());
    let mut before = 0;
    for payer in &payers {
        before += rpc.get_balance(&payer.owner.pubkey()).await?;
    }
    let workers: Vec<(Keypair, Pubkey)> = payers
        .iter()
        .map(|payer| (payer.owner.insecure_clone(), payer.source))
        .collect();
    let mint = deployment.mint;
    let latency = {
        let rpc = rpc.clone();
        drive(workers, workload.exact_calls, 0, move |worker| {
            let rpc = rpc.clone();
            async move {
                let (key, source) = &*worker;
                let transfer = spl_token_interface::instruction::transfer_checked(
                    &spl_token_interface::ID,
                    source,
                    &mint,
                    &owner_account,
                    &key.pubkey(),
                    &[],
                    PRICE,
                    Deployment::DECIMALS,
                )?;
                let blockhash = rpc.get_latest_blockhash().await?;
                let tx = Transaction::new_signed_with_payer(
                    &[transfer],
                    Some(&key.pubkey()),
                    &[key],
                    blockhash,
                );
                rpc.send_and_confirm_transaction(&tx)
                    .await
                    .context("an exact payment")?;
                Ok(())
            }
        })
        .await?
    };
    let mut after = 0;
    for payer in &payers {
        after += rpc.get_balance(&payer.owner.pubkey()).await?;
    }
    let fee = before.saturating_sub(after) as f64 / latency.calls.max(1) as f64;
    eprintln!(
        "[Paid] x402 exact: {} calls, {:.1}/s, p50 {:.0} ms, p99 {:.0} ms, {fee:.0} lamports each",
        latency.calls, latency.calls_per_second, latency.p50_ms, latency.p99_ms
    );
    Ok((latency, fee))
}
