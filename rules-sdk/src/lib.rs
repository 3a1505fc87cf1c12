//! Write rulesd rule modules in plain Rust.
//!
//! A rule module is a WebAssembly component that exports some of the hooks of the
//! `rulesd:rules` WIT package (see `wit/rules.wit`). This crate hides the
//! generated bindings: you implement one trait per hook against
//! [`rust_decimal::Decimal`] and [`chrono`] types, then call [`export_hooks!`]
//! naming those hooks: the component exports them and no others.
//! ([`export_rules!`] exports all six; a trait's default method answers
//! [`RuleError::NotImplemented`], so the hooks left out get an empty `impl`.)
//! The daemon routes a hook to a module only when the rules directory binds it
//! there; unbound hooks use the embedded default module.
//!
//! Rules are pure: there is no clock (the decision time is `request.at`), no
//! randomness, no filesystem, network or environment. A panic traps the call and
//! the daemon reports it as a failed decision; nothing changes.
//!
//! # With or without std
//!
//! A module may use std. It then imports a dozen WASI functions (std's panic
//! messages, environment and exit), which the daemon defines frozen (the
//! clock reads 1970-01-01, random bytes are a fixed sequence, there is no
//! environment, file or network; a panic's message comes back with the
//! call's error), and each import costs
//! a little at every instantiation (one per decision).
//! For the cheapest decisions, leave std out: start the crate with
//! `#![cfg_attr(target_arch = "wasm32", no_std)]` and `extern crate alloc;`
//! (use `alloc::{format, vec, string::String, vec::Vec}`), and enable this
//! crate's `no-std` feature, which supplies the heap allocator (a bump
//! allocator: an instance lives for one call), the `cabi_realloc` export and a
//! panic handler that traps. The embedded default module is built this way.
//! A module that keeps std must leave the feature off (std has its own panic
//! handler).
//!
//! ```no_run
//! use rules_sdk::*;
//!
//! struct HalfPrice;
//!
//! impl Pricing for HalfPrice {
//!     fn price(req: PriceRequest) -> Result<PriceDecision, RuleError> {
//!         let start = req.at.date_naive();
//!         let full = req.tariff.price_for(req.months).ok_or_else(|| {
//!             RuleError::Denied(format!("{} months are not sold", req.months))
//!         })?;
//!         let expires = add_months(start, req.months);
//!         // A line holds whole cents (whole yen, ...): the daemon refuses finer.
//!         let half = round_to_minor_unit(full / Decimal::TWO, &req.tariff.currency);
//!         Ok(PriceDecision {
//!             lines: vec![Line::charge(LineKind::Order, "half price", half)
//!                 .covering(start, expires)],
//!             period_start: start,
//!             expires,
//!         })
//!     }
//! }
//!
//! export_hooks!(HalfPrice: pricing);
//! ```

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod calendar;
mod convert;
mod currency;
mod hooks;
mod model;
#[cfg(all(feature = "no-std", target_arch = "wasm32"))]
mod runtime;
mod text;

pub use calendar::{add_months, days_between, days_in_month, first_of_next_month};
pub use chrono::{DateTime, Datelike, NaiveDate, Utc};
pub use currency::{minor_units, round_to_minor_unit};
pub use hooks::{IpAllocation, LicensePool, Pricing, Proration, TariffChange, Wholesale};
pub use model::*;
pub use rust_decimal::{Decimal, RoundingStrategy};

/// The contract's shared types (`interface types`), generated once, with the
/// pricing world (see [`worlds`]). Not part of the API.
#[doc(hidden)]
pub mod bindings {
    pub use crate::worlds::pricing::rulesd;
}

/// One world per hook (`pricing-rule`, ...), each exporting one interface.
/// Not part of the API; used by [`export_hooks!`].
///
/// A component's embedded world must name exactly the interfaces it exports
/// (the componentizer refuses a world with an export the module lacks), and
/// each world's description is only linked into a module that invokes its
/// export macro. So a module exporting pricing and proration invokes two
/// of these, and its world is the union of the two.
#[doc(hidden)]
pub mod worlds {
    /// Each hook's exported interface, by a short name.
    pub(crate) mod exported {
        pub use super::ip_allocation::exports::rulesd::rules::ip_allocation as wip;
        pub use super::license_pool::exports::rulesd::rules::license_pool as wlic;
        pub use super::pricing::exports::rulesd::rules::pricing as wpr;
        pub use super::proration::exports::rulesd::rules::proration as wpro;
        pub use super::tariff_change::exports::rulesd::rules::tariff_change as wtc;
        pub use super::wholesale::exports::rulesd::rules::wholesale as wws;
    }

    pub mod pricing {
        wit_bindgen::generate!({
            world: "pricing-rule",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "rules_sdk::worlds::pricing",
            // Every world shares these types; this one generates them.
            with: { "rulesd:rules/types@0.5.0": generate },
        });
    }
    pub mod tariff_change {
        wit_bindgen::generate!({
            world: "tariff-change-rule",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "rules_sdk::worlds::tariff_change",
            with: { "rulesd:rules/types@0.5.0": crate::bindings::rulesd::rules::types },
        });
    }
    pub mod proration {
        wit_bindgen::generate!({
            world: "proration-rule",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "rules_sdk::worlds::proration",
            with: { "rulesd:rules/types@0.5.0": crate::bindings::rulesd::rules::types },
        });
    }
    pub mod ip_allocation {
        wit_bindgen::generate!({
            world: "ip-allocation-rule",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "rules_sdk::worlds::ip_allocation",
            with: { "rulesd:rules/types@0.5.0": crate::bindings::rulesd::rules::types },
        });
    }
    pub mod license_pool {
        wit_bindgen::generate!({
            world: "license-pool-rule",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "rules_sdk::worlds::license_pool",
            with: { "rulesd:rules/types@0.5.0": crate::bindings::rulesd::rules::types },
        });
    }
    pub mod wholesale {
        wit_bindgen::generate!({
            world: "wholesale-rule",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "rules_sdk::worlds::wholesale",
            with: { "rulesd:rules/types@0.5.0": crate::bindings::rulesd::rules::types },
        });
    }
}

#[doc(hidden)]
pub use hooks::Exports;

/// Export a type that implements all six hook traits as this component's rules.
///
/// Call it once, at the crate root of a `cdylib` built for `wasm32-wasip2`.
///
/// Implement the hooks you need and leave the others as empty `impl`s; their
/// default methods answer "not implemented by this module". To export only
/// some hooks, use [`export_hooks!`].
#[macro_export]
macro_rules! export_rules {
    ($rules:ty) => {
        $crate::export_hooks!($rules: pricing, tariff_change, proration, ip_allocation, license_pool, wholesale);
    };
}

/// Export the named hooks of a type, and only those: the component exports
/// these interfaces and no others (`rulesd check` lists them), and the type
/// implements just their traits.
///
/// Hooks are named in snake case: `pricing`, `tariff_change`, `proration`,
/// `ip_allocation`, `license_pool`, `wholesale`.
///
/// ```no_run
/// use rules_sdk::*;
/// struct Free;
/// impl Pricing for Free {
///     fn price(req: PriceRequest) -> Result<PriceDecision, RuleError> {
///         let start = req.at.date_naive();
///         Ok(PriceDecision { lines: vec![], period_start: start, expires: add_months(start, req.months) })
///     }
/// }
/// export_hooks!(Free: pricing);
/// ```
#[macro_export]
macro_rules! export_hooks {
    ($rules:ty: $($hook:ident),+ $(,)?) => {
        // Only a wasm build exports the component symbols; on the host the crate
        // stays an ordinary library so its rules can be unit tested natively.
        #[cfg(target_arch = "wasm32")]
        type __RulesdExports = $crate::Exports<$rules>;
        $(
            #[cfg(target_arch = "wasm32")]
            $crate::worlds::$hook::export!(__RulesdExports with_types_in $crate::worlds::$hook);
        )+
    };
}
