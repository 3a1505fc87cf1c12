//! The pricing request the decision benches time.

use rulesd::contract::bindings::{pricing, types};

/// An order of a tariff with two periods and a setup fee.
pub fn request() -> pricing::PriceRequest {
    pricing::PriceRequest {
        operation: pricing::Operation::Order,
        tariff: types::Tariff {
            id: "t-1".into(),
            name: "Basic".into(),
            currency: "EUR".into(),
            prices: vec![
                types::PeriodPrice {
                    months: 1,
                    price: "10.00".into(),
                },
                types::PeriodPrice {
                    months: 12,
                    price: "100.00".into(),
                },
            ],
            setup_fee: "5.00".into(),
            renewal_prices: vec![],
            daily: None,
            pro_rata_day: None,
            late_fee: types::LateFee::None,
            addons: vec![],
        },
        months: 1,
        addons: vec![],
        service: None,
        at: "2026-01-31T10:00:00Z".into(),
    }
}
