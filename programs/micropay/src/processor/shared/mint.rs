//! The mint allowlist: only mints whose extensions cannot move, hook, pause,
//! re-create or tax away the vault's tokens. The issuer's freeze authority is the one
//! power left.

use micropay_interface::{MicropayError, TOKEN_2022_PROGRAM_ID};
use pinocchio::{error::ProgramError, AccountView, Address};
use pinocchio_token_2022::state::ExtensionType;

use super::token::{for_each_extension, is_token_program, MINT_ACCOUNT_TYPE};

const MINT_LEN: usize = 82;

/// Checks `mint` (owned by `token_program`) and returns its decimals and the size a
/// token account of it needs.
pub fn check_mint(
    mint: &AccountView,
    token_program: &Address,
) -> Result<(u8, usize), ProgramError> {
    if !is_token_program(token_program) || !mint.owned_by(token_program) {
        return Err(MicropayError::WrongTokenProgram.into());
    }
    let data = mint.try_borrow()?;
    if data.len() < MINT_LEN || data[45] != 1 {
        return Err(MicropayError::WrongMint.into());
    }
    let decimals = data[44];
    let mut account_len = 165;
    if token_program != &TOKEN_2022_PROGRAM_ID {
        if data.len() != MINT_LEN {
            return Err(MicropayError::WrongMint.into());
        }
        return Ok((decimals, account_len));
    }
    for_each_extension::<MINT_LEN, MINT_ACCOUNT_TYPE>(&data, |kind, value| {
        if !extension_allowed(kind, value) {
            return Err(MicropayError::UnsupportedMint.into());
        }
        if kind == ExtensionType::TransferFeeConfig as u16 {
            // The vault needs room for its TransferFeeAmount extension.
            account_len = 165 + 1 + 4 + 8;
        }
        Ok(())
    })?;
    Ok((decimals, account_len))
}

fn extension_allowed(kind: u16, value: &[u8]) -> bool {
    const DISPLAY_ONLY: [ExtensionType; 8] = [
        ExtensionType::MetadataPointer,
        ExtensionType::TokenMetadata,
        ExtensionType::GroupPointer,
        ExtensionType::TokenGroup,
        ExtensionType::GroupMemberPointer,
        ExtensionType::TokenGroupMember,
        ExtensionType::InterestBearingConfig,
        ExtensionType::ScaledUiAmount,
    ];
    if DISPLAY_ONLY.iter().any(|allowed| *allowed as u16 == kind) {
        return true;
    }
    // A transfer fee only when no one can change it: the fee config authority (the
    // first 32 bytes, an optional non-zero key) must be unset.
    kind == ExtensionType::TransferFeeConfig as u16
        && value.len() >= 32
        && value[..32].iter().all(|&byte| byte == 0)
}
