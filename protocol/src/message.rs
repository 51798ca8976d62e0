//! The signed tab-state message: a fixed 98-byte little-endian layout.
//!
//! ```text
//! magic        4  b"MPT1"
//! tab         32  tab address (binds config, owner and cluster)
//! incarnation  8  the tab's incarnation (binds this life of the tab)
//! epoch        8
//! seq          4
//! total        8  sum of entry amounts
//! entries     32  sha256 over the sorted entries, each payee(32) || amount(8)
//! count        2  number of entries
//! ```

use solana_address::Address;

use crate::ProtocolError;

pub const MAGIC: [u8; 4] = *b"MPT1";
pub const MESSAGE_LEN: usize = 4 + 32 + 8 + 8 + 4 + 8 + 32 + 2;

/// What a payer signs: the whole state of one epoch of one tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipMessage {
    pub tab: Address,
    pub incarnation: u64,
    pub epoch: u64,
    pub seq: u32,
    pub total: u64,
    pub entries_hash: [u8; 32],
    pub count: u16,
}

impl TipMessage {
    pub fn to_bytes(&self) -> [u8; MESSAGE_LEN] {
        let mut out = [0u8; MESSAGE_LEN];
        let mut w = Writer {
            buf: &mut out,
            pos: 0,
        };
        w.put(&MAGIC);
        w.put(self.tab.as_ref());
        w.put(&self.incarnation.to_le_bytes());
        w.put(&self.epoch.to_le_bytes());
        w.put(&self.seq.to_le_bytes());
        w.put(&self.total.to_le_bytes());
        w.put(&self.entries_hash);
        w.put(&self.count.to_le_bytes());
        debug_assert_eq!(w.pos, MESSAGE_LEN);
        out
    }

    /// Parses exactly one message; any other length or magic is rejected.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let bytes: &[u8; MESSAGE_LEN] = bytes
            .try_into()
            .map_err(|_| ProtocolError::BadMessageLength)?;
        if bytes[..4] != MAGIC {
            return Err(ProtocolError::BadMagic);
        }
        let mut r = Reader { buf: bytes, pos: 4 };
        let tab = Address::new_from_array(r.take());
        let incarnation = u64::from_le_bytes(r.take());
        let epoch = u64::from_le_bytes(r.take());
        let seq = u32::from_le_bytes(r.take());
        let total = u64::from_le_bytes(r.take());
        let entries_hash = r.take();
        let count = u16::from_le_bytes(r.take());
        Ok(Self {
            tab,
            incarnation,
            epoch,
            seq,
            total,
            entries_hash,
            count,
        })
    }
}

struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TipMessage {
        TipMessage {
            tab: Address::new_from_array([7; 32]),
            incarnation: 3,
            epoch: u64::MAX - 1,
            seq: 42,
            total: 1_000_001,
            entries_hash: [9; 32],
            count: 2,
        }
    }

    #[test]
    fn round_trips_and_is_98_bytes() {
        let bytes = sample().to_bytes();
        assert_eq!(bytes.len(), 98);
        assert_eq!(&bytes[..4], b"MPT1");
        assert_eq!(&bytes[4..36], &[7; 32]);
        assert_eq!(&bytes[36..44], &3u64.to_le_bytes());
        assert_eq!(&bytes[96..98], &2u16.to_le_bytes());
        assert_eq!(TipMessage::parse(&bytes).unwrap(), sample());
    }

    #[test]
    fn rejects_wrong_length_and_magic() {
        let bytes = sample().to_bytes();
        assert_eq!(
            TipMessage::parse(&bytes[..97]),
            Err(ProtocolError::BadMessageLength)
        );
        let mut longer = [0u8; 99];
        longer[..98].copy_from_slice(&bytes);
        assert_eq!(
            TipMessage::parse(&longer),
            Err(ProtocolError::BadMessageLength)
        );
        let mut bad = bytes;
        bad[0] = b'X';
        assert_eq!(TipMessage::parse(&bad), Err(ProtocolError::BadMagic));
    }
}
