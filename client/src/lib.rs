//! Client library for micropay: builders for every program instruction, readers for its
//! accounts, token amounts in UI units, and (feature `localnet`) an in-process local
//! network running the program natively.
//!
//! The tip protocol itself (message, signing, settle builders) is `micropay-protocol`,
//! re-exported as [`protocol`].

pub mod accounts;
pub mod amount;
pub mod deployment;
#[cfg(feature = "localnet")]
pub mod localnet;
#[cfg(feature = "localnet")]
pub mod native;
pub mod relayer;
pub mod watcher;

pub use deployment::Deployment;
pub use micropay_protocol as protocol;
