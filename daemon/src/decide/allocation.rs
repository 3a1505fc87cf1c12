//! The checks of an ip-allocation decision that need only the request: the
//! pool must be one offered, the address an address of the request's
//! family. Whether the address is in that pool's ranges, not excluded and
//! free is checked where the pools are known, in the allocation's write
//! transaction (`ipam::allocations`).

use super::refusal_text;
use crate::app::ApiError;
use crate::contract::bindings::ip_allocation::{AllocationDecision, AllocationRequest, IpFamily};
use crate::runtime::CallError;
use std::net::IpAddr;

/// The pool and address a rule chose, or its refusal as an API error.
pub fn check_allocation(
    module: &str,
    request: &AllocationRequest,
    decision: AllocationDecision,
) -> Result<(String, String), ApiError> {
    let invalid = |detail: String| {
        ApiError::RuleFailed(CallError::InvalidDecision {
            module: module.to_string(),
            detail,
        })
    };
    let chosen = match decision {
        AllocationDecision::Allocate(a) => a,
        AllocationDecision::Exhausted(why) => return Err(ApiError::Exhausted(refusal_text(&why))),
        AllocationDecision::Deny(why) => return Err(ApiError::Denied(refusal_text(&why))),
    };
    if !request.pools.iter().any(|p| p.id == chosen.pool) {
        return Err(invalid(format!(
            "answered pool {:?}, which it was not offered",
            refusal_text(&chosen.pool)
        )));
    }
    let ip: IpAddr = chosen.address.parse().map_err(|_| {
        invalid(format!(
            "answered {:?}, which is not an IP address",
            refusal_text(&chosen.address)
        ))
    })?;
    let family_ok = matches!(
        (ip, request.family),
        (IpAddr::V4(_), IpFamily::V4) | (IpAddr::V6(_), IpFamily::V6)
    );
    if !family_ok {
        return Err(invalid(format!(
            "answered {ip}, of the other IP family than was asked for"
        )));
    }
    Ok((chosen.pool, ip.to_string()))
}
