//! Events, emitted through `emit_cpi!` so that they are recorded as inner instructions
//! (reliable to index, unlike truncatable logs).
use anchor_lang::prelude::*;

use crate::state::Config;

#[event]
pub struct ConfigUpdated {
    pub config: Pubkey,
    pub admin: Pubkey,
    pub fee_bps: u16,
    pub fee_destination: Pubkey,
    pub withdrawal_delay: i64,
}

impl ConfigUpdated {
    pub fn new(key: Pubkey, config: &Config) -> Self {
        Self {
            config: key,
            admin: config.admin,
            fee_bps: config.fee_bps,
            fee_destination: config.fee_destination,
            withdrawal_delay: config.withdrawal_delay,
        }
    }
}

#[event]
pub struct TabOpened {
    pub config: Pubkey,
    pub tab: Pubkey,
    pub owner: Pubkey,
    pub incarnation: u64,
}

#[event]
pub struct Deposited {
    pub tab: Pubkey,
    pub depositor: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

#[event]
pub struct SignerAdded {
    pub tab: Pubkey,
    pub signer: Pubkey,
    pub expires_at: i64,
    pub cap: u64,
}

#[event]
pub struct SignerRemoved {
    pub tab: Pubkey,
    pub signer: Pubkey,
}

/// One per tab settled: the epoch's signed total left the tab.
#[event]
pub struct TabSettled {
    pub tab: Pubkey,
    pub incarnation: u64,
    pub epoch: u64,
    pub seq: u32,
    pub total: u64,
    pub signer: Pubkey,
    pub balance: u64,
}

/// One per payee credited in a settlement, after netting across tabs.
#[event]
pub struct PayeePaid {
    pub config: Pubkey,
    pub payee: Pubkey,
    pub gross: u64,
    pub fee: u64,
}

#[event]
pub struct WithdrawalRequested {
    pub tab: Pubkey,
    pub amount: u64,
    pub unlock_at: i64,
}

#[event]
pub struct Withdrawn {
    pub tab: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

#[event]
pub struct TabClosed {
    pub tab: Pubkey,
    pub incarnation: u64,
}
