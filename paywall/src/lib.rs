//! HTTP 402 pay-per-call for axum (any tower service of axum's body): the x402 v2
//! conventions with the `micropay` scheme, a micropay relayer as facilitator.
//!
//! An unpaid request gets `402` and `PAYMENT-REQUIRED` offering the route's price to
//! the resource's owner. A request with `PAYMENT-SIGNATURE` (the payer's next signed
//! stream state) is verified by the facilitator, handled, and, when the handler
//! succeeds, settled: the relayer receipts the state, the paywall checks the receipt
//! against the sequencer, keeps it for the owner ([`ReceiptSink`]) and answers with
//! `PAYMENT-RESPONSE`. A handler's error is not charged.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Router};
//! use micropay_paywall::{Paywall, ReceiptLog};
//! let owner = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin".parse()?;
//! let receipts = ReceiptLog::open("receipts.jsonl")?;
//! let paywall = Paywall::connect("http://127.0.0.1:7000", owner, receipts).await?;
//! let joke = get(|| async { "a joke" }).layer(paywall.price(1_000, "A joke"));
//! let app: Router = Router::new().route("/joke", joke);
//! # Ok(()) }
//! ```

mod facilitator;
mod layer;
mod receipts;

pub use facilitator::{EncodedRequest, FacilitatorClient, FacilitatorError};
pub use layer::{PaidService, Paywall, PriceLayer};
pub use receipts::{ReceiptLog, ReceiptSink};
