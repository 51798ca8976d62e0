//! The v2 signed stream state (`MPT2`) and the sequencer's receipt over it (`MPR2`).
//!
//! ```text
//! magic        4   b"MPT2" (state) or b"MPR2" (receipt)
//! tab         32   binds config, owner and cluster
//! incarnation  8   binds this life of the tab
//! slot         1   the stream: 0 = owner, 1.. = session signer slots
//! epoch        8   the stream's epoch
//! seq          4
//! fee_bps      2   the highest fee the payees may be charged
//! total        8   sum of entry amounts
//! entries     32   sha256 over the sorted entries, each payee wallet(32) || amount(8)
//! count        2
//! ```

use alloc::{collections::BTreeMap, vec::Vec};

use solana_address::Address;

use crate::{entries_hash, ProtocolError};

/// Payees per signed state: small enough that the worst case (a top-up carrying old
/// and new entries, without a lookup table) fits one settlement transaction.
pub const MAX_ENTRIES: usize = 5;

pub const STATE_MAGIC: [u8; 4] = *b"MPT2";
pub const RECEIPT_MAGIC: [u8; 4] = *b"MPR2";
pub const STATE_MESSAGE_LEN: usize = 4 + 32 + 8 + 1 + 8 + 4 + 2 + 8 + 32 + 2;

/// What a stream's key signs (and, under the receipt magic, what the sequencer signs):
/// the whole state of one epoch of one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamMessage {
    pub tab: Address,
    pub incarnation: u64,
    pub slot: u8,
    pub epoch: u64,
    pub seq: u32,
    pub fee_bps: u16,
    pub total: u64,
    pub entries_hash: [u8; 32],
    pub count: u16,
}

impl StreamMessage {
    /// The bytes the stream's key signs.
    pub fn state_bytes(&self) -> [u8; STATE_MESSAGE_LEN] {
        self.encode(STATE_MAGIC)
    }

    /// The bytes the sequencer signs to receipt this state.
    pub fn receipt_bytes(&self) -> [u8; STATE_MESSAGE_LEN] {
        self.encode(RECEIPT_MAGIC)
    }

    fn encode(&self, magic: [u8; 4]) -> [u8; STATE_MESSAGE_LEN] {
        let mut out = [0u8; STATE_MESSAGE_LEN];
        let mut pos = 0;
        for field in [
            &magic[..],
            self.tab.as_ref(),
            &self.incarnation.to_le_bytes(),
            &[self.slot],
            &self.epoch.to_le_bytes(),
            &self.seq.to_le_bytes(),
            &self.fee_bps.to_le_bytes(),
            &self.total.to_le_bytes(),
            &self.entries_hash,
            &self.count.to_le_bytes(),
        ] {
            out[pos..pos + field.len()].copy_from_slice(field);
            pos += field.len();
        }
        out
    }

    /// Parses a state or receipt message; returns it with the magic it carried.
    pub fn parse(bytes: &[u8]) -> Result<(Self, [u8; 4]), ProtocolError> {
        let bytes: &[u8; STATE_MESSAGE_LEN] = bytes
            .try_into()
            .map_err(|_| ProtocolError::BadMessageLength)?;
        let magic: [u8; 4] = bytes[..4].try_into().expect("4 bytes");
        if magic != STATE_MAGIC && magic != RECEIPT_MAGIC {
            return Err(ProtocolError::BadMagic);
        }
        let field = |at: usize, len: usize| &bytes[at..at + len];
        let u64_at = |at| u64::from_le_bytes(field(at, 8).try_into().expect("8 bytes"));
        Ok((
            Self {
                tab: Address::new_from_array(field(4, 32).try_into().expect("32 bytes")),
                incarnation: u64_at(36),
                slot: bytes[44],
                epoch: u64_at(45),
                seq: u32::from_le_bytes(field(53, 4).try_into().expect("4 bytes")),
                fee_bps: u16::from_le_bytes(field(57, 2).try_into().expect("2 bytes")),
                total: u64_at(59),
                entries_hash: field(67, 32).try_into().expect("32 bytes"),
                count: u16::from_le_bytes(field(99, 2).try_into().expect("2 bytes")),
            },
            magic,
        ))
    }
}

/// One epoch of one stream as a client extends it, tip by tip: `payee wallet ->
/// amount`, ordered by the wallet's bytes as the entries hash requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamState {
    pub tab: Address,
    pub incarnation: u64,
    pub slot: u8,
    pub epoch: u64,
    pub seq: u32,
    pub fee_bps: u16,
    pub entries: BTreeMap<Address, u64>,
}

impl StreamState {
    /// The empty state that opens `epoch` of the stream.
    pub fn new(tab: Address, incarnation: u64, slot: u8, epoch: u64, fee_bps: u16) -> Self {
        Self {
            tab,
            incarnation,
            slot,
            epoch,
            seq: 0,
            fee_bps,
            entries: BTreeMap::new(),
        }
    }

    /// The state after one more tip of `amount` to `payee`.
    pub fn tip(&self, payee: Address, amount: u64) -> Result<Self, ProtocolError> {
        if amount == 0 {
            return Err(ProtocolError::ZeroAmount);
        }
        let mut next = self.clone();
        let entry = next.entries.entry(payee).or_insert(0);
        *entry = entry.checked_add(amount).ok_or(ProtocolError::Overflow)?;
        if next.entries.len() > MAX_ENTRIES {
            return Err(ProtocolError::TooManyEntries);
        }
        next.total_checked()?;
        next.seq = next.seq.checked_add(1).ok_or(ProtocolError::Overflow)?;
        Ok(next)
    }

    /// The state after one more tip: in this epoch, or, when this state already names
    /// `MAX_ENTRIES` payees and `payee` is not one of them, as the first tip of the
    /// stream's next epoch. Clients and the sequencer apply this one rule.
    pub fn tip_or_next_epoch(&self, payee: Address, amount: u64) -> Result<Self, ProtocolError> {
        match self.tip(payee, amount) {
            Err(ProtocolError::TooManyEntries) => self.next_epoch().tip(payee, amount),
            other => other,
        }
    }

    /// The empty state of the stream's next epoch.
    pub fn next_epoch(&self) -> Self {
        Self::new(
            self.tab,
            self.incarnation,
            self.slot,
            self.epoch.saturating_add(1),
            self.fee_bps,
        )
    }

    fn total_checked(&self) -> Result<u64, ProtocolError> {
        self.entries
            .values()
            .try_fold(0u64, |total, amount| total.checked_add(*amount))
            .ok_or(ProtocolError::Overflow)
    }

    /// The sum of the entries (every state reachable by `tip` has one that fits).
    pub fn total(&self) -> u64 {
        self.total_checked().expect("tip keeps the total in range")
    }

    /// The entries in signed order.
    pub fn entry_list(&self) -> Vec<(Address, u64)> {
        self.entries
            .iter()
            .map(|(payee, amount)| (*payee, *amount))
            .collect()
    }

    /// Whether this state may replace `earlier` of the same stream and epoch: a higher
    /// seq and no payee's amount lower (what a top-up requires on chain).
    pub fn extends(&self, earlier: &StreamState) -> bool {
        self.tab == earlier.tab
            && self.incarnation == earlier.incarnation
            && self.slot == earlier.slot
            && self.epoch == earlier.epoch
            && self.seq > earlier.seq
            && earlier
                .entries
                .iter()
                .all(|(payee, amount)| self.entries.get(payee).is_some_and(|now| now >= amount))
    }

    /// The message a stream key signs for this state (and a sequencer receipts).
    pub fn message(&self) -> StreamMessage {
        StreamMessage {
            tab: self.tab,
            incarnation: self.incarnation,
            slot: self.slot,
            epoch: self.epoch,
            seq: self.seq,
            fee_bps: self.fee_bps,
            total: self.total(),
            entries_hash: entries_hash(self.entries.iter().map(|(payee, amount)| (payee, *amount))),
            count: self.entries.len() as u16,
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    fn sample() -> StreamMessage {
        StreamMessage {
            tab: Address::new_from_array([7; 32]),
            incarnation: 0x0102_0304_0506_0708,
            slot: 3,
            epoch: u64::MAX - 1,
            seq: 42,
            fee_bps: 250,
            total: 1_000_001,
            entries_hash: [9; 32],
            count: 2,
        }
    }

    #[test]
    fn layout_is_101_little_endian_bytes() {
        let bytes = sample().state_bytes();
        assert_eq!(bytes.len(), 101);
        assert_eq!(&bytes[..4], b"MPT2");
        assert_eq!(&bytes[4..36], &[7; 32]);
        assert_eq!(&bytes[36..44], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(bytes[44], 3);
        assert_eq!(&bytes[45..53], &(u64::MAX - 1).to_le_bytes());
        assert_eq!(&bytes[53..57], &42u32.to_le_bytes());
        assert_eq!(&bytes[57..59], &250u16.to_le_bytes());
        assert_eq!(&bytes[59..67], &1_000_001u64.to_le_bytes());
        assert_eq!(&bytes[67..99], &[9; 32]);
        assert_eq!(&bytes[99..101], &2u16.to_le_bytes());
    }

    #[test]
    fn receipt_differs_only_in_magic_and_both_parse_back() {
        let (state, receipt) = (sample().state_bytes(), sample().receipt_bytes());
        assert_eq!(&receipt[..4], b"MPR2");
        assert_eq!(state[4..], receipt[4..]);
        assert_eq!(StreamMessage::parse(&state), Ok((sample(), STATE_MAGIC)));
        assert_eq!(
            StreamMessage::parse(&receipt),
            Ok((sample(), RECEIPT_MAGIC))
        );
    }

    #[test]
    fn tips_accumulate_sorted_within_the_entry_limit() {
        let tab = Address::new_from_array([1; 32]);
        let payee = |byte| Address::new_from_array([byte; 32]);
        let empty = StreamState::new(tab, 7, 1, 3, 100);
        let one = empty.tip(payee(9), 5).unwrap();
        let two = one.tip(payee(2), 6).unwrap().tip(payee(9), 1).unwrap();
        assert_eq!(two.seq, 3);
        assert_eq!(two.total(), 12);
        assert_eq!(two.entry_list(), vec![(payee(2), 6), (payee(9), 6)]);
        assert!(two.extends(&one) && !one.extends(&two) && !two.extends(&two));
        let message = two.message();
        assert_eq!(
            (message.slot, message.epoch, message.seq, message.count),
            (1, 3, 3, 2)
        );
        assert_eq!(empty.tip(payee(1), 0), Err(ProtocolError::ZeroAmount));
        assert_eq!(one.tip(payee(9), u64::MAX), Err(ProtocolError::Overflow));
        let mut full = empty.clone();
        for byte in 0..MAX_ENTRIES as u8 {
            full = full.tip(payee(byte), 1).unwrap();
        }
        assert_eq!(full.tip(payee(200), 1), Err(ProtocolError::TooManyEntries));
        assert!(
            full.tip(payee(0), 1).is_ok(),
            "an existing payee still fits"
        );
    }

    #[test]
    fn parse_refuses_other_lengths_and_magics() {
        let bytes = sample().state_bytes();
        assert_eq!(
            StreamMessage::parse(&bytes[..100]),
            Err(ProtocolError::BadMessageLength)
        );
        let mut v1 = bytes;
        v1[..4].copy_from_slice(b"MPT1");
        assert_eq!(StreamMessage::parse(&v1), Err(ProtocolError::BadMagic));
    }
}
