//! `request_withdraw`: the owner asks to withdraw `amount` (0 cancels). A new request
//! replaces the old one and restarts the delay.
//!
//! Accounts: owner (signer), config, tab (writable). Args: `AmountArgs`.

use micropay_interface::{
    event::WithdrawRequested,
    instruction::{fixed_args, AmountArgs},
    state::{I64, U64},
    MicropayError,
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::{
    accounts::{config, owned_tab_mut},
    event::emit,
    now,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], args: &[u8]) -> ProgramResult {
    let [owner, config_account, tab_account, ..] = accounts else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    let amount = fixed_args::<AmountArgs>(args)?.amount.get();
    let config_key = *config_account.address();
    let config = config(config_account)?;
    let now = now()?;
    let tab_key = *tab_account.address();
    let mut tab = owned_tab_mut(tab_account, &config_key, owner)?;
    let requested_at = if amount == 0 { 0 } else { now };
    tab.withdraw_amount = U64::new(amount);
    tab.withdraw_requested_at = I64::new(requested_at);
    emit(&WithdrawRequested {
        tab: tab_key,
        amount: U64::new(amount),
        available_at: I64::new(now.saturating_add(config.params_at(now).withdrawal_delay.get())),
    });
    Ok(())
}
