//! The one place settlement signatures are verified.
//!
//! Strategy: the ed25519 precompile instruction placed directly before `settle` has
//! verified every signature before any program ran; here we read that instruction back
//! through the instructions sysvar and accept it only in micropay's canonical layout,
//! so each (signer, message) pair we return is one the precompile checked.

use anchor_lang::prelude::*;
use micropay_protocol::precompile::{parse_precompile_data, VerifiedState, ED25519_PROGRAM_ID};
use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};

use crate::errors::MicropayError;

pub fn verified_states(instructions: &AccountInfo, count: usize) -> Result<Vec<VerifiedState>> {
    let current = load_current_index_checked(instructions)?;
    let previous = current
        .checked_sub(1)
        .ok_or(MicropayError::MissingPrecompile)?;
    let precompile = load_instruction_at_checked(usize::from(previous), instructions)?;
    require_keys_eq!(
        precompile.program_id,
        ED25519_PROGRAM_ID,
        MicropayError::MissingPrecompile
    );
    require!(
        precompile.accounts.is_empty(),
        MicropayError::BadPrecompileLayout
    );
    parse_precompile_data(&precompile.data, count).map_err(|e| error!(MicropayError::from(e)))
}
