//! The Rust SDK for micropay: account readers, a deployment's addresses and
//! instructions, token amounts in UI units, the relayer's HTTP client (tips, receipts),
//! a payee's watcher, and a payer of HTTP 402 calls. It links neither the program nor
//! the relayer server.
//!
//! The signed-message protocol is `micropay-protocol`, re-exported as [`protocol`];
//! the program's interface is `micropay-interface`, re-exported as [`interface`].

pub mod accounts;
pub mod amount;
pub mod deployment;
pub mod pay;
pub mod relayer;
pub mod sequencer_key;
pub mod watcher;

pub use deployment::Deployment;
pub use micropay_interface as interface;
pub use micropay_protocol as protocol;
