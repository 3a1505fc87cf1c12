//! Typed errors of the wasm host: loading a module, and calling a rule.

use crate::contract::hook::Hook;

/// Why a module could not be loaded. The previous version (if any) keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{name}: not a WebAssembly component: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "{name}: this is a core WebAssembly module, not a component; build it for \
         wasm32-wasip2 (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule { name: String },
    #[error(
        "{name}: exports none of the rule hooks (expected at least one of {expected}); \
         exports found: {found}"
    )]
    NoHooks {
        name: String,
        expected: String,
        found: String,
    },
    #[error(
        "{name}: built for the rule contract rulesd:rules@{found}, but this daemon serves \
         rulesd:rules@{expected}; rebuild it against the WIT of this daemon (rules-sdk/wit)"
    )]
    ContractVersion {
        name: String,
        found: String,
        expected: &'static str,
    },
    #[error("{name}: export {hook} does not match the rulesd:rules@{version} contract: {reason}", version = crate::contract::hook::CONTRACT_VERSION)]
    Mismatch {
        name: String,
        hook: Hook,
        reason: String,
    },
    #[error("{name}: needs more than the sandbox allows: {reason}")]
    OverLimits { name: String, reason: String },
    #[error("{name}: cannot be instantiated in the sandbox: {reason}")]
    Instantiate { name: String, reason: String },
    #[error("wasm engine configuration rejected: {0}")]
    Engine(String),
}

/// Why a rule call produced no decision. The request fails; nothing changes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("module {module} does not export the {hook} hook")]
    NotExported { module: String, hook: Hook },
    #[error(
        "rule {module} ran out of fuel (budget {budget} instructions): it loops or does too much work"
    )]
    OutOfFuel { module: String, budget: u64 },
    #[error("rule {module} exceeded its wall-clock limit of {limit_ms} ms")]
    Timeout { module: String, limit_ms: u128 },
    #[error("rule {module} exceeded its memory limit: {detail}")]
    Memory { module: String, detail: String },
    #[error("rule {module} trapped: {detail}")]
    Trap { module: String, detail: String },
    #[error("rule {module} returned an invalid decision: {detail}")]
    InvalidDecision { module: String, detail: String },
    #[error("too many rule calls in flight; try again")]
    Busy,
}
