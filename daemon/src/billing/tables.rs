//! Every read and write of billing's tables (services, tariffs and their
//! indexes), and the reader of the facts billing relies on: one [`Reader`]
//! over a read or a write transaction (checks run before the rule call and
//! again in the writer), and the one way a service is stored, with its
//! version and its expiry index.

use crate::app::{ApiError, App, Before, Listeners, Saved};
use crate::domain::accounts::{Account, ClientGroup};
use crate::domain::ids::{AccountId, EnumerationId, GroupId, ServiceId, TariffId};
use crate::domain::ledger::Cause;
use crate::domain::service::expiry_index;
use crate::domain::service::{Service, ServiceStatus, SuspendedBy, panel_of};
use crate::domain::tariff::{AddonQuantity, Enumeration, Tariff};
use crate::ledger::Target;
use crate::store::decoded::decode_tariff;
use crate::store::{
    self, ACCOUNTS, CLIENT_GROUPS, ENUMERATIONS, SERVICES, SERVICES_BY_CLIENT, SERVICES_BY_EXPIRY,
    SERVICES_UNPAID, TARIFFS, expiry_table,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use redb::{ReadableTable, WriteTransaction};
use std::collections::HashMap;

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
    fn enumeration(&self, id: EnumerationId) -> Result<Option<Enumeration>, ApiError>;
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
            fn enumeration(&self, id: EnumerationId) -> Result<Option<Enumeration>, ApiError> {
                get(self.open_table(ENUMERATIONS), ENUMERATIONS, id)
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

/// Every tariff, by id: the deletion horizon needs every tariff's policy,
/// and a provider has far fewer tariffs than services.
pub(super) fn all_tariffs(read: &store::View<'_>) -> Result<HashMap<TariffId, Tariff>, ApiError> {
    let mut tariffs = HashMap::new();
    let Some(table) = store::table_if_exists(read, TARIFFS)? else {
        return Ok(tariffs);
    };
    for entry in table.iter()? {
        let (id, bytes) = entry?;
        let tariff = store::decoded::decode_tariff(id.value(), bytes.value())?;
        tariffs.insert(tariff.id, tariff);
    }
    Ok(tariffs)
}

/// The services in an expiry index that expired on or before `day` (days
/// since 0001-01-01), in expiry order.
fn expired_through(
    read: &store::View<'_>,
    index: redb::TableDefinition<(i32, u64), ()>,
    day: i32,
) -> Result<Vec<u64>, ApiError> {
    let Some(table) = store::table_if_exists(read, index)? else {
        return Ok(vec![]);
    };
    let mut ids = Vec::new();
    for key in table.range((i32::MIN, 0)..=(day, u64::MAX))? {
        ids.push(key?.0.value().1);
    }
    Ok(ids)
}

/// The services that expired on or before `day` in the main expiry index,
/// then the unpaid period services that expired on or before
/// `unpaid_through` (none if it is None), each in expiry order.
pub(super) fn expired_services(
    read: &store::View<'_>,
    day: NaiveDate,
    unpaid_through: Option<NaiveDate>,
) -> Result<Vec<Service>, ApiError> {
    let Some(services) = store::table_if_exists(read, SERVICES)? else {
        return Ok(vec![]);
    };
    let mut ids = expired_through(read, SERVICES_BY_EXPIRY, day.num_days_from_ce())?;
    if let Some(through) = unpaid_through {
        ids.extend(expired_through(
            read,
            SERVICES_UNPAID,
            through.num_days_from_ce(),
        )?);
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(store::get_json::<Service>(&services, SERVICES, id)?);
    }
    Ok(out)
}

/// A new service's id.
pub(super) fn next_service_id(txn: &WriteTransaction) -> Result<ServiceId, ApiError> {
    Ok(store::next_id(txn, SERVICES)?.into())
}

/// Store a new service and index it under its client.
pub(super) fn insert_service(
    txn: &WriteTransaction,
    service: &mut Service,
    listeners: &Listeners,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    save(txn, service, listeners, now)?;
    txn.open_table(SERVICES_BY_CLIENT)?
        .insert((service.client_id.get(), service.id.get()), ())?;
    Ok(())
}

/// A new tariff's id.
pub(super) fn next_tariff_id(txn: &WriteTransaction) -> Result<TariffId, ApiError> {
    Ok(store::next_id(txn, TARIFFS)?.into())
}

/// Store a tariff (new, or its `enabled` flag changed: terms never change).
pub(super) fn put_enumeration(txn: &WriteTransaction, e: &Enumeration) -> Result<(), ApiError> {
    txn.open_table(ENUMERATIONS)?
        .insert(e.id.get(), store::encode(e).as_slice())?;
    Ok(())
}

pub(super) fn next_enumeration_id(txn: &WriteTransaction) -> Result<EnumerationId, ApiError> {
    Ok(store::next_id(txn, ENUMERATIONS)?.into())
}

pub(super) fn put_tariff(txn: &WriteTransaction, tariff: &Tariff) -> Result<(), ApiError> {
    txn.open_table(TARIFFS)?
        .insert(tariff.id.get(), store::encode(tariff).as_slice())?;
    Ok(())
}

impl App {
    pub(super) fn services_where(
        &self,
        keep: impl Fn(&Service) -> bool,
    ) -> Result<Vec<Service>, ApiError> {
        Ok(self.store.read_all(SERVICES, keep)?)
    }

    pub(super) fn tariffs_where(
        &self,
        keep: impl Fn(&Tariff) -> bool,
    ) -> Result<Vec<Tariff>, ApiError> {
        Ok(self.store.read_all(TARIFFS, keep)?)
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
    #[serde(default)]
    addons: Vec<AddonQuantity>,
    #[serde(default)]
    primary_ip: Option<String>,
}

/// Store a service (bumping its version: every write is a new version),
/// keep the expiry indexes in step with it and tell the listeners.
pub(super) fn save(
    txn: &WriteTransaction,
    service: &mut Service,
    listeners: &Listeners,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    save_edited(txn, service, listeners, now, false)
}

/// [`save`] for an edit: `panel_chosen` when it chose the control panel,
/// even the one the service had (seed 003: the same panel chosen again
/// activates an inactive license).
pub(super) fn save_edited(
    txn: &WriteTransaction,
    service: &mut Service,
    listeners: &Listeners,
    now: DateTime<Utc>,
    panel_chosen: bool,
) -> Result<(), ApiError> {
    let previous = place(txn, service)?;
    let before = previous.map(|p| Before {
        status: p.status,
        panel: panel_of(&p.addons).map(str::to_string),
        primary_ip: p.primary_ip,
    });
    let saved = Saved {
        before: before.as_ref(),
        after: service,
        panel_chosen,
    };
    listeners.saved(txn, &saved, now)
}

/// Write `service` and move it between the expiry indexes; what it replaced.
fn place(txn: &WriteTransaction, service: &mut Service) -> Result<Option<Placed>, ApiError> {
    service.version += 1;
    let previous = txn
        .open_table(SERVICES)?
        .insert(service.id.get(), store::encode(service).as_slice())?
        .map(|old| store::decode::<Placed>(SERVICES, service.id, old.value()))
        .transpose()?;
    let old = previous.as_ref().and_then(|old| {
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
    Ok(previous)
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

/// Where a decision about `service` is recorded: lines for `cause` that
/// pay for what it holds, with the listeners told.
pub(super) fn target<'a>(
    service: &'a Service,
    cause: Cause,
    listeners: &'a Listeners,
) -> Target<'a> {
    Target {
        account_id: service.client_id,
        reseller_id: service.reseller_id,
        service_id: service.id,
        currency: &service.currency,
        cause,
        paid_until: Some(service.expires),
        before: Some(service.holding()),
        after: service.holding(),
        listeners,
    }
}

/// Where an order of `service` is recorded: it held nothing before.
pub(super) fn order_target<'a>(service: &'a Service, listeners: &'a Listeners) -> Target<'a> {
    Target {
        paid_until: None,
        before: None,
        ..target(service, Cause::Order, listeners)
    }
}
