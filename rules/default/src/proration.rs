//! Proration: what a change in the middle of a paid period costs or returns.
//!
//! - Addon units added or removed mid-period (seed 002, "Additional resources
//!   order policy" and "Addon cancellation policy"). Only the units above the
//!   included ones cost money: going from `from` to `to` units adds
//!   `max(to, included) − max(from, included)` of them (or removes
//!   `max(from, included) − max(to, included)`). With the current period
//!   `S..E` (`D` days, `months` long, see `period`) and the change on day `T`
//!   leaving `R = E − T` days (`T` included), each unit costing its price per
//!   unit a month:
//!   - added, "price before the service expiration date": units × price ×
//!     months × R / D, an `addon` line for `T..E` (seed: valid until
//!     November 30, ordered November 15: 15 days);
//!   - added, "full price over the whole period": units × price × months, an
//!     `addon` line for the whole last paid (ordered or renewed) period
//!     `S..E`, however little of it is left (seed: a month to November 20
//!     ordered November 10 pays the month; three months renewed, ordered
//!     after two, pays the three). Once nothing is left (`R = 0`, the
//!     service is past its expiry) nothing is charged under either policy:
//!     the units are paid from the next period on, by its renewal;
//!   - removed: the unused days, units × price × months × R / D, as a
//!     `refund` line for `T..E`, or nothing, as the tariff's cancellation
//!     policy says.
//!
//!   Each amount is rounded once (`money`); a zero amount records no line.
//!   A daily-charged service gets no line: its day price includes the addons
//!   above their included quantity (`daily`), so the new quantity is charged
//!   from the next day the daily job charges (today's day was charged at the
//!   old quantity when the day began).
//! - The downtime of a daily-charged service the client suspended and now
//!   resumes. Its days were charged as they passed (the daily job does not
//!   know why a service is down); the tariff's "charge client after
//!   suspension" setting decides whether the client keeps paying for them or
//!   gets back exactly what they were charged.
//!
//! Service cancellations answer "not implemented" for now.

use crate::DefaultRules;
use crate::money::round_money;
use crate::period::Period;
use crate::prelude::*;
use rules_sdk::*;

impl Proration for DefaultRules {
    fn prorate(req: ProrationRequest) -> Result<ProrationDecision, RuleError> {
        match &req.event {
            ProrationEvent::Downtime { days, charged } => downtime(&req.tariff, *days, *charged),
            ProrationEvent::AddonOrder(change) => addon_order(&req, change),
            ProrationEvent::AddonCancel { change, refund } => addon_cancel(&req, change, *refund),
            ProrationEvent::Cancellation => Err(RuleError::NotImplemented(
                "the default rules do not prorate cancellations before the expiry yet".into(),
            )),
        }
    }
}

/// The addon a change is about and the units of it that cost money before
/// and after (those above the included ones), or InvalidInput naming the
/// resource the tariff does not have.
fn paid_units<'a>(
    tariff: &'a Tariff,
    change: &AddonChange,
) -> Result<(&'a Addon, u32, u32), RuleError> {
    let addon = tariff
        .addons
        .iter()
        .find(|a| a.resource == change.resource)
        .ok_or_else(|| {
            RuleError::InvalidInput(format!(
                "tariff {} has no addon {:?}",
                tariff.name, change.resource
            ))
        })?;
    // max(q, included) − included: the units above the included ones.
    let paid = |q: u32| q.saturating_sub(addon.included);
    Ok((addon, paid(change.from), paid(change.to)))
}

/// What `units` of `addon` cost for the service's whole period
/// (`months`), unrounded.
fn whole_period(addon: &Addon, units: u32, months: u32) -> Decimal {
    addon.price_per_unit * Decimal::from(units) * Decimal::from(months)
}

/// "2 GiB disk-space"
fn units_label(addon: &Addon, units: u32) -> String {
    format!("{units} {} {}", addon.unit, addon.resource)
}

fn none() -> Result<ProrationDecision, RuleError> {
    Ok(ProrationDecision { lines: vec![] })
}

fn one(line: Option<Line>) -> Result<ProrationDecision, RuleError> {
    Ok(ProrationDecision {
        lines: line.into_iter().collect(),
    })
}

fn addon_order(
    req: &ProrationRequest,
    change: &AddonChange,
) -> Result<ProrationDecision, RuleError> {
    if change.to <= change.from {
        return Err(RuleError::InvalidInput(format!(
            "an addon order raises the quantity; {} goes from {} to {}",
            change.resource, change.from, change.to
        )));
    }
    let tariff = &req.tariff;
    let (addon, before, after) = paid_units(tariff, change)?;
    let units = after - before;
    if tariff.daily.is_some() || units == 0 {
        return none();
    }
    let p = Period::of(&req.service, req.at)?;
    // Nothing of the period is left: the new units are paid from the next
    // period on, by its renewal.
    if p.left == 0 {
        return none();
    }
    let full = whole_period(addon, units, req.service.months);
    let currency = &tariff.currency;
    let line = match req.addon_policy {
        AddonOrderPolicy::ProratedToExpiry => {
            let amount = round_money(p.share_left(full), currency);
            (amount > Decimal::ZERO).then(|| {
                Line::charge(
                    LineKind::Addon,
                    format!(
                        "{}, {} day(s) to {}",
                        units_label(addon, units),
                        p.left,
                        p.expires
                    ),
                    amount,
                )
                .covering(p.today, p.expires)
            })
        }
        AddonOrderPolicy::FullPeriod => {
            let amount = round_money(full, currency);
            (amount > Decimal::ZERO).then(|| {
                Line::charge(
                    LineKind::Addon,
                    format!(
                        "{}, the whole period {} to {}",
                        units_label(addon, units),
                        p.start,
                        p.expires
                    ),
                    amount,
                )
                .covering(p.start, p.expires)
            })
        }
    };
    one(line)
}

fn addon_cancel(
    req: &ProrationRequest,
    change: &AddonChange,
    refund: bool,
) -> Result<ProrationDecision, RuleError> {
    if change.to >= change.from {
        return Err(RuleError::InvalidInput(format!(
            "an addon cancellation lowers the quantity; {} goes from {} to {}",
            change.resource, change.from, change.to
        )));
    }
    let tariff = &req.tariff;
    let (addon, before, after) = paid_units(tariff, change)?;
    let units = before - after;
    if tariff.daily.is_some() || units == 0 || !refund {
        return none();
    }
    let p = Period::of(&req.service, req.at)?;
    let full = whole_period(addon, units, req.service.months);
    let amount = round_money(p.share_left(full), &tariff.currency);
    one((amount > Decimal::ZERO).then(|| {
        Line::charge(
            LineKind::Refund,
            format!(
                "{} removed, {} unused day(s) to {}",
                units_label(addon, units),
                p.left,
                p.expires
            ),
            -amount,
        )
        .covering(p.today, p.expires)
    }))
}

/// `days` days of client-suspended downtime that were charged `charged` in
/// total: nothing to do if the tariff charges downtime, else a refund of
/// exactly what was charged (no recomputation, so the refund always matches
/// the daily lines it undoes).
fn downtime(tariff: &Tariff, days: u32, charged: Decimal) -> Result<ProrationDecision, RuleError> {
    let daily = tariff.daily.as_ref().ok_or_else(|| {
        RuleError::InvalidInput(format!(
            "tariff {} does not charge daily; only daily-charged services have downtime to settle",
            tariff.name
        ))
    })?;
    if charged.is_sign_negative() && !charged.is_zero() {
        return Err(RuleError::InvalidInput(format!(
            "the downtime was charged a negative amount ({charged})"
        )));
    }
    if daily.charge_downtime || charged.is_zero() {
        return Ok(ProrationDecision { lines: vec![] });
    }
    Ok(ProrationDecision {
        lines: vec![Line::charge(
            LineKind::Refund,
            format!(
                "{}, refund of {days} day(s) suspended by the client",
                tariff.name
            ),
            -round_money(charged, &tariff.currency),
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn request(event: ProrationEvent, charge_downtime: Option<bool>) -> ProrationRequest {
        ProrationRequest {
            event,
            tariff: Tariff {
                daily: charge_downtime.map(|charge_downtime| DailyCharging {
                    price: Some(dec("0.10")),
                    cost_from_period: false,
                    charge_downtime,
                }),
                ..monthly("Daily")
            },
            service: Service {
                id: "s".into(),
                status: ServiceStatus::Suspended,
                period_start: Some("2026-01-01".parse().unwrap()),
                expires: Some("2026-01-11".parse().unwrap()),
                suspended_at: Some("2026-01-05".parse().unwrap()),
                months: 1,
                addons: vec![],
            },
            addon_policy: AddonOrderPolicy::ProratedToExpiry,
            at: "2026-01-10T12:00:00Z".parse().unwrap(),
        }
    }

    fn downtime_event(days: u32, charged: &str) -> ProrationEvent {
        ProrationEvent::Downtime {
            days,
            charged: dec(charged),
        }
    }

    #[test]
    fn downtime_is_refunded_when_the_tariff_does_not_charge_it() {
        let d = DefaultRules::prorate(request(downtime_event(5, "0.5"), Some(false))).unwrap();
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.lines[0].kind, LineKind::Refund);
        assert_eq!(d.lines[0].amount.to_string(), "-0.50");
        assert_eq!(
            d.lines[0].description,
            "Daily, refund of 5 day(s) suspended by the client"
        );
    }

    #[test]
    fn downtime_is_kept_when_the_tariff_charges_it() {
        let d = DefaultRules::prorate(request(downtime_event(5, "0.5"), Some(true))).unwrap();
        assert!(d.lines.is_empty());
    }

    #[test]
    fn nothing_charged_nothing_refunded() {
        let d = DefaultRules::prorate(request(downtime_event(0, "0"), Some(false))).unwrap();
        assert!(d.lines.is_empty());
    }

    #[test]
    fn downtime_needs_a_daily_tariff_and_a_sane_charge() {
        let err = DefaultRules::prorate(request(downtime_event(5, "0.5"), None)).unwrap_err();
        assert!(matches!(err, RuleError::InvalidInput(_)));
        let err =
            DefaultRules::prorate(request(downtime_event(5, "-0.5"), Some(false))).unwrap_err();
        assert!(matches!(err, RuleError::InvalidInput(_)));
    }

    #[test]
    fn cancellations_of_the_service_are_not_implemented() {
        let err =
            DefaultRules::prorate(request(ProrationEvent::Cancellation, Some(false))).unwrap_err();
        assert!(matches!(err, RuleError::NotImplemented(m) if m.contains("cancellations")));
    }

    /// A tariff with one addon (3.10 a GiB a month, 1 included) and a service
    /// of `months` paid `start..expires`, asked on `today`.
    fn addon_request(
        event: ProrationEvent,
        policy: AddonOrderPolicy,
        months: u32,
        (start, expires, today): (&str, &str, &str),
    ) -> ProrationRequest {
        ProrationRequest {
            event,
            tariff: Tariff {
                addons: vec![Addon {
                    resource: "disk-space".into(),
                    unit: "GiB".into(),
                    included: 1,
                    minimum: 0,
                    maximum: 10,
                    price_per_unit: dec("3.10"),
                }],
                ..monthly("Disk")
            },
            service: Service {
                id: "s".into(),
                status: ServiceStatus::Active,
                period_start: Some(d(start)),
                expires: Some(d(expires)),
                suspended_at: None,
                months,
                addons: vec![],
            },
            addon_policy: policy,
            at: d(today).and_hms_opt(10, 0, 0).unwrap().and_utc(),
        }
    }

    fn disk(from: u32, to: u32) -> AddonChange {
        AddonChange {
            resource: "disk-space".into(),
            from,
            to,
        }
    }

    fn order(
        from: u32,
        to: u32,
        policy: AddonOrderPolicy,
        months: u32,
        dates: (&str, &str, &str),
    ) -> ProrationDecision {
        DefaultRules::prorate(addon_request(
            ProrationEvent::AddonOrder(disk(from, to)),
            policy,
            months,
            dates,
        ))
        .unwrap()
    }

    fn cancel(
        from: u32,
        to: u32,
        refund: bool,
        months: u32,
        dates: (&str, &str, &str),
    ) -> ProrationDecision {
        DefaultRules::prorate(addon_request(
            ProrationEvent::AddonCancel {
                change: disk(from, to),
                refund,
            },
            AddonOrderPolicy::ProratedToExpiry,
            months,
            dates,
        ))
        .unwrap()
    }

    type Summary = (LineKind, String, Option<NaiveDate>, Option<NaiveDate>);

    fn only_line(d: ProrationDecision) -> Summary {
        assert_eq!(d.lines.len(), 1, "{:?}", d.lines);
        let l = &d.lines[0];
        (l.kind, l.amount.to_string(), l.period_start, l.period_end)
    }

    fn summary(kind: LineKind, amount: &str, start: &str, end: &str) -> Summary {
        (kind, amount.into(), Some(d(start)), Some(d(end)))
    }

    const PRORATED: AddonOrderPolicy = AddonOrderPolicy::ProratedToExpiry;
    const FULL: AddonOrderPolicy = AddonOrderPolicy::FullPeriod;

    #[test]
    fn seed_added_units_are_priced_to_the_expiry() {
        // Seed: valid until November 30, ordered November 15: 15 days of the
        // 31-day period. 1 GiB is included: 1 -> 3 is 2 paid units, 6.20 a
        // month, 6.20 × 15 / 31 = 3.00.
        let dates = ("2026-10-30", "2026-11-30", "2026-11-15");
        let decision = order(1, 3, PRORATED, 1, dates);
        assert_eq!(
            decision.lines[0].description,
            "2 GiB disk-space, 15 day(s) to 2026-11-30"
        );
        assert_eq!(
            only_line(decision),
            summary(LineKind::Addon, "3.00", "2026-11-15", "2026-11-30")
        );
    }

    #[test]
    fn added_units_on_the_first_and_last_day_of_the_period() {
        // The first day: all 31 days, the month's price.
        assert_eq!(
            only_line(order(
                1,
                3,
                PRORATED,
                1,
                ("2026-10-30", "2026-11-30", "2026-10-30")
            )),
            summary(LineKind::Addon, "6.20", "2026-10-30", "2026-11-30")
        );
        // The last day: one day of 31, 6.20 / 31 = 0.20.
        assert_eq!(
            only_line(order(
                1,
                3,
                PRORATED,
                1,
                ("2026-10-30", "2026-11-30", "2026-11-29")
            )),
            summary(LineKind::Addon, "0.20", "2026-11-29", "2026-11-30")
        );
        // A three-month period, 10 of its 91 days left, 1 paid unit (0 -> 2,
        // 1 included): 3.10 × 3 × 10 / 91 = 1.0219..
        assert_eq!(
            only_line(order(
                0,
                2,
                PRORATED,
                3,
                ("2026-04-01", "2026-07-01", "2026-06-21")
            ))
            .1,
            "1.02"
        );
    }

    #[test]
    fn seed_full_price_addons_pay_the_whole_last_period() {
        // Example 1: a one-month period to November 20, ordered November 10:
        // the full month, 2 units × 3.10.
        let decision = order(1, 3, FULL, 1, ("2026-10-20", "2026-11-20", "2026-11-10"));
        assert_eq!(
            decision.lines[0].description,
            "2 GiB disk-space, the whole period 2026-10-20 to 2026-11-20"
        );
        assert_eq!(
            only_line(decision),
            summary(LineKind::Addon, "6.20", "2026-10-20", "2026-11-20")
        );
        // Example 2: last renewed for three months, ordered after two of
        // them: three months' price, 2 units × 3.10 × 3.
        assert_eq!(
            only_line(order(
                1,
                3,
                FULL,
                3,
                ("2026-04-01", "2026-07-01", "2026-06-01")
            )),
            summary(LineKind::Addon, "18.60", "2026-04-01", "2026-07-01")
        );
        // On the last day as on the first.
        assert_eq!(
            only_line(order(
                1,
                3,
                FULL,
                3,
                ("2026-04-01", "2026-07-01", "2026-06-30")
            ))
            .1,
            "18.60"
        );
    }

    #[test]
    fn nothing_is_charged_for_a_period_that_is_over() {
        for policy in [PRORATED, FULL] {
            for today in ["2026-11-30", "2026-12-03"] {
                let decision = order(1, 3, policy, 1, ("2026-10-30", "2026-11-30", today));
                assert!(decision.lines.is_empty(), "{policy:?} {today}");
            }
        }
        let decision = cancel(3, 1, true, 1, ("2026-10-30", "2026-11-30", "2026-11-30"));
        assert!(decision.lines.is_empty());
    }

    #[test]
    fn removed_units_refund_their_unused_days_or_nothing() {
        // 1 unit of 3.10 for 10 of 31 days: 1.00.
        let dates = ("2026-10-30", "2026-11-30", "2026-11-20");
        let decision = cancel(3, 2, true, 1, dates);
        assert_eq!(
            decision.lines[0].description,
            "1 GiB disk-space removed, 10 unused day(s) to 2026-11-30"
        );
        assert_eq!(
            only_line(decision),
            summary(LineKind::Refund, "-1.00", "2026-11-20", "2026-11-30")
        );
        assert!(cancel(3, 2, false, 1, dates).lines.is_empty());
        // The first day refunds the whole period, the last one day of it.
        assert_eq!(
            only_line(cancel(
                3,
                1,
                true,
                1,
                ("2026-10-30", "2026-11-30", "2026-10-30")
            ))
            .1,
            "-6.20"
        );
        assert_eq!(
            only_line(cancel(
                3,
                1,
                true,
                1,
                ("2026-10-30", "2026-11-30", "2026-11-29")
            ))
            .1,
            "-0.20"
        );
    }

    #[test]
    fn included_units_free_addons_and_daily_tariffs_cost_nothing_here() {
        let dates = ("2026-10-30", "2026-11-30", "2026-11-20");
        // 0 -> 1 stays within the included unit, and so does 1 -> 0.
        assert!(order(0, 1, FULL, 1, dates).lines.is_empty());
        assert!(cancel(1, 0, true, 1, dates).lines.is_empty());
        // 0 -> 3 pays for the 2 above the included one.
        assert_eq!(only_line(order(0, 3, FULL, 1, dates)).1, "6.20");
        // A free addon rounds to nothing: no line.
        let mut req = addon_request(ProrationEvent::AddonOrder(disk(1, 5)), PRORATED, 1, dates);
        req.tariff.addons[0].price_per_unit = dec("0.001");
        assert!(DefaultRules::prorate(req).unwrap().lines.is_empty());
        // Daily: the next uncharged day is charged at the new quantity.
        for event in [
            ProrationEvent::AddonOrder(disk(1, 5)),
            ProrationEvent::AddonCancel {
                change: disk(5, 1),
                refund: true,
            },
        ] {
            let mut req = addon_request(event, FULL, 1, dates);
            req.tariff.daily = Some(DailyCharging {
                price: Some(dec("0.10")),
                cost_from_period: false,
                charge_downtime: false,
            });
            assert!(DefaultRules::prorate(req).unwrap().lines.is_empty());
        }
    }

    #[test]
    fn an_addon_event_that_contradicts_itself_is_invalid_input() {
        let dates = ("2026-10-30", "2026-11-30", "2026-11-20");
        for event in [
            ProrationEvent::AddonOrder(disk(3, 2)),
            ProrationEvent::AddonOrder(disk(2, 2)),
            ProrationEvent::AddonCancel {
                change: disk(2, 3),
                refund: true,
            },
        ] {
            let req = addon_request(event, PRORATED, 1, dates);
            assert!(matches!(
                DefaultRules::prorate(req),
                Err(RuleError::InvalidInput(_))
            ));
        }
        let req = addon_request(
            ProrationEvent::AddonOrder(AddonChange {
                resource: "ram".into(),
                from: 0,
                to: 1,
            }),
            PRORATED,
            1,
            dates,
        );
        assert!(
            matches!(DefaultRules::prorate(req), Err(RuleError::InvalidInput(m)) if m.contains("\"ram\""))
        );
        let mut req = addon_request(ProrationEvent::AddonOrder(disk(1, 3)), PRORATED, 1, dates);
        req.service.expires = None;
        assert!(
            matches!(DefaultRules::prorate(req), Err(RuleError::InvalidInput(m)) if m.contains("service.expires"))
        );
    }
}
