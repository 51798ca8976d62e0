//! Scalars modulo the group order `L = 2^252 + 27742317777372353535851937790883648493`.
//!
//! `reduce_wide` is ref10's `sc_reduce` (signed 21-bit limbs), written with loops:
//! on SBF it costs about 1.2k compute units where curve25519-dalek's reduction costs
//! about 8.7k, and every settled stream pays it once (docs/adr/0002). A property test
//! checks it against curve25519-dalek.

/// `L`, little-endian.
pub const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Whether the little-endian `scalar` is below `L`.
pub fn is_canonical_scalar(scalar: &[u8; 32]) -> bool {
    for (byte, l) in scalar.iter().zip(L.iter()).rev() {
        if byte != l {
            return byte < l;
        }
    }
    false
}

const LIMB_BITS: u32 = 21;
const LIMB_MASK: i64 = (1 << LIMB_BITS) - 1;
/// `2^252 = -(L - 2^252) mod L`, spread over 21-bit limbs: a limb `c` at position
/// `i >= 12` is worth `c * 2^(21 i)`, which equals `-c * (L - 2^252) * 2^(21 (i - 12))`.
const FOLD: [i64; 6] = [666_643, 470_296, 654_183, -997_805, 136_657, -683_901];

/// Reduces a 512-bit little-endian number (a SHA-512 digest) modulo `L`.
///
/// Every limb index is a constant (const generics, expanded by `each!`), so on SBF
/// there is no loop and no bounds check: about a quarter of the cost of the same code
/// written with loops.
pub fn reduce_wide(wide: &[u8; 64]) -> [u8; 32] {
    let mut limbs = [0i64; 24];
    let l = &mut limbs;
    each!(load(l, wide); 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23);

    // The order of folds and carries is ref10's: it keeps every limb within i64.
    each!(fold(l); 23 22 21 20 19 18);
    each!(carry_rounded(l); 6 8 10 12 14 16 7 9 11 13 15);
    each!(fold(l); 17 16 15 14 13 12);
    each!(carry_rounded(l); 0 2 4 6 8 10 1 3 5 7 9 11);
    each!(fold(l); 12);
    each!(carry_floor(l); 0 1 2 3 4 5 6 7 8 9 10 11);
    each!(fold(l); 12);
    each!(carry_floor(l); 0 1 2 3 4 5 6 7 8 9 10);

    let mut out = [0u8; 32];
    let (l, o) = (&limbs, &mut out);
    each!(pack(l, o); 0 1 2 3 4 5 6 7 8 9 10 11);
    out
}

/// `each!(f(args); 1 2 3)` calls `f::<1>(args)`, `f::<2>(args)`, ...
macro_rules! each {
    ($function:ident $arguments:tt; $($position:literal)+) => {
        $($function::<$position> $arguments;)+
    };
}
use each;

/// Limb `I` of the 24 signed 21-bit limbs of `wide` (the last one takes the top 29
/// bits).
#[inline(always)]
fn load<const I: usize>(limbs: &mut [i64; 24], wide: &[u8; 64]) {
    let bit = I * LIMB_BITS as usize;
    let byte = bit / 8;
    let mut window = 0i64;
    let mut offset = 0;
    while offset < 4 && byte + offset < 64 {
        window |= (wide[byte + offset] as i64) << (8 * offset);
        offset += 1;
    }
    limbs[I] = window >> (bit % 8);
    if I < 23 {
        limbs[I] &= LIMB_MASK;
    }
}

/// ORs limb `I` (reduced: non-negative, 21 bits) into its bits of `out`.
#[inline(always)]
fn pack<const I: usize>(limbs: &[i64; 24], out: &mut [u8; 32]) {
    let bit = I * LIMB_BITS as usize;
    let byte = bit / 8;
    let value = (limbs[I] as u64) << (bit % 8);
    let mut offset = 0;
    while offset < 4 && byte + offset < 32 {
        out[byte + offset] |= (value >> (8 * offset)) as u8;
        offset += 1;
    }
}

#[inline(always)]
fn fold<const P: usize>(limbs: &mut [i64; 24]) {
    let carry = limbs[P];
    limbs[P - 12] += carry * FOLD[0];
    limbs[P - 11] += carry * FOLD[1];
    limbs[P - 10] += carry * FOLD[2];
    limbs[P - 9] += carry * FOLD[3];
    limbs[P - 8] += carry * FOLD[4];
    limbs[P - 7] += carry * FOLD[5];
    limbs[P] = 0;
}

#[inline(always)]
fn carry_rounded<const P: usize>(limbs: &mut [i64; 24]) {
    let carry = (limbs[P] + (1 << (LIMB_BITS - 1))) >> LIMB_BITS;
    limbs[P + 1] += carry;
    limbs[P] -= carry << LIMB_BITS;
}

#[inline(always)]
fn carry_floor<const P: usize>(limbs: &mut [i64; 24]) {
    let carry = limbs[P] >> LIMB_BITS;
    limbs[P + 1] += carry;
    limbs[P] -= carry << LIMB_BITS;
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::Scalar;
    use proptest::prelude::*;

    use super::*;

    fn dalek(wide: &[u8; 64]) -> [u8; 32] {
        Scalar::from_bytes_mod_order_wide(wide).to_bytes()
    }

    #[test]
    fn reduces_edge_values_like_dalek() {
        let mut l_wide = [0u8; 64];
        l_wide[..32].copy_from_slice(&L);
        for wide in [[0u8; 64], [0xff; 64], l_wide, {
            let mut one_below = l_wide;
            one_below[0] -= 1;
            one_below
        }] {
            assert_eq!(reduce_wide(&wide), dalek(&wide), "{wide:02x?}");
        }
    }

    #[test]
    fn canonical_means_below_l() {
        let mut below = L;
        below[0] -= 1;
        assert!(is_canonical_scalar(&below));
        assert!(!is_canonical_scalar(&L));
        assert!(!is_canonical_scalar(&[0xff; 32]));
        assert!(is_canonical_scalar(&[0; 32]));
    }

    proptest! {
        #[test]
        fn reduce_wide_matches_dalek(wide in proptest::array::uniform32(any::<u8>())
            .prop_flat_map(|low| proptest::array::uniform32(any::<u8>()).prop_map(move |high| {
                let mut wide = [0u8; 64];
                wide[..32].copy_from_slice(&low);
                wide[32..].copy_from_slice(&high);
                wide
            })))
        {
            prop_assert_eq!(reduce_wide(&wide), dalek(&wide));
            prop_assert!(is_canonical_scalar(&reduce_wide(&wide)));
        }
    }
}
