//! `/v1/services`: order, renew, suspend, resume, delete.
//!
//! Each operation gathers the facts in a read transaction, asks the rule
//! (off the reactor), then applies the validated decision in one write
//! transaction that re-checks the facts it relied on: the order policies are
//! checked again, and a service that changed in between (its `version` moved)
//! makes the operation start over, up to [`ATTEMPTS`] times.

use super::facts::{Reader, current, save, service_not_found, service_tariff, target};
use super::order_policy::{check_order, check_period_on_sale, order_facts, policy};
use super::requests::{instant, price_request};
use crate::app::{ApiError, App, Caller, Idempotency, Reply};
use crate::contract::bindings::{pricing, proration};
use crate::domain::accounts::{AccountKind, ClientGroup};
use crate::domain::ids::AccountId;
use crate::domain::ledger::{LedgerEntry, LineKind};
use crate::domain::service::{Service, ServiceStatus, SuspendedBy, check_domain};
use crate::domain::tariff::{self, AddonQuantity, Tariff};
use crate::ledger::record;
use crate::store::{self, LEDGER, LEDGER_BY_ACCOUNT, SERVICES, SERVICES_BY_CLIENT};
use chrono::NaiveDate;
use redb::{ReadableTable, WriteTransaction};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How often an operation starts over when its service changed under it.
const ATTEMPTS: usize = 3;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub client_id: u64,
    pub tariff_id: u64,
    /// Period length in months: 1, 3, 12 or 36 (for daily charging: the
    /// order period the day price is derived from).
    pub months: u32,
    /// Addon quantities; omitted addons get their included quantity (or the
    /// minimum, if higher).
    #[serde(default)]
    pub addons: Vec<AddonQuantity>,
    /// The service's domain; default from the tariff's domain template.
    #[serde(default)]
    pub domain: Option<String>,
    /// How many services to order at once (the tariff's simultaneous order limit applies).
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// The result of an order: the services and the ledger lines recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ordered {
    pub services: Vec<Service>,
    pub lines: Vec<LedgerEntry>,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "15.00")]
    pub total: Decimal,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// Period length in months; default: the service's current period.
    #[serde(default)]
    pub months: Option<u32>,
}

/// Who asks for a suspension, resumption or deletion. API keys belong to the
/// provider and resellers; `client` means they act on the client's request,
/// so the client's permissions apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    #[default]
    Provider,
    Client,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    #[serde(default)]
    pub by: Actor,
}

/// A service after an operation, with the lines it recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Changed {
    pub service: Service,
    pub lines: Vec<LedgerEntry>,
}

/// Run an operation again while the service changes under it, at most
/// [`ATTEMPTS`] times.
async fn retry_on_conflict<F: Future<Output = Result<Reply, ApiError>>>(
    mut attempt: impl FnMut() -> F,
) -> Result<Reply, ApiError> {
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(ApiError::Conflict(_)) if tries < ATTEMPTS => tries += 1,
            other => return other,
        }
    }
}

impl App {
    pub fn get_service(&self, caller: &Caller, id: u64) -> Result<Service, ApiError> {
        match self.store.read()?.service(id)? {
            Some(s) if caller.can_see(s.reseller_id) => Ok(s),
            _ => Err(service_not_found(id)),
        }
    }

    /// Services the caller may see, optionally of one client.
    pub fn list_services(
        &self,
        caller: &Caller,
        client_id: Option<u64>,
    ) -> Result<Vec<Service>, ApiError> {
        match client_id {
            Some(c) => {
                // An unknown client is a 404, as for its ledger and balances,
                // not an empty list that looks like an answer.
                let read = self.store.read()?;
                match read.account(c)? {
                    Some(a) if a.kind == AccountKind::Client && caller.can_see(a.reseller_id) => {}
                    _ => return Err(ApiError::NotFound(format!("client {c} does not exist"))),
                }
                Ok(read.client_services(c)?)
            }
            None => self.read_all(SERVICES, "services", |s: &Service| {
                caller.can_see(s.reseller_id)
            }),
        }
    }

    /// Order one or more services: every tariff policy is checked, the rule
    /// prices the order, and services, lines and receipts are written together.
    pub async fn order(
        &self,
        caller: Caller,
        req: OrderRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        if let Some(d) = &req.domain {
            check_domain("domain", d)?;
        }
        if let Some(reply) = self.stored_reply(idem.as_ref())? {
            return Ok(reply);
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
        let (decision, priced) = self
            .decide_price(facts.tariff.reseller_id.map(AccountId), request)
            .await?;
        self.mutate(idem, 201, move |txn, now| {
            let facts = order_facts(txn, &caller, &req)?;
            let addons = check_order(&facts, &req, now.date_naive())?;
            let spec = &facts.tariff.spec;
            let mut ordered = Ordered {
                services: vec![],
                lines: vec![],
                total: Decimal::ZERO,
            };
            for _ in 0..req.count {
                let id = store::next_id(txn, "services")?;
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
                let mut service = Service {
                    id,
                    client_id: facts.client.id,
                    reseller_id: facts.client.reseller_id,
                    tariff_id: facts.tariff.id,
                    status: ServiceStatus::Active,
                    months: req.months,
                    addons: addons.clone(),
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
                };
                save(txn, &mut service)?;
                txn.open_table(SERVICES_BY_CLIENT)?
                    .insert((service.client_id, service.id), ())?;
                ordered
                    .lines
                    .extend(record(txn, &decision, target(&service), now)?);
                ordered.total += priced.total;
                ordered.services.push(service);
            }
            Ok(ordered)
        })
        .await
    }

    /// Pay another period. An expired (suspended) service is reactivated;
    /// late fees or renew-from-suspension are the rule's to apply.
    pub async fn renew(
        &self,
        caller: Caller,
        id: u64,
        req: RenewRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        retry_on_conflict(|| self.renew_once(&caller, id, &req, idem.clone())).await
    }

    async fn renew_once(
        &self,
        caller: &Caller,
        id: u64,
        req: &RenewRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        if let Some(reply) = self.stored_reply(idem.as_ref())? {
            return Ok(reply);
        }
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
        let (decision, priced) = self
            .decide_price(tariff.reseller_id.map(AccountId), request)
            .await?;
        self.mutate(idem, 200, move |txn, now| {
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

    /// Suspend an active service, administratively or on the client's request.
    pub async fn suspend(
        &self,
        caller: Caller,
        id: u64,
        req: ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        self.mutate(idem, 200, move |txn, now| {
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
            save(txn, &mut service)?;
            Ok(Changed {
                service,
                lines: vec![],
            })
        })
        .await
    }

    /// Resume a suspended service. Resuming a daily service the client had
    /// suspended asks the proration rule about the downtime (refund or not).
    pub async fn resume(
        &self,
        caller: Caller,
        id: u64,
        req: ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        retry_on_conflict(|| self.resume_once(&caller, id, &req, idem.clone())).await
    }

    async fn resume_once(
        &self,
        caller: &Caller,
        id: u64,
        req: &ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        if let Some(reply) = self.stored_reply(idem.as_ref())? {
            return Ok(reply);
        }
        let now = self.clock.now();
        let seen = self.get_service(caller, id)?;
        let by = match (seen.status, seen.suspended_by) {
            (ServiceStatus::Suspended, Some(by)) => by,
            _ => {
                return Err(policy(format!(
                    "service {id} is {}; only a suspended service can be resumed",
                    status_word(seen.status)
                )));
            }
        };
        match (by, req.by) {
            (SuspendedBy::Expiry, _) => {
                return Err(policy(format!(
                    "service {id} was suspended because it expired unpaid: {}",
                    if seen.daily {
                        "it resumes by itself once the balance covers a day"
                    } else {
                        "renew it to resume it"
                    }
                )));
            }
            (SuspendedBy::Provider, Actor::Client) => {
                return Err(policy(format!(
                    "service {id} was suspended by the provider; a client cannot resume it"
                )));
            }
            _ => {}
        }
        // The facts are read first and the view let go before the rule call
        // (a scratch store's view holds its session).
        let (tariff, downtime) = {
            let read = self.store.read()?;
            let tariff = service_tariff(&read, &seen)?;
            if req.by == Actor::Client {
                client_may_suspend_with(&read, &tariff, &seen)?;
            }
            // The downtime is the days wholly inside the suspension: the
            // suspension day and the resume day were partly in use, and
            // are paid like any day the service was up.
            let today = now.date_naive();
            let downtime = match (by, seen.daily, seen.suspended_at) {
                (SuspendedBy::Client, true, Some(since)) => Some((
                    ((today - since).num_days() - 1).max(0) as u32,
                    daily_charged_between(&read, &seen, since, today)?,
                )),
                _ => None,
            };
            (tariff, downtime)
        };
        let downtime = match downtime {
            Some((days, charged)) => {
                let request = proration::ProrationRequest {
                    event: proration::Event::Downtime(proration::Downtime {
                        days,
                        charged: charged.to_string(),
                    }),
                    tariff: tariff.spec.terms(Some(tariff.id)).to_wit(),
                    service: seen.facts().to_wit(),
                    addon_policy: match tariff.spec.addon_order_policy {
                        tariff::AddonOrderPolicy::ProratedToExpiry => {
                            proration::AddonOrderPolicy::ProratedToExpiry
                        }
                        tariff::AddonOrderPolicy::FullPeriod => {
                            proration::AddonOrderPolicy::FullPeriod
                        }
                    },
                    at: instant(now),
                };
                Some(
                    self.decide_proration(tariff.reseller_id.map(AccountId), request)
                        .await?,
                )
            }
            None => None,
        };
        self.mutate(idem, 200, move |txn, now| {
            let mut service = current(txn, &seen)?;
            let lines = match &downtime {
                Some(d) => record(txn, d, target(&service), now)?,
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
            save(txn, &mut service)?;
            Ok(Changed { service, lines })
        })
        .await
    }

    /// Delete a service (final). A client may delete only if its group allows it.
    pub async fn delete_service(
        &self,
        caller: Caller,
        id: u64,
        req: ActRequest,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        self.mutate(idem, 200, move |txn, now| {
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
            service.status = ServiceStatus::Deleted;
            service.deleted_at = Some(now.date_naive());
            save(txn, &mut service)?;
            Ok(Changed {
                service,
                lines: vec![],
            })
        })
        .await
    }
}

fn status_word(s: ServiceStatus) -> &'static str {
    match s {
        ServiceStatus::Ordered => "ordered",
        ServiceStatus::Active => "active",
        ServiceStatus::Suspended => "suspended",
        ServiceStatus::Deleted => "deleted",
    }
}

fn visible(txn: &WriteTransaction, caller: &Caller, id: u64) -> Result<Service, ApiError> {
    match txn.service(id)? {
        Some(s) if caller.can_see(s.reseller_id) => Ok(s),
        _ => Err(service_not_found(id)),
    }
}

fn client_group(txn: &impl Reader, service: &Service) -> Result<Option<ClientGroup>, ApiError> {
    match txn.account(service.client_id)?.and_then(|c| c.group_id) {
        Some(g) => txn.group(g),
        None => Ok(None),
    }
}

/// A client may suspend and resume a service itself if the tariff (daily
/// charging with client suspend) or its client group allows it.
fn client_may_suspend(txn: &WriteTransaction, service: &Service) -> Result<(), ApiError> {
    let tariff = service_tariff(txn, service)?;
    client_may_suspend_with(txn, &tariff, service)
}

fn client_may_suspend_with(
    txn: &impl Reader,
    tariff: &Tariff,
    service: &Service,
) -> Result<(), ApiError> {
    let by_tariff = tariff.spec.daily.as_ref().is_some_and(|d| d.client_suspend);
    let by_group = client_group(txn, service)?.is_some_and(|g| g.allow_suspend_resume);
    if by_tariff || by_group {
        Ok(())
    } else {
        Err(policy(format!(
            "tariff {} does not let clients suspend or resume their services",
            tariff.spec.name
        )))
    }
}

/// The daily lines recorded for a service for the days after `since` (the
/// day of the suspension was paid before it).
/// The daily charges of `service` for the days strictly between `from` and
/// `to`.
fn daily_charged_between(
    read: &store::View<'_>,
    service: &Service,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Decimal, ApiError> {
    let index = read.open_table(LEDGER_BY_ACCOUNT)?;
    let ledger = read.open_table(LEDGER)?;
    let mut sum = Decimal::ZERO;
    for key in index.range((service.client_id, 0)..=(service.client_id, u64::MAX))? {
        let id = key?.0.value().1;
        if let Some(e) = store::get_json::<LedgerEntry>(&ledger, "ledger", id)?
            && e.service_id == Some(service.id)
            && e.line.kind == LineKind::Daily
            && e.line.period_start.is_some_and(|d| from < d && d < to)
        {
            sum += e.line.amount;
        }
    }
    Ok(sum)
}
