//! `/v1/services`: order, renew, suspend, resume, delete.
//!
//! Each operation gathers the facts in a read transaction, asks the rule
//! (off the reactor), then applies the validated decision in one write
//! transaction that re-checks the facts it relied on: the order policies are
//! checked again, and a service that changed in between (its `version` moved)
//! makes the operation start over, up to [`ATTEMPTS`] times.

use super::ledger::{Decision, Target, balance_in, record};
use super::pricing::{instant, price_request};
use super::tariffs::tariff_in;
use super::{ApiError, App, Caller, Idempotency, Reply};
use crate::domain::accounts::{Account, AccountKind, ClientGroup};
use crate::domain::decision::Priced;
use crate::domain::invalid::{check_text, invalid};
use crate::domain::ledger::{LedgerEntry, LineKind};
use crate::domain::service::{Service, ServiceStatus, SuspendedBy};
use crate::domain::tariff::{self, AddonQuantity, MinimumPeriod, PeriodUnit, Tariff, TariffSpec};
use crate::runtime::bindings::{pricing, proration};
use crate::store::{
    self, ACCOUNTS, CLIENT_GROUPS, LEDGER, LEDGER_BY_ACCOUNT, SERVICES, SERVICES_BY_CLIENT,
    SERVICES_BY_EXPIRY, TARIFFS,
};
use chrono::{Datelike, NaiveDate, NaiveTime};
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

fn policy(message: String) -> ApiError {
    ApiError::Policy(message)
}

fn service_not_found(id: u64) -> ApiError {
    ApiError::NotFound(format!("service {id} does not exist"))
}

fn period_words(months: u32) -> String {
    match months {
        1 => "1-month".into(),
        12 => "1-year".into(),
        36 => "3-year".into(),
        m => format!("{m}-month"),
    }
}

/// The addon quantities of an order: requested ones checked against the
/// tariff's minimum and maximum, omitted ones at their included quantity.
pub(crate) fn order_addons(
    spec: &TariffSpec,
    requested: &[AddonQuantity],
) -> Result<Vec<AddonQuantity>, ApiError> {
    tariff::check_addons("addons", requested)?;
    if let Some(unknown) = requested
        .iter()
        .find(|r| !spec.addons.iter().any(|a| a.resource == r.resource))
    {
        return Err(policy(format!(
            "tariff {} has no addon {:?}",
            spec.name, unknown.resource
        )));
    }
    spec.addons
        .iter()
        .map(|a| {
            let quantity = requested
                .iter()
                .find(|r| r.resource == a.resource)
                .map_or(a.included.max(a.minimum), |r| r.quantity);
            if quantity < a.minimum || quantity > a.maximum {
                return Err(policy(format!(
                    "tariff {} allows {} {} between {} and {} {}",
                    spec.name, a.resource, "quantities", a.minimum, a.maximum, a.unit
                )));
            }
            Ok(AddonQuantity {
                resource: a.resource.clone(),
                quantity,
            })
        })
        .collect()
}

/// A period length the tariff sells now: priced, not disabled, tariff not ended.
pub(crate) fn check_period_on_sale(
    spec: &TariffSpec,
    months: u32,
    today: NaiveDate,
) -> Result<(), ApiError> {
    tariff::check_period("months", months)?;
    if let Some(end) = spec.end_date
        && today > end
    {
        return Err(policy(format!(
            "tariff {} ended on {end}: it can no longer be ordered or renewed",
            spec.name
        )));
    }
    if !spec.sells(months) {
        return Err(policy(format!(
            "tariff {} does not sell {} periods",
            spec.name,
            period_words(months)
        )));
    }
    Ok(())
}

pub(crate) fn check_enabled(spec: &TariffSpec) -> Result<(), ApiError> {
    if spec.enabled {
        Ok(())
    } else {
        Err(policy(format!(
            "tariff {} is disabled: it takes no orders",
            spec.name
        )))
    }
}

/// The facts an order's policies are checked against.
struct OrderFacts {
    tariff: Tariff,
    client: Account,
    group: Option<ClientGroup>,
    /// The client's services of this tariff that are not deleted (counted
    /// only when the tariff limits them).
    existing: u32,
}

/// Every policy of the tariff an order must satisfy. Pure: called before the
/// rule (to refuse early) and again in the write transaction (the facts may
/// have changed).
fn check_order(
    facts: &OrderFacts,
    req: &OrderRequest,
    today: NaiveDate,
) -> Result<Vec<AddonQuantity>, ApiError> {
    let spec = &facts.tariff.spec;
    let name = &spec.name;
    if !spec.enabled {
        return Err(policy(format!(
            "tariff {name} is disabled: it takes no orders"
        )));
    }
    check_period_on_sale(spec, req.months, today)?;
    if let Some(MinimumPeriod { length, unit }) = spec.minimum_period {
        let (have, words) = match unit {
            PeriodUnit::Months => (req.months, "month(s)"),
            PeriodUnit::Days => {
                let end = today
                    .checked_add_months(chrono::Months::new(req.months))
                    .unwrap_or(NaiveDate::MAX);
                ((end - today).num_days() as u32, "day(s)")
            }
        };
        if have < length {
            return Err(policy(format!(
                "tariff {name} has a minimum order period of {length} {words}"
            )));
        }
    }
    let group = facts.group.as_ref().map(|g| g.id);
    let allowed = &spec.client_groups.allowed;
    if (!allowed.is_empty() && group.is_none_or(|g| !allowed.contains(&g)))
        || group.is_some_and(|g| spec.client_groups.forbidden.contains(&g))
    {
        return Err(policy(format!(
            "tariff {name} is not available to {}",
            match group {
                Some(g) => format!("client group {g}"),
                None => "clients outside its allowed client groups".into(),
            }
        )));
    }
    if req.count == 0 {
        return Err(invalid("count", "order at least one service").into());
    }
    match spec.simultaneous_orders {
        None if req.count > 1 => {
            return Err(policy(format!(
                "tariff {name} allows one service per order"
            )));
        }
        Some(max) if req.count > max => {
            return Err(policy(format!(
                "tariff {name} allows at most {max} services per order"
            )));
        }
        _ => {}
    }
    let ignore_limit = facts.group.as_ref().is_some_and(|g| g.ignore_service_limit);
    if let Some(limit) = spec.services_per_client
        && !ignore_limit
        && facts.existing + req.count > limit
    {
        return Err(policy(format!(
            "tariff {name} allows at most {limit} service(s) per client; client {} has {}",
            facts.client.id, facts.existing
        )));
    }
    order_addons(spec, &req.addons)
}

/// Read the facts of an order, in whichever transaction.
fn order_facts(
    txn: &impl Reader,
    caller: &Caller,
    req: &OrderRequest,
) -> Result<OrderFacts, ApiError> {
    let client = match txn.account(req.client_id)? {
        Some(a) if a.kind == AccountKind::Client && caller.can_see(a.reseller_id) => a,
        _ => {
            return Err(ApiError::NotFound(format!(
                "client {} does not exist",
                req.client_id
            )));
        }
    };
    let tariff = match txn.tariff(req.tariff_id)? {
        // A client orders its seller's tariffs: the provider's clients the
        // provider's, a reseller's clients that reseller's retail plans.
        Some(t) if t.reseller_id == client.reseller_id => t,
        _ => {
            return Err(ApiError::NotFound(format!(
                "tariff {} does not exist for client {}",
                req.tariff_id, client.id
            )));
        }
    };
    let group = match client.group_id {
        Some(g) => txn.group(g)?,
        None => None,
    };
    // Counting means reading every service of the client: only for a limit.
    let existing = match tariff.spec.services_per_client {
        Some(_) => txn
            .client_services(client.id)?
            .iter()
            .filter(|s| s.tariff_id == tariff.id && s.status != ServiceStatus::Deleted)
            .count() as u32,
        None => 0,
    };
    Ok(OrderFacts {
        tariff,
        client,
        group,
        existing,
    })
}

/// Reads the order and service code needs, from a read or a write transaction.
pub(crate) trait Reader {
    fn account(&self, id: u64) -> Result<Option<Account>, ApiError>;
    fn tariff(&self, id: u64) -> Result<Option<Tariff>, ApiError>;
    fn group(&self, id: u64) -> Result<Option<ClientGroup>, ApiError>;
    fn service(&self, id: u64) -> Result<Option<Service>, ApiError>;
    fn client_services(&self, client: u64) -> Result<Vec<Service>, ApiError>;
}

macro_rules! reader {
    ($txn:ty) => {
        impl Reader for $txn {
            fn account(&self, id: u64) -> Result<Option<Account>, ApiError> {
                get(self.open_table(ACCOUNTS), "accounts", id)
            }
            fn tariff(&self, id: u64) -> Result<Option<Tariff>, ApiError> {
                get(self.open_table(TARIFFS), "tariffs", id)
            }
            fn group(&self, id: u64) -> Result<Option<ClientGroup>, ApiError> {
                get(self.open_table(CLIENT_GROUPS), "client_groups", id)
            }
            fn service(&self, id: u64) -> Result<Option<Service>, ApiError> {
                get(self.open_table(SERVICES), "services", id)
            }
            fn client_services(&self, client: u64) -> Result<Vec<Service>, ApiError> {
                let index = match self.open_table(SERVICES_BY_CLIENT) {
                    Ok(t) => t,
                    Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![]),
                    Err(e) => return Err(e.into()),
                };
                let mut out = Vec::new();
                for key in index.range((client, 0)..=(client, u64::MAX))? {
                    let id = key?.0.value().1;
                    if let Some(s) = self.service(id)? {
                        out.push(s);
                    }
                }
                Ok(out)
            }
        }
    };
}
reader!(redb::ReadTransaction);
reader!(WriteTransaction);

fn get<T: serde::de::DeserializeOwned, Tbl: ReadableTable<u64, &'static [u8]>>(
    table: Result<Tbl, redb::TableError>,
    name: &'static str,
    id: u64,
) -> Result<Option<T>, ApiError> {
    match table {
        Ok(t) => Ok(store::get_json(&t, name, id)?),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Store a service (bumping its version: every write is a new version) and
/// keep the expiry index in step with it.
fn save(txn: &WriteTransaction, service: &mut Service) -> Result<(), ApiError> {
    service.version += 1;
    let previous = txn
        .open_table(SERVICES)?
        .insert(service.id, store::encode(service).as_slice())?
        .map(|old| store::decode::<Service>("services", service.id, old.value()))
        .transpose()?;
    let mut by_expiry = txn.open_table(SERVICES_BY_EXPIRY)?;
    if let Some(old) = previous {
        by_expiry.remove((old.expires.num_days_from_ce(), old.id))?;
    }
    if service.status != ServiceStatus::Deleted {
        by_expiry.insert((service.expires.num_days_from_ce(), service.id), ())?;
    }
    Ok(())
}

/// The service as stored now, if it still is the version the decision saw.
fn current(txn: &WriteTransaction, seen: &Service) -> Result<Service, ApiError> {
    match txn.service(seen.id)? {
        Some(s) if s.version == seen.version => Ok(s),
        Some(_) => Err(ApiError::Conflict(format!(
            "service {} changed while this request was being decided; try again",
            seen.id
        ))),
        None => Err(service_not_found(seen.id)),
    }
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

fn target(service: &Service) -> Target<'_> {
    Target {
        account_id: service.client_id,
        reseller_id: service.reseller_id,
        service_id: service.id,
        currency: &service.currency,
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
            Some(c) => Ok(self
                .store
                .read()?
                .client_services(c)?
                .into_iter()
                .filter(|s| caller.can_see(s.reseller_id))
                .collect()),
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
            check_text("domain", d, 253)?;
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
        let (decision, priced) = self.decide_price(facts.tariff.reseller_id, request).await?;
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
        let tariff =
            self.store.read()?.tariff(seen.tariff_id)?.ok_or_else(|| {
                ApiError::Internal(format!("tariff {} is missing", seen.tariff_id))
            })?;
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
        let read = self.store.read()?;
        let tariff = read
            .tariff(seen.tariff_id)?
            .ok_or_else(|| ApiError::Internal(format!("tariff {} is missing", seen.tariff_id)))?;
        if req.by == Actor::Client {
            client_may_suspend_with(&read, &tariff, &seen)?;
        }
        let downtime = match (by, seen.daily, seen.suspended_at) {
            (SuspendedBy::Client, true, Some(since)) => {
                let days = (now.date_naive() - since).num_days().max(0) as u32;
                let charged = daily_charged_since(&read, &seen, since)?;
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
                Some(self.decide_proration(tariff.reseller_id, request).await?)
            }
            _ => None,
        };
        drop(read);
        self.mutate(idem, 200, move |txn, now| {
            let mut service = current(txn, &seen)?;
            let lines = match &downtime {
                Some(d) => record(txn, d, target(&service), now)?,
                None => vec![],
            };
            service.activate();
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
    let tariff = tariff_in(txn, service.tariff_id)?
        .ok_or_else(|| ApiError::Internal(format!("tariff {} is missing", service.tariff_id)))?;
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
fn daily_charged_since(
    read: &redb::ReadTransaction,
    service: &Service,
    since: NaiveDate,
) -> Result<Decimal, ApiError> {
    let index = read.open_table(LEDGER_BY_ACCOUNT)?;
    let ledger = read.open_table(LEDGER)?;
    let mut sum = Decimal::ZERO;
    for key in index.range((service.client_id, 0)..=(service.client_id, u64::MAX))? {
        let id = key?.0.value().1;
        if let Some(e) = store::get_json::<LedgerEntry>(&ledger, "ledger", id)?
            && e.service_id == Some(service.id)
            && e.line.kind == LineKind::Daily
            && e.line.period_start.is_some_and(|d| d > since)
        {
            sum += e.line.amount;
        }
    }
    Ok(sum)
}

/// The decision time of the daily job for `day`: its first instant.
pub(crate) fn start_of(day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Apply a daily price decision to a service inside the daily job's
/// transaction: charge the day if the balance covers it (or the service is
/// client-suspended, or it is a weekend the tariff does not suspend on),
/// otherwise suspend it as unpaid.
pub(crate) fn apply_day(
    txn: &WriteTransaction,
    seen: &Service,
    decision: &Decision,
    priced: &Priced,
    keep_on_unpaid: bool,
    now: chrono::DateTime<chrono::Utc>,
    day: NaiveDate,
) -> Result<DayOutcome, ApiError> {
    let mut service = current(txn, seen)?;
    let balance = balance_in(txn, service.client_id, &service.currency)?;
    let client_suspended = service.suspended_by == Some(SuspendedBy::Client);
    let outcome = if balance.balance >= priced.total || client_suspended || keep_on_unpaid {
        record(txn, decision, target(&service), now)?;
        service.period_start = priced.period_start;
        service.expires = priced.expires;
        if service.suspended_by == Some(SuspendedBy::Expiry) {
            service.activate();
            DayOutcome::Reactivated
        } else {
            DayOutcome::Charged
        }
    } else if service.status == ServiceStatus::Active {
        service.suspend(SuspendedBy::Expiry, day);
        DayOutcome::Suspended
    } else {
        return Ok(DayOutcome::Unchanged);
    };
    save(txn, &mut service)?;
    Ok(outcome)
}

/// What the daily job did to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayOutcome {
    Charged,
    Reactivated,
    Suspended,
    Deleted,
    Unchanged,
}

/// Suspend an expired period service or delete a long-expired one, in the
/// daily job's transaction.
pub(crate) fn apply_expiry(
    txn: &WriteTransaction,
    seen: &Service,
    outcome: DayOutcome,
    day: NaiveDate,
) -> Result<DayOutcome, ApiError> {
    let mut service = current(txn, seen)?;
    match outcome {
        DayOutcome::Suspended => service.suspend(SuspendedBy::Expiry, day),
        DayOutcome::Deleted => {
            service.status = ServiceStatus::Deleted;
            service.deleted_at = Some(day);
        }
        _ => return Ok(DayOutcome::Unchanged),
    }
    save(txn, &mut service)?;
    Ok(outcome)
}
