//! `/v1/services`: reading services, and what the operations on them share.
//!
//! Each operation (orders.rs, renewals.rs, suspension.rs) gathers the facts
//! in a read transaction, asks the rule (off the reactor), then applies the
//! validated decision in one write transaction that re-checks the facts it
//! relied on: the order policies are checked again, and a service that
//! changed in between (its `version` moved) makes the operation start over,
//! up to [`ATTEMPTS`] times.

use super::order_policy::policy;
use super::tables::{Reader, service_not_found, service_tariff};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::accounts::ClientGroup;
use crate::domain::ids::{AccountId, ServiceId};
use crate::domain::service::{Service, ServiceStatus};
use crate::domain::tariff::Tariff;
use redb::WriteTransaction;

/// How often an operation starts over when its service changed under it.
const ATTEMPTS: usize = 3;

impl App {
    /// An operation that decides before it writes: the stored answer of a
    /// request already made with this Idempotency-Key, if any (a retry must
    /// get the first answer, not be refused because the first attempt
    /// changed the facts), else `attempt`, run again while the service
    /// changes under it, at most [`ATTEMPTS`] times.
    pub(super) async fn decide_and_write<T, F: Future<Output = Result<Written<T>, ApiError>>>(
        &self,
        idem: &Option<Idempotency>,
        mut attempt: impl FnMut() -> F,
    ) -> Result<Written<T>, ApiError> {
        if let Some(replayed) = self.replayed(idem.as_ref())? {
            return Ok(replayed);
        }
        let mut tries = 1;
        loop {
            match attempt().await {
                Err(ApiError::Conflict(_)) if tries < ATTEMPTS => tries += 1,
                other => return other,
            }
        }
    }

    pub fn get_service(&self, caller: &Caller, id: ServiceId) -> Result<Service, ApiError> {
        match self.store.read()?.service(id)? {
            Some(s) if caller.can_see(s.reseller_id) => Ok(s),
            _ => Err(service_not_found(id)),
        }
    }

    /// Services the caller may see, optionally of one client.
    pub fn list_services(
        &self,
        caller: &Caller,
        client_id: Option<AccountId>,
    ) -> Result<Vec<Service>, ApiError> {
        match client_id {
            Some(c) => {
                // An unknown client is a 404, as for its ledger and balances,
                // not an empty list that looks like an answer.
                let read = self.store.read()?;
                match read.account(c)? {
                    Some(a) if caller.sees_client(&a) => {}
                    _ => return Err(ApiError::NotFound(format!("client {c} does not exist"))),
                }
                Ok(read.client_services(c)?)
            }
            None => self.services_where(|s| caller.can_see(s.reseller_id)),
        }
    }
}

pub(super) fn status_word(s: ServiceStatus) -> &'static str {
    match s {
        ServiceStatus::Ordered => "ordered",
        ServiceStatus::Active => "active",
        ServiceStatus::Suspended => "suspended",
        ServiceStatus::Deleted => "deleted",
    }
}

pub(super) fn visible(
    txn: &WriteTransaction,
    caller: &Caller,
    id: ServiceId,
) -> Result<Service, ApiError> {
    match txn.service(id)? {
        Some(s) if caller.can_see(s.reseller_id) => Ok(s),
        _ => Err(service_not_found(id)),
    }
}

pub(super) fn client_group(
    txn: &impl Reader,
    service: &Service,
) -> Result<Option<ClientGroup>, ApiError> {
    match txn.account(service.client_id)?.and_then(|c| c.group_id) {
        Some(g) => txn.group(g),
        None => Ok(None),
    }
}

/// A client may suspend and resume a service itself if the tariff (daily
/// charging with client suspend) or its client group allows it.
pub(super) fn client_may_suspend(
    txn: &WriteTransaction,
    service: &Service,
) -> Result<(), ApiError> {
    let tariff = service_tariff(txn, service)?;
    client_may_suspend_with(txn, &tariff, service)
}

pub(super) fn client_may_suspend_with(
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
