//! What clients send and receive for pools and allocations, and what is
//! stored.

use super::address::Family;
use crate::domain::ids::{AccountId, AllocationId, PoolId, ReceiptId, ServiceId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new pool (provider only).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPool {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: String,
    /// The addresses of the pool: CIDR blocks ("10.0.0.0/24",
    /// "2001:db8::/64"), start-end ranges ("10.0.1.10-10.0.1.99") or single
    /// addresses, all of one family; they may not overlap.
    pub ranges: Vec<String>,
    /// Addresses never handed out: network, broadcast, gateway, hidden
    /// ranges. Same forms as `ranges`, inside them.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// The reseller the pool is assigned to; absent: a common pool.
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    /// Days a released address waits before it is handed out again.
    #[serde(default)]
    pub quarantine_days: u32,
}

/// A change to a pool (provider only): its name, its reseller (reassigning
/// keeps the addresses already given with their services) or its quarantine.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolChange {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: Option<String>,
    /// `{"reseller_id": 7}` assigns the pool to reseller 7,
    /// `{"reseller_id": null}` makes it common; absent: unchanged.
    #[serde(default, deserialize_with = "crate::domain::present")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<Option<AccountId>>,
    #[serde(default)]
    pub quarantine_days: Option<u32>,
}

/// A stored pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pool {
    #[schema(value_type = u64)]
    pub id: PoolId,
    pub name: String,
    pub family: Family,
    /// Normalised: "first-last" or one address, lowest first.
    pub ranges: Vec<String>,
    pub excluded: Vec<String>,
    /// Absent for a common pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    pub quarantine_days: u32,
    /// Addresses that can be handed out: the ranges less the exclusions.
    #[schema(value_type = String, example = "254")]
    #[serde(with = "count")]
    pub size: u128,
    pub created_at: DateTime<Utc>,
}

/// A pool with how its addresses are used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PoolView {
    #[serde(flatten)]
    pub pool: Pool,
    #[serde(flatten)]
    pub usage: Usage,
}

/// How a pool's addresses are used. Counts are decimal strings: an IPv6
/// pool holds more addresses than a JSON number can carry exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    #[schema(value_type = String)]
    #[serde(with = "count")]
    pub free: u128,
    #[schema(value_type = String)]
    #[serde(with = "count")]
    pub allocated: u128,
    /// Released, waiting out the pool's quarantine.
    #[schema(value_type = String)]
    #[serde(with = "count")]
    pub quarantined: u128,
}

/// Counts as decimal strings.
pub(crate) mod count {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&n.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Static addresses are the container's own; dynamic ones may be reassigned
/// by the provider's tooling. Both are counted per reseller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AddressKind {
    #[default]
    Static,
    Dynamic,
}

/// Ask for an address for a service.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocation {
    #[schema(value_type = u64)]
    pub service_id: ServiceId,
    #[serde(default)]
    pub kind: AddressKind,
    /// Default IPv4 (or the family of `address`).
    #[serde(default)]
    pub family: Option<Family>,
    /// A particular address (it must be free, in a pool the caller may use).
    #[serde(default)]
    pub address: Option<String>,
    /// A particular pool (one the caller may use).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub pool_id: Option<PoolId>,
}

/// An address given to a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Allocation {
    #[schema(value_type = u64)]
    pub id: AllocationId,
    /// Absent when shown to a reseller for a common pool (which it may not see).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub pool_id: Option<PoolId>,
    pub address: String,
    pub family: Family,
    pub kind: AddressKind,
    #[schema(value_type = u64)]
    pub service_id: ServiceId,
    /// The reseller of the service's client; absent for the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    /// Whether it came from a common pool.
    pub common: bool,
    pub created_at: DateTime<Utc>,
    /// The decision receipt of the rule call that chose it.
    #[schema(value_type = u64)]
    pub receipt_id: ReceiptId,
}

/// A released address and the day it may be handed out again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Released {
    #[serde(flatten)]
    pub allocation: Allocation,
    /// The first day the address is free again (today without a quarantine).
    pub free_from: NaiveDate,
}

/// Addresses a reseller's services hold, by kind (seed: what a reseller
/// sees of the common pools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct KindCounts {
    #[serde(rename = "static")]
    pub static_: u64,
    pub dynamic: u64,
}

/// `GET /v1/ip-usage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct IpUsage {
    /// Addresses from common pools held by the reseller's services (for the
    /// provider: by every service).
    pub common: KindCounts,
    /// Addresses from pools assigned to the reseller (for the provider: to
    /// any reseller).
    pub assigned: KindCounts,
    /// Per pool, with utilisation: only the pools the caller may see.
    pub pools: Vec<PoolView>,
}
