//! micropay: escrowed tabs that pay creators through batched settlement of
//! off-chain signed micropayment states. See the repository README for the protocol.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;
mod vault;
mod verification;

pub use instructions::*;

declare_id!("6YuTSm4uRcePFLaQywfqZEC1C9qMK52AkSmcmnhsXu6G");

#[program]
pub mod micropay {
    use super::*;

    pub fn init_config(ctx: Context<InitConfig>, args: InitConfigArgs) -> Result<()> {
        InitConfig::handle(ctx, args)
    }

    pub fn update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
        UpdateConfig::handle(ctx, args)
    }

    pub fn open_tab(ctx: Context<OpenTab>) -> Result<()> {
        OpenTab::handle(ctx)
    }

    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        Deposit::handle(ctx, amount)
    }

    pub fn add_signer(ctx: Context<AddSigner>, args: AddSignerArgs) -> Result<()> {
        AddSigner::handle(ctx, args)
    }

    pub fn remove_signer(ctx: Context<RemoveSigner>, signer: Pubkey) -> Result<()> {
        RemoveSigner::handle(ctx, signer)
    }

    pub fn settle<'info>(
        ctx: Context<'info, Settle<'info>>,
        items: Vec<micropay_protocol::SettleItem>,
    ) -> Result<()> {
        Settle::handle(ctx, items)
    }

    pub fn request_withdraw(ctx: Context<RequestWithdraw>, amount: u64) -> Result<()> {
        RequestWithdraw::handle(ctx, amount)
    }

    pub fn withdraw(ctx: Context<Withdraw>) -> Result<()> {
        Withdraw::handle(ctx)
    }

    pub fn close_tab(ctx: Context<CloseTab>) -> Result<()> {
        CloseTab::handle(ctx)
    }
}
