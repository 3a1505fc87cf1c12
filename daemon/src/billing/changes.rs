//! Changing a service's tariff (seed 002, "tariff change policy").
//!
//! The daemon decides whether a change is allowed ([`check_change`], run on
//! the read before the rule and again in the writer); the tariff-change rule
//! decides what it costs under the policy of the tariff being left; the
//! service, its lines and the receipt are written in one transaction. A
//! quote of a change (quotes.rs) builds the same request through
//! [`App::decide_change`], so it gives the lines the change would record.
//!
//! A change does not start over when the service changed under it (a
//! renewal or another change won the race): the client agreed to a price
//! computed from the facts it saw, so it gets 409 and asks again.

use super::funds::check_funds;
use super::model::{ChangeTariffRequest, Changed};
use super::order_policy::{check_client_group, check_period_on_sale, policy};
use super::requests::instant;
use super::services::{client_group, status_word};
use super::tables::{Reader, current, save, service_tariff, target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::tariff_change;
use crate::contract::wit::addons_to_wit;
use crate::decide::{Decision, RuleInput, RuleOutput};
use crate::domain::ids::ServiceId;
use crate::domain::invalid::invalid;
use crate::domain::ledger::Cause;
use crate::domain::ledger::Priced;
use crate::domain::service::Holding;
use crate::domain::service::{Service, ServiceStatus};
use crate::domain::tariff::{AddonQuantity, ChangePolicy, Tariff};
use crate::ledger::Target;
use crate::ledger::{paid_for_days_left, record};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// A change the daemon allows: both tariffs, the period and the addon
/// quantities the service will have.
pub(super) struct ChangeFacts {
    pub from: Tariff,
    pub to: Tariff,
    pub months: u32,
    pub addons: Vec<AddonQuantity>,
}

/// Whether `service` may change to `req.tariff_id` on `today`, and on which
/// terms. Each refusal names what forbids it.
pub(super) fn check_change(
    txn: &impl Reader,
    caller: &Caller,
    service: &Service,
    req: &ChangeTariffRequest,
    today: NaiveDate,
) -> Result<ChangeFacts, ApiError> {
    let id = service.id;
    if service.status != ServiceStatus::Active {
        return Err(policy(format!(
            "service {id} is {}: only an active service changes tariff",
            status_word(service.status)
        )));
    }
    let from = service_tariff(txn, service)?;
    let to = match txn.tariff(req.tariff_id)? {
        // A service changes among its seller's tariffs, as it was ordered.
        Some(t) if t.reseller_id == from.reseller_id => t,
        // The provider sees every tariff: one of another seller is a policy,
        // not a secret (for a reseller it does not exist).
        Some(t) if caller.can_see(t.reseller_id) => {
            return Err(policy(format!(
                "tariff {} is sold by {} and service {id} by {}: a service changes among its seller's tariffs",
                t.spec.name,
                seller(t.reseller_id),
                seller(from.reseller_id)
            )));
        }
        _ => {
            return Err(ApiError::NotFound(format!(
                "tariff {} does not exist for service {id}",
                req.tariff_id
            )));
        }
    };
    let (old, new) = (&from.spec, &to.spec);
    if to.id == from.id {
        return Err(policy(format!(
            "service {id} is already on tariff {}",
            old.name
        )));
    }
    if new.currency != service.currency {
        return Err(policy(format!(
            "tariff {} is priced in {}, service {id} in {}",
            new.name, new.currency, service.currency
        )));
    }
    if !old.may_change_to.is_empty() && !old.may_change_to.contains(&to.id) {
        let allowed: Vec<String> = old.may_change_to.iter().map(|t| t.to_string()).collect();
        return Err(policy(format!(
            "tariff {} may change only to tariff(s) {}",
            old.name,
            allowed.join(", ")
        )));
    }
    if !new.enabled {
        return Err(policy(format!(
            "tariff {} is disabled: services cannot change to it",
            new.name
        )));
    }
    if old.daily.is_some() != new.daily.is_some() {
        let charging = |t: &Tariff| {
            if t.spec.daily.is_some() {
                "daily"
            } else {
                "by the period"
            }
        };
        return Err(policy(format!(
            "tariff {} charges {} and tariff {} {}: a service cannot change between them",
            old.name,
            charging(&from),
            new.name,
            charging(&to)
        )));
    }
    let full_payment = matches!(
        old.change_policy,
        ChangePolicy::FullPaymentFromToday | ChangePolicy::FullPaymentFromExpiry
    );
    let months = match req.months {
        Some(m) if m != service.months && !full_payment => {
            return Err(invalid(
                "months",
                format!(
                    "tariff {}'s change policy keeps the service's {}-month period; only a full-payment policy chooses another",
                    old.name, service.months
                ),
            )
            .into());
        }
        Some(m) => m,
        None => service.months,
    };
    check_period_on_sale(new, months, today)?;
    check_client_group(new, client_group(txn, service)?.as_ref())?;
    Ok(ChangeFacts {
        addons: carried_addons(&to, service)?,
        from,
        to,
        months,
    })
}

fn seller(reseller: Option<crate::domain::ids::AccountId>) -> String {
    match reseller {
        Some(r) => format!("reseller {r}"),
        None => "the provider".into(),
    }
}

/// The addons a service keeps on `to`: the quantities it has of the
/// resources `to` sells (within `to`'s limits, else the change is refused
/// naming the addon), `to`'s default for the others; resources `to` does not
/// sell are dropped, and so is a control panel `to` does not sell (its
/// license is then released).
fn carried_addons(to: &Tariff, service: &Service) -> Result<Vec<AddonQuantity>, ApiError> {
    let panel = service.panel().filter(|value| {
        to.spec
            .control_panel
            .as_ref()
            .is_some_and(|p| p.price(value).is_some())
    });
    let mut carried = to
        .spec
        .addons
        .iter()
        .map(|a| {
            let had = service.addons.iter().find(|q| q.resource == a.resource);
            let quantity = had.map_or(a.included.max(a.minimum), |q| q.quantity);
            if had.is_some() && (quantity < a.minimum || quantity > a.maximum) {
                return Err(policy(format!(
                    "tariff {} allows {} between {} and {} {}; service {} has {quantity}",
                    to.spec.name, a.resource, a.minimum, a.maximum, a.unit, service.id
                )));
            }
            Ok(AddonQuantity {
                resource: a.resource.clone(),
                quantity,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if let Some(value) = panel {
        carried.push(AddonQuantity {
            resource: crate::domain::tariff::panel_resource(value),
            quantity: 1,
        });
    }
    Ok(carried)
}

/// The request the tariff-change rule is handed.
fn change_request(
    facts: &ChangeFacts,
    service: &Service,
    paid: Decimal,
    at: DateTime<Utc>,
) -> tariff_change::ChangeRequest {
    tariff_change::ChangeRequest {
        service: service.facts().to_wit(),
        from: facts.from.spec.terms(Some(facts.from.id)).to_wit(),
        to: facts.to.spec.terms(Some(facts.to.id)).to_wit(),
        policy: facts.from.spec.change_policy.to_wit(),
        months: facts.months,
        addons: addons_to_wit(&facts.addons),
        paid: paid.to_string(),
        at: instant(at),
    }
}

impl App {
    /// Move a service to another tariff; what it costs is the rule's
    /// decision under the policy of the tariff being left.
    pub async fn change_tariff(
        &self,
        caller: Caller,
        id: ServiceId,
        req: ChangeTariffRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        if let Some(replayed) = self.replayed(idem.as_ref())? {
            return Ok(replayed);
        }
        let seen = self.get_service(&caller, id)?;
        let (decision, changed) = self
            .decide_change(&caller, &seen, &req, self.clock.now())
            .await?;
        let limit = self.options.credit_limit;
        let (client, gives_back) = (seen.client_id, changed.total < Decimal::ZERO);
        let listeners = self.listeners.clone();
        let written = self
            .mutate(idem, move |txn, now| {
                let mut service = current(txn, &seen)?;
                let facts = check_change(txn, &caller, &service, &req, now.date_naive())?;
                check_funds(txn, &service, changed.total, limit)?;
                let after = Holding {
                    tariff: facts.to.id,
                    addons: &facts.addons,
                };
                let target = Target {
                    after,
                    ..target(&service, Cause::TariffChange, &listeners)
                };
                let lines = record(txn, &decision, target, now)?;
                service.tariff_id = facts.to.id;
                service.months = facts.months;
                service.addons = facts.addons;
                service.period_start = changed.period_start;
                service.expires = changed.expires;
                save(txn, &mut service, &listeners, now)?;
                Ok(Changed::new(service, lines))
            })
            .await;
        self.settling_refunds(written, gives_back, client).await
    }

    /// Check a change of `service` and ask the rule what it costs at `at`.
    pub(super) async fn decide_change(
        &self,
        caller: &Caller,
        service: &Service,
        req: &ChangeTariffRequest,
        at: DateTime<Utc>,
    ) -> Result<(Decision, Priced), ApiError> {
        let (facts, paid) = {
            let read = self.store.read()?;
            let facts = check_change(&read, caller, service, req, at.date_naive())?;
            (facts, paid_for_days_left(&read, service, at.date_naive())?)
        };
        let request = change_request(&facts, service, paid, at);
        let decision = self
            .decide(
                facts.from.reseller_id,
                RuleInput::TariffChange(Box::new(request)),
            )
            .await
            // The change policy is the tariff's, applied by the rule: its
            // refusal ("tariff Basic cannot be changed") is a policy
            // violation like the daemon's own checks.
            .map_err(|e| match e {
                ApiError::Denied(m) => policy(m),
                e => e,
            })?;
        match &decision.output {
            RuleOutput::TariffChange(changed) => {
                let changed = changed.clone();
                Ok((decision, changed))
            }
            other => Err(ApiError::Internal(format!(
                "a tariff change was answered with a {other:?} decision"
            ))),
        }
    }
}
