# The ip-allocation hook: which pool and address a container gets, decided
# the way the embedded default rule decides it (seed 000, Virtuozzo reseller
# IP pools). It implements all of the default's logic:
#
# - a requested address (the daemon checked it is free and in the requested
#   pool) is given as asked; a requested pool gives its lowest free address;
# - a reseller's assigned pools come first (the daemon offers a reseller
#   only its own assigned pools, then the common ones);
# - without an assigned pool (a reseller without one, or the provider), the
#   common pools serve automatically;
# - once every assigned pool is exhausted, the common pools serve only if
#   the provider allowed it (common-overflow-allowed); otherwise the answer
#   is "exhausted", saying what to ask the provider for.
#
# The address is always the first of the pool's `free` list (the daemon hands
# them in lowest first). Nothing here answers not-implemented.

from wit_world import exports
from wit_world.exports.ip_allocation import (
    Allocation,
    AllocationDecision,
    AllocationDecision_Allocate,
    AllocationDecision_Exhausted,
    AllocationRequest,
    IpFamily,
    Pool,
    PoolKind,
)


def first_free(pool: Pool):
    if not pool.free:
        return None
    return AllocationDecision_Allocate(Allocation(pool=pool.id, address=pool.free[0]))


def first_free_of(pools):
    for pool in pools:
        decision = first_free(pool)
        if decision is not None:
            return decision
    return None


class IpAllocation(exports.IpAllocation):
    def allocate(self, request: AllocationRequest) -> AllocationDecision:
        # An address asked for: the daemon already checked it is free and in
        # the requested pool, so it is given as asked.
        if request.requested_pool is not None and request.requested_address is not None:
            return AllocationDecision_Allocate(
                Allocation(pool=request.requested_pool, address=request.requested_address)
            )
        # A pool asked for: its lowest free address, or nothing (never
        # another pool: the caller asked for that one).
        if request.requested_pool is not None:
            wanted = request.requested_pool
            pool = next((p for p in request.pools if p.id == wanted), None)
            decision = first_free(pool) if pool is not None else None
            if decision is None:
                return AllocationDecision_Exhausted(f"pool {wanted} has no free address")
            return decision

        assigned = [p for p in request.pools if p.kind == PoolKind.ASSIGNED]
        decision = first_free_of(assigned)
        if decision is not None:
            return decision
        # The common pools: for whoever has no assigned pool, and for a
        # reseller whose pools are exhausted only when the provider allows.
        may_use_common = not assigned or request.common_overflow_allowed
        if may_use_common:
            decision = first_free_of(p for p in request.pools if p.kind == PoolKind.COMMON)
            if decision is not None:
                return decision

        family = "IPv4" if request.family == IpFamily.V4 else "IPv6"
        if not may_use_common:
            why = (
                f"every {family} address of this reseller's assigned pool is in use; "
                "ask the provider for a larger pool, or for permission to use the common pool"
            )
        elif not request.pools:
            why = f"there is no {family} pool this service may draw from; ask the provider to create one"
        else:
            why = (
                f"no {family} address is free in the pools this service may draw from; "
                "ask the provider for more addresses"
            )
        return AllocationDecision_Exhausted(why)
