//! Calendar days as the rule contract writes them: exactly `YYYY-MM-DD`.
//!
//! Read and written by hand rather than with chrono's format strings: a
//! format-string parse re-reads its format on every call, and every rule
//! decision carries several dates (it showed up in the profile of each quote).
//! The fixed form is also stricter: no signs, no spaces, no short fields.

use super::invalid::{Invalid, invalid};
use chrono::NaiveDate;

/// Parse exactly `YYYY-MM-DD`; `None` for anything else or a day that does
/// not exist.
pub fn parse(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// Write a day as `YYYY-MM-DD` (chrono's `Display`, which has that form for
/// years 0 to 9999).
pub fn format(d: NaiveDate) -> String {
    d.to_string()
}

/// The days the API accepts as decision times and service dates. A rule
/// writes dates as `YYYY-MM-DD`, so a period that starts near the year 9999
/// would end in a year that form cannot hold, and the rule would be blamed
/// for it; the margin leaves room for any period after the last day.
pub const FIRST: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
pub const LAST: NaiveDate = NaiveDate::from_ymd_opt(8999, 12, 31).expect("a valid date");

/// Check that a day lies in [`FIRST`]..=[`LAST`].
pub fn check_range(field: &str, day: NaiveDate) -> Result<(), Invalid> {
    if (FIRST..=LAST).contains(&day) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{day} is outside the days rulesd accepts ({FIRST} to {LAST})"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_days_from_1970_to_8999() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert!(check_range("at", d(2026, 1, 31)).is_ok());
        assert!(check_range("at", d(8999, 12, 31)).is_ok());
        let e = check_range("at", d(9999, 12, 31)).unwrap_err();
        assert_eq!(e.field, "at");
        assert!(e.message.contains("1970-01-01 to 8999-12-31"), "{e}");
        assert!(check_range("at", d(1969, 12, 31)).is_err());
    }

    #[test]
    fn reads_exactly_the_contracts_form() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(parse("2026-01-31"), d(2026, 1, 31));
        assert_eq!(parse("2028-02-29"), d(2028, 2, 29));
        assert_eq!(parse("0001-01-01"), d(1, 1, 1));
        for bad in [
            "",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-1-1",
            " 2026-01-01",
            "2026-01-01 ",
            "+2026-01-01",
            "2026/01/01",
            "20260-1-01",
            "2026-01-0x",
            "２026-01-01",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 4).unwrap();
        assert_eq!(format(d), "2026-07-04");
        assert_eq!(parse(&format(d)), Some(d));
    }
}
