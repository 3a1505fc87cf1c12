//! Currencies' minor units: the smallest amount a ledger line can hold.
//!
//! The daemon refuses a line finer than its currency's minor unit (a balance
//! of 40.001 EUR can be neither paid nor refunded), so a rule rounds each
//! line with [`round_to_minor_unit`]. The daemon checks with the same table.

use rust_decimal::{Decimal, RoundingStrategy};

/// The decimal places of a currency's minor unit (ISO 4217): 2 for most
/// currencies; 0 for the yen, the won and the others without a minor unit;
/// 3 for the dinars of Bahrain, Iraq, Jordan, Kuwait, Libya and Tunisia and
/// the Omani rial; 4 for the units of account CLF and UYW. An unknown code
/// gets 2.
///
/// ```
/// assert_eq!(rules_sdk::minor_units("EUR"), 2);
/// assert_eq!(rules_sdk::minor_units("JPY"), 0);
/// assert_eq!(rules_sdk::minor_units("KWD"), 3);
/// assert_eq!(rules_sdk::minor_units("CLF"), 4);
/// assert_eq!(rules_sdk::minor_units("eur"), 2); // not a code: the default
/// ```
pub fn minor_units(currency: &str) -> u32 {
    // Codes compared as numbers: this runs for every line a rule rounds, and
    // comparing strings cost a call per candidate (~800 instructions of a
    // decision's fuel).
    const fn code(c: &[u8; 3]) -> u32 {
        (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32
    }
    const NONE: [u32; 17] = [
        code(b"BIF"),
        code(b"CLP"),
        code(b"DJF"),
        code(b"GNF"),
        code(b"ISK"),
        code(b"JPY"),
        code(b"KMF"),
        code(b"KRW"),
        code(b"PYG"),
        code(b"RWF"),
        code(b"UGX"),
        code(b"UYI"),
        code(b"VND"),
        code(b"VUV"),
        code(b"XAF"),
        code(b"XOF"),
        code(b"XPF"),
    ];
    const THREE: [u32; 7] = [
        code(b"BHD"),
        code(b"IQD"),
        code(b"JOD"),
        code(b"KWD"),
        code(b"LYD"),
        code(b"OMR"),
        code(b"TND"),
    ];
    const FOUR: [u32; 2] = [code(b"CLF"), code(b"UYW")];
    let &[a, b, c] = currency.as_bytes() else {
        return 2;
    };
    let k = code(&[a, b, c]);
    if NONE.contains(&k) {
        0
    } else if THREE.contains(&k) {
        3
    } else if FOUR.contains(&k) {
        4
    } else {
        2
    }
}

/// Round an amount to the currency's minor unit, half away from zero, and
/// write it with exactly that many places ("5.00" EUR, "5" JPY).
///
/// ```
/// use rules_sdk::{Decimal, round_to_minor_unit};
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// assert_eq!(round_to_minor_unit(d("4.995"), "EUR").to_string(), "5.00");
/// assert_eq!(round_to_minor_unit(d("333.5"), "JPY").to_string(), "334");
/// assert_eq!(round_to_minor_unit(d("-0.0125"), "KWD").to_string(), "-0.013");
/// ```
pub fn round_to_minor_unit(amount: Decimal, currency: &str) -> Decimal {
    let places = minor_units(currency);
    let mut rounded = amount.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(places);
    rounded
}
