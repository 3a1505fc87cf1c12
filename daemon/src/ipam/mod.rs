//! IP address management (seed 000): pools of IPv4 and IPv6 addresses,
//! common or assigned to one reseller, and allocations to services chosen
//! by the ip-allocation rule. Free space is kept as intervals (free.rs), so
//! a pool's size costs nothing per allocation.

pub mod address;
pub mod allocations;
mod candidates;
mod free;
pub mod model;
pub mod pools;
pub(crate) mod tables;
