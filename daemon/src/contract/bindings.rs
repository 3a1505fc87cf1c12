//! Host bindings generated from `rules-sdk/wit`, the single source of the contract.

wasmtime::component::bindgen!({
    world: "rules",
    path: "../rules-sdk/wit",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    // Calls run on a wasmtime fiber, so a long rule yields to the reactor
    // (see `RuleModule::run`) instead of needing a thread of its own.
    exports: { default: async },
});

pub use self::exports::rulesd::rules::{
    ip_allocation, license_pool, pricing, proration, tariff_change, wholesale,
};
pub use self::rulesd::rules::types;
