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
pub fn reduce_wide(wide: &[u8; 64]) -> [u8; 32] {
    let mut limbs = [0i64; 24];
    for (index, limb) in limbs.iter_mut().enumerate() {
        let bit = index as u32 * LIMB_BITS;
        let byte = (bit / 8) as usize;
        let mut window = 0i64;
        for (offset, value) in wide[byte..(byte + 4).min(64)].iter().enumerate() {
            window |= (*value as i64) << (8 * offset);
        }
        *limb = window >> (bit % 8);
        if index < 23 {
            *limb &= LIMB_MASK;
        }
    }

    // The order of folds and carries is ref10's: it keeps every limb within i64.
    for position in (18..24).rev() {
        fold(&mut limbs, position);
    }
    for position in (6..=16).step_by(2).chain((7..=15).step_by(2)) {
        carry_rounded(&mut limbs, position);
    }
    for position in (12..18).rev() {
        fold(&mut limbs, position);
    }
    for position in (0..=10).step_by(2).chain((1..=11).step_by(2)) {
        carry_rounded(&mut limbs, position);
    }
    fold(&mut limbs, 12);
    for position in 0..12 {
        carry_floor(&mut limbs, position);
    }
    fold(&mut limbs, 12);
    for position in 0..11 {
        carry_floor(&mut limbs, position);
    }

    let mut out = [0u8; 32];
    let (mut accumulator, mut bits, mut written) = (0u64, 0u32, 0usize);
    for limb in &limbs[..12] {
        accumulator |= (*limb as u64) << bits;
        bits += LIMB_BITS;
        while bits >= 8 {
            out[written] = accumulator as u8;
            written += 1;
            accumulator >>= 8;
            bits -= 8;
        }
    }
    out[written] = accumulator as u8;
    out
}

fn fold(limbs: &mut [i64; 24], position: usize) {
    let carry = limbs[position];
    for (offset, factor) in FOLD.iter().enumerate() {
        limbs[position - 12 + offset] += carry * factor;
    }
    limbs[position] = 0;
}

fn carry_rounded(limbs: &mut [i64; 24], position: usize) {
    let carry = (limbs[position] + (1 << (LIMB_BITS - 1))) >> LIMB_BITS;
    limbs[position + 1] += carry;
    limbs[position] -= carry << LIMB_BITS;
}

fn carry_floor(limbs: &mut [i64; 24], position: usize) {
    let carry = limbs[position] >> LIMB_BITS;
    limbs[position + 1] += carry;
    limbs[position] -= carry << LIMB_BITS;
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
