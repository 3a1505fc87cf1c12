//! The facts of the business as the API sees them (JSON shapes, validation) and
//! their translation into the rule contract's types.

pub mod accounts;
pub mod day;
pub mod decision;
pub mod invalid;
pub mod ledger;
pub mod money;
pub mod service;
pub mod tariff;
