//! `deposit`: anyone may add tokens to a tab. The tab is credited with what the vault
//! received, so a Token-2022 transfer fee is never counted as escrow.
//!
//! Accounts: depositor (signer), config, tab (writable), mint, source (writable),
//! vault (writable), token_program. Args: `AmountArgs`.

use micropay_interface::{
    event::Deposited,
    instruction::{fixed_args, AmountArgs},
    state::U64,
    MicropayError,
};
use pinocchio::{AccountView, ProgramResult};
use pinocchio_token::instructions::TransferChecked;

use super::shared::{
    accounts::{config, require_signer, tab_mut},
    checked_add,
    event::emit,
    token,
    vault::vault_address,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], args: &[u8]) -> ProgramResult {
    let [depositor, config_account, tab_account, mint, source, vault, token_program, ..] = accounts
    else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    let amount = fixed_args::<AmountArgs>(args)?.amount.get();
    if amount == 0 {
        return Err(MicropayError::ZeroAmount.into());
    }
    require_signer(depositor)?;
    let config_key = *config_account.address();
    let config = config(config_account)?;
    if mint.address() != &config.mint {
        return Err(MicropayError::WrongMint.into());
    }
    if token_program.address() != &config.token_program {
        return Err(MicropayError::WrongTokenProgram.into());
    }
    if vault.address() != &vault_address(&config_key, config.vault_bump) {
        return Err(MicropayError::WrongVault.into());
    }
    if source.address() == vault.address() {
        return Err(MicropayError::DuplicateAccount.into());
    }
    // Checked before moving tokens so that a wrong tab fails without a transfer.
    drop(tab_mut(tab_account, &config_key)?);

    let before = token::amount(vault, &config.token_program)?;
    TransferChecked::new(source, mint, vault, depositor, amount, config.decimals)
        .invoke_with_program(token_program.address())?;
    let received = token::amount(vault, &config.token_program)?
        .checked_sub(before)
        .ok_or(MicropayError::Overflow)?;

    let tab_key = *tab_account.address();
    let mut tab = tab_mut(tab_account, &config_key)?;
    let balance = checked_add(tab.balance.get(), received)?;
    tab.balance = U64::new(balance);
    emit(&Deposited {
        tab: tab_key,
        amount: U64::new(received),
        balance: U64::new(balance),
    });
    Ok(())
}
