//! The program built for the host and registered natively in a Solana runtime (see
//! TOOLCHAIN notes in the README: the SBF toolchain is not available everywhere).

use anchor_lang::{prelude::AccountInfo, solana_program::entrypoint::ProgramResult};
use solana_program_test::{processor, ProgramTest};
use solana_sdk::pubkey::Pubkey;

/// Anchor's generated `entry` ties every lifetime to a single `'info`, which the native
/// processor's fully general signature cannot name. Erasing the distinction is sound:
/// the runtime's account infos and their data outlive this call, which is all `'info`
/// promises.
pub fn process_instruction(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> ProgramResult {
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    micropay::entry(program_id, accounts, data)
}

/// A `ProgramTest` with the program registered natively.
pub fn program_test() -> ProgramTest {
    let mut test = ProgramTest::new("micropay", micropay::ID, processor!(process_instruction));
    test.prefer_bpf(false);
    test
}
