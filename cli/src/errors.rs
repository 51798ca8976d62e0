//! Turning a failed transaction into a message that says what went wrong and what to do.

use micropay_client::interface::MicropayError;
use solana_client::client_error::ClientError;
use solana_sdk::{instruction::InstructionError, transaction::TransactionError};

pub fn explain(error: &ClientError) -> String {
    let Some(TransactionError::InstructionError(_, InstructionError::Custom(code))) =
        error.get_transaction_error()
    else {
        return format!("transaction failed: {error}");
    };
    match MicropayError::from_code(code) {
        Some(known) => {
            let mut message = format!(
                "micropay refused: {} ({code}): {}.",
                known.name(),
                known.message()
            );
            if let Some(hint) = hint(known) {
                message.push(' ');
                message.push_str(hint);
            }
            message
        }
        None => format!("transaction failed with custom error {code}: {error}"),
    }
}

fn hint(error: MicropayError) -> Option<&'static str> {
    use MicropayError::*;
    Some(match error {
        InsufficientBalance => "Deposit more with `micropay deposit <AMOUNT>`.",
        WithdrawalLocked => "Wait until the unlock time `micropay balance` shows.",
        TopUpWindowOpen => {
            "A recent settlement can still be topped up; `micropay balance` shows when it closes."
        }
        NoPendingWithdrawal => "Request one first with `micropay withdraw request <AMOUNT>`.",
        SlotInUse => "Pick another slot, or wait until the old key's validity ends.",
        DuplicateKey => "`micropay signer list` shows the registered keys.",
        CannotLower => "Remove the key and register it again instead.",
        FeeTooHigh => "The fee is capped at 1000 basis points (10%).",
        BadWithdrawalDelay => "Use between one hour and 30 days.",
        UnsupportedMint => "Only SPL Token mints and Token-2022 mints without powers over holders' tokens are accepted.",
        NoCredit => "Nothing is owed to this wallet.",
        NoFees => "Nothing has accrued since the last collection.",
        NotAdmin => "Sign with the config's admin keypair (--keypair).",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_error_has_a_name_and_a_message() {
        for error in MicropayError::ALL {
            assert!(!error.name().is_empty() && !error.message().is_empty());
        }
        let error = ClientError::from(TransactionError::InstructionError(
            0,
            InstructionError::Custom(MicropayError::InsufficientBalance.code()),
        ));
        let text = explain(&error);
        assert!(text.contains("InsufficientBalance (6018)"), "{text}");
        assert!(text.contains("micropay deposit"), "{text}");
    }
}
