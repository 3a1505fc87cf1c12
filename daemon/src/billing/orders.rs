//! Ordering services: every tariff policy is checked, the rule prices the
//! order, and services, lines and receipts are written together.

use super::funds::{can_charge, wait};
use super::model::{OrderRequest, Ordered, Waiting};
use super::order_policy::{OrderFacts, check_order, order_facts};
use super::requests::price_request;
use super::tables::{insert_service, next_service_id, order_target};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::contract::bindings::pricing;
use crate::domain::ids::ServiceId;
use crate::domain::ledger::Priced;
use crate::domain::money;
use crate::domain::service::{Service, ServiceStatus, check_domain};
use crate::domain::tariff::{self, AddonQuantity};
use crate::ledger::record;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

impl App {
    /// Order one or more services: every tariff policy is checked, the rule
    /// prices the order, and services, lines and receipts are written together.
    pub async fn order(
        &self,
        caller: Caller,
        req: OrderRequest,
        idem: Option<Idempotency>,
    ) -> Result<Written<Ordered>, ApiError> {
        if let Some(d) = &req.domain {
            check_domain("domain", d)?;
        }
        if let Some(replayed) = self.replayed(idem.as_ref())? {
            return Ok(replayed);
        }
        let now = self.clock.now();
        let today = now.date_naive();
        let facts = order_facts(&self.store.read()?, &caller, &req)?;
        let addons = check_order(&facts, &req, today)?;
        let spec = &facts.tariff.spec;
        let request = price_request(
            pricing::Operation::Order,
            &spec.terms(Some(facts.tariff.id)),
            req.months,
            &addons,
            None,
            now,
        );
        let (decision, priced) = self.decide_price(facts.tariff.reseller_id, request).await?;
        let limit = self.options.credit_limit;
        let listeners = self.listeners.clone();
        self.mutate(idem, move |txn, now| {
            let facts = order_facts(txn, &caller, &req)?;
            let addons = check_order(&facts, &req, now.date_naive())?;
            let mut ordered = Ordered {
                services: vec![],
                lines: vec![],
                // "0.00" EUR when every service waits for funds.
                total: money::in_minor_units(Decimal::ZERO, &facts.tariff.spec.currency),
                waiting: vec![],
            };
            for _ in 0..req.count {
                let id = next_service_id(txn)?;
                let mut service = new_service(id, &facts, &req, &addons, &priced, now);
                if can_charge(txn, &service, priced.total, limit)? {
                    insert_service(txn, &mut service, &listeners, now)?;
                    ordered.lines.extend(record(
                        txn,
                        &decision,
                        order_target(&service, &listeners),
                        now,
                    )?);
                    ordered.total += priced.total;
                } else {
                    // Not paid: it starts when funds arrive (funds.rs), for
                    // a period priced then. Until then it has no paid time.
                    service.status = ServiceStatus::Ordered;
                    service.period_start = now.date_naive();
                    service.expires = service.period_start;
                    insert_service(txn, &mut service, &listeners, now)?;
                    let waiting = wait(txn, &service, Waiting::Order, priced.total, now)?;
                    ordered.waiting.push(waiting);
                }
                ordered.services.push(service);
            }
            Ok(ordered)
        })
        .await
    }
}

/// The service record an order creates, before it is saved.
fn new_service(
    id: ServiceId,
    facts: &OrderFacts,
    req: &OrderRequest,
    addons: &[AddonQuantity],
    priced: &Priced,
    now: DateTime<Utc>,
) -> Service {
    let spec = &facts.tariff.spec;
    let username = tariff::username(
        &spec.username_template,
        &facts.client.name,
        facts.client.id,
        id,
        req.domain.as_deref(),
    );
    let domain = req.domain.clone().unwrap_or_else(|| {
        tariff::domain(&spec.domain_template, &username, &spec.product_type, id)
    });
    Service {
        id,
        client_id: facts.client.id,
        reseller_id: facts.client.reseller_id,
        tariff_id: facts.tariff.id,
        status: ServiceStatus::Active,
        months: req.months,
        addons: addons.to_vec(),
        username,
        domain,
        currency: spec.currency.clone(),
        daily: spec.daily.is_some(),
        period_start: priced.period_start,
        expires: priced.expires,
        suspended_at: None,
        suspended_by: None,
        deleted_at: None,
        created_at: now,
        version: 0,
        primary_ip: None,
    }
}
