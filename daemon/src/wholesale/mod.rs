//! Reseller wholesale billing (seed 001, H-Sphere resellers): what the
//! provider charges its resellers. So far the price lists: a wholesale
//! price per resource type and unit for one month, and a base price per
//! service, per reseller or as the default for every reseller without its
//! own (`/v1/wholesale-prices`).

pub mod model;
pub mod prices;
pub(crate) mod tables;
