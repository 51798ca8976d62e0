//! The OpenAPI document of the HTTP API: schemas from the shared wire types
//! (`micropay-api`), operations from the handlers. `api/openapi.json` is this document,
//! checked in for other languages' generators; a test fails when it drifts.

use micropay_api::x402::{
    Amount, DeploymentExtra, FacilitatorRequest, MicropayExtra, PaymentPayload,
    PaymentRequirements, ResourceInfo, SettleResponse, SupportedKind, SupportedResponse,
    VerifyResponse,
};
use micropay_api::{
    EntryJson, ErrorBody, ErrorCode, ErrorResponse, Health, PayeeReceipt, PayeeReceipts,
    PayeeSummary, ReceiptJson, RelayerStatus, SettlementStatus, SettlementView, Settlements,
    SignedStreamJson, StateOutcome, StateReceipt, StatusTotals, StreamStateJson, StreamStatus,
    StreamView, SubmitStates, SubmittedStates,
};
use utoipa::OpenApi;

use crate::{http, reports};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "micropay relayer",
        description = "The sequencer of a micropay deployment: it receipts signed stream states \
            and settles them on chain. Every u64 quantity is a decimal string; addresses and \
            signatures are base58. Every non-2xx answer is an `ErrorResponse` with a stable code.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        http::openapi,
        http::health,
        http::stream,
        http::submit,
        crate::batch::submit_states,
        reports::status,
        reports::settlements,
        reports::payee,
        reports::payee_receipts,
        reports::payee_receipt_events,
        reports::metrics,
        crate::x402::supported,
        crate::x402::verify,
        crate::x402::settle,
    ),
    components(schemas(
        EntryJson, StreamStateJson, SignedStreamJson, ReceiptJson, StateReceipt, StreamView, StreamStatus,
        SubmitStates, SubmittedStates, StateOutcome,
        PayeeReceipt, PayeeReceipts, Health, ErrorCode, ErrorBody, ErrorResponse,
        StatusTotals, RelayerStatus, SettlementStatus, SettlementView, Settlements, PayeeSummary,
        Amount, MicropayExtra, DeploymentExtra, PaymentRequirements, ResourceInfo, PaymentPayload,
        FacilitatorRequest, VerifyResponse, SettleResponse, SupportedKind, SupportedResponse,
    )),
    tags(
        (name = "payer", description = "Streams: the next state to sign, and submitting it"),
        (name = "payee", description = "What the relayer holds for a wallet, and its receipts"),
        (name = "meta", description = "Health, status, settlements, metrics and this document"),
        (name = "x402", description = "The x402 v2 facilitator of the `micropay` scheme: \
            a facilitator client's base URL is the relayer's followed by `/x402`"),
    )
)]
struct ApiDoc;

/// The document, with the version of this build.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").into();
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/openapi.json");

    #[test]
    fn the_checked_in_document_is_current() {
        let current = document().to_pretty_json().unwrap() + "\n";
        if std::env::var_os("MICROPAY_WRITE_OPENAPI").is_some() {
            std::fs::write(CHECKED_IN, &current).unwrap();
        }
        let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            checked_in == current,
            "api/openapi.json is stale: regenerate it with \
             MICROPAY_WRITE_OPENAPI=1 cargo test -p micropay-relayer openapi"
        );
    }

    #[test]
    fn every_route_is_documented_and_amounts_are_strings() {
        use micropay_api::routes;
        let json = serde_json::to_value(document()).unwrap();
        for route in [
            routes::OPENAPI,
            routes::HEALTH,
            routes::STATUS,
            routes::SETTLEMENTS,
            routes::PAYEE,
            routes::STREAM,
            routes::STREAM_STATES,
            routes::STATES,
            routes::PAYEE_RECEIPTS,
            routes::PAYEE_RECEIPT_EVENTS,
            routes::METRICS,
            micropay_api::x402::routes::SUPPORTED,
            micropay_api::x402::routes::VERIFY,
            micropay_api::x402::routes::SETTLE,
        ] {
            assert!(
                json["paths"][route].is_object(),
                "{route} is not documented"
            );
        }
        let state = &json["components"]["schemas"]["StreamStateJson"]["properties"];
        for field in ["incarnation", "epoch", "total"] {
            assert_eq!(state[field]["type"], "string", "{field}");
        }
        let entry = &json["components"]["schemas"]["EntryJson"]["properties"];
        assert_eq!(entry["amount"]["type"], "string");
        assert_eq!(json["components"]["schemas"]["Amount"]["type"], "string");
        for schema in ["StatusTotals", "SettlementView"] {
            let amount = &json["components"]["schemas"][schema]["properties"]["amount"];
            assert_eq!(amount["type"], "string", "{schema}");
        }
        let status = &json["components"]["schemas"]["RelayerStatus"]["properties"];
        assert_eq!(status["pending_amount"]["type"], "string");
    }
}
