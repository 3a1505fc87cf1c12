//! `POST /v1/quotes`: a price preview through the pricing rule. It changes
//! nothing; a real order at the same time goes through the same rule call.

use super::decision::{self, Line};
use super::{ApiError, App, Caller, RuleStamp};
use crate::domain::tariff::{self, AddonQuantity, ServiceFacts, Tariff};
use crate::hook::Hook;
use crate::runtime::bindings::{pricing, types as wit};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    #[default]
    Order,
    Renewal,
    Daily,
}

/// What to price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// "order" (default), "renewal" or "daily".
    #[serde(default)]
    pub operation: Operation,
    /// The tariff, inline.
    pub tariff: Tariff,
    /// Period length in months: 1, 3, 12 or 36.
    pub months: u32,
    #[serde(default)]
    pub addons: Vec<AddonQuantity>,
    /// The existing service, required for a renewal.
    #[serde(default)]
    pub service: Option<ServiceFacts>,
    /// Price as this reseller's bound rules would (default: the global rules).
    #[serde(default)]
    pub reseller_id: Option<String>,
    /// The decision time (default: now on the daemon's clock).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// A price preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Quote {
    pub currency: String,
    pub lines: Vec<Line>,
    /// Sum of the lines.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "15.00")]
    pub total: Decimal,
    pub period_start: NaiveDate,
    /// Exclusive end of the paid period.
    pub expires: NaiveDate,
    pub at: DateTime<Utc>,
    pub rule: RuleStamp,
}

impl QuoteRequest {
    fn validate(&self) -> Result<(), ApiError> {
        self.tariff.validate()?;
        if self.operation != Operation::Daily && !tariff::PERIODS.contains(&self.months) {
            return Err(tariff::Invalid {
                field: "months".into(),
                message: format!("{} is not a period length; use 1, 3, 12 or 36", self.months),
            }
            .into());
        }
        tariff::check_addons("addons", &self.addons)?;
        if let Some(s) = &self.service {
            s.validate()?;
        }
        if self.operation != Operation::Order && self.service.is_none() {
            return Err(tariff::Invalid {
                field: "service".into(),
                message: "a renewal or daily quote needs the service being renewed".into(),
            }
            .into());
        }
        Ok(())
    }

    fn to_wit(&self, at: DateTime<Utc>) -> pricing::PriceRequest {
        pricing::PriceRequest {
            operation: match self.operation {
                Operation::Order => pricing::Operation::Order,
                Operation::Renewal => pricing::Operation::Renewal,
                Operation::Daily => pricing::Operation::Daily,
            },
            tariff: self.tariff.to_wit(),
            months: self.months,
            addons: tariff::addons_to_wit(&self.addons),
            service: self.service.as_ref().map(ServiceFacts::to_wit),
            at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// Turn a rule's refusal into the API error a person can act on.
pub(crate) fn rule_refusal(e: wit::RuleError) -> ApiError {
    match e {
        wit::RuleError::NotImplemented(m) => ApiError::NotImplemented(m),
        wit::RuleError::Denied(m) => ApiError::Denied(m),
        wit::RuleError::InvalidInput(m) => ApiError::RuleRejectedInput(m),
    }
}

impl App {
    /// Price an order, renewal or day without changing anything.
    /// A reseller's quote always uses that reseller's rule bindings; the
    /// provider may ask for any reseller's.
    pub async fn quote(&self, caller: &Caller, req: QuoteRequest) -> Result<Quote, ApiError> {
        req.validate()?;
        let reseller = match (caller.reseller_scope(), &req.reseller_id) {
            (Some(own), None) => Some(own.to_string()),
            (Some(own), Some(r)) if *r == own.to_string() => Some(own.to_string()),
            (Some(_), Some(r)) => {
                return Err(ApiError::NotFound(format!("reseller {r} does not exist")));
            }
            (None, r) => r.clone(),
        };
        let at = req.at.unwrap_or_else(|| self.clock.now());
        let wit_req = req.to_wit(at);
        let (module, called) = {
            let wit_req = wit_req.clone();
            self.call_rule(Hook::Pricing, reseller.as_deref(), move |m| {
                m.price(&wit_req)
            })
            .await?
        };
        let decision = called.value.map_err(rule_refusal)?;
        let priced = decision::check_price(&module.name, &wit_req, &decision)?;
        Ok(Quote {
            currency: req.tariff.currency,
            lines: priced.lines,
            total: priced.total,
            period_start: priced.period_start,
            expires: priced.expires,
            at,
            rule: RuleStamp {
                hook: Hook::Pricing,
                module: module.name.clone(),
                sha256: module.sha256.clone(),
                fuel_used: called.fuel_used,
            },
        })
    }
}
