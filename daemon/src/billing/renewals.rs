//! Renewing a period service: the rule prices another period; an expired
//! (suspended) service is reactivated. A renewal the client's balance and
//! credit limit do not cover waits for funds (funds.rs).

use super::funds::{can_charge, wait};
use super::model::{Changed, RenewRequest, Waiting};
use super::order_policy::{check_period_on_sale, policy};
use super::requests::price_request;
use super::tables::{current, save, service_tariff, target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::pricing;
use crate::domain::ids::{ServiceId, TariffId};
use crate::domain::ledger::Cause;
use crate::domain::service::ServiceStatus;
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
        // The tariff the renewal is asked for on: it is not retried onto
        // another one (see renew_once).
        let first_tariff = self.get_service(&caller, id)?.tariff_id;
        self.decide_and_write(&idem, || {
            self.renew_once(&caller, id, &req, first_tariff, idem.clone())
        })
        .await
    }

    async fn renew_once(
        &self,
        caller: &Caller,
        id: ServiceId,
        req: &RenewRequest,
        first_tariff: TariffId,
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
        let limit = self.options.credit_limit;
        let listeners = self.listeners.clone();
        self.mutate(idem, move |txn, now| {
            let mut service = current(txn, &seen)?;
            if service.tariff_id != first_tariff {
                // A tariff change won the race: this renewal was asked for
                // (and maybe quoted) on the other tariff.
                return Err(ApiError::Conflict(format!(
                    "service {id} changed tariff while this renewal was being decided; renew it again on its new tariff"
                )));
            }
            if !can_charge(txn, &service, priced.total, limit)? {
                let waiting = wait(txn, &service, Waiting::Renewal { months }, priced.total, now)?;
                return Ok(Changed {
                    service,
                    lines: vec![],
                    waiting: Some(waiting),
                });
            }
            let lines = record(txn, &decision, target(&service, Cause::Renewal, &listeners), now)?;
            service.renew(months, priced.period_start, priced.expires);
            save(txn, &mut service, &listeners, now)?;
            Ok(Changed::new(service, lines))
        })
        .await
    }
}
