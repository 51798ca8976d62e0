//! The `micropay` command line: admin, payer, payee and relayer commands, the local
//! demo and the benchmark. `main.rs` only parses and dispatches.

pub mod args;
pub mod bench;
pub mod commands;
pub mod context;
pub mod demo;
pub mod errors;
pub mod output;
pub mod report;
pub mod simulate;
