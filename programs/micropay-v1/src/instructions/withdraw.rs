use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use micropay_protocol::seeds;

use crate::{
    errors::MicropayError,
    events::Withdrawn,
    state::{Config, Tab},
    vault::Vault,
};

#[event_cpi]
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    #[account(
        has_one = mint @ MicropayError::ConfigMismatch,
        has_one = vault @ MicropayError::ConfigMismatch,
        has_one = token_program @ MicropayError::ConfigMismatch,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [seeds::TAB, config.key().as_ref(), owner.key().as_ref()],
        bump = tab.bump,
        has_one = owner @ MicropayError::WrongTab,
        has_one = config @ MicropayError::WrongTab,
    )]
    pub tab: Box<Account<'info, Tab>>,
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: PDA that signs for the vault.
    #[account(seeds = [seeds::VAULT_AUTHORITY, config.key().as_ref()], bump = config.vault_authority_bump)]
    pub vault_authority: UncheckedAccount<'info>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// Any token account of the mint: the owner chooses where its money goes. (Anchor
    /// refuses the vault here as a duplicate mutable account.)
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Withdraw<'_> {
    /// Pays out the pending withdrawal once its delay has passed, capped at what the tab
    /// still holds after any settlements made during the delay.
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let tab = &mut accounts.tab;
        require!(
            tab.pending_withdrawal > 0,
            MicropayError::NoPendingWithdrawal
        );
        require!(
            now >= tab.withdraw_unlock_at,
            MicropayError::WithdrawalLocked
        );
        let amount = tab.pending_withdrawal.min(tab.balance);
        tab.balance -= amount;
        tab.pending_withdrawal = 0;
        tab.withdraw_unlock_at = 0;
        Vault {
            config: accounts.config.key(),
            authority_bump: accounts.config.vault_authority_bump,
            vault: &accounts.vault,
            authority: &accounts.vault_authority,
            mint: &accounts.mint,
            token_program: &accounts.token_program,
        }
        .pay(accounts.destination.to_account_info(), amount)?;
        emit_cpi!(Withdrawn {
            tab: ctx.accounts.tab.key(),
            amount,
            balance: ctx.accounts.tab.balance,
        });
        Ok(())
    }
}
