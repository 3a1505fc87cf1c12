//! Every read and write of the IP tables: pools, their free intervals and
//! usage counters, allocations with their indexes (by address, by service),
//! and released addresses waiting out a quarantine.

use super::free::{self, FreeTable};
use super::model::{Allocation, Pool, Usage};
use crate::app::ApiError;
use crate::domain::ids::{AllocationId, PoolId, ServiceId};
use crate::store::{
    self, IP_ALLOCATIONS, IP_BY_SERVICE, IP_FREE, IP_POOLS, IP_QUARANTINE, IP_TAKEN, IP_USAGE,
};
use chrono::{Datelike, NaiveDate};
use redb::{ReadableTable, WriteTransaction};

/// Reads over a read or a write transaction (facts gathered before a
/// decision are read again in the writer).
pub(crate) trait IpReader {
    fn pool(&self, id: PoolId) -> Result<Option<Pool>, ApiError>;
    fn pools(&self) -> Result<Vec<Pool>, ApiError>;
    fn usage(&self, id: PoolId) -> Result<Usage, ApiError>;
    fn allocation(&self, id: AllocationId) -> Result<Option<Allocation>, ApiError>;
    fn allocations(&self) -> Result<Vec<Allocation>, ApiError>;
    fn service_allocations(&self, service: ServiceId) -> Result<Vec<Allocation>, ApiError>;
    /// Up to `limit` free addresses of the pool, lowest first.
    fn first_free(&self, pool: PoolId, limit: usize) -> Result<Vec<u128>, ApiError>;
    fn is_free(&self, pool: PoolId, n: u128) -> Result<bool, ApiError>;
    /// The allocation holding the address, if any.
    fn holder(&self, pool: PoolId, n: u128) -> Result<Option<AllocationId>, ApiError>;
}

/// Every record of a JSON table that may not exist yet, in id order.
fn all<T: serde::de::DeserializeOwned>(
    table: Option<impl ReadableTable<u64, &'static [u8]>>,
    definition: redb::TableDefinition<u64, &[u8]>,
) -> Result<Vec<T>, ApiError> {
    let Some(table) = table else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (id, bytes) = entry?;
        out.push(store::decode(definition, id.value(), bytes.value())?);
    }
    Ok(out)
}

macro_rules! ip_reader {
    ($txn:ty) => {
        impl IpReader for $txn {
            fn pool(&self, id: PoolId) -> Result<Option<Pool>, ApiError> {
                match store::existing(self.open_table(IP_POOLS))? {
                    Some(t) => Ok(store::get_json(&t, IP_POOLS, id)?),
                    None => Ok(None),
                }
            }
            fn pools(&self) -> Result<Vec<Pool>, ApiError> {
                all(store::existing(self.open_table(IP_POOLS))?, IP_POOLS)
            }
            fn usage(&self, id: PoolId) -> Result<Usage, ApiError> {
                match store::existing(self.open_table(IP_USAGE))? {
                    Some(t) => Ok(store::get_json(&t, IP_USAGE, id)?.unwrap_or_default()),
                    None => Ok(Usage::default()),
                }
            }
            fn allocation(&self, id: AllocationId) -> Result<Option<Allocation>, ApiError> {
                match store::existing(self.open_table(IP_ALLOCATIONS))? {
                    Some(t) => Ok(store::get_json(&t, IP_ALLOCATIONS, id)?),
                    None => Ok(None),
                }
            }
            fn allocations(&self) -> Result<Vec<Allocation>, ApiError> {
                all(
                    store::existing(self.open_table(IP_ALLOCATIONS))?,
                    IP_ALLOCATIONS,
                )
            }
            fn service_allocations(&self, service: ServiceId) -> Result<Vec<Allocation>, ApiError> {
                let Some(index) = store::existing(self.open_table(IP_BY_SERVICE))? else {
                    return Ok(vec![]);
                };
                let s = service.get();
                let mut out = Vec::new();
                for key in index.range((s, 0)..=(s, u64::MAX))? {
                    let id = AllocationId(key?.0.value().1);
                    out.extend(self.allocation(id)?);
                }
                Ok(out)
            }
            fn first_free(&self, pool: PoolId, limit: usize) -> Result<Vec<u128>, ApiError> {
                match store::existing(self.open_table(IP_FREE))? {
                    Some(t) => Ok(free::first_free(&t, pool.get(), limit)?),
                    None => Ok(vec![]),
                }
            }
            fn is_free(&self, pool: PoolId, n: u128) -> Result<bool, ApiError> {
                match store::existing(self.open_table(IP_FREE))? {
                    Some(t) => Ok(free::is_free(&t, pool.get(), n)?),
                    None => Ok(false),
                }
            }
            fn holder(&self, pool: PoolId, n: u128) -> Result<Option<AllocationId>, ApiError> {
                match store::existing(self.open_table(IP_TAKEN))? {
                    Some(t) => Ok(t.get((pool.get(), n))?.map(|v| AllocationId(v.value()))),
                    None => Ok(None),
                }
            }
        }
    };
}
ip_reader!(store::View<'_>);
ip_reader!(WriteTransaction);

pub(super) fn next_pool_id(txn: &WriteTransaction) -> Result<PoolId, ApiError> {
    Ok(store::next_id(txn, IP_POOLS)?.into())
}

pub(super) fn next_allocation_id(txn: &WriteTransaction) -> Result<AllocationId, ApiError> {
    Ok(store::next_id(txn, IP_ALLOCATIONS)?.into())
}

/// Store a new pool with its free intervals (`spans`: the ranges less the
/// exclusions) and counters.
pub(super) fn insert_pool(
    txn: &WriteTransaction,
    pool: &Pool,
    spans: &[(u128, u128)],
) -> Result<(), ApiError> {
    put_pool(txn, pool)?;
    let mut table = txn.open_table(IP_FREE)?;
    for &(first, last) in spans {
        table.insert((pool.id.get(), first), last)?;
    }
    put_usage(
        txn,
        pool.id,
        &Usage {
            free: pool.size,
            ..Usage::default()
        },
    )
}

pub(super) fn put_pool(txn: &WriteTransaction, pool: &Pool) -> Result<(), ApiError> {
    txn.open_table(IP_POOLS)?
        .insert(pool.id.get(), store::encode(pool).as_slice())?;
    Ok(())
}

fn put_usage(txn: &WriteTransaction, pool: PoolId, usage: &Usage) -> Result<(), ApiError> {
    txn.open_table(IP_USAGE)?
        .insert(pool.get(), store::encode(usage).as_slice())?;
    Ok(())
}

/// Remove a pool that holds no allocation, with its free space, counters
/// and quarantine.
pub(super) fn delete_pool(txn: &WriteTransaction, pool: PoolId) -> Result<(), ApiError> {
    let id = pool.get();
    txn.open_table(IP_POOLS)?.remove(id)?;
    txn.open_table(IP_USAGE)?.remove(id)?;
    let mut table = txn.open_table(IP_FREE)?;
    for (first, _) in free::intervals(&table, id)? {
        table.remove((id, first))?;
    }
    let mut quarantine = txn.open_table(IP_QUARANTINE)?;
    let waiting: Vec<(i32, u128)> = quarantine
        .range((id, i32::MIN, 0)..=(id, i32::MAX, u128::MAX))?
        .map(|e| e.map(|(k, _)| (k.value().1, k.value().2)))
        .collect::<Result<_, _>>()?;
    for (day, n) in waiting {
        quarantine.remove((id, day, n))?;
    }
    Ok(())
}

/// Give `allocation` its address (`n` in its pool): false, and nothing
/// written, if the address is not free.
pub(super) fn take(
    txn: &WriteTransaction,
    n: u128,
    allocation: &Allocation,
    pool: PoolId,
) -> Result<bool, ApiError> {
    let mut table: FreeTable<'_> = txn.open_table(IP_FREE)?;
    if !free::take(&mut table, pool.get(), n)? {
        return Ok(false);
    }
    txn.open_table(IP_TAKEN)?
        .insert((pool.get(), n), allocation.id.get())?;
    txn.open_table(IP_ALLOCATIONS)?
        .insert(allocation.id.get(), store::encode(allocation).as_slice())?;
    txn.open_table(IP_BY_SERVICE)?
        .insert((allocation.service_id.get(), allocation.id.get()), ())?;
    let mut usage = txn.usage(pool)?;
    usage.free -= 1;
    usage.allocated += 1;
    put_usage(txn, pool, &usage)?;
    Ok(true)
}

/// Take `allocation` (address `n` of `pool`) back. Without a quarantine the
/// address is free at once; with one it waits until `free_from`.
pub(super) fn release(
    txn: &WriteTransaction,
    allocation: &Allocation,
    pool: PoolId,
    n: u128,
    free_from: Option<NaiveDate>,
) -> Result<(), ApiError> {
    txn.open_table(IP_TAKEN)?.remove((pool.get(), n))?;
    txn.open_table(IP_ALLOCATIONS)?
        .remove(allocation.id.get())?;
    txn.open_table(IP_BY_SERVICE)?
        .remove((allocation.service_id.get(), allocation.id.get()))?;
    let mut usage = txn.usage(pool)?;
    usage.allocated -= 1;
    match free_from {
        None => {
            free::give(&mut txn.open_table(IP_FREE)?, pool.get(), n)?;
            usage.free += 1;
        }
        Some(day) => {
            txn.open_table(IP_QUARANTINE)?
                .insert((pool.get(), day.num_days_from_ce(), n), ())?;
            usage.quarantined += 1;
        }
    }
    put_usage(txn, pool, &usage)
}

/// Free the addresses of `pool` whose quarantine has ended by `today`.
pub(super) fn end_quarantine(
    txn: &WriteTransaction,
    pool: PoolId,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let id = pool.get();
    let mut quarantine = txn.open_table(IP_QUARANTINE)?;
    let over: Vec<(i32, u128)> = quarantine
        .range((id, i32::MIN, 0)..=(id, today.num_days_from_ce(), u128::MAX))?
        .map(|e| e.map(|(k, _)| (k.value().1, k.value().2)))
        .collect::<Result<_, _>>()?;
    if over.is_empty() {
        return Ok(());
    }
    let mut table = txn.open_table(IP_FREE)?;
    for &(day, n) in &over {
        quarantine.remove((id, day, n))?;
        free::give(&mut table, id, n)?;
    }
    let mut usage = txn.usage(pool)?;
    usage.quarantined -= over.len() as u128;
    usage.free += over.len() as u128;
    put_usage(txn, pool, &usage)
}
