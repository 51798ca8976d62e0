//! Paying out of the pool vault, which only the vault authority PDA can sign for.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};
use micropay_protocol::seeds;

/// The accounts every payout from the vault needs.
pub struct Vault<'a, 'info> {
    pub config: Pubkey,
    pub authority_bump: u8,
    pub vault: &'a InterfaceAccount<'info, TokenAccount>,
    pub authority: &'a UncheckedAccount<'info>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    pub token_program: &'a Interface<'info, TokenInterface>,
}

impl<'info> Vault<'_, 'info> {
    /// Transfers `amount` (checked against the mint's decimals) to `to`; nothing for 0.
    pub fn pay(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let signer_seeds: &[&[u8]] = &[
            seeds::VAULT_AUTHORITY,
            self.config.as_ref(),
            &[self.authority_bump],
        ];
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: self.vault.to_account_info(),
                    mint: self.mint.to_account_info(),
                    to,
                    authority: self.authority.to_account_info(),
                },
                &[signer_seeds],
            ),
            amount,
            self.mint.decimals,
        )
    }
}
