//! Signatures verified lately, and stream keys decoded once. A paid call's state is
//! checked at `/x402/verify` and again, moments later, at `/x402/settle`; the second
//! check finds the same key, message and signature here and skips the curve
//! arithmetic, which is most of what a check costs. Every other check runs the
//! predicate under the stream key as decoded the first time it was used.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use micropay_protocol::{
    ed25519::{DecodedKey, StrictKey},
    SignedStream, STATE_MESSAGE_LEN,
};
use solana_sdk::pubkey::Pubkey;

/// How many verified signatures, and how many decoded keys, are kept; when full, a
/// memo starts over.
const REMEMBERED: usize = 16_384;

/// Each verified signature, with the key and the state message it was verified for.
type Memo = HashMap<[u8; 64], ([u8; 32], [u8; STATE_MESSAGE_LEN])>;

#[derive(Default)]
pub struct VerifiedSignatures {
    recent: Mutex<Memo>,
    keys: Mutex<HashMap<[u8; 32], DecodedKey>>,
}

impl VerifiedSignatures {
    /// Whether `key` signed `submitted` under the strict predicate: the same answer as
    /// [`SignedStream::verify`], from memory when this exact triple passed before.
    pub fn verify(&self, submitted: &SignedStream, key: &Pubkey) -> bool {
        let message = submitted.state.message().state_bytes();
        let seen = (key.to_bytes(), message);
        if lock(&self.recent).get(&submitted.signature) == Some(&seen) {
            return true;
        }
        let verified = self
            .decoded(&seen.0)
            .is_some_and(|key| key.verify_strict(&message, &submitted.signature));
        if !verified {
            return false;
        }
        let mut recent = lock(&self.recent);
        if recent.len() >= REMEMBERED {
            recent.clear();
        }
        recent.insert(submitted.signature, seen);
        true
    }

    /// `key` decoded, from memory after its first use; `None` if it is not a point.
    fn decoded(&self, key: &[u8; 32]) -> Option<DecodedKey> {
        if let Some(decoded) = lock(&self.keys).get(key) {
            return Some(*decoded);
        }
        let decoded = DecodedKey::decode(key)?;
        let mut keys = lock(&self.keys);
        if keys.len() >= REMEMBERED {
            keys.clear();
        }
        keys.insert(*key, decoded);
        Some(decoded)
    }
}

fn lock<T>(memo: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves a valid map: only whole entries go in.
    memo.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use micropay_protocol::StreamState;
    use solana_sdk::{signature::Keypair, signer::Signer};

    use super::*;

    #[test]
    fn a_remembered_signature_passes_only_for_its_own_key_and_state() {
        let (key, other) = (Keypair::new(), Keypair::new());
        let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100)
            .tip(Pubkey::new_unique(), 10)
            .unwrap();
        let signed = SignedStream::sign(state.clone(), &key).unwrap();
        let memo = VerifiedSignatures::default();
        assert!(memo.verify(&signed, &key.pubkey()));
        assert!(memo.verify(&signed, &key.pubkey()), "remembered");
        assert!(!memo.verify(&signed, &other.pubkey()), "another key");
        // The remembered signature over another state.
        let mut altered = signed.clone();
        altered.state = state.tip(Pubkey::new_unique(), 1).unwrap();
        assert!(!memo.verify(&altered, &key.pubkey()), "another state");
        let mut forged = signed;
        forged.signature[0] ^= 1;
        assert!(!memo.verify(&forged, &key.pubkey()));
    }
}
