use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use micropay_protocol::{check_entries, entries_hash, seeds, SettleItem};

use crate::{
    errors::MicropayError,
    events::{PayeePaid, TabSettled},
    state::{Config, Tab},
    vault::Vault,
    verification::verified_states,
};

/// Settles signed epoch states of several tabs at once. Permissionless: the signatures
/// are the authorization, whoever submits them.
///
/// Remaining accounts: the tabs (writable, item `i` settles tab `i`), then the payee
/// token accounts (writable, distinct) that entries name by index.
#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    #[account(
        has_one = mint @ MicropayError::ConfigMismatch,
        has_one = vault @ MicropayError::ConfigMismatch,
        has_one = token_program @ MicropayError::ConfigMismatch,
        has_one = fee_destination @ MicropayError::ConfigMismatch,
    )]
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: PDA that signs for the vault.
    #[account(seeds = [seeds::VAULT_AUTHORITY, config.key().as_ref()], bump = config.vault_authority_bump)]
    pub vault_authority: UncheckedAccount<'info>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut)]
    pub fee_destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    /// CHECK: the instructions sysvar, checked by address.
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
}

impl<'info> Settle<'info> {
    pub fn handle(ctx: Context<'info, Self>, items: Vec<SettleItem>) -> Result<()> {
        let tab_count = items.len();
        require!(tab_count > 0, MicropayError::EmptySettlement);
        let remaining = ctx.remaining_accounts;
        require!(remaining.len() >= tab_count, MicropayError::TooManyItems);
        let (tab_infos, payee_infos) = remaining.split_at(tab_count);
        require!(
            payee_infos.len() <= usize::from(u8::MAX) + 1,
            MicropayError::TooManyItems
        );
        require_distinct(remaining)?;
        for payee in payee_infos {
            check_payee(ctx.accounts, payee)?;
        }

        let states = verified_states(&ctx.accounts.instructions, tab_count)?;
        let config_key = ctx.accounts.config.key();
        let now = Clock::get()?.unix_timestamp;
        let mut credits = vec![0u64; payee_infos.len()];

        for ((item, tab_info), state) in items.iter().zip(tab_infos).zip(&states) {
            require!(tab_info.is_writable, MicropayError::AccountNotWritable);
            let mut tab = Account::<Tab>::try_from(tab_info)?;
            require_keys_eq!(tab.config, config_key, MicropayError::WrongTab);
            let message = &state.message;
            require_keys_eq!(message.tab, tab_info.key(), MicropayError::TabMismatch);
            require!(
                message.incarnation == tab.incarnation,
                MicropayError::IncarnationMismatch
            );
            require!(message.epoch == tab.epoch, MicropayError::StaleEpoch);
            require!(
                item.entries.len() == usize::from(message.count),
                MicropayError::CountMismatch
            );

            let entries = item
                .entries
                .iter()
                .map(|entry| {
                    let payee = payee_infos.get(usize::from(entry.payee_index))?;
                    Some((payee.key, entry.amount))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or(MicropayError::BadPayeeIndex)?;
            let total = check_entries(entries.iter().copied())
                .map_err(|e| error!(MicropayError::from(e)))?;
            require!(total == message.total, MicropayError::TotalMismatch);
            require!(
                entries_hash(entries.iter().copied()) == message.entries_hash,
                MicropayError::EntriesHashMismatch
            );

            tab.authorize(&state.signer, total, now)?;
            tab.settle_epoch(total)?;
            for entry in &item.entries {
                let credit = &mut credits[usize::from(entry.payee_index)];
                *credit = credit
                    .checked_add(entry.amount)
                    .ok_or(MicropayError::Overflow)?;
            }
            tab.exit(&crate::ID)?;
            emit_cpi!(TabSettled {
                tab: tab_info.key(),
                incarnation: tab.incarnation,
                epoch: message.epoch,
                seq: message.seq,
                total,
                signer: state.signer,
                balance: tab.balance,
            });
        }

        let accounts = &ctx.accounts;
        let config = &accounts.config;
        let vault = Vault {
            config: config_key,
            authority_bump: config.vault_authority_bump,
            vault: &accounts.vault,
            authority: &accounts.vault_authority,
            mint: &accounts.mint,
            token_program: &accounts.token_program,
        };
        let mut fees: u64 = 0;
        for (payee, gross) in payee_infos.iter().zip(credits) {
            if gross == 0 {
                continue;
            }
            let fee = config.fee_on(gross)?;
            vault.pay(payee.clone(), gross - fee)?;
            fees = fees.checked_add(fee).ok_or(MicropayError::Overflow)?;
            emit_cpi!(PayeePaid {
                config: config_key,
                payee: payee.key(),
                gross,
                fee,
            });
        }
        vault.pay(accounts.fee_destination.to_account_info(), fees)?;
        Ok(())
    }
}

/// Rejects any account given twice: a tab settled twice in one batch, or a payee
/// listed twice, would break the per-item checks and the netting.
fn require_distinct(accounts: &[AccountInfo]) -> Result<()> {
    for (i, account) in accounts.iter().enumerate() {
        require!(
            accounts[..i]
                .iter()
                .all(|earlier| earlier.key != account.key),
            MicropayError::DuplicateAccount
        );
    }
    Ok(())
}

/// A payee must be a writable token account of the config's mint and token program,
/// and never the vault itself (paying the vault would strand the money).
fn check_payee(accounts: &Settle, payee: &AccountInfo) -> Result<()> {
    require!(payee.is_writable, MicropayError::AccountNotWritable);
    require_keys_neq!(
        payee.key(),
        accounts.vault.key(),
        MicropayError::BadPayeeAccount
    );
    require_keys_eq!(
        *payee.owner,
        accounts.config.token_program,
        MicropayError::BadPayeeAccount
    );
    let data = payee.try_borrow_data()?;
    let token_account = TokenAccount::try_deserialize(&mut &data[..])
        .map_err(|_| error!(MicropayError::BadPayeeAccount))?;
    require_keys_eq!(
        token_account.mint,
        accounts.config.mint,
        MicropayError::BadPayeeAccount
    );
    Ok(())
}
