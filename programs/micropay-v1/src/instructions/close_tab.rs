use anchor_lang::prelude::*;
use micropay_protocol::seeds;

use crate::{errors::MicropayError, events::TabClosed, state::Tab};

/// Closes an empty tab and returns its rent. Opening it again gives a new incarnation,
/// so nothing signed for this life of the tab can settle against the next one.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseTab<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(
        mut,
        close = owner,
        seeds = [seeds::TAB, tab.config.as_ref(), owner.key().as_ref()],
        bump = tab.bump,
        has_one = owner @ MicropayError::WrongTab,
        constraint = tab.balance == 0 && tab.pending_withdrawal == 0 @ MicropayError::TabNotEmpty,
    )]
    pub tab: Account<'info, Tab>,
}

impl CloseTab<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        emit_cpi!(TabClosed {
            tab: ctx.accounts.tab.key(),
            incarnation: ctx.accounts.tab.incarnation,
        });
        Ok(())
    }
}
