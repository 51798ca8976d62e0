//! `withdraw` and `close_tab`: once the delay has passed and no stream's last
//! settlement can still be topped up, pay the owner `min(requested, balance)`, or for
//! `close_tab` the whole balance (so a stranger's dust deposit cannot block closing),
//! then close the tab and return its rent.
//!
//! Accounts: owner (signer, writable for close), config, tab (writable), vault
//! (writable), vault_authority, mint, destination (writable), token_program.

use micropay_interface::{
    event::{TabClosed, Withdrawn},
    state::{I64, U64},
    MicropayError,
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::{
    accounts::{config, owned_tab_mut, require_writable},
    checked_add, checked_sub,
    event::emit,
    now,
    vault::Vault,
};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Withdraw,
    Close,
}

#[inline(never)]
pub fn process(accounts: &mut [AccountView], _args: &[u8], mode: Mode) -> ProgramResult {
    let [owner, config_account, tab_account, vault, vault_authority, mint, destination, token_program, ..] =
        accounts
    else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
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
    let now = now()?;
    let params = config.params_at(now);
    let tab_key = *tab_account.address();
    let (amount, balance) = {
        let mut tab = owned_tab_mut(tab_account, &config_key, owner)?;
        let requested_at = tab.withdraw_requested_at.get();
        if requested_at == 0 {
            return Err(MicropayError::NoPendingWithdrawal.into());
        }
        if now < checked_add_time(requested_at, params.withdrawal_delay.get())? {
            return Err(MicropayError::WithdrawalLocked.into());
        }
        if tab.any_top_up_window_open(now, params.top_up_window.get()) {
            return Err(MicropayError::TopUpWindowOpen.into());
        }
        let balance = tab.balance.get();
        let amount = match mode {
            Mode::Withdraw => tab.withdraw_amount.get().min(balance),
            Mode::Close => balance,
        };
        let remaining = checked_sub(balance, amount)?;
        tab.balance = U64::new(remaining);
        tab.withdraw_amount = U64::new(0);
        tab.withdraw_requested_at = I64::new(0);
        (amount, remaining)
    };
    if amount > 0 {
        vault.pay(destination, amount)?;
    }
    match mode {
        Mode::Withdraw => emit(&Withdrawn {
            tab: tab_key,
            amount: U64::new(amount),
            balance: U64::new(balance),
        }),
        Mode::Close => {
            require_writable(owner)?;
            let rent = tab_account.lamports();
            owner.set_lamports(checked_add(owner.lamports(), rent)?);
            tab_account.set_lamports(0);
            tab_account.close()?;
            emit(&TabClosed {
                tab: tab_key,
                amount: U64::new(amount),
            });
        }
    }
    Ok(())
}

fn checked_add_time(at: i64, delay: i64) -> Result<i64, pinocchio::error::ProgramError> {
    at.checked_add(delay).ok_or(MicropayError::Overflow.into())
}
