//! What settled, read the way an outsider would: from the relayer's HTTP API its
//! status, its settlement transactions and the receipts naming each payee; from the
//! chain every settlement transaction (fee, size, accounts, compute units) and every
//! payee's token balance and credit, which must equal what its settled states owe it
//! net of the fee each signed.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context};
use futures::{stream, StreamExt, TryStreamExt};
use micropay_api::{SettlementStatus, StreamStatus};
use micropay_client::{accounts, interface::client as builders, relayer::RelayerClient};
use micropay_protocol::{fee::fee, StreamState};
use serde::Serialize;
use solana_client::{nonblocking::rpc_client::RpcClient, rpc_config::RpcTransactionConfig};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiTransactionEncoding,
};

use crate::Deployment;

/// What one transfer per tip would cost: one signature.
pub const DIRECT_TRANSFER_FEE: u64 = 5_000;

#[derive(Clone, Debug, Serialize)]
pub struct PayeePayout {
    pub wallet: String,
    /// What the settled states name it for.
    pub gross: u64,
    /// Net of the fee each state signed (capped by the config's).
    pub expected: u64,
    /// Its associated token account's balance plus any credit.
    pub on_chain: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SettlementReport {
    /// Tips in the settled states (the sum of their seqs).
    pub tips: u64,
    /// Their total, base units.
    pub tipped: u64,
    /// Stream epochs settled.
    pub streams: usize,
    /// Epochs still open or closed, not settled (zero once everything settled).
    pub unsettled: usize,
    pub transactions: usize,
    pub tips_per_transaction: f64,
    pub streams_per_transaction: f64,
    pub streams_per_transaction_max: usize,
    pub transaction_bytes_mean: f64,
    pub transaction_bytes_max: usize,
    pub accounts_max: usize,
    pub compute_units_per_stream: f64,
    pub compute_units_max: u64,
    /// Fees of the settlement transactions, lamports.
    pub fee_lamports: u64,
    /// The rent held by the lookup tables those transactions used: the sequencer's,
    /// returned when the relayer retires the tables.
    pub table_rent_lamports: u64,
    pub fee_lamports_per_tip: f64,
    pub payees: Vec<PayeePayout>,
    /// Every payee holds exactly what it is owed.
    pub payouts_match: bool,
}

/// A stream epoch: tab, incarnation, slot, epoch.
pub type EpochId = (Pubkey, u64, u8, u64);

/// The newest receipt of each stream epoch naming any of `payees`: its state, status
/// and settlement transaction.
pub struct Receipts {
    pub epochs: BTreeMap<EpochId, (StreamState, StreamStatus, Option<String>)>,
}

impl Receipts {
    pub async fn fetch(relayer: &RelayerClient, payees: &[Pubkey]) -> anyhow::Result<Self> {
        let pages: Vec<Vec<micropay_api::PayeeReceipt>> = stream::iter(payees)
            .map(|wallet| relayer.every_payee_receipt(wallet))
            .buffered(16)
            .try_collect()
            .await?;
        let mut epochs = BTreeMap::new();
        for receipt in pages.into_iter().flatten() {
            let state = receipt
                .receipt
                .signed
                .state
                .to_state()
                .context("a receipt from the relayer")?;
            let key = (state.tab, state.incarnation, state.slot, state.epoch);
            epochs.insert(key, (state, receipt.status, receipt.settle_tx));
        }
        Ok(Self { epochs })
    }
}

/// Waits until the relayer reports no stream epoch pending.
pub async fn wait_settled(
    relayer: &RelayerClient,
    timeout: std::time::Duration,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let unsettled = relayer.status().await?.pending_epochs;
        if unsettled == 0 {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!("{unsettled} stream epochs still unsettled after {timeout:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

struct Landed {
    fee: u64,
    tables: Vec<Pubkey>,
    bytes: usize,
    accounts: usize,
    compute_units: u64,
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
        bail!("settlement {signature} failed on chain: {error:?}");
    }
    let decoded = tx
        .transaction
        .transaction
        .decode()
        .context("undecodable transaction")?;
    let loaded = match &meta.loaded_addresses {
        OptionSerializer::Some(loaded) => loaded.writable.len() + loaded.readonly.len(),
        _ => 0,
    };
    let compute_units = match meta.compute_units_consumed {
        OptionSerializer::Some(units) => units,
        _ => 0,
    };
    let tables = decoded
        .message
        .address_table_lookups()
        .unwrap_or_default()
        .iter()
        .map(|lookup| lookup.account_key)
        .collect();
    Ok(Landed {
        fee: meta.fee,
        tables,
        bytes: bincode::serialized_size(&decoded)? as usize,
        accounts: decoded.message.static_account_keys().len() + loaded,
        compute_units,
    })
}

/// The report of everything settled for `payees` (wallets) of `deployment`.
pub async fn settlement_report(
    relayer: &RelayerClient,
    rpc: &RpcClient,
    deployment: &Deployment,
    payees: &[Pubkey],
) -> anyhow::Result<SettlementReport> {
    let receipts = Receipts::fetch(relayer, payees).await?;
    let status = relayer.status().await?;
    let mut by_tx: BTreeMap<Signature, usize> = BTreeMap::new();
    for settlement in relayer.every_settlement().await? {
        if settlement.status == SettlementStatus::Landed {
            by_tx.insert(settlement.signature.parse()?, settlement.streams as usize);
        }
    }
    let config_fee = deployment.params.fee_bps.get();
    let mut gross: HashMap<Pubkey, u64> = HashMap::new();
    let mut expected: HashMap<Pubkey, u64> = HashMap::new();
    let (mut tips, mut tipped, mut streams) = (0u64, 0u64, 0usize);
    for (state, status, tx) in receipts.epochs.values() {
        if *status != StreamStatus::Settled {
            continue;
        }
        let tx: Signature = tx
            .as_deref()
            .with_context(|| {
                format!(
                    "settled epoch {} of {} has no transaction",
                    state.epoch, state.tab
                )
            })?
            .parse()?;
        if !by_tx.contains_key(&tx) {
            bail!(
                "settled epoch {} of {} names {tx}, which the relayer does not report landed",
                state.epoch,
                state.tab
            );
        }
        streams += 1;
        tips += u64::from(state.seq);
        tipped += state.total();
        for (payee, amount) in &state.entries {
            *gross.entry(*payee).or_default() += amount;
            *expected.entry(*payee).or_default() +=
                amount - fee(*amount, state.fee_bps, config_fee);
        }
    }
    let landed: Vec<Landed> = stream::iter(by_tx.keys().copied())
        .map(|tx| landed(rpc, tx))
        .buffered(16)
        .try_collect()
        .await?;

    let mut payouts = Vec::with_capacity(payees.len());
    for wallet in payees {
        let account =
            builders::associated_token_address(wallet, &deployment.mint, &spl_token_interface::ID);
        let held = accounts::token_account(rpc, &account)
            .await?
            .map_or(0, |a| a.amount);
        let credit = accounts::credit(rpc, &builders::credit_address(&deployment.config, wallet))
            .await?
            .map_or(0, |c| c.amount.get());
        payouts.push(PayeePayout {
            wallet: wallet.to_string(),
            gross: gross.get(wallet).copied().unwrap_or(0),
            expected: expected.get(wallet).copied().unwrap_or(0),
            on_chain: held + credit,
        });
    }
    let transactions = by_tx.len();
    let per = |x: f64, n: usize| if n == 0 { 0.0 } else { x / n as f64 };
    let fee_lamports: u64 = landed.iter().map(|l| l.fee).sum();
    let mut tables: Vec<Pubkey> = landed
        .iter()
        .flat_map(|l| l.tables.iter().copied())
        .collect();
    tables.sort();
    tables.dedup();
    let table_rent_lamports: u64 = accounts::multiple(rpc, &tables)
        .await?
        .iter()
        .flatten()
        .map(|a| a.lamports)
        .sum();
    Ok(SettlementReport {
        tips,
        tipped,
        streams,
        unsettled: status.pending_epochs as usize,
        transactions,
        tips_per_transaction: per(tips as f64, transactions),
        streams_per_transaction: per(streams as f64, transactions),
        streams_per_transaction_max: by_tx.values().copied().max().unwrap_or(0),
        transaction_bytes_mean: per(landed.iter().map(|l| l.bytes as f64).sum(), transactions),
        transaction_bytes_max: landed.iter().map(|l| l.bytes).max().unwrap_or(0),
        accounts_max: landed.iter().map(|l| l.accounts).max().unwrap_or(0),
        compute_units_per_stream: per(landed.iter().map(|l| l.compute_units as f64).sum(), streams),
        compute_units_max: landed.iter().map(|l| l.compute_units).max().unwrap_or(0),
        fee_lamports,
        table_rent_lamports,
        fee_lamports_per_tip: per(fee_lamports as f64, tips as usize),
        payouts_match: payouts.iter().all(|p| p.expected == p.on_chain),
        payees: payouts,
    })
}
