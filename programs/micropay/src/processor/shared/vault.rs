//! The vault: one token account per config, owned by the vault authority PDA. Every
//! payout out of it goes through `Vault::pay`.

use micropay_interface::{seeds, state::Config, MicropayError, ID};
use pinocchio::{
    cpi::{Seed, Signer},
    AccountView, Address, ProgramResult,
};
use pinocchio_token::instructions::TransferChecked;

use super::accounts::require_writable;

pub struct Vault<'a> {
    pub vault: &'a AccountView,
    pub authority: &'a AccountView,
    pub mint: &'a AccountView,
    pub token_program: &'a AccountView,
    config: &'a Address,
    authority_bump: u8,
    decimals: u8,
}

impl<'a> Vault<'a> {
    /// Checks the vault, its authority, the mint and the token program against the
    /// config at `config_address`.
    #[inline(always)]
    pub fn new(
        config_address: &'a Address,
        config: &Config,
        vault: &'a AccountView,
        authority: &'a AccountView,
        mint: &'a AccountView,
        token_program: &'a AccountView,
    ) -> Result<Self, pinocchio::error::ProgramError> {
        if vault.address() != &vault_address(config_address, config.vault_bump) {
            return Err(MicropayError::WrongVault.into());
        }
        require_writable(vault)?;
        if authority.address()
            != &vault_authority_address(config_address, config.vault_authority_bump)
        {
            return Err(MicropayError::WrongPda.into());
        }
        if mint.address() != &config.mint {
            return Err(MicropayError::WrongMint.into());
        }
        if token_program.address() != &config.token_program {
            return Err(MicropayError::WrongTokenProgram.into());
        }
        Ok(Self {
            vault,
            authority,
            mint,
            token_program,
            config: config_address,
            authority_bump: config.vault_authority_bump,
            decimals: config.decimals,
        })
    }

    /// Transfers `amount` from the vault to `destination`.
    #[inline(never)]
    pub fn pay(&self, destination: &AccountView, amount: u64) -> ProgramResult {
        let bump = [self.authority_bump];
        let seeds = [
            Seed::from(seeds::VAULT_AUTHORITY),
            Seed::from(self.config.as_ref()),
            Seed::from(&bump),
        ];
        TransferChecked::new(
            self.vault,
            self.mint,
            destination,
            self.authority,
            amount,
            self.decimals,
        )
        .invoke_signed_with_program(&[Signer::from(&seeds)], self.token_program.address())
    }
}

pub fn vault_address(config: &Address, bump: u8) -> Address {
    Address::derive_address(&[seeds::VAULT, config.as_ref()], Some(bump), &ID)
}

pub fn vault_authority_address(config: &Address, bump: u8) -> Address {
    Address::derive_address(&[seeds::VAULT_AUTHORITY, config.as_ref()], Some(bump), &ID)
}
