//! Rules more than one instruction applies, each in one place.

pub mod accounts;
pub mod create;
pub mod event;
pub mod mint;
pub mod token;
pub mod vault;

use micropay_interface::MicropayError;
use pinocchio::{error::ProgramError, sysvars::clock::Clock, sysvars::Sysvar};

/// The cluster's unix time.
pub fn now() -> Result<i64, ProgramError> {
    Ok(Clock::get()?.unix_timestamp)
}

pub fn checked_add(a: u64, b: u64) -> Result<u64, ProgramError> {
    a.checked_add(b).ok_or(MicropayError::Overflow.into())
}

pub fn checked_sub(a: u64, b: u64) -> Result<u64, ProgramError> {
    a.checked_sub(b)
        .ok_or(MicropayError::InsufficientBalance.into())
}
