//! `POST /v1/quotes`: a price preview through the pricing rule. It changes
//! nothing; a real order or renewal at the same time builds the same request
//! and goes through the same rule call, so a quote gives exactly the lines the
//! operation would record.

use super::model::ChangeTariffRequest;
use super::order_policy::{
    check_enabled, check_minimum_period, check_period_on_sale, order_addons,
};
use super::requests::price_request;
use crate::app::{ApiError, App, Caller, RuleStamp};
use crate::contract::bindings::pricing;
use crate::contract::hook::Hook;
use crate::domain::day;
use crate::domain::ids::{AccountId, ServiceId, TariffId};
use crate::domain::invalid::invalid;
use crate::domain::ledger::Line;
use crate::domain::service::{Service, ServiceFacts};
use crate::domain::tariff::{self, AddonQuantity, TariffSpec};
use chrono::{DateTime, NaiveDate, Utc};
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
    /// A change of a stored service (`service_id`) to `tariff_id`: the
    /// tariff-change rule's lines and period, as the change would record.
    Change,
}

impl Operation {
    /// The pricing operation; None for a change, which is not a price.
    fn to_wit(self) -> Option<pricing::Operation> {
        match self {
            Operation::Order => Some(pricing::Operation::Order),
            Operation::Renewal => Some(pricing::Operation::Renewal),
            Operation::Daily => Some(pricing::Operation::Daily),
            Operation::Change => None,
        }
    }
}

/// What to price: a stored tariff (`tariff_id`) or one given inline
/// (`tariff`), and for a renewal or a day a stored service (`service_id`) or
/// its facts inline (`service`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// "order" (default), "renewal", "daily" or "change" (of `service_id`
    /// to `tariff_id`).
    #[serde(default)]
    pub operation: Operation,
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub tariff_id: Option<TariffId>,
    /// The tariff, inline (to try prices before creating it).
    #[serde(default)]
    pub tariff: Option<TariffSpec>,
    /// Period length in months: 1, 3, 12 or 36 (a renewal of a stored service
    /// defaults to its current period).
    #[serde(default)]
    #[schema(schema_with = crate::domain::tariff::optional_months_schema)]
    pub months: Option<u32>,
    /// Addon quantities; with a stored tariff, omitted addons get their
    /// included quantity, as an order would.
    #[serde(default)]
    pub addons: Vec<AddonQuantity>,
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub service_id: Option<ServiceId>,
    #[serde(default)]
    pub service: Option<ServiceFacts>,
    /// Price as this reseller's bound rules would (default: the tariff owner's,
    /// or the global rules).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
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

/// The tariff a quote prices: its terms, its id if stored, and its owner.
struct Priced {
    spec: TariffSpec,
    tariff_id: Option<TariffId>,
    owner: Option<AccountId>,
}

impl App {
    /// Price an order, renewal or day without changing anything.
    /// A reseller's quote always uses that reseller's rule bindings; the
    /// provider may ask for any reseller's.
    pub async fn quote(&self, caller: &Caller, req: QuoteRequest) -> Result<Quote, ApiError> {
        let at = req.at.unwrap_or_else(|| self.clock.now());
        day::check_range("at", at.date_naive())?;
        if req.operation == Operation::Change {
            return self.quote_change(caller, &req, at).await;
        }
        let stored = req
            .service_id
            .map(|id| self.get_service(caller, id))
            .transpose()?;
        let service = quoted_service(&req, stored.as_ref())?;
        // A stored service is priced on its own tariff unless one is named.
        let tariff = self.quoted_tariff(caller, &req, stored.as_ref().map(|s| s.tariff_id))?;
        if req.operation != Operation::Order && service.is_none() {
            return Err(invalid(
                "service",
                "a renewal or daily quote needs the service (service_id or service)",
            )
            .into());
        }
        let months = req
            .months
            .or(service.as_ref().map(|s| s.months))
            .ok_or_else(|| invalid("months", "give the period length in months"))?;
        check_policies(&req, &tariff, months, at.date_naive())?;
        // The same addons the operation itself would use.
        let addons = match (&stored, tariff.tariff_id, req.operation) {
            (Some(s), _, Operation::Renewal | Operation::Daily) if req.addons.is_empty() => {
                s.addons.clone()
            }
            (_, Some(_), Operation::Order) => order_addons(&tariff.spec, &req.addons)?,
            _ => req.addons.clone(),
        };
        let reseller = caller.acting_for(req.reseller_id)?.or(tariff.owner);
        let operation = req
            .operation
            .to_wit()
            .ok_or_else(|| ApiError::Internal("a change quote reached the pricing path".into()))?;
        let request = price_request(
            operation,
            &tariff.spec.terms(tariff.tariff_id),
            months,
            &addons,
            service.as_ref(),
            at,
        );
        let (decision, priced) = self.decide_price(reseller, request).await?;
        Ok(Quote {
            currency: tariff.spec.currency,
            lines: priced.lines,
            total: priced.total,
            period_start: priced.period_start,
            expires: priced.expires,
            at,
            rule: RuleStamp {
                hook: Hook::Pricing,
                module: decision.module,
                sha256: decision.sha256,
                fuel_used: decision.fuel_used,
            },
        })
    }

    /// A change of a stored service to `tariff_id`, through the same checks
    /// and rule request as `POST /v1/services/{id}/change-tariff`.
    async fn quote_change(
        &self,
        caller: &Caller,
        req: &QuoteRequest,
        at: DateTime<Utc>,
    ) -> Result<Quote, ApiError> {
        let (Some(service_id), Some(tariff_id)) = (req.service_id, req.tariff_id) else {
            return Err(invalid(
                "service_id",
                "a change quote needs the stored service (service_id) and the tariff to change to (tariff_id)",
            )
            .into());
        };
        if req.tariff.is_some() || req.service.is_some() || !req.addons.is_empty() {
            return Err(invalid(
                "operation",
                "a change quote takes service_id, tariff_id and months only: the change keeps the service's addons",
            )
            .into());
        }
        if req.reseller_id.is_some() {
            return Err(invalid(
                "reseller_id",
                "a change is decided by the rules bound for the tariff's owner",
            )
            .into());
        }
        let service = self.get_service(caller, service_id)?;
        if at < service.created_at {
            return Err(invalid(
                "at",
                format!(
                    "service {service_id} was ordered at {}: a change is quoted from then on",
                    service.created_at
                ),
            )
            .into());
        }
        let change = ChangeTariffRequest {
            tariff_id,
            months: req.months,
        };
        let (decision, changed) = self.decide_change(caller, &service, &change, at).await?;
        Ok(Quote {
            currency: service.currency,
            lines: changed.lines,
            total: changed.total,
            period_start: changed.period_start,
            expires: changed.expires,
            at,
            rule: RuleStamp {
                hook: Hook::TariffChange,
                module: decision.module,
                sha256: decision.sha256,
                fuel_used: decision.fuel_used,
            },
        })
    }

    /// The stored tariff named (or the stored service's), or the inline one.
    fn quoted_tariff(
        &self,
        caller: &Caller,
        req: &QuoteRequest,
        service_tariff: Option<TariffId>,
    ) -> Result<Priced, ApiError> {
        match (&req.tariff, req.tariff_id.or(service_tariff)) {
            (Some(spec), None) => {
                spec.validate()?;
                Ok(Priced {
                    spec: spec.clone(),
                    tariff_id: None,
                    owner: caller.reseller_scope(),
                })
            }
            (None, Some(id)) => {
                let t = self.get_tariff(caller, id)?;
                Ok(Priced {
                    spec: t.spec,
                    tariff_id: Some(t.id),
                    owner: t.reseller_id,
                })
            }
            _ => Err(invalid("tariff", "give either tariff_id or an inline tariff").into()),
        }
    }
}

/// The service facts a quote is for: the stored service's or those given inline.
fn quoted_service(
    req: &QuoteRequest,
    stored: Option<&Service>,
) -> Result<Option<ServiceFacts>, ApiError> {
    match (&req.service, stored) {
        (Some(s), None) => {
            s.validate()?;
            Ok(Some(s.clone()))
        }
        (None, Some(s)) => Ok(Some(s.facts())),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => {
            Err(invalid("service", "give either service_id or service, not both").into())
        }
    }
}

/// The period and addon checks, and a stored tariff's own policies as they
/// would apply to the operation (the client's, such as group or per-client
/// limits, need the order).
fn check_policies(
    req: &QuoteRequest,
    tariff: &Priced,
    months: u32,
    today: NaiveDate,
) -> Result<(), ApiError> {
    tariff::check_period("months", months)?;
    tariff::check_addons("addons", &req.addons)?;
    if tariff.tariff_id.is_some() && req.operation != Operation::Daily {
        if req.operation == Operation::Order {
            check_enabled(&tariff.spec)?;
        }
        check_period_on_sale(&tariff.spec, months, today)?;
    }
    // The minimum order period is part of the tariff's terms, so an inline
    // tariff being tried out is held to it too.
    if req.operation == Operation::Order {
        check_minimum_period(&tariff.spec, months, today)?;
    }
    Ok(())
}
