use anchor_lang::prelude::*;
use micropay_protocol::seeds;

use crate::{
    errors::MicropayError,
    events::SignerAdded,
    state::{SessionSigner, Tab},
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct AddSignerArgs {
    pub signer: Pubkey,
    /// Unix time after which the key can no longer authorize settlements.
    pub expires_at: i64,
    /// Most this key may ever spend from the tab.
    pub cap: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct AddSigner<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [seeds::TAB, tab.config.as_ref(), owner.key().as_ref()],
        bump = tab.bump,
        has_one = owner @ MicropayError::WrongTab,
    )]
    pub tab: Account<'info, Tab>,
}

impl AddSigner<'_> {
    /// Registers a session key, or replaces an existing registration of the same key
    /// (which resets what it has spent).
    pub fn handle(ctx: Context<Self>, args: AddSignerArgs) -> Result<()> {
        require!(
            args.signer != Pubkey::default(),
            MicropayError::InvalidSigner
        );
        let now = Clock::get()?.unix_timestamp;
        require!(args.expires_at > now, MicropayError::SignerExpired);
        let tab = &mut ctx.accounts.tab;
        let slot = match tab.signers.iter().position(|s| s.key == args.signer) {
            Some(existing) => existing,
            // Expired keys can no longer sign, so their slots are free for reuse.
            None => tab
                .signers
                .iter()
                .position(|s| s.is_empty() || s.expires_at <= now)
                .ok_or(MicropayError::SignerSlotsFull)?,
        };
        tab.signers[slot] = SessionSigner {
            key: args.signer,
            expires_at: args.expires_at,
            cap: args.cap,
            spent: 0,
        };
        emit_cpi!(SignerAdded {
            tab: ctx.accounts.tab.key(),
            signer: args.signer,
            expires_at: args.expires_at,
            cap: args.cap,
        });
        Ok(())
    }
}
