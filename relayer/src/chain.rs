//! Chain access behind one narrow trait, implemented over JSON-RPC with the nonblocking
//! `solana-client`, and the decoding of the program's accounts.

use std::sync::Arc;

use async_trait::async_trait;
use micropay_interface::state::{AccountLayout, Config, Tab};
use solana_client::{
    nonblocking::rpc_client::RpcClient,
    rpc_config::{RpcAccountInfoConfig, RpcSimulateTransactionConfig, UiAccountEncoding},
    rpc_request::MAX_MULTIPLE_ACCOUNTS,
};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_sdk::{
    account::Account,
    hash::Hash,
    pubkey::Pubkey,
    signature::Signature,
    transaction::{TransactionError, VersionedTransaction},
};

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("rpc: {0}")]
    Rpc(String),
}

pub type ChainResult<T> = Result<T, ChainError>;

/// What a simulation said about a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simulation {
    pub error: Option<TransactionError>,
    pub units_consumed: Option<u64>,
    pub logs: Vec<String>,
}

/// The confirmation state of a sent transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// Not seen (yet, or ever: its blockhash may have expired).
    Unknown,
    /// Landed at confirmed commitment, successfully or not.
    Landed(Option<TransactionError>),
}

#[async_trait]
pub trait Chain: Send + Sync + 'static {
    async fn accounts(&self, keys: &[Pubkey]) -> ChainResult<Vec<Option<Account>>>;
    /// A recent blockhash and the last block height at which it is valid.
    async fn latest_blockhash(&self) -> ChainResult<(Hash, u64)>;
    async fn block_height(&self) -> ChainResult<u64>;
    async fn slot(&self) -> ChainResult<u64>;
    /// The newest finalized (rooted) slot.
    async fn rooted_slot(&self) -> ChainResult<u64>;
    /// The cluster's clock (unix seconds), as the program will read it.
    async fn unix_time(&self) -> ChainResult<i64>;
    async fn simulate(&self, tx: &VersionedTransaction) -> ChainResult<Simulation>;
    async fn send(&self, tx: &VersionedTransaction) -> ChainResult<Signature>;
    async fn statuses(&self, signatures: &[Signature]) -> ChainResult<Vec<TxStatus>>;
    /// The cluster's genesis hash: it names the network (CAIP-2) in x402 messages.
    async fn genesis_hash(&self) -> ChainResult<Hash>;
}

/// A program account of type `T`, if `account` holds one.
pub fn decode<T: AccountLayout + Copy>(account: Option<&Account>) -> Option<T> {
    let account = account?;
    if account.owner != micropay_interface::ID {
        return None;
    }
    T::view(&account.data).copied()
}

pub fn decode_tab(account: Option<&Account>) -> Option<Tab> {
    decode(account)
}

pub fn decode_config(account: Option<&Account>) -> Option<Config> {
    decode(account)
}

pub struct RpcChain {
    client: Arc<RpcClient>,
}

impl RpcChain {
    pub fn new(url: &str) -> Self {
        Self {
            client: Arc::new(RpcClient::new_with_commitment(
                url.to_string(),
                CommitmentConfig::confirmed(),
            )),
        }
    }
}

fn rpc<E: std::fmt::Display>(error: E) -> ChainError {
    ChainError::Rpc(error.to_string())
}

#[async_trait]
impl Chain for RpcChain {
    async fn accounts(&self, keys: &[Pubkey]) -> ChainResult<Vec<Option<Account>>> {
        // Plain base64, not the client's default zstd: the accounts read are a few
        // hundred bytes, and a zstd decoder set up per account cost intake more CPU
        // than the rest of the read.
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.client.commitment()),
            data_slice: None,
            min_context_slot: None,
        };
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_MULTIPLE_ACCOUNTS) {
            let accounts = self
                .client
                .get_multiple_ui_accounts_with_config(chunk, config.clone())
                .await
                .map_err(rpc)?
                .value;
            for account in accounts {
                out.push(match account {
                    Some(account) => Some(account.to_account().ok_or_else(|| {
                        ChainError::Rpc("an account's data did not decode".into())
                    })?),
                    None => None,
                });
            }
        }
        Ok(out)
    }

    async fn latest_blockhash(&self) -> ChainResult<(Hash, u64)> {
        self.client
            .get_latest_blockhash_with_commitment(CommitmentConfig::confirmed())
            .await
            .map_err(rpc)
    }

    async fn block_height(&self) -> ChainResult<u64> {
        self.client.get_block_height().await.map_err(rpc)
    }

    async fn slot(&self) -> ChainResult<u64> {
        self.client.get_slot().await.map_err(rpc)
    }

    async fn genesis_hash(&self) -> ChainResult<Hash> {
        self.client.get_genesis_hash().await.map_err(rpc)
    }

    async fn rooted_slot(&self) -> ChainResult<u64> {
        self.client
            .get_slot_with_commitment(CommitmentConfig::finalized())
            .await
            .map_err(rpc)
    }

    async fn unix_time(&self) -> ChainResult<i64> {
        let clock = self
            .accounts(&[solana_sdk::sysvar::clock::ID])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| ChainError::Rpc("the clock sysvar is missing".into()))?;
        let clock: solana_sdk::clock::Clock = bincode::deserialize(&clock.data).map_err(rpc)?;
        Ok(clock.unix_timestamp)
    }

    async fn simulate(&self, tx: &VersionedTransaction) -> ChainResult<Simulation> {
        let result = self
            .client
            .simulate_transaction_with_config(
                tx,
                RpcSimulateTransactionConfig {
                    sig_verify: true,
                    commitment: Some(CommitmentConfig::confirmed()),
                    ..RpcSimulateTransactionConfig::default()
                },
            )
            .await
            .map_err(rpc)?
            .value;
        Ok(Simulation {
            error: result.err.map(Into::into),
            units_consumed: result.units_consumed,
            logs: result.logs.unwrap_or_default(),
        })
    }

    async fn send(&self, tx: &VersionedTransaction) -> ChainResult<Signature> {
        self.client
            .send_transaction_with_config(
                tx,
                RpcSendTransactionConfig {
                    // Preflight at the commitment the blockhash was read at: the RPC node
                    // then forwards at once. Without it, a node holds a transaction whose
                    // blockhash its root bank does not know yet (seen: 8-13 s on a local
                    // validator, where the root lags confirmed by ~32 slots).
                    skip_preflight: false,
                    preflight_commitment: Some(CommitmentConfig::confirmed().commitment),
                    ..RpcSendTransactionConfig::default()
                },
            )
            .await
            .map_err(rpc)
    }

    async fn statuses(&self, signatures: &[Signature]) -> ChainResult<Vec<TxStatus>> {
        let mut out = Vec::with_capacity(signatures.len());
        for chunk in signatures.chunks(256) {
            let statuses = self
                .client
                .get_signature_statuses(chunk)
                .await
                .map_err(rpc)?
                .value;
            out.extend(statuses.into_iter().map(|status| match status {
                Some(status) if status.satisfies_commitment(CommitmentConfig::confirmed()) => {
                    TxStatus::Landed(status.err)
                }
                _ => TxStatus::Unknown,
            }));
        }
        Ok(out)
    }
}
