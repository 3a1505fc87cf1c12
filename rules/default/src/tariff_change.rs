//! Tariff changes (seed 002, "Tariff change policy"): what moving a service
//! to another tariff costs, under the change policy of the tariff being left.
//!
//! Notation (see `period`): the current period runs from `S` to the expiry
//! `E` (exclusive), `D` days; the change on day `T` (the date of `at`)
//! leaves `R = E − T` days, `T` included (0 once `E <= T`): a change on the
//! first day of the period leaves all `D` days, one on its last day 1.
//!
//! **Value of a period.** `V(tariff, m, Q)` is the tariff's *order* price of
//! `m` months plus, for every addon of the tariff, its units in `Q` above the
//! included ones (an addon missing from `Q` has just the included ones) ×
//! the price per unit × `m`. The service's old value is `V(from,
//! service.months, service.addons)`, its new one `V(to, months, addons)`. A
//! tariff that does not sell the months is denied. The order price, not the
//! renewal price, on both sides: both are valued the same way, so a change
//! and its reverse on the same day cancel exactly (a special renewal price
//! on one side would make A → B → A gain or lose money), and the value does
//! not depend on whether the period was an order or a renewal.
//!
//! **Policies.** Money is computed exactly and rounded once per line, half
//! away from zero, to the currency's minor unit (`money`).
//!
//! - Add funds or refund: `diff = round((new − old) × R / D)`. An upgrade
//!   charges it (a `change` line), a downgrade refunds it (a `refund` line,
//!   never more than `paid`, what was paid for the current period; nothing if
//!   nothing was), both for `T..E`. The period stays `S..E`.
//! - Extra charge only: the upgrade charge; a downgrade records nothing and
//!   the client keeps the time.
//! - Change period: no money moves; the unused value buys time at the new
//!   tariff. The expiry becomes `T + R'` with `R' = floor(R × old / new)`
//!   whole days: a cheaper tariff lengthens the period, a dearer one shortens
//!   it. Time is rounded *down*, so the client never gains time and loses
//!   less than one day's worth at the new price. The period keeps its start
//!   `S` (unless a change before `S`, after an early renewal, buys time that
//!   ends before `S`: the period then starts on `T`). With nothing left (`R = 0`)
//!   the period stays; a free target (`new = 0`) cannot measure the unused
//!   value and is denied, as is a target so cheap that the time would run
//!   past 9999-12-31 (the last date the contract can write).
//! - Forbidden: denied, naming the tariff ("tariff Basic cannot be
//!   changed"), whatever the service (daily-charged ones too).
//! - Full payment: the new tariff's value for the months asked for, one
//!   `change` line, and a new period of those months from `T` ("current
//!   date") or from `E` ("service expiration date"; from `T` if the service
//!   has already expired). The rest of the old period is not refunded.
//!
//! A calendar-based tariff's pro-rata day does not apply to a change: the
//! value is the plain period price, and a full payment runs whole calendar
//! months from its start (month ends clamp), not to a 1st.
//!
//! A period service past its expiry (`E < T`, kept active over a weekend,
//! say) has nothing left to value and no period a change could keep (the
//! expiry may not be before the change): only a full payment changes its
//! tariff, the other policies are denied until it is renewed.
//!
//! A daily-charged service changes without money whatever the policy
//! (forbidden aside): the period stays, and the days not charged yet, from
//! its expiry on (normally tomorrow: the daily job charges a day at its
//! start), are charged at the new tariff's day price by the pricing hook. If
//! its days are not charged up to today (`E < T`), it is denied until they
//! are. A change between daily and period charging is not one this rule
//! prices (invalid input).

use crate::money::round_money;
use crate::period::Period;
use crate::prelude::*;
use rules_sdk::*;

pub(crate) fn change(req: &ChangeRequest) -> Result<ChangeDecision, RuleError> {
    let (from, to) = (&req.from, &req.to);
    // First: a forbidden change is denied whatever the service is.
    if req.policy == ChangePolicy::Forbidden {
        return Err(forbidden(from));
    }
    let p = Period::of(&req.service, req.at)?;
    match (from.daily.is_some(), to.daily.is_some()) {
        (true, true) => return daily(&p),
        (false, false) => {}
        _ => {
            return Err(RuleError::InvalidInput(format!(
                "a change between daily and period charging ({} to {}) is not a tariff change this rule prices",
                from.name, to.name
            )));
        }
    }
    match req.policy {
        ChangePolicy::Forbidden => Err(forbidden(from)),
        ChangePolicy::AddFundsOrRefund => difference(req, &p, true),
        ChangePolicy::ExtraChargeOnly => difference(req, &p, false),
        ChangePolicy::ChangePeriod => change_period(req, &p),
        ChangePolicy::FullPaymentFromToday => full_payment(req, p.today),
        ChangePolicy::FullPaymentFromExpiry => full_payment(req, p.expires.max(p.today)),
    }
}

fn forbidden(from: &Tariff) -> RuleError {
    RuleError::Denied(format!("tariff {} cannot be changed", from.name))
}

/// The period as it is.
fn unchanged(p: &Period) -> ChangeDecision {
    ChangeDecision {
        lines: vec![],
        period_start: p.start,
        expires: p.expires,
    }
}

/// A daily-charged service: nothing now, the next uncharged day at the new
/// price.
fn daily(p: &Period) -> Result<ChangeDecision, RuleError> {
    if p.is_over() {
        return Err(RuleError::Denied(format!(
            "the service is charged only until {}: its days since must be paid before its tariff changes",
            p.expires
        )));
    }
    Ok(unchanged(p))
}

/// The old and the new value of the period, for the policies that compare
/// them: denied once the period is over (nothing is left to compare, and
/// the period cannot be kept).
fn values(req: &ChangeRequest, p: &Period) -> Result<(Decimal, Decimal), RuleError> {
    // On the expiry day no day is left either: the service is paid through
    // the day before.
    if p.left == 0 {
        return Err(RuleError::Denied(format!(
            "the service expired on {}: renew it before changing its tariff",
            p.expires
        )));
    }
    Ok((
        value(&req.from, req.service.months, &req.service.addons)?,
        value(&req.to, req.months, &req.addons)?,
    ))
}

/// Add funds or refund (`refund`), or extra charge only: the difference of
/// the values for the days left, charged on an upgrade, refunded (at most
/// what was paid) or not on a downgrade.
fn difference(req: &ChangeRequest, p: &Period, refund: bool) -> Result<ChangeDecision, RuleError> {
    let (old, new) = values(req, p)?;
    let currency = &req.to.currency;
    let diff = round_money(p.share_left(new - old), currency);
    let names = format!("{} → {}", req.from.name, req.to.name);
    let line = if diff > Decimal::ZERO {
        Some(Line::charge(
            LineKind::Change,
            format!("{names}: difference for {} day(s)", p.left),
            diff,
        ))
    } else if diff < Decimal::ZERO && refund {
        let cap = refundable(req.paid, currency);
        (cap > Decimal::ZERO).then(|| {
            Line::charge(
                LineKind::Refund,
                format!("{names}: refund of the difference for {} day(s)", p.left),
                diff.max(-cap),
            )
        })
    } else {
        None
    };
    Ok(ChangeDecision {
        lines: line
            .map(|l| l.covering(p.today, p.expires))
            .into_iter()
            .collect(),
        ..unchanged(p)
    })
}

/// What may be refunded of `paid`: all of it, in whole minor units (cut
/// towards zero, so never more), or nothing if it is not positive.
fn refundable(paid: Decimal, currency: &str) -> Decimal {
    let places = minor_units(currency);
    let mut cap = paid
        .max(Decimal::ZERO)
        .round_dp_with_strategy(places, RoundingStrategy::ToZero);
    cap.rescale(places);
    cap
}

/// Change period: the unused value of the old tariff buys whole days of the
/// new one, rounded down.
fn change_period(req: &ChangeRequest, p: &Period) -> Result<ChangeDecision, RuleError> {
    let (old, new) = values(req, p)?;
    if new <= Decimal::ZERO {
        return Err(RuleError::Denied(format!(
            "tariff {} is free: its price cannot measure the unused value of the period",
            req.to.name
        )));
    }
    let too_long = || {
        RuleError::Denied(format!(
            "tariff {} is too cheap to convert the unused value of the period into time: it would last past 9999-12-31",
            req.to.name
        ))
    };
    let days = whole_days(p.left, old, new).ok_or_else(too_long)?;
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    if days > days_between(p.today, last) {
        return Err(too_long());
    }
    let expires = i32::try_from(days)
        .ok()
        .and_then(|days| p.today.num_days_from_ce().checked_add(days))
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(too_long)?;
    Ok(ChangeDecision {
        lines: vec![],
        // The period stays, unless the change comes before it starts (a
        // service renewed early) and the time bought ends before then too:
        // the service then has just that time, from today.
        period_start: if expires < p.start { p.today } else { p.start },
        expires,
    })
}

/// `floor(left × old / new)` for `new > 0`, exactly: `Decimal` rounds a
/// quotient that is not a finite decimal to 28 significant digits, so the
/// floor of the quotient is checked (and corrected) against products, which
/// are exact: `days × new <= left × old < (days + 1) × new`. None if it
/// overflows.
fn whole_days(left: i64, old: Decimal, new: Decimal) -> Option<i64> {
    let budget = Decimal::from(left).checked_mul(old)?;
    let mut days = budget.checked_div(new)?.floor();
    while days.checked_mul(new)? > budget {
        days -= Decimal::ONE;
    }
    while days.checked_add(Decimal::ONE)?.checked_mul(new)? <= budget {
        days += Decimal::ONE;
    }
    i64::try_from(days).ok()
}

/// Full payment: the new tariff's value for the months asked for, paying
/// for a new period of them from `from_day`.
fn full_payment(req: &ChangeRequest, from_day: NaiveDate) -> Result<ChangeDecision, RuleError> {
    let to = &req.to;
    let new = value(to, req.months, &req.addons)?;
    let until = add_months(from_day, req.months);
    let line = Line::charge(
        LineKind::Change,
        format!("{}, {} month(s) (tariff change)", to.name, req.months),
        round_money(new, &to.currency),
    )
    .covering(from_day, until);
    Ok(ChangeDecision {
        lines: vec![line],
        period_start: from_day,
        expires: until,
    })
}

/// `V(tariff, months, addons)`: the order price of `months` plus the addon
/// units above the included ones for `months`, unrounded. Denied if the
/// tariff does not sell `months`; invalid input if it has a negative price.
pub(crate) fn value(
    tariff: &Tariff,
    months: u32,
    addons: &[AddonQuantity],
) -> Result<Decimal, RuleError> {
    let price = tariff.price_for(months).ok_or_else(|| {
        RuleError::Denied(format!(
            "tariff {} does not sell {months} month(s)",
            tariff.name
        ))
    })?;
    let negative = price < Decimal::ZERO
        || tariff
            .addons
            .iter()
            .any(|a| a.price_per_unit < Decimal::ZERO);
    if negative {
        return Err(RuleError::InvalidInput(format!(
            "tariff {} has a negative price",
            tariff.name
        )));
    }
    let per_month: Decimal = tariff
        .addons
        .iter()
        .map(|a| {
            let quantity = addons
                .iter()
                .find(|q| q.resource == a.resource)
                .map_or(a.included, |q| q.quantity);
            Decimal::from(quantity.saturating_sub(a.included)) * a.price_per_unit
        })
        .sum();
    Ok(price + per_month * Decimal::from(months))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    /// A monthly tariff at `price` (three months at three times it).
    fn plan(name: &str, price: &str) -> Tariff {
        Tariff {
            currency: "EUR".into(),
            prices: vec![
                PeriodPrice {
                    months: 1,
                    price: dec(price),
                },
                PeriodPrice {
                    months: 3,
                    price: dec(price) * Decimal::from(3),
                },
            ],
            ..monthly(name)
        }
    }

    fn basic() -> Tariff {
        plan("Basic", "10.00")
    }

    fn pro() -> Tariff {
        plan("Pro", "20.00")
    }

    fn daily(t: Tariff) -> Tariff {
        Tariff {
            daily: Some(DailyCharging {
                price: Some(dec("0.10")),
                cost_from_period: false,
                charge_downtime: false,
            }),
            ..t
        }
    }

    /// A change on `today` of a one-month service paid 2026-11-01..12-01
    /// (30 days) for 10.00.
    fn request(policy: ChangePolicy, from: Tariff, to: Tariff, today: &str) -> ChangeRequest {
        ChangeRequest {
            service: Service {
                id: "7".into(),
                status: ServiceStatus::Active,
                period_start: Some(d("2026-11-01")),
                expires: Some(d("2026-12-01")),
                suspended_at: None,
                months: 1,
                addons: vec![],
            },
            from,
            to,
            policy,
            months: 1,
            addons: vec![],
            paid: dec("10.00"),
            at: d(today).and_hms_opt(9, 0, 0).unwrap().and_utc(),
        }
    }

    fn lines(d: &ChangeDecision) -> Vec<(LineKind, String, NaiveDate, NaiveDate)> {
        d.lines
            .iter()
            .map(|l| {
                (
                    l.kind,
                    l.amount.to_string(),
                    l.period_start.unwrap(),
                    l.period_end.unwrap(),
                )
            })
            .collect()
    }

    fn period(d: &ChangeDecision) -> (NaiveDate, NaiveDate) {
        (d.period_start, d.expires)
    }

    const PERIOD: (&str, &str) = ("2026-11-01", "2026-12-01");

    fn the_period() -> (NaiveDate, NaiveDate) {
        (d(PERIOD.0), d(PERIOD.1))
    }

    #[test]
    fn add_funds_or_refund_on_the_first_middle_and_last_day() {
        // 10.00 a month more for R of the 30 days: all 30 on the first day,
        // 15 in the middle, 1 on the last.
        for (today, amount) in [
            ("2026-11-01", "10.00"),
            ("2026-11-16", "5.00"),
            ("2026-11-30", "0.33"),
        ] {
            let up = change(&request(
                ChangePolicy::AddFundsOrRefund,
                basic(),
                pro(),
                today,
            ))
            .unwrap();
            assert_eq!(
                lines(&up),
                [(LineKind::Change, amount.into(), d(today), d("2026-12-01"))]
            );
            assert_eq!(period(&up), the_period());
            let down = change(&request(
                ChangePolicy::AddFundsOrRefund,
                pro(),
                basic(),
                today,
            ))
            .unwrap();
            assert_eq!(
                lines(&down),
                [(
                    LineKind::Refund,
                    format!("-{amount}"),
                    d(today),
                    d("2026-12-01")
                )]
            );
            assert_eq!(period(&down), the_period());
        }
    }

    #[test]
    fn lines_say_what_they_are_for() {
        let up = change(&request(
            ChangePolicy::AddFundsOrRefund,
            basic(),
            pro(),
            "2026-11-16",
        ))
        .unwrap();
        assert_eq!(
            up.lines[0].description,
            "Basic → Pro: difference for 15 day(s)"
        );
        let down = change(&request(
            ChangePolicy::AddFundsOrRefund,
            pro(),
            basic(),
            "2026-11-16",
        ))
        .unwrap();
        assert_eq!(
            down.lines[0].description,
            "Pro → Basic: refund of the difference for 15 day(s)"
        );
    }

    #[test]
    fn the_difference_is_rounded_once_half_away_from_zero() {
        // 0.15 a month more for 1 day of 30 is 0.005 exactly.
        let odd = plan("Odd", "10.15");
        let up = change(&request(
            ChangePolicy::AddFundsOrRefund,
            basic(),
            odd.clone(),
            "2026-11-30",
        ))
        .unwrap();
        assert_eq!(lines(&up)[0].1, "0.01");
        let down = change(&request(
            ChangePolicy::AddFundsOrRefund,
            odd,
            basic(),
            "2026-11-30",
        ))
        .unwrap();
        assert_eq!(lines(&down)[0].1, "-0.01");
    }

    #[test]
    fn a_currency_without_cents_gets_whole_units() {
        let yen = |name: &str, price: &str| Tariff {
            currency: "JPY".into(),
            ..plan(name, price)
        };
        // 1000 a month more for 1 day of 30: 33.33 -> 33.
        let up = change(&request(
            ChangePolicy::AddFundsOrRefund,
            yen("Basic", "1000"),
            yen("Pro", "2000"),
            "2026-11-30",
        ))
        .unwrap();
        assert_eq!(lines(&up)[0].1, "33");
    }

    #[test]
    fn the_same_value_or_no_day_left_moves_no_money() {
        let same = change(&request(
            ChangePolicy::AddFundsOrRefund,
            basic(),
            plan("Basic 2", "10.00"),
            "2026-11-16",
        ))
        .unwrap();
        assert!(same.lines.is_empty());
        // (On the expiry day itself nothing of the period is left: the
        // change is refused, an_expired_service_changes_only_by_full_payment.)
    }

    #[test]
    fn a_refund_is_never_more_than_was_paid_for_the_period() {
        let mut req = request(ChangePolicy::AddFundsOrRefund, pro(), basic(), "2026-11-01");
        req.paid = dec("4.00");
        assert_eq!(
            lines(&change(&req).unwrap()),
            [(
                LineKind::Refund,
                "-4.00".into(),
                d("2026-11-01"),
                d("2026-12-01")
            )]
        );
        // Written with the currency's places, whatever `paid`'s are.
        req.paid = dec("4");
        assert_eq!(lines(&change(&req).unwrap())[0].1, "-4.00");
        // Less than the difference is refunded in full.
        req.paid = dec("25.00");
        assert_eq!(lines(&change(&req).unwrap())[0].1, "-10.00");
        for nothing in ["0", "-3.00"] {
            req.paid = dec(nothing);
            let d = change(&req).unwrap();
            assert!(d.lines.is_empty());
            assert_eq!(period(&d), the_period());
        }
    }

    #[test]
    fn extra_charge_only_never_refunds() {
        let up = change(&request(
            ChangePolicy::ExtraChargeOnly,
            basic(),
            pro(),
            "2026-11-16",
        ))
        .unwrap();
        assert_eq!(
            lines(&up),
            [(
                LineKind::Change,
                "5.00".into(),
                d("2026-11-16"),
                d("2026-12-01")
            )]
        );
        let down = change(&request(
            ChangePolicy::ExtraChargeOnly,
            pro(),
            basic(),
            "2026-11-16",
        ))
        .unwrap();
        assert!(down.lines.is_empty());
        assert_eq!(period(&down), the_period());
    }

    #[test]
    fn change_period_converts_the_unused_value_into_whole_days() {
        let on = |from: Tariff, to: Tariff, today: &str| {
            let d = change(&request(ChangePolicy::ChangePeriod, from, to, today)).unwrap();
            assert!(d.lines.is_empty());
            assert_eq!(d.period_start, the_period().0);
            d.expires
        };
        // The first day: 30 days of Basic are 15 of Pro, 30 of Pro 60 of Basic.
        assert_eq!(on(basic(), pro(), "2026-11-01"), d("2026-11-16"));
        assert_eq!(on(pro(), basic(), "2026-11-01"), d("2026-12-31"));
        // 15 days of Basic buy 7.5 days of Pro: 7 (time is rounded down).
        assert_eq!(on(basic(), pro(), "2026-11-16"), d("2026-11-23"));
        assert_eq!(on(pro(), basic(), "2026-11-16"), d("2026-12-16"));
        // The last day: one day of Basic is half a day of Pro: none.
        assert_eq!(on(basic(), pro(), "2026-11-30"), d("2026-11-30"));
        assert_eq!(on(pro(), basic(), "2026-11-30"), d("2026-12-02"));
        // A whole number of days is not lost to rounding: 16 × 10 / 40 = 4.
        assert_eq!(
            on(basic(), plan("Max", "40.00"), "2026-11-15"),
            d("2026-11-19")
        );
    }

    #[test]
    fn a_change_before_a_period_renewed_early_values_every_day_left() {
        // Renewed early: the period paid is 2026-12-01..2027-01-01 (31 days),
        // the change on 2026-11-21 leaves its 31 days and 10 before it.
        let at = |mut req: ChangeRequest| {
            req.service.period_start = Some(d("2026-12-01"));
            req.service.expires = Some(d("2027-01-01"));
            change(&req).unwrap()
        };
        let up = at(request(
            ChangePolicy::AddFundsOrRefund,
            basic(),
            pro(),
            "2026-11-21",
        ));
        // 10.00 × 41 / 31 = 13.225..
        assert_eq!(
            lines(&up),
            [(
                LineKind::Change,
                "13.23".into(),
                d("2026-11-21"),
                d("2027-01-01")
            )]
        );
        // 41 days of Basic buy 20 of Pro: to 2026-12-11, into the renewed
        // period, which keeps its start.
        let shorter = at(request(
            ChangePolicy::ChangePeriod,
            basic(),
            pro(),
            "2026-11-21",
        ));
        assert_eq!(period(&shorter), (d("2026-12-01"), d("2026-12-11")));
        // They buy 4 days of Max, all before the renewed period would start:
        // the service has those days, from today.
        let short = at(request(
            ChangePolicy::ChangePeriod,
            basic(),
            plan("Max", "100.00"),
            "2026-11-21",
        ));
        assert_eq!(period(&short), (d("2026-11-21"), d("2026-11-25")));
        // 41 days of Pro buy 82 of Basic.
        let longer = at(request(
            ChangePolicy::ChangePeriod,
            pro(),
            basic(),
            "2026-11-21",
        ));
        assert_eq!(period(&longer), (d("2026-12-01"), d("2027-02-11")));
    }

    #[test]
    fn whole_days_are_an_exact_floor() {
        assert_eq!(whole_days(16, dec("10"), dec("40")), Some(4));
        assert_eq!(whole_days(15, dec("10"), dec("20")), Some(7));
        assert_eq!(whole_days(1, dec("0.3"), dec("0.1")), Some(3));
        // A divisor whose quotient is not a finite decimal.
        let third = dec("0.3333333333333333333333333333");
        assert_eq!(whole_days(1, Decimal::ONE, third), Some(3));
        assert_eq!(whole_days(3, third, Decimal::ONE), Some(0));
        assert_eq!(whole_days(0, dec("10"), dec("20")), Some(0));
    }

    #[test]
    fn change_period_to_a_free_or_near_free_tariff_is_denied() {
        let err = change(&request(
            ChangePolicy::ChangePeriod,
            basic(),
            plan("Free", "0"),
            "2026-11-16",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            RuleError::Denied(
                "tariff Free is free: its price cannot measure the unused value of the period"
                    .into()
            )
        );
        // 30 days of 100 000.00 at 0.01 a month: 300 million days.
        let err = change(&request(
            ChangePolicy::ChangePeriod,
            plan("Big", "100000.00"),
            plan("Cent", "0.01"),
            "2026-11-01",
        ))
        .unwrap_err();
        assert!(matches!(err, RuleError::Denied(m) if m.contains("tariff Cent is too cheap")));
    }

    #[test]
    fn forbidden_names_the_tariff_even_for_daily_services() {
        for (from, to) in [(basic(), pro()), (daily(basic()), daily(pro()))] {
            let err =
                change(&request(ChangePolicy::Forbidden, from, to, "2026-11-16")).unwrap_err();
            assert_eq!(
                err,
                RuleError::Denied("tariff Basic cannot be changed".into())
            );
        }
    }

    #[test]
    fn a_daily_service_changes_without_money_under_every_other_policy() {
        for policy in [
            ChangePolicy::ChangePeriod,
            ChangePolicy::AddFundsOrRefund,
            ChangePolicy::ExtraChargeOnly,
            ChangePolicy::FullPaymentFromToday,
            ChangePolicy::FullPaymentFromExpiry,
        ] {
            // Charged through November 16: the next uncharged day is the 17th.
            let mut req = request(policy, daily(basic()), daily(pro()), "2026-11-16");
            req.service.expires = Some(d("2026-11-17"));
            let decision = change(&req).unwrap();
            assert!(decision.lines.is_empty(), "{policy:?}");
            assert_eq!(
                period(&decision),
                (d("2026-11-01"), d("2026-11-17")),
                "{policy:?}"
            );
            // Days not charged up to today: pay them first.
            req.at = d("2026-11-20").and_hms_opt(9, 0, 0).unwrap().and_utc();
            let err = change(&req).unwrap_err();
            assert!(
                matches!(&err, RuleError::Denied(m) if m.contains("charged only until 2026-11-17")),
                "{err:?}"
            );
        }
        for (from, to) in [(daily(basic()), pro()), (basic(), daily(pro()))] {
            let err = change(&request(
                ChangePolicy::AddFundsOrRefund,
                from,
                to,
                "2026-11-16",
            ))
            .unwrap_err();
            assert!(
                matches!(&err, RuleError::InvalidInput(m) if m.starts_with("a change between daily and period charging")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn full_payment_renews_from_today_or_from_the_expiry() {
        let mut req = request(
            ChangePolicy::FullPaymentFromToday,
            basic(),
            pro(),
            "2026-11-16",
        );
        req.months = 3;
        let today = change(&req).unwrap();
        assert_eq!(
            lines(&today),
            [(
                LineKind::Change,
                "60.00".into(),
                d("2026-11-16"),
                d("2027-02-16")
            )]
        );
        assert_eq!(
            today.lines[0].description,
            "Pro, 3 month(s) (tariff change)"
        );
        assert_eq!(period(&today), (d("2026-11-16"), d("2027-02-16")));
        req.policy = ChangePolicy::FullPaymentFromExpiry;
        let expiry = change(&req).unwrap();
        assert_eq!(
            lines(&expiry),
            [(
                LineKind::Change,
                "60.00".into(),
                d("2026-12-01"),
                d("2027-03-01")
            )]
        );
        assert_eq!(period(&expiry), (d("2026-12-01"), d("2027-03-01")));
        // Already expired: from today.
        req.at = d("2026-12-05").and_hms_opt(9, 0, 0).unwrap().and_utc();
        let late = change(&req).unwrap();
        assert_eq!(period(&late), (d("2026-12-05"), d("2027-03-05")));
    }

    #[test]
    fn full_payment_on_the_first_and_last_day_with_month_ends_clamped() {
        let mut req = request(
            ChangePolicy::FullPaymentFromToday,
            basic(),
            pro(),
            "2026-11-01",
        );
        assert_eq!(
            period(&change(&req).unwrap()),
            (d("2026-11-01"), d("2026-12-01"))
        );
        // November 30 + 3 months: February 30 does not exist, the 28th.
        req.at = d("2026-11-30").and_hms_opt(9, 0, 0).unwrap().and_utc();
        req.months = 3;
        let last = change(&req).unwrap();
        assert_eq!(period(&last), (d("2026-11-30"), d("2027-02-28")));
        assert_eq!(lines(&last)[0].1, "60.00");
        req.policy = ChangePolicy::FullPaymentFromExpiry;
        assert_eq!(
            period(&change(&req).unwrap()),
            (d("2026-12-01"), d("2027-03-01"))
        );
    }

    #[test]
    fn an_expired_service_changes_only_by_full_payment() {
        // On the expiry day (nothing left: paid through the day before) and
        // after it.
        for (policy, today) in [
            ChangePolicy::AddFundsOrRefund,
            ChangePolicy::ExtraChargeOnly,
            ChangePolicy::ChangePeriod,
        ]
        .into_iter()
        .flat_map(|p| [(p, "2026-12-01"), (p, "2026-12-02")])
        {
            let err = change(&request(policy, basic(), pro(), today)).unwrap_err();
            assert_eq!(
                err,
                RuleError::Denied(
                    "the service expired on 2026-12-01: renew it before changing its tariff".into()
                ),
                "{policy:?} on {today}"
            );
        }
        let full = change(&request(
            ChangePolicy::FullPaymentFromExpiry,
            basic(),
            pro(),
            "2026-12-02",
        ))
        .unwrap();
        assert_eq!(period(&full), (d("2026-12-02"), d("2027-01-02")));
    }

    #[test]
    fn addons_above_the_included_units_count_on_both_sides() {
        let disk = |price: &str, included: u32| Addon {
            resource: "disk-space".into(),
            unit: "GiB".into(),
            included,
            minimum: 0,
            maximum: 50,
            price_per_unit: dec(price),
        };
        let small = Tariff {
            addons: vec![disk("1.00", 1)],
            ..basic()
        };
        let large = Tariff {
            addons: vec![disk("2.00", 0)],
            ..pro()
        };
        let gib = |quantity| {
            vec![AddonQuantity {
                resource: "disk-space".into(),
                quantity,
            }]
        };
        let mut req = request(
            ChangePolicy::AddFundsOrRefund,
            small.clone(),
            large.clone(),
            "2026-11-16",
        );
        req.service.addons = gib(4);
        req.addons = gib(2);
        // old = 10 + 3 × 1.00 = 13, new = 20 + 2 × 2.00 = 24: 11.00 a month,
        // half of it left.
        assert_eq!(lines(&change(&req).unwrap())[0].1, "5.50");
        assert_eq!(value(&small, 1, &gib(4)).unwrap(), dec("13.00"));
        assert_eq!(value(&large, 3, &gib(2)).unwrap(), dec("72.00"));
        // An addon missing from the quantities has its included units only;
        // a quantity of a resource the tariff does not sell counts nothing.
        assert_eq!(value(&small, 1, &[]).unwrap(), dec("10.00"));
        let other = vec![AddonQuantity {
            resource: "ip".into(),
            quantity: 9,
        }];
        assert_eq!(value(&small, 1, &other).unwrap(), dec("10.00"));
        // Change period by the same values: 15 × 13 / 24 = 8.1: 8 days.
        req.policy = ChangePolicy::ChangePeriod;
        assert_eq!(change(&req).unwrap().expires, d("2026-11-24"));
        // A full payment pays the new quantities for the months asked.
        req.policy = ChangePolicy::FullPaymentFromToday;
        req.months = 3;
        assert_eq!(lines(&change(&req).unwrap())[0].1, "72.00");
    }

    #[test]
    fn the_order_price_values_a_period_not_the_renewal_price() {
        let renews_cheaper = Tariff {
            renewal_prices: vec![PeriodPrice {
                months: 1,
                price: dec("6.00"),
            }],
            ..basic()
        };
        let d = change(&request(
            ChangePolicy::AddFundsOrRefund,
            renews_cheaper,
            pro(),
            "2026-11-16",
        ))
        .unwrap();
        assert_eq!(lines(&d)[0].1, "5.00");
    }

    #[test]
    fn a_period_either_tariff_does_not_sell_is_denied() {
        let yearly = Tariff {
            prices: vec![PeriodPrice {
                months: 12,
                price: dec("100"),
            }],
            ..plan("Yearly", "1")
        };
        let err = change(&request(
            ChangePolicy::AddFundsOrRefund,
            basic(),
            yearly.clone(),
            "2026-11-16",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            RuleError::Denied("tariff Yearly does not sell 1 month(s)".into())
        );
        let err = change(&request(
            ChangePolicy::ChangePeriod,
            yearly,
            basic(),
            "2026-11-16",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            RuleError::Denied("tariff Yearly does not sell 1 month(s)".into())
        );
    }

    #[test]
    fn a_negative_price_is_invalid_input() {
        let err = change(&request(
            ChangePolicy::AddFundsOrRefund,
            basic(),
            plan("Odd", "-1.00"),
            "2026-11-16",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            RuleError::InvalidInput("tariff Odd has a negative price".into())
        );
    }

    #[test]
    fn a_service_without_a_period_is_invalid_input() {
        let mut req = request(ChangePolicy::AddFundsOrRefund, basic(), pro(), "2026-11-16");
        req.service.period_start = None;
        assert!(
            matches!(change(&req), Err(RuleError::InvalidInput(m)) if m.contains("service.period-start"))
        );
        req.service.period_start = Some(d("2026-11-01"));
        req.service.expires = None;
        assert!(
            matches!(change(&req), Err(RuleError::InvalidInput(m)) if m.contains("service.expires"))
        );
        req.service.expires = Some(d("2026-11-01"));
        assert!(
            matches!(change(&req), Err(RuleError::InvalidInput(m)) if m.contains("has no days"))
        );
    }
}
