//! Asking the pricing and proration rules, the same way for quotes, orders,
//! renewals, the daily job and the replay harness: build the request from the
//! facts, call the bound module, validate the answer, keep it as a
//! [`Decision`] ready to be recorded.

use super::decision::{check_lines, check_price};
use super::ledger::Decision;
use super::metrics::Outcome;
use super::quotes::rule_refusal;
use super::{ApiError, App};
use crate::domain::decision::{Priced, RuleInput, RuleOutput};
use crate::domain::service::ServiceFacts;
use crate::domain::tariff::{AddonQuantity, PriceTerms, addons_to_wit};
use crate::hook::Hook;
use crate::runtime::RuleModule;
use crate::runtime::bindings::{pricing, proration};
use chrono::{DateTime, SecondsFormat, Utc};

pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The request a pricing rule is handed.
pub(crate) fn price_request(
    operation: pricing::Operation,
    tariff: &PriceTerms,
    months: u32,
    addons: &[AddonQuantity],
    service: Option<&ServiceFacts>,
    at: DateTime<Utc>,
) -> pricing::PriceRequest {
    pricing::PriceRequest {
        operation,
        tariff: tariff.to_wit(),
        months,
        addons: addons_to_wit(addons),
        service: service.map(ServiceFacts::to_wit),
        at: instant(at),
    }
}

/// Call the pricing hook of `module` and validate the answer.
pub(crate) async fn price_with(
    module: &RuleModule,
    request: pricing::PriceRequest,
) -> Result<(Decision, Priced), ApiError> {
    let called = module.price(&request).await?;
    let decision = called.value.map_err(rule_refusal)?;
    let priced = check_price(&module.name, &request, &decision)?;
    Ok((
        Decision {
            hook: Hook::Pricing,
            module: module.name.clone(),
            sha256: module.sha256.clone(),
            fuel_used: called.fuel_used,
            input: RuleInput::Pricing(request),
            output: RuleOutput::Pricing(priced.clone()),
        },
        priced,
    ))
}

/// Call the proration hook of `module` and validate the answer.
pub(crate) async fn prorate_with(
    module: &RuleModule,
    request: proration::ProrationRequest,
) -> Result<Decision, ApiError> {
    let called = module.prorate(&request).await?;
    let decision = called.value.map_err(rule_refusal)?;
    let lines = check_lines(&module.name, &request.tariff.currency, &decision.lines)?;
    Ok(Decision {
        hook: Hook::Proration,
        module: module.name.clone(),
        sha256: module.sha256.clone(),
        fuel_used: called.fuel_used,
        input: RuleInput::Proration(request),
        output: RuleOutput::Proration { lines },
    })
}

/// The key rule bindings are looked up by: a reseller's id, or none for the provider.
pub(crate) fn binding(reseller: Option<u64>) -> Option<String> {
    reseller.map(|r| r.to_string())
}

impl App {
    /// Price through the module bound for `reseller`.
    pub(crate) async fn decide_price(
        &self,
        reseller: Option<u64>,
        request: pricing::PriceRequest,
    ) -> Result<(Decision, Priced), ApiError> {
        self.with_module(Hook::Pricing, reseller, async move |m| {
            let result = price_with(m, request).await;
            self.metrics
                .rule_call(Hook::Pricing, &m.name, Outcome::of(&result));
            result
        })
        .await?
    }

    pub(crate) async fn decide_proration(
        &self,
        reseller: Option<u64>,
        request: proration::ProrationRequest,
    ) -> Result<Decision, ApiError> {
        self.with_module(Hook::Proration, reseller, async move |m| {
            let result = prorate_with(m, request).await;
            self.metrics
                .rule_call(Hook::Proration, &m.name, Outcome::of(&result));
            result
        })
        .await?
    }
}
