//! What settled, read from the relayer's store and checked against the chain: every
//! settlement transaction is fetched (its fee and size), and every payee's token balance
//! must equal what the settled states owe it, net of the relayer fee taken per netted
//! credit in each transaction.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context};
use futures::{stream, StreamExt, TryStreamExt};
use micropay_client::accounts;
use micropay_relayer_v1::store::Store;
use serde::Serialize;
use solana_client::{nonblocking::rpc_client::RpcClient, rpc_config::RpcTransactionConfig};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::UiTransactionEncoding;

/// What one transfer per tip would cost: one signature.
pub const DIRECT_TRANSFER_FEE: u64 = 5_000;

#[derive(Clone, Debug, Serialize)]
pub struct PayeePayout {
    pub payee: String,
    pub gross: u64,
    pub expected: u64,
    pub on_chain: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SettlementReport {
    /// Tips in the settled states (the sum of their sequence numbers).
    pub tips: u64,
    /// Their total, base units.
    pub tipped: u64,
    pub epochs: usize,
    pub transactions: usize,
    pub tips_per_transaction: f64,
    pub tabs_per_transaction: f64,
    pub transaction_bytes_mean: f64,
    pub transaction_bytes_max: usize,
    /// Fees of the settlement transactions, lamports.
    pub fee_lamports: u64,
    pub fee_lamports_per_tip: f64,
    pub payees: Vec<PayeePayout>,
    /// Every payee's balance equals what it is owed.
    pub payouts_match: bool,
}

struct Landed {
    fee: u64,
    bytes: usize,
}

async fn landed(rpc: &RpcClient, signature: Signature) -> anyhow::Result<Landed> {
    let config = RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
    };
    let tx = rpc
        .get_transaction_with_config(&signature, config)
        .await
        .with_context(|| format!("fetching settlement {signature}"))?;
    let meta = tx.transaction.meta.context("transaction without status")?;
    if let Some(error) = meta.err {
        bail!("settlement {signature} recorded by the relayer failed on chain: {error:?}");
    }
    let decoded = tx
        .transaction
        .transaction
        .decode()
        .context("undecodable transaction")?;
    Ok(Landed {
        fee: meta.fee,
        bytes: bincode::serialized_size(&decoded)? as usize,
    })
}

/// Builds the report of everything `store` settled for payee token accounts `payees`.
pub async fn settlement_report(
    store: &dyn Store,
    rpc: &RpcClient,
    fee_bps: u16,
    payees: &[Pubkey],
) -> anyhow::Result<SettlementReport> {
    let settled = store.all_settled().await?;
    let mut by_tx: BTreeMap<Signature, Vec<_>> = BTreeMap::new();
    for epoch in &settled {
        let tx = epoch.settle_tx.with_context(|| {
            format!(
                "settled epoch {} of {} has no transaction",
                epoch.epoch(),
                epoch.tab()
            )
        })?;
        by_tx.entry(tx).or_default().push(epoch);
    }
    let landed: Vec<Landed> = stream::iter(by_tx.keys().copied())
        .map(|tx| landed(rpc, tx))
        .buffered(16)
        .try_collect()
        .await?;

    let mut gross: HashMap<Pubkey, u64> = HashMap::new();
    let mut expected: HashMap<Pubkey, u64> = HashMap::new();
    for epochs in by_tx.values() {
        let mut credits: HashMap<Pubkey, u64> = HashMap::new();
        for epoch in epochs {
            for (payee, amount) in &epoch.signed.state.entries {
                *credits.entry(*payee).or_default() += amount;
            }
        }
        for (payee, credit) in credits {
            let fee = u128::from(credit) * u128::from(fee_bps) / 10_000;
            *gross.entry(payee).or_default() += credit;
            *expected.entry(payee).or_default() += credit - fee as u64;
        }
    }
    let mut payouts = Vec::with_capacity(payees.len());
    for payee in payees {
        let on_chain = accounts::token_account(rpc, payee)
            .await?
            .with_context(|| format!("payee account {payee} is gone"))?
            .amount;
        payouts.push(PayeePayout {
            payee: payee.to_string(),
            gross: gross.get(payee).copied().unwrap_or(0),
            expected: expected.get(payee).copied().unwrap_or(0),
            on_chain,
        });
    }
    let tips: u64 = settled.iter().map(|e| u64::from(e.signed.state.seq)).sum();
    let transactions = by_tx.len();
    let per_tx = |x: f64| {
        if transactions == 0 {
            0.0
        } else {
            x / transactions as f64
        }
    };
    let fee_lamports: u64 = landed.iter().map(|l| l.fee).sum();
    Ok(SettlementReport {
        tips,
        tipped: settled.iter().map(|e| e.signed.state.total).sum(),
        epochs: settled.len(),
        transactions,
        tips_per_transaction: per_tx(tips as f64),
        tabs_per_transaction: per_tx(settled.len() as f64),
        transaction_bytes_mean: per_tx(landed.iter().map(|l| l.bytes as f64).sum()),
        transaction_bytes_max: landed.iter().map(|l| l.bytes).max().unwrap_or(0),
        fee_lamports,
        fee_lamports_per_tip: if tips == 0 {
            0.0
        } else {
            fee_lamports as f64 / tips as f64
        },
        payouts_match: payouts.iter().all(|p| p.expected == p.on_chain),
        payees: payouts,
    })
}
