//! `add_signer`: registers a session key in a stream slot, or raises a live key's cap
//! or expiry (they can only grow while it is live). The key's states settle until
//! `valid_until = expiry + withdrawal delay`, fixed here, so the sequencer's receipts
//! stay good for the delay after the key stops being used.
//!
//! Accounts: owner (signer), config, tab (writable). Args: `AddSignerArgs`.

use micropay_interface::{
    event::SignerAdded,
    instruction::{fixed_args, AddSignerArgs},
    state::{I64, KEY_KIND_ED25519, U16, U32, U64},
    MicropayError, MAX_SLOTS,
};
use micropay_protocol::ed25519::is_acceptable_key;
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
    let args: AddSignerArgs = *fixed_args(args)?;
    let index = args.slot as usize;
    if index == 0 || index >= MAX_SLOTS {
        return Err(MicropayError::BadSlot.into());
    }
    if !is_acceptable_key(args.key.as_array()) {
        return Err(MicropayError::BadKey.into());
    }
    let now = now()?;
    let expires_at = args.expires_at.get();
    if expires_at <= now {
        return Err(MicropayError::SignerExpired.into());
    }
    let config_key = *config_account.address();
    let config = config(config_account)?;
    let delay = config.params_at(now).withdrawal_delay.get();
    let valid_until = expires_at
        .checked_add(delay)
        .ok_or(MicropayError::Overflow)?;
    let tab_key = *tab_account.address();
    let mut tab = owned_tab_mut(tab_account, &config_key, owner)?;

    let duplicate = tab
        .slots
        .iter()
        .enumerate()
        .any(|(other, slot)| other != index && slot.is_valid(now) && slot.key == args.key);
    if duplicate {
        return Err(MicropayError::DuplicateKey.into());
    }
    let slot = &mut tab.slots[index];
    if slot.is_valid(now) {
        if slot.key != args.key || !slot.is_live(now) {
            return Err(MicropayError::SlotInUse.into());
        }
        if args.cap.get() < slot.cap.get() || expires_at < slot.expires_at.get() {
            return Err(MicropayError::CannotLower.into());
        }
        slot.cap = args.cap;
        slot.expires_at = args.expires_at;
        slot.valid_until = I64::new(valid_until.max(slot.valid_until.get()));
    } else {
        // A new key, or a slot reused after its old key's validity ended: the epoch
        // keeps counting so no old state can apply to the new key.
        slot.key = args.key;
        slot.key_kind = KEY_KIND_ED25519;
        slot.expires_at = args.expires_at;
        slot.valid_until = I64::new(valid_until);
        slot.cap = args.cap;
        slot.spent = U64::new(0);
        slot.last_seq = U32::new(0);
        slot.last_count = U16::new(0);
        slot.last_total = U64::new(0);
        slot.last_entries_hash = [0; 32];
        slot.last_settled_at = I64::new(0);
    }
    let (cap, expires_at, valid_until) = (slot.cap, slot.expires_at, slot.valid_until);
    emit(&SignerAdded {
        tab: tab_key,
        slot: args.slot,
        key: args.key,
        expires_at,
        cap,
        valid_until,
    });
    Ok(())
}
