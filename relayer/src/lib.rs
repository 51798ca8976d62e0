//! The micropay relayer: the sequencer of DESIGN v2. It takes stream states signed off
//! chain, checks them as the program will, persists them, and only then answers with
//! its receipt; it serves and pushes receipts to the payees they name, and settles
//! them on chain in as few transactions as fit.
//!
//! Modules, one job each: [`domain`] (what is stored), [`store`] (storage traits by
//! role and the SQL store), [`chain`] (RPC), [`intake`] (acceptance rules and the
//! sequencer), [`receipts`] (push to payees), [`http`] (the `/v1` API), [`batch`] (many states in one request), [`reports`]
//! (status, settlements, payees, metrics), [`serve`]
//! (connections within limits), [`x402`] (the facilitator of HTTP 402 payments),
//! [`settlement`] (policy, planning, packing, sending, reconciliation), [`app`]
//! (flags and lifecycle), [`crash`] (named crash points for the crash tests).

pub mod app;
pub mod batch;
pub mod chain;
pub mod crash;
pub mod domain;
pub mod http;
pub mod intake;
pub mod metrics;
pub mod openapi;
pub mod receipts;
pub mod reports;
pub mod serve;
pub mod settlement;
pub mod x402;

pub mod store;
