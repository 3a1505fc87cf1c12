//! Billing: tariffs (and the enumerations of their control-panel add-on),
//! quotes, orders, renewals, tariff changes, addon changes, edits (control
//! panel, primary IP), suspension and deletion of services, and the daily
//! job's billing step.

mod addons;
mod changes;
pub mod daily;
mod edits;
mod enumerations;
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
