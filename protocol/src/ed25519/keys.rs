//! Keys prepared for many verifications off chain. The predicate is always
//! [`verify_with`]; only how its one curve step, `[s]B - [k]A`, is computed differs:
//! a [`DecodedKey`] skips decompressing `A` each time; a [`PrecomputedKey`] also keeps
//! a table of `-A`'s multiples, so that `[k](-A)` is a fixed-base multiplication like
//! `[s]B`.

use alloc::boxed::Box;

use curve25519_dalek::{
    constants::ED25519_BASEPOINT_TABLE, edwards::CompressedEdwardsY,
    edwards::EdwardsBasepointTableRadix32, traits::BasepointTable, EdwardsPoint, Scalar,
};

use super::{base_times_s_plus_point_times_k, verify_with};

/// Something that answers [`super::verify_strict`] for one key.
pub trait StrictKey {
    /// Exactly [`super::verify_strict`] under this key.
    fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool;
}

/// A key decoded once for many verifications (a relayer checks each stream key's
/// states over and over): no decompression per check, which is about a tenth of one.
#[derive(Clone, Copy, Debug)]
pub struct DecodedKey {
    key: [u8; 32],
    minus_key: EdwardsPoint,
}

impl DecodedKey {
    /// `None` if `key` is not a point on the curve: no signature verifies under it.
    pub fn decode(key: &[u8; 32]) -> Option<Self> {
        let point = CompressedEdwardsY(*key).decompress()?;
        Some(Self {
            key: *key,
            minus_key: -point,
        })
    }
}

impl StrictKey for DecodedKey {
    fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        verify_with(&self.key, message, signature, |s, k| {
            base_times_s_plus_point_times_k(s, k, &self.minus_key)
        })
    }
}

/// A key with a table of its multiples, for a party that checks thousands of one
/// key's signatures (a paywall and its clients check every receipt under the
/// sequencer's key). The curve step becomes two fixed-base multiplications, about a
/// third cheaper than the double-base one; building the table costs about 150
/// checks' worth of that saving and 61 KiB (ADR 0012).
pub struct PrecomputedKey {
    key: [u8; 32],
    minus_key_multiples: Box<EdwardsBasepointTableRadix32>,
}

impl PrecomputedKey {
    pub fn new(key: &DecodedKey) -> Self {
        Self {
            key: key.key,
            minus_key_multiples: Box::new(EdwardsBasepointTableRadix32::create(&key.minus_key)),
        }
    }
}

impl StrictKey for PrecomputedKey {
    fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        verify_with(&self.key, message, signature, |s, k| {
            let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*s))?;
            let k = Option::<Scalar>::from(Scalar::from_canonical_bytes(*k))?;
            let point = ED25519_BASEPOINT_TABLE * &s + &*self.minus_key_multiples * &k;
            Some(point.compress().to_bytes())
        })
    }
}

impl core::fmt::Debug for PrecomputedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PrecomputedKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    use super::*;
    use crate::{
        ed25519::{is_canonical_point_encoding, verify_strict, SMALL_ORDER_ENCODINGS},
        vectors::taming_cases,
    };

    /// Each prepared key's answer, `None` where the key does not decode.
    fn prepared(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Option<(bool, bool)> {
        let decoded = DecodedKey::decode(key)?;
        let precomputed = PrecomputedKey::new(&decoded);
        Some((
            decoded.verify_strict(message, signature),
            precomputed.verify_strict(message, signature),
        ))
    }

    /// The Taming vectors include keys and `R`s with a torsion component, where a
    /// table built or used wrongly would answer differently.
    #[test]
    fn prepared_keys_agree_with_verify_strict_on_the_taming_vectors() {
        for (index, (message, key, signature)) in taming_cases().enumerate() {
            let expected = verify_strict(&key, &message, &signature);
            let answers = prepared(&key, &message, &signature).unwrap_or((false, false));
            assert_eq!(answers, (expected, expected), "vector {index}");
        }
    }

    #[test]
    fn prepared_keys_refuse_what_verify_strict_refuses() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let public = key.verifying_key().to_bytes();
        let signature = key.sign(b"m").to_bytes();
        assert_eq!(prepared(&public, b"m", &signature), Some((true, true)));
        assert_eq!(prepared(&public, b"n", &signature), Some((false, false)));
        // Small-order keys decode but verify nothing, as under verify_strict.
        for encoding in SMALL_ORDER_ENCODINGS
            .iter()
            .filter(|e| is_canonical_point_encoding(e))
        {
            assert_eq!(prepared(encoding, b"m", &signature), Some((false, false)));
        }
    }

    proptest! {
        #[test]
        fn prepared_keys_agree_with_verify_strict(
            seed in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..200),
            flip in 0usize..96,
            corrupt in any::<bool>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let mut public = key.verifying_key().to_bytes();
            let mut signature = key.sign(&message).to_bytes();
            if corrupt {
                if flip < 64 { signature[flip] ^= 1 } else { public[flip - 64] ^= 1 }
            }
            let expected = verify_strict(&public, &message, &signature);
            prop_assert_eq!(expected, !corrupt);
            let answers = prepared(&public, &message, &signature).unwrap_or((false, false));
            prop_assert_eq!(answers, (expected, expected));
        }

        /// Signatures whose `R` is any point, not one a signer made: the curve step's
        /// result is compared with `R` for every kind of scalar and point.
        #[test]
        fn the_table_computes_the_same_point_as_the_double_base_path(
            seed in any::<[u8; 32]>(),
            s in any::<[u8; 32]>(),
            k in any::<[u8; 32]>(),
        ) {
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            let decoded = DecodedKey::decode(&public).unwrap();
            let precomputed = PrecomputedKey::new(&decoded);
            let (s, k) = (crate::scalar::reduce_wide(&[s, [0; 32]].concat().try_into().unwrap()),
                          crate::scalar::reduce_wide(&[k, [0; 32]].concat().try_into().unwrap()));
            let s = Scalar::from_canonical_bytes(s).unwrap();
            let k = Scalar::from_canonical_bytes(k).unwrap();
            let by_table = ED25519_BASEPOINT_TABLE * &s + &*precomputed.minus_key_multiples * &k;
            let by_double_base =
                EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &decoded.minus_key, &s);
            prop_assert_eq!(by_table.compress(), by_double_base.compress());
        }
    }
}
