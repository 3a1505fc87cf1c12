//! `/v1/ip-pools`: the provider creates, changes and deletes pools; a
//! reseller sees the pools assigned to it and nothing of the common ones
//! (404, as for a pool that does not exist); `/v1/ip-usage` counts.

use super::address::{Family, Span, parse_span};
use super::free::subtract;
use super::model::{
    AddressKind, Allocation, IpUsage, KindCounts, NewPool, Pool, PoolChange, PoolView,
};
use super::tables::{IpReader, delete_pool, insert_pool, next_pool_id, put_pool};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::accounts::{AccountKind, check_name};
use crate::domain::ids::{AccountId, PoolId};
use crate::domain::invalid::invalid;
use crate::tenancy::tables::account_in;
use redb::WriteTransaction;

/// How many ranges and exclusions one pool may be given.
const MAX_SPANS: usize = 1024;

/// A pool's addresses, checked: its family, ranges, exclusions and the
/// free intervals they leave.
struct Plan {
    family: Family,
    ranges: Vec<Span>,
    excluded: Vec<Span>,
    free: Vec<(u128, u128)>,
    size: u128,
}

fn spans(field: &str, texts: &[String]) -> Result<Vec<Span>, ApiError> {
    if texts.len() > MAX_SPANS {
        return Err(invalid(field, format!("at most {MAX_SPANS} entries")).into());
    }
    let mut out = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        out.push(parse_span(text).map_err(|m| invalid(format!("{field}[{i}]"), m))?);
    }
    out.sort_by_key(|s| s.first);
    Ok(out)
}

/// Check a new pool's addresses and work out what it can hand out.
fn plan(req: &NewPool) -> Result<Plan, ApiError> {
    let ranges = spans("ranges", &req.ranges)?;
    let Some(family) = ranges.first().map(|s| s.family) else {
        return Err(invalid("ranges", "give at least one range").into());
    };
    let excluded = spans("excluded", &req.excluded)?;
    for (field, list) in [("ranges", &ranges), ("excluded", &excluded)] {
        if let Some(s) = list.iter().find(|s| s.family != family) {
            return Err(invalid(
                field,
                format!(
                    "{} is {}, the pool is {}",
                    s.text(),
                    s.family.name(),
                    family.name()
                ),
            )
            .into());
        }
    }
    if let Some(pair) = ranges.windows(2).find(|w| w[0].overlaps(&w[1])) {
        return Err(invalid(
            "ranges",
            format!("{} overlaps {}", pair[0].text(), pair[1].text()),
        )
        .into());
    }
    if let Some(x) = excluded.iter().find(|x| {
        !ranges
            .iter()
            .any(|r| r.first <= x.first && x.last <= r.last)
    }) {
        return Err(invalid(
            "excluded",
            format!("{} is not inside one of the pool's ranges", x.text()),
        )
        .into());
    }
    let pairs = |list: &[Span]| list.iter().map(|s| (s.first, s.last)).collect::<Vec<_>>();
    let free = subtract(&pairs(&ranges), &pairs(&excluded));
    let size: u128 = free.iter().map(|(f, l)| l - f + 1).sum();
    if size == 0 {
        return Err(invalid("excluded", "the exclusions leave no address to hand out").into());
    }
    Ok(Plan {
        family,
        ranges,
        excluded,
        free,
        size,
    })
}

/// The pool's ranges, parsed back (they were checked when it was created).
pub(super) fn pool_spans(pool: &Pool) -> Vec<Span> {
    pool.ranges
        .iter()
        .filter_map(|t| parse_span(t).ok())
        .collect()
}

/// The other pool, if any, that shares an address with `ranges`.
fn overlapping(txn: &WriteTransaction, ranges: &[Span]) -> Result<Option<(Pool, Span)>, ApiError> {
    for other in txn.pools()? {
        for theirs in pool_spans(&other) {
            if ranges.iter().any(|r| r.overlaps(&theirs)) {
                return Ok(Some((other, theirs)));
            }
        }
    }
    Ok(None)
}

/// The reseller a pool is assigned to must exist.
fn check_reseller(txn: &WriteTransaction, reseller: Option<AccountId>) -> Result<(), ApiError> {
    match reseller {
        None => Ok(()),
        Some(r) => match account_in(txn, r)? {
            Some(a) if a.kind == AccountKind::Reseller => Ok(()),
            _ => Err(ApiError::NotFound(format!("reseller {r} does not exist"))),
        },
    }
}

fn pool_not_found(id: PoolId) -> ApiError {
    ApiError::NotFound(format!("IP pool {id} does not exist"))
}

/// Whether the caller may see (and, for a reseller, manage) the pool: the
/// provider every pool, a reseller those assigned to it.
pub(super) fn sees_pool(caller: &Caller, pool: &Pool) -> bool {
    caller.is_provider() || (pool.reseller_id.is_some() && caller.can_see(pool.reseller_id))
}

impl App {
    /// Create a pool (provider only). Overlapping another pool is a conflict
    /// naming it.
    pub async fn create_pool(
        &self,
        caller: Caller,
        req: NewPool,
        idem: Option<Idempotency>,
    ) -> Result<Written<PoolView>, ApiError> {
        caller.require_provider()?;
        check_name("name", &req.name)?;
        let plan = plan(&req)?;
        self.mutate(idem, move |txn, now| {
            check_reseller(txn, req.reseller_id)?;
            if let Some((other, theirs)) = overlapping(txn, &plan.ranges)? {
                return Err(ApiError::Conflict(format!(
                    "the ranges overlap IP pool {} ({:?}) at {}",
                    other.id,
                    other.name,
                    theirs.text()
                )));
            }
            let pool = Pool {
                id: next_pool_id(txn)?,
                name: req.name.clone(),
                family: plan.family,
                ranges: plan.ranges.iter().map(Span::text).collect(),
                excluded: plan.excluded.iter().map(Span::text).collect(),
                reseller_id: req.reseller_id,
                quarantine_days: req.quarantine_days,
                size: plan.size,
                created_at: now,
            };
            insert_pool(txn, &pool, &plan.free)?;
            let usage = txn.usage(pool.id)?;
            Ok(PoolView { pool, usage })
        })
        .await
    }

    /// The pools the caller may see, with their usage.
    pub fn list_pools(&self, caller: &Caller) -> Result<Vec<PoolView>, ApiError> {
        let read = self.store.read()?;
        let mut out = Vec::new();
        for pool in read.pools()? {
            if sees_pool(caller, &pool) {
                let usage = read.usage(pool.id)?;
                out.push(PoolView { pool, usage });
            }
        }
        Ok(out)
    }

    pub fn get_pool(&self, caller: &Caller, id: PoolId) -> Result<PoolView, ApiError> {
        let read = self.store.read()?;
        match read.pool(id)? {
            Some(pool) if sees_pool(caller, &pool) => {
                let usage = read.usage(id)?;
                Ok(PoolView { pool, usage })
            }
            _ => Err(pool_not_found(id)),
        }
    }

    /// Rename a pool, reassign it (addresses already given stay with their
    /// services) or change its quarantine (provider only).
    pub async fn change_pool(
        &self,
        caller: Caller,
        id: PoolId,
        change: PoolChange,
        idem: Option<Idempotency>,
    ) -> Result<Written<PoolView>, ApiError> {
        caller.require_provider()?;
        if let Some(name) = &change.name {
            check_name("name", name)?;
        }
        self.mutate(idem, move |txn, _| {
            let mut pool = txn.pool(id)?.ok_or_else(|| pool_not_found(id))?;
            if let Some(name) = &change.name {
                pool.name = name.clone();
            }
            if let Some(reseller) = change.reseller_id {
                check_reseller(txn, reseller)?;
                pool.reseller_id = reseller;
            }
            if let Some(days) = change.quarantine_days {
                pool.quarantine_days = days;
            }
            put_pool(txn, &pool)?;
            let usage = txn.usage(id)?;
            Ok(PoolView { pool, usage })
        })
        .await
    }

    /// Delete a pool none of whose addresses is in use (provider only).
    pub async fn delete_pool(
        &self,
        caller: Caller,
        id: PoolId,
        idem: Option<Idempotency>,
    ) -> Result<Written<PoolView>, ApiError> {
        caller.require_provider()?;
        self.mutate(idem, move |txn, _| {
            let pool = txn.pool(id)?.ok_or_else(|| pool_not_found(id))?;
            let usage = txn.usage(id)?;
            if usage.allocated > 0 {
                return Err(ApiError::Conflict(format!(
                    "IP pool {id} has {} address(es) in use; release them first",
                    usage.allocated
                )));
            }
            delete_pool(txn, id)?;
            Ok(PoolView { pool, usage })
        })
        .await
    }

    /// The allocations of a pool the caller may see.
    pub fn pool_allocations(
        &self,
        caller: &Caller,
        id: PoolId,
    ) -> Result<Vec<Allocation>, ApiError> {
        self.get_pool(caller, id)?;
        let read = self.store.read()?;
        Ok(read
            .allocations()?
            .into_iter()
            .filter(|a| a.pool_id == Some(id))
            .collect())
    }

    /// Counts of static and dynamic addresses by pool type, and the pools
    /// the caller may see with their utilisation. A reseller's counts are
    /// its services' only; of the common pools it sees nothing else.
    pub fn ip_usage(&self, caller: &Caller) -> Result<IpUsage, ApiError> {
        let mut usage = IpUsage {
            pools: self.list_pools(caller)?,
            ..IpUsage::default()
        };
        let read = self.store.read()?;
        for a in read.allocations()? {
            if !caller.can_see(a.reseller_id) {
                continue;
            }
            let counts: &mut KindCounts = if a.common {
                &mut usage.common
            } else {
                &mut usage.assigned
            };
            match a.kind {
                AddressKind::Static => counts.static_ += 1,
                AddressKind::Dynamic => counts.dynamic += 1,
            }
        }
        Ok(usage)
    }
}
