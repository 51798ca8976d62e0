//! `update_config`: the admin schedules new parameters; they take effect after a
//! notice period no shorter than the withdrawal delay in force (or the new one, if
//! longer), so payers and payees can leave or settle first.
//!
//! Accounts: admin (signer), config (writable). Args: `Params`.

use micropay_interface::{
    event::ConfigUpdateScheduled,
    instruction::{fixed_args, ConfigArgs},
    state::{Params, I64},
    MicropayError, MAX_FEE_BPS, MAX_WITHDRAWAL_DELAY, MIN_TOP_UP_WINDOW, MIN_WITHDRAWAL_DELAY,
};
use micropay_protocol::ed25519::is_acceptable_key;
use pinocchio::{error::ProgramError, AccountView, ProgramResult};

use super::shared::{
    accounts::{config_mut, require_signer},
    event::emit,
    now,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], args: &[u8]) -> ProgramResult {
    let [admin, config_account, ..] = accounts else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    let params: ConfigArgs = *fixed_args(args)?;
    require_signer(admin)?;
    validate_params(&params)?;
    let now = now()?;
    let config_key = *config_account.address();
    let mut config = config_mut(config_account)?;
    if &config.admin != admin.address() {
        return Err(MicropayError::NotAdmin.into());
    }
    // Fold in a change that is already due, keeping its outgoing sequencer's notice.
    let due = config.pending_effective_at.get();
    if due != 0 && now >= due {
        let outgoing = config.params.sequencer;
        let until = due
            .checked_add(config.pending.withdrawal_delay.get())
            .ok_or(ProgramError::from(MicropayError::Overflow))?;
        config.params = config.pending;
        if outgoing != config.params.sequencer {
            config.outgoing_sequencer = outgoing;
            config.outgoing_sequencer_until = I64::new(until);
        }
    }
    let notice = config
        .params
        .withdrawal_delay
        .get()
        .max(params.withdrawal_delay.get());
    let effective_at = now
        .checked_add(notice)
        .ok_or(ProgramError::from(MicropayError::Overflow))?;
    config.pending = params;
    config.pending_effective_at = I64::new(effective_at);
    emit(&ConfigUpdateScheduled {
        config: config_key,
        effective_at: I64::new(effective_at),
    });
    Ok(())
}

/// The bounds every config's parameters keep.
pub fn validate_params(params: &Params) -> ProgramResult {
    if params.fee_bps.get() > MAX_FEE_BPS {
        return Err(MicropayError::FeeTooHigh.into());
    }
    let delay = params.withdrawal_delay.get();
    if !(MIN_WITHDRAWAL_DELAY..=MAX_WITHDRAWAL_DELAY).contains(&delay) {
        return Err(MicropayError::BadWithdrawalDelay.into());
    }
    let window = params.top_up_window.get();
    if window < MIN_TOP_UP_WINDOW || window > delay / 2 {
        return Err(MicropayError::BadTopUpWindow.into());
    }
    if !is_acceptable_key(params.sequencer.as_array()) {
        return Err(MicropayError::BadKey.into());
    }
    Ok(())
}
