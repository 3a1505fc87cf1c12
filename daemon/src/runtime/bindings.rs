//! Host bindings generated from `rules-sdk/wit`, the single source of the contract.

wasmtime::component::bindgen!({
    world: "rules",
    path: "../rules-sdk/wit",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use self::exports::rulesd::rules::{
    ip_allocation, license_pool, pricing, proration, tariff_change, wholesale,
};
pub use self::rulesd::rules::types;
