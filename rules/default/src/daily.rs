//! Daily charging (BILLmanager "Charge daily").
//!
//! A daily-charged service is ordered like any other (the setup fee and the
//! order day are charged at once) and then charged one day at a time; it is
//! never renewed. Its days are counted in order periods: `months` long,
//! starting on the order day, each one starting where the previous one ended.
//!
//! An order period of `n` days costs a total `T`: the tariff's day price × `n`
//! (or, with "calculate daily cost depending on order period", the order price
//! of `months`), plus the addons above their included quantity for `months`.
//! Day `k` of the period is charged by cumulative rounding,
//! `round(T × k / n) − round(T × (k − 1) / n)`, so:
//!
//! - with a plain day price of whole cents every day costs exactly that price
//!   (January: 31 × 0.10 = 3.10); a day price with more decimals is not
//!   rounded day by day but as a running total (0.105 a day: 0.11, 0.10,
//!   0.11, 0.10, ..., so that `k` days always cost `round(0.105 × k)`);
//! - derived from the period, the days of a period always sum to exactly its
//!   price, whatever the number of days in its months (3.00 for January's 31
//!   days as for April's 30), and no day differs from `T / n` by a cent or more.

use crate::money::spread_share;
use crate::prelude::*;
use crate::pricing::{addons_amount, not_sold, setup_line};
use rules_sdk::*;

/// `Operation::Order` of a daily-charged tariff: the order day and the setup
/// fee. The order period starts today; the service is paid until tomorrow.
pub(crate) fn order(req: &PriceRequest, daily: &DailyCharging) -> Result<PriceDecision, RuleError> {
    let today = req.at.date_naive();
    let period_end = add_months(today, req.months);
    let mut lines = vec![day_line(req, daily, today, period_end, today)?];
    lines.extend(setup_line(&req.tariff));
    Ok(PriceDecision {
        lines,
        period_start: today,
        expires: next_day(today)?,
    })
}

/// `Operation::Daily`: charge the day `at` falls on, counted in the order
/// period that contains it.
pub(crate) fn day(req: &PriceRequest, daily: &DailyCharging) -> Result<PriceDecision, RuleError> {
    let today = req.at.date_naive();
    let service = req.service.as_ref().ok_or_else(|| {
        RuleError::InvalidInput("a daily charge needs the service being charged".into())
    })?;
    let first = service.period_start.ok_or_else(|| {
        RuleError::InvalidInput(format!(
            "service {}: a daily charge needs the start of its order period",
            service.id
        ))
    })?;
    if first > today {
        return Err(RuleError::InvalidInput(format!(
            "service {}: its order period starts on {first}, after the day charged ({today})",
            service.id
        )));
    }
    let (period_start, period_end) = order_period_containing(first, req.months, today);
    Ok(PriceDecision {
        lines: vec![day_line(req, daily, period_start, period_end, today)?],
        period_start,
        expires: next_day(today)?,
    })
}

/// The order period `[p, e)` that contains `day`, walking forward from the
/// start `first` of an earlier one, `months` at a time. Each period starts
/// where the previous one ended (not at `first` + a multiple of `months`), so
/// the daemon may hand in any earlier period start, including the one this
/// returned last time, and gets the same period. `months` must be at least 1.
pub(crate) fn order_period_containing(
    first: NaiveDate,
    months: u32,
    day: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    debug_assert!(months >= 1 && first <= day);
    let mut start = first;
    loop {
        let end = add_months(start, months);
        if day < end || end <= start {
            return (start, end);
        }
        start = end;
    }
}

/// What a whole order period of `days` days of a daily tariff costs, unrounded.
fn period_total(
    req: &PriceRequest,
    daily: &DailyCharging,
    days: u32,
) -> Result<Decimal, RuleError> {
    let tariff = &req.tariff;
    let base = if daily.cost_from_period {
        tariff
            .price_for(req.months)
            .ok_or_else(|| not_sold(tariff, req.months))?
    } else {
        let price = daily.price.ok_or_else(|| {
            RuleError::InvalidInput(format!(
                "tariff {} charges daily but has no day price and does not derive it from the order period",
                tariff.name
            ))
        })?;
        price * Decimal::from(days)
    };
    Ok(base + addons_amount(req)?)
}

/// The charge of `day`, day `k` of the `n` days of order period `[start, end)`.
fn day_line(
    req: &PriceRequest,
    daily: &DailyCharging,
    start: NaiveDate,
    end: NaiveDate,
    day: NaiveDate,
) -> Result<Line, RuleError> {
    let n = days_between(start, end) as u32;
    let k = days_between(start, day) as u32 + 1;
    let total = period_total(req, daily, n)?;
    // A total that is already whole cents (every 2-decimal price) is spread
    // exactly; one with more decimals is rounded once, as a whole period.
    let amount = spread_share(total, k, n, &req.tariff.currency);
    Ok(Line::charge(
        LineKind::Daily,
        format!("{}, {day} (day {k} of {n})", req.tariff.name),
        amount,
    )
    .covering(day, next_day(day)?))
}

fn next_day(day: NaiveDate) -> Result<NaiveDate, RuleError> {
    day.succ_opt()
        .ok_or_else(|| RuleError::InvalidInput(format!("{day} has no next day")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DefaultRules;
    use crate::fixtures::*;

    fn tariff(daily: DailyCharging) -> Tariff {
        Tariff {
            daily: Some(daily),
            ..monthly("Daily")
        }
    }

    fn at(day: NaiveDate) -> DateTime<Utc> {
        day.and_hms_opt(0, 0, 0).unwrap().and_utc()
    }

    /// The order and every daily charge of a service ordered on `ordered`,
    /// through `last` (included).
    fn charges(t: &Tariff, ordered: NaiveDate, last: NaiveDate) -> Vec<PriceDecision> {
        let order = DefaultRules::price(PriceRequest {
            operation: Operation::Order,
            tariff: t.clone(),
            months: 1,
            addons: vec![],
            service: None,
            at: at(ordered),
        })
        .unwrap();
        let mut service = Service {
            id: "s".into(),
            status: ServiceStatus::Active,
            period_start: Some(order.period_start),
            expires: Some(order.expires),
            suspended_at: None,
            months: 1,
            addons: vec![],
        };
        let mut all = vec![order];
        while service.expires.unwrap() <= last {
            let decision = DefaultRules::price(PriceRequest {
                operation: Operation::Daily,
                tariff: t.clone(),
                months: 1,
                addons: vec![],
                service: Some(service.clone()),
                at: at(service.expires.unwrap()),
            })
            .unwrap();
            service.period_start = Some(decision.period_start);
            service.expires = Some(decision.expires);
            all.push(decision);
        }
        all
    }

    fn daily_sum(decisions: &[PriceDecision]) -> Decimal {
        decisions
            .iter()
            .flat_map(|d| &d.lines)
            .filter(|l| l.kind == LineKind::Daily)
            .map(|l| l.amount)
            .sum()
    }

    /// Seed: January, monthly, 0.1 a day: 31 days cost 3.10.
    #[test]
    fn seed_plain_day_price_charges_every_day_of_january() {
        let t = tariff(DailyCharging {
            price: Some(dec("0.1")),
            cost_from_period: false,
            charge_downtime: false,
        });
        let all = charges(&t, d("2026-01-01"), d("2026-01-31"));
        assert_eq!(all.len(), 31);
        assert!(
            all.iter()
                .all(|d| d.lines.len() == 1 && d.lines[0].amount.to_string() == "0.10")
        );
        assert_eq!(daily_sum(&all), dec("3.10"));
    }

    /// Seed: with the day cost derived from the period, a month costs its
    /// price: 3.00 for January's 31 days and for a 30-day month alike.
    #[test]
    fn seed_cost_from_period_sums_to_the_period_price() {
        let t = tariff(DailyCharging {
            price: Some(dec("0.1")),
            cost_from_period: true,
            charge_downtime: false,
        });
        let january = charges(&t, d("2026-01-01"), d("2026-01-31"));
        assert_eq!(january.len(), 31);
        assert_eq!(daily_sum(&january), dec("3.00"));
        let april = charges(&t, d("2026-04-01"), d("2026-04-30"));
        assert_eq!(april.len(), 30);
        assert_eq!(daily_sum(&april), dec("3.00"));
        assert!(april.iter().all(|d| d.lines[0].amount == dec("0.10")));
        let february = charges(&t, d("2026-02-01"), d("2026-02-28"));
        assert_eq!(daily_sum(&february), dec("3.00"));
    }

    #[test]
    fn a_day_price_with_more_decimals_is_rounded_as_a_running_total() {
        let t = tariff(DailyCharging {
            price: Some(dec("0.105")),
            cost_from_period: false,
            charge_downtime: false,
        });
        let all = charges(&t, d("2026-01-01"), d("2026-01-04"));
        let amounts: Vec<String> = all.iter().map(|d| d.lines[0].amount.to_string()).collect();
        assert_eq!(amounts, ["0.11", "0.10", "0.11", "0.10"]);
        // 31 days: round(0.105 × 31) = round(3.255) = 3.26
        assert_eq!(
            daily_sum(&charges(&t, d("2026-01-01"), d("2026-01-31"))),
            dec("3.26")
        );
    }

    #[test]
    fn order_charges_the_order_day_and_the_setup_fee() {
        let mut t = tariff(DailyCharging {
            price: Some(dec("0.25")),
            cost_from_period: false,
            charge_downtime: false,
        });
        t.setup_fee = dec("1");
        let all = charges(&t, d("2026-03-10"), d("2026-03-10"));
        let order = &all[0];
        assert_eq!(order.period_start, d("2026-03-10"));
        assert_eq!(order.expires, d("2026-03-11"));
        assert_eq!(order.lines[0].kind, LineKind::Daily);
        assert_eq!(order.lines[0].amount.to_string(), "0.25");
        assert_eq!(order.lines[0].period_start, Some(d("2026-03-10")));
        assert_eq!(order.lines[0].period_end, Some(d("2026-03-11")));
        assert_eq!(order.lines[1].kind, LineKind::Setup);
        assert_eq!(order.lines[1].amount.to_string(), "1.00");
    }

    #[test]
    fn daily_charges_move_to_the_next_order_period() {
        let t = tariff(DailyCharging {
            price: None,
            cost_from_period: true,
            charge_downtime: false,
        });
        let all = charges(&t, d("2026-01-31"), d("2026-03-31"));
        // Jan 31 + 1 month = Feb 28; Feb 28 + 1 month = Mar 28.
        let starts: Vec<NaiveDate> = all.iter().map(|d| d.period_start).collect();
        assert_eq!(starts[0], d("2026-01-31"));
        assert_eq!(starts[27], d("2026-01-31")); // Feb 27
        assert_eq!(starts[28], d("2026-02-28"));
        assert_eq!(starts[56], d("2026-03-28"));
        // Jan 31 – Feb 27: 28 days for 3.00.
        assert_eq!(daily_sum(&all[..28]), dec("3.00"));
        assert_eq!(daily_sum(&all[28..56]), dec("3.00"));
        assert_eq!(
            order_period_containing(d("2026-01-31"), 1, d("2026-03-29")),
            (d("2026-03-28"), d("2026-04-28"))
        );
    }

    #[test]
    fn a_day_needs_a_price_and_a_period_start() {
        let t = tariff(DailyCharging {
            price: None,
            cost_from_period: false,
            charge_downtime: false,
        });
        let mut req = PriceRequest {
            operation: Operation::Order,
            tariff: t,
            months: 1,
            addons: vec![],
            service: None,
            at: at(d("2026-01-01")),
        };
        assert!(matches!(
            DefaultRules::price(req.clone()),
            Err(RuleError::InvalidInput(_))
        ));
        req.tariff.daily.as_mut().unwrap().price = Some(dec("0.1"));
        req.operation = Operation::Daily;
        assert!(matches!(
            DefaultRules::price(req.clone()),
            Err(RuleError::InvalidInput(_))
        ));
        let mut service = Service {
            id: "s".into(),
            status: ServiceStatus::Active,
            period_start: None,
            expires: Some(d("2026-01-01")),
            suspended_at: None,
            months: 1,
            addons: vec![],
        };
        req.service = Some(service.clone());
        assert!(matches!(
            DefaultRules::price(req.clone()),
            Err(RuleError::InvalidInput(_))
        ));
        service.period_start = Some(d("2026-01-02"));
        req.service = Some(service);
        assert!(matches!(
            DefaultRules::price(req),
            Err(RuleError::InvalidInput(_))
        ));
    }

    #[test]
    fn renewing_a_daily_service_is_denied() {
        let t = tariff(DailyCharging {
            price: Some(dec("0.1")),
            cost_from_period: false,
            charge_downtime: false,
        });
        let err = DefaultRules::price(PriceRequest {
            operation: Operation::Renewal,
            tariff: t,
            months: 1,
            addons: vec![],
            service: None,
            at: at(d("2026-01-01")),
        })
        .unwrap_err();
        assert_eq!(
            err,
            RuleError::Denied(
                "tariff Daily charges daily; its services are paid one day at a time".into()
            )
        );
    }
}
