//! Billing: tariffs, quotes, orders, renewals, suspension and deletion of
//! services, and the daily job's billing step.

pub mod daily;
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
