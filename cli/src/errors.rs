//! Turning a failed transaction into a message that says what went wrong and what to do.

use micropay::errors::MicropayError;
use solana_client::client_error::ClientError;
use solana_sdk::{instruction::InstructionError, transaction::TransactionError};

pub fn explain(error: &ClientError) -> String {
    let Some(TransactionError::InstructionError(_, InstructionError::Custom(code))) =
        error.get_transaction_error()
    else {
        return format!("transaction failed: {error}");
    };
    match MicropayError::from_code(code) {
        Some(known) => match hint(known) {
            Some(hint) => format!("micropay refused: {known} ({code}). {hint}"),
            None => format!("micropay refused: {known} ({code})"),
        },
        None => format!("transaction failed with custom error {code}: {error}"),
    }
}

fn hint(error: MicropayError) -> Option<&'static str> {
    use MicropayError::*;
    Some(match error {
        InsufficientBalance => "Deposit more with `micropay deposit <AMOUNT>`.",
        WithdrawalLocked => "Wait until the unlock time `micropay balance` shows.",
        NoPendingWithdrawal => "Request one first with `micropay withdraw request <AMOUNT>`.",
        TabNotEmpty => "Withdraw everything first.",
        SignerSlotsFull => "Remove a session key with `micropay signer remove <KEY>`.",
        SignerNotFound => "`micropay signer list` shows the registered keys.",
        StaleEpoch => "This state was already settled, or a newer epoch started.",
        FeeTooHigh => "The fee is capped at 1000 basis points (10%).",
        BadWithdrawalDelay => "Use between 60 seconds and 30 days.",
        _ => return None,
    })
}
