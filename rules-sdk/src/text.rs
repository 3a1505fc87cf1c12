//! Decimals and days written as the contract's strings without `core::fmt`.
//!
//! Every decision goes back to the daemon as strings: amounts as plain
//! decimals, days as `YYYY-MM-DD`. Through `Display` (and so `core::fmt`)
//! that was about half the fuel of a default-module decision: ~7,500 of
//! ~14,500 instructions for two lines. These write the same text by hand;
//! the tests check them against `Display` value by value.

use alloc::string::{String, ToString};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// `d.to_string()`: an optional `-`, the digits, and as many decimals as the
/// scale (trailing zeros kept: "10.00").
pub(crate) fn decimal(d: Decimal) -> String {
    let Ok(mut digits) = u64::try_from(d.mantissa().unsigned_abs()) else {
        return d.to_string(); // beyond 19 digits: rare enough for fmt
    };
    let scale = d.scale() as usize;
    // At most 29 digits (the scale is at most 28), a point and a sign.
    let mut buf = [0u8; 32];
    let mut at = buf.len();
    let mut written = 0;
    loop {
        if written == scale && scale > 0 {
            at -= 1;
            buf[at] = b'.';
        }
        at -= 1;
        buf[at] = b'0' + (digits % 10) as u8;
        digits /= 10;
        written += 1;
        if digits == 0 && written > scale {
            break;
        }
    }
    if d.is_sign_negative() {
        at -= 1;
        buf[at] = b'-';
    }
    ascii(&buf[at..])
}

/// `d.to_string()` for the years the contract uses (0 to 9999): `YYYY-MM-DD`.
pub(crate) fn day(d: NaiveDate) -> String {
    let Ok(year) = u32::try_from(d.year()) else {
        return d.to_string();
    };
    if year > 9999 {
        return d.to_string();
    }
    let mut buf = *b"0000-00-00";
    for (i, (value, width)) in [(year, 4), (d.month(), 2), (d.day(), 2)]
        .into_iter()
        .enumerate()
    {
        let end = [4, 7, 10][i];
        let mut v = value;
        for at in (end - width..end).rev() {
            buf[at] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    ascii(&buf)
}

fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_exactly_as_display_writes_them() {
        let mantissas = [
            0i128,
            1,
            5,
            9,
            10,
            99,
            100,
            1_000,
            1_005,
            123_456_789,
            i64::MAX as i128,
            u64::MAX as i128,
            u64::MAX as i128 + 1,
            10i128.pow(25) + 7,
        ];
        for m in mantissas {
            for scale in 0..=28 {
                for sign in [1, -1] {
                    let d = Decimal::from_i128_with_scale(sign * m, scale);
                    assert_eq!(decimal(d), d.to_string(), "{m} scale {scale} sign {sign}");
                }
            }
        }
        let negative_zero = -Decimal::new(0, 2);
        assert_eq!(decimal(negative_zero), negative_zero.to_string());
        for s in [
            "10.00",
            "0.05",
            "-3.1",
            "100",
            "0.0001",
            "79228162514264337593543950335",
        ] {
            let d: Decimal = s.parse().unwrap();
            assert_eq!(decimal(d), s);
        }
    }

    #[test]
    fn days_read_exactly_as_display_writes_them() {
        let mut d = NaiveDate::from_ymd_opt(1999, 12, 1).unwrap();
        for _ in 0..800 {
            assert_eq!(day(d), d.to_string());
            d = d.succ_opt().unwrap();
        }
        for (y, m, dd) in [
            (0, 1, 1),
            (7, 2, 3),
            (999, 12, 31),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 15),
        ] {
            let d = NaiveDate::from_ymd_opt(y, m, dd).unwrap();
            assert_eq!(day(d), d.to_string(), "{y}-{m}-{dd}");
        }
    }
}
