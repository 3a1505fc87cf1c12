//! The checks of a license-pool decision: what the rule may answer for the
//! event it was shown. A license to take must be one of the free licenses
//! offered, each named once; a decision about the current license needs one;
//! a take needs a server that wants a license and has an IP to give it; a
//! renewal is a period length. Whether the license is still free is the
//! write transaction's to know (`licenses::apply`), where it is read.

use super::refusal_text;
use crate::app::ApiError;
use crate::contract::bindings::license_pool::{LicenseDecision, LicenseRequest};
use crate::domain::ids::LicenseId;
use crate::domain::invalid::check_text;
use crate::domain::tariff::PERIODS;
use crate::runtime::CallError;
use serde::{Deserialize, Serialize};

/// What a license-pool rule decided, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum LicenseAction {
    /// Try these free licenses in order, then order a new one.
    Take {
        candidates: Vec<LicenseId>,
        name: String,
    },
    /// Release the current license, then take as above.
    Reorder {
        candidates: Vec<LicenseId>,
        name: String,
    },
    Activate,
    Suspend,
    Renew {
        months: u32,
    },
    Release,
    Nothing,
}

/// The rule's decision, or why it cannot be applied.
pub fn check_license(
    module: &str,
    request: &LicenseRequest,
    decision: LicenseDecision,
) -> Result<LicenseAction, ApiError> {
    let invalid = |detail: String| {
        ApiError::RuleFailed(CallError::InvalidDecision {
            module: module.to_string(),
            detail,
        })
    };
    let needs_current = |what: &str| {
        if request.current.is_none() {
            Err(invalid(format!(
                "answered {what}, but service {} holds no license",
                request.service_id
            )))
        } else {
            Ok(())
        }
    };
    let take = |t: crate::contract::bindings::license_pool::Take| {
        if request.wanted_tariff.is_none() {
            return Err(invalid(format!(
                "answered to take a license, but service {}'s panel maps to no license tariff",
                request.service_id
            )));
        }
        if request.primary_ip == "0.0.0.0" {
            return Err(invalid(format!(
                "answered to take a license, but service {} has no primary IP to give it",
                request.service_id
            )));
        }
        check_text("name", &t.name, 200).map_err(|e| {
            invalid(format!(
                "answered the license name {:?}: {}",
                refusal_text(&t.name),
                e.message
            ))
        })?;
        let mut candidates: Vec<LicenseId> = Vec::with_capacity(t.candidates.len());
        for c in &t.candidates {
            let offered = request.free.iter().any(|l| &l.id == c);
            let id = c.parse::<u64>().ok().map(LicenseId);
            match id {
                Some(id) if offered && !candidates.contains(&id) => candidates.push(id),
                Some(id) if offered => {
                    return Err(invalid(format!("answered license {id} twice")));
                }
                _ => {
                    return Err(invalid(format!(
                        "answered license {:?}, which it was not offered as free",
                        refusal_text(c)
                    )));
                }
            }
        }
        Ok((candidates, t.name))
    };
    Ok(match decision {
        LicenseDecision::Take(t) => {
            if let Some(current) = &request.current {
                return Err(invalid(format!(
                    "answered to take a license, but service {} holds license {} (reorder replaces it)",
                    request.service_id, current.id
                )));
            }
            let (candidates, name) = take(t)?;
            LicenseAction::Take { candidates, name }
        }
        LicenseDecision::Reorder(t) => {
            needs_current("reorder")?;
            let (candidates, name) = take(t)?;
            LicenseAction::Reorder { candidates, name }
        }
        LicenseDecision::Activate => {
            needs_current("activate")?;
            LicenseAction::Activate
        }
        LicenseDecision::Suspend => {
            needs_current("suspend")?;
            LicenseAction::Suspend
        }
        LicenseDecision::Renew(months) => {
            needs_current("renew")?;
            if !PERIODS.contains(&months) {
                return Err(invalid(format!(
                    "answered a renewal of {months} months; a license renews for 1, 3, 12 or 36"
                )));
            }
            LicenseAction::Renew { months }
        }
        LicenseDecision::Release => {
            needs_current("release")?;
            LicenseAction::Release
        }
        LicenseDecision::Nothing => LicenseAction::Nothing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::bindings::license_pool::{License, LicenseStatus, ServiceEvent, Take};

    fn free(id: &str) -> License {
        License {
            id: id.into(),
            tariff: "ispmanager-lite".into(),
            name: "free.lic".into(),
            ip: "0.0.0.0".into(),
            status: LicenseStatus::Suspended,
            expires: "2030-01-01".into(),
            ip_changed: "2025-01-01".into(),
            key_changed: "2025-01-01".into(),
        }
    }

    fn request(current: Option<License>) -> LicenseRequest {
        LicenseRequest {
            event: ServiceEvent::FirstOrder,
            service_id: "7".into(),
            service_name: "vps-7".into(),
            service_active: true,
            primary_ip: "192.0.2.7".into(),
            wanted_tariff: Some("ispmanager-lite".into()),
            license_months: 1,
            current,
            free: vec![free("3"), free("5")],
            at: "2026-03-01T00:00:00Z".into(),
        }
    }

    fn take(candidates: &[&str]) -> Take {
        Take {
            candidates: candidates.iter().map(|c| c.to_string()).collect(),
            name: "Item #7 addon vps-7".into(),
        }
    }

    fn refused(req: &LicenseRequest, d: LicenseDecision) -> String {
        match check_license("m", req, d) {
            Err(ApiError::RuleFailed(e)) => e.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_take_names_only_licenses_offered_as_free_each_once() {
        let req = request(None);
        assert_eq!(
            check_license("m", &req, LicenseDecision::Take(take(&["5", "3"]))).unwrap(),
            LicenseAction::Take {
                candidates: vec![LicenseId(5), LicenseId(3)],
                name: "Item #7 addon vps-7".into()
            }
        );
        assert!(refused(&req, LicenseDecision::Take(take(&["4"]))).contains("not offered"));
        assert!(refused(&req, LicenseDecision::Take(take(&["3", "3"]))).contains("twice"));
        assert!(refused(&req, LicenseDecision::Take(take(&["x"]))).contains("not offered"));
        let mut t = take(&[]);
        t.name = "bad\u{7}name".into();
        assert!(refused(&req, LicenseDecision::Take(t)).contains("control characters"));
    }

    #[test]
    fn a_take_needs_a_wanted_tariff_an_ip_and_no_current_license() {
        let mut req = request(None);
        req.wanted_tariff = None;
        assert!(refused(&req, LicenseDecision::Take(take(&[]))).contains("maps to no license"));
        let mut req = request(None);
        req.primary_ip = "0.0.0.0".into();
        assert!(refused(&req, LicenseDecision::Take(take(&[]))).contains("no primary IP"));
        let req = request(Some(free("9")));
        assert!(refused(&req, LicenseDecision::Take(take(&[]))).contains("holds license 9"));
    }

    #[test]
    fn decisions_about_the_current_license_need_one() {
        let req = request(None);
        for d in [
            LicenseDecision::Activate,
            LicenseDecision::Suspend,
            LicenseDecision::Release,
            LicenseDecision::Renew(1),
            LicenseDecision::Reorder(take(&[])),
        ] {
            assert!(refused(&req, d).contains("holds no license"));
        }
        let req = request(Some(free("9")));
        assert!(refused(&req, LicenseDecision::Renew(2)).contains("1, 3, 12 or 36"));
        assert_eq!(
            check_license("m", &req, LicenseDecision::Renew(12)).unwrap(),
            LicenseAction::Renew { months: 12 }
        );
        assert_eq!(
            check_license("m", &req, LicenseDecision::Nothing).unwrap(),
            LicenseAction::Nothing
        );
    }
}
