//! The micropay tip protocol, shared by the on-chain program and every off-chain client
//! so that both sides agree on a tip byte for byte.
//!
//! v2 (`stream`, `ed25519`, `scalar`, `fee`, `entries`) is `no_std` + `alloc` and is
//! what the v2 program compiles for SBF: the `MPT2` state and `MPR2` receipt, the
//! stream state clients extend tip by tip, the one strict signature predicate, fee
//! arithmetic. The `v1` feature keeps the v1 message, precompile layout and settle
//! wire types until v1 is retired; `client` adds v1 signing and builders.
#![no_std]

extern crate alloc;
#[cfg(feature = "sign")]
extern crate std;

pub mod ed25519;
pub mod entries;
pub mod fee;
#[cfg(feature = "v1")]
pub mod message;
#[cfg(feature = "v1")]
pub mod precompile;
pub mod scalar;
#[cfg(feature = "v1")]
pub mod settle;
#[cfg(feature = "sign")]
pub mod signed;
#[cfg(feature = "v1")]
pub mod state;
pub mod stream;
pub mod vectors;

#[cfg(feature = "client")]
pub mod client;

pub use entries::{check_entries, entries_hash, entries_hash_in, ENTRY_HASH_LEN};
#[cfg(feature = "v1")]
pub use message::{TipMessage, MAGIC, MESSAGE_LEN};
#[cfg(feature = "v1")]
pub use settle::{SettleEntry, SettleItem};
#[cfg(feature = "sign")]
pub use signed::{Receipted, SignedStream};
#[cfg(feature = "v1")]
pub use state::EpochState;
pub use stream::{
    StreamMessage, StreamState, MAX_ENTRIES, RECEIPT_MAGIC, STATE_MAGIC, STATE_MESSAGE_LEN,
};

/// PDA seeds, shared so the program's constraints and clients' derivations match.
pub mod seeds {
    pub const TAB: &[u8] = b"tab";
    pub const VAULT: &[u8] = b"vault";
    pub const VAULT_AUTHORITY: &[u8] = b"vault_authority";
    pub const EVENT_AUTHORITY: &[u8] = b"__event_authority";
}

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
    #[error("too many entries for one epoch state")]
    TooManyEntries,
    #[error("precompile signature count differs from the settle items")]
    BadSignatureCount,
    #[error("precompile data is not in micropay's canonical layout")]
    BadPrecompileLayout,
}
