use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};
use micropay_protocol::seeds;

use crate::{
    errors::MicropayError,
    events::Deposited,
    state::{Config, Tab},
};

/// Anyone may fund a tab; only its owner can ever spend or withdraw it.
#[event_cpi]
#[derive(Accounts)]
pub struct Deposit<'info> {
    pub depositor: Signer<'info>,
    #[account(
        has_one = mint @ MicropayError::ConfigMismatch,
        has_one = vault @ MicropayError::ConfigMismatch,
        has_one = token_program @ MicropayError::ConfigMismatch,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [seeds::TAB, config.key().as_ref(), tab.owner.as_ref()],
        bump = tab.bump,
        has_one = config @ MicropayError::WrongTab,
    )]
    pub tab: Box<Account<'info, Tab>>,
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Deposit<'_> {
    pub fn handle(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, MicropayError::ZeroAmount);
        let accounts = &mut *ctx.accounts;
        let before = accounts.vault.amount;
        token_interface::transfer_checked(
            CpiContext::new(
                accounts.token_program.key(),
                TransferChecked {
                    from: accounts.source.to_account_info(),
                    mint: accounts.mint.to_account_info(),
                    to: accounts.vault.to_account_info(),
                    authority: accounts.depositor.to_account_info(),
                },
            ),
            amount,
            accounts.mint.decimals,
        )?;
        // Credit what the vault received, so a Token-2022 transfer fee cannot inflate a tab.
        accounts.vault.reload()?;
        let received = accounts
            .vault
            .amount
            .checked_sub(before)
            .ok_or(MicropayError::Overflow)?;
        let tab = &mut accounts.tab;
        tab.balance = tab
            .balance
            .checked_add(received)
            .ok_or(MicropayError::Overflow)?;
        emit_cpi!(Deposited {
            tab: ctx.accounts.tab.key(),
            depositor: ctx.accounts.depositor.key(),
            amount: received,
            balance: ctx.accounts.tab.balance,
        });
        Ok(())
    }
}
