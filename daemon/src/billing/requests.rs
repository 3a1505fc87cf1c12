//! The requests billing hands the pricing and proration rules, built from
//! the facts the same way for quotes, orders, renewals and the daily job,
//! and decided through the decision seam.

use crate::app::{ApiError, App};
use crate::contract::bindings::{pricing, proration};
use crate::contract::wit::addons_to_wit;
use crate::decide::{Decision, RuleInput, RuleOutput};
use crate::domain::ids::AccountId;
use crate::domain::ledger::Priced;
use crate::domain::service::ServiceFacts;
use crate::domain::tariff::{AddonQuantity, PriceTerms};
use chrono::{DateTime, SecondsFormat, Utc};

/// A decision time as rules see it (RFC 3339, whole seconds).
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

/// The validated price in a pricing decision.
pub(crate) fn priced(decision: &Decision) -> Result<Priced, ApiError> {
    match &decision.output {
        RuleOutput::Pricing(priced) => Ok(priced.clone()),
        other => Err(ApiError::Internal(format!(
            "a pricing request was answered with a {:?} decision",
            other
        ))),
    }
}

impl App {
    /// Price through the module bound for `reseller`.
    pub(crate) async fn decide_price(
        &self,
        reseller: Option<AccountId>,
        request: pricing::PriceRequest,
    ) -> Result<(Decision, Priced), ApiError> {
        let decision = self.decide(reseller, RuleInput::Pricing(request)).await?;
        let priced = priced(&decision)?;
        Ok((decision, priced))
    }

    /// Prorate through the module bound for `reseller`.
    pub(crate) async fn decide_proration(
        &self,
        reseller: Option<AccountId>,
        request: proration::ProrationRequest,
    ) -> Result<Decision, ApiError> {
        self.decide(reseller, RuleInput::Proration(request)).await
    }
}
