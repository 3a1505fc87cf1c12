//! Reading and writing the facts billing operations rely on: one reader over
//! a read or a write transaction (checks run before the rule call and again
//! in the writer), and the one way a service is stored, with its version and
//! its expiry index.

use super::ApiError;
use super::ledger::Target;
use crate::domain::accounts::{Account, ClientGroup};
use crate::domain::service::{Service, ServiceStatus, SuspendedBy};
use crate::domain::tariff::Tariff;
use crate::store::{
    self, ACCOUNTS, CLIENT_GROUPS, SERVICES, SERVICES_BY_CLIENT, SERVICES_BY_EXPIRY,
    SERVICES_UNPAID, TARIFFS,
};
use chrono::Datelike;
use redb::{ReadableTable, WriteTransaction};

/// The tariff of a stored service. Tariffs are never deleted, so a missing
/// one is a broken store, not a bad request.
pub(super) fn service_tariff(txn: &impl Reader, service: &Service) -> Result<Tariff, ApiError> {
    txn.tariff(service.tariff_id)?
        .ok_or_else(|| ApiError::Internal(format!("tariff {} is missing", service.tariff_id)))
}

pub(super) fn service_not_found(id: u64) -> ApiError {
    ApiError::NotFound(format!("service {id} does not exist"))
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
reader!(store::View<'_>);
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

/// The expiry indexes a service can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExpiryIndex {
    /// [`SERVICES_BY_EXPIRY`]
    Main,
    /// [`SERVICES_UNPAID`]
    Unpaid,
}

impl ExpiryIndex {
    pub(super) fn table(self) -> redb::TableDefinition<'static, (i32, u64), ()> {
        match self {
            ExpiryIndex::Main => SERVICES_BY_EXPIRY,
            ExpiryIndex::Unpaid => SERVICES_UNPAID,
        }
    }
}

/// Which expiry index holds a service: none once deleted.
pub(super) fn expiry_index(service: &Service) -> Option<ExpiryIndex> {
    if service.status == ServiceStatus::Deleted {
        None
    } else if !service.daily && service.suspended_by == Some(SuspendedBy::Expiry) {
        Some(ExpiryIndex::Unpaid)
    } else {
        Some(ExpiryIndex::Main)
    }
}

/// Store a service (bumping its version: every write is a new version) and
/// keep the expiry indexes in step with it.
pub(super) fn save(txn: &WriteTransaction, service: &mut Service) -> Result<(), ApiError> {
    service.version += 1;
    let previous = txn
        .open_table(SERVICES)?
        .insert(service.id, store::encode(service).as_slice())?
        .map(|old| store::decode::<Service>("services", service.id, old.value()))
        .transpose()?;
    if let Some(old) = previous
        && let Some(index) = expiry_index(&old)
    {
        txn.open_table(index.table())?
            .remove((old.expires.num_days_from_ce(), old.id))?;
    }
    if let Some(index) = expiry_index(service) {
        txn.open_table(index.table())?
            .insert((service.expires.num_days_from_ce(), service.id), ())?;
    }
    Ok(())
}

/// The service as stored now, if it still is the version the decision saw.
pub(super) fn current(txn: &WriteTransaction, seen: &Service) -> Result<Service, ApiError> {
    match txn.service(seen.id)? {
        Some(s) if s.version == seen.version => Ok(s),
        Some(_) => Err(ApiError::Conflict(format!(
            "service {} changed while this request was being decided; try again",
            seen.id
        ))),
        None => Err(service_not_found(seen.id)),
    }
}

/// Where a decision about `service` is recorded.
pub(super) fn target(service: &Service) -> Target<'_> {
    Target {
        account_id: service.client_id,
        reseller_id: service.reseller_id,
        service_id: service.id,
        currency: &service.currency,
    }
}
