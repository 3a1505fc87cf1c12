//! The daemon's checks of a pricing decision (`decide::checks::check_price`)
//! and of a tariff change (`decide::change::check_change`) against the rule
//! it ships: whatever tariff, period, service and time, a
//! decision the embedded default rule makes is one the daemon accepts. The
//! checks are strict (an order starts today, a renewal where the paid time
//! ends, a period of about its months), so they must be shown not to refuse
//! the seed's own policies: calendar-based periods, late fees, renewal from
//! suspension, services never paid.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rulesd::contract::bindings::{pricing, tariff_change, types};
use rulesd::decide::change::check_change;
use rulesd::decide::checks::check_price;
use rulesd::runtime::{ModuleSource, Runtime, block_on};

const PERIODS: [u32; 6] = [1, 3, 6, 12, 24, 36];

fn money() -> impl Strategy<Value = String> {
    (0u32..100_000).prop_map(|cents| format!("{}.{:02}", cents / 100, cents % 100))
}

fn tariff() -> impl Strategy<Value = types::Tariff> {
    (
        proptest::sample::subsequence(PERIODS.to_vec(), 1..=PERIODS.len()),
        proptest::collection::vec(money(), PERIODS.len()),
        money(),
        proptest::sample::subsequence(PERIODS.to_vec(), 0..=2),
        proptest::option::of(1u32..=28),
        prop_oneof![
            Just(types::LateFee::None),
            money().prop_map(types::LateFee::Fixed),
            (0u32..=100).prop_map(|p| types::LateFee::Percent(p.to_string())),
            Just(types::LateFee::RenewFromSuspension),
        ],
    )
        .prop_map(|(sold, prices, setup, renewals, pro_rata_day, late_fee)| {
            let price = |m: &u32| types::PeriodPrice {
                months: *m,
                price: prices[PERIODS.iter().position(|p| p == m).unwrap()].clone(),
            };
            types::Tariff {
                id: "1".into(),
                name: "T".into(),
                currency: "EUR".into(),
                renewal_prices: renewals
                    .iter()
                    .filter(|m| sold.contains(m))
                    .map(price)
                    .collect(),
                prices: sold.iter().map(price).collect(),
                setup_fee: setup,
                daily: None,
                pro_rata_day,
                late_fee,
                addons: vec![],
            }
        })
}

/// A request for one of the tariff's periods at a time in 2026-2028: an order,
/// or a renewal of a service that expires up to 60 days either side of it
/// (suspended, if expired, on a day between its expiry and then), or that
/// was never paid.
fn request() -> impl Strategy<Value = pricing::PriceRequest> {
    (
        tariff(),
        any::<prop::sample::Index>(),
        0u64..1000,
        0u32..86_400,
        any::<bool>(),
        proptest::option::of(-60i64..60),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(tariff, period, day, second, order, expiry, suspended)| {
            let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let today = start + Days::new(day);
            let months = tariff.prices[period.index(tariff.prices.len())].months;
            let service = (!order).then(|| {
                let expires =
                    expiry.map(|d| today.checked_add_signed(chrono::Duration::days(d)).unwrap());
                let suspended_at = expires.filter(|e| *e < today).map(|e| {
                    let span = (today - e).num_days() as usize + 1;
                    e + Days::new(suspended.index(span) as u64)
                });
                types::Service {
                    id: "7".into(),
                    status: if suspended_at.is_some() {
                        types::ServiceStatus::Suspended
                    } else {
                        types::ServiceStatus::Active
                    },
                    period_start: expires.map(|e| {
                        e.checked_sub_months(chrono::Months::new(months))
                            .unwrap()
                            .to_string()
                    }),
                    expires: expires.map(|e| e.to_string()),
                    suspended_at: suspended_at.map(|d| d.to_string()),
                    months,
                    addons: vec![],
                }
            });
            pricing::PriceRequest {
                operation: if order {
                    pricing::Operation::Order
                } else {
                    pricing::Operation::Renewal
                },
                tariff,
                months,
                addons: vec![],
                service,
                at: format!(
                    "{today}T{:02}:{:02}:{:02}Z",
                    second / 3600,
                    second / 60 % 60,
                    second % 60
                ),
            }
        })
}

/// The embedded default module, loaded as the daemon loads it.
fn default_module() -> rulesd::runtime::RuleModule {
    let runtime = Runtime::new(crate::support::limits(), None).unwrap();
    runtime
        .load(
            rulesd::rules::DEFAULT_MODULE_NAME,
            rulesd::rules::DEFAULT_MODULE,
            ModuleSource::Embedded,
        )
        .unwrap()
}

#[test]
fn every_decision_of_the_default_rule_passes_the_daemon_s_checks() {
    let module = default_module();
    let decided = std::cell::Cell::new(0);
    proptest!(ProptestConfig::with_cases(3000), |(request in request())| {
        let called = block_on(module.price(&request)).unwrap();
        if let Ok(decision) = called.value {
            decided.set(decided.get() + 1);
            let checked = check_price("default", &request, &decision);
            prop_assert!(checked.is_ok(), "{request:#?}\n{decision:#?}\n{checked:?}");
        }
    });
    // Most requests are priced, not refused: the property is not vacuous.
    let decided = decided.get();
    assert!(
        decided > 2000,
        "only {decided} of 3000 requests were priced"
    );
}

/// A tariff change of an active period service (expiring from 10 days before
/// the change to 60 after, its period `months` long) from one random tariff
/// to another that sells that period, under any policy.
fn change_request() -> impl Strategy<Value = tariff_change::ChangeRequest> {
    use tariff_change::ChangePolicy as P;
    (
        tariff(),
        tariff(),
        any::<prop::sample::Index>(),
        0u64..1000,
        -10i64..60,
        prop::sample::select(vec![
            P::ChangePeriod,
            P::AddFundsOrRefund,
            P::Forbidden,
            P::ExtraChargeOnly,
            P::FullPaymentFromToday,
            P::FullPaymentFromExpiry,
        ]),
        money(),
    )
        .prop_map(|(from, mut to, period, day, expiry, policy, paid)| {
            let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Days::new(day);
            let months = from.prices[period.index(from.prices.len())].months;
            if !to.prices.iter().any(|p| p.months == months) {
                let price = to.prices[0].price.clone();
                to.prices.push(types::PeriodPrice { months, price });
            }
            let expires = today
                .checked_add_signed(chrono::Duration::days(expiry))
                .unwrap();
            let start = expires
                .checked_sub_months(chrono::Months::new(months))
                .unwrap();
            tariff_change::ChangeRequest {
                service: types::Service {
                    id: "7".into(),
                    status: types::ServiceStatus::Active,
                    period_start: Some(start.to_string()),
                    expires: Some(expires.to_string()),
                    suspended_at: None,
                    months,
                    addons: vec![],
                },
                from,
                to,
                policy,
                months,
                addons: vec![],
                paid,
                at: format!("{today}T10:00:00Z"),
            }
        })
}

#[test]
fn every_tariff_change_of_the_default_rule_passes_the_daemon_s_checks() {
    let module = default_module();
    let decided = std::cell::Cell::new(0);
    proptest!(ProptestConfig::with_cases(3000), |(request in change_request())| {
        let called = block_on(module.change_tariff(&request)).unwrap();
        if let Ok(decision) = called.value {
            decided.set(decided.get() + 1);
            let checked = check_change("default", &request, &decision);
            prop_assert!(checked.is_ok(), "{request:#?}\n{decision:#?}\n{checked:?}");
        }
    });
    // Denials (forbidden, an expired service under a policy that keeps the
    // period) are a quarter or so; most changes are decided.
    let decided = decided.get();
    assert!(
        decided > 1800,
        "only {decided} of 3000 changes were decided"
    );
}
