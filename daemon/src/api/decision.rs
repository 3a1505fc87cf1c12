//! The daemon never trusts rule output: every decision is checked against the
//! facts that were handed in before anything uses it.

use crate::domain::day;
use crate::domain::decision::Priced;
use crate::domain::ledger::{Line, LineKind};
use crate::domain::money;
use crate::runtime::CallError;
use crate::runtime::bindings::{pricing, types as wit};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn date(field: &str, s: &str) -> Result<NaiveDate, String> {
    day::parse(s).ok_or_else(|| format!("{field} {s:?} is not a YYYY-MM-DD date"))
}

/// The lines of a decision in `currency`: each a plain decimal of sane size
/// and sign, in whole minor units of the currency, with a description and
/// a period that runs forwards.
fn lines(raw: &[wit::Line], currency: &str) -> Result<Vec<Line>, String> {
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
            if l.description.trim().is_empty() || l.description.chars().count() > 500 {
                return Err(format!("{f}: description must be 1 to 500 characters"));
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
    // A renewal is paid for: it can only move the expiry forwards. (A late
    // renewal starts again from the renewal or suspension date, both after
    // the old expiry, so every policy of the seed passes this.)
    if request.operation == pricing::Operation::Renewal
        && let Some(current) = request
            .service
            .as_ref()
            .and_then(|s| s.expires.as_deref())
            .and_then(day::parse)
        && expires <= current
    {
        return Err(invalid(format!(
            "a renewal must move the expiry forwards: the service expires {current}, the decision says {expires}"
        )));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn daily_request() -> pricing::PriceRequest {
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

    #[test]
    fn a_renewal_only_moves_the_expiry_forwards() {
        let r = renewal_of_service_expiring("2026-03-10");
        // On time, and late from the renewal date: both after the old expiry.
        assert!(check_price("m", &r, &period("2026-03-10", "2026-04-10")).is_ok());
        assert!(check_price("m", &r, &period("2026-03-15", "2026-04-15")).is_ok());
        for (start, expires) in [
            ("2026-02-10", "2026-03-10"), // pays for the period already paid
            ("2026-01-10", "2026-02-10"), // shortens the paid period
        ] {
            let err = check_price("m", &r, &period(start, expires)).unwrap_err();
            assert!(
                err.to_string()
                    .contains("must move the expiry forwards: the service expires 2026-03-10"),
                "{start}..{expires}: {err}"
            );
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
