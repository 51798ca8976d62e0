use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::{errors::MicropayError, events::ConfigUpdated, state::Config};

/// Fields left `None` keep their value.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub fee_bps: Option<u16>,
    pub withdrawal_delay: Option<i64>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ MicropayError::ConfigMismatch)]
    pub config: Account<'info, Config>,
    /// The fee destination from now on (pass the current one to keep it).
    #[account(
        token::mint = config.mint,
        token::token_program = config.token_program,
        constraint = fee_destination.key() != config.vault @ MicropayError::ConfigMismatch,
    )]
    pub fee_destination: InterfaceAccount<'info, TokenAccount>,
}

impl UpdateConfig<'_> {
    pub fn handle(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        if let Some(fee_bps) = args.fee_bps {
            Config::check_fee(fee_bps)?;
        }
        if let Some(delay) = args.withdrawal_delay {
            Config::check_withdrawal_delay(delay)?;
        }
        let fee_destination = ctx.accounts.fee_destination.key();
        let config = &mut ctx.accounts.config;
        if let Some(admin) = args.new_admin {
            config.admin = admin;
        }
        if let Some(fee_bps) = args.fee_bps {
            config.fee_bps = fee_bps;
        }
        if let Some(delay) = args.withdrawal_delay {
            config.withdrawal_delay = delay;
        }
        config.fee_destination = fee_destination;
        let config = &ctx.accounts.config;
        emit_cpi!(ConfigUpdated::new(config.key(), config));
        Ok(())
    }
}
