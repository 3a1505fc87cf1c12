//! Property tests: the invariants every price must keep, whatever the tariff,
//! the dates and the amounts.

use crate::DefaultRules;
use crate::calendar_based::calendar_term;
use crate::daily::order_period_containing;
use crate::money::{cumulative_share, spread_share};
use proptest::prelude::*;
use rules_sdk::*;

const LENGTHS: [u32; 4] = [1, 3, 12, 36];

pub(crate) fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
}

/// Any day from 2020 to 2039.
fn any_day() -> impl Strategy<Value = NaiveDate> {
    (0i64..7300).prop_map(|n| days(base(), n))
}

fn any_length() -> impl Strategy<Value = u32> {
    prop::sample::select(LENGTHS.to_vec())
}

/// A non-negative amount with 2 decimals, up to 100 000.00.
pub(crate) fn any_money() -> impl Strategy<Value = Decimal> {
    (0i64..=10_000_000).prop_map(|cents| Decimal::new(cents, 2))
}

pub(crate) fn at(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

pub(crate) fn days(d: NaiveDate, n: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d.num_days_from_ce() + n as i32).unwrap()
}

#[derive(Debug, Clone)]
enum Charging {
    Plain,
    Calendar(u32),
    Daily(DailyCharging),
}

fn any_charging() -> impl Strategy<Value = Charging> {
    prop_oneof![
        Just(Charging::Plain),
        (1u32..=31).prop_map(Charging::Calendar),
        (
            prop::option::of((0i64..=10_000).prop_map(|c| Decimal::new(c, 3))),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(price, cost_from_period, charge_downtime)| {
                Charging::Daily(DailyCharging {
                    price,
                    cost_from_period,
                    charge_downtime,
                })
            }),
    ]
}

fn any_late_fee() -> impl Strategy<Value = LateFee> {
    prop_oneof![
        Just(LateFee::None),
        any_money().prop_map(LateFee::Fixed),
        (0i64..=20_000).prop_map(|p| LateFee::Percent(Decimal::new(p, 2))),
        Just(LateFee::RenewFromSuspension),
    ]
}

/// A tariff selling every period length, with an addon "ip" (0 to 10 units,
/// `included` of them in the price) priced in tenths of a cent.
fn any_tariff() -> impl Strategy<Value = Tariff> {
    (
        prop::array::uniform4(any_money()),
        prop::array::uniform4(prop::option::of(any_money())),
        any_money(),
        any_charging(),
        any_late_fee(),
        0u32..=3,
        (0i64..=100_000).prop_map(|m| Decimal::new(m, 3)),
    )
        .prop_map(
            |(prices, renewals, setup_fee, charging, late_fee, included, unit_price)| {
                let (daily, pro_rata_day) = match charging {
                    Charging::Plain => (None, None),
                    Charging::Calendar(day) => (None, Some(day)),
                    Charging::Daily(daily) => (Some(daily), None),
                };
                Tariff {
                    id: "t".into(),
                    name: "Prop".into(),
                    currency: "EUR".into(),
                    prices: LENGTHS
                        .iter()
                        .zip(prices)
                        .map(|(&months, price)| PeriodPrice { months, price })
                        .collect(),
                    setup_fee,
                    renewal_prices: LENGTHS
                        .iter()
                        .zip(renewals)
                        .filter_map(|(&months, price)| {
                            price.map(|price| PeriodPrice { months, price })
                        })
                        .collect(),
                    daily,
                    pro_rata_day,
                    late_fee,
                    addons: vec![Addon {
                        resource: "ip".into(),
                        unit: "address".into(),
                        included,
                        minimum: 0,
                        maximum: 10,
                        price_per_unit: unit_price,
                    }],
                }
            },
        )
}

fn plain_tariff(price: Decimal, late_fee: LateFee, pro_rata_day: Option<u32>) -> Tariff {
    Tariff {
        id: "t".into(),
        name: "Prop".into(),
        currency: "EUR".into(),
        prices: LENGTHS
            .iter()
            .map(|&months| PeriodPrice { months, price })
            .collect(),
        setup_fee: Decimal::ZERO,
        renewal_prices: vec![],
        daily: None,
        pro_rata_day,
        late_fee,
        addons: vec![],
    }
}

fn service(period_start: Option<NaiveDate>, expires: Option<NaiveDate>, months: u32) -> Service {
    Service {
        id: "s".into(),
        status: ServiceStatus::Active,
        period_start,
        expires,
        suspended_at: None,
        months,
        addons: vec![],
    }
}

fn price(
    operation: Operation,
    tariff: &Tariff,
    months: u32,
    service: Option<Service>,
    day: NaiveDate,
) -> Result<PriceDecision, RuleError> {
    DefaultRules::price(PriceRequest {
        operation,
        tariff: tariff.clone(),
        months,
        addons: vec![],
        service,
        at: at(day),
    })
}

fn order_amount(decision: &PriceDecision) -> Decimal {
    decision
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Order)
        .map(|l| l.amount)
        .sum()
}

proptest! {
    /// A period split at any day into used and remaining days prorates to
    /// exactly the full price, in minor units.
    #[test]
    fn a_split_period_sums_to_the_full_price(
        total in any_money(),
        start in any_day(),
        months in any_length(),
        split in 0.0f64..=1.0,
    ) {
        let n = days_between(start, add_months(start, months)) as u32;
        let k = ((n as f64) * split).floor() as u32;
        let used: Decimal = (1..=k).map(|day| spread_share(total, day, n, "EUR")).sum();
        let remaining: Decimal = (k + 1..=n).map(|day| spread_share(total, day, n, "EUR")).sum();
        prop_assert_eq!(used, cumulative_share(total, k, n, "EUR"));
        prop_assert_eq!(used + remaining, total);
        for day in 1..=n {
            let share = spread_share(total, day, n, "EUR");
            prop_assert_eq!(share.scale(), 2);
            prop_assert!(share >= Decimal::ZERO);
        }
    }

    /// The daily decisions of a whole order period, the order day included,
    /// sum to exactly the period price when the day cost derives from it.
    #[test]
    fn daily_charges_of_an_order_period_sum_to_its_price(
        total in any_money(),
        ordered in any_day(),
        months in prop::sample::select(vec![1u32, 3]),
    ) {
        let mut tariff = plain_tariff(total, LateFee::None, None);
        tariff.daily = Some(DailyCharging {
            price: None,
            cost_from_period: true,
            charge_downtime: false,
        });
        let order = price(Operation::Order, &tariff, months, None, ordered).unwrap();
        let end = add_months(ordered, months);
        let mut sum = order.lines[0].amount;
        let mut current = service(Some(order.period_start), Some(order.expires), months);
        while current.expires.unwrap() < end {
            let day = current.expires.unwrap();
            let decision = price(Operation::Daily, &tariff, months, Some(current.clone()), day).unwrap();
            prop_assert_eq!(decision.period_start, ordered);
            prop_assert_eq!(decision.expires, days(day, 1));
            sum += decision.lines[0].amount;
            current.period_start = Some(decision.period_start);
            current.expires = Some(decision.expires);
        }
        prop_assert_eq!(sum, total);
        // The next day opens the next order period.
        let next = price(Operation::Daily, &tariff, months, Some(current), end).unwrap();
        prop_assert_eq!(next.period_start, end);
    }

    /// Walking to a day's order period from any earlier period start of the
    /// same chain finds the same period.
    #[test]
    fn the_order_period_of_a_day_does_not_depend_on_where_the_walk_starts(
        first in any_day(),
        months in any_length(),
        later in 0i64..3000,
    ) {
        let day = days(first, later);
        let (p, e) = order_period_containing(first, months, day);
        prop_assert!(p <= day && day < e);
        prop_assert_eq!(e, add_months(p, months));
        // Restart the walk from an intermediate boundary.
        let (mid, _) = order_period_containing(first, months, days(first, later / 2));
        prop_assert_eq!(order_period_containing(mid, months, day), (p, e));
    }

    /// Cumulative day charges never go down as days pass.
    #[test]
    fn cumulative_day_charges_are_monotonic(
        total in any_money(),
        start in any_day(),
        months in any_length(),
    ) {
        let n = days_between(start, add_months(start, months)) as u32;
        let mut previous = Decimal::ZERO;
        for k in 0..=n {
            let cumulative = cumulative_share(total, k, n, "EUR");
            prop_assert!(cumulative >= previous);
            previous = cumulative;
        }
        prop_assert_eq!(previous, total);
    }

    /// On a calendar-based tariff, ordering later in a month for the same end
    /// never costs more; and a prorated period never costs more than the
    /// full `months` after the pro-rata day, nor less than `months - 1`.
    #[test]
    fn calendar_prices_fall_as_the_order_day_moves_later(
        total in any_money(),
        month in 0u32..240,
        pro_rata_day in 1u32..=31,
        months in any_length(),
    ) {
        let first = add_months(base(), month);
        let tariff = plain_tariff(total, LateFee::None, Some(pro_rata_day));
        let mut previous: Option<(NaiveDate, Decimal)> = None;
        for offset in 0..days_in_month(first) as i64 {
            let day = days(first, offset);
            let decision = price(Operation::Order, &tariff, months, None, day).unwrap();
            let amount = order_amount(&decision);
            prop_assert_eq!(decision.expires.day(), 1);
            if let Some((end, before)) = previous
                && end == decision.expires
            {
                prop_assert!(amount <= before, "{day}: {amount} > {before}");
            }
            prop_assert!(amount <= total * Decimal::from(months + 1) / Decimal::from(months) + Decimal::new(1, 2));
            prop_assert!(amount >= Decimal::ZERO);
            if let Some(term) = calendar_term(day, months, pro_rata_day) {
                prop_assert_eq!(term.end, decision.expires);
            }
            previous = Some((decision.expires, amount));
        }
    }

    /// No decision for non-negative prices has a negative line (refunds
    /// aside) or a negative total; every amount has exactly 2 decimals and
    /// every period runs forwards.
    #[test]
    fn no_negative_totals(
        tariff in any_tariff(),
        operation in prop::sample::select(vec![Operation::Order, Operation::Renewal, Operation::Daily]),
        months in any_length(),
        today in any_day(),
        started_days_ago in 0i64..1200,
        expires_from_today in -200i64..400,
        has_service in any::<bool>(),
        ips in 0u32..=10,
    ) {
        let service = has_service.then(|| {
            service(Some(days(today, -started_days_ago)), Some(days(today, expires_from_today)), months)
        });
        let decision = DefaultRules::price(PriceRequest {
            operation,
            tariff: tariff.clone(),
            months,
            addons: vec![AddonQuantity { resource: "ip".into(), quantity: ips }],
            service,
            at: at(today),
        });
        let Ok(decision) = decision else { return Ok(()) };
        prop_assert!(!decision.lines.is_empty());
        let mut total = Decimal::ZERO;
        for line in &decision.lines {
            prop_assert_eq!(line.amount.scale(), 2);
            if line.kind != LineKind::Refund {
                prop_assert!(line.amount >= Decimal::ZERO, "{:?}", line);
            }
            if let (Some(s), Some(e)) = (line.period_start, line.period_end) {
                prop_assert!(s < e, "{:?}", line);
            }
            total += line.amount;
        }
        prop_assert!(total >= Decimal::ZERO);
        if operation == Operation::Daily {
            prop_assert_eq!(decision.expires, days(today, 1));
            prop_assert!(decision.period_start <= today);
        } else {
            prop_assert!(decision.expires > decision.period_start);
        }
    }

    /// A downtime settlement never charges: it refunds at most what was charged.
    #[test]
    fn downtime_never_charges(
        charged in any_money(),
        charge_downtime in any::<bool>(),
        downtime in 0u32..400,
    ) {
        let mut tariff = plain_tariff(Decimal::ONE, LateFee::None, None);
        tariff.daily = Some(DailyCharging { price: Some(Decimal::new(10, 2)), cost_from_period: false, charge_downtime });
        let decision = DefaultRules::prorate(ProrationRequest {
            event: ProrationEvent::Downtime { days: downtime, charged },
            tariff,
            service: service(Some(base()), Some(base()), 1),
            addon_policy: AddonOrderPolicy::FullPeriod,
            at: at(base()),
        }).unwrap();
        let total: Decimal = decision.lines.iter().map(|l| l.amount).sum();
        prop_assert!(total <= Decimal::ZERO && -total <= charged);
        prop_assert!(decision.lines.iter().all(|l| l.kind == LineKind::Refund));
    }

    /// Chained renewals never lose or double-count a day: renewed on time (on
    /// any day up to the expiry), or late with renew-from-suspension, each
    /// period starts exactly where the previous one ended. Late with another
    /// late fee, it starts on the day of renewal.
    #[test]
    fn chained_renewals_neither_lose_nor_double_count_days(
        total in any_money(),
        ordered in any_day(),
        first_months in any_length(),
        late_fee in any_late_fee(),
        calendar in prop::option::of(1u32..=31),
        steps in prop::collection::vec((any_length(), -1200i64..60), 1..8),
    ) {
        let tariff = plain_tariff(total, late_fee.clone(), calendar);
        let order = price(Operation::Order, &tariff, first_months, None, ordered).unwrap();
        let mut current = order.clone();
        for (months, lateness) in steps {
            // lateness <= 0: renewed that many days before the expiry, but
            // not before the current period started; > 0: that many days late.
            let expires = current.expires;
            let today = days(expires, lateness).max(current.period_start);
            let svc = service(Some(current.period_start), Some(expires), months);
            let next = price(Operation::Renewal, &tariff, months, Some(svc), today).unwrap();
            let renewal = &next.lines[0];
            prop_assert_eq!(renewal.kind, LineKind::Renewal);
            prop_assert_eq!(renewal.period_start, Some(next.period_start));
            prop_assert_eq!(renewal.period_end, Some(next.expires));
            prop_assert!(next.expires > next.period_start);
            if today <= expires || late_fee == LateFee::RenewFromSuspension {
                prop_assert_eq!(next.period_start, expires);
                prop_assert_eq!(next.lines.len(), 1);
            } else {
                prop_assert_eq!(next.period_start, today);
            }
            current = next;
        }
    }
}
