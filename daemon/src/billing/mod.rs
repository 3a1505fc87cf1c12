//! Billing: tariffs, quotes, orders, renewals, tariff changes, addon
//! changes, suspension and deletion of services, and the daily job's
//! billing step.

mod addons;
mod changes;
pub mod daily;
pub mod funds;
pub mod model;
mod order_policy;
mod orders;
pub mod quotes;
mod renewals;
pub(crate) mod requests;
mod services;
mod suspension;
pub(crate) mod tables;
pub mod tariffs;
