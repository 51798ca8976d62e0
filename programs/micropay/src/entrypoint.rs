//! The entrypoint: checks the program id and dispatches on the 8-byte discriminator.

use micropay_interface::{instruction as ix, MicropayError};
use pinocchio::{
    default_allocator, error::ProgramError, nostd_panic_handler, program_entrypoint, AccountView,
    Address, ProgramResult,
};

use crate::processor::*;

program_entrypoint!(process_instruction, 64);
default_allocator!();
nostd_panic_handler!();

pub fn process_instruction(
    program_id: &Address,
    accounts: &mut [AccountView],
    data: &[u8],
) -> ProgramResult {
    if program_id != &micropay_interface::ID {
        return Err(ProgramError::IncorrectProgramId);
    }
    if data.len() < 8 {
        return Err(MicropayError::InvalidInstruction.into());
    }
    let (discriminator, args) = data.split_at(8);
    let discriminator: [u8; 8] = discriminator.try_into().expect("8 bytes");
    match discriminator {
        ix::INIT_CONFIG => init_config::process(accounts, args),
        ix::UPDATE_CONFIG => update_config::process(accounts, args),
        ix::OPEN_TAB => open_tab::process(accounts, args),
        ix::DEPOSIT => deposit::process(accounts, args),
        ix::ADD_SIGNER => add_signer::process(accounts, args),
        ix::REMOVE_SIGNER => remove_signer::process(accounts, args),
        ix::REQUEST_WITHDRAW => request_withdraw::process(accounts, args),
        ix::WITHDRAW => withdraw::process(accounts, args, withdraw::Mode::Withdraw),
        ix::CLOSE_TAB => withdraw::process(accounts, args, withdraw::Mode::Close),
        ix::SETTLE => settle::process(accounts, args),
        ix::CLAIM_CREDIT => claim_credit::process(accounts, args),
        ix::COLLECT_FEES => collect_fees::process(accounts, args),
        _ => Err(MicropayError::InvalidInstruction.into()),
    }
}
