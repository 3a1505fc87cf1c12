//! Calendar days as the rule contract writes them: exactly `YYYY-MM-DD`.
//!
//! Read and written by hand rather than with chrono's format strings: a
//! format-string parse re-reads its format on every call, and every rule
//! decision carries several dates (it showed up in the profile of each quote).
//! The fixed form is also stricter: no signs, no spaces, no short fields.

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

#[cfg(test)]
mod tests {
    use super::*;

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
