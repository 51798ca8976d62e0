//! The entries of an epoch state: `payee token account -> amount`, sorted by the raw
//! address bytes, every amount above zero, hashed as `sha256(payee || amount_le ...)`.

use alloc::vec::Vec;

use solana_address::Address;

use crate::ProtocolError;

/// Bytes hashed per entry: payee (32) and amount (8).
pub const ENTRY_HASH_LEN: usize = 40;

/// Hashes entries that the caller has already checked with [`check_entries`].
pub fn entries_hash<'a>(entries: impl IntoIterator<Item = (&'a Address, u64)>) -> [u8; 32] {
    let entries: Vec<(&Address, u64)> = entries.into_iter().collect();
    let mut buffer = alloc::vec![0u8; entries.len() * ENTRY_HASH_LEN];
    entries_hash_in(&mut buffer, entries)
}

/// [`entries_hash`] in a caller's buffer of `ENTRY_HASH_LEN` bytes per entry, so that
/// the program hashes without allocating. It is the one serialization of entries:
/// `payee(32) || amount_le(8)` each, hashed with the runtime's sha256 syscall on
/// chain and the `sha2` crate elsewhere.
pub fn entries_hash_in<'a>(
    buffer: &mut [u8],
    entries: impl IntoIterator<Item = (&'a Address, u64)>,
) -> [u8; 32] {
    let mut len = 0;
    for (payee, amount) in entries {
        buffer[len..len + 32].copy_from_slice(payee.as_ref());
        buffer[len + 32..len + ENTRY_HASH_LEN].copy_from_slice(&amount.to_le_bytes());
        len += ENTRY_HASH_LEN;
    }
    solana_sha256_hasher::hash(&buffer[..len]).to_bytes()
}

/// Checks the ordering and amount rules and returns the total of the entries.
pub fn check_entries<'a>(
    entries: impl IntoIterator<Item = (&'a Address, u64)>,
) -> Result<u64, ProtocolError> {
    let mut total: u64 = 0;
    let mut previous: Option<&Address> = None;
    for (payee, amount) in entries {
        if amount == 0 {
            return Err(ProtocolError::ZeroAmount);
        }
        if let Some(previous) = previous {
            if previous.as_ref() >= payee.as_ref() {
                return Err(ProtocolError::EntriesNotSorted);
            }
        }
        previous = Some(payee);
        total = total.checked_add(amount).ok_or(ProtocolError::Overflow)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(b: u8) -> Address {
        Address::new_from_array([b; 32])
    }

    #[test]
    fn hash_is_sha256_of_concatenated_entries() {
        let (a, b) = (addr(1), addr(2));
        let mut concatenated = Vec::new();
        concatenated.extend_from_slice(&[1; 32]);
        concatenated.extend_from_slice(&5u64.to_le_bytes());
        concatenated.extend_from_slice(&[2; 32]);
        concatenated.extend_from_slice(&7u64.to_le_bytes());
        assert_eq!(concatenated.len(), 2 * ENTRY_HASH_LEN);
        assert_eq!(
            entries_hash([(&a, 5), (&b, 7)]),
            solana_sha256_hasher::hash(&concatenated).to_bytes()
        );
        assert_ne!(
            entries_hash([(&a, 5), (&b, 7)]),
            entries_hash([(&a, 5), (&b, 8)])
        );
    }

    #[test]
    fn check_rejects_unsorted_duplicate_zero_and_overflow() {
        let (a, b) = (addr(1), addr(2));
        assert_eq!(check_entries([(&a, 5), (&b, 7)]), Ok(12));
        assert_eq!(check_entries([]), Ok(0));
        assert_eq!(
            check_entries([(&b, 5), (&a, 7)]),
            Err(ProtocolError::EntriesNotSorted)
        );
        assert_eq!(
            check_entries([(&a, 5), (&a, 7)]),
            Err(ProtocolError::EntriesNotSorted)
        );
        assert_eq!(check_entries([(&a, 0)]), Err(ProtocolError::ZeroAmount));
        assert_eq!(
            check_entries([(&a, u64::MAX), (&b, 1)]),
            Err(ProtocolError::Overflow)
        );
    }
}
