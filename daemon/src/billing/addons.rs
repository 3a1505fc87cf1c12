//! Changing an addon's quantity in the middle of a period (seed 002,
//! "additional resources order policy" and "addon cancellation policy"):
//! the proration rule prices the units added (to the expiry, or for the
//! whole last paid period) or refunds the unused days of the units removed
//! (or nothing), and the new quantity is what renewals price from then on.
//! Like a tariff change, it does not start over when the service changed
//! under it (409: the client asks again).

use super::funds::check_funds;
use super::model::{AddonRequest, Changed};
use super::order_policy::policy;
use super::requests::instant;
use super::services::status_word;
use super::tables::{current, save, service_tariff, target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::proration;
use crate::domain::ids::ServiceId;
use crate::domain::invalid::invalid;
use crate::domain::ledger::Cause;
use crate::domain::service::Holding;
use crate::domain::service::{Service, ServiceStatus};
use crate::domain::tariff::{AddonCancellation, AddonQuantity, Tariff};
use crate::ledger::Target;
use crate::ledger::record;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// The proration event of setting `req`'s quantity on `service`, checked
/// against the tariff's addon: it exists, the quantity is within its
/// minimum and maximum and differs from the one the service has.
fn addon_event(
    tariff: &Tariff,
    service: &Service,
    req: &AddonRequest,
) -> Result<proration::Event, ApiError> {
    let spec = &tariff.spec;
    if service.status != ServiceStatus::Active {
        return Err(policy(format!(
            "service {} is {}: addons change only on an active service",
            service.id,
            status_word(service.status)
        )));
    }
    let Some(addon) = spec.addons.iter().find(|a| a.resource == req.resource) else {
        return Err(policy(format!(
            "tariff {} has no addon {:?}",
            spec.name, req.resource
        )));
    };
    if req.quantity < addon.minimum || req.quantity > addon.maximum {
        return Err(policy(format!(
            "tariff {} allows {} between {} and {} {}",
            spec.name, addon.resource, addon.minimum, addon.maximum, addon.unit
        )));
    }
    let from = service
        .addons
        .iter()
        .find(|q| q.resource == req.resource)
        .map_or(addon.included.max(addon.minimum), |q| q.quantity);
    let change = proration::AddonChange {
        resource: req.resource.clone(),
        from,
        to: req.quantity,
    };
    Ok(match req.quantity.cmp(&from) {
        std::cmp::Ordering::Greater => proration::Event::AddonOrder(change),
        std::cmp::Ordering::Less => proration::Event::AddonCancel(proration::AddonCancel {
            change,
            refund: spec.addon_cancellation == AddonCancellation::Refund,
        }),
        std::cmp::Ordering::Equal => {
            return Err(invalid(
                "quantity",
                format!(
                    "service {} already has {from} {} {}",
                    service.id, addon.unit, addon.resource
                ),
            )
            .into());
        }
    })
}

/// `addons` with `resource` set to `quantity`, in the order they have.
fn with_quantity(addons: &[AddonQuantity], resource: &str, quantity: u32) -> Vec<AddonQuantity> {
    let mut out = addons.to_vec();
    match out.iter_mut().find(|a| a.resource == resource) {
        Some(a) => a.quantity = quantity,
        None => out.push(AddonQuantity {
            resource: resource.to_string(),
            quantity,
        }),
    }
    out
}

impl App {
    /// Set the quantity of one addon of a service mid-period.
    pub async fn set_addon(
        &self,
        caller: Caller,
        id: ServiceId,
        req: AddonRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        if let Some(replayed) = self.replayed(idem.as_ref())? {
            return Ok(replayed);
        }
        let now = self.clock.now();
        let seen = self.get_service(&caller, id)?;
        let tariff = service_tariff(&self.store.read()?, &seen)?;
        let request = proration_request(&tariff, &seen, addon_event(&tariff, &seen, &req)?, now);
        let decision = self.decide_proration(tariff.reseller_id, request).await?;
        let limit = self.options.credit_limit;
        let total: Decimal = decision.output.lines().iter().map(|l| l.amount).sum();
        let (client, gives_back) = (seen.client_id, total < Decimal::ZERO);
        let listeners = self.listeners.clone();
        let written = self
            .mutate(idem, move |txn, now| {
                let mut service = current(txn, &seen)?;
                check_funds(txn, &service, total, limit)?;
                let addons = with_quantity(&service.addons, &req.resource, req.quantity);
                let after = Holding {
                    tariff: service.tariff_id,
                    addons: &addons,
                };
                let target = Target {
                    after,
                    ..target(&service, Cause::AddonChange, &listeners)
                };
                let lines = record(txn, &decision, target, now)?;
                service.addons = addons;
                save(txn, &mut service, &listeners, now)?;
                Ok(Changed::new(service, lines))
            })
            .await;
        self.settling_refunds(written, gives_back, client).await
    }
}

pub(super) fn proration_request(
    tariff: &Tariff,
    service: &Service,
    event: proration::Event,
    at: DateTime<Utc>,
) -> proration::ProrationRequest {
    proration::ProrationRequest {
        event,
        tariff: tariff.spec.terms(Some(tariff.id)).to_wit(),
        service: service.facts().to_wit(),
        addon_policy: tariff.spec.addon_order_policy.to_wit(),
        at: instant(at),
    }
}
