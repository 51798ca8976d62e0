//! Fee arithmetic: a payee is charged `min(signed fee, config fee)` basis points of
//! what it is paid, rounded down, so never more than the payer signed for.

pub const BPS_DENOMINATOR: u64 = 10_000;

/// The fee on `amount` when the payer signed `signed_bps` and the config charges
/// `config_bps`.
pub fn fee(amount: u64, signed_bps: u16, config_bps: u16) -> u64 {
    let bps = (signed_bps.min(config_bps) as u64).min(BPS_DENOMINATOR) as u128;
    // bps <= BPS_DENOMINATOR, so the fee is at most `amount` and fits in u64.
    (amount as u128 * bps / BPS_DENOMINATOR as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_the_lower_rate_rounded_down() {
        assert_eq!(fee(10_000, 100, 250), 100);
        assert_eq!(fee(10_000, 250, 100), 100);
        assert_eq!(fee(199, 100, 100), 1);
        assert_eq!(fee(99, 100, 100), 0);
        assert_eq!(fee(u64::MAX, 1_000, 1_000), u64::MAX / 10);
        assert_eq!(fee(5, 0, 1_000), 0);
        assert_eq!(fee(u64::MAX, u16::MAX, u16::MAX), u64::MAX);
    }
}
