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

use solana_address::Address;

use crate::ProtocolError;

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

#[cfg(test)]
mod tests {
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
