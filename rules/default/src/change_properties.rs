//! Property tests of tariff changes and mid-period addons: the invariants of
//! every policy, whatever the prices, addons and dates.

use crate::DefaultRules;
use crate::money::round_money;
use crate::properties::{any_money, at, base, days};
use crate::tariff_change::{change, value};
use proptest::prelude::*;
use rules_sdk::*;

const POLICIES: [ChangePolicy; 6] = [
    ChangePolicy::ChangePeriod,
    ChangePolicy::AddFundsOrRefund,
    ChangePolicy::Forbidden,
    ChangePolicy::ExtraChargeOnly,
    ChangePolicy::FullPaymentFromToday,
    ChangePolicy::FullPaymentFromExpiry,
];

/// The period lengths the tariffs below sell.
const SOLD: [u32; 3] = [1, 3, 12];

/// A price: any 2-decimal amount up to 100 000.00, or (as often) one of at
/// most a euro or none, so that free and near-free tariffs come up.
fn any_price() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        2 => any_money(),
        1 => (0i64..=100).prop_map(|cents| Decimal::new(cents, 2)),
        1 => Just(Decimal::ZERO),
    ]
}

/// A tariff selling 1, 3 and 12 months at independent prices, with two
/// addons, "disk-space" and "ip" (0 to 20 units, some included).
fn any_tariff(name: &'static str) -> impl Strategy<Value = Tariff> {
    (
        prop::array::uniform3(any_price()),
        prop::array::uniform2((0u32..=3, any_price())),
    )
        .prop_map(move |(prices, addons)| Tariff {
            id: name.into(),
            name: name.into(),
            currency: "EUR".into(),
            prices: SOLD
                .iter()
                .zip(prices)
                .map(|(&months, price)| PeriodPrice { months, price })
                .collect(),
            setup_fee: Decimal::ZERO,
            renewal_prices: vec![],
            daily: None,
            pro_rata_day: None,
            late_fee: LateFee::None,
            addons: ["disk-space", "ip"]
                .iter()
                .zip(addons)
                .map(|(resource, (included, price_per_unit))| Addon {
                    resource: (*resource).into(),
                    unit: "unit".into(),
                    included,
                    minimum: 0,
                    maximum: 20,
                    price_per_unit,
                })
                .collect(),
        })
}

/// Quantities of the two addons (a missing one has its included units).
fn any_quantities() -> impl Strategy<Value = Vec<AddonQuantity>> {
    prop::collection::vec(
        (prop::sample::select(vec!["disk-space", "ip"]), 0u32..=20),
        0..=2,
    )
    .prop_map(|qs| {
        let mut out: Vec<AddonQuantity> = Vec::new();
        for (resource, quantity) in qs {
            if !out.iter().any(|q| q.resource == resource) {
                out.push(AddonQuantity {
                    resource: resource.into(),
                    quantity,
                });
            }
        }
        out
    })
}

/// A service paid for `months` from `start` (within 2020-2039), with
/// `quantities` of the addons, changed on the day `percent` of the way
/// through its period (past its expiry above 100, before its start below 0:
/// a period renewed early).
#[derive(Debug, Clone)]
struct Case {
    months: u32,
    start: NaiveDate,
    quantities: Vec<AddonQuantity>,
    percent: i64,
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(SOLD.to_vec()),
        (0i64..7300).prop_map(|n| days(base(), n)),
        any_quantities(),
        prop_oneof![6 => 0i64..=100, 2 => 101i64..=150, 1 => -60i64..0],
    )
        .prop_map(|(months, start, quantities, percent)| Case {
            months,
            start,
            quantities,
            percent,
        })
}

impl Case {
    fn expires(&self) -> NaiveDate {
        add_months(self.start, self.months)
    }

    /// `D`
    fn period_days(&self) -> i64 {
        days_between(self.start, self.expires())
    }

    /// `T`: the day of the change.
    fn today(&self) -> NaiveDate {
        days(self.start, self.period_days() * self.percent / 100)
    }

    /// `R`
    fn left(&self) -> i64 {
        days_between(self.today(), self.expires()).max(0)
    }

    /// A change of this service from `from` to `to`, with the addon
    /// quantities `addons` on `to` and `paid` paid for the period.
    fn request(
        &self,
        policy: ChangePolicy,
        (from, to): (&Tariff, &Tariff),
        addons: &[AddonQuantity],
        paid: Decimal,
    ) -> ChangeRequest {
        ChangeRequest {
            service: Service {
                id: "1".into(),
                status: ServiceStatus::Active,
                period_start: Some(self.start),
                expires: Some(self.expires()),
                suspended_at: None,
                months: self.months,
                addons: self.quantities.clone(),
            },
            from: from.clone(),
            to: to.clone(),
            policy,
            months: self.months,
            addons: addons.to_vec(),
            paid,
            at: at(self.today()),
        }
    }
}

fn total(lines: &[Line]) -> Decimal {
    lines.iter().map(|l| l.amount).sum()
}

proptest! {
    /// Add funds or refund: an upgrade A → B and, on the same day, the
    /// reverse B → A (the service as the first change left it: the same
    /// period and months, B's addon quantities, and paid plus what the first
    /// change charged) net to exactly zero.
    #[test]
    fn an_upgrade_and_its_reverse_on_one_day_net_to_zero(
        a in any_tariff("A"),
        b in any_tariff("B"),
        case in any_case(),
        on_b in any_quantities(),
        paid in any_money(),
    ) {
        // Before the expiry (from the expiry day on, these policies deny).
        let case = Case { percent: case.percent.min(99), ..case };
        let on_a = case.quantities.clone();
        let (va, vb) = (
            value(&a, case.months, &on_a).unwrap(),
            value(&b, case.months, &on_b).unwrap(),
        );
        // Order the pair so that the first change is the upgrade.
        let (a, b, on_a, on_b) = if va <= vb { (a, b, on_a, on_b) } else { (b, a, on_b, on_a) };
        let first = Case { quantities: on_a, ..case.clone() };
        let there = change(&first.request(ChangePolicy::AddFundsOrRefund, (&a, &b), &on_b, paid)).unwrap();
        prop_assert!(there.lines.iter().all(|l| l.kind == LineKind::Change), "{:?}", there.lines);
        prop_assert_eq!((there.period_start, there.expires), (case.start, case.expires()));
        let second = Case { quantities: on_b, ..case.clone() };
        let back = change(&second.request(
            ChangePolicy::AddFundsOrRefund,
            (&b, &a),
            &first.quantities,
            paid + total(&there.lines),
        ))
        .unwrap();
        prop_assert_eq!(total(&there.lines) + total(&back.lines), Decimal::ZERO);
    }

    /// The same in either order when the period was paid in full (`paid` =
    /// the old value) and the change falls within it: a downgrade first is
    /// refunded in full, not capped. (Before a period renewed early, more
    /// days are left than it has, and a refund of them is capped by what
    /// was paid for it.)
    #[test]
    fn there_and_back_on_one_day_nets_zero_when_the_period_was_paid_in_full(
        a in any_tariff("A"),
        b in any_tariff("B"),
        case in any_case(),
    ) {
        let case = Case { percent: case.percent.clamp(0, 99), ..case };
        let q = &case.quantities;
        let paid = value(&a, case.months, q).unwrap();
        let there = change(&case.request(ChangePolicy::AddFundsOrRefund, (&a, &b), q, paid)).unwrap();
        let back = change(&case.request(
            ChangePolicy::AddFundsOrRefund,
            (&b, &a),
            q,
            paid + total(&there.lines),
        ))
        .unwrap();
        prop_assert_eq!(total(&there.lines) + total(&back.lines), Decimal::ZERO);
    }

    /// Change period conserves value: with `value_before = old × R / D` and
    /// `value_after = new × R' / D`, the client never gains
    /// (`value_after <= value_before`) and loses less than one day at the new
    /// price (`value_before − value_after < new / D`). Both sides are
    /// compared multiplied by `D`, so the comparison is exact.
    #[test]
    fn change_period_conserves_value_within_a_day(
        a in any_tariff("A"),
        b in any_tariff("B"),
        case in any_case(),
        on_b in any_quantities(),
        paid in any_money(),
    ) {
        // Before the expiry (from the expiry day on, these policies deny).
        let case = Case { percent: case.percent.min(99), ..case };
        let old = value(&a, case.months, &case.quantities).unwrap();
        let new = value(&b, case.months, &on_b).unwrap();
        let today = case.today();
        let left = case.left();
        let decision = match change(&case.request(ChangePolicy::ChangePeriod, (&a, &b), &on_b, paid)) {
            Ok(decision) => decision,
            Err(RuleError::Denied(m)) if new.is_zero() && left > 0 => {
                prop_assert!(m.contains("is free"), "{}", m);
                return Ok(());
            }
            Err(RuleError::Denied(m)) if m.contains("too cheap") => {
                // Only when the time would not fit in the contract's dates.
                let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
                let bought = Decimal::from(left) * old / new;
                prop_assert!(bought.floor() > Decimal::from(days_between(today, last)));
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
        };
        prop_assert!(decision.lines.is_empty());
        // The period keeps its start, unless the time bought ends before it.
        let start = if decision.expires < case.start { today } else { case.start };
        prop_assert_eq!(decision.period_start, start);
        prop_assert!(decision.expires >= today);
        let bought = days_between(today, decision.expires);
        prop_assert!(bought >= 0);
        if left == 0 {
            prop_assert_eq!(decision.expires, case.expires());
        } else {
            let before = old * Decimal::from(left); // value_before × D
            let after = new * Decimal::from(bought); // value_after × D
            prop_assert!(after <= before, "gained: {} > {}", after, before);
            prop_assert!(before - after < new, "lost a day or more: {} − {} >= {}", before, after, new);
        }
    }

    /// No policy charges a negative amount, refunds a positive one (or more
    /// than was paid), writes a line without a description, or puts the
    /// expiry before the day of the change; forbidden is always denied.
    #[test]
    fn no_policy_gives_a_wrong_sign_or_an_expiry_in_the_past(
        a in any_tariff("A"),
        b in any_tariff("B"),
        case in any_case(),
        on_b in any_quantities(),
        months in prop::sample::select(SOLD.to_vec()),
        paid in any_money(),
        policy in prop::sample::select(POLICIES.to_vec()),
        daily in any::<bool>(),
    ) {
        let (a, b) = if daily {
            let charging = Some(DailyCharging { price: Some(Decimal::new(10, 2)), cost_from_period: false, charge_downtime: false });
            (Tariff { daily: charging.clone(), ..a }, Tariff { daily: charging, ..b })
        } else {
            (a, b)
        };
        let mut req = case.request(policy, (&a, &b), &on_b, paid);
        req.months = months;
        let today = case.today();
        let expired = today > case.expires();
        // Nothing left to value from the expiry day on (a daily service's
        // expiry day is simply not charged yet).
        let nothing_left = today >= case.expires();
        let full_payment = matches!(
            policy,
            ChangePolicy::FullPaymentFromToday | ChangePolicy::FullPaymentFromExpiry
        );
        match change(&req) {
            Err(RuleError::Denied(m)) if policy == ChangePolicy::Forbidden => {
                prop_assert_eq!(m, "tariff A cannot be changed");
            }
            Err(RuleError::Denied(m)) if expired && daily => {
                prop_assert!(m.contains("charged only until"), "{}", m);
            }
            Err(RuleError::Denied(m)) if nothing_left && !daily && !full_payment => {
                prop_assert!(m.contains("renew it before"), "{}", m);
            }
            Err(RuleError::Denied(m)) if policy == ChangePolicy::ChangePeriod => {
                prop_assert!(m.contains("is free") || m.contains("too cheap"), "{}", m);
            }
            Err(e) => prop_assert!(false, "{:?}: {:?}", policy, e),
            Ok(d) => {
                prop_assert!(policy != ChangePolicy::Forbidden);
                prop_assert!(d.expires >= today, "{:?}: expires {} before {}", policy, d.expires, today);
                prop_assert!(d.period_start <= d.expires);
                if daily {
                    prop_assert!(d.lines.is_empty());
                }
                for l in &d.lines {
                    prop_assert_eq!(l.amount.scale(), 2);
                    prop_assert!(!l.description.trim().is_empty());
                    prop_assert!(!l.description.chars().any(char::is_control));
                    prop_assert!(l.period_start <= l.period_end);
                    match l.kind {
                        LineKind::Refund => {
                            prop_assert!(policy == ChangePolicy::AddFundsOrRefund, "{:?}", policy);
                            prop_assert!(l.amount < Decimal::ZERO, "{:?}", l);
                            prop_assert!(-l.amount <= paid, "refunded more than paid: {:?}", l);
                        }
                        LineKind::Change => prop_assert!(l.amount >= Decimal::ZERO, "{:?}", l),
                        other => prop_assert!(false, "a {:?} line", other),
                    }
                }
            }
        }
    }

    /// Units ordered mid-period and cancelled on the same day or any later
    /// one never cost more, charge and refund together, than the units for
    /// the whole period, and never less than nothing.
    #[test]
    fn an_addon_order_then_its_cancellation_never_exceeds_the_full_period(
        t in any_tariff("T"),
        case in any_case(),
        from in 0u32..=10,
        added in 1u32..=10,
        later in 0i64..=120,
        full in any::<bool>(),
        refund in any::<bool>(),
    ) {
        // Ordered within the period (or after it).
        let case = Case { percent: case.percent.max(0), ..case };
        let to = from + added;
        let policy = if full { AddonOrderPolicy::FullPeriod } else { AddonOrderPolicy::ProratedToExpiry };
        let request = |event, day| ProrationRequest {
            event,
            tariff: t.clone(),
            service: Service {
                id: "1".into(),
                status: ServiceStatus::Active,
                period_start: Some(case.start),
                expires: Some(case.expires()),
                suspended_at: None,
                months: case.months,
                addons: vec![],
            },
            addon_policy: policy,
            at: at(day),
        };
        let ordered = case.today();
        // Cancelled `later` percent of the days left after the order (past
        // the expiry above 100).
        let cancelled = days(ordered, case.left() * later / 100);
        let order = DefaultRules::prorate(request(
            ProrationEvent::AddonOrder(AddonChange { resource: "disk-space".into(), from, to }),
            ordered,
        ))
        .unwrap();
        let cancel = DefaultRules::prorate(request(
            ProrationEvent::AddonCancel {
                change: AddonChange { resource: "disk-space".into(), from: to, to: from },
                refund,
            },
            cancelled,
        ))
        .unwrap();
        for l in &order.lines {
            prop_assert!(l.kind == LineKind::Addon && l.amount > Decimal::ZERO, "{:?}", l);
        }
        for l in &cancel.lines {
            prop_assert!(l.kind == LineKind::Refund && l.amount < Decimal::ZERO, "{:?}", l);
        }
        let addon = &t.addons[0];
        let units = to.max(addon.included) - from.max(addon.included);
        let whole = round_money(
            Decimal::from(units) * addon.price_per_unit * Decimal::from(case.months),
            "EUR",
        );
        let net = total(&order.lines) + total(&cancel.lines);
        prop_assert!(net <= whole, "{} > {}", net, whole);
        prop_assert!(net >= Decimal::ZERO, "{} < 0", net);
    }
}
