//! Signed stream states and sequencer receipts, for off-chain code: the one place a
//! client signs a state, the relayer receipts it, and either side checks both.

use solana_address::Address;
use solana_signer::{Signer, SignerError};

use crate::{
    ed25519::{verify_strict, StrictKey},
    StreamState,
};

/// A stream state with the stream key's signature over its `MPT2` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedStream {
    pub state: StreamState,
    pub signature: [u8; 64],
}

impl SignedStream {
    /// Signs `state` with the stream's key (the owner's for slot 0, else the slot's
    /// session key).
    pub fn sign(state: StreamState, key: &dyn Signer) -> Result<Self, SignerError> {
        let signature = key.try_sign_message(&state.message().state_bytes())?;
        Ok(Self {
            state,
            signature: signature.into(),
        })
    }

    /// Whether `key` signed this state, under the strict predicate the program applies.
    pub fn verify(&self, key: &Address) -> bool {
        verify_strict(
            key.as_array(),
            &self.state.message().state_bytes(),
            &self.signature,
        )
    }

    /// The sequencer's receipt for this state: its signature over the `MPR2` message.
    pub fn receipt(self, sequencer: &dyn Signer) -> Result<Receipted, SignerError> {
        let receipt = sequencer.try_sign_message(&self.state.message().receipt_bytes())?;
        Ok(Receipted {
            signed: self,
            receipt: receipt.into(),
        })
    }
}

/// A signed state and the sequencer's receipt for it: what a payee needs to settle it
/// without the relayer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipted {
    pub signed: SignedStream,
    pub receipt: [u8; 64],
}

impl Receipted {
    /// Whether `sequencer` receipted this state (strict predicate).
    pub fn receipt_verifies(&self, sequencer: &Address) -> bool {
        verify_strict(
            sequencer.as_array(),
            &self.signed.state.message().receipt_bytes(),
            &self.receipt,
        )
    }

    /// [`Self::receipt_verifies`] under the sequencer's key prepared once, for a party
    /// that checks many of its receipts (a paywall, a paying client).
    pub fn receipt_verifies_under(&self, sequencer: &impl StrictKey) -> bool {
        sequencer.verify_strict(&self.signed.state.message().receipt_bytes(), &self.receipt)
    }

    pub fn state(&self) -> &StreamState {
        &self.signed.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ed25519::{DecodedKey, PrecomputedKey};
    use solana_signer::Signer;

    struct Key(ed25519_dalek::SigningKey);

    impl Signer for Key {
        fn try_pubkey(&self) -> Result<solana_address::Address, SignerError> {
            Ok(Address::new_from_array(self.0.verifying_key().to_bytes()))
        }
        fn try_sign_message(
            &self,
            message: &[u8],
        ) -> Result<solana_signature::Signature, SignerError> {
            use ed25519_dalek::Signer as _;
            Ok(solana_signature::Signature::from(
                self.0.sign(message).to_bytes(),
            ))
        }
        fn is_interactive(&self) -> bool {
            false
        }
    }

    fn key(seed: u8) -> Key {
        Key(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn a_state_verifies_under_its_key_and_its_receipt_under_the_sequencer() {
        let (payer, sequencer) = (key(1), key(2));
        let state = StreamState::new(Address::new_from_array([9; 32]), 7, 1, 3, 50)
            .tip(Address::new_from_array([4; 32]), 1_000)
            .unwrap();
        let signed = SignedStream::sign(state, &payer).unwrap();
        assert!(signed.verify(&payer.pubkey()));
        assert!(!signed.verify(&sequencer.pubkey()));
        let receipted = signed.clone().receipt(&sequencer).unwrap();
        assert!(receipted.receipt_verifies(&sequencer.pubkey()));
        assert!(!receipted.receipt_verifies(&payer.pubkey()));
        let decoded = |key: &Key| DecodedKey::decode(key.pubkey().as_array()).unwrap();
        let precomputed = PrecomputedKey::new(&decoded(&sequencer));
        assert!(receipted.receipt_verifies_under(&decoded(&sequencer)));
        assert!(receipted.receipt_verifies_under(&precomputed));
        assert!(!receipted.receipt_verifies_under(&decoded(&payer)));
        let mut forged = receipted.clone();
        forged.receipt[1] ^= 1;
        assert!(!forged.receipt_verifies_under(&decoded(&sequencer)));
        assert!(!forged.receipt_verifies_under(&precomputed));
        // A receipt is not a state signature: the magics differ.
        let swapped = SignedStream {
            state: signed.state.clone(),
            signature: receipted.receipt,
        };
        assert!(!swapped.verify(&sequencer.pubkey()));
        let mut tampered = signed;
        tampered.state.fee_bps += 1;
        assert!(!tampered.verify(&payer.pubkey()));
    }
}
