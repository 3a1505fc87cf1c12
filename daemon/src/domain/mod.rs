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

/// For a field of a change request that may be absent (None: leave it),
/// null (Some(None): reset it) or a value: `#[serde(default,
/// deserialize_with = "crate::domain::present")]`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
