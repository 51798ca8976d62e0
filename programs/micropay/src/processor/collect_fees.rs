//! `collect_fees`: sweeps the fees settlements accrued to a token account owned by the
//! fee destination in force. Anyone may call it; a destination that cannot receive
//! only leaves the fees owed, it never blocks settlement.
//!
//! Accounts: config (writable), vault (writable), vault_authority, mint, destination
//! (writable), token_program.

use micropay_interface::{event::FeesCollected, state::U64, MicropayError};
use pinocchio::{AccountView, ProgramResult};

use super::shared::{
    accounts::{config, config_mut},
    event::emit,
    now, token,
    vault::Vault,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], _args: &[u8]) -> ProgramResult {
    let [config_account, vault, vault_authority, mint, destination, token_program, ..] = accounts
    else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    let config_key = *config_account.address();
    let config_copy = config(config_account)?;
    let vault = Vault::new(
        &config_key,
        &config_copy,
        vault,
        vault_authority,
        mint,
        token_program,
    )?;
    let fee_destination = config_copy.params_at(now()?).fee_destination;
    let receiver = token::read_token_account(destination, &config_copy.token_program)
        .filter(|account| account.owner == fee_destination && account.mint == config_copy.mint);
    if receiver.is_none() {
        return Err(MicropayError::WrongFeeDestination.into());
    }
    let amount = config_copy.fees_owed.get();
    if amount == 0 {
        return Err(MicropayError::NoFees.into());
    }
    config_mut(config_account)?.fees_owed = U64::new(0);
    vault.pay(destination, amount)?;
    emit(&FeesCollected {
        amount: U64::new(amount),
    });
    Ok(())
}
