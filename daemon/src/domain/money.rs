//! Money checks shared by every input and every rule decision.

use rust_decimal::Decimal;

/// Amounts carry at most this many decimal places (cents and sub-cent unit
/// prices such as 0.0125 per GB). More is a typo, not a price.
pub const MAX_SCALE: u32 = 4;

/// No single amount in rulesd reaches this: larger values are rejected as input
/// errors or bad rule output instead of overflowing a sum.
pub fn max_amount() -> Decimal {
    Decimal::from(1_000_000_000_000i64)
}

/// Check an amount's scale and magnitude; `Err` says what is wrong with it.
pub fn check(amount: Decimal, allow_negative: bool) -> Result<(), String> {
    if !allow_negative && amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("{amount} is negative"));
    }
    if amount.normalize().scale() > MAX_SCALE {
        return Err(format!("{amount} has more than {MAX_SCALE} decimal places"));
    }
    if amount.abs() >= max_amount() {
        return Err(format!("{amount} is too large"));
    }
    Ok(())
}

/// Parse a decimal string from a rule: plain notation only ("6.45", "-1.2").
pub fn parse(text: &str) -> Result<Decimal, String> {
    let plain = !text.is_empty()
        && text
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && c == '-'));
    if !plain {
        return Err(format!("{text:?} is not a decimal amount"));
    }
    text.parse::<Decimal>()
        .map_err(|_| format!("{text:?} is not a decimal amount"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_plain_decimals_only() {
        assert_eq!(parse("6.45").unwrap(), Decimal::new(645, 2));
        assert_eq!(parse("-1.20").unwrap(), Decimal::new(-120, 2));
        for bad in ["", "1e3", "abc", "1.2.3", " 1", "NaN", "+1", "--1"] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn check_rejects_negative_overprecise_and_huge() {
        assert!(check(Decimal::new(-1, 0), false).is_err());
        assert!(check(Decimal::new(-1, 0), true).is_ok());
        assert!(check(Decimal::new(12345, 5), false).is_err());
        assert!(check(Decimal::new(12340, 5), false).is_ok());
        assert!(check(max_amount(), false).is_err());
    }
}
