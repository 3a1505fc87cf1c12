//! Write rulesd rule modules in plain Rust.
//!
//! A rule module is a WebAssembly component that exports some of the hooks of the
//! `rulesd:rules` WIT package (see `wit/rules.wit`). This crate hides the
//! generated bindings: you implement one trait per hook against
//! [`rust_decimal::Decimal`] and [`chrono`] types, then call [`export_rules!`].
//!
//! Every hook trait has a default method that answers
//! [`RuleError::NotImplemented`], so a module implements only the hooks it cares
//! about and writes an empty `impl` for the rest. The daemon routes a hook to a
//! module only when the rules directory binds it there; unbound hooks use the
//! embedded default module.
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
//! impl TariffChange for HalfPrice {}
//! impl Proration for HalfPrice {}
//! impl IpAllocation for HalfPrice {}
//! impl LicensePool for HalfPrice {}
//! impl Wholesale for HalfPrice {}
//!
//! export_rules!(HalfPrice);
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

/// The generated bindings. Not part of the API; used by [`export_rules!`].
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "rules",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_rules_world",
        default_bindings_module: "rules_sdk::bindings",
    });
}

#[doc(hidden)]
pub use hooks::Exports;

/// Export a type that implements all six hook traits as this component's rules.
///
/// Call it once, at the crate root of a `cdylib` built for `wasm32-wasip2`.
///
/// Implement the hooks you need and leave the others as empty `impl`s; their
/// default methods answer "not implemented by this module".
#[macro_export]
macro_rules! export_rules {
    ($rules:ty) => {
        // Only a wasm build exports the component symbols; on the host the crate
        // stays an ordinary library so its rules can be unit tested natively.
        #[cfg(target_arch = "wasm32")]
        type __RulesdExports = $crate::Exports<$rules>;
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_rules_world!(__RulesdExports with_types_in $crate::bindings);
    };
}
