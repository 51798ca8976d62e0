//! `open_tab`: a payer's tab, PDA `["tab", config, owner]`, with a fresh incarnation.
//! Slot 0 is the owner's own stream when the owner is an ed25519 key.
//!
//! Accounts: owner (signer, writable), config (writable), tab (writable), system_program.

use micropay_interface::{
    event::TabOpened,
    seeds,
    state::{AccountLayout, Tab, I64, KEY_KIND_ED25519, U64},
    MicropayError, ACCOUNT_VERSION, ID,
};
use micropay_protocol::ed25519::is_acceptable_key;
use pinocchio::{cpi::Seed, AccountView, Address, ProgramResult};

use super::shared::{
    accounts::{config_mut, require_signer, require_writable},
    checked_add,
    create::{create_or_adopt, require_system_program, NewAccount},
    event::emit,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], _args: &[u8]) -> ProgramResult {
    let [owner, config_account, tab_account, system_program, ..] = accounts else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    require_signer(owner)?;
    require_writable(owner)?;
    require_writable(tab_account)?;
    require_system_program(system_program)?;
    let config_key = *config_account.address();
    let (tab_key, bump) = Address::find_program_address(
        &[seeds::TAB, config_key.as_ref(), owner.address().as_ref()],
        &ID,
    );
    if tab_account.address() != &tab_key {
        return Err(MicropayError::WrongPda.into());
    }

    let incarnation = {
        let mut config = config_mut(config_account)?;
        let count = config.tab_count.get();
        config.tab_count = U64::new(checked_add(count, 1)?);
        incarnation(&config.deployment_id, count)
    };

    let bump_seed = [bump];
    create_or_adopt(&NewAccount {
        payer: owner,
        account: tab_account,
        space: Tab::LEN,
        owner: &ID,
        seeds: &[
            Seed::from(seeds::TAB),
            Seed::from(config_key.as_ref()),
            Seed::from(owner.address().as_ref()),
            Seed::from(&bump_seed),
        ],
    })?;
    let mut tab: Tab = bytemuck::Zeroable::zeroed();
    tab.discriminator = Tab::DISCRIMINATOR;
    tab.version = ACCOUNT_VERSION;
    tab.bump = bump;
    tab.config = config_key;
    tab.owner = *owner.address();
    tab.incarnation = U64::new(incarnation);
    if is_acceptable_key(owner.address().as_array()) {
        // The owner's stream never expires and has no cap of its own.
        let slot = &mut tab.slots[0];
        slot.key = *owner.address();
        slot.key_kind = KEY_KIND_ED25519;
        slot.expires_at = I64::new(i64::MAX);
        slot.valid_until = I64::new(i64::MAX);
        slot.cap = U64::new(u64::MAX);
    }
    tab_account
        .try_borrow_mut()?
        .copy_from_slice(bytemuck::bytes_of(&tab));
    emit(&TabOpened {
        tab: tab_key,
        owner: *owner.address(),
        incarnation: U64::new(incarnation),
    });
    Ok(())
}

/// A tab's incarnation: never reused within a config (the counter only grows), and
/// different on another cluster (the deployment id is a slot hash of this one).
fn incarnation(deployment_id: &[u8; 32], count: u64) -> u64 {
    let digest = solana_sha256_hasher::hashv(&[deployment_id, &count.to_le_bytes()]).to_bytes();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}
