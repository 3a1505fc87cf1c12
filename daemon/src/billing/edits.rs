//! `PATCH /v1/services/{id}`: choosing a server's control panel and setting
//! its primary IP (seed 003). A panel is an addon of one unit per value
//! (domain/tariff/panel.rs), so a change of panel is priced by the proration
//! rule like any addon change: the old value cancelled (refunded or not, as
//! the tariff's addon cancellation policy says) and the new one ordered
//! (prorated or for the full period, as its addon order policy says), both
//! in the edit's transaction. What the edit means for the server's license
//! is the licenses domain's, told through the save's listeners; so is
//! whether the primary IP is an address allocated to the server.

use super::addons::proration_request;
use super::funds::check_funds;
use super::model::{Changed, ServiceEdit};
use super::order_policy::policy;
use super::services::status_word;
use super::tables::{current, save_edited, service_tariff, target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::proration;
use crate::decide::Decision;
use crate::domain::ids::ServiceId;
use crate::domain::invalid::invalid;
use crate::domain::ledger::Cause;
use crate::domain::service::{Holding, Service, ServiceStatus};
use crate::domain::tariff::{AddonCancellation, AddonQuantity, Tariff, panel_resource};
use crate::ledger::{Target, record};
use rust_decimal::Decimal;
use std::net::IpAddr;

/// The primary IP as stored: an address in its canonical form.
fn primary_ip(ip: &str) -> Result<String, ApiError> {
    match ip.parse::<IpAddr>() {
        Ok(a) if !a.is_unspecified() => Ok(a.to_string()),
        _ => Err(invalid(
            "primary_ip",
            format!("{ip:?} is not an IP address a server can have"),
        )
        .into()),
    }
}

/// The addon events of changing the panel from `from` to `to` (the old
/// value cancelled, then the new one ordered), each with the addons the
/// service holds after it.
fn panel_steps(
    tariff: &Tariff,
    service: &Service,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<(proration::Event, Vec<AddonQuantity>)>, ApiError> {
    if from == to {
        return Ok(vec![]);
    }
    let spec = &tariff.spec;
    let Some(panel) = &spec.control_panel else {
        return Err(policy(format!(
            "tariff {} has no control-panel add-on",
            spec.name
        )));
    };
    if let Some(value) = to
        && panel.price(value).is_none()
    {
        return Err(policy(format!(
            "tariff {} sells no control panel {value:?}",
            spec.name
        )));
    }
    if service.status != ServiceStatus::Active {
        return Err(policy(format!(
            "service {} is {}: the control panel changes only on an active service",
            service.id,
            status_word(service.status)
        )));
    }
    let change = |value: &str, from, to| proration::AddonChange {
        resource: panel_resource(value),
        from,
        to,
    };
    let mut steps = Vec::new();
    if let Some(old) = from {
        steps.push((
            proration::Event::AddonCancel(proration::AddonCancel {
                change: change(old, 1, 0),
                refund: spec.addon_cancellation == AddonCancellation::Refund,
            }),
            with_panel(&service.addons, from, None),
        ));
    }
    if let Some(new) = to {
        steps.push((
            proration::Event::AddonOrder(change(new, 0, 1)),
            with_panel(&service.addons, from, Some(new)),
        ));
    }
    Ok(steps)
}

/// `addons` with the panel `from` replaced by `to`.
fn with_panel(
    addons: &[AddonQuantity],
    from: Option<&str>,
    to: Option<&str>,
) -> Vec<AddonQuantity> {
    let old = from.map(panel_resource);
    let mut out: Vec<AddonQuantity> = addons
        .iter()
        .filter(|a| Some(&a.resource) != old.as_ref())
        .cloned()
        .collect();
    if let Some(value) = to {
        out.push(AddonQuantity {
            resource: panel_resource(value),
            quantity: 1,
        });
    }
    out
}

impl App {
    /// Edit a server: its control panel and its primary IP.
    pub async fn edit_service(
        &self,
        caller: Caller,
        id: ServiceId,
        edit: ServiceEdit,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        if let Some(replayed) = self.replayed(idem.as_ref())? {
            return Ok(replayed);
        }
        if edit.control_panel.is_none() && edit.primary_ip.is_none() {
            return Err(invalid(
                "body",
                "nothing to change: give control_panel or primary_ip",
            )
            .into());
        }
        let ip = match &edit.primary_ip {
            Some(Some(ip)) => Some(Some(primary_ip(ip)?)),
            Some(None) => Some(None),
            None => None,
        };
        let now = self.clock.now();
        let seen = self.get_service(&caller, id)?;
        if seen.status == ServiceStatus::Deleted {
            return Err(policy(format!("service {id} is deleted")));
        }
        let tariff = service_tariff(&self.store.read()?, &seen)?;
        let from = seen.panel().map(str::to_string);
        let to = match &edit.control_panel {
            Some(to) => to.clone(),
            None => from.clone(),
        };
        let mut decisions: Vec<(Decision, Vec<AddonQuantity>)> = Vec::new();
        for (event, after) in panel_steps(&tariff, &seen, from.as_deref(), to.as_deref())? {
            let request = proration_request(&tariff, &seen, event, now);
            let decision = self.decide_proration(tariff.reseller_id, request).await?;
            decisions.push((decision, after));
        }
        let total: Decimal = decisions
            .iter()
            .flat_map(|(d, _)| d.output.lines())
            .map(|l| l.amount)
            .sum();
        let (limit, client, gives_back) = (
            self.options.credit_limit,
            seen.client_id,
            total < Decimal::ZERO,
        );
        let listeners = self.listeners.clone();
        let panel_chosen = edit.control_panel.is_some();
        let written = self
            .mutate(idem, move |txn, now| {
                let mut service = current(txn, &seen)?;
                check_funds(txn, &service, total, limit)?;
                // Each decision pays for the step from what the service
                // held to what it holds after it (the version check above
                // makes the service the one the steps were made from).
                let mut lines = Vec::new();
                let mut before = &service.addons;
                for (decision, after) in &decisions {
                    let holding = |addons| Holding {
                        tariff: service.tariff_id,
                        addons,
                    };
                    let target = Target {
                        before: Some(holding(before)),
                        after: holding(after),
                        ..target(&service, Cause::AddonChange, &listeners)
                    };
                    lines.extend(record(txn, decision, target, now)?);
                    before = after;
                }
                if let Some((_, last)) = decisions.last() {
                    service.addons = last.clone();
                }
                if let Some(ip) = &ip {
                    service.primary_ip = ip.clone();
                }
                save_edited(txn, &mut service, &listeners, now, panel_chosen)?;
                Ok(Changed::new(service, lines))
            })
            .await;
        self.settling_refunds(written, gives_back, client).await
    }
}
