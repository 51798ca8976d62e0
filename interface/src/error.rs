//! Every error the program returns, as `ProgramError::Custom(code)`. Codes start at
//! 6000 as Anchor's do and never change meaning.

use solana_program_error::ProgramError;

macro_rules! errors {
    ($($name:ident = $code:literal: $message:literal,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum MicropayError {
            $($name = $code,)*
        }

        impl MicropayError {
            /// Every variant, so clients can name a custom error code.
            pub const ALL: &'static [Self] = &[$(Self::$name,)*];

            pub const fn code(self) -> u32 {
                self as u32
            }

            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                }
            }

            pub const fn message(self) -> &'static str {
                match self {
                    $(Self::$name => $message,)*
                }
            }

            pub fn from_code(code: u32) -> Option<Self> {
                Self::ALL.iter().copied().find(|error| error.code() == code)
            }
        }
    };
}

errors! {
    InvalidInstruction = 6000: "instruction data is malformed",
    NotEnoughAccounts = 6001: "too few accounts for this instruction",
    WrongAccountOwner = 6002: "account is not owned by the expected program",
    WrongAccountData = 6003: "account data is not of the expected kind",
    MissingSignature = 6004: "a required signer did not sign",
    AccountNotWritable = 6005: "account must be writable",
    WrongPda = 6006: "account is not the expected program-derived address",
    ConfigMismatch = 6007: "account belongs to another config",
    WrongMint = 6008: "account is not of the config's mint",
    WrongTokenProgram = 6009: "token program is not the config's",
    WrongSystemProgram = 6010: "system program account is wrong",
    WrongVault = 6011: "account is not the config's vault",
    UnsupportedMint = 6012: "mint has an extension that could move, hook, pause or tax the vault's tokens",
    FeeTooHigh = 6013: "fee is above the maximum",
    BadWithdrawalDelay = 6014: "withdrawal delay is outside the allowed range",
    BadTopUpWindow = 6015: "top-up window is too short, or above half the withdrawal delay",
    ZeroAmount = 6016: "amount must be greater than zero",
    Overflow = 6017: "arithmetic overflow",
    InsufficientBalance = 6018: "tab balance is too low",
    NoPendingWithdrawal = 6019: "no withdrawal is pending",
    WithdrawalLocked = 6020: "the withdrawal delay has not passed",
    TopUpWindowOpen = 6021: "a settlement of this tab can still be topped up",
    BadKey = 6022: "key is not a canonical ed25519 point of large order",
    BadSlot = 6023: "stream slot is out of range or not a session slot",
    SlotInUse = 6024: "stream slot holds another key that is still valid",
    DuplicateKey = 6025: "key is already registered on this tab",
    SignerExpired = 6026: "session signer expiry is in the past",
    SignerNotLive = 6027: "session signer is removed or expired",
    CannotLower = 6028: "a live session's cap and expiry can only grow",
    EmptySettlement = 6029: "nothing to settle",
    TooManyItems = 6030: "too many items, payees or entries in one settlement",
    EmptyState = 6031: "signed state has no entries",
    WrongTab = 6032: "account is not a tab of this config",
    SlotEmpty = 6033: "stream slot has no key",
    SlotNoLongerValid = 6034: "stream slot's key is past its validity",
    StaleEpoch = 6035: "signed state is neither the open epoch nor a top-up of the last settled one",
    WindowNotPassed = 6036: "the stream's last settlement can still be topped up",
    WindowClosed = 6037: "the top-up window of the last settlement has closed",
    SeqNotHigher = 6038: "a top-up must carry a higher seq than the settled state",
    PreviousEntriesMismatch = 6039: "previous entries do not match the settled entries hash",
    AmountDecreased = 6040: "a top-up may not lower any payee's amount",
    BadSignature = 6041: "stream key's signature does not verify",
    BadReceipt = 6042: "sequencer's receipt does not verify",
    NotSequencer = 6043: "settler is not the sequencer and carries no receipts",
    SessionCapExceeded = 6044: "session signer's spending cap would be exceeded",
    EntriesNotSorted = 6045: "entries are not strictly sorted by payee wallet",
    BadPayeeIndex = 6046: "payee index is out of range",
    PayeeWalletUnknown = 6047: "payee wallet cannot be read from the accounts given",
    RefusedPayee = 6048: "payee wallet is the config, its vault or a tab",
    WrongCredit = 6049: "account is not the payee's credit address",
    DuplicateAccount = 6050: "an account appears twice",
    NotAdmin = 6051: "signer is not the config's admin",
    NoCredit = 6052: "credit account holds nothing",
    WrongFeeDestination = 6053: "account is not a token account of the fee destination",
    NoFees = 6054: "no fees are owed",
    TabNotEmpty = 6055: "tab still holds funds",
    WrongRentPayer = 6056: "account is not the one that paid the credit's rent",
}

impl From<MicropayError> for ProgramError {
    fn from(error: MicropayError) -> Self {
        ProgramError::Custom(error.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (index, error) in MicropayError::ALL.iter().enumerate() {
            assert_eq!(error.code(), 6000 + index as u32, "{}", error.name());
            assert_eq!(MicropayError::from_code(error.code()), Some(*error));
        }
        assert_eq!(MicropayError::from_code(5999), None);
    }
}
