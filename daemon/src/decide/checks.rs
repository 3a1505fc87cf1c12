//! The daemon never trusts rule output: every decision is checked against the
//! facts that were handed in before anything uses it.

use crate::contract::bindings::{pricing, types as wit};
use crate::domain::day;
use crate::domain::ledger::Priced;
use crate::domain::ledger::{Line, LineKind};
use crate::domain::money;
use crate::runtime::CallError;
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub(super) fn date(field: &str, s: &str) -> Result<NaiveDate, String> {
    day::parse(s).ok_or_else(|| format!("{field} {s:?} is not a YYYY-MM-DD date"))
}

/// The lines of a decision in `currency`: each a plain decimal of sane size
/// and sign, in whole minor units of the currency, with a description and
/// a period that runs forwards.
pub(super) fn lines(raw: &[wit::Line], currency: &str) -> Result<Vec<Line>, String> {
    raw.iter()
        .enumerate()
        .map(|(i, l)| {
            let f = format!("line {}", i + 1);
            let amount = money::parse(&l.amount).map_err(|m| format!("{f}: amount {m}"))?;
            let kind = LineKind::from(l.kind);
            // Refunds give money back; everything else charges it.
            let refund = kind == LineKind::Refund;
            let adjustment = kind == LineKind::Adjustment;
            if refund && amount > Decimal::ZERO {
                return Err(format!("{f}: a refund must not be positive, got {amount}"));
            }
            money::check(amount, refund || adjustment)
                .and_then(|()| money::check_places(amount, currency))
                .map_err(|m| format!("{f}: amount {m}"))?;
            let amount = money::in_minor_units(amount, currency);
            if l.description.trim().is_empty() || l.description.chars().count() > 500 {
                return Err(format!("{f}: description must be 1 to 500 characters"));
            }
            // It is stored in the ledger and shown on invoices.
            if l.description.chars().any(char::is_control) {
                return Err(format!(
                    "{f}: description {:?} contains control characters",
                    l.description
                ));
            }
            let period_start = l
                .period_start
                .as_deref()
                .map(|s| date(&format!("{f}: period-start"), s))
                .transpose()?;
            let period_end = l
                .period_end
                .as_deref()
                .map(|s| date(&format!("{f}: period-end"), s))
                .transpose()?;
            if let (Some(s), Some(e)) = (period_start, period_end)
                && e < s
            {
                return Err(format!("{f}: period ends ({e}) before it starts ({s})"));
            }
            Ok(Line {
                kind,
                description: l.description.clone(),
                amount,
                period_start,
                period_end,
            })
        })
        .collect()
}

/// Check the lines of a proration decision: the same checks as a price's
/// lines, but there may be none (nothing to charge or refund).
pub fn check_lines(
    module: &str,
    currency: &str,
    raw: &[wit::Line],
) -> Result<Vec<Line>, CallError> {
    lines(raw, currency).map_err(|detail| CallError::InvalidDecision {
        module: module.into(),
        detail,
    })
}

/// Check a pricing decision: amounts are plain decimals of sane size and sign,
/// dates parse, an order or renewal period runs forwards, and a day of daily
/// charging pays for exactly the day asked about (a rule cannot extend a
/// daily service by more than one day per charge).
pub fn check_price(
    module: &str,
    request: &pricing::PriceRequest,
    decision: &pricing::PriceDecision,
) -> Result<Priced, CallError> {
    let invalid = |detail: String| CallError::InvalidDecision {
        module: module.into(),
        detail,
    };
    let lines = lines(&decision.lines, &request.tariff.currency).map_err(invalid)?;
    if lines.is_empty() {
        return Err(invalid("no lines: a price needs at least one line".into()));
    }
    let period_start = date("period-start", &decision.period_start).map_err(invalid)?;
    let expires = date("expires", &decision.expires).map_err(invalid)?;
    if request.operation == pricing::Operation::Daily {
        let day = request
            .at
            .get(..10)
            .and_then(day::parse)
            .and_then(|d| d.succ_opt().map(|next| (d, next)));
        match day {
            Some((day, next)) if expires == next && period_start <= day => {}
            _ => {
                return Err(invalid(format!(
                    "a daily charge for {} must expire the next day and start no later than it; got period-start {period_start}, expires {expires}",
                    request.at
                )));
            }
        }
    } else if expires <= period_start {
        return Err(invalid(format!(
            "expires ({expires}) is not after period-start ({period_start})"
        )));
    }
    check_period(request, period_start, expires, &lines).map_err(invalid)?;
    let total = lines
        .iter()
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.amount))
        .ok_or_else(|| invalid("the lines overflow when summed".into()))?;
    if total.is_sign_negative() && !total.is_zero() {
        return Err(invalid(format!("the total {total} is negative")));
    }
    Ok(Priced {
        lines,
        total,
        period_start,
        expires,
    })
}

/// Where an order or renewal may put the service's period, from the facts
/// handed in: a rule that read the (frozen) clock instead of `at`, or that
/// sells time already paid for, is refused rather than believed.
///
/// - An order starts today (the day of `at`).
/// - A renewal starts at the current expiry when that is today or later
///   (no day paid twice, none lost); an expired service restarts between its
///   expiry and today (today, or the suspension date when renewing from
///   suspension); a service never paid starts today.
/// - So a renewal moves the expiry forwards (expires is after period-start).
/// - Orders and renewals run at most `months` + 1 calendar months (a
///   calendar-based first period adds the part of a month before its first
///   full one), and every line's period lies within the days the decision
///   could concern.
fn check_period(
    request: &pricing::PriceRequest,
    period_start: NaiveDate,
    expires: NaiveDate,
    lines: &[Line],
) -> Result<(), String> {
    if request.operation == pricing::Operation::Daily {
        return Ok(()); // checked day by day above
    }
    let today = request
        .at
        .get(..10)
        .and_then(day::parse)
        .ok_or_else(|| format!("the request's time {:?} has no date", request.at))?;
    let current = request
        .service
        .as_ref()
        .and_then(|s| s.expires.as_deref())
        .and_then(day::parse);
    let (earliest, latest) = match (request.operation, current) {
        (pricing::Operation::Renewal, Some(current)) => (current, current.max(today)),
        _ => (today, today),
    };
    if period_start < earliest || period_start > latest {
        let what = if request.operation == pricing::Operation::Renewal {
            "a renewal"
        } else {
            "an order"
        };
        let allowed = if earliest == latest {
            format!("{earliest}")
        } else {
            format!("between {earliest} and {latest}")
        };
        return Err(format!(
            "{what} on {today} must start {allowed}, the decision says period-start {period_start}"
        ));
    }
    let longest = request.months.saturating_add(1);
    let end = period_start
        .checked_add_months(chrono::Months::new(longest))
        .unwrap_or(NaiveDate::MAX);
    if expires > end {
        return Err(format!(
            "{} month(s) from {period_start} cannot run until {expires} (at most {longest} calendar months, to {end})",
            request.months
        ));
    }
    let from = earliest.min(period_start);
    for (i, line) in lines.iter().enumerate() {
        let outside = |d: Option<NaiveDate>| d.is_some_and(|d| d < from || d > end);
        if outside(line.period_start) || outside(line.period_end) {
            return Err(format!(
                "line {}: its period lies outside {from}..{end}, the days this decision can concern",
                i + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn daily_request() -> pricing::PriceRequest {
        pricing::PriceRequest {
            operation: pricing::Operation::Daily,
            tariff: wit::Tariff {
                id: "1".into(),
                name: "Daily".into(),
                currency: "EUR".into(),
                prices: vec![],
                setup_fee: "0".into(),
                renewal_prices: vec![],
                daily: None,
                pro_rata_day: None,
                late_fee: wit::LateFee::None,
                addons: vec![],
            },
            months: 1,
            addons: vec![],
            service: None,
            at: "2026-03-10T00:00:00Z".into(),
        }
    }

    fn day_decision(start: &str, expires: &str) -> pricing::PriceDecision {
        pricing::PriceDecision {
            lines: vec![wit::Line {
                kind: wit::LineKind::Daily,
                description: "a day".into(),
                amount: "0.10".into(),
                period_start: Some("2026-03-10".into()),
                period_end: Some("2026-03-11".into()),
            }],
            period_start: start.into(),
            expires: expires.into(),
        }
    }

    fn renewal_of_service_expiring(expires: &str) -> pricing::PriceRequest {
        pricing::PriceRequest {
            operation: pricing::Operation::Renewal,
            service: Some(wit::Service {
                id: "7".into(),
                status: wit::ServiceStatus::Active,
                period_start: Some("2026-02-10".into()),
                expires: Some(expires.into()),
                suspended_at: None,
                months: 1,
                addons: vec![],
            }),
            ..daily_request()
        }
    }

    fn period(start: &str, expires: &str) -> pricing::PriceDecision {
        pricing::PriceDecision {
            lines: vec![wit::Line {
                kind: wit::LineKind::Renewal,
                description: "a month".into(),
                amount: "10.00".into(),
                period_start: Some(start.into()),
                period_end: Some(expires.into()),
            }],
            period_start: start.into(),
            expires: expires.into(),
        }
    }

    fn at(mut r: pricing::PriceRequest, at: &str) -> pricing::PriceRequest {
        r.at = format!("{at}T09:00:00Z");
        r
    }

    #[test]
    fn a_renewal_starts_where_the_paid_time_ends() {
        let on_time = at(renewal_of_service_expiring("2026-03-10"), "2026-03-08");
        assert!(check_price("m", &on_time, &period("2026-03-10", "2026-04-10")).is_ok());
        // Expired on the 10th, renewed on the 15th: today, or the suspension
        // date in between (renew from suspension).
        let late = at(renewal_of_service_expiring("2026-03-10"), "2026-03-15");
        assert!(check_price("m", &late, &period("2026-03-15", "2026-04-15")).is_ok());
        assert!(check_price("m", &late, &period("2026-03-12", "2026-04-12")).is_ok());
        for (r, start, expires, allowed) in [
            // Sells days already paid for (the review's overlap).
            (&on_time, "2026-02-10", "2026-03-11", "2026-03-10"),
            (&on_time, "2026-03-08", "2026-04-08", "2026-03-10"),
            // Leaves a gap after the paid time.
            (&on_time, "2026-03-11", "2026-04-11", "2026-03-10"),
            (
                &late,
                "2026-03-16",
                "2026-04-16",
                "between 2026-03-10 and 2026-03-15",
            ),
            // The frozen clock's 1970 instead of the request's time.
            (
                &late,
                "1970-01-01",
                "1970-02-01",
                "between 2026-03-10 and 2026-03-15",
            ),
        ] {
            let err = check_price("m", r, &period(start, expires))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!(
                    "must start {allowed}, the decision says period-start {start}"
                )),
                "{start}..{expires}: {err}"
            );
        }
    }

    #[test]
    fn an_order_starts_today_and_runs_about_its_months() {
        let order = pricing::PriceRequest {
            operation: pricing::Operation::Order,
            months: 1,
            ..at(daily_request(), "2026-01-31")
        };
        assert!(check_price("m", &order, &period("2026-01-31", "2026-02-28")).is_ok());
        // A calendar-based first period: the rest of February, then March.
        assert!(check_price("m", &order, &period("2026-01-31", "2026-03-01")).is_ok());
        let err = check_price("m", &order, &period("1970-01-01", "1970-02-01"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("an order on 2026-01-31 must start 2026-01-31"),
            "{err}"
        );
        let err = check_price("m", &order, &period("2026-01-31", "9999-12-31"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1 month(s) from 2026-01-31 cannot run until 9999-12-31"),
            "{err}"
        );
        // A line cannot speak for days the decision has nothing to do with.
        let mut wide = period("2026-01-31", "2026-02-28");
        wide.lines[0].period_start = Some("1999-01-01".into());
        wide.lines[0].period_end = Some("2099-01-01".into());
        let err = check_price("m", &order, &wide).unwrap_err().to_string();
        assert!(
            err.contains("line 1: its period lies outside 2026-01-31..2026-03-31"),
            "{err}"
        );
    }

    #[test]
    fn a_description_has_no_control_characters() {
        let order = pricing::PriceRequest {
            operation: pricing::Operation::Order,
            ..at(daily_request(), "2026-01-31")
        };
        let mut d = period("2026-01-31", "2026-02-28");
        d.lines[0].description = "Basic\u{0}\nFAKE LOG LINE".into();
        let err = check_price("m", &order, &d).unwrap_err().to_string();
        assert!(err.contains("contains control characters"), "{err}");
    }

    #[test]
    fn amounts_are_written_with_the_currency_s_places() {
        let order = pricing::PriceRequest {
            operation: pricing::Operation::Order,
            ..at(daily_request(), "2026-01-31")
        };
        for (currency, amount, written) in [
            ("EUR", "10.000", "10.00"),
            ("EUR", "10", "10.00"),
            ("JPY", "1000.00", "1000"),
            ("KWD", "1.5", "1.500"),
        ] {
            let mut r = order.clone();
            r.tariff.currency = currency.into();
            let mut d = period("2026-01-31", "2026-02-28");
            d.lines[0].amount = amount.into();
            let priced = check_price("m", &r, &d).unwrap();
            assert_eq!(priced.lines[0].amount.to_string(), written);
            assert_eq!(priced.total.to_string(), written);
        }
    }

    #[test]
    fn lines_are_in_whole_minor_units_of_the_currency() {
        let at = |currency: &str, amount: &str| {
            let mut r = renewal_of_service_expiring("2026-03-10");
            r.tariff.currency = currency.into();
            let mut d = period("2026-03-10", "2026-04-10");
            d.lines[0].amount = amount.into();
            check_price("m", &r, &d)
        };
        assert!(at("EUR", "10.00").is_ok());
        assert!(at("JPY", "1000").is_ok());
        assert!(at("JPY", "1000.00").is_ok()); // the same amount
        assert!(at("KWD", "10.125").is_ok());
        for (currency, amount) in [("EUR", "10.005"), ("JPY", "333.33")] {
            let err = at(currency, amount).unwrap_err().to_string();
            assert!(
                err.contains(&format!("finer than the smallest unit of {currency}")),
                "{currency} {amount}: {err}"
            );
        }
    }

    #[test]
    fn a_daily_charge_pays_for_exactly_its_day() {
        let r = daily_request();
        assert!(check_price("m", &r, &day_decision("2026-03-01", "2026-03-11")).is_ok());
        for (start, expires) in [
            ("2026-03-01", "2026-04-11"), // a year's service for one day's price
            ("2026-03-01", "2026-03-10"), // nothing paid
            ("2026-03-11", "2026-03-11"), // order period starting after the day
        ] {
            let err = check_price("m", &r, &day_decision(start, expires)).unwrap_err();
            assert!(
                err.to_string().contains("must expire the next day"),
                "{start}..{expires}: {err}"
            );
        }
    }
}
