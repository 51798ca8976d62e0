//! The micropay tip protocol, shared by the on-chain program and every off-chain client
//! so that both sides agree on a tip byte for byte.
//!
//! `no_std` + `alloc`, and what the program compiles for SBF: the `MPT2` state and
//! `MPR2` receipt, the stream state clients extend tip by tip, the one strict
//! signature predicate, fee arithmetic, and golden vectors for other languages. The
//! `sign` feature adds signing states and receipts for off-chain code.
#![no_std]

extern crate alloc;
#[cfg(feature = "sign")]
extern crate std;

pub mod ed25519;
pub mod entries;
pub mod fee;
pub mod scalar;
#[cfg(feature = "sign")]
pub mod signed;
pub mod stream;
pub mod vectors;

pub use entries::{check_entries, entries_hash, entries_hash_in, ENTRY_HASH_LEN};
#[cfg(feature = "sign")]
pub use signed::{Receipted, SignedStream};
pub use stream::{
    StreamMessage, StreamState, MAX_ENTRIES, RECEIPT_MAGIC, STATE_MAGIC, STATE_MESSAGE_LEN,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message is not of the signed length")]
    BadMessageLength,
    #[error("message does not start with the micropay magic")]
    BadMagic,
    #[error("entries are not strictly sorted by payee")]
    EntriesNotSorted,
    #[error("an entry amount is zero")]
    ZeroAmount,
    #[error("arithmetic overflow")]
    Overflow,
    #[error("too many entries for one state")]
    TooManyEntries,
}
