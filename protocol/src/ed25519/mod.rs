//! The one signature predicate: strict ed25519 as Agave's precompile applies it
//! (ed25519-dalek's `verify_strict`): `S < L`, neither `R` nor the key of small order,
//! the cofactorless equation `[S]B = R + [k]A` checked by comparing encodings.
//!
//! The program and every off-chain check run this same function. Only the one curve
//! operation, `[S]B - [k]A`, is computed two ways: on chain through the runtime's
//! curve syscalls (`solana-curve25519`), off chain by curve25519-dalek's
//! variable-time double-base multiplication (every input is public), which costs
//! about half of the general multiscalar path `solana-curve25519` takes off chain; a
//! property test checks the two agree. A party that checks one key's signatures over
//! and over prepares the key once (`keys`). SHA-512 is software (`sha2`) because
//! mainnet has no SHA-512 syscall yet.

use sha2::{Digest, Sha512};
use solana_curve25519::edwards::{validate_edwards, PodEdwardsPoint};
#[cfg(any(target_os = "solana", test))]
use solana_curve25519::{edwards::multiscalar_multiply_edwards, scalar::PodScalar};

use crate::scalar::{is_canonical_scalar, reduce_wide};

#[cfg(not(target_os = "solana"))]
mod keys;
#[cfg(not(target_os = "solana"))]
pub use keys::{DecodedKey, PrecomputedKey, StrictKey};

/// The compressed base point.
#[cfg(any(target_os = "solana", test))]
const BASE_POINT: [u8; 32] = [
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
];

/// Every encoding (sign bit cleared) that decodes to a point of small order: the
/// canonical `y` of the eight torsion points, plus `p` and `p + 1`, the non-canonical
/// encodings of `y = 0` and `y = 1`. A test derives the set from curve25519-dalek.
const SMALL_ORDER_ENCODINGS: [[u8; 32]; 7] = [
    // y = 0 (order 4)
    [0; 32],
    // y = 1 (the identity)
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    // order 8
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // order 8
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // y = p - 1 (order 2)
    field_top(0xec),
    // y = p, non-canonical 0
    field_top(0xed),
    // y = p + 1, non-canonical 1
    field_top(0xee),
];

/// `low, 0xff.., 0x7f`: the encodings of `p - 1`, `p` and `p + 1`.
const fn field_top(low: u8) -> [u8; 32] {
    let mut bytes = [0xff; 32];
    bytes[0] = low;
    bytes[31] = 0x7f;
    bytes
}

/// Whether `encoding` decodes to a point of small order (or to the identity).
pub fn has_small_order(encoding: &[u8; 32]) -> bool {
    // Byte 1 of every such encoding is 0x00, 0xff, 0xe8 or 0x17: one comparison
    // rules out almost every key before the full ones (this runs per signature).
    if !matches!(encoding[1], 0x00 | 0xff | 0xe8 | 0x17) {
        return false;
    }
    let mut y = *encoding;
    y[31] &= 0x7f;
    SMALL_ORDER_ENCODINGS.contains(&y)
}

/// Whether `encoding` is canonical: `y < p`, and the sign bit clear when `x = 0`.
pub fn is_canonical_point_encoding(encoding: &[u8; 32]) -> bool {
    let y_high = encoding[31] & 0x7f;
    let y_at_least_p =
        y_high == 0x7f && encoding[1..31].iter().all(|&b| b == 0xff) && encoding[0] >= 0xed;
    // x = 0 only for y = 1 and y = -1.
    let x_is_zero = {
        let mut y = *encoding;
        y[31] = y_high;
        y == SMALL_ORDER_ENCODINGS[1] || y == SMALL_ORDER_ENCODINGS[4]
    };
    let sign = encoding[31] & 0x80 != 0;
    !(y_at_least_p || (x_is_zero && sign))
}

/// Whether a key may be registered as a stream or sequencer key: a canonical encoding
/// of a point on the curve that is not of small order. Every key that passes verifies
/// exactly as the precompile would.
pub fn is_acceptable_key(key: &[u8; 32]) -> bool {
    is_canonical_point_encoding(key)
        && !has_small_order(key)
        && validate_edwards(&PodEdwardsPoint(*key))
}

/// Strict ed25519 verification of `signature` by `key` over `message`.
#[inline(never)]
pub fn verify_strict(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    verify_with(key, message, signature, |s, k| {
        base_times_s_minus_key_times_k(s, k, key)
    })
}

/// The predicate, given the curve step `(s, k) -> [s]B - [k]A` for this key: every
/// check but that step is here, whoever computes it.
fn verify_with(
    key: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
    curve_step: impl FnOnce(&[u8; 32], &[u8; 32]) -> Option<[u8; 32]>,
) -> bool {
    let r: [u8; 32] = signature[..32].try_into().expect("32 bytes");
    let s: [u8; 32] = signature[32..].try_into().expect("32 bytes");
    if !is_canonical_scalar(&s) || has_small_order(&r) || has_small_order(key) {
        return false;
    }
    let digest: [u8; 64] = Sha512::new()
        .chain_update(r)
        .chain_update(key)
        .chain_update(message)
        .finalize()
        .into();
    let k = reduce_wide(&digest);
    curve_step(&s, &k) == Some(r)
}

/// `[s]B - [k]A` compressed, `A` being `key` (not of small order); `None` if `key`
/// does not decode. Through the curve syscalls: `[s]B + [k](-A)`, where `-A` flips the
/// sign of x, which is non-zero for every point that is not of small order.
#[cfg(any(target_os = "solana", test))]
fn via_curve_syscalls(s: &[u8; 32], k: &[u8; 32], key: &[u8; 32]) -> Option<[u8; 32]> {
    let mut minus_key = *key;
    minus_key[31] ^= 0x80;
    multiscalar_multiply_edwards(
        &[PodScalar(*s), PodScalar(*k)],
        &[PodEdwardsPoint(BASE_POINT), PodEdwardsPoint(minus_key)],
    )
    .map(|point| point.0)
}

#[cfg(target_os = "solana")]
use via_curve_syscalls as base_times_s_minus_key_times_k;

/// The same point off chain, by variable-time double-base multiplication.
#[cfg(not(target_os = "solana"))]
fn base_times_s_minus_key_times_k(s: &[u8; 32], k: &[u8; 32], key: &[u8; 32]) -> Option<[u8; 32]> {
    let point = curve25519_dalek::edwards::CompressedEdwardsY(*key).decompress()?;
    base_times_s_plus_point_times_k(s, k, &-point)
}

#[cfg(not(target_os = "solana"))]
fn base_times_s_plus_point_times_k(
    s: &[u8; 32],
    k: &[u8; 32],
    point: &curve25519_dalek::EdwardsPoint,
) -> Option<[u8; 32]> {
    use curve25519_dalek::{EdwardsPoint, Scalar};
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*s))?;
    let k = Option::<Scalar>::from(Scalar::from_canonical_bytes(*k))?;
    let point = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, point, &s);
    Some(point.compress().to_bytes())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::BTreeSet;

    use curve25519_dalek::{constants::EIGHT_TORSION, edwards::CompressedEdwardsY};
    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
    use proptest::prelude::*;

    use super::*;

    fn dalek_verify(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(key)
            .map(|key| {
                key.verify_strict(message, &Signature::from_bytes(signature))
                    .is_ok()
            })
            .unwrap_or(false)
    }

    #[test]
    fn small_order_encodings_are_exactly_the_torsion_points() {
        let from_dalek: BTreeSet<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|point| {
                let mut y = point.compress().to_bytes();
                y[31] &= 0x7f;
                y
            })
            .collect();
        let ours: BTreeSet<[u8; 32]> = SMALL_ORDER_ENCODINGS.iter().copied().collect();
        let canonical: BTreeSet<[u8; 32]> = ours
            .iter()
            .copied()
            .filter(is_canonical_point_encoding)
            .collect();
        assert_eq!(canonical, from_dalek);
        for encoding in SMALL_ORDER_ENCODINGS {
            let point = CompressedEdwardsY(encoding).decompress().expect("on curve");
            assert!(point.is_small_order(), "{encoding:02x?}");
        }
    }

    #[test]
    fn the_quick_filter_keeps_every_small_order_encoding() {
        for encoding in SMALL_ORDER_ENCODINGS {
            assert!(matches!(encoding[1], 0x00 | 0xff | 0xe8 | 0x17));
            assert!(has_small_order(&encoding));
        }
    }

    #[test]
    fn base_point_is_dalek_s() {
        assert_eq!(
            BASE_POINT,
            curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes()
        );
    }

    #[test]
    fn accepts_real_signatures_and_refuses_tampering() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let public = key.verifying_key().to_bytes();
        let message = b"micropay";
        let signature = key.sign(message).to_bytes();
        assert!(verify_strict(&public, message, &signature));
        assert!(is_acceptable_key(&public));
        assert!(!verify_strict(&public, b"micropaY", &signature));
        let mut bad = signature;
        bad[40] ^= 1;
        assert!(!verify_strict(&public, message, &bad));
    }

    #[test]
    fn refuses_malleated_s() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let public = key.verifying_key().to_bytes();
        let signature = key.sign(b"m").to_bytes();
        // S + L verifies under a lax check but is not canonical.
        let mut s = [0u8; 32];
        s.copy_from_slice(&signature[32..]);
        let mut carry = 0u16;
        for (byte, l) in s.iter_mut().zip(crate::scalar::L) {
            let sum = *byte as u16 + l as u16 + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        let mut malleated = signature;
        malleated[32..].copy_from_slice(&s);
        assert!(!verify_strict(&public, b"m", &malleated));
        assert!(!dalek_verify(&public, b"m", &malleated));
    }

    #[test]
    fn refuses_small_order_and_non_canonical_keys() {
        for encoding in SMALL_ORDER_ENCODINGS {
            for sign in [0, 0x80] {
                let mut key = encoding;
                key[31] |= sign;
                assert!(!is_acceptable_key(&key), "{key:02x?}");
            }
        }
        let public = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes();
        // The same y plus p is not representable for large y; a small y plus p is.
        let mut two_plus_p = field_top(0xef);
        assert!(!is_canonical_point_encoding(&two_plus_p));
        two_plus_p[31] |= 0x80;
        assert!(!is_acceptable_key(&two_plus_p));
        let mut off_curve = public;
        off_curve[0] ^= 1;
        if !validate_edwards(&PodEdwardsPoint(off_curve)) {
            assert!(!is_acceptable_key(&off_curve));
        }
    }

    use crate::vectors::taming_cases;

    #[test]
    fn agrees_with_dalek_verify_strict_on_the_taming_vectors() {
        for (index, (message, key, signature)) in taming_cases().enumerate() {
            assert_eq!(
                verify_strict(&key, &message, &signature),
                dalek_verify(&key, &message, &signature),
                "vector {index}"
            );
        }
    }

    proptest! {
        #[test]
        fn agrees_with_dalek_on_random_keys_messages_and_corruptions(
            seed in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..200),
            flip in 0usize..96,
            corrupt in any::<bool>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let public = key.verifying_key().to_bytes();
            let mut signature = key.sign(&message).to_bytes();
            let mut public_used = public;
            if corrupt {
                if flip < 64 { signature[flip] ^= 1 } else { public_used[flip - 64] ^= 1 }
            }
            prop_assert_eq!(
                verify_strict(&public_used, &message, &signature),
                dalek_verify(&public_used, &message, &signature)
            );
            prop_assert_eq!(verify_strict(&public_used, &message, &signature), !corrupt);
        }

        #[test]
        fn the_off_chain_curve_path_agrees_with_the_syscall_path(
            s in any::<[u8; 32]>(),
            k in any::<[u8; 32]>(),
            key in any::<[u8; 32]>(),
            use_real_key in any::<bool>(),
        ) {
            // Canonical scalars, as the predicate passes them; keys that decode and
            // keys that do not.
            let (s, k) = (reduce_wide(&[s, [0; 32]].concat().try_into().unwrap()),
                          reduce_wide(&[k, [0; 32]].concat().try_into().unwrap()));
            let key = if use_real_key {
                SigningKey::from_bytes(&key).verifying_key().to_bytes()
            } else {
                key
            };
            prop_assume!(!has_small_order(&key));
            prop_assert_eq!(
                base_times_s_minus_key_times_k(&s, &k, &key),
                via_curve_syscalls(&s, &k, &key)
            );
        }
    }
}
