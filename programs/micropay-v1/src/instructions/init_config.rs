use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use micropay_protocol::seeds;

use crate::{events::ConfigUpdated, state::Config};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct InitConfigArgs {
    pub fee_bps: u16,
    pub withdrawal_delay: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    /// A fresh keypair: the config's address binds signed states to this deployment.
    #[account(init, payer = admin, space = 8 + Config::INIT_SPACE)]
    pub config: Account<'info, Config>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(
        init,
        payer = admin,
        seeds = [seeds::VAULT, config.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = vault_authority,
        token::token_program = token_program,
    )]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    /// CHECK: signs for the vault; holds no data.
    #[account(seeds = [seeds::VAULT_AUTHORITY, config.key().as_ref()], bump)]
    pub vault_authority: UncheckedAccount<'info>,
    #[account(token::mint = mint, token::token_program = token_program)]
    pub fee_destination: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitConfig<'_> {
    pub fn handle(ctx: Context<Self>, args: InitConfigArgs) -> Result<()> {
        Config::check_fee(args.fee_bps)?;
        Config::check_withdrawal_delay(args.withdrawal_delay)?;
        let accounts = &mut *ctx.accounts;
        accounts.config.set_inner(Config {
            admin: accounts.admin.key(),
            mint: accounts.mint.key(),
            token_program: accounts.token_program.key(),
            vault: accounts.vault.key(),
            fee_destination: accounts.fee_destination.key(),
            fee_bps: args.fee_bps,
            withdrawal_delay: args.withdrawal_delay,
            tabs_opened: 0,
            vault_bump: ctx.bumps.vault,
            vault_authority_bump: ctx.bumps.vault_authority,
        });
        let config = &ctx.accounts.config;
        emit_cpi!(ConfigUpdated::new(config.key(), config));
        Ok(())
    }
}
