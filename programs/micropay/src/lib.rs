//! micropay: escrowed tabs that pay creators through batched settlement of
//! off-chain signed micropayment states. See the repository README for the protocol.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;
mod verification;

pub use instructions::*;

declare_id!("6YuTSm4uRcePFLaQywfqZEC1C9qMK52AkSmcmnhsXu6G");

#[program]
pub mod micropay {
    use super::*;

    pub fn init_config(ctx: Context<InitConfig>, args: InitConfigArgs) -> Result<()> {
        instructions::init_config::handler(ctx, args)
    }

    pub fn update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
        instructions::update_config::handler(ctx, args)
    }

    pub fn open_tab(ctx: Context<OpenTab>) -> Result<()> {
        instructions::open_tab::handler(ctx)
    }

    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::deposit::handler(ctx, amount)
    }

    pub fn add_signer(ctx: Context<AddSigner>, args: AddSignerArgs) -> Result<()> {
        instructions::add_signer::handler(ctx, args)
    }

    pub fn remove_signer(ctx: Context<RemoveSigner>, signer: Pubkey) -> Result<()> {
        instructions::remove_signer::handler(ctx, signer)
    }

    pub fn settle<'info>(
        ctx: Context<'info, Settle<'info>>,
        items: Vec<micropay_protocol::SettleItem>,
    ) -> Result<()> {
        instructions::settle::handler(ctx, items)
    }

    pub fn request_withdraw(ctx: Context<RequestWithdraw>, amount: u64) -> Result<()> {
        instructions::request_withdraw::handler(ctx, amount)
    }

    pub fn withdraw(ctx: Context<Withdraw>) -> Result<()> {
        instructions::withdraw::handler(ctx)
    }

    pub fn close_tab(ctx: Context<CloseTab>) -> Result<()> {
        instructions::close_tab::handler(ctx)
    }
}
