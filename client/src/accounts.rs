//! Reading micropay and token accounts over JSON-RPC, with errors that say what is
//! missing.

use micropay_interface::{
    state::{AccountLayout, Config, Credit, Tab},
    TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID,
};
use solana_client::{nonblocking::rpc_client::RpcClient, rpc_request::MAX_MULTIPLE_ACCOUNTS};
use solana_sdk::{account::Account, program_pack::Pack, pubkey::Pubkey};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("RPC request failed: {0}")]
    Rpc(#[from] Box<solana_client::client_error::ClientError>),
    #[error("no {what} at {address}")]
    Missing { what: &'static str, address: Pubkey },
    #[error("{address} is not a {what}")]
    Invalid { what: &'static str, address: Pubkey },
}

async fn fetch(rpc: &RpcClient, address: &Pubkey) -> Result<Option<Account>, AccountError> {
    Ok(rpc
        .get_account_with_commitment(address, rpc.commitment())
        .await
        .map_err(Box::new)?
        .value)
}

/// The accounts at `keys`, in their order (`None` where there is none), read in as
/// many `getMultipleAccounts` requests as the RPC's cap of keys per request needs.
/// Each request is answered at its own slot.
pub async fn multiple(
    rpc: &RpcClient,
    keys: &[Pubkey],
) -> Result<Vec<Option<Account>>, AccountError> {
    let mut accounts = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_MULTIPLE_ACCOUNTS) {
        let read = rpc
            .get_multiple_accounts_with_commitment(chunk, rpc.commitment())
            .await
            .map_err(Box::new)?;
        accounts.extend(read.value);
    }
    Ok(accounts)
}

/// A program account of type `T` at `address`, or `None` if nothing is there.
async fn program_account<T: AccountLayout>(
    rpc: &RpcClient,
    address: &Pubkey,
    what: &'static str,
) -> Result<Option<T>, AccountError> {
    let Some(account) = fetch(rpc, address).await? else {
        return Ok(None);
    };
    let invalid = AccountError::Invalid {
        what,
        address: *address,
    };
    if account.owner != micropay_interface::ID {
        return Err(invalid);
    }
    T::view(&account.data).copied().map(Some).ok_or(invalid)
}

/// The config (deployment) account at `address`.
pub async fn config(rpc: &RpcClient, address: &Pubkey) -> Result<Config, AccountError> {
    const WHAT: &str = "micropay config";
    program_account(rpc, address, WHAT)
        .await?
        .ok_or(AccountError::Missing {
            what: WHAT,
            address: *address,
        })
}

/// The tab at `address`, or `None` if it is not open.
pub async fn tab(rpc: &RpcClient, address: &Pubkey) -> Result<Option<Tab>, AccountError> {
    program_account(rpc, address, "micropay tab").await
}

/// The credit at `address`, or `None` if nothing is owed.
pub async fn credit(rpc: &RpcClient, address: &Pubkey) -> Result<Option<Credit>, AccountError> {
    program_account(rpc, address, "micropay credit").await
}

/// A token account (SPL Token or Token-2022; extensions ignored), or `None`.
pub async fn token_account(
    rpc: &RpcClient,
    address: &Pubkey,
) -> Result<Option<spl_token_interface::state::Account>, AccountError> {
    token_state(rpc, address, "token account").await
}

/// A mint (its base state) and the token program that owns it.
pub async fn mint(
    rpc: &RpcClient,
    address: &Pubkey,
) -> Result<(spl_token_interface::state::Mint, Pubkey), AccountError> {
    const WHAT: &str = "token mint";
    let owner = fetch(rpc, address)
        .await?
        .ok_or(AccountError::Missing {
            what: WHAT,
            address: *address,
        })?
        .owner;
    let mint = token_state(rpc, address, WHAT)
        .await?
        .ok_or(AccountError::Missing {
            what: WHAT,
            address: *address,
        })?;
    Ok((mint, owner))
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
    *program == TOKEN_PROGRAM_ID || *program == TOKEN_2022_PROGRAM_ID
}

/// The cluster's clock, unix seconds: what the program compares deadlines with.
pub async fn cluster_time(rpc: &RpcClient) -> Result<i64, AccountError> {
    let clock = fetch(rpc, &solana_sdk::sysvar::clock::ID)
        .await?
        .ok_or(AccountError::Missing {
            what: "clock sysvar",
            address: solana_sdk::sysvar::clock::ID,
        })?;
    let clock: solana_sdk::clock::Clock =
        bincode::deserialize(&clock.data).map_err(|_| AccountError::Invalid {
            what: "clock sysvar",
            address: solana_sdk::sysvar::clock::ID,
        })?;
    Ok(clock.unix_timestamp)
}
