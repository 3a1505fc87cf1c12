//! The license pool (seed 003, ISPsystem licenses as an add-on of a server):
//!
//! - a server that wants a license (first order, activation, first primary
//!   IP) takes one: every free license the daemon offers, longest free
//!   first, then a new one from the vendor;
//! - a new primary IP or another license tariff reorders: the current
//!   license goes back to the pool and another is taken;
//! - "no panel" releases the license to the pool, and so does deleting the
//!   server;
//! - suspending the server suspends its license, activating it (or choosing
//!   the same panel again) activates it, or reorders one that expired;
//! - a license renews for the matched period the day before it expires, while
//!   its server is active, whatever the server's own paid period.
//!
//! The name a license gets is `Item #<service id> addon <service name>`.

use crate::prelude::*;
use rules_sdk::*;

pub fn decide(req: &LicenseRequest) -> Result<LicenseDecision, RuleError> {
    use LicenseDecision as D;
    use ServiceEvent as E;
    let status = req.current.as_ref().map(|l| l.status);
    let take = || Take {
        candidates: req.free.iter().map(|l| l.id.clone()).collect(),
        name: format!("Item #{} addon {}", req.service_id, req.service_name),
    };
    let wants = req.wanted_tariff.is_some() && req.service_active;
    Ok(match (req.event, status) {
        (E::FirstOrder | E::ServiceActivated, None) if wants => D::Take(take()),
        (E::PrimaryIpChanged | E::LicenseTariffChanged, Some(_)) if wants => D::Reorder(take()),
        (E::PrimaryIpChanged | E::LicenseTariffChanged, None) if wants => D::Take(take()),
        (E::LicenseCancelled | E::ServiceDeleted, Some(_)) => D::Release,
        (E::ServiceSuspended, Some(LicenseStatus::Active)) => D::Suspend,
        (E::ServiceActivated | E::UnchangedInactive, Some(LicenseStatus::Suspended))
            if req.service_active =>
        {
            D::Activate
        }
        // Expired while the server was not active: a license again.
        (E::ServiceActivated | E::UnchangedInactive, Some(LicenseStatus::Expired)) if wants => {
            D::Reorder(take())
        }
        (E::RenewalDue, Some(LicenseStatus::Active | LicenseStatus::Suspended))
            if req.service_active =>
        {
            D::Renew(req.license_months)
        }
        _ => D::Nothing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn license(id: &str, status: LicenseStatus) -> License {
        License {
            id: id.into(),
            tariff: "ispmanager-lite".into(),
            name: "Item #7 addon vps-7".into(),
            ip: "192.0.2.7".into(),
            status,
            expires: day("2015-07-01"),
            ip_changed: day("2015-06-01"),
            key_changed: day("2015-06-01"),
        }
    }

    fn request(event: ServiceEvent, current: Option<License>) -> LicenseRequest {
        LicenseRequest {
            event,
            service_id: "7".into(),
            service_name: "vps-7".into(),
            service_active: true,
            primary_ip: "192.0.2.7".into(),
            wanted_tariff: Some("ispmanager-lite".into()),
            license_months: 1,
            current,
            free: vec![
                License {
                    name: "free.lic".into(),
                    ip: "0.0.0.0".into(),
                    ..license("3", LicenseStatus::Suspended)
                },
                License {
                    name: "free.lic".into(),
                    ip: "0.0.0.0".into(),
                    ..license("1", LicenseStatus::Active)
                },
            ],
            at: day("2015-06-30").and_hms_opt(0, 0, 0).unwrap().and_utc(),
        }
    }

    fn taken() -> Take {
        Take {
            candidates: vec!["3".into(), "1".into()],
            name: "Item #7 addon vps-7".into(),
        }
    }

    #[test]
    fn a_first_order_takes_the_free_licenses_in_the_order_offered() {
        let d = decide(&request(ServiceEvent::FirstOrder, None)).unwrap();
        assert_eq!(d, LicenseDecision::Take(taken()));
    }

    #[test]
    fn a_new_ip_or_license_tariff_reorders() {
        let active = Some(license("9", LicenseStatus::Active));
        for event in [
            ServiceEvent::PrimaryIpChanged,
            ServiceEvent::LicenseTariffChanged,
        ] {
            let d = decide(&request(event, active.clone())).unwrap();
            assert_eq!(d, LicenseDecision::Reorder(taken()), "{event:?}");
        }
    }

    #[test]
    fn no_panel_and_deletion_release_the_license() {
        for event in [ServiceEvent::LicenseCancelled, ServiceEvent::ServiceDeleted] {
            let mut req = request(event, Some(license("9", LicenseStatus::Active)));
            req.wanted_tariff = None;
            req.service_active = false;
            assert_eq!(decide(&req).unwrap(), LicenseDecision::Release, "{event:?}");
        }
    }

    #[test]
    fn suspension_and_activation_follow_the_server() {
        let active = Some(license("9", LicenseStatus::Active));
        let suspended = Some(license("9", LicenseStatus::Suspended));
        assert_eq!(
            decide(&request(ServiceEvent::ServiceSuspended, active.clone())).unwrap(),
            LicenseDecision::Suspend
        );
        assert_eq!(
            decide(&request(ServiceEvent::ServiceSuspended, suspended.clone())).unwrap(),
            LicenseDecision::Nothing
        );
        for event in [
            ServiceEvent::ServiceActivated,
            ServiceEvent::UnchangedInactive,
        ] {
            assert_eq!(
                decide(&request(event, suspended.clone())).unwrap(),
                LicenseDecision::Activate
            );
            assert_eq!(
                decide(&request(event, active.clone())).unwrap(),
                LicenseDecision::Nothing
            );
        }
    }

    #[test]
    fn a_license_renews_monthly_only_while_its_server_is_active() {
        let current = Some(license("9", LicenseStatus::Active));
        let mut req = request(ServiceEvent::RenewalDue, current);
        assert_eq!(decide(&req).unwrap(), LicenseDecision::Renew(1));
        req.license_months = 12;
        assert_eq!(decide(&req).unwrap(), LicenseDecision::Renew(12));
        req.service_active = false;
        assert_eq!(decide(&req).unwrap(), LicenseDecision::Nothing);
    }

    #[test]
    fn nothing_is_taken_for_a_server_that_is_not_active_or_wants_no_panel() {
        let mut req = request(ServiceEvent::FirstOrder, None);
        req.service_active = false;
        assert_eq!(decide(&req).unwrap(), LicenseDecision::Nothing);
        let mut req = request(ServiceEvent::FirstOrder, None);
        req.wanted_tariff = None;
        assert_eq!(decide(&req).unwrap(), LicenseDecision::Nothing);
    }
}
