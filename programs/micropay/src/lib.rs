//! The micropay program: escrowed tabs, streams of off-chain signed states, and
//! batched settlement paying payees on chain. Built to SBF bytecode with pinocchio
//! (`scripts/build-sbf`); off-chain code uses `micropay-interface`, never this crate.
#![no_std]

extern crate alloc;
#[cfg(not(target_os = "solana"))]
extern crate std;

#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

mod entrypoint;
mod processor;

pub use entrypoint::process_instruction;
