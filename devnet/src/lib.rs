//! A local network for micropay v2: an in-process `solana-test-validator` that loads
//! the program's SBF bytecode (`scripts/build-sbf`) as an upgradeable program
//! ([`validator`]), and a deployment on it with its payers and payees
//! ([`deployment`]). Development tooling: the user-facing crates do not depend on it.
//! It also holds the program in `solana-program-test` (`bytecode`, `compute`), the
//! demo and the benchmark: simulated payers and payees on a devnet, driving a relayer
//! over HTTP, and reports read from the relayer's API and the chain.

pub mod bench;
pub mod bytecode;
pub mod compute;
pub mod demo;
pub mod deployment;
pub mod paid;
pub mod process;
pub mod relayer_metrics;
pub mod report;
pub mod scenario;
pub mod simulate;
pub mod validator;
pub mod web;

pub use deployment::{Deployment, Payer};
pub use validator::{program_path, Devnet, QUIET_LOG};
