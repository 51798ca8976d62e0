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

layout! {
    #[derive(Clone, Copy, Debug, Pod, Zeroable)]
    #[repr(C)]
    pub struct AmountArgs {
        pub amount: U64,
    }
}

layout! {
    #[derive(Clone, Copy, Debug, Pod, Zeroable)]
    #[repr(C)]
    pub struct SlotArgs {
        pub slot: u8,
    }
}

layout! {
    #[derive(Clone, Copy, Debug, Pod, Zeroable)]
    #[repr(C)]
    pub struct AddSignerArgs {
        pub slot: u8,
        pub key: Address,
        pub expires_at: I64,
        pub cap: U64,
    }
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
/// payee's bit says so, the payee wallet.
///
/// Data after the discriminator, compact because bytes bound how many streams one
/// transaction settles (varints are unsigned LEB128, minimal):
///
/// ```text
/// payee_count  u8
/// wallet_bits  ceil(payee_count / 8) bytes; bit i: payee i's wallet account follows
/// fee_bps      u16                   the signed fee of items without their own
/// item_count   u8
/// item         x item_count:
///   head       u8      bits 0-2 slot, 3 top-up, 4 carries a receipt, 5 own fee
///   seq        varint u32
///   [fee_bps]  u16     with bit 5
///   count      u8, then count x (payee index u8, amount varint u64)
///   [previous] with bit 3: the settled entries, as above
///   signature  64
///   [receipt]  64      with bit 4
/// ```
pub mod settle {
    use super::*;

    pub const FIXED_ACCOUNTS: usize = 8;
    pub const SLOT_MASK: u8 = 0b0000_0111;
    pub const ITEM_TOP_UP: u8 = 1 << 3;
    pub const ITEM_RECEIPT: u8 = 1 << 4;
    pub const ITEM_OWN_FEE: u8 = 1 << 5;

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

    /// Entries as `(payee index, amount)`, already checked to decode.
    #[derive(Clone, Copy, Debug)]
    pub struct Entries<'a> {
        count: usize,
        bytes: &'a [u8],
    }

    impl<'a> Entries<'a> {
        pub const EMPTY: Entries<'static> = Entries {
            count: 0,
            bytes: &[],
        };

        pub fn len(&self) -> usize {
            self.count
        }

        pub fn is_empty(&self) -> bool {
            self.count == 0
        }

        pub fn iter(&self) -> impl Iterator<Item = (u8, u64)> + 'a {
            let mut cursor = Cursor(self.bytes);
            (0..self.count).map(move |_| {
                let payee = cursor.u8().expect("checked when read");
                (payee, cursor.varint().expect("checked when read"))
            })
        }
    }

    /// The parsed header, and the items still to read.
    pub struct Reader<'a> {
        pub payee_count: usize,
        wallet_bits: &'a [u8],
        pub fee_bps: u16,
        pub item_count: usize,
        rest: &'a [u8],
        read: usize,
    }

    impl<'a> Reader<'a> {
        pub fn new(data: &'a [u8]) -> Result<Self, MicropayError> {
            let mut cursor = Cursor(data);
            let payee_count = cursor.u8()? as usize;
            let wallet_bits = cursor.take(payee_count.div_ceil(8))?;
            let fee_bps = u16::from_le_bytes(cursor.array()?);
            let item_count = cursor.u8()? as usize;
            Ok(Self {
                payee_count,
                wallet_bits,
                fee_bps,
                item_count,
                rest: cursor.0,
                read: 0,
            })
        }

        /// Whether payee `index`'s wallet account follows its token and credit
        /// accounts.
        pub fn wallet_follows(&self, index: usize) -> bool {
            self.wallet_bits[index / 8] & (1 << (index % 8)) != 0
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
            let head = cursor.u8()?;
            if head & !(SLOT_MASK | ITEM_TOP_UP | ITEM_RECEIPT | ITEM_OWN_FEE) != 0 {
                return Err(MicropayError::InvalidInstruction);
            }
            let seq =
                u32::try_from(cursor.varint()?).map_err(|_| MicropayError::InvalidInstruction)?;
            let fee_bps = if head & ITEM_OWN_FEE != 0 {
                u16::from_le_bytes(cursor.array()?)
            } else {
                self.fee_bps
            };
            let entries = cursor.entries()?;
            let top_up = head & ITEM_TOP_UP != 0;
            let previous = if top_up {
                cursor.entries()?
            } else {
                Entries::EMPTY
            };
            let signature = cursor.take(64)?.try_into().expect("64 bytes");
            let receipt = if head & ITEM_RECEIPT != 0 {
                Some(cursor.take(64)?.try_into().expect("64 bytes"))
            } else {
                None
            };
            self.rest = cursor.0;
            self.read += 1;
            Ok(Some(Item {
                slot: head & SLOT_MASK,
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

    /// Appends `value` as a minimal unsigned LEB128 varint.
    pub fn write_varint(out: &mut impl Extend<u8>, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.extend([byte]);
                return;
            }
            out.extend([byte | 0x80]);
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

        /// A minimal unsigned LEB128 varint of at most 64 bits.
        fn varint(&mut self) -> Result<u64, MicropayError> {
            let mut value = 0u64;
            for index in 0..10 {
                let byte = self.u8()?;
                let bits = (byte & 0x7f) as u64;
                if index == 9 && bits > 1 {
                    return Err(MicropayError::InvalidInstruction);
                }
                value |= bits << (7 * index);
                if byte & 0x80 == 0 {
                    if index > 0 && byte == 0 {
                        // Not minimal: one encoding per value.
                        return Err(MicropayError::InvalidInstruction);
                    }
                    return Ok(value);
                }
            }
            Err(MicropayError::InvalidInstruction)
        }

        fn entries(&mut self) -> Result<Entries<'a>, MicropayError> {
            let count = self.u8()? as usize;
            if count > MAX_ENTRIES {
                return Err(MicropayError::TooManyItems);
            }
            let start = self.0;
            for _ in 0..count {
                self.u8()?;
                self.varint()?;
            }
            let used = start.len() - self.0.len();
            Ok(Entries {
                count,
                bytes: &start[..used],
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn varints_round_trip_and_only_minimal_ones_parse() {
            for value in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
                let mut bytes = alloc_free::Buffer::default();
                write_varint(&mut bytes, value);
                assert_eq!(Cursor(bytes.as_slice()).varint(), Ok(value), "{value}");
            }
            assert!(Cursor(&[0x80, 0x00]).varint().is_err(), "overlong zero");
            assert!(Cursor(&[0xff; 10]).varint().is_err(), "over 64 bits");
            assert!(Cursor(&[0x80]).varint().is_err(), "truncated");
        }

        mod alloc_free {
            /// A fixed buffer that `write_varint` can extend without `alloc`.
            #[derive(Default)]
            pub struct Buffer {
                bytes: [u8; 16],
                len: usize,
            }

            impl Buffer {
                pub fn as_slice(&self) -> &[u8] {
                    &self.bytes[..self.len]
                }
            }

            impl Extend<u8> for Buffer {
                fn extend<T: IntoIterator<Item = u8>>(&mut self, iter: T) {
                    for byte in iter {
                        self.bytes[self.len] = byte;
                        self.len += 1;
                    }
                }
            }
        }
    }
}
