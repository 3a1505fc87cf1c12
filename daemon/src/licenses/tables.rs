//! Every read and write of the license tables: the licenses, their indexes
//! (free licenses by tariff and first free day, live ones by expiry, the
//! license of each server), the outbox of events and the simulator's
//! injected faults. [`put`] alone writes a license, so the indexes cannot
//! drift from the records.

use super::model::{License, LicenseEvent, VendorFaults};
use crate::app::ApiError;
use crate::domain::ids::{LicenseEventId, LicenseId, ServiceId};
use crate::store::{
    self, LICENSE_EVENTS, LICENSE_VENDOR_FAULTS, LICENSES, LICENSES_BY_EXPIRY, LICENSES_BY_SERVICE,
    LICENSES_FREE,
};
use chrono::{Datelike, NaiveDate};
use redb::{ReadableTable, WriteTransaction};

fn day_key(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

/// The reads, in a read or a write transaction.
pub(crate) trait LicenseReader {
    fn license(&self, id: LicenseId) -> Result<Option<License>, ApiError>;
    /// The license a server holds.
    fn license_of(&self, service: ServiceId) -> Result<Option<License>, ApiError>;
    /// Up to `limit` licenses of `tariff` free on `today`, the longest free
    /// first. Reads the start of one index range, whatever the pool's size.
    fn free(&self, tariff: &str, today: NaiveDate, limit: usize) -> Result<Vec<License>, ApiError>;
    /// Licenses after `after` in id order, at most `limit`, that `keep` accepts.
    fn licenses(
        &self,
        after: u64,
        limit: usize,
        keep: &dyn Fn(&License) -> bool,
    ) -> Result<Vec<License>, ApiError>;
    fn events(&self, after: u64, limit: usize) -> Result<Vec<LicenseEvent>, ApiError>;
    fn event(&self, id: LicenseEventId) -> Result<Option<LicenseEvent>, ApiError>;
    fn faults(&self) -> Result<VendorFaults, ApiError>;
}

macro_rules! license_reader {
    ($txn:ty) => {
        impl LicenseReader for $txn {
            fn license(&self, id: LicenseId) -> Result<Option<License>, ApiError> {
                match store::existing(self.open_table(LICENSES))? {
                    Some(t) => Ok(store::get_json(&t, LICENSES, id)?),
                    None => Ok(None),
                }
            }
            fn license_of(&self, service: ServiceId) -> Result<Option<License>, ApiError> {
                let Some(index) = store::existing(self.open_table(LICENSES_BY_SERVICE))? else {
                    return Ok(None);
                };
                match index.get(service.get())? {
                    Some(id) => self.license(LicenseId(id.value())),
                    None => Ok(None),
                }
            }
            fn free(
                &self,
                tariff: &str,
                today: NaiveDate,
                limit: usize,
            ) -> Result<Vec<License>, ApiError> {
                let (Some(index), Some(licenses)) = (
                    store::existing(self.open_table(LICENSES_FREE))?,
                    store::existing(self.open_table(LICENSES))?,
                ) else {
                    return Ok(vec![]);
                };
                let mut out = Vec::new();
                for entry in
                    index.range((tariff, i32::MIN, 0)..=(tariff, day_key(today), u64::MAX))?
                {
                    let (key, _) = entry?;
                    let id = LicenseId(key.value().2);
                    let license: License =
                        store::get_json(&licenses, LICENSES, id)?.ok_or_else(|| {
                            ApiError::Internal(format!("free license {id} is missing"))
                        })?;
                    // An expired one leaves the index with the day's job;
                    // until then it is skipped.
                    if license.is_free(today) {
                        out.push(license);
                        if out.len() == limit {
                            break;
                        }
                    }
                }
                Ok(out)
            }
            fn licenses(
                &self,
                after: u64,
                limit: usize,
                keep: &dyn Fn(&License) -> bool,
            ) -> Result<Vec<License>, ApiError> {
                let Some(table) = store::existing(self.open_table(LICENSES))? else {
                    return Ok(vec![]);
                };
                let mut out = Vec::new();
                for entry in table.range(after.saturating_add(1)..)? {
                    let (id, bytes) = entry?;
                    let license: License = store::decode(LICENSES, id.value(), bytes.value())?;
                    if keep(&license) {
                        out.push(license);
                        if out.len() == limit {
                            break;
                        }
                    }
                }
                Ok(out)
            }
            fn events(&self, after: u64, limit: usize) -> Result<Vec<LicenseEvent>, ApiError> {
                let Some(table) = store::existing(self.open_table(LICENSE_EVENTS))? else {
                    return Ok(vec![]);
                };
                let mut out = Vec::new();
                for entry in table.range(after.saturating_add(1)..)?.take(limit) {
                    let (id, bytes) = entry?;
                    out.push(store::decode(LICENSE_EVENTS, id.value(), bytes.value())?);
                }
                Ok(out)
            }
            fn event(&self, id: LicenseEventId) -> Result<Option<LicenseEvent>, ApiError> {
                match store::existing(self.open_table(LICENSE_EVENTS))? {
                    Some(t) => Ok(store::get_json(&t, LICENSE_EVENTS, id)?),
                    None => Ok(None),
                }
            }
            fn faults(&self) -> Result<VendorFaults, ApiError> {
                match store::existing(self.open_table(LICENSE_VENDOR_FAULTS))? {
                    Some(t) => {
                        Ok(store::get_json(&t, LICENSE_VENDOR_FAULTS, 0u64)?.unwrap_or_default())
                    }
                    None => Ok(VendorFaults::default()),
                }
            }
        }
    };
}

license_reader!(store::View<'_>);
license_reader!(WriteTransaction);

pub(crate) fn next_license_id(txn: &WriteTransaction) -> Result<LicenseId, ApiError> {
    Ok(LicenseId(store::next_id(txn, LICENSES)?))
}

/// Write `license`, replacing `old` (None for a new one), and move it
/// between the indexes: free while pooled, by expiry while live, under its
/// server while it serves one.
pub(crate) fn put(
    txn: &WriteTransaction,
    old: Option<&License>,
    license: &License,
) -> Result<(), ApiError> {
    let free_key = |l: &License| l.pooled().then(|| day_key(l.free_from()));
    let expiry_key = |l: &License| l.live().then(|| day_key(l.expires));
    let id = license.id.get();
    if let Some(old) = old {
        if let Some(day) = free_key(old) {
            txn.open_table(LICENSES_FREE)?
                .remove((old.tariff.as_str(), day, id))?;
        }
        if let Some(day) = expiry_key(old) {
            txn.open_table(LICENSES_BY_EXPIRY)?.remove((day, id))?;
        }
        if let Some(service) = old.service_id {
            txn.open_table(LICENSES_BY_SERVICE)?.remove(service.get())?;
        }
    }
    if let Some(day) = free_key(license) {
        txn.open_table(LICENSES_FREE)?
            .insert((license.tariff.as_str(), day, id), ())?;
    }
    if let Some(day) = expiry_key(license) {
        txn.open_table(LICENSES_BY_EXPIRY)?.insert((day, id), ())?;
    }
    if let Some(service) = license.service_id {
        txn.open_table(LICENSES_BY_SERVICE)?
            .insert(service.get(), id)?;
    }
    txn.open_table(LICENSES)?
        .insert(id, store::encode(license).as_slice())?;
    Ok(())
}

/// The live licenses expiring from `from` through `to`, by expiry.
pub(crate) fn expiring(
    txn: &WriteTransaction,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<LicenseId>, ApiError> {
    let table = txn.open_table(LICENSES_BY_EXPIRY)?;
    let mut out = Vec::new();
    for entry in table.range((day_key(from), 0)..=(day_key(to), u64::MAX))? {
        out.push(LicenseId(entry?.0.value().1));
    }
    Ok(out)
}

/// Append an event to the outbox, giving it its id.
pub(crate) fn append_event(
    txn: &WriteTransaction,
    mut event: LicenseEvent,
) -> Result<LicenseEventId, ApiError> {
    event.id = LicenseEventId(store::next_id(txn, LICENSE_EVENTS)?);
    put_event(txn, &event)?;
    Ok(event.id)
}

pub(crate) fn put_event(txn: &WriteTransaction, event: &LicenseEvent) -> Result<(), ApiError> {
    txn.open_table(LICENSE_EVENTS)?
        .insert(event.id.get(), store::encode(event).as_slice())?;
    Ok(())
}

pub(crate) fn put_faults(txn: &WriteTransaction, faults: &VendorFaults) -> Result<(), ApiError> {
    txn.open_table(LICENSE_VENDOR_FAULTS)?
        .insert(0u64, store::encode(faults).as_slice())?;
    Ok(())
}
