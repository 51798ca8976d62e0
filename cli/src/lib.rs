//! The `micropay` command line, one file per role: the admin, payers (and their paid
//! HTTP calls), payees and relayer operators. `main.rs` only parses and dispatches; the development commands
//! (`demo`, `bench`) come from `micropay-devnet` behind the `dev` feature, so the user
//! binary links no validator.

pub mod admin;
pub mod args;
pub mod context;
pub mod errors;
pub mod operator;
pub mod output;
pub mod paid;
pub mod payee;
pub mod payer;
