//! Signatures verified lately. A paid call's state is checked at `/x402/verify` and
//! again, moments later, at `/x402/settle`; the second check finds the same key,
//! message and signature here and skips the curve arithmetic, which is most of what a
//! check costs.

use std::collections::HashMap;

use micropay_protocol::{SignedStream, STATE_MESSAGE_LEN};
use solana_sdk::pubkey::Pubkey;

/// How many verified signatures are kept; when full, the memo starts over.
const REMEMBERED: usize = 16_384;

/// Each verified signature, with the key and the state message it was verified for.
type Memo = HashMap<[u8; 64], ([u8; 32], [u8; STATE_MESSAGE_LEN])>;

#[derive(Default)]
pub struct VerifiedSignatures {
    recent: std::sync::Mutex<Memo>,
}

impl VerifiedSignatures {
    /// Whether `key` signed `submitted` under the strict predicate: the same answer as
    /// [`SignedStream::verify`], from memory when this exact triple passed before.
    pub fn verify(&self, submitted: &SignedStream, key: &Pubkey) -> bool {
        let message = submitted.state.message().state_bytes();
        let seen = (key.to_bytes(), message);
        if self.recent().get(&submitted.signature) == Some(&seen) {
            return true;
        }
        if !micropay_protocol::ed25519::verify_strict(&seen.0, &message, &submitted.signature) {
            return false;
        }
        let mut recent = self.recent();
        if recent.len() >= REMEMBERED {
            recent.clear();
        }
        recent.insert(submitted.signature, seen);
        true
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Memo> {
        // A panic while holding the lock leaves a valid map: only whole entries go in.
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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
