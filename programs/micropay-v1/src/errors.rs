use anchor_lang::prelude::*;
use micropay_protocol::ProtocolError;

#[error_code]
pub enum MicropayError {
    #[msg("relayer fee is above the maximum")]
    FeeTooHigh,
    #[msg("withdrawal delay is outside the allowed range")]
    BadWithdrawalDelay,
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    #[msg("arithmetic overflow")]
    Overflow,
    #[msg("tab balance is too low")]
    InsufficientBalance,
    #[msg("tab still holds funds or a pending withdrawal")]
    TabNotEmpty,
    #[msg("no withdrawal is pending")]
    NoPendingWithdrawal,
    #[msg("withdrawal delay has not elapsed")]
    WithdrawalLocked,
    #[msg("session signer expiry is in the past")]
    SignerExpired,
    #[msg("tab has no free session signer slot")]
    SignerSlotsFull,
    #[msg("session signer is not registered on this tab")]
    SignerNotFound,
    #[msg("session signer cannot be the zero key")]
    InvalidSigner,
    #[msg("no items to settle")]
    EmptySettlement,
    #[msg("too many items or payees in one settlement")]
    TooManyItems,
    #[msg("the instruction before settle is not the ed25519 precompile")]
    MissingPrecompile,
    #[msg("precompile data is not in micropay's canonical layout")]
    BadPrecompileLayout,
    #[msg("precompile signature count differs from the settle items")]
    SignatureCountMismatch,
    #[msg("signed message is not a micropay tab state")]
    BadMessage,
    #[msg("account is not a tab of this config")]
    WrongTab,
    #[msg("signed state is for another tab")]
    TabMismatch,
    #[msg("signed state is for another incarnation of the tab")]
    IncarnationMismatch,
    #[msg("signed state is not for the tab's current epoch")]
    StaleEpoch,
    #[msg("signer is neither the tab owner nor a live session signer")]
    UnauthorizedSigner,
    #[msg("session signer's spending cap would be exceeded")]
    SessionCapExceeded,
    #[msg("entries do not match the signed entries hash")]
    EntriesHashMismatch,
    #[msg("entries total does not match the signed total")]
    TotalMismatch,
    #[msg("entry count does not match the signed count")]
    CountMismatch,
    #[msg("entries are not strictly sorted by payee")]
    EntriesNotSorted,
    #[msg("payee index is out of range")]
    BadPayeeIndex,
    #[msg("payee account is not a token account of the config's mint")]
    BadPayeeAccount,
    #[msg("an account appears twice")]
    DuplicateAccount,
    #[msg("account must be writable")]
    AccountNotWritable,
    #[msg("account is not the config's")]
    ConfigMismatch,
}

impl MicropayError {
    /// Every variant in declaration order, so clients can name a custom error code.
    pub const ALL: [Self; 33] = [
        Self::FeeTooHigh,
        Self::BadWithdrawalDelay,
        Self::ZeroAmount,
        Self::Overflow,
        Self::InsufficientBalance,
        Self::TabNotEmpty,
        Self::NoPendingWithdrawal,
        Self::WithdrawalLocked,
        Self::SignerExpired,
        Self::SignerSlotsFull,
        Self::SignerNotFound,
        Self::InvalidSigner,
        Self::EmptySettlement,
        Self::TooManyItems,
        Self::MissingPrecompile,
        Self::BadPrecompileLayout,
        Self::SignatureCountMismatch,
        Self::BadMessage,
        Self::WrongTab,
        Self::TabMismatch,
        Self::IncarnationMismatch,
        Self::StaleEpoch,
        Self::UnauthorizedSigner,
        Self::SessionCapExceeded,
        Self::EntriesHashMismatch,
        Self::TotalMismatch,
        Self::CountMismatch,
        Self::EntriesNotSorted,
        Self::BadPayeeIndex,
        Self::BadPayeeAccount,
        Self::DuplicateAccount,
        Self::AccountNotWritable,
        Self::ConfigMismatch,
    ];

    /// The error a program's custom error code stands for.
    pub fn from_code(code: u32) -> Option<Self> {
        let index = code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET)?;
        Self::ALL.get(usize::try_from(index).ok()?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_code_in_order() {
        for (index, error) in MicropayError::ALL.iter().enumerate() {
            let code = u32::from(*error);
            assert_eq!(code, anchor_lang::error::ERROR_CODE_OFFSET + index as u32);
            assert_eq!(MicropayError::from_code(code).map(u32::from), Some(code));
        }
        let past_the_end = anchor_lang::error::ERROR_CODE_OFFSET + MicropayError::ALL.len() as u32;
        assert!(MicropayError::from_code(past_the_end).is_none());
    }
}

impl From<ProtocolError> for MicropayError {
    fn from(error: ProtocolError) -> Self {
        match error {
            ProtocolError::BadMessageLength | ProtocolError::BadMagic => Self::BadMessage,
            ProtocolError::EntriesNotSorted => Self::EntriesNotSorted,
            ProtocolError::ZeroAmount => Self::ZeroAmount,
            ProtocolError::Overflow => Self::Overflow,
            ProtocolError::TooManyEntries => Self::TooManyItems,
            ProtocolError::BadSignatureCount => Self::SignatureCountMismatch,
            ProtocolError::BadPrecompileLayout => Self::BadPrecompileLayout,
        }
    }
}
