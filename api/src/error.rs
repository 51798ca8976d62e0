//! Every error the API returns: a stable code, its HTTP status, and a message for
//! people. The one table from refusal to status lives here.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is not well formed (JSON, addresses, entries, path).
    Malformed,
    /// The body is over [`crate::MAX_BODY_BYTES`].
    PayloadTooLarge,
    /// The body did not arrive in time.
    Timeout,
    /// The signature is not the stream key's over this state (strict ed25519).
    BadSignature,
    /// The tab cannot cover this state beside its other unsettled streams.
    InsufficientFunds,
    /// Not the next state of the stream: another was receipted first, or the epoch,
    /// seq or incarnation is not the current one.
    StaleState,
    /// Well formed but refused by rule: fee below the config's, a payee the program
    /// would refuse, a key expiring too soon, a cap reached, more than one tip added.
    Policy,
    /// No tab of this relayer's config at that address, or no key in that slot.
    UnknownStream,
    /// No such resource.
    NotFound,
    /// The route exists, not with this method.
    MethodNotAllowed,
    /// The relayer is serving as many connections as it allows; retry shortly.
    TooManyConnections,
    /// The chain could not be read and nothing is known of the tab.
    ChainUnavailable,
    /// The relayer's disk is full: nothing was receipted; retry once it has room.
    StoreFull,
    /// The relayer could not persist; nothing was receipted.
    Internal,
}

impl ErrorCode {
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::Malformed => 400,
            ErrorCode::BadSignature => 401,
            ErrorCode::InsufficientFunds => 402,
            ErrorCode::UnknownStream | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Timeout => 408,
            ErrorCode::StaleState => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Policy => 422,
            ErrorCode::TooManyConnections => 429,
            ErrorCode::Internal => 500,
            ErrorCode::ChainUnavailable => 503,
            ErrorCode::StoreFull => 507,
        }
    }

    /// The code as it appears on the wire (and in metrics labels).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Timeout => "timeout",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::StaleState => "stale_state",
            ErrorCode::Policy => "policy",
            ErrorCode::UnknownStream => "unknown_stream",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::ChainUnavailable => "chain_unavailable",
            ErrorCode::StoreFull => "store_full",
            ErrorCode::Internal => "internal",
        }
    }

    /// The code of an error answer that no handler wrote (the HTTP framework's own
    /// refusals: no such route, wrong method, an unreadable path or query).
    pub const fn for_status(status: u16) -> Self {
        match status {
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            408 => ErrorCode::Timeout,
            413 => ErrorCode::PayloadTooLarge,
            429 => ErrorCode::TooManyConnections,
            400..=499 => ErrorCode::Malformed,
            _ => ErrorCode::Internal,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// The body of every non-2xx answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

impl ErrorResponse {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for code in [
            ErrorCode::Malformed,
            ErrorCode::PayloadTooLarge,
            ErrorCode::Timeout,
            ErrorCode::BadSignature,
            ErrorCode::InsufficientFunds,
            ErrorCode::StaleState,
            ErrorCode::Policy,
            ErrorCode::UnknownStream,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::TooManyConnections,
            ErrorCode::ChainUnavailable,
            ErrorCode::StoreFull,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!((400..600).contains(&code.http_status()));
        }
    }

    #[test]
    fn framework_refusals_keep_their_status() {
        for code in [
            ErrorCode::Malformed,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Timeout,
            ErrorCode::PayloadTooLarge,
            ErrorCode::TooManyConnections,
            ErrorCode::Internal,
        ] {
            assert_eq!(ErrorCode::for_status(code.http_status()), code);
        }
        assert_eq!(ErrorCode::for_status(415), ErrorCode::Malformed);
        assert_eq!(ErrorCode::for_status(502), ErrorCode::Internal);
    }
}
