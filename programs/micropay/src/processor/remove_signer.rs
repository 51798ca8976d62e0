//! `remove_signer`: the sequencer stops receipting the key at once; states it already
//! receipted still settle until `now + withdrawal delay` (or the key's earlier
//! validity end). Then the slot can be reused.
//!
//! Accounts: owner (signer), config, tab (writable). Args: `SlotArgs`.

use micropay_interface::{
    event::SignerRemoved,
    instruction::{fixed_args, SlotArgs},
    state::I64,
    MicropayError, MAX_SLOTS,
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
    let index = fixed_args::<SlotArgs>(args)?.slot as usize;
    if index == 0 || index >= MAX_SLOTS {
        return Err(MicropayError::BadSlot.into());
    }
    let now = now()?;
    let config_key = *config_account.address();
    let config = config(config_account)?;
    let delay = config.params_at(now).withdrawal_delay.get();
    let tab_key = *tab_account.address();
    let mut tab = owned_tab_mut(tab_account, &config_key, owner)?;
    let slot = &mut tab.slots[index];
    if !slot.is_valid(now) {
        return Err(MicropayError::SlotEmpty.into());
    }
    let valid_until = slot.valid_until.get().min(now.saturating_add(delay));
    slot.expires_at = I64::new(slot.expires_at.get().min(now));
    slot.valid_until = I64::new(valid_until);
    emit(&SignerRemoved {
        tab: tab_key,
        slot: index as u8,
        valid_until: I64::new(valid_until),
    });
    Ok(())
}
