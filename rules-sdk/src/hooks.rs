//! One trait per hook. Each default method answers "not implemented"; a module
//! implements the traits of the hooks it exports (`export_hooks!`), or all six
//! with empty `impl`s for those it leaves to the daemon's defaults
//! (`export_rules!`).

use crate::bindings::rulesd::rules::types as w;
use crate::convert::*;
use crate::model::*;
use crate::worlds::exported::*;
use alloc::format;
use core::marker::PhantomData;

fn not_implemented<T>(hook: &str) -> Result<T, RuleError> {
    Err(RuleError::NotImplemented(format!(
        "the {hook} hook is not implemented by this module"
    )))
}

/// Price of an order, a renewal or one day of a daily-charged service.
///
/// ```no_run
/// use rules_sdk::*;
/// struct Flat;
/// impl Pricing for Flat {
///     fn price(req: PriceRequest) -> Result<PriceDecision, RuleError> {
///         let start = req.at.date_naive();
///         let expires = add_months(start, req.months);
///         Ok(PriceDecision {
///             lines: vec![Line::charge(LineKind::Order, "flat", Decimal::new(500, 2))
///                 .covering(start, expires)],
///             period_start: start,
///             expires,
///         })
///     }
/// }
/// ```
pub trait Pricing {
    fn price(request: PriceRequest) -> Result<PriceDecision, RuleError> {
        let _ = request;
        not_implemented("pricing")
    }
}

/// Charges, refunds and the new expiry when a service changes tariff.
///
/// ```no_run
/// use rules_sdk::*;
/// struct NoChanges;
/// impl TariffChange for NoChanges {
///     fn change(req: ChangeRequest) -> Result<ChangeDecision, RuleError> {
///         Err(RuleError::Denied(format!("tariff {} cannot be changed", req.from.name)))
///     }
/// }
/// ```
pub trait TariffChange {
    fn change(request: ChangeRequest) -> Result<ChangeDecision, RuleError> {
        let _ = request;
        not_implemented("tariff-change")
    }
}

/// Addon orders and cancellations mid-period, downtime, cancellations.
///
/// ```no_run
/// use rules_sdk::*;
/// struct NoRefunds;
/// impl Proration for NoRefunds {
///     fn prorate(_req: ProrationRequest) -> Result<ProrationDecision, RuleError> {
///         Ok(ProrationDecision { lines: vec![] })
///     }
/// }
/// ```
pub trait Proration {
    fn prorate(request: ProrationRequest) -> Result<ProrationDecision, RuleError> {
        let _ = request;
        not_implemented("proration")
    }
}

/// Which pool and address a container gets.
///
/// ```no_run
/// use rules_sdk::*;
/// struct FirstFree;
/// impl IpAllocation for FirstFree {
///     fn allocate(req: AllocationRequest) -> Result<AllocationDecision, RuleError> {
///         Ok(req.pools.iter()
///             .find_map(|p| p.free.first().map(|a| AllocationDecision::Allocate {
///                 pool: p.id.clone(), address: a.clone() }))
///             .unwrap_or(AllocationDecision::Deny("no free address".into())))
///     }
/// }
/// ```
pub trait IpAllocation {
    fn allocate(request: AllocationRequest) -> Result<AllocationDecision, RuleError> {
        let _ = request;
        not_implemented("ip-allocation")
    }
}

/// Which pooled license a server gets, and what a change of the server does
/// to its license.
///
/// ```no_run
/// use rules_sdk::*;
/// /// Never reuses a pooled license: every order is a new one.
/// struct AlwaysNew;
/// impl LicensePool for AlwaysNew {
///     fn decide(req: LicenseRequest) -> Result<LicenseDecision, RuleError> {
///         let name = format!("Item #{} addon {}", req.service_id, req.service_name);
///         Ok(LicenseDecision::Take(Take { candidates: vec![], name }))
///     }
/// }
/// ```
pub trait LicensePool {
    fn decide(request: LicenseRequest) -> Result<LicenseDecision, RuleError> {
        let _ = request;
        not_implemented("license-pool")
    }
}

/// The reseller's shadow lines for its client's retail lines: one per
/// line, in parts per resource type.
///
/// ```no_run
/// use rules_sdk::*;
/// struct HalfOfRetail;
/// impl Wholesale for HalfOfRetail {
///     fn wholesale(req: WholesaleRequest) -> Result<WholesaleDecision, RuleError> {
///         let half = |l: &Line| {
///             let amount = round_to_minor_unit(l.amount / Decimal::TWO, &req.currency);
///             vec![WholesalePart { resource: BASE_RESOURCE.into(), amount }]
///         };
///         Ok(WholesaleDecision { shadows: req.lines.iter().map(half).collect() })
///     }
/// }
/// ```
pub trait Wholesale {
    fn wholesale(request: WholesaleRequest) -> Result<WholesaleDecision, RuleError> {
        let _ = request;
        not_implemented("wholesale")
    }
}

/// Adapts a type implementing the hook traits to the generated export traits.
#[doc(hidden)]
pub struct Exports<T>(PhantomData<T>);

fn run<I, O, WI, WO>(
    input: WI,
    convert_in: fn(WI) -> Result<I, RuleError>,
    rule: fn(I) -> Result<O, RuleError>,
    convert_out: fn(O) -> WO,
) -> Result<WO, w::RuleError> {
    convert_in(input)
        .and_then(rule)
        .map(convert_out)
        .map_err(err_out)
}

impl<T: Pricing + 'static> wpr::Guest for Exports<T> {
    fn price(request: wpr::PriceRequest) -> Result<wpr::PriceDecision, w::RuleError> {
        run(request, price_in, T::price, price_out)
    }
}

impl<T: TariffChange + 'static> wtc::Guest for Exports<T> {
    fn change(request: wtc::ChangeRequest) -> Result<wtc::ChangeDecision, w::RuleError> {
        run(request, change_in, T::change, change_out)
    }
}

impl<T: Proration + 'static> wpro::Guest for Exports<T> {
    fn prorate(request: wpro::ProrationRequest) -> Result<wpro::ProrationDecision, w::RuleError> {
        run(request, proration_in, T::prorate, proration_out)
    }
}

impl<T: IpAllocation + 'static> wip::Guest for Exports<T> {
    fn allocate(request: wip::AllocationRequest) -> Result<wip::AllocationDecision, w::RuleError> {
        run(request, allocation_in, T::allocate, allocation_out)
    }
}

impl<T: LicensePool + 'static> wlic::Guest for Exports<T> {
    fn decide(request: wlic::LicenseRequest) -> Result<wlic::LicenseDecision, w::RuleError> {
        run(request, license_in, T::decide, license_out)
    }
}

impl<T: Wholesale + 'static> wws::Guest for Exports<T> {
    fn wholesale(request: wws::WholesaleRequest) -> Result<wws::WholesaleDecision, w::RuleError> {
        run(request, wholesale_in, T::wholesale, wholesale_out)
    }
}
