//! Proration: what a change in the middle of a paid period costs or returns.
//!
//! Implemented: the downtime of a daily-charged service the client suspended
//! and now resumes. Its days were charged as they passed (the daily job does
//! not know why a service is down); the tariff's "charge client after
//! suspension" setting decides whether the client keeps paying for them or
//! gets back exactly what they were charged. Addon orders and cancellations
//! and service cancellations come later and answer "not implemented".

use crate::DefaultRules;
use crate::money::round_money;
use crate::prelude::*;
use rules_sdk::*;

impl Proration for DefaultRules {
    fn prorate(req: ProrationRequest) -> Result<ProrationDecision, RuleError> {
        match &req.event {
            ProrationEvent::Downtime { days, charged } => downtime(&req.tariff, *days, *charged),
            ProrationEvent::AddonOrder(_) => not_yet("addon orders in the middle of a period"),
            ProrationEvent::AddonCancel { .. } => {
                not_yet("addon cancellations in the middle of a period")
            }
            ProrationEvent::Cancellation => not_yet("cancellations before the expiry"),
        }
    }
}

fn not_yet(what: &str) -> Result<ProrationDecision, RuleError> {
    Err(RuleError::NotImplemented(format!(
        "the default rules do not prorate {what} yet"
    )))
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
    fn other_events_are_not_implemented_yet() {
        let change = AddonChange {
            resource: "ip".into(),
            from: 1,
            to: 2,
        };
        for event in [
            ProrationEvent::AddonOrder(change.clone()),
            ProrationEvent::AddonCancel {
                change,
                refund: true,
            },
            ProrationEvent::Cancellation,
        ] {
            let err = DefaultRules::prorate(request(event, Some(false))).unwrap_err();
            assert!(matches!(err, RuleError::NotImplemented(m) if m.contains("not prorate")));
        }
    }
}
