//! `claim_credit`: a payee wallet takes what it was credited, to any token account of
//! the mint, and the credit's rent goes back to whoever paid it.
//!
//! Accounts: wallet (signer), config, credit (writable), vault (writable),
//! vault_authority, mint, destination (writable), token_program, rent_payer (writable).

use micropay_interface::{event::CreditClaimed, state::U64, MicropayError};
use pinocchio::{AccountView, ProgramResult};

use super::shared::{
    accounts::{config, credit, require_signer, require_writable},
    checked_add,
    event::emit,
    vault::Vault,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], _args: &[u8]) -> ProgramResult {
    let [wallet, config_account, credit_account, vault, vault_authority, mint, destination, token_program, rent_payer, ..] =
        accounts
    else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    require_signer(wallet)?;
    require_writable(credit_account)?;
    require_writable(rent_payer)?;
    let config_key = *config_account.address();
    let config = config(config_account)?;
    let vault = Vault::new(
        &config_key,
        &config,
        vault,
        vault_authority,
        mint,
        token_program,
    )?;
    if destination.address() == vault.vault.address() {
        return Err(MicropayError::DuplicateAccount.into());
    }
    let amount = {
        let credit = credit(credit_account)?;
        if credit.config != config_key {
            return Err(MicropayError::ConfigMismatch.into());
        }
        if &credit.wallet != wallet.address() {
            return Err(MicropayError::WrongCredit.into());
        }
        if &credit.rent_payer != rent_payer.address() {
            return Err(MicropayError::WrongRentPayer.into());
        }
        credit.amount.get()
    };
    if amount == 0 {
        return Err(MicropayError::NoCredit.into());
    }
    vault.pay(destination, amount)?;
    let rent = credit_account.lamports();
    rent_payer.set_lamports(checked_add(rent_payer.lamports(), rent)?);
    credit_account.set_lamports(0);
    credit_account.close()?;
    emit(&CreditClaimed {
        wallet: *wallet.address(),
        amount: U64::new(amount),
    });
    Ok(())
}
