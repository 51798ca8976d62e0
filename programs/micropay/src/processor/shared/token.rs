//! Reading token accounts and walking Token-2022 extensions, for both token programs.

use micropay_interface::{MicropayError, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use pinocchio::{error::ProgramError, AccountView, Address};
use pinocchio_token_2022::state::ExtensionType;

/// The length of an SPL token account, and where Token-2022's extensions start.
const BASE_ACCOUNT_LEN: usize = 165;
const ACCOUNT_TYPE_MINT: u8 = 1;
const ACCOUNT_TYPE_ACCOUNT: u8 = 2;
const STATE_INITIALIZED: u8 = 1;
const STATE_FROZEN: u8 = 2;

pub fn is_token_program(address: &Address) -> bool {
    address == &TOKEN_PROGRAM_ID || address == &TOKEN_2022_PROGRAM_ID
}

/// Calls `visit(type, value)` for each Token-2022 extension after a base state, given
/// the account type byte that must precede them. Data of exactly `base_len` has none.
#[inline(always)]
pub fn for_each_extension<const BASE_LEN: usize, const ACCOUNT_TYPE: u8>(
    data: &[u8],
    mut visit: impl FnMut(u16, &[u8]) -> Result<(), ProgramError>,
) -> Result<(), ProgramError> {
    let (base_len, account_type) = (BASE_LEN, ACCOUNT_TYPE);
    if data.len() == base_len {
        return Ok(());
    }
    if data.len() <= BASE_ACCOUNT_LEN || data[BASE_ACCOUNT_LEN] != account_type {
        return Err(MicropayError::WrongAccountData.into());
    }
    let mut rest = &data[BASE_ACCOUNT_LEN + 1..];
    while rest.len() >= 4 {
        let kind = u16::from_le_bytes([rest[0], rest[1]]);
        let len = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        if kind == ExtensionType::Uninitialized as u16 {
            break;
        }
        let value = rest
            .get(4..4 + len)
            .ok_or(ProgramError::from(MicropayError::WrongAccountData))?;
        visit(kind, value)?;
        rest = &rest[4 + len..];
    }
    Ok(())
}

/// What the program needs to know of a token account.
#[derive(Clone, Copy)]
pub struct TokenAccount {
    pub mint: Address,
    pub owner: Address,
    pub amount: u64,
    /// Initialized and not frozen.
    pub can_receive: bool,
    pub memo_required: bool,
}

/// The token account at `account` if it is an initialized account of `token_program`.
pub fn read_token_account(account: &AccountView, token_program: &Address) -> Option<TokenAccount> {
    if !account.owned_by(token_program) || !is_token_program(token_program) {
        return None;
    }
    let data = account.try_borrow().ok()?;
    if data.len() < BASE_ACCOUNT_LEN || data.len() == 355 {
        // 355 bytes is a multisig, never a token account.
        return None;
    }
    let state = data[108];
    if state != STATE_INITIALIZED && state != STATE_FROZEN {
        return None;
    }
    let mut memo_required = false;
    if token_program == &TOKEN_2022_PROGRAM_ID {
        for_each_extension::<BASE_ACCOUNT_LEN, ACCOUNT_TYPE_ACCOUNT>(&data, |kind, value| {
            if kind == ExtensionType::MemoTransfer as u16 {
                memo_required = value.first() == Some(&1);
            }
            Ok(())
        })
        .ok()?;
    } else if data.len() != BASE_ACCOUNT_LEN {
        return None;
    }
    Some(TokenAccount {
        mint: Address::new_from_array(data[..32].try_into().ok()?),
        owner: Address::new_from_array(data[32..64].try_into().ok()?),
        amount: u64::from_le_bytes(data[64..72].try_into().ok()?),
        can_receive: state == STATE_INITIALIZED,
        memo_required,
    })
}

/// The amount held by the token account at `account`.
pub fn amount(account: &AccountView, token_program: &Address) -> Result<u64, ProgramError> {
    read_token_account(account, token_program)
        .map(|account| account.amount)
        .ok_or(MicropayError::WrongAccountData.into())
}

pub(super) const MINT_ACCOUNT_TYPE: u8 = ACCOUNT_TYPE_MINT;
