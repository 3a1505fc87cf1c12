//! The facts of the business as the API sees them: ids, money, days,
//! accounts, tariffs, services and ledger lines, with their validation.
//! Nothing here knows the store, the rule runtime or the contract's types.

pub mod accounts;
pub mod day;
pub mod ids;
pub mod invalid;
pub mod ledger;
pub mod money;
pub mod service;
pub mod tariff;
