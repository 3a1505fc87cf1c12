//! Checks of a tariff-change decision: the lines as any decision's, and a
//! new period the facts allow (it never ends before the day of the change,
//! and it starts where the service's period starts or between the change
//! and the current expiry).

use super::checks::{date, lines};
use crate::contract::bindings::tariff_change;
use crate::domain::day;
use crate::domain::ledger::Priced;
use crate::runtime::CallError;
use rust_decimal::Decimal;

pub fn check_change(
    module: &str,
    request: &tariff_change::ChangeRequest,
    decision: &tariff_change::ChangeDecision,
) -> Result<Priced, CallError> {
    let invalid = |detail: String| CallError::InvalidDecision {
        module: module.into(),
        detail,
    };
    let lines = lines(&decision.lines, &request.to.currency).map_err(invalid)?;
    let period_start = date("period-start", &decision.period_start).map_err(invalid)?;
    let expires = date("expires", &decision.expires).map_err(invalid)?;
    let fact = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .and_then(day::parse)
            .ok_or_else(|| invalid(format!("the request's service has no {field}")))
    };
    let start = fact("period-start", &request.service.period_start)?;
    let current = fact("expires", &request.service.expires)?;
    let today = request
        .at
        .get(..10)
        .and_then(day::parse)
        .ok_or_else(|| invalid(format!("the request's time {:?} has no date", request.at)))?;
    if expires < today {
        return Err(invalid(format!(
            "a change on {today} cannot expire before it, the decision says expires {expires}"
        )));
    }
    if expires < period_start {
        return Err(invalid(format!(
            "expires ({expires}) is before period-start ({period_start})"
        )));
    }
    let latest = current.max(today);
    if period_start != start && (period_start < today || period_start > latest) {
        return Err(invalid(format!(
            "the period after a change on {today} starts on {start} (as it is) or between {today} and {latest}, the decision says {period_start}"
        )));
    }
    let (from, to) = (start.min(today), expires.max(current));
    for (i, line) in lines.iter().enumerate() {
        let outside = |d: Option<chrono::NaiveDate>| d.is_some_and(|d| d < from || d > to);
        if outside(line.period_start) || outside(line.period_end) {
            return Err(invalid(format!(
                "line {}: its period lies outside {from}..{to}, the days this change can concern",
                i + 1
            )));
        }
    }
    let total = lines
        .iter()
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.amount))
        .ok_or_else(|| invalid("the lines overflow when summed".into()))?;
    Ok(Priced {
        lines,
        total,
        period_start,
        expires,
    })
}
