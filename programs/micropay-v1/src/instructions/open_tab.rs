use anchor_lang::prelude::*;
use micropay_protocol::seeds;

use crate::{
    errors::MicropayError,
    events::TabOpened,
    state::{Config, SessionSigner, Tab, MAX_SESSION_SIGNERS},
};

#[event_cpi]
#[derive(Accounts)]
pub struct OpenTab<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut)]
    pub config: Account<'info, Config>,
    #[account(
        init,
        payer = owner,
        space = 8 + Tab::INIT_SPACE,
        seeds = [seeds::TAB, config.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub tab: Account<'info, Tab>,
    pub system_program: Program<'info, System>,
}

impl OpenTab<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let incarnation = config.tabs_opened;
        config.tabs_opened = incarnation.checked_add(1).ok_or(MicropayError::Overflow)?;
        ctx.accounts.tab.set_inner(Tab {
            config: config.key(),
            owner: ctx.accounts.owner.key(),
            incarnation,
            epoch: 0,
            balance: 0,
            pending_withdrawal: 0,
            withdraw_unlock_at: 0,
            settled_total: 0,
            signers: [SessionSigner::default(); MAX_SESSION_SIGNERS],
            bump: ctx.bumps.tab,
        });
        emit_cpi!(TabOpened {
            config: ctx.accounts.config.key(),
            tab: ctx.accounts.tab.key(),
            owner: ctx.accounts.owner.key(),
            incarnation,
        });
        Ok(())
    }
}
