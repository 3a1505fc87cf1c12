//! Reading and writing the facts billing operations rely on: one reader over
//! a read or a write transaction (checks run before the rule call and again
//! in the writer), and the one way a service is stored, with its version and
//! its expiry index.

use crate::app::ApiError;
use crate::domain::accounts::{Account, ClientGroup};
use crate::domain::ids::{AccountId, GroupId, ServiceId, TariffId};
use crate::domain::service::expiry_index;
use crate::domain::service::{Service, ServiceStatus, SuspendedBy};
use crate::domain::tariff::Tariff;
use crate::ledger::Target;
use crate::store::decoded::decode_tariff;
use crate::store::{
    self, ACCOUNTS, CLIENT_GROUPS, SERVICES, SERVICES_BY_CLIENT, TARIFFS, expiry_table,
};
use chrono::Datelike;
use redb::{ReadableTable, WriteTransaction};

/// The tariff of a stored service. Tariffs are never deleted, so a missing
/// one is a broken store, not a bad request.
pub(super) fn service_tariff(txn: &impl Reader, service: &Service) -> Result<Tariff, ApiError> {
    txn.tariff(service.tariff_id)?
        .ok_or_else(|| ApiError::Internal(format!("tariff {} is missing", service.tariff_id)))
}

pub(super) fn service_not_found(id: ServiceId) -> ApiError {
    ApiError::NotFound(format!("service {id} does not exist"))
}

/// Reads the order and service code needs, from a read or a write transaction.
pub(crate) trait Reader {
    fn account(&self, id: AccountId) -> Result<Option<Account>, ApiError>;
    fn tariff(&self, id: TariffId) -> Result<Option<Tariff>, ApiError>;
    fn group(&self, id: GroupId) -> Result<Option<ClientGroup>, ApiError>;
    fn service(&self, id: ServiceId) -> Result<Option<Service>, ApiError>;
    fn client_services(&self, client: AccountId) -> Result<Vec<Service>, ApiError>;
}

macro_rules! reader {
    ($txn:ty) => {
        impl Reader for $txn {
            fn account(&self, id: AccountId) -> Result<Option<Account>, ApiError> {
                get(self.open_table(ACCOUNTS), ACCOUNTS, id)
            }
            fn tariff(&self, id: TariffId) -> Result<Option<Tariff>, ApiError> {
                get_with(self.open_table(TARIFFS), id, decode_tariff)
            }
            fn group(&self, id: GroupId) -> Result<Option<ClientGroup>, ApiError> {
                get(self.open_table(CLIENT_GROUPS), CLIENT_GROUPS, id)
            }
            fn service(&self, id: ServiceId) -> Result<Option<Service>, ApiError> {
                get(self.open_table(SERVICES), SERVICES, id)
            }
            fn client_services(&self, client: AccountId) -> Result<Vec<Service>, ApiError> {
                let Some(index) = store::existing(self.open_table(SERVICES_BY_CLIENT))? else {
                    return Ok(vec![]);
                };
                let mut out = Vec::new();
                let client = client.get();
                for key in index.range((client, 0)..=(client, u64::MAX))? {
                    let id = key?.0.value().1;
                    if let Some(s) = self.service(ServiceId(id))? {
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
    definition: impl redb::TableHandle + Copy,
    id: impl Into<u64>,
) -> Result<Option<T>, ApiError> {
    get_with(table, id, |id, bytes| store::decode(definition, id, bytes))
}

/// The record `id` of a table that may not exist yet, decoded by `decode`.
fn get_with<T, Tbl: ReadableTable<u64, &'static [u8]>>(
    table: Result<Tbl, redb::TableError>,
    id: impl Into<u64>,
    decode: impl Fn(u64, &[u8]) -> Result<T, store::StoreError>,
) -> Result<Option<T>, ApiError> {
    let id = id.into();
    let Some(table) = store::existing(table)? else {
        return Ok(None);
    };
    match table.get(id)? {
        Some(bytes) => Ok(Some(decode(id, bytes.value())?)),
        None => Ok(None),
    }
}

/// The fields of a stored service that place it in an expiry index: all
/// [`save`] needs of the record it replaces, instead of decoding the whole
/// service again for four fields.
#[derive(serde::Deserialize)]
struct Placed {
    status: ServiceStatus,
    daily: bool,
    expires: chrono::NaiveDate,
    #[serde(default)]
    suspended_by: Option<SuspendedBy>,
}

/// Store a service (bumping its version: every write is a new version) and
/// keep the expiry indexes in step with it.
pub(super) fn save(txn: &WriteTransaction, service: &mut Service) -> Result<(), ApiError> {
    service.version += 1;
    let previous = txn
        .open_table(SERVICES)?
        .insert(service.id.get(), store::encode(service).as_slice())?
        .map(|old| store::decode::<Placed>(SERVICES, service.id, old.value()))
        .transpose()?;
    let old = previous.and_then(|old| {
        expiry_index(old.status, old.daily, old.suspended_by)
            .map(|index| (index, (old.expires.num_days_from_ce(), service.id.get())))
    });
    let new = service.expiry_index().map(|index| {
        (
            index,
            (service.expires.num_days_from_ce(), service.id.get()),
        )
    });
    match (old, new) {
        // The usual case (a renewal): one index, opened once.
        (Some((from, old_key)), Some((to, new_key))) if from == to => {
            let mut table = txn.open_table(expiry_table(to))?;
            if old_key != new_key {
                table.remove(old_key)?;
                table.insert(new_key, ())?;
            }
        }
        (old, new) => {
            if let Some((index, key)) = old {
                txn.open_table(expiry_table(index))?.remove(key)?;
            }
            if let Some((index, key)) = new {
                txn.open_table(expiry_table(index))?.insert(key, ())?;
            }
        }
    }
    Ok(())
}

/// The service as stored now, if it still is the version the decision saw.
/// Every save bumps the version, so the same version is the same record:
/// only the version is decoded, and the service is the one already seen.
pub(super) fn current(txn: &WriteTransaction, seen: &Service) -> Result<Service, ApiError> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        version: u64,
    }
    let stored = txn
        .open_table(SERVICES)?
        .get(seen.id.get())?
        .map(|v| store::decode::<Versioned>(SERVICES, seen.id, v.value()))
        .transpose()?;
    match stored {
        Some(s) if s.version == seen.version => Ok(seen.clone()),
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
