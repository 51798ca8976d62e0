//! Many states in one request (`POST /v1/states`), for a client that holds many
//! streams (a gateway collecting its users' signed tips, an agent with many workers):
//! one request and one answer for up to [`MAX_BATCH_STATES`] states, each receipted or
//! refused on its own, as if each had been submitted alone in the order given.

use serde::{Deserialize, Serialize};

use crate::{ErrorBody, ErrorCode, SignedStreamJson, StateReceipt};

/// Most states one batch carries.
pub const MAX_BATCH_STATES: usize = 256;

/// Largest body of a batch: [`MAX_BATCH_STATES`] states of the most entries with every
/// number at its widest take about 190 KiB (a test checks it).
pub const MAX_BATCH_BODY_BYTES: usize = 224 * 1024;

/// States to receipt, in order. Several states of one stream may follow each other:
/// each extends the one before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitStates {
    /// 1 to 256 signed states (`MAX_BATCH_STATES`).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 256))]
    pub states: Vec<SignedStreamJson>,
}

/// What became of each submitted state, in the order submitted. Every receipted state
/// is durable when this answer is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmittedStates {
    pub results: Vec<StateOutcome>,
}

/// A state's receipt, or why it was refused (the code a single submission of it would
/// have been answered with).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum StateOutcome {
    Receipted(StateReceipt),
    Refused { error: ErrorBody },
}

impl StateOutcome {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        StateOutcome::Refused {
            error: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use micropay_protocol::{SignedStream, StreamState, MAX_ENTRIES};
    use solana_address::Address;

    use super::*;

    /// The widest state there is: every entry, every number at its widest.
    fn widest() -> SignedStreamJson {
        let tab = Address::new_from_array([255; 32]);
        let mut state = StreamState::new(tab, u64::MAX, 255, u64::MAX, u16::MAX);
        for i in 0..MAX_ENTRIES {
            state = state
                .tip(
                    Address::new_from_array([255 - i as u8; 32]),
                    u64::MAX / MAX_ENTRIES as u64,
                )
                .unwrap();
        }
        state.seq = u32::MAX;
        SignedStreamJson::from(&SignedStream {
            state,
            signature: [255; 64],
        })
    }

    #[test]
    fn the_largest_batch_fits_the_body_limit() {
        let batch = SubmitStates {
            states: vec![widest(); MAX_BATCH_STATES],
        };
        let bytes = serde_json::to_vec(&batch).unwrap().len();
        assert!(bytes < MAX_BATCH_BODY_BYTES, "{bytes}");
        assert!(
            bytes > MAX_BATCH_BODY_BYTES * 3 / 4,
            "a limit far above need: {bytes}"
        );
        assert_eq!(MAX_BATCH_STATES, 256, "the OpenAPI schema's max_items");
    }

    #[test]
    fn outcomes_read_back_as_written() {
        let answer = SubmittedStates {
            results: vec![
                StateOutcome::Receipted(StateReceipt::new(&[7; 64], &Address::default())),
                StateOutcome::refused(ErrorCode::StaleState, "behind"),
            ],
        };
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["results"][1]["error"]["code"], "stale_state");
        assert!(json["results"][0]["receipt"].is_string());
        let back: SubmittedStates = serde_json::from_value(json).unwrap();
        assert_eq!(back, answer);
    }
}
