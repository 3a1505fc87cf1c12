//! Calendar arithmetic every rule needs, done one way for everyone.

use chrono::{Datelike, Months, NaiveDate};

/// `date` plus `months` calendar months. A day that does not exist in the target
/// month clamps to its last day: Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    // checked_add_months clamps to the end of the month, which is the documented
    // rule; it only fails past year 262143, far outside any tariff.
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Number of days from `from` (inclusive) to `to` (exclusive); negative if `to` is earlier.
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Number of days in the month that contains `date`.
pub fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).unwrap_or(date);
    days_between(first, add_months(first, 1)) as u32
}

/// The 1st of the month after the one that contains `date`.
pub fn first_of_next_month(date: NaiveDate) -> NaiveDate {
    add_months(date.with_day(1).unwrap_or(date), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn month_end_clamps() {
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(add_months(d("2028-01-31"), 1), d("2028-02-29"));
        assert_eq!(add_months(d("2026-01-15"), 12), d("2027-01-15"));
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(d("2026-01-10")), 31);
        assert_eq!(days_in_month(d("2026-02-10")), 28);
        assert_eq!(days_in_month(d("2028-02-10")), 29);
        assert_eq!(first_of_next_month(d("2026-12-17")), d("2027-01-01"));
    }
}
