//! HTTP 402 pay-per-call in the x402 v2 conventions, with a `micropay` scheme: what a
//! resource server offers in its 402 (`PAYMENT-REQUIRED`), what a paying client sends
//! back (`PAYMENT-SIGNATURE`: the next signed state of its stream, paying the
//! resource's owner the price), and the bodies of the relayer's facilitator routes
//! (`/x402/verify`, `/x402/settle`, `/x402/supported`).
//!
//! The v2 message shapes are written here rather than taken from `x402-types` 2.0.2:
//! that crate pulls `alloy-primitives` (68 crates, a C build of secp256k1) into every
//! client, and writes `error_reason` where v2 clients (`@x402/core`) read
//! `errorReason`. The TypeScript tests read these headers with `@x402/core` itself.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::{ErrorCode, SignedStreamJson};

/// The scheme's name in `PaymentRequirements.scheme`.
pub const SCHEME: &str = "micropay";
pub const X402_VERSION: u8 = 2;

/// Header names (HTTP headers are case-insensitive; these are the spec's spelling).
pub mod headers {
    /// On a 402: base64 JSON [`super::PaymentRequired`].
    pub const PAYMENT_REQUIRED: &str = "PAYMENT-REQUIRED";
    /// On the paid retry: base64 JSON [`super::PaymentPayload`].
    pub const PAYMENT_SIGNATURE: &str = "PAYMENT-SIGNATURE";
    /// On the paid answer: base64 JSON [`super::SettleResponse`].
    pub const PAYMENT_RESPONSE: &str = "PAYMENT-RESPONSE";
}

/// The facilitator's routes on the relayer; a facilitator client's base URL is the
/// relayer's URL followed by [`FACILITATOR`].
pub mod routes {
    pub const FACILITATOR: &str = "/x402";
    pub const VERIFY: &str = "/x402/verify";
    pub const SETTLE: &str = "/x402/settle";
    pub const SUPPORTED: &str = "/x402/supported";
}

/// The CAIP-2 id of a Solana cluster: `solana:` and the first 32 characters of its
/// genesis hash (base58).
pub fn solana_network(genesis_hash: &str) -> String {
    format!(
        "solana:{}",
        genesis_hash.chars().take(32).collect::<String>()
    )
}

/// A token amount in base units, a decimal string on the wire as x402 has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
#[serde(transparent)]
pub struct Amount(#[serde(with = "crate::decimal")] pub u64);

/// The `micropay` scheme's `extra`: what a client needs to pay besides the price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MicropayExtra {
    /// The deployment (config account) whose tabs pay.
    pub config: String,
    /// The sequencer whose receipt makes the payment final.
    pub sequencer: String,
    /// The lowest fee, in basis points, a state must sign.
    pub fee_bps: u16,
    /// Where the client reads its stream's state (the relayer's base URL).
    pub relayer: String,
}

/// A `/supported` kind's `extra`: the deployment a resource server's offers name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentExtra {
    pub config: String,
    pub sequencer: String,
    pub fee_bps: u16,
    /// The config's mint: every offer's `asset`.
    pub asset: String,
}

/// What a resource server asks for: `amount` base units of `asset` (the config's mint)
/// to the wallet `payTo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    pub scheme: String,
    /// CAIP-2, see [`solana_network`].
    pub network: String,
    pub amount: Amount,
    pub pay_to: String,
    pub max_timeout_seconds: u64,
    pub asset: String,
    pub extra: MicropayExtra,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// The `PAYMENT-REQUIRED` header of a 402.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    pub x402_version: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub resource: ResourceInfo,
    pub accepts: Vec<PaymentRequirements>,
}

/// The client's answer: its stream's next state, signed, and the requirements it meets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    pub x402_version: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceInfo>,
    pub accepted: PaymentRequirements,
    pub payload: SignedStreamJson,
}

/// The body of both `/x402/verify` and `/x402/settle`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FacilitatorRequest {
    pub x402_version: u8,
    pub payment_payload: PaymentPayload,
    pub payment_requirements: PaymentRequirements,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SupportedKind {
    pub x402_version: u8,
    pub scheme: String,
    pub network: String,
    pub extra: DeploymentExtra,
}

/// `GET /x402/supported`: the one kind this facilitator settles, and its signer (the
/// sequencer) per network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SupportedResponse {
    pub kinds: Vec<SupportedKind>,
    pub extensions: Vec<String>,
    pub signers: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    pub is_valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_message: Option<String>,
    /// The paying tab's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettleResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The sequencer's receipt of the state (base58 `MPR2` signature); empty when
    /// `success` is false. The state is final once receipted, and settles on chain in
    /// a later batch.
    pub transaction: String,
    pub network: String,
}

/// x402's reason names this scheme uses; the relayer's other refusals are named by
/// their [`ErrorCode`].
pub mod reasons {
    pub const INVALID_FORMAT: &str = "invalid_format";
    pub const INVALID_SIGNATURE: &str = "invalid_signature";
    pub const INSUFFICIENT_FUNDS: &str = "insufficient_funds";
    pub const UNSUPPORTED_SCHEME: &str = "unsupported_scheme";
    pub const CHAIN_ID_MISMATCH: &str = "chain_id_mismatch";
    pub const ASSET_MISMATCH: &str = "asset_mismatch";
    pub const RECIPIENT_MISMATCH: &str = "recipient_mismatch";
    pub const INVALID_PAYMENT_AMOUNT: &str = "invalid_payment_amount";
    pub const ACCEPTED_REQUIREMENTS_MISMATCH: &str = "accepted_requirements_mismatch";
}

/// Why a payment is refused, as `invalidReason` / `errorReason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct Refusal {
    pub reason: String,
    pub message: String,
}

impl Refusal {
    pub fn new(reason: &str, message: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A refusal of the relayer's intake; codes x402 has a reason for use it.
    pub fn intake(code: ErrorCode, message: impl Into<String>) -> Self {
        match code {
            ErrorCode::BadSignature => Self::new(reasons::INVALID_SIGNATURE, message),
            ErrorCode::InsufficientFunds => Self::new(reasons::INSUFFICIENT_FUNDS, message),
            ErrorCode::Malformed => Self::new(reasons::INVALID_FORMAT, message),
            code => Self::new(code.as_str(), message),
        }
    }
}

impl VerifyResponse {
    pub fn valid(payer: String) -> Self {
        Self {
            is_valid: true,
            invalid_reason: None,
            invalid_message: None,
            payer: Some(payer),
        }
    }

    pub fn invalid(refusal: Refusal) -> Self {
        Self {
            is_valid: false,
            invalid_reason: Some(refusal.reason),
            invalid_message: Some(refusal.message),
            payer: None,
        }
    }
}

impl SettleResponse {
    pub fn settled(payer: String, receipt: String, network: String) -> Self {
        Self {
            success: true,
            error_reason: None,
            error_message: None,
            payer: Some(payer),
            transaction: receipt,
            network,
        }
    }

    pub fn failed(refusal: Refusal, network: String) -> Self {
        Self {
            success: false,
            error_reason: Some(refusal.reason),
            error_message: Some(refusal.message),
            payer: None,
            transaction: String::new(),
            network,
        }
    }
}

/// Why a header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A header's value: the JSON of `value`, base64 (standard alphabet, padded).
pub fn encode_header<T: Serialize>(value: &T) -> String {
    // Serializing these types cannot fail: their maps have string keys.
    STANDARD.encode(serde_json::to_vec(value).unwrap_or_default())
}

pub fn decode_header<T: DeserializeOwned>(value: &str) -> Result<T, HeaderError> {
    Ok(serde_json::from_slice(&STANDARD.decode(value.trim())?)?)
}

/// The requirements in `offers` that `payload` says it meets, if it meets one exactly.
pub fn accepted<'a>(
    offers: &'a [PaymentRequirements],
    payload: &PaymentPayload,
) -> Option<&'a PaymentRequirements> {
    offers.iter().find(|offer| **offer == payload.accepted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StreamStateJson;

    fn requirements() -> PaymentRequirements {
        PaymentRequirements {
            scheme: SCHEME.into(),
            network: solana_network("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"),
            amount: Amount(1_000),
            pay_to: "7".repeat(32),
            max_timeout_seconds: 60,
            asset: "8".repeat(32),
            extra: MicropayExtra {
                config: "9".repeat(32),
                sequencer: "A".repeat(32),
                fee_bps: 25,
                relayer: "http://127.0.0.1:7000".into(),
            },
        }
    }

    #[test]
    fn requirements_use_the_v2_field_names_and_string_amounts() {
        let json = serde_json::to_value(requirements()).unwrap();
        assert_eq!(json["network"], "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp");
        assert_eq!(json["amount"], "1000");
        assert_eq!(json["payTo"], "7".repeat(32));
        assert_eq!(json["maxTimeoutSeconds"], 60);
        assert_eq!(json["extra"]["feeBps"], 25);
        assert_eq!(json["extra"]["relayer"], "http://127.0.0.1:7000");
    }

    #[test]
    fn headers_round_trip_and_payloads_match_offers_exactly() {
        let payload = PaymentPayload {
            accepted: requirements(),
            payload: SignedStreamJson {
                state: StreamStateJson {
                    tab: "1".repeat(32),
                    incarnation: 1,
                    slot: 1,
                    epoch: 0,
                    seq: 1,
                    fee_bps: 25,
                    total: 1_000,
                    entries: vec![],
                },
                signature: "2".repeat(64),
            },
            resource: None,
            x402_version: X402_VERSION,
        };
        let header = encode_header(&payload);
        let back: PaymentPayload = decode_header(&header).unwrap();
        assert_eq!(back.payload, payload.payload);
        let json: serde_json::Value = decode_header(&header).unwrap();
        assert_eq!(json["x402Version"], 2);
        assert_eq!(json["payload"]["tab"], "1".repeat(32));

        let offers = [requirements()];
        assert!(accepted(&offers, &back).is_some());
        let mut cheaper = back.clone();
        cheaper.accepted.amount = Amount(999);
        assert!(accepted(&offers, &cheaper).is_none());
        assert!(decode_header::<PaymentPayload>("not base64!").is_err());
        assert!(decode_header::<PaymentPayload>(&STANDARD.encode(b"{}")).is_err());
    }

    #[test]
    fn answers_use_the_names_x402_clients_read() {
        let network = solana_network("abc");
        let failed = SettleResponse::failed(
            Refusal::intake(ErrorCode::InsufficientFunds, "short"),
            network.clone(),
        );
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["errorReason"], "insufficient_funds");
        assert_eq!(json["errorMessage"], "short");
        assert_eq!(json["transaction"], "");
        let invalid = VerifyResponse::invalid(Refusal::new(reasons::RECIPIENT_MISMATCH, "x"));
        let json = serde_json::to_value(&invalid).unwrap();
        assert_eq!(json["isValid"], false);
        assert_eq!(json["invalidReason"], "recipient_mismatch");
        assert_eq!(
            Refusal::intake(ErrorCode::StaleState, "").reason,
            "stale_state"
        );
    }
}
