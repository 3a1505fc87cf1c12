//! The decision seam: every rule call of every hook goes through here.
//!
//! A decision is made in four steps, the same for every hook:
//! 1. the domain builds the request from the facts it gathered
//!    ([`RuleInput`], one variant per hook);
//! 2. [`App::decide`] resolves the module bound to the hook for the reseller
//!    and calls it under the instance-pool permit, counting the outcome;
//! 3. [`run`] validates the answer against the request ([`checks`]), so
//!    nothing unchecked leaves this module;
//! 4. the domain applies the [`Decision`] in its write transaction and
//!    stores its receipt there ([`receipt::store`]), so `rulesd diff` can
//!    re-run it with [`run`] again.
//!
//! To add a hook: a variant in [`RuleInput`] and [`RuleOutput`], its call
//! and check in [`run`], and a module for its output's checks (`checks` for
//! pricing and proration, `change` for tariff-change, `allocation` for
//! ip-allocation, `license` for license-pool, `wholesale` for wholesale).

pub mod allocation;
pub mod change;
pub mod checks;
pub mod license;
pub mod receipt;
pub mod wholesale;

use crate::app::metrics::Outcome;
use crate::app::{ApiError, App};
use crate::contract::bindings::types as wit;
use crate::contract::hook::Hook;
use crate::domain::ids::AccountId;
use crate::runtime::{CallError, RuleModule};
use allocation::check_allocation;
use change::check_change;
use checks::{check_lines, check_price};
use license::check_license;
pub use receipt::{Receipt, RuleInput, RuleOutput, Subject};
use wholesale::check_wholesale;

/// A validated rule decision, ready to be applied and recorded with its receipt.
#[derive(Debug, Clone)]
pub struct Decision {
    pub hook: Hook,
    pub module: String,
    pub sha256: String,
    pub fuel_used: u64,
    pub input: RuleInput,
    pub output: RuleOutput,
}

/// Call `module` with `input` and validate its answer. The one place a
/// hook's call and its checks are paired: requests, the daily job and
/// `rulesd diff` all decide through it.
pub async fn run(module: &RuleModule, input: RuleInput) -> Result<Decision, ApiError> {
    let decided = decide(module, &input).await;
    // An answer the daemon refuses may come of what a kept instance kept:
    // with reuse on it is asked again of a fresh instance, whose answer
    // stands (runtime/warm.rs).
    let decided = match decided {
        Err(ApiError::RuleFailed(CallError::InvalidDecision { .. }))
            if module.reuses_instances() =>
        {
            module.refused_while_reusing();
            crate::runtime::fresh_only(decide(module, &input)).await
        }
        other => other,
    };
    let (output, fuel_used) = decided?;
    Ok(Decision {
        hook: input.hook(),
        module: module.name.clone(),
        sha256: module.sha256.clone(),
        fuel_used,
        input,
        output,
    })
}

/// One call of `module` on `input`, and the daemon's checks of its answer.
async fn decide(module: &RuleModule, input: &RuleInput) -> Result<(RuleOutput, u64), ApiError> {
    Ok(match input {
        RuleInput::Pricing(request) => {
            let called = module.price(request).await?;
            let decision = called.value.map_err(rule_refusal)?;
            let priced = check_price(&module.name, request, &decision)?;
            (RuleOutput::Pricing(priced), called.fuel_used)
        }
        RuleInput::TariffChange(request) => {
            let called = module.change_tariff(request).await?;
            let decision = called.value.map_err(rule_refusal)?;
            let changed = check_change(&module.name, request, &decision)?;
            (RuleOutput::TariffChange(changed), called.fuel_used)
        }
        RuleInput::Proration(request) => {
            let called = module.prorate(request).await?;
            let decision = called.value.map_err(rule_refusal)?;
            let lines = check_lines(&module.name, &request.tariff.currency, &decision.lines)?;
            (RuleOutput::Proration { lines }, called.fuel_used)
        }
        RuleInput::IpAllocation(request) => {
            let called = module.allocate_ip(request).await?;
            let decision = called.value.map_err(rule_refusal)?;
            let (pool, address) = check_allocation(&module.name, request, decision)?;
            (RuleOutput::IpAllocation { pool, address }, called.fuel_used)
        }
        RuleInput::LicensePool(request) => {
            let called = module.decide_license(request).await?;
            let decision = called.value.map_err(rule_refusal)?;
            let action = check_license(&module.name, request, decision)?;
            (RuleOutput::LicensePool(action), called.fuel_used)
        }
        RuleInput::Wholesale(request) => {
            let called = module.wholesale(request).await?;
            let decision = called.value.map_err(rule_refusal)?;
            let (lines, parts) = check_wholesale(&module.name, request, decision)?;
            (RuleOutput::Wholesale { lines, parts }, called.fuel_used)
        }
    })
}

impl App {
    /// Decide `input` with the module bound to its hook for `reseller` (None:
    /// the provider's binding), counting the call for `GET /metrics`.
    pub async fn decide(
        &self,
        reseller: Option<AccountId>,
        input: RuleInput,
    ) -> Result<Decision, ApiError> {
        let hook = input.hook();
        self.with_module(hook, reseller, async move |m| {
            let result = run(m, input).await;
            self.count_call(hook, m, &result);
            result
        })
        .await?
    }

    /// Count a rule call's outcome for `GET /metrics`.
    pub(crate) fn count_call<T>(
        &self,
        hook: Hook,
        module: &RuleModule,
        result: &Result<T, ApiError>,
    ) {
        self.metrics
            .rule_call(hook, &module.name, Outcome::of(result));
    }
}

/// Turn a rule's refusal into the API error a person can act on. Its text
/// is the rule's own: control characters become spaces and it is cut at
/// [`REFUSAL_CHARS`], so a rule cannot send megabytes or terminal escapes
/// through the API and the log.
pub(crate) fn rule_refusal(e: wit::RuleError) -> ApiError {
    match e {
        wit::RuleError::NotImplemented(m) => ApiError::NotImplemented(refusal_text(&m)),
        wit::RuleError::Denied(m) => ApiError::Denied(refusal_text(&m)),
        wit::RuleError::InvalidInput(m) => ApiError::RuleRejectedInput(refusal_text(&m)),
    }
}

/// The longest refusal text passed on, in characters.
const REFUSAL_CHARS: usize = 1000;

/// A refusal's text without control characters (a rule could forge log
/// lines) and at most [`REFUSAL_CHARS`] long.
pub(crate) fn refusal_text(text: &str) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(REFUSAL_CHARS)
        .collect();
    if text.chars().count() > REFUSAL_CHARS {
        clean.push_str(" [cut]");
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_text_is_cut_and_has_no_control_characters() {
        assert_eq!(
            refusal_text("not sold\nfor 3 months\u{1b}[31m"),
            "not sold for 3 months [31m"
        );
        let long = "x".repeat(200_000);
        let cut = refusal_text(&long);
        assert_eq!(cut.chars().count(), REFUSAL_CHARS + " [cut]".len());
        assert!(cut.ends_with(" [cut]"));
        assert_eq!(refusal_text("fine"), "fine");
    }
}
