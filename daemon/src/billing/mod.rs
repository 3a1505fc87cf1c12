//! Billing: tariffs, quotes, orders, renewals, suspension and deletion of
//! services, and the daily job's billing step.

pub mod daily;
mod facts;
mod order_policy;
pub mod quotes;
pub(crate) mod requests;
pub mod services;
pub mod tariffs;
