//! The relayer's HTTP contract, `/v1`: the JSON shapes of requests and responses, the
//! closed set of error codes with their HTTP statuses, and the routes. The server and
//! every client use these types; nothing here speaks HTTP.
//!
//! Conventions: addresses base58; signatures base58 (64 bytes); every `u64` quantity
//! (amounts, totals, epochs, incarnations) a decimal string, so that clients whose
//! numbers are doubles (JavaScript) read them exactly.

mod batch;
pub mod decimal;
mod error;
mod status;
mod types;
pub mod x402;

pub use batch::{
    StateOutcome, SubmitStates, SubmittedStates, MAX_BATCH_BODY_BYTES, MAX_BATCH_STATES,
};
pub use error::{ErrorBody, ErrorCode, ErrorResponse};
pub use status::{
    PayeeSummary, RelayerStatus, SettlementStatus, SettlementView, Settlements, StatusTotals,
};
pub use types::{
    signature_from_base58, signature_to_base58, EntryJson, Health, PayeeReceipt, PayeeReceipts,
    ReceiptJson, SignedStreamJson, StateReceipt, StreamStateJson, StreamStatus, StreamView,
    WireError,
};

/// Seconds the relayer gives a client, by default, to send a request's headers; it
/// closes a keep-alive connection left idle as long.
pub const HEADER_TIMEOUT_SECS: u64 = 10;

/// Seconds a client keeps an idle connection to the relayer for reuse: well under
/// [`HEADER_TIMEOUT_SECS`]. A request sent on a connection the relayer is closing at
/// that moment fails unanswered (HTTP/1.1 cannot tell the client in time), and
/// reqwest's own default keeps connections 90 s.
pub const CLIENT_IDLE_SECS: u64 = HEADER_TIMEOUT_SECS / 2;
const _: () = assert!(CLIENT_IDLE_SECS < HEADER_TIMEOUT_SECS);

/// An HTTP client for the relayer, dropping idle connections after
/// [`CLIENT_IDLE_SECS`].
#[cfg(feature = "client")]
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(CLIENT_IDLE_SECS))
        .build()
        .expect("a client without TLS or proxies to configure always builds")
}

/// Route templates (axum syntax) and the paths clients request.
pub mod routes {
    use solana_address::Address;

    pub const HEALTH: &str = "/v1/health";
    pub const STATUS: &str = "/v1/status";
    pub const SETTLEMENTS: &str = "/v1/settlements";
    pub const PAYEE: &str = "/v1/payees/{wallet}";
    pub const STREAM: &str = "/v1/streams/{tab}/{slot}";
    pub const STREAM_STATES: &str = "/v1/streams/{tab}/{slot}/states";
    /// States of any streams in one request ([`crate::SubmitStates`]).
    pub const STATES: &str = "/v1/states";
    pub const PAYEE_RECEIPTS: &str = "/v1/payees/{wallet}/receipts";
    pub const PAYEE_RECEIPT_EVENTS: &str = "/v1/payees/{wallet}/receipts/events";
    pub const METRICS: &str = "/metrics";
    pub const OPENAPI: &str = "/v1/openapi.json";

    pub fn stream(tab: &Address, slot: u8) -> String {
        format!("/v1/streams/{tab}/{slot}")
    }

    pub fn stream_states(tab: &Address, slot: u8) -> String {
        format!("/v1/streams/{tab}/{slot}/states")
    }

    pub fn settlements(since_ms: i64, limit: u32) -> String {
        format!("/v1/settlements?since_ms={since_ms}&limit={limit}")
    }

    pub fn payee(wallet: &Address) -> String {
        format!("/v1/payees/{wallet}")
    }

    pub fn payee_receipts(wallet: &Address, since_ms: i64, limit: u32) -> String {
        format!("/v1/payees/{wallet}/receipts?since_ms={since_ms}&limit={limit}")
    }

    pub fn payee_receipt_events(wallet: &Address) -> String {
        format!("/v1/payees/{wallet}/receipts/events")
    }
}

/// Largest request body the relayer reads; a state holds at most
/// [`micropay_protocol::MAX_ENTRIES`] entries, so this is generous.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Most items one page of [`routes::PAYEE_RECEIPTS`] or [`routes::SETTLEMENTS`]
/// returns.
pub const MAX_PAGE: u32 = 1_000;
