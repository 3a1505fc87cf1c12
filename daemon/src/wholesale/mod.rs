//! Reseller wholesale billing (seed 001, H-Sphere resellers): what the
//! provider charges its resellers for the resources their clients buy.
//!
//! - `prices`: the wholesale price lists (`/v1/wholesale-prices`): a price
//!   per resource type and unit for a month and a base price per service,
//!   per reseller or the default for every reseller;
//! - `shadows`: the shadow line of every line of a reseller's client, in the
//!   same transaction, at the amount the `wholesale` rule decides;
//! - `bills`: at the end of each day, the day's shadow lines summed per
//!   resource type into one bill each (a daily step);
//! - `margins`: retail, wholesale and margin per resource type.

pub mod bills;
pub mod margins;
pub mod model;
pub mod prices;
pub mod shadows;
pub(crate) mod tables;
