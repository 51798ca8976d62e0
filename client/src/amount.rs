//! Token amounts in the mint's UI units ("1.25" with 6 decimals is 1,250,000 base units).
//! Parsed exactly: a float would round money.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AmountError {
    #[error("`{0}` is not an amount: use digits with at most one `.`, e.g. 0.25")]
    Malformed(String),
    #[error("`{amount}` has more than the mint's {decimals} decimals")]
    TooPrecise { amount: String, decimals: u8 },
    #[error("`{0}` is too large for a token amount")]
    Overflow(String),
}

/// Parses a UI amount into base units.
pub fn parse_ui(amount: &str, decimals: u8) -> Result<u64, AmountError> {
    let malformed = || AmountError::Malformed(amount.to_string());
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(malformed());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > usize::from(decimals) {
        return Err(AmountError::TooPrecise {
            amount: amount.to_string(),
            decimals,
        });
    }
    let digits = format!("{whole}{fraction:0<width$}", width = usize::from(decimals));
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    digits
        .parse::<u64>()
        .map_err(|_| AmountError::Overflow(amount.to_string()))
}

/// Formats base units as a UI amount, without trailing zeros.
pub fn format_ui(amount: u64, decimals: u8) -> String {
    let decimals = usize::from(decimals);
    let digits = format!("{amount:0>width$}", width = decimals + 1);
    let (whole, fraction) = digits.split_at(digits.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_ui("1.25", 6), Ok(1_250_000));
        assert_eq!(parse_ui("0.000001", 6), Ok(1));
        assert_eq!(parse_ui(".5", 2), Ok(50));
        assert_eq!(parse_ui("7.", 0), Ok(7));
        assert_eq!(parse_ui("3.10", 1), Ok(31));
        assert_eq!(parse_ui("000", 9), Ok(0));
        assert_eq!(parse_ui("18446744073709.551615", 6), Ok(u64::MAX));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for bad in ["", ".", "-1", "1e3", "1.2.3", " 1", "0x10", "1,5"] {
            assert!(
                matches!(parse_ui(bad, 6), Err(AmountError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_ui("0.0000001", 6),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_ui("1.5", 0),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_ui("18446744073709.551616", 6),
            Err(AmountError::Overflow(_))
        ));
    }

    #[test]
    fn formats_and_round_trips() {
        assert_eq!(format_ui(1_250_000, 6), "1.25");
        assert_eq!(format_ui(1, 6), "0.000001");
        assert_eq!(format_ui(0, 6), "0");
        assert_eq!(format_ui(42, 0), "42");
        for (amount, decimals) in [(u64::MAX, 9), (10, 1), (123_456_789, 3)] {
            assert_eq!(parse_ui(&format_ui(amount, decimals), decimals), Ok(amount));
        }
    }
}
