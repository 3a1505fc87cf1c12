//! Shared test helpers: dates, decimals and a plain tariff to vary.

use rules_sdk::*;
use std::str::FromStr;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A monthly tariff at 3.00 with no setup fee and no policies; tests change
/// the fields they are about with struct update syntax.
pub fn monthly(name: &str) -> Tariff {
    Tariff {
        id: "t".into(),
        name: name.into(),
        currency: "USD".into(),
        prices: vec![PeriodPrice {
            months: 1,
            price: dec("3.00"),
        }],
        setup_fee: Decimal::ZERO,
        renewal_prices: vec![],
        daily: None,
        pro_rata_day: None,
        late_fee: LateFee::None,
        addons: vec![],
    }
}
