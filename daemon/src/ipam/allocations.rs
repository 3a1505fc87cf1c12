//! `/v1/ip-allocations`: give a service an address through the
//! ip-allocation rule, read allocations, release them; and the release of a
//! deleted service's addresses, in the deletion's own transaction.
//!
//! The rule is called inside the writer's transaction: the candidates it is
//! shown are the facts of the transaction that records its choice, so two
//! concurrent allocations can never be offered (and given) the same
//! address, and none has to be retried. A rule call is bounded by its fuel
//! and time limits, which bound how long it holds the writer.

use super::address::{parse_address, to_text};
use super::candidates::{Asked, Gathered, family_of, gather};
use super::model::{Allocation, NewAllocation, Pool, Released};
use super::tables::{IpReader, next_allocation_id, release, take};
use crate::app::metrics::Metrics;
use crate::app::{ApiError, App, Caller, Idempotency, OnServiceDeleted, Written, binding};
use crate::billing::tables::Reader;
use crate::contract::hook::Hook;
use crate::decide::receipt::{self, Receipt, Subject};
use crate::decide::{self, Decision, RuleInput, RuleOutput};
use crate::domain::ids::{AllocationId, ServiceId};
use crate::domain::service::{Service, ServiceStatus};
use crate::runtime::{CallError, block_on};
use chrono::{DateTime, Days, NaiveDate, Utc};
use redb::WriteTransaction;

fn not_found(id: AllocationId) -> ApiError {
    ApiError::NotFound(format!("IP allocation {id} does not exist"))
}

/// An allocation as the caller may see it: a reseller is not told which
/// common pool an address came from (it may not see common pools).
fn shown(caller: &Caller, mut a: Allocation) -> Allocation {
    if a.common && !caller.is_provider() {
        a.pool_id = None;
    }
    a
}

/// A rule's answer the daemon cannot use: nothing is recorded.
fn invalid_answer(decision: &Decision, detail: String) -> ApiError {
    ApiError::RuleFailed(CallError::InvalidDecision {
        module: decision.module.clone(),
        detail,
    })
}

/// Record the rule's choice: the address must be one of the pool's (not
/// excluded) and free; the allocation and its receipt are written together.
fn apply(
    txn: &WriteTransaction,
    gathered: &Gathered,
    decision: &Decision,
    service: &Service,
    req: &NewAllocation,
    now: DateTime<Utc>,
) -> Result<Allocation, ApiError> {
    let RuleOutput::IpAllocation { pool, address } = &decision.output else {
        return Err(ApiError::Internal(
            "an ip-allocation decision without an address".into(),
        ));
    };
    let Some(c) = gathered
        .candidates
        .iter()
        .find(|c| c.pool.id.to_string() == *pool)
    else {
        return Err(invalid_answer(
            decision,
            format!("answered pool {pool}, which it was not offered"),
        ));
    };
    let (_, n) = parse_address(address).map_err(|m| invalid_answer(decision, m))?;
    if !c.holds(n) {
        return Err(invalid_answer(
            decision,
            format!("answered {address}, which is outside pool {pool} or excluded from it"),
        ));
    }
    let receipt_id = receipt::next_id(txn)?;
    let allocation = Allocation {
        id: next_allocation_id(txn)?,
        pool_id: Some(c.pool.id),
        address: to_text(c.pool.family, n),
        family: c.pool.family,
        kind: req.kind,
        service_id: service.id,
        reseller_id: service.reseller_id,
        common: c.pool.reseller_id.is_none(),
        created_at: now,
        receipt_id,
    };
    if !take(txn, n, &allocation, c.pool.id)? {
        return Err(invalid_answer(
            decision,
            format!("answered {address}, which is not free in pool {pool}"),
        ));
    }
    receipt::store(
        txn,
        &Receipt::new(receipt_id, decision, Subject::Pool(c.pool.id), None)?,
    )?;
    Ok(allocation)
}

/// Take back one allocation; with a quarantine the address waits until
/// `free_from`.
fn release_one(
    txn: &WriteTransaction,
    allocation: Allocation,
    pool: &Pool,
    today: NaiveDate,
) -> Result<Released, ApiError> {
    let (_, n) = parse_address(&allocation.address).map_err(ApiError::Internal)?;
    let free_from =
        (pool.quarantine_days > 0).then(|| today + Days::new(pool.quarantine_days.into()));
    release(txn, &allocation, pool.id, n, free_from)?;
    Ok(Released {
        allocation,
        free_from: free_from.unwrap_or(today),
    })
}

/// The pool of a stored allocation (it cannot be deleted while in use).
fn pool_of(txn: &WriteTransaction, a: &Allocation) -> Result<Pool, ApiError> {
    a.pool_id
        .and_then(|p| txn.pool(p).transpose())
        .transpose()?
        .ok_or_else(|| ApiError::Internal(format!("the pool of allocation {} is missing", a.id)))
}

/// Releases a deleted service's addresses in the deletion's transaction.
pub struct ReleaseOnDelete;

impl OnServiceDeleted for ReleaseOnDelete {
    fn deleted(
        &self,
        txn: &WriteTransaction,
        service: ServiceId,
        now: DateTime<Utc>,
        _: &Metrics,
    ) -> Result<(), ApiError> {
        for a in txn.service_allocations(service)? {
            let pool = pool_of(txn, &a)?;
            release_one(txn, a, &pool, now.date_naive())?;
        }
        Ok(())
    }
}

impl App {
    /// Give a service an address: the rule chooses among the pools the
    /// service may draw from (its reseller's, then the common ones).
    pub async fn allocate(
        &self,
        caller: Caller,
        req: NewAllocation,
        idem: Option<Idempotency>,
    ) -> Result<Written<Allocation>, ApiError> {
        let (family, address) = family_of(&req)?;
        if let Some(replayed) = self.replayed(idem.as_ref())? {
            return Ok(replayed);
        }
        let seen = self.get_service(&caller, req.service_id)?;
        let reseller = seen.reseller_id;
        let common_fallback = match reseller {
            Some(r) => self.account(r)?.is_some_and(|a| a.ip_common_fallback),
            None => false,
        };
        let module = self
            .registry
            .resolve(Hook::IpAllocation, binding(reseller).as_deref());
        // The call runs in the writer; the permit keeps it within the pool
        // of instances like every other call.
        let _permit = self.rule_permit().await?;
        let called = module.clone();
        let written = self
            .mutate(idem, move |txn, now| {
                let service = match txn.service(req.service_id)? {
                    Some(s) if caller.can_see(s.reseller_id) => s,
                    _ => {
                        return Err(ApiError::NotFound(format!(
                            "service {} does not exist",
                            req.service_id
                        )));
                    }
                };
                if service.status == ServiceStatus::Deleted {
                    return Err(ApiError::Policy(format!(
                        "service {} is deleted; it takes no addresses",
                        service.id
                    )));
                }
                let asked = Asked {
                    req: &req,
                    family,
                    address,
                    by_reseller: !caller.is_provider(),
                    common_fallback,
                };
                let gathered = gather(txn, &service, &asked, now)?;
                let input = RuleInput::IpAllocation(gathered.request.clone());
                let decision = block_on(decide::run(&called, input))?;
                // Stored as shown: a replay under the key answers the same bytes.
                apply(txn, &gathered, &decision, &service, &req, now).map(|a| shown(&caller, a))
            })
            .await;
        if rule_answered(&written) {
            self.count_call(Hook::IpAllocation, &module, &written);
        }
        written
    }

    pub fn get_allocation(
        &self,
        caller: &Caller,
        id: AllocationId,
    ) -> Result<Allocation, ApiError> {
        match self.store.read()?.allocation(id)? {
            Some(a) if caller.can_see(a.reseller_id) => Ok(shown(caller, a)),
            _ => Err(not_found(id)),
        }
    }

    /// Allocations the caller may see, optionally of one service.
    pub fn list_allocations(
        &self,
        caller: &Caller,
        service: Option<ServiceId>,
    ) -> Result<Vec<Allocation>, ApiError> {
        let read = self.store.read()?;
        let all = match service {
            Some(s) => {
                self.get_service(caller, s)?;
                read.service_allocations(s)?
            }
            None => read.allocations()?,
        };
        Ok(all
            .into_iter()
            .filter(|a| caller.can_see(a.reseller_id))
            .map(|a| shown(caller, a))
            .collect())
    }

    /// Release an address. A reseller releases addresses of its own pools;
    /// common-pool addresses go back with their service or by the provider.
    pub async fn release_allocation(
        &self,
        caller: Caller,
        id: AllocationId,
        idem: Option<Idempotency>,
    ) -> Result<Written<Released>, ApiError> {
        self.mutate(idem, move |txn, now| {
            let a = match txn.allocation(id)? {
                Some(a) if caller.can_see(a.reseller_id) => a,
                _ => return Err(not_found(id)),
            };
            if a.common && !caller.is_provider() {
                return Err(ApiError::Forbidden(format!(
                    "{} is from a common pool: it is released with its service, or by the provider",
                    a.address
                )));
            }
            let pool = pool_of(txn, &a)?;
            let mut released = release_one(txn, a, &pool, now.date_naive())?;
            released.allocation = shown(&caller, released.allocation);
            Ok(released)
        })
        .await
    }
}

/// Whether the rule was called and answered (or failed): what the metrics
/// count. Errors found before the call (an unknown service) are not calls.
fn rule_answered<T>(result: &Result<T, ApiError>) -> bool {
    matches!(
        result,
        Ok(_)
            | Err(ApiError::RuleFailed(_)
                | ApiError::Denied(_)
                | ApiError::Exhausted(_)
                | ApiError::NotImplemented(_)
                | ApiError::RuleRejectedInput(_))
    )
}
