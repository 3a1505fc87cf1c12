//! A server's license follows the server (seed 003): billing tells
//! [`FollowServers`] of every save and deletion of a service, in that
//! transaction; it works out what happened (suspended, activated, another
//! panel, a new primary IP, deleted), asks the license-pool rule what to do
//! and applies the answer with a receipt, in the same transaction. The daily
//! job's renewals (daily.rs) decide through [`FollowServers::decide`] too.

use super::apply::{Applier, Server};
use super::model::{License, LicenseStatus};
use super::tables::LicenseReader;
use super::vendor::{Faulty, LicenseVendor};
use crate::app::metrics::{Metrics, Outcome};
use crate::app::{ApiError, OnServiceDeleted, OnServiceSaved, Saved, binding};
use crate::billing::requests::instant;
use crate::billing::tables::Reader;
use crate::contract::bindings::license_pool::{self as wit, LicenseRequest, ServiceEvent};
use crate::contract::hook::Hook;
use crate::decide::receipt::{self, Receipt, Subject};
use crate::decide::{self, RuleInput, RuleOutput};
use crate::domain::ids::ServiceId;
use crate::domain::invalid::invalid;
use crate::domain::service::{Service, ServiceStatus};
use crate::ipam::tables::IpReader;
use crate::rules::Registry;
use crate::runtime::block_on;
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use std::sync::Arc;

/// How many free licenses a rule is shown at most, the longest free first:
/// enough to get past a few vendor failures before a new one is ordered;
/// each one shown is read, handed to the rule and kept in the receipt.
pub const FREE_SHOWN: usize = 8;

/// Decides and applies what happens to servers' licenses.
pub struct FollowServers {
    registry: Arc<Registry>,
    vendor: Arc<dyn LicenseVendor>,
}

impl FollowServers {
    pub fn new(registry: Arc<Registry>, vendor: Arc<dyn LicenseVendor>) -> Self {
        FollowServers { registry, vendor }
    }
}

/// What a license decision about a server starts from, read once.
pub(crate) struct Facts {
    /// The license the server holds.
    pub current: Option<License>,
    /// The license tariff its panel maps to.
    pub wanted: Option<String>,
    /// The license period its period matches.
    pub months: u32,
}

impl Facts {
    pub fn read(txn: &WriteTransaction, service: &Service) -> Result<Facts, ApiError> {
        let current = txn.license_of(service.id)?;
        let none = |current| Facts {
            current,
            wanted: None,
            months: 1,
        };
        let Some(value) = service.panel() else {
            return Ok(none(current));
        };
        let tariff = txn.tariff(service.tariff_id)?.ok_or_else(|| {
            ApiError::Internal(format!("tariff {} is missing", service.tariff_id))
        })?;
        let Some(panel) = &tariff.spec.control_panel else {
            return Ok(none(current));
        };
        let enumeration = txn.enumeration(panel.enumeration_id)?.ok_or_else(|| {
            ApiError::Internal(format!("enumeration {} is missing", panel.enumeration_id))
        })?;
        Ok(Facts {
            current,
            wanted: enumeration
                .value(value)
                .and_then(|v| v.license_tariff.clone()),
            months: panel.license_months(service.months),
        })
    }
}

fn wit_status(s: LicenseStatus) -> wit::LicenseStatus {
    match s {
        LicenseStatus::Active => wit::LicenseStatus::Active,
        LicenseStatus::Suspended => wit::LicenseStatus::Suspended,
        LicenseStatus::Expired => wit::LicenseStatus::Expired,
        LicenseStatus::Deleted => wit::LicenseStatus::Deleted,
    }
}

fn wit_license(l: &License) -> wit::License {
    wit::License {
        id: l.id.to_string(),
        tariff: l.tariff.clone(),
        name: l.name.clone(),
        ip: l.ip.clone(),
        status: wit_status(l.status),
        expires: l.expires.to_string(),
        ip_changed: l.ip_changed.to_string(),
        key_changed: l.key_changed.to_string(),
    }
}

/// Whether the rule may take a license on this event: it is shown the free
/// ones only then.
fn may_take(event: ServiceEvent) -> bool {
    matches!(
        event,
        ServiceEvent::FirstOrder
            | ServiceEvent::PrimaryIpChanged
            | ServiceEvent::LicenseTariffChanged
            | ServiceEvent::ServiceActivated
            | ServiceEvent::UnchangedInactive
    )
}

impl FollowServers {
    /// Ask the rule what `event` does to `service`'s license and apply the
    /// answer with its receipt, in `txn`.
    pub(crate) fn decide(
        &self,
        txn: &WriteTransaction,
        metrics: &Metrics,
        event: ServiceEvent,
        service: &Service,
        facts: Facts,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let Facts {
            current,
            wanted,
            months,
        } = facts;
        let today = now.date_naive();
        let has_ip = service.primary_ip.is_some();
        let free = match &wanted {
            Some(tariff) if has_ip && may_take(event) => txn.free(tariff, today, FREE_SHOWN)?,
            _ => vec![],
        };
        let request = LicenseRequest {
            event,
            service_id: service.id.to_string(),
            service_name: service.domain.clone(),
            service_active: service.status == ServiceStatus::Active,
            primary_ip: service
                .primary_ip
                .clone()
                .unwrap_or_else(|| "0.0.0.0".into()),
            // A license needs an IP: without one the server does not want one yet.
            wanted_tariff: wanted.clone().filter(|_| has_ip),
            license_months: months,
            current: current.as_ref().map(wit_license),
            free: free.iter().map(wit_license).collect(),
            at: instant(now),
        };
        let module = self
            .registry
            .resolve(Hook::LicensePool, binding(service.reseller_id).as_deref());
        let decided = block_on(decide::run(&module, RuleInput::LicensePool(request)));
        metrics.rule_call(Hook::LicensePool, &module.name, Outcome::of(&decided));
        let decision = decided?;
        let RuleOutput::LicensePool(action) = &decision.output else {
            return Err(ApiError::Internal(
                "a license decision without an action".into(),
            ));
        };
        receipt::store(
            txn,
            &Receipt::new(
                receipt::next_id(txn)?,
                &decision,
                Subject::Service(service.id),
                None,
            )?,
        )?;
        let faults = txn.faults()?;
        let vendor = Faulty {
            inner: &*self.vendor,
            faults: &faults.faults,
        };
        let applier = Applier {
            txn,
            vendor: &vendor,
            now,
        };
        let server = Server {
            service,
            wanted: wanted.as_deref(),
            months,
        };
        applier.apply(action, &server, current)
    }

    /// A license left unrenewed expires, in `txn`.
    pub(crate) fn expire(
        &self,
        txn: &WriteTransaction,
        license: License,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let applier = Applier {
            txn,
            vendor: &*self.vendor,
            now,
        };
        applier.expire(license)
    }
}

/// What happened to a server in a save, as the rule hears it; None when
/// nothing that concerns its license did.
fn event_of(
    saved: &Saved<'_>,
    current: Option<&License>,
    wanted: Option<&str>,
) -> Option<ServiceEvent> {
    let after = saved.after;
    let Some(before) = saved.before else {
        // A new service: it has no IP yet, so nothing to take.
        return None;
    };
    use ServiceStatus as S;
    match (before.status, after.status) {
        (S::Active, S::Suspended) => return current.map(|_| ServiceEvent::ServiceSuspended),
        (S::Suspended | S::Ordered, S::Active) => return Some(ServiceEvent::ServiceActivated),
        (_, S::Deleted) => return None,
        _ => {}
    }
    if before.panel.as_deref() != after.panel() || saved.panel_chosen {
        return match (wanted, current) {
            (None, Some(_)) => Some(ServiceEvent::LicenseCancelled),
            (None, None) => None,
            (Some(_), None) => Some(ServiceEvent::FirstOrder),
            (Some(t), Some(l)) if l.tariff != t => Some(ServiceEvent::LicenseTariffChanged),
            (Some(_), Some(l)) if l.status != LicenseStatus::Active => {
                Some(ServiceEvent::UnchangedInactive)
            }
            (Some(_), Some(_)) => None,
        };
    }
    if before.primary_ip != after.primary_ip {
        return match current {
            Some(_) => Some(ServiceEvent::PrimaryIpChanged),
            None => wanted.map(|_| ServiceEvent::FirstOrder),
        };
    }
    None
}

/// A primary IP must be an address allocated to the server, and a server
/// holding a license keeps one (the license is bound to it).
fn check_primary_ip(
    txn: &WriteTransaction,
    saved: &Saved<'_>,
    current: Option<&License>,
) -> Result<(), ApiError> {
    let after = saved.after;
    if saved.before.map(|b| &b.primary_ip) == Some(&after.primary_ip) {
        return Ok(());
    }
    match &after.primary_ip {
        Some(ip) => {
            let allocated = txn
                .service_allocations(after.id)?
                .iter()
                .any(|a| &a.address == ip);
            if !allocated {
                return Err(invalid(
                    "primary_ip",
                    format!(
                        "{ip} is not allocated to service {}; allocate it first (POST /v1/ip-allocations)",
                        after.id
                    ),
                )
                .into());
            }
        }
        None if current.is_some() => {
            return Err(invalid(
                "primary_ip",
                format!(
                    "service {}'s license is bound to its primary IP; choose another IP, or no panel first",
                    after.id
                ),
            )
            .into());
        }
        None => {}
    }
    Ok(())
}

impl OnServiceSaved for FollowServers {
    fn saved(
        &self,
        txn: &WriteTransaction,
        saved: &Saved<'_>,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) -> Result<(), ApiError> {
        let after = saved.after;
        let had_panel = saved.before.is_some_and(|b| b.panel.is_some());
        let ip_changed = saved
            .before
            .is_some_and(|b| b.primary_ip != after.primary_ip);
        // Most saves (renewals, daily charges) concern no panel: one check.
        if after.panel().is_none() && !had_panel && !ip_changed {
            return Ok(());
        }
        let facts = Facts::read(txn, after)?;
        check_primary_ip(txn, saved, facts.current.as_ref())?;
        let Some(event) = event_of(saved, facts.current.as_ref(), facts.wanted.as_deref()) else {
            return Ok(());
        };
        self.decide(txn, metrics, event, after, facts, now)
    }
}

impl OnServiceDeleted for FollowServers {
    fn deleted(
        &self,
        txn: &WriteTransaction,
        service: ServiceId,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) -> Result<(), ApiError> {
        if txn.license_of(service)?.is_none() {
            return Ok(());
        }
        let service = txn
            .service(service)?
            .ok_or_else(|| ApiError::Internal(format!("service {service} is missing")))?;
        let facts = Facts::read(txn, &service)?;
        self.decide(
            txn,
            metrics,
            ServiceEvent::ServiceDeleted,
            &service,
            facts,
            now,
        )
    }
}
