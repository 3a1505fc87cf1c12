//! IP allocation (seed 000, Virtuozzo reseller IP pools):
//!
//! - a requested address (the daemon checked it is free) is given from its
//!   pool; a requested pool is drawn from first;
//! - a reseller with an assigned pool draws from it first, and nobody else
//!   may (the daemon never offers another reseller's pool);
//! - a reseller without an assigned pool, and the provider, get common-pool
//!   addresses automatically;
//! - a reseller whose assigned pools are all exhausted gets common-pool
//!   addresses only if the provider allowed it (`common_overflow_allowed`),
//!   otherwise the answer is "exhausted", saying what to ask the provider for.
//!
//! The address is the lowest free one of the pool chosen.

use crate::prelude::*;
use rules_sdk::*;

pub fn allocate(req: &AllocationRequest) -> Result<AllocationDecision, RuleError> {
    if let (Some(pool), Some(address)) = (&req.requested_pool, &req.requested_address) {
        return Ok(AllocationDecision::Allocate {
            pool: pool.clone(),
            address: address.clone(),
        });
    }
    let first_free = |p: &Pool| {
        p.free.first().map(|a| AllocationDecision::Allocate {
            pool: p.id.clone(),
            address: a.clone(),
        })
    };
    if let Some(wanted) = &req.requested_pool {
        let pool = req.pools.iter().find(|p| &p.id == wanted);
        return Ok(pool.and_then(first_free).unwrap_or_else(|| {
            AllocationDecision::Exhausted(format!("pool {wanted} has no free address"))
        }));
    }
    let assigned: Vec<&Pool> = req
        .pools
        .iter()
        .filter(|p| p.kind == PoolKind::Assigned)
        .collect();
    if let Some(d) = assigned.iter().find_map(|p| first_free(p)) {
        return Ok(d);
    }
    let may_use_common = assigned.is_empty() || req.common_overflow_allowed;
    if may_use_common
        && let Some(d) = req
            .pools
            .iter()
            .filter(|p| p.kind == PoolKind::Common)
            .find_map(first_free)
    {
        return Ok(d);
    }
    let family = match req.family {
        IpFamily::V4 => "IPv4",
        IpFamily::V6 => "IPv6",
    };
    Ok(AllocationDecision::Exhausted(if !may_use_common {
        format!(
            "every {family} address of this reseller's assigned pool is in use; ask the provider for a larger pool, or for permission to use the common pool"
        )
    } else if assigned.is_empty() && req.pools.is_empty() {
        format!(
            "there is no {family} pool this service may draw from; ask the provider to create one"
        )
    } else {
        format!(
            "no {family} address is free in the pools this service may draw from; ask the provider for more addresses"
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(id: &str, kind: PoolKind, free: &[&str]) -> Pool {
        Pool {
            id: id.into(),
            kind,
            reseller: (kind == PoolKind::Assigned).then(|| "7".into()),
            family: IpFamily::V4,
            free: free.iter().map(|a| a.to_string()).collect(),
            free_count: free.len() as u64,
            quarantined: 0,
            quarantine_days: 0,
        }
    }

    fn request(pools: Vec<Pool>, overflow: bool) -> AllocationRequest {
        AllocationRequest {
            reseller: Some("7".into()),
            service: "1".into(),
            kind: AddressKind::Static,
            family: IpFamily::V4,
            requested_address: None,
            requested_pool: None,
            pools,
            common_overflow_allowed: overflow,
            at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    fn chosen(d: AllocationDecision) -> (String, String) {
        match d {
            AllocationDecision::Allocate { pool, address } => (pool, address),
            other => panic!("no address: {other:?}"),
        }
    }

    #[test]
    fn an_assigned_pool_comes_first() {
        let req = request(
            vec![
                pool("2", PoolKind::Assigned, &["10.0.1.5"]),
                pool("1", PoolKind::Common, &["10.0.0.1"]),
            ],
            false,
        );
        assert_eq!(
            chosen(allocate(&req).unwrap()),
            ("2".into(), "10.0.1.5".into())
        );
    }

    #[test]
    fn without_an_assigned_pool_the_common_pool_serves() {
        let req = request(vec![pool("1", PoolKind::Common, &["10.0.0.1"])], false);
        assert_eq!(
            chosen(allocate(&req).unwrap()),
            ("1".into(), "10.0.0.1".into())
        );
    }

    #[test]
    fn an_exhausted_assigned_pool_falls_back_only_when_allowed() {
        let pools = || {
            vec![
                pool("2", PoolKind::Assigned, &[]),
                pool("1", PoolKind::Common, &["10.0.0.1"]),
            ]
        };
        match allocate(&request(pools(), false)).unwrap() {
            AllocationDecision::Exhausted(why) => assert!(why.contains("permission"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            chosen(allocate(&request(pools(), true)).unwrap()),
            ("1".into(), "10.0.0.1".into())
        );
    }

    #[test]
    fn a_requested_address_is_given_as_checked() {
        let mut req = request(
            vec![pool("1", PoolKind::Common, &["10.0.0.9", "10.0.0.1"])],
            false,
        );
        req.requested_pool = Some("1".into());
        req.requested_address = Some("10.0.0.9".into());
        assert_eq!(
            chosen(allocate(&req).unwrap()),
            ("1".into(), "10.0.0.9".into())
        );
    }
}
