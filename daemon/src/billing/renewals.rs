//! Renewing a period service: the rule prices another period; an expired
//! (suspended) service is reactivated.

use super::model::{Changed, RenewRequest};
use super::order_policy::{check_period_on_sale, policy};
use super::requests::price_request;
use super::tables::{current, save, service_tariff, target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::pricing;
use crate::domain::ids::ServiceId;
use crate::domain::service::{ServiceStatus, SuspendedBy};
use crate::ledger::record;

impl App {
    /// Pay another period. An expired (suspended) service is reactivated;
    /// late fees or renew-from-suspension are the rule's to apply.
    pub async fn renew(
        &self,
        caller: Caller,
        id: ServiceId,
        req: RenewRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        self.decide_and_write(&idem, || self.renew_once(&caller, id, &req, idem.clone()))
            .await
    }

    async fn renew_once(
        &self,
        caller: &Caller,
        id: ServiceId,
        req: &RenewRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Changed>, ApiError> {
        let now = self.clock.now();
        let seen = self.get_service(caller, id)?;
        let tariff = service_tariff(&self.store.read()?, &seen)?;
        let spec = &tariff.spec;
        if seen.status == ServiceStatus::Deleted {
            return Err(policy(format!(
                "service {id} is deleted and cannot be renewed"
            )));
        }
        if seen.daily {
            return Err(policy(format!(
                "tariff {} charges daily: its services are paid one day at a time and are not renewed",
                spec.name
            )));
        }
        let months = req.months.unwrap_or(seen.months);
        check_period_on_sale(spec, months, now.date_naive())?;
        let request = price_request(
            pricing::Operation::Renewal,
            &spec.terms(Some(tariff.id)),
            months,
            &seen.addons,
            Some(&seen.facts()),
            now,
        );
        let (decision, priced) = self.decide_price(tariff.reseller_id, request).await?;
        self.mutate(idem, move |txn, now| {
            let mut service = current(txn, &seen)?;
            let lines = record(txn, &decision, target(&service), now)?;
            service.months = months;
            service.period_start = priced.period_start;
            service.expires = priced.expires;
            if service.suspended_by == Some(SuspendedBy::Expiry) {
                service.activate();
            }
            save(txn, &mut service)?;
            Ok(Changed { service, lines })
        })
        .await
    }
}
