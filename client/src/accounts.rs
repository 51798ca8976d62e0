//! Reading micropay and token accounts over JSON-RPC, with errors that say what is
//! missing.

use anchor_lang::AccountDeserialize;
use micropay::state::{Config, Tab};
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{program_pack::Pack, pubkey::Pubkey};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("RPC request failed: {0}")]
    Rpc(#[from] Box<solana_client::client_error::ClientError>),
    #[error("no {what} at {address}")]
    Missing { what: &'static str, address: Pubkey },
    #[error("{address} is not a {what}")]
    Invalid { what: &'static str, address: Pubkey },
}

async fn fetch(
    rpc: &RpcClient,
    address: &Pubkey,
) -> Result<Option<solana_sdk::account::Account>, AccountError> {
    Ok(rpc
        .get_account_with_commitment(address, rpc.commitment())
        .await
        .map_err(Box::new)?
        .value)
}

async fn anchor_account<T: AccountDeserialize>(
    rpc: &RpcClient,
    address: &Pubkey,
    what: &'static str,
) -> Result<Option<T>, AccountError> {
    match fetch(rpc, address).await? {
        None => Ok(None),
        Some(account) if account.owner != micropay::ID => Err(AccountError::Invalid {
            what,
            address: *address,
        }),
        Some(account) => T::try_deserialize(&mut account.data.as_slice())
            .map(Some)
            .map_err(|_| AccountError::Invalid {
                what,
                address: *address,
            }),
    }
}

/// The config (deployment) account at `address`.
pub async fn config(rpc: &RpcClient, address: &Pubkey) -> Result<Config, AccountError> {
    anchor_account(rpc, address, "micropay config")
        .await?
        .ok_or(AccountError::Missing {
            what: "micropay config",
            address: *address,
        })
}

/// The tab at `address`, or `None` if it is not open.
pub async fn tab(rpc: &RpcClient, address: &Pubkey) -> Result<Option<Tab>, AccountError> {
    anchor_account(rpc, address, "micropay tab").await
}

/// A token account (SPL Token or Token-2022; extensions ignored).
pub async fn token_account(
    rpc: &RpcClient,
    address: &Pubkey,
) -> Result<Option<spl_token_interface::state::Account>, AccountError> {
    token_state(rpc, address, "token account").await
}

/// The mint's decimals.
pub async fn mint_decimals(rpc: &RpcClient, mint: &Pubkey) -> Result<u8, AccountError> {
    const WHAT: &str = "token mint";
    let state: Option<spl_token_interface::state::Mint> = token_state(rpc, mint, WHAT).await?;
    state
        .map(|mint| mint.decimals)
        .ok_or(AccountError::Missing {
            what: WHAT,
            address: *mint,
        })
}

/// The base (pre-extension) state of an account owned by a token program.
async fn token_state<T: Pack>(
    rpc: &RpcClient,
    address: &Pubkey,
    what: &'static str,
) -> Result<Option<T>, AccountError> {
    let Some(account) = fetch(rpc, address).await? else {
        return Ok(None);
    };
    let invalid = || AccountError::Invalid {
        what,
        address: *address,
    };
    if !is_token_program(&account.owner) || account.data.len() < T::LEN {
        return Err(invalid());
    }
    T::unpack_from_slice(&account.data[..T::LEN])
        .map(Some)
        .map_err(|_| invalid())
}

pub fn is_token_program(program: &Pubkey) -> bool {
    *program == spl_token_interface::ID || *program == anchor_spl::token_2022::ID
}
