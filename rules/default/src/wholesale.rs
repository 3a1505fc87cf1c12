//! Wholesale (seed 001, H-Sphere resellers): the shadow line of each retail
//! line of a reseller's client, charged to the reseller at the provider's
//! wholesale prices for the resources the line pays for, over the same
//! share of time.
//!
//! - An order, a renewal, a day, or a downtime refund pays for everything
//!   the service holds (its base price, part "service", and each resource)
//!   over the line's period: N months of them for N months, one day of them
//!   (a day's share of its month) for a day; a refund is credited.
//! - A tariff or addon change pays for what it adds: the units held after
//!   minus those held before, for the days up to the old expiry (already
//!   shadowed for what was held then), and everything held after for days
//!   past it (a full payment starting a new period). Its refund credits what
//!   it gives back: the units held before minus those held after.
//! - Setup and late fees pay for no resource: their shadow line is zero.
//!
//! The share of a period is its whole calendar months plus the rest as a
//! fraction of the next month (Jan 31 to Feb 28 is one month, Mar 5 to
//! Mar 6 is 1/31); each part is rounded once, half away from zero, to the
//! currency's minor unit.

use crate::prelude::*;
use rules_sdk::*;

pub(crate) fn wholesale(req: &WholesaleRequest) -> Result<WholesaleDecision, RuleError> {
    if req.service_base.is_sign_negative() || req.prices.iter().any(|p| p.price.is_sign_negative())
    {
        return Err(RuleError::InvalidInput(
            "a wholesale price is negative".into(),
        ));
    }
    let held = units(req);
    Ok(WholesaleDecision {
        shadows: req.lines.iter().map(|l| shadow(req, &held, l)).collect(),
    })
}

/// Units of one resource type before and after the decision.
struct Units<'a> {
    resource: &'a str,
    before: u32,
    after: u32,
    price: Decimal,
}

/// Every resource type held before or after, the base price first (held
/// once, before and after alike).
fn units(req: &WholesaleRequest) -> Vec<Units<'_>> {
    let mut out = vec![Units {
        resource: BASE_RESOURCE,
        before: 1,
        after: 1,
        price: req.service_base,
    }];
    let price = |r: &str| {
        req.prices
            .iter()
            .find(|p| p.resource == r)
            .map_or(Decimal::ZERO, |p| p.price)
    };
    let sides = [(&req.held_before, false), (&req.held_after, true)];
    for (holdings, after) in sides {
        for h in holdings {
            let i = match out.iter().position(|u| u.resource == h.resource) {
                Some(i) => i,
                None => {
                    out.push(Units {
                        resource: &h.resource,
                        before: 0,
                        after: 0,
                        price: price(&h.resource),
                    });
                    out.len() - 1
                }
            };
            let u = &mut out[i];
            let side = if after { &mut u.after } else { &mut u.before };
            *side = side.saturating_add(h.units);
        }
    }
    out
}

fn shadow(req: &WholesaleRequest, held: &[Units<'_>], line: &Line) -> Vec<WholesalePart> {
    let (Some(s), Some(e)) = (line.period_start, line.period_end) else {
        return vec![];
    };
    if e <= s {
        return vec![];
    }
    let whole = |u: &Units<'_>| Decimal::from(u.after);
    let added = |u: &Units<'_>| Decimal::from(u.after.saturating_sub(u.before));
    let given_back = |u: &Units<'_>| Decimal::from(u.before.saturating_sub(u.after));
    let values: Vec<Decimal> = match (req.cause, line.kind) {
        (
            WholesaleCause::Order
            | WholesaleCause::Renewal
            | WholesaleCause::Day
            | WholesaleCause::Downtime,
            LineKind::Order | LineKind::Renewal | LineKind::Daily | LineKind::Refund,
        ) => {
            let share = months(s, e);
            held.iter().map(|u| u.price * whole(u) * share).collect()
        }
        (
            WholesaleCause::TariffChange | WholesaleCause::AddonChange,
            LineKind::Change | LineKind::Addon,
        ) => {
            // Days up to the old expiry were shadowed for what was held
            // then: only what is added is owed for them.
            let split = req.paid_until.map_or(s, |p| p.clamp(s, e));
            let (paid, new) = (months(s, split), months(split, e));
            held.iter()
                .map(|u| u.price * (added(u) * paid + whole(u) * new))
                .collect()
        }
        (WholesaleCause::TariffChange | WholesaleCause::AddonChange, LineKind::Refund) => {
            let share = months(s, e);
            held.iter()
                .map(|u| u.price * given_back(u) * share)
                .collect()
        }
        _ => return vec![],
    };
    let credited = line.amount.is_sign_negative();
    held.iter()
        .zip(values)
        .filter_map(|(u, v)| {
            let amount = round_to_minor_unit(v, &req.currency);
            (!amount.is_zero()).then(|| WholesalePart {
                resource: u.resource.to_string(),
                amount: if credited { -amount } else { amount },
            })
        })
        .collect()
}

/// The calendar months from `s` to `e`: whole months, then the rest as a
/// share of the month that follows them.
fn months(s: NaiveDate, e: NaiveDate) -> Decimal {
    if e <= s {
        return Decimal::ZERO;
    }
    // Counted from `s` each time, so month ends clamp as orders do (Jan 31
    // + 1 = Feb 28, + 2 = Mar 31). 1,200 months is far beyond any period.
    let mut whole = 0u32;
    while whole < 1200 && add_months(s, whole + 1) <= e {
        whole += 1;
    }
    let from = add_months(s, whole);
    let rest = days_between(from, e);
    if rest <= 0 {
        return Decimal::from(whole);
    }
    let month = days_between(from, add_months(s, whole + 1));
    Decimal::from(whole) + Decimal::from(rest) / Decimal::from(month)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::str::FromStr;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }

    fn m(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn holding(resource: &str, units: u32) -> Holding {
        Holding {
            resource: resource.into(),
            units,
        }
    }

    /// Base 1.00 a month; disk 0.10 per GiB, mailboxes 0.05 each; the
    /// service holds 10 GiB and 5 mailboxes: 2.25 a month.
    fn request(cause: WholesaleCause, lines: Vec<Line>) -> WholesaleRequest {
        let held = vec![holding("disk-space", 10), holding("mailbox", 5)];
        WholesaleRequest {
            reseller: "2".into(),
            service: "7".into(),
            currency: "EUR".into(),
            service_base: m("1.00"),
            prices: vec![
                WholesalePrice {
                    resource: "disk-space".into(),
                    price: m("0.10"),
                },
                WholesalePrice {
                    resource: "mailbox".into(),
                    price: m("0.05"),
                },
            ],
            cause,
            paid_until: None,
            held_before: held.clone(),
            held_after: held,
            lines,
            at: DateTime::from_str("2026-03-05T00:00:00Z").unwrap(),
        }
    }

    fn line(kind: LineKind, amount: &str, from: &str, to: &str) -> Line {
        Line::charge(kind, "x", m(amount)).covering(d(from), d(to))
    }

    fn parts(decision: &WholesaleDecision, i: usize) -> Vec<(String, Decimal)> {
        decision.shadows[i]
            .iter()
            .map(|p| (p.resource.clone(), p.amount))
            .collect()
    }

    fn p(r: &str, a: &str) -> (String, Decimal) {
        (r.into(), m(a))
    }

    #[test]
    fn an_order_pays_every_resource_for_its_months() {
        let mut req = request(
            WholesaleCause::Order,
            vec![
                line(LineKind::Order, "60.00", "2026-01-31", "2027-01-31"),
                Line::charge(LineKind::Setup, "setup", m("5.00")),
            ],
        );
        req.held_before.clear();
        let d = wholesale(&req).unwrap();
        assert_eq!(
            parts(&d, 0),
            [
                p("service", "12.00"),
                p("disk-space", "12.00"),
                p("mailbox", "3.00")
            ]
        );
        assert!(d.shadows[1].is_empty(), "a setup fee holds no resource");
    }

    #[test]
    fn a_day_is_its_share_of_the_month() {
        let req = request(
            WholesaleCause::Day,
            vec![line(LineKind::Daily, "0.20", "2026-03-05", "2026-03-06")],
        );
        // 1/31 of 1.00, 1.00 and 0.25: 0.032.., 0.032.., 0.008.. -> 0.03, 0.03, 0.01.
        assert_eq!(
            parts(&wholesale(&req).unwrap(), 0),
            [
                p("service", "0.03"),
                p("disk-space", "0.03"),
                p("mailbox", "0.01")
            ]
        );
    }

    #[test]
    fn month_ends_clamp_as_orders_do() {
        assert_eq!(months(d("2026-01-31"), d("2026-02-28")), m("1"));
        assert_eq!(months(d("2026-01-31"), d("2026-03-31")), m("2"));
        assert_eq!(months(d("2026-03-05"), d("2026-03-06")), m("1") / m("31"));
        // A month (Feb 15 to Mar 15), then 14 of the 31 days to Apr 15.
        assert_eq!(
            months(d("2026-02-15"), d("2026-03-29")),
            m("1") + m("14") / m("31")
        );
        assert_eq!(months(d("2026-03-06"), d("2026-03-05")), Decimal::ZERO);
    }

    #[test]
    fn a_downtime_refund_credits_the_days() {
        let req = request(
            WholesaleCause::Downtime,
            vec![line(LineKind::Refund, "-2.00", "2026-03-01", "2026-03-11")],
        );
        // 10/31 of 2.25 a month, per part: 0.32, 0.32, 0.08.
        assert_eq!(
            parts(&wholesale(&req).unwrap(), 0),
            [
                p("service", "-0.32"),
                p("disk-space", "-0.32"),
                p("mailbox", "-0.08")
            ]
        );
    }

    #[test]
    fn an_addon_change_pays_what_it_adds_and_its_refund_credits_what_it_gives_back() {
        let mut req = request(
            WholesaleCause::AddonChange,
            vec![line(LineKind::Addon, "3.00", "2026-03-16", "2026-03-31")],
        );
        req.paid_until = Some(d("2026-03-31"));
        req.held_after = vec![holding("disk-space", 20), holding("mailbox", 5)];
        // 10 GiB more for 15 of the 31 days from Mar 16 to Apr 16.
        assert_eq!(
            parts(&wholesale(&req).unwrap(), 0),
            [p("disk-space", "0.48")]
        );
        let mut back = req.clone();
        core::mem::swap(&mut back.held_before, &mut back.held_after);
        back.lines = vec![line(LineKind::Refund, "-3.00", "2026-03-16", "2026-03-31")];
        assert_eq!(
            parts(&wholesale(&back).unwrap(), 0),
            [p("disk-space", "-0.48")]
        );
    }

    #[test]
    fn a_full_payment_change_pays_everything_past_the_old_expiry() {
        let mut req = request(
            WholesaleCause::TariffChange,
            vec![line(LineKind::Change, "30.00", "2026-03-01", "2026-04-01")],
        );
        req.paid_until = Some(d("2026-03-01"));
        req.held_after = vec![holding("disk-space", 20)];
        assert_eq!(
            parts(&wholesale(&req).unwrap(), 0),
            [p("service", "1.00"), p("disk-space", "2.00")]
        );
        // The same line within the paid period pays only the 10 GiB added.
        req.paid_until = Some(d("2026-04-01"));
        assert_eq!(
            parts(&wholesale(&req).unwrap(), 0),
            [p("disk-space", "1.00")]
        );
    }

    #[test]
    fn a_late_fee_and_a_price_only_refund_shadow_nothing() {
        let req = request(
            WholesaleCause::TariffChange,
            vec![
                line(LineKind::Refund, "-4.00", "2026-03-16", "2026-04-01"),
                line(LineKind::LateFee, "1.00", "2026-03-01", "2026-03-16"),
            ],
        );
        let d = wholesale(&req).unwrap();
        assert!(d.shadows.iter().all(Vec::is_empty));
    }

    #[test]
    fn a_currency_without_cents_and_an_unpriced_resource() {
        let mut req = request(
            WholesaleCause::Renewal,
            vec![line(LineKind::Renewal, "900", "2026-03-01", "2026-04-01")],
        );
        req.currency = "JPY".into();
        req.service_base = m("150");
        req.prices[0].price = m("12.5");
        req.held_after.push(holding("traffic", 100));
        assert_eq!(
            parts(&wholesale(&req).unwrap(), 0),
            [p("service", "150"), p("disk-space", "125")],
            "5 mailboxes at 0.05 are 0.25 JPY: rounded to nothing"
        );
    }

    #[test]
    fn a_negative_price_is_invalid_input() {
        let mut req = request(WholesaleCause::Order, vec![]);
        req.prices[1].price = m("-0.01");
        assert!(matches!(wholesale(&req), Err(RuleError::InvalidInput(_))));
    }
}
