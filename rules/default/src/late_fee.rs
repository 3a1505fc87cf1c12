//! Renewing a service that has already expired (BILLmanager "Late renewal fee").
//!
//! The late days run from the expiry (the first unpaid day) through the day of
//! renewal, both included: expired September 1, renewed September 5 is 5 late
//! days. The tariff's late fee decides what they cost:
//!
//! - none: the new period simply starts on the day of renewal;
//! - a fixed amount: the same, plus that amount;
//! - a percentage: the same, plus that percentage of what the late days would
//!   have cost, a day costing what one day of the renewed period costs;
//! - renew from suspension: no money, but the new period starts at the old
//!   expiry (seed 002: "calculated from the date of suspension", which is
//!   the expiry for a service suspended for not being renewed), so the late
//!   days are paid for in service time. When a weekend policy kept the
//!   service up a few days past its expiry ("do not suspend services"), those
//!   days are paid too, as seed 002 says of that policy: "funds for the
//!   additional days of service will be debited from the customer's account
//!   when paying for the service renewal". (Starting at the later suspension
//!   day gave that weekend away.)

use crate::money::round_money;
use crate::prelude::*;
use rules_sdk::*;

/// Where the renewed period of an expired service starts, and the fee line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LateRenewal {
    pub start: NaiveDate,
    /// `None` when nothing is charged for the lateness (or the fee is zero).
    pub fee: Option<Line>,
}

/// The late days of a service that expired on `expires` (exclusive end of its
/// paid time) and is renewed on `today`, both days included.
pub(crate) fn late_days(expires: NaiveDate, today: NaiveDate) -> u32 {
    (days_between(expires, today) + 1).max(0) as u32
}

/// Price the lateness of a service that expired on `expires` (before `today`)
/// and is renewed on `today` for `months`. `period_amount` is what the renewed
/// period costs (renewal price plus addons, unrounded), from which a day's cost
/// is derived unless the tariff has a daily price.
pub(crate) fn late_renewal(
    tariff: &Tariff,
    months: u32,
    period_amount: Decimal,
    expires: NaiveDate,
    today: NaiveDate,
) -> Result<LateRenewal, RuleError> {
    debug_assert!(expires < today);
    let days = late_days(expires, today);
    let fee = match &tariff.late_fee {
        LateFee::None => None,
        LateFee::RenewFromSuspension => {
            return Ok(LateRenewal {
                start: expires,
                fee: None,
            });
        }
        LateFee::Fixed(amount) => {
            if amount.is_sign_negative() && !amount.is_zero() {
                return Err(RuleError::InvalidInput(format!(
                    "tariff {}: the late renewal fee {amount} is negative",
                    tariff.name
                )));
            }
            Some((
                *amount,
                format!("{}, late renewal fee ({days} day(s) late)", tariff.name),
            ))
        }
        LateFee::Percent(percent) => {
            if percent.is_sign_negative() && !percent.is_zero() {
                return Err(RuleError::InvalidInput(format!(
                    "tariff {}: the late renewal fee {percent}% is negative",
                    tariff.name
                )));
            }
            let late_days = Decimal::from(days);
            let hundred = Decimal::ONE_HUNDRED;
            // day cost × late days × percent / 100, with the divisions last so
            // nothing is rounded before the final amount.
            let amount = match tariff.daily.as_ref().and_then(|d| d.price) {
                Some(day_price) => day_price * late_days * *percent / hundred,
                None => {
                    let period_days = days_between(expires, add_months(expires, months));
                    period_amount * late_days * *percent / (hundred * Decimal::from(period_days))
                }
            };
            Some((
                amount,
                format!(
                    "{}, late renewal fee: {}% of {days} late day(s)",
                    tariff.name,
                    percent.normalize()
                ),
            ))
        }
    };
    let fee = fee.and_then(|(amount, description)| {
        let amount = round_money(amount, &tariff.currency);
        (!amount.is_zero()).then(|| Line::charge(LineKind::LateFee, description, amount))
    });
    Ok(LateRenewal { start: today, fee })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn tariff(late_fee: LateFee) -> Tariff {
        Tariff {
            late_fee,
            ..monthly("Basic")
        }
    }

    /// Seed: expired September 1, renewed September 5 = 5 late days.
    #[test]
    fn seed_late_days_count_expiry_and_renewal_day() {
        assert_eq!(late_days(d("2026-09-01"), d("2026-09-05")), 5);
        assert_eq!(late_days(d("2026-09-01"), d("2026-09-01")), 1);
    }

    /// Seed: 50% fine, 5 late days at 0.10 a day (3.00 / 30 days) = 0.25.
    #[test]
    fn seed_percent_fee_is_half_of_five_days() {
        let t = tariff(LateFee::Percent(dec("50")));
        let late = late_renewal(&t, 1, dec("3.00"), d("2026-09-01"), d("2026-09-05")).unwrap();
        assert_eq!(late.start, d("2026-09-05"));
        let fee = late.fee.unwrap();
        assert_eq!(fee.kind, LineKind::LateFee);
        assert_eq!(fee.amount.to_string(), "0.25");
    }

    #[test]
    fn percent_fee_uses_the_daily_price_when_there_is_one() {
        let mut t = tariff(LateFee::Percent(dec("50")));
        t.daily = Some(DailyCharging {
            price: Some(dec("0.15")),
            cost_from_period: false,
            charge_downtime: true,
        });
        let late = late_renewal(&t, 1, dec("3.00"), d("2026-09-01"), d("2026-09-05")).unwrap();
        // 5 × 0.15 × 50% = 0.375 → 0.38
        assert_eq!(late.fee.unwrap().amount.to_string(), "0.38");
    }

    #[test]
    fn fixed_fee_and_none() {
        let late = late_renewal(
            &tariff(LateFee::Fixed(dec("2"))),
            1,
            dec("3.00"),
            d("2026-09-01"),
            d("2026-09-05"),
        )
        .unwrap();
        assert_eq!(late.start, d("2026-09-05"));
        assert_eq!(late.fee.unwrap().amount.to_string(), "2.00");

        let late = late_renewal(
            &tariff(LateFee::None),
            1,
            dec("3.00"),
            d("2026-09-01"),
            d("2026-09-05"),
        )
        .unwrap();
        assert_eq!(
            late,
            LateRenewal {
                start: d("2026-09-05"),
                fee: None
            }
        );
    }

    /// Seed: expired August 3, renewed August 15: the period starts August 3.
    #[test]
    fn seed_renew_from_suspension_starts_at_the_old_expiry() {
        let late = late_renewal(
            &tariff(LateFee::RenewFromSuspension),
            1,
            dec("3.00"),
            d("2026-08-03"),
            d("2026-08-15"),
        )
        .unwrap();
        assert_eq!(
            late,
            LateRenewal {
                start: d("2026-08-03"),
                fee: None
            }
        );
    }

    #[test]
    fn negative_fees_are_invalid() {
        for fee in [LateFee::Fixed(dec("-1")), LateFee::Percent(dec("-5"))] {
            let err = late_renewal(&tariff(fee), 1, dec("3"), d("2026-09-01"), d("2026-09-05"));
            assert!(matches!(err, Err(RuleError::InvalidInput(_))));
        }
    }
}
