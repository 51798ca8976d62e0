use anchor_lang::prelude::*;
use micropay_protocol::seeds;

use crate::{
    errors::MicropayError,
    events::SignerRemoved,
    state::{SessionSigner, Tab},
};

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveSigner<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [seeds::TAB, tab.config.as_ref(), owner.key().as_ref()],
        bump = tab.bump,
        has_one = owner @ MicropayError::WrongTab,
    )]
    pub tab: Account<'info, Tab>,
}

impl RemoveSigner<'_> {
    pub fn handle(ctx: Context<Self>, signer: Pubkey) -> Result<()> {
        let tab = &mut ctx.accounts.tab;
        let slot = tab
            .signers
            .iter_mut()
            .find(|s| !s.is_empty() && s.key == signer)
            .ok_or(MicropayError::SignerNotFound)?;
        *slot = SessionSigner::default();
        emit_cpi!(SignerRemoved {
            tab: ctx.accounts.tab.key(),
            signer,
        });
        Ok(())
    }
}
