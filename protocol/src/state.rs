//! The state of one epoch of a tab, which clients extend one tip at a time and sign whole.

use alloc::{collections::BTreeMap, vec::Vec};

use solana_address::Address;

use crate::{entries_hash, ProtocolError, SettleEntry, SettleItem, TipMessage};

/// `payee token account -> amount` for one epoch, plus its sequence number.
/// Ordered by the raw address bytes, as the signed entries hash requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochState {
    pub tab: Address,
    pub incarnation: u64,
    pub epoch: u64,
    pub seq: u32,
    pub total: u64,
    pub entries: BTreeMap<Address, u64>,
}

impl EpochState {
    /// The empty state that starts `epoch`.
    pub fn new(tab: Address, incarnation: u64, epoch: u64) -> Self {
        Self {
            tab,
            incarnation,
            epoch,
            seq: 0,
            total: 0,
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
        next.total = next
            .total
            .checked_add(amount)
            .ok_or(ProtocolError::Overflow)?;
        next.seq = next.seq.checked_add(1).ok_or(ProtocolError::Overflow)?;
        if u16::try_from(next.entries.len()).is_err() {
            return Err(ProtocolError::TooManyEntries);
        }
        Ok(next)
    }

    /// The message a payer signs for this state.
    pub fn message(&self) -> TipMessage {
        TipMessage {
            tab: self.tab,
            incarnation: self.incarnation,
            epoch: self.epoch,
            seq: self.seq,
            total: self.total,
            entries_hash: entries_hash(self.entries.iter().map(|(payee, amount)| (payee, *amount))),
            // `tip` refuses to grow past u16::MAX entries.
            count: self.entries.len() as u16,
        }
    }

    /// The settle item for this state, naming each payee by its index in `payees`.
    /// Returns `None` if a payee of this state is missing from `payees` or `payees`
    /// is longer than an index byte can address.
    pub fn settle_item(&self, payees: &[Address]) -> Option<SettleItem> {
        let entries = self
            .entries
            .iter()
            .map(|(payee, amount)| {
                let index = payees.iter().position(|p| p == payee)?;
                Some(SettleEntry {
                    payee_index: u8::try_from(index).ok()?,
                    amount: *amount,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(SettleItem { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_entries;

    fn addr(b: u8) -> Address {
        Address::new_from_array([b; 32])
    }

    #[test]
    fn tips_accumulate_sorted_and_sequenced() {
        let s0 = EpochState::new(addr(9), 1, 4);
        let s1 = s0.tip(addr(3), 5).unwrap();
        let s2 = s1.tip(addr(1), 2).unwrap();
        let s3 = s2.tip(addr(3), 1).unwrap();
        assert_eq!((s3.seq, s3.total, s3.entries.len()), (3, 8, 2));
        let sorted: Vec<_> = s3.entries.iter().map(|(p, a)| (p, *a)).collect();
        assert_eq!(sorted, [(&addr(1), 2), (&addr(3), 6)]);
        assert_eq!(check_entries(sorted.iter().copied()), Ok(8));
        let m = s3.message();
        assert_eq!((m.epoch, m.seq, m.total, m.count), (4, 3, 8, 2));
        assert_ne!(m.entries_hash, s2.message().entries_hash);
        // The untouched earlier state is unchanged.
        assert_eq!(s1.total, 5);
    }

    #[test]
    fn tip_rejects_zero_and_overflow() {
        let s = EpochState::new(addr(9), 1, 0)
            .tip(addr(1), u64::MAX)
            .unwrap();
        assert_eq!(s.tip(addr(2), 0), Err(ProtocolError::ZeroAmount));
        assert_eq!(s.tip(addr(2), 1), Err(ProtocolError::Overflow));
    }

    #[test]
    fn settle_item_indexes_payees() {
        let s = EpochState::new(addr(9), 1, 0)
            .tip(addr(5), 7)
            .unwrap()
            .tip(addr(2), 3)
            .unwrap();
        let item = s.settle_item(&[addr(5), addr(7), addr(2)]).unwrap();
        assert_eq!(
            item.entries,
            [
                SettleEntry {
                    payee_index: 2,
                    amount: 3
                },
                SettleEntry {
                    payee_index: 0,
                    amount: 7
                }
            ]
        );
        assert!(s.settle_item(&[addr(5)]).is_none());
    }
}
