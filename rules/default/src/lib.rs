//! The embedded default rule module.
//!
//! It implements the BILLmanager tariff behaviour of the seed documents:
//!
//! - pricing (`pricing`): orders and renewals at the period price (special
//!   renewal prices, setup fee, addons above the included quantity);
//!   calendar-based charging with a pro-rata day (`calendar_based`); late
//!   renewal fees: none, fixed, a percentage of the late days' cost, or renewal
//!   from the suspension date (`late_fee`); daily charging, with a day price or
//!   a day cost derived from the order period (`daily`);
//! - tariff change (`tariff_change`): seed 002's change policies of the
//!   tariff being left (change period, add funds or refund, forbidden, extra
//!   charge only, full payment from today or from the expiry), valuing both
//!   tariffs at their order price plus addons for the days left of the
//!   current period (`period`); a daily-charged service changes without
//!   money;
//! - proration (`proration`): addon units added mid-period, prorated to the
//!   expiry or at the full price of the last paid period as the tariff's
//!   addon order policy says, and removed, refunding their unused days or
//!   nothing as its cancellation policy says; the downtime of a daily
//!   service the client suspended, refunded or not as the tariff says.
//!   Cancellations of a service before its expiry answer "not implemented";
//! - IP allocation (`ip_allocation`): seed 000's reseller and common pools;
//! - license pool (`license_pool`): seed 003's control-panel licenses, taken
//!   from the pool longest free first, following their server's life;
//! - wholesale (`wholesale`): seed 001's shadow lines, the resources a
//!   retail line pays for at the reseller's wholesale prices.
//!
//! Rounding: money is computed exactly and rounded once, on the final amount of
//! each line, to the currency's minor unit (2 decimal places for most, 0 for
//! JPY, 3 for KWD: `rules_sdk::minor_units`), half away from zero
//! (`RoundingStrategy::MidpointAwayFromZero`), and written with exactly that
//! many decimals ("5.00" EUR, "5" JPY). Nothing is rounded on the way: a
//! prorated price is the period price × the share in one expression, a late
//! fee is the period price × late days × percent / (100 × the period's days),
//! a tariff change's difference is (new value − old value) × days left / the
//! period's days, a prorated addon units × price × months × days left / the
//! period's days. Amounts spread over days (a daily-charged order period) use
//! cumulative rounding, day `k` of `n` costing
//! `round(T × k / n) − round(T × (k − 1) / n)`, so the days of a period always
//! add up to exactly its total `T`. Time bought with money (a change of
//! period) is whole days, rounded down.

// The module leaves std out: a component without the WASI plumbing std brings
// is cheaper to instantiate, and the daemon instantiates one per decision
// (rules-sdk's `no-std` feature supplies the allocator and panic handler).
// Host builds (unit and property tests, clippy) keep std.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

/// What std's prelude would give; the same items on host builds.
mod prelude {
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

mod calendar_based;
mod daily;
#[cfg(test)]
mod fixtures;
mod ip_allocation;
mod late_fee;
mod license_pool;
mod money;
mod period;
mod pricing;
mod proration;
mod tariff_change;
mod wholesale;

#[cfg(test)]
mod change_properties;
#[cfg(test)]
mod properties;

use rules_sdk::*;

/// The default rules. Hooks without an `impl` body answer "not implemented".
pub struct DefaultRules;

impl TariffChange for DefaultRules {
    fn change(request: ChangeRequest) -> Result<ChangeDecision, RuleError> {
        tariff_change::change(&request)
    }
}
impl IpAllocation for DefaultRules {
    fn allocate(request: AllocationRequest) -> Result<AllocationDecision, RuleError> {
        ip_allocation::allocate(&request)
    }
}
impl LicensePool for DefaultRules {
    fn decide(request: LicenseRequest) -> Result<LicenseDecision, RuleError> {
        license_pool::decide(&request)
    }
}
impl Wholesale for DefaultRules {
    fn wholesale(request: WholesaleRequest) -> Result<WholesaleDecision, RuleError> {
        wholesale::wholesale(&request)
    }
}

#[cfg(feature = "export")]
export_rules!(DefaultRules);
