use anchor_lang::prelude::*;
use micropay_protocol::seeds;

use crate::{
    errors::MicropayError,
    events::WithdrawalRequested,
    state::{Config, Tab},
};

#[event_cpi]
#[derive(Accounts)]
pub struct RequestWithdraw<'info> {
    pub owner: Signer<'info>,
    pub config: Account<'info, Config>,
    #[account(
        mut,
        seeds = [seeds::TAB, config.key().as_ref(), owner.key().as_ref()],
        bump = tab.bump,
        has_one = owner @ MicropayError::WrongTab,
        has_one = config @ MicropayError::WrongTab,
    )]
    pub tab: Account<'info, Tab>,
}

impl RequestWithdraw<'_> {
    /// Starts (or restarts, replacing an earlier request) the withdrawal delay. Until it
    /// ends, payees can still settle states the owner signed; the withdrawal then pays out
    /// whatever of `amount` is left.
    pub fn handle(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, MicropayError::ZeroAmount);
        let now = Clock::get()?.unix_timestamp;
        let unlock_at = now
            .checked_add(ctx.accounts.config.withdrawal_delay)
            .ok_or(MicropayError::Overflow)?;
        let tab = &mut ctx.accounts.tab;
        require!(amount <= tab.balance, MicropayError::InsufficientBalance);
        tab.pending_withdrawal = amount;
        tab.withdraw_unlock_at = unlock_at;
        emit_cpi!(WithdrawalRequested {
            tab: ctx.accounts.tab.key(),
            amount,
            unlock_at,
        });
        Ok(())
    }
}
