//! What an allocation may draw from, as the ip-allocation rule is shown it:
//! the pools assigned to the service's reseller, then the common pools, of
//! the requested family, each with its free count and its first few free
//! addresses; a requested address is checked and put first.

use super::address::{Family, Span, parse_address, parse_span, to_text};
use super::model::{AddressKind, NewAllocation, Pool};
use super::pools::pool_spans;
use super::tables::{IpReader, end_quarantine};
use crate::app::ApiError;
use crate::billing::requests::instant;
use crate::contract::bindings::ip_allocation as wit;
use crate::domain::ids::PoolId;
use crate::domain::invalid::invalid;
use crate::domain::service::Service;
use chrono::{DateTime, Utc};
use redb::WriteTransaction;

/// Free addresses shown to the rule per pool.
pub(super) const SHOWN_FREE: usize = 8;

/// A pool an allocation may draw from, with what the daemon checks the
/// rule's answer against.
pub(super) struct Candidate {
    pub pool: Pool,
    pub spans: Vec<Span>,
    pub excluded: Vec<Span>,
}

impl Candidate {
    /// Whether `n` is one of the pool's addresses that can be handed out.
    pub fn holds(&self, n: u128) -> bool {
        self.spans.iter().any(|s| s.contains(n)) && !self.excluded.iter().any(|s| s.contains(n))
    }
}

/// The facts of one allocation: the candidates and the rule's request.
pub(super) struct Gathered {
    pub candidates: Vec<Candidate>,
    pub request: wit::AllocationRequest,
}

/// What the caller asked for, checked against the store.
pub(super) struct Asked<'a> {
    pub req: &'a NewAllocation,
    pub family: Family,
    pub address: Option<u128>,
    /// Whether the caller is a reseller (it may not name a common pool).
    pub by_reseller: bool,
    pub common_fallback: bool,
}

/// The family and address of a request: `address` decides the family when
/// given, and must agree with `family` if both are.
pub(super) fn family_of(req: &NewAllocation) -> Result<(Family, Option<u128>), ApiError> {
    let Some(text) = &req.address else {
        return Ok((req.family.unwrap_or_default(), None));
    };
    let (family, n) = parse_address(text).map_err(|m| invalid("address", m))?;
    if req.family.is_some_and(|f| f != family) {
        return Err(invalid(
            "family",
            format!(
                "{text} is {}, not {}",
                family.name(),
                req.family.unwrap_or_default().name()
            ),
        )
        .into());
    }
    Ok((family, Some(n)))
}

fn wit_family(f: Family) -> wit::IpFamily {
    match f {
        Family::Ipv4 => wit::IpFamily::V4,
        Family::Ipv6 => wit::IpFamily::V6,
    }
}

/// Gather the candidates for `service` in the writer's transaction (so the
/// rule decides on the facts the allocation is recorded with), ending any
/// quarantine that is over first.
pub(super) fn gather(
    txn: &WriteTransaction,
    service: &Service,
    asked: &Asked<'_>,
    now: DateTime<Utc>,
) -> Result<Gathered, ApiError> {
    let candidates = usable_pools(txn, service, asked.family, now)?;
    let requested_pool = requested_pool(&candidates, asked)?;
    let requested = match asked.address {
        Some(n) => Some(check_requested(
            txn,
            &candidates,
            requested_pool,
            n,
            asked.family,
        )?),
        None => None,
    };
    let mut shown = Vec::with_capacity(candidates.len());
    for c in &candidates {
        let first = requested.and_then(|(pool, n)| (pool == c.pool.id).then_some(n));
        shown.push(shown_pool(txn, c, first)?);
    }
    let request = wit::AllocationRequest {
        reseller: service.reseller_id.map(|r| r.to_string()),
        service: service.id.to_string(),
        kind: match asked.req.kind {
            AddressKind::Static => wit::AddressKind::Static,
            AddressKind::Dynamic => wit::AddressKind::Dynamic,
        },
        family: wit_family(asked.family),
        requested_address: requested.map(|(_, n)| to_text(asked.family, n)),
        requested_pool: requested
            .map(|(p, _)| p)
            .or(requested_pool)
            .map(|p| p.to_string()),
        pools: shown,
        common_overflow_allowed: asked.common_fallback,
        at: instant(now),
    };
    Ok(Gathered {
        candidates,
        request,
    })
}

/// The pools of `family` the service may draw from: those assigned to its
/// reseller, then the common ones, each by id; their finished quarantines
/// ended.
fn usable_pools(
    txn: &WriteTransaction,
    service: &Service,
    family: Family,
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, ApiError> {
    let mut pools = txn.pools()?;
    pools.sort_by_key(|p| (p.reseller_id.is_none(), p.id));
    let mut candidates = Vec::new();
    for pool in pools {
        let usable = pool
            .reseller_id
            .is_none_or(|r| Some(r) == service.reseller_id);
        if usable && pool.family == family {
            end_quarantine(txn, pool.id, now.date_naive())?;
            candidates.push(Candidate {
                spans: pool_spans(&pool),
                excluded: pool
                    .excluded
                    .iter()
                    .filter_map(|t| parse_span(t).ok())
                    .collect(),
                pool,
            });
        }
    }
    Ok(candidates)
}

/// A pool as the rule sees it; `first`, a requested address in it, heads
/// its free list.
fn shown_pool(
    txn: &WriteTransaction,
    c: &Candidate,
    first: Option<u128>,
) -> Result<wit::Pool, ApiError> {
    let usage = txn.usage(c.pool.id)?;
    let mut free = txn.first_free(c.pool.id, SHOWN_FREE)?;
    if let Some(n) = first {
        free.retain(|&f| f != n);
        free.insert(0, n);
        free.truncate(SHOWN_FREE);
    }
    Ok(wit::Pool {
        id: c.pool.id.to_string(),
        kind: if c.pool.reseller_id.is_some() {
            wit::PoolKind::Assigned
        } else {
            wit::PoolKind::Common
        },
        reseller: c.pool.reseller_id.map(|r| r.to_string()),
        family: wit_family(c.pool.family),
        free: free
            .into_iter()
            .map(|n| to_text(c.pool.family, n))
            .collect(),
        free_count: u64::try_from(usage.free).unwrap_or(u64::MAX),
        quarantined: u64::try_from(usage.quarantined).unwrap_or(u64::MAX),
        quarantine_days: c.pool.quarantine_days,
    })
}

/// The pool the caller named, if it is one it may draw from. A reseller
/// naming a common pool gets the same 404 as for a pool that does not exist.
fn requested_pool(candidates: &[Candidate], asked: &Asked<'_>) -> Result<Option<PoolId>, ApiError> {
    let Some(id) = asked.req.pool_id else {
        return Ok(None);
    };
    match candidates.iter().find(|c| c.pool.id == id) {
        Some(c) if asked.by_reseller && c.pool.reseller_id.is_none() => {
            Err(ApiError::NotFound(format!("IP pool {id} does not exist")))
        }
        Some(_) => Ok(Some(id)),
        None => Err(ApiError::NotFound(format!(
            "IP pool {id} does not exist, or this service may not draw from it (another reseller's, or of the other family)"
        ))),
    }
}

/// A requested address: in a candidate pool (the named one, if any), and
/// free now.
fn check_requested(
    txn: &WriteTransaction,
    candidates: &[Candidate],
    pool: Option<PoolId>,
    n: u128,
    family: Family,
) -> Result<(PoolId, u128), ApiError> {
    let text = to_text(family, n);
    let Some(c) = candidates
        .iter()
        .find(|c| pool.is_none_or(|p| p == c.pool.id) && c.holds(n))
    else {
        return Err(ApiError::NotFound(format!(
            "{text} is not an address this service may draw from (outside its pools, or excluded)"
        )));
    };
    if txn.is_free(c.pool.id, n)? {
        return Ok((c.pool.id, n));
    }
    Err(ApiError::Conflict(match txn.holder(c.pool.id, n)? {
        Some(a) => format!("{text} is in use (allocation {a})"),
        None => format!("{text} was released recently and waits out the pool's quarantine"),
    }))
}
