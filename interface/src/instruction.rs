//! Instruction discriminators, fixed argument layouts and the `settle` wire format.
//! The account order of every instruction is documented on its discriminator.

use bytemuck::{Pod, Zeroable};
use solana_address::Address;

use crate::{
    discriminator::instruction,
    state::{Params, I64, U64},
    MicropayError, MAX_ENTRIES,
};

/// `[admin (signer, writable), config (signer, writable), mint, vault (writable),
/// vault_authority, token_program, system_program]`. Args: [`Params`].
pub const INIT_CONFIG: [u8; 8] = instruction("init_config");
/// `[admin (signer), config (writable)]`. Args: [`Params`]; they take effect after a
/// notice period no shorter than the withdrawal delay.
pub const UPDATE_CONFIG: [u8; 8] = instruction("update_config");
/// `[owner (signer, writable), config (writable), tab (writable), system_program]`.
pub const OPEN_TAB: [u8; 8] = instruction("open_tab");
/// `[depositor (signer), config, tab (writable), mint, source (writable), vault
/// (writable), token_program]`. Args: [`AmountArgs`].
pub const DEPOSIT: [u8; 8] = instruction("deposit");
/// `[owner (signer), config, tab (writable)]`. Args: [`AddSignerArgs`].
pub const ADD_SIGNER: [u8; 8] = instruction("add_signer");
/// `[owner (signer), config, tab (writable)]`. Args: [`SlotArgs`].
pub const REMOVE_SIGNER: [u8; 8] = instruction("remove_signer");
/// `[owner (signer), config, tab (writable)]`. Args: [`AmountArgs`] (0 cancels).
pub const REQUEST_WITHDRAW: [u8; 8] = instruction("request_withdraw");
/// `[owner (signer), config, tab (writable), vault (writable), vault_authority, mint,
/// destination (writable), token_program]`.
pub const WITHDRAW: [u8; 8] = instruction("withdraw");
/// As `withdraw`, then the tab is closed and its rent returned to the owner.
pub const CLOSE_TAB: [u8; 8] = instruction("close_tab");
/// See [`settle`].
pub const SETTLE: [u8; 8] = instruction("settle");
/// `[wallet (signer), config, credit (writable), vault (writable), vault_authority,
/// mint, destination (writable), token_program, rent_payer (writable)]`.
pub const CLAIM_CREDIT: [u8; 8] = instruction("claim_credit");
/// `[config (writable), vault (writable), vault_authority, mint, destination
/// (writable, owned by the fee destination), token_program]`. Anyone may call it.
pub const COLLECT_FEES: [u8; 8] = instruction("collect_fees");

#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct AmountArgs {
    pub amount: U64,
}

#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct SlotArgs {
    pub slot: u8,
}

#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct AddSignerArgs {
    pub slot: u8,
    pub key: Address,
    pub expires_at: I64,
    pub cap: U64,
}

pub type ConfigArgs = Params;

/// The arguments of an instruction with a fixed layout, after its discriminator.
pub fn fixed_args<T: Pod>(data: &[u8]) -> Result<&T, MicropayError> {
    bytemuck::try_from_bytes(data).map_err(|_| MicropayError::InvalidInstruction)
}

/// The `settle` instruction.
///
/// Accounts: `[settler (signer, writable: pays new credits' rent), config (writable),
/// vault (writable), vault_authority, mint, token_program, memo_program,
/// system_program]`, then one tab (writable) per item, in item order, then per payee
/// its token account (writable), its credit address (writable) and, where the
/// payee's flags say so, the payee wallet.
///
/// Data after the discriminator:
///
/// ```text
/// payee_count  u8
/// payee_flags  u8 x payee_count       bit 0: the wallet account follows
/// item_count   u8
/// item         x item_count:
///   slot       u8
///   flags      u8                     bit 0: top-up, bit 1: carries a receipt
///   seq        u32
///   fee_bps    u16
///   count      u8, then count x (payee index u8, amount u64)
///   [top-up]   previous count u8, then previous entries as above
///   signature  64
///   [receipt]  64
/// ```
pub mod settle {
    use super::*;

    pub const FIXED_ACCOUNTS: usize = 8;
    pub const PAYEE_WALLET_FOLLOWS: u8 = 1;
    pub const ITEM_TOP_UP: u8 = 1;
    pub const ITEM_RECEIPT: u8 = 2;
    pub const ENTRY_LEN: usize = 9;

    /// One item as it appears in the instruction data, borrowed from it.
    #[derive(Clone, Copy, Debug)]
    pub struct Item<'a> {
        pub slot: u8,
        pub top_up: bool,
        pub seq: u32,
        pub fee_bps: u16,
        pub entries: Entries<'a>,
        pub previous: Entries<'a>,
        pub signature: &'a [u8; 64],
        pub receipt: Option<&'a [u8; 64]>,
    }

    /// Entries as `(payee index, amount)`, 9 bytes each.
    #[derive(Clone, Copy, Debug)]
    pub struct Entries<'a>(&'a [u8]);

    impl<'a> Entries<'a> {
        pub fn len(&self) -> usize {
            self.0.len() / ENTRY_LEN
        }
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub fn iter(&self) -> impl Iterator<Item = (u8, u64)> + 'a {
            self.0.chunks_exact(ENTRY_LEN).map(|entry| {
                (
                    entry[0],
                    u64::from_le_bytes(entry[1..].try_into().expect("8 bytes")),
                )
            })
        }
    }

    /// The parsed header: payee flags, and the items still to read.
    pub struct Reader<'a> {
        pub payee_flags: &'a [u8],
        pub item_count: usize,
        rest: &'a [u8],
        read: usize,
    }

    impl<'a> Reader<'a> {
        pub fn new(data: &'a [u8]) -> Result<Self, MicropayError> {
            let mut cursor = Cursor(data);
            let payee_count = cursor.u8()? as usize;
            let payee_flags = cursor.take(payee_count)?;
            let item_count = cursor.u8()? as usize;
            Ok(Self {
                payee_flags,
                item_count,
                rest: cursor.0,
                read: 0,
            })
        }

        /// The next item, or `None` once `item_count` items were read (then the
        /// data must be exhausted).
        pub fn next_item(&mut self) -> Result<Option<Item<'a>>, MicropayError> {
            if self.read == self.item_count {
                return if self.rest.is_empty() {
                    Ok(None)
                } else {
                    Err(MicropayError::InvalidInstruction)
                };
            }
            let mut cursor = Cursor(self.rest);
            let slot = cursor.u8()?;
            let flags = cursor.u8()?;
            if flags & !(ITEM_TOP_UP | ITEM_RECEIPT) != 0 {
                return Err(MicropayError::InvalidInstruction);
            }
            let seq = u32::from_le_bytes(cursor.array()?);
            let fee_bps = u16::from_le_bytes(cursor.array()?);
            let entries = cursor.entries()?;
            let top_up = flags & ITEM_TOP_UP != 0;
            let previous = if top_up {
                cursor.entries()?
            } else {
                Entries(&[])
            };
            let signature = cursor.take(64)?.try_into().expect("64 bytes");
            let receipt = if flags & ITEM_RECEIPT != 0 {
                Some(cursor.take(64)?.try_into().expect("64 bytes"))
            } else {
                None
            };
            self.rest = cursor.0;
            self.read += 1;
            Ok(Some(Item {
                slot,
                top_up,
                seq,
                fee_bps,
                entries,
                previous,
                signature,
                receipt,
            }))
        }
    }

    struct Cursor<'a>(&'a [u8]);

    impl<'a> Cursor<'a> {
        fn take(&mut self, len: usize) -> Result<&'a [u8], MicropayError> {
            if self.0.len() < len {
                return Err(MicropayError::InvalidInstruction);
            }
            let (head, tail) = self.0.split_at(len);
            self.0 = tail;
            Ok(head)
        }
        fn u8(&mut self) -> Result<u8, MicropayError> {
            Ok(self.take(1)?[0])
        }
        fn array<const N: usize>(&mut self) -> Result<[u8; N], MicropayError> {
            Ok(self.take(N)?.try_into().expect("N bytes"))
        }
        fn entries(&mut self) -> Result<Entries<'a>, MicropayError> {
            let count = self.u8()? as usize;
            if count > MAX_ENTRIES {
                return Err(MicropayError::TooManyItems);
            }
            Ok(Entries(self.take(count * ENTRY_LEN)?))
        }
    }
}
