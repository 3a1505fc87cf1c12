//! Money rounding, done one way for every hook of the module.
//!
//! Amounts are computed exactly (as far as `Decimal`'s 28 significant digits
//! go) and rounded once, on the final amount of a line. Rounding intermediate
//! steps (a day price, a monthly share) would make totals drift by a cent per
//! step, so no function here is applied to anything but a line amount.

use rules_sdk::{Decimal, round_to_minor_unit};

/// Money is kept to the currency's minor unit (cents for most), half away
/// from zero, as BILLmanager shows it, and is always written with exactly
/// that many places ("5.00" EUR, "5" JPY) so every line looks alike. The
/// daemon refuses a line finer than the minor unit.
pub(crate) fn round_money(amount: Decimal, currency: &str) -> Decimal {
    round_to_minor_unit(amount, currency)
}

/// The rounded amount of the first `k` of `n` equal shares of `total`:
/// `round(total × k / n)`.
///
/// Multiplying before dividing keeps the quotient exact whenever it is a finite
/// decimal, so a true midpoint is seen as one and rounds away from zero.
pub(crate) fn cumulative_share(total: Decimal, k: u32, n: u32, currency: &str) -> Decimal {
    debug_assert!(n > 0 && k <= n);
    round_money(total * Decimal::from(k) / Decimal::from(n), currency)
}

/// Share `k` (1-based) of `total` spread over `n` parts by cumulative rounding:
/// `round(total × k / n) − round(total × (k − 1) / n)`.
///
/// Each share is a whole number of minor units, and the shares telescope:
/// shares `1..=k` sum to `cumulative_share(total, k, n)` and all `n` of them
/// sum to exactly `round(total)`, whatever `n` is. A share never differs from
/// `total / n` by more than one minor unit, and for `total >= 0` none is
/// negative.
pub(crate) fn spread_share(total: Decimal, k: u32, n: u32, currency: &str) -> Decimal {
    debug_assert!(k >= 1);
    let mut share =
        cumulative_share(total, k, n, currency) - cumulative_share(total, k - 1, n, currency);
    share.rescale(rules_sdk::minor_units(currency));
    share
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn rounds_half_away_from_zero_to_exactly_two_places() {
        assert_eq!(round_money(dec("0.125"), "EUR").to_string(), "0.13");
        assert_eq!(round_money(dec("-0.125"), "EUR").to_string(), "-0.13");
        assert_eq!(round_money(dec("0.124999"), "EUR").to_string(), "0.12");
        assert_eq!(round_money(dec("5"), "EUR").to_string(), "5.00");
    }

    #[test]
    fn spread_shares_sum_to_the_total() {
        let total = dec("3.00");
        let shares: Vec<Decimal> = (1..=31)
            .map(|k| spread_share(total, k, 31, "EUR"))
            .collect();
        assert_eq!(shares.iter().sum::<Decimal>(), total);
        // 3.00 / 31 = 0.0967..: every share is 0.09 or 0.10.
        assert!(
            shares
                .iter()
                .all(|s| *s == dec("0.10") || *s == dec("0.09"))
        );
        assert_eq!(shares[0].to_string(), "0.10");
    }

    #[test]
    fn a_currency_without_cents_gets_whole_units() {
        assert_eq!(round_money(dec("333.5"), "JPY").to_string(), "334");
        assert_eq!(round_money(dec("1000.00"), "JPY").to_string(), "1000");
        let total = dec("3000");
        let shares: Vec<Decimal> = (1..=31)
            .map(|k| spread_share(total, k, 31, "JPY"))
            .collect();
        assert_eq!(shares.iter().sum::<Decimal>(), total);
        assert!(
            shares
                .iter()
                .all(|s| s.scale() == 0 && (*s == dec("97") || *s == dec("96")))
        );
    }
}
