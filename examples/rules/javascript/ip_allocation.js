// The ip-allocation hook: which pool and address a container gets, decided
// the way the embedded default rule decides it (seed 000, Virtuozzo reseller
// IP pools). It implements all of the default's logic:
//
// - a requested address (the daemon checked it is free and in the requested
//   pool) is given as asked; a requested pool gives its lowest free address;
// - a reseller's assigned pools come first (the daemon offers a reseller
//   only its own assigned pools, then the common ones);
// - without an assigned pool (a reseller without one, or the provider), the
//   common pools serve automatically;
// - once every assigned pool is exhausted, the common pools serve only if
//   the provider allowed it (commonOverflowAllowed); otherwise the answer
//   is "exhausted", saying what to ask the provider for.
//
// The address is always the first of the pool's `free` list (the daemon hands
// them in lowest first). Nothing here answers not-implemented.

const allocate = (pool, address) => ({ tag: 'allocate', val: { pool, address } });
const exhausted = (why) => ({ tag: 'exhausted', val: why });

function firstFree(pools) {
  const pool = pools.find((p) => p.free.length > 0);
  return pool === undefined ? undefined : allocate(pool.id, pool.free[0]);
}

export const ipAllocation = {
  allocate(request) {
    // An address asked for: the daemon already checked it is free and in
    // the requested pool, so it is given as asked.
    if (request.requestedPool !== undefined && request.requestedAddress !== undefined) {
      return allocate(request.requestedPool, request.requestedAddress);
    }
    // A pool asked for: its lowest free address, or nothing (never another
    // pool: the caller asked for that one).
    if (request.requestedPool !== undefined) {
      const wanted = request.requestedPool;
      return firstFree(request.pools.filter((p) => p.id === wanted))
        ?? exhausted(`pool ${wanted} has no free address`);
    }

    const assigned = request.pools.filter((p) => p.kind === 'assigned');
    const fromAssigned = firstFree(assigned);
    if (fromAssigned !== undefined) return fromAssigned;
    // The common pools: for whoever has no assigned pool, and for a reseller
    // whose pools are exhausted only when the provider allows.
    const mayUseCommon = assigned.length === 0 || request.commonOverflowAllowed;
    if (mayUseCommon) {
      const fromCommon = firstFree(request.pools.filter((p) => p.kind === 'common'));
      if (fromCommon !== undefined) return fromCommon;
    }

    const family = request.family === 'v4' ? 'IPv4' : 'IPv6';
    if (!mayUseCommon) {
      return exhausted(`every ${family} address of this reseller's assigned pool is in use; `
        + 'ask the provider for a larger pool, or for permission to use the common pool');
    }
    if (request.pools.length === 0) {
      return exhausted(`there is no ${family} pool this service may draw from; ask the provider to create one`);
    }
    return exhausted(`no ${family} address is free in the pools this service may draw from; `
      + 'ask the provider for more addresses');
  },
};
