//! Money checks shared by every input and every rule decision.

use super::invalid::{Invalid, invalid};
use rust_decimal::Decimal;

/// Amounts carry at most this many decimal places (cents and sub-cent unit
/// prices such as 0.0125 per GB). More is a typo, not a price.
pub const MAX_SCALE: u32 = 4;

/// No single amount in rulesd reaches this: larger values are rejected as input
/// errors or bad rule output instead of overflowing a sum.
pub fn max_amount() -> Decimal {
    Decimal::from(1_000_000_000_000i64)
}

/// Check an amount's scale and magnitude; `Err` says what is wrong with it.
pub fn check(amount: Decimal, allow_negative: bool) -> Result<(), String> {
    if !allow_negative && amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("{amount} is negative"));
    }
    if amount.normalize().scale() > MAX_SCALE {
        return Err(format!("{amount} has more than {MAX_SCALE} decimal places"));
    }
    if amount.abs() >= max_amount() {
        return Err(format!("{amount} is too large"));
    }
    Ok(())
}

/// The decimal places of a currency's minor unit: the rule SDK's table, so
/// the daemon checks lines against the unit rules round to.
pub use rules_sdk::minor_units;

/// Check an amount that moves money as it stands (a ledger line, manual or
/// from a rule): besides [`check`], no finer than the currency's minor unit,
/// since a balance of 40.001 EUR can be neither paid nor refunded. (Tariff
/// prices may be finer, such as 0.0125 per GB; the rule rounds what it
/// charges.)
/// An ISO 4217 currency code: three capital letters such as "EUR".
pub fn check_currency(field: &str, code: &str) -> Result<(), Invalid> {
    if code == "XXX" {
        Err(invalid(
            field,
            "\"XXX\" is ISO 4217's code for no currency: nothing can be charged in it",
        ))
    } else if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{code:?} is not an ISO 4217 code such as \"EUR\""),
        ))
    }
}

pub fn check_payable(amount: Decimal, currency: &str) -> Result<(), String> {
    check_places(amount, currency)?;
    check(amount, true)
}

/// Only the minor-unit part of [`check_payable`].
pub fn check_places(amount: Decimal, currency: &str) -> Result<(), String> {
    let places = minor_units(currency);
    if amount.normalize().scale() > places {
        return Err(format!(
            "{amount} is finer than the smallest unit of {currency} ({places} decimal places)"
        ));
    }
    Ok(())
}

/// `amount`, already in whole minor units of `currency` (see
/// [`check_places`]), written with exactly the currency's places: a rule's
/// "10.000" or "10" EUR is stored and shown as "10.00", like every other.
pub fn in_minor_units(mut amount: Decimal, currency: &str) -> Decimal {
    amount.rescale(minor_units(currency));
    amount
}

/// Parse a decimal string (from the API or a rule): plain notation only,
/// an optional minus, digits, and a fractional part of at least one digit
/// after the dot: "6.45", "-1.2", "10". Not "5." or ".5" (a typo as likely
/// as a price), "+1", "1e3" or spaces.
pub fn parse(text: &str) -> Result<Decimal, String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(format!(
            "{text:?} is not a decimal amount such as \"6.45\" or \"10\""
        ));
    }
    text.parse::<Decimal>()
        .map_err(|_| format!("{text:?} is not a decimal amount"))
}

/// Serde for an amount in the API: a string in plain notation, as
/// [`parse`] reads it (`"6.45"`; not `"1e5"`, which `rust_decimal::serde::str`
/// would take). Written as `Decimal`'s `Display`, which is plain.
pub mod plain {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str::serialize(value, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_str(Plain { unsigned: false })
    }

    /// `unsigned`: "-0" is refused ([`super::unsigned`]).
    pub(super) struct Plain {
        pub(super) unsigned: bool,
    }

    impl de::Visitor<'_> for Plain {
        type Value = Decimal;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal amount as a string, such as \"6.45\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            let amount = super::parse(v).map_err(E::custom)?;
            if self.unsigned {
                super::refuse_negative_zero(v, amount).map_err(E::custom)?;
            }
            Ok(amount)
        }
    }
}

/// "-0" (or "-0.00") where an amount has no sign: a price, a fee, a credit
/// limit. `parse` reads it as 0 (the sign of a zero is dropped), so only its
/// text shows it; the document's patterns for these amounts have no minus,
/// and a minus on a price is a mistake, not a price. A negative amount that
/// is not zero parses, and the field's check refuses it, naming the field.
pub fn refuse_negative_zero(text: &str, amount: Decimal) -> Result<(), String> {
    if text.starts_with('-') && amount.is_zero() {
        return Err(format!(
            "{text:?} is a negative zero; this amount has no sign: write 0"
        ));
    }
    Ok(())
}

/// [`plain`] for an amount without a sign: "-0" is refused
/// ([`refuse_negative_zero`]).
pub mod unsigned {
    use rust_decimal::Decimal;
    use serde::Deserializer;

    pub use super::plain::serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_str(super::plain::Plain { unsigned: true })
    }
}

/// [`plain`] for an optional amount.
pub mod plain_option {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str_option::serialize(value, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Amount(#[serde(with = "super::plain")] Decimal);
        Ok(Option::<Amount>::deserialize(d)?.map(|a| a.0))
    }
}

/// [`unsigned`] for an optional amount.
pub mod unsigned_option {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer};

    pub use super::plain_option::serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Amount(#[serde(with = "super::unsigned")] Decimal);
        Ok(Option::<Amount>::deserialize(d)?.map(|a| a.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_plain_decimals_only() {
        assert_eq!(parse("6.45").unwrap(), Decimal::new(645, 2));
        assert_eq!(parse("-1.20").unwrap(), Decimal::new(-120, 2));
        assert_eq!(parse("10").unwrap(), Decimal::new(10, 0));
        for bad in [
            "", "1e3", "abc", "1.2.3", " 1", "NaN", "+1", "--1", "5.", ".5", "-.5", "-", ".", "1 ",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn api_amounts_are_plain_decimal_strings() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct Price {
            #[serde(with = "plain")]
            price: Decimal,
            #[serde(default, with = "plain_option")]
            fee: Option<Decimal>,
        }
        let p: Price = serde_json::from_str(r#"{"price": "6.45", "fee": null}"#).unwrap();
        assert_eq!((p.price, p.fee), (Decimal::new(645, 2), None));
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"price":"6.45","fee":null}"#
        );
        for bad in [
            r#"{"price": "1e5"}"#,
            r#"{"price": 5}"#,
            r#"{"price": "5", "fee": "1e2"}"#,
        ] {
            let e = serde_json::from_str::<Price>(bad)
                .err()
                .expect(bad)
                .to_string();
            assert!(e.contains("decimal amount"), "{bad}: {e}");
        }
    }

    #[test]
    fn check_rejects_negative_overprecise_and_huge() {
        assert!(check(Decimal::new(-1, 0), false).is_err());
        assert!(check(Decimal::new(-1, 0), true).is_ok());
        assert!(check(Decimal::new(12345, 5), false).is_err());
        assert!(check(Decimal::new(12340, 5), false).is_ok());
        assert!(check(max_amount(), false).is_err());
    }

    #[test]
    fn payable_amounts_stop_at_the_currency_minor_unit() {
        assert!(check_payable(Decimal::new(-4000, 2), "EUR").is_ok());
        assert!(check_payable(Decimal::new(-1, 3), "EUR").is_err());
        assert!(check_payable(Decimal::new(10, 1), "JPY").is_ok()); // 1.0 = 1
        assert!(check_payable(Decimal::new(15, 1), "JPY").is_err());
        assert!(check_payable(Decimal::new(1001, 3), "KWD").is_ok());
        let e = check_payable(Decimal::new(-1, 3), "EUR").unwrap_err();
        assert!(e.contains("smallest unit of EUR (2 decimal places)"), "{e}");
    }
}
