//! A wholesale price list as the provider writes it and the API shows it.

use crate::domain::ids::AccountId;
use crate::domain::invalid::{Invalid, check_text, invalid};
use crate::domain::ledger::Part;
use crate::domain::money;
use crate::domain::tariff::RESOURCES;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The wholesale price of one unit of a resource type for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcePrice {
    /// Resource type, one of the tariff addon resources, e.g. "disk-space".
    pub resource: String,
    /// The unit priced, e.g. "GiB".
    pub unit: String,
    /// Price of one unit for one month (finer than a cent is allowed: it is
    /// multiplied before it is rounded).
    #[serde(with = "crate::domain::money::unsigned")]
    #[schema(value_type = String, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "0.0125")]
    pub price: Decimal,
}

/// `PUT /v1/wholesale-prices`: the list for one reseller, or the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceListSpec {
    /// The reseller these prices are for; absent: the default for every
    /// reseller without a list of its own in this currency.
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    /// ISO 4217 code; a reseller's tariffs in this currency use the list.
    #[schema(pattern = "^(?!XXX)[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    /// What one service of a reseller's tariff costs for a month before its
    /// resources (H-Sphere's base price of a plan built on the provider's
    /// resources).
    #[serde(default, with = "crate::domain::money::unsigned")]
    #[schema(value_type = String, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "1.00")]
    pub service_base: Decimal,
    #[serde(default)]
    pub resources: Vec<ResourcePrice>,
}

impl PriceListSpec {
    pub fn validate(&self) -> Result<(), Invalid> {
        money::check_currency("currency", &self.currency)?;
        money::check(self.service_base, false).map_err(|m| invalid("service_base", m))?;
        for (i, r) in self.resources.iter().enumerate() {
            let field = |f: &str| format!("resources[{i}].{f}");
            if !RESOURCES.contains(&r.resource.as_str()) {
                return Err(invalid(
                    field("resource"),
                    format!(
                        "{:?} is not a resource type; use one of {}",
                        r.resource,
                        RESOURCES.join(", ")
                    ),
                ));
            }
            check_text(&field("unit"), &r.unit, 32)?;
            money::check(r.price, false).map_err(|m| invalid(field("price"), m))?;
            if self.resources[..i].iter().any(|o| o.resource == r.resource) {
                return Err(invalid(
                    field("resource"),
                    format!("{} is priced twice", r.resource),
                ));
            }
        }
        Ok(())
    }
}

/// A stored price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceList {
    #[serde(flatten)]
    pub spec: PriceListSpec,
    pub updated_at: DateTime<Utc>,
}

/// What the bills and margins read of a shadow line (the index by day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ShadowRecord {
    pub currency: String,
    /// The retail line's amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub retail: Decimal,
    pub parts: Vec<Part>,
}

/// Whether a bill is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BillStatus {
    /// Made by the daily job once its day was over; never changes.
    Closed,
    /// The running total of a day not billed yet (shown to the provider
    /// only).
    Open,
}

/// The shadow lines of one day, one resource type and currency, summed:
/// H-Sphere's "a separate bill for each type of resources".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bill {
    #[schema(value_type = u64)]
    pub reseller_id: AccountId,
    pub day: NaiveDate,
    pub currency: String,
    /// A resource type, or "service" for the base prices.
    pub resource: String,
    /// Charges minus credits.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "12.40")]
    pub amount: Decimal,
    /// Shadow lines with a part of this type.
    pub lines: u64,
    pub status: BillStatus,
}

/// Retail, wholesale and margin of one resource type in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Margin {
    /// A resource type, "service" for the base prices; absent in a total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub currency: String,
    /// What the reseller's clients were charged (refunds subtracted), the
    /// retail line shared between its shadow line's parts in proportion;
    /// a line without a shadow part (a setup fee) counts as "service".
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub retail: Decimal,
    /// What the reseller owes for it at wholesale prices.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub wholesale: Decimal,
    /// Retail minus wholesale.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub margin: Decimal,
}

/// `GET /v1/resellers/{id}/margins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Margins {
    #[schema(value_type = u64)]
    pub reseller_id: AccountId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Per currency and resource type.
    pub resources: Vec<Margin>,
    /// Per currency.
    pub totals: Vec<Margin>,
}
