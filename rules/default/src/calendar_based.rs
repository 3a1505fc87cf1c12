//! Calendar-based charging (BILLmanager "Calendar-based charges", pro-rata day).
//!
//! Every period of a calendar-based tariff ends on the 1st of a month, so all of
//! a client's services fall due together. A period that starts on day `d` other
//! than the 1st is stretched or shrunk to a 1st:
//!
//! - before the pro-rata day it runs to the 1st of the next month, plus
//!   `months - 1` whole months (the client pays the rest of this month and
//!   `months - 1` more);
//! - on or after the pro-rata day it runs to the 1st of the month after next,
//!   plus `months - 1` whole months (the rest of this month is too short to
//!   sell alone, so it is added to a full `months`).
//!
//! The price follows the time: the period price × (whole months + the part of
//! the first month) / `months`, the part being the days from `d` to the 1st of
//! the next month over the days of `d`'s month. A period that starts on the 1st
//! is a plain full period at the full price.

use crate::prelude::*;
use rules_sdk::*;

/// A calendar-based period that does not start on the 1st.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CalendarTerm {
    /// Exclusive end of the period: always the 1st of a month.
    pub end: NaiveDate,
    /// Whole months paid after the partial first month.
    pub full_months: u32,
    /// Days from the start to the 1st of the next month.
    pub partial_days: u32,
    /// Days of the month the period starts in.
    pub month_days: u32,
}

impl CalendarTerm {
    /// `amount` (the price of a full `months` period) scaled to this term:
    /// `amount × (full_months + partial_days / month_days) / months`, not
    /// rounded (the caller rounds the line once). The division comes last so
    /// the quotient is exact whenever it can be.
    pub fn share_of(&self, amount: Decimal, months: u32) -> Decimal {
        let numerator = self.full_months * self.month_days + self.partial_days;
        let denominator = self.month_days * months;
        amount * Decimal::from(numerator) / Decimal::from(denominator)
    }

    /// For a line description, e.g. "prorated to the calendar month: 20/31 of
    /// a month" or "...: 1 month and 15/31".
    pub fn describe(&self) -> String {
        let part = format!("{}/{}", self.partial_days, self.month_days);
        let span = match self.full_months {
            0 => format!("{part} of a month"),
            1 => format!("1 month and {part}"),
            m => format!("{m} months and {part}"),
        };
        format!("prorated to the calendar month: {span}")
    }
}

/// The pro-rata day of a tariff, checked: a day of the month, 1 to 31.
pub(crate) fn pro_rata_day(tariff: &Tariff) -> Result<Option<u32>, RuleError> {
    match tariff.pro_rata_day {
        Some(day) if !(1..=31).contains(&day) => Err(RuleError::InvalidInput(format!(
            "tariff {}: pro-rata day {day} is not a day of the month (1 to 31)",
            tariff.name
        ))),
        other => Ok(other),
    }
}

/// The term of a `months` period starting on `start` under pro-rata day
/// `pro_rata_day`, or `None` when `start` is the 1st (a plain full period
/// from `start` to `add_months(start, months)` at the full price).
///
/// `months` must be at least 1.
pub(crate) fn calendar_term(
    start: NaiveDate,
    months: u32,
    pro_rata_day: u32,
) -> Option<CalendarTerm> {
    debug_assert!(months >= 1);
    if start.day() == 1 {
        return None;
    }
    let next_first = first_of_next_month(start);
    let full_months = if start.day() < pro_rata_day {
        months - 1
    } else {
        months
    };
    Some(CalendarTerm {
        end: add_months(next_first, full_months),
        full_months,
        partial_days: days_between(start, next_first) as u32,
        month_days: days_in_month(start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::money::round_money;

    /// Seed: pro-rata day 15, ordered July 12 → active until August 1.
    #[test]
    fn seed_before_pro_rata_day_runs_to_the_next_first() {
        let term = calendar_term(d("2026-07-12"), 1, 15).unwrap();
        assert_eq!(term.end, d("2026-08-01"));
        assert_eq!(
            (term.full_months, term.partial_days, term.month_days),
            (0, 20, 31)
        );
        // price × 20/31
        assert_eq!(
            round_money(term.share_of(dec("31.00"), 1), "EUR"),
            dec("20.00")
        );
        assert_eq!(
            round_money(term.share_of(dec("10.00"), 1), "EUR").to_string(),
            "6.45"
        );
    }

    /// Seed: pro-rata day 15, ordered July 17 → active until September 1.
    #[test]
    fn seed_on_or_after_pro_rata_day_runs_a_month_longer() {
        let term = calendar_term(d("2026-07-17"), 1, 15).unwrap();
        assert_eq!(term.end, d("2026-09-01"));
        assert_eq!(
            (term.full_months, term.partial_days, term.month_days),
            (1, 15, 31)
        );
        // price × (1 + 15/31)
        assert_eq!(
            round_money(term.share_of(dec("31.00"), 1), "EUR"),
            dec("46.00")
        );
        assert_eq!(
            round_money(term.share_of(dec("10.00"), 1), "EUR").to_string(),
            "14.84"
        );
        // The pro-rata day itself counts as "on or after".
        assert_eq!(
            calendar_term(d("2026-07-15"), 1, 15).unwrap().end,
            d("2026-09-01")
        );
    }

    #[test]
    fn longer_periods_keep_their_whole_months() {
        // 12 months from Jul 12 (before day 15): to Aug 1 + 11 months.
        let term = calendar_term(d("2026-07-12"), 12, 15).unwrap();
        assert_eq!(term.end, d("2027-07-01"));
        // 120 × (11 + 20/31) / 12 = 116.4516..
        assert_eq!(
            round_money(term.share_of(dec("120.00"), 12), "EUR").to_string(),
            "116.45"
        );
        // 12 months from Jul 20 (after day 15): to Aug 1 + 12 months.
        assert_eq!(
            calendar_term(d("2026-07-20"), 12, 15).unwrap().end,
            d("2027-08-01")
        );
    }

    #[test]
    fn the_first_of_a_month_is_a_plain_period() {
        assert_eq!(calendar_term(d("2026-07-01"), 1, 15), None);
        assert_eq!(calendar_term(d("2026-07-01"), 1, 1), None);
    }
}
