//! The `settle` instruction's wire types and discriminator.
//!
//! Item `i` settles the tab at remaining account `i`, whose signed state is signature `i`
//! of the ed25519 precompile instruction placed right before `settle`. Payee token
//! accounts follow the tabs; each entry names its payee by index among them, so an
//! entry costs 9 bytes instead of 40.

use alloc::vec::Vec;

use borsh::{BorshDeserialize, BorshSerialize};

/// Anchor's discriminator for `settle`: `sha256("global:settle")[..8]`.
/// A test in the integration suite checks it against the program's own.
pub const SETTLE_DISCRIMINATOR: [u8; 8] = [175, 42, 185, 87, 144, 131, 102, 212];

#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SettleEntry {
    /// Index of the payee's token account among the payee accounts of the instruction.
    pub payee_index: u8,
    pub amount: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SettleItem {
    /// The signed state's entries in the signed (sorted) order.
    pub entries: Vec<SettleEntry>,
}

/// Bytes of instruction data one item adds: the vector length plus 9 per entry.
pub const fn item_data_len(entries: usize) -> usize {
    4 + entries * 9
}

#[cfg(feature = "idl-build")]
impl anchor_lang::IdlBuild for SettleEntry {}
#[cfg(feature = "idl-build")]
impl anchor_lang::IdlBuild for SettleItem {}
