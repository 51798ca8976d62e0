//! The micropay relayer: takes users' signed tab states over HTTP, keeps every one it
//! acknowledged durably, and settles them on chain in as few transactions as fit.
//!
//! Modules, each behind a small interface: [`api`] (HTTP), [`store`] (storage),
//! [`chain`] (RPC), [`intake`] (acceptance rules), [`settlement`] (policy, packing,
//! sending, reconciliation).

pub mod api;
pub mod chain;
pub mod client;
pub mod intake;
pub mod metrics;
pub mod run;
pub mod service;
pub mod settlement;
pub mod store;
