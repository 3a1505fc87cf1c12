//! The embedded default rule module.
//!
//! It implements the BILLmanager tariff behaviour from the seed documents. This
//! first version prices orders and renewals (period prices, setup fee, special
//! renewal prices, addons above the included quantity); daily charging,
//! calendar-based pro-rata and late fees answer "not implemented" until the
//! billing core lands, and so do the other five hooks.
//!
//! Rounding: every amount is rounded to 2 decimal places, half away from zero
//! (`RoundingStrategy::MidpointAwayFromZero`), once, on the final line amount.

mod pricing;

use rules_sdk::*;

/// The default rules. Hooks without an `impl` body answer "not implemented".
pub struct DefaultRules;

impl TariffChange for DefaultRules {}
impl Proration for DefaultRules {}
impl IpAllocation for DefaultRules {}
impl LicensePool for DefaultRules {}
impl Wholesale for DefaultRules {}

export_rules!(DefaultRules);
