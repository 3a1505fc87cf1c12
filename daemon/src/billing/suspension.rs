//! Suspending, resuming and deleting services, by the provider or on the
//! client's request (the client's permissions then apply).

use super::funds::forget_waiting;
use super::model::{ActRequest, Actor, Changed};
use super::order_policy::policy;
use super::requests::instant;
use super::services::{
    client_group, client_may_suspend, client_may_suspend_with, status_word, visible,
};
use super::tables::{current, save, service_tariff, target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::proration;
use crate::decide::Decision;
use crate::domain::ids::ServiceId;
use crate::domain::ledger::Cause;
use crate::domain::service::{Service, ServiceStatus, SuspendedBy};
use crate::domain::tariff::Tariff;
use crate::ledger::{daily_charged_between, record};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

impl App {
    /// Suspend an active service, administratively or on the client's request.
    pub async fn suspend(
        &self,
        caller: Caller,
        id: ServiceId,
        req: ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        let listeners = self.listeners.clone();
        self.mutate(idem, move |txn, now| {
            let mut service = visible(txn, &caller, id)?;
            if service.status != ServiceStatus::Active {
                return Err(policy(format!(
                    "service {id} is {}; only an active service can be suspended",
                    status_word(service.status)
                )));
            }
            if req.by == Actor::Client {
                client_may_suspend(txn, &service)?;
            }
            let by = match req.by {
                Actor::Provider => SuspendedBy::Provider,
                Actor::Client => SuspendedBy::Client,
            };
            service.suspend(by, now.date_naive());
            save(txn, &mut service, &listeners, now)?;
            Ok(Changed::new(service, vec![]))
        })
        .await
    }

    /// Resume a suspended service. Resuming a daily service the client had
    /// suspended asks the proration rule about the downtime (refund or not).
    pub async fn resume(
        &self,
        caller: Caller,
        id: ServiceId,
        req: ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        let written = self
            .decide_and_write(&idem, || self.resume_once(&caller, id, &req, idem.clone()))
            .await;
        if let Ok(Written::Fresh(changed)) = &written
            && changed.lines.iter().any(|l| l.line.amount < Decimal::ZERO)
        {
            // A downtime refund is funds: what waits for them may start now.
            self.settle_after_credit(changed.service.client_id).await;
        }
        written
    }

    async fn resume_once(
        &self,
        caller: &Caller,
        id: ServiceId,
        req: &ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        let now = self.clock.now();
        let seen = self.get_service(caller, id)?;
        let by = resumable(&seen, req.by)?;
        let downtime = match self.downtime(&seen, by, req.by, now.date_naive())? {
            Some(downtime) => Some(self.decide_downtime(&seen, downtime, now).await?),
            None => None,
        };
        let listeners = self.listeners.clone();
        self.mutate(idem, move |txn, now| {
            let mut service = current(txn, &seen)?;
            let lines = match &downtime {
                Some(d) => record(txn, d, target(&service, Cause::Downtime, &listeners), now)?,
                None => vec![],
            };
            service.activate();
            // A daily service the provider suspended was not charged
            // meanwhile, so its first unpaid day may be in the past: those
            // days were not provided and are not owed. It owes from today,
            // which the daily job charges next (it charges a daily service's
            // unpaid days in order).
            let today = now.date_naive();
            if service.daily && service.expires < today {
                service.expires = today;
            }
            save(txn, &mut service, &listeners, now)?;
            Ok(Changed::new(service, lines))
        })
        .await
    }

    /// The downtime a resumption settles, if any: a daily service the
    /// client suspended. The facts are read and the view let go before the
    /// rule call (a scratch store's view holds its session).
    fn downtime(
        &self,
        seen: &Service,
        by: SuspendedBy,
        actor: Actor,
        today: NaiveDate,
    ) -> Result<Option<Downtime>, ApiError> {
        let read = self.store.read()?;
        let tariff = service_tariff(&read, seen)?;
        if actor == Actor::Client {
            client_may_suspend_with(&read, &tariff, seen)?;
        }
        let (SuspendedBy::Client, true, Some(since)) = (by, seen.daily, seen.suspended_at) else {
            return Ok(None);
        };
        // The days wholly inside the suspension: the suspension day and the
        // resume day were partly in use, and are paid like any day the
        // service was up.
        Ok(Some(Downtime {
            days: ((today - since).num_days() - 1).max(0) as u32,
            charged: daily_charged_between(&read, seen, since, today)?,
            tariff,
        }))
    }

    /// What the proration rule decides about a downtime (refund or not).
    async fn decide_downtime(
        &self,
        seen: &Service,
        downtime: Downtime,
        now: DateTime<Utc>,
    ) -> Result<Decision, ApiError> {
        let Downtime {
            days,
            charged,
            tariff,
        } = downtime;
        let request = proration::ProrationRequest {
            event: proration::Event::Downtime(proration::Downtime {
                days,
                charged: charged.to_string(),
            }),
            tariff: tariff.spec.terms(Some(tariff.id)).to_wit(),
            service: seen.facts().to_wit(),
            addon_policy: tariff.spec.addon_order_policy.to_wit(),
            at: instant(now),
        };
        self.decide_proration(tariff.reseller_id, request).await
    }

    /// Delete a service (final). A client may delete only if its group allows it.
    pub async fn delete_service(
        &self,
        caller: Caller,
        id: ServiceId,
        req: ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        let listeners = self.listeners.clone();
        self.mutate(idem, move |txn, now| {
            let mut service = visible(txn, &caller, id)?;
            if service.status == ServiceStatus::Deleted {
                return Err(policy(format!("service {id} is already deleted")));
            }
            if req.by == Actor::Client {
                let group = client_group(txn, &service)?;
                if !group.is_some_and(|g| g.allow_deletion) {
                    return Err(policy(format!(
                        "client {} may not delete services: its client group does not allow deletion",
                        service.client_id
                    )));
                }
            }
            service.delete(now.date_naive());
            save(txn, &mut service, &listeners, now)?;
            // An order or renewal waiting for funds is not owed any more.
            forget_waiting(txn, service.id)?;
            listeners.deleted(txn, service.id, now)?;
            Ok(Changed::new(service, vec![]))
        })
        .await
    }
}

/// Days a client-suspended daily service was down, and what its daily lines
/// charged for them.
struct Downtime {
    days: u32,
    charged: Decimal,
    tariff: Tariff,
}

/// Who suspended the service, if `actor` may resume it now.
fn resumable(seen: &Service, actor: Actor) -> Result<SuspendedBy, ApiError> {
    let id = seen.id;
    let by = match (seen.status, seen.suspended_by) {
        (ServiceStatus::Suspended, Some(by)) => by,
        _ => {
            return Err(policy(format!(
                "service {id} is {}; only a suspended service can be resumed",
                status_word(seen.status)
            )));
        }
    };
    match (by, actor) {
        (SuspendedBy::Expiry, _) => Err(policy(format!(
            "service {id} was suspended because it expired unpaid: {}",
            if seen.daily {
                "it resumes by itself once the balance covers a day"
            } else {
                "renew it to resume it"
            }
        ))),
        (SuspendedBy::Provider, Actor::Client) => Err(policy(format!(
            "service {id} was suspended by the provider; a client cannot resume it"
        ))),
        _ => Ok(by),
    }
}
