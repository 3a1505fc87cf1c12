//! Accounts (provider, resellers, clients, client groups), API keys and
//! authentication.

pub mod accounts;
pub mod auth;
pub(crate) mod tables;
