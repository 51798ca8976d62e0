//! "Create or adopt": every PDA is created even when someone pre-funded its address
//! with lamports, which would make a plain `CreateAccount` fail.

use micropay_interface::{MicropayError, SYSTEM_PROGRAM_ID};
use pinocchio::{
    cpi::{Seed, Signer},
    error::ProgramError,
    sysvars::{rent::Rent, Sysvar},
    AccountView, Address, ProgramResult,
};
use pinocchio_system::instructions::{Allocate, Assign, CreateAccount, Transfer};

/// An account to create: `space` bytes owned by `owner`, paid by `payer`; `seeds`
/// sign for a PDA (empty when `account` signed the transaction itself).
pub struct NewAccount<'a, 'b> {
    pub payer: &'a AccountView,
    pub account: &'a AccountView,
    pub space: usize,
    pub owner: &'a Address,
    pub seeds: &'b [Seed<'b>],
}

/// Creates `new.account`, adopting it if someone pre-funded its address. (One struct
/// argument: SBF passes at most five arguments in registers.)
#[inline(never)]
pub fn create_or_adopt(new: &NewAccount) -> ProgramResult {
    let NewAccount {
        payer,
        account,
        space,
        owner,
        seeds,
    } = *new;
    let rent = Rent::get()?.try_minimum_balance(space)?;
    let pda_signer = [Signer::from(seeds)];
    let signer: &[Signer] = if seeds.is_empty() { &[] } else { &pda_signer };
    if account.lamports() == 0 {
        return CreateAccount {
            from: payer,
            to: account,
            lamports: rent,
            space: space as u64,
            owner,
        }
        .invoke_signed(signer);
    }
    if !account.owned_by(&SYSTEM_PROGRAM_ID) || !account.is_data_empty() {
        return Err(ProgramError::AccountAlreadyInitialized);
    }
    let shortfall = rent.saturating_sub(account.lamports());
    if shortfall > 0 {
        Transfer {
            from: payer,
            to: account,
            lamports: shortfall,
        }
        .invoke()?;
    }
    Allocate {
        account,
        space: space as u64,
    }
    .invoke_signed(signer)?;
    Assign { account, owner }.invoke_signed(signer)
}

pub fn require_system_program(account: &AccountView) -> ProgramResult {
    if account.address() == &SYSTEM_PROGRAM_ID {
        Ok(())
    } else {
        Err(MicropayError::WrongSystemProgram.into())
    }
}
