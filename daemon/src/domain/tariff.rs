//! Tariffs, services and addon quantities as the API accepts them, their
//! validation, and their translation into the rule contract.

use super::money;
use crate::runtime::bindings::types as wit;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An input that breaks a rule of the API: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn check_money(field: &str, amount: Decimal) -> Result<(), Invalid> {
    money::check(amount, false).map_err(|m| invalid(field, m))
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(())
}

/// Period lengths a tariff can sell, in months (BILLmanager: 1 and 3 months,
/// 1 and 3 years).
pub const PERIODS: [u32; 4] = [1, 3, 12, 36];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodPrice {
    /// Period length in months: 1, 3, 12 or 36.
    pub months: u32,
    /// Price of the whole period, a decimal string.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "10.00")]
    pub price: Decimal,
}

/// How a late renewal is surcharged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum LateFee {
    #[default]
    None,
    /// A fixed amount per late renewal.
    Fixed {
        #[serde(with = "rust_decimal::serde::str")]
        #[schema(value_type = String)]
        amount: Decimal,
    },
    /// A percentage of the cost of the late days.
    Percent {
        #[serde(with = "rust_decimal::serde::str")]
        #[schema(value_type = String)]
        percent: Decimal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Addon {
    /// Resource type, e.g. "disk-gb".
    pub resource: String,
    pub unit: String,
    #[serde(default)]
    pub included: u32,
    #[serde(default)]
    pub minimum: u32,
    pub maximum: u32,
    /// Price of one unit above `included` for one month.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub price_per_unit: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddonQuantity {
    pub resource: String,
    pub quantity: u32,
}

/// A tariff plan: what it costs and the pricing policies of the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// Order price per period length; a length that is missing is not sold.
    pub prices: Vec<PeriodPrice>,
    #[serde(default, with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub setup_fee: Decimal,
    /// Special renewal prices; a missing length renews at its order price.
    #[serde(default)]
    pub renewal_prices: Vec<PeriodPrice>,
    /// With daily charging: the price of one day.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub daily_price: Option<Decimal>,
    #[serde(default)]
    pub daily_cost_from_period: bool,
    /// Calendar-based charging with this pro-rata day (1-28; BILLmanager's default is 15).
    #[serde(default)]
    pub pro_rata_day: Option<u32>,
    #[serde(default)]
    pub late_fee: LateFee,
    #[serde(default)]
    pub renew_from_suspension: bool,
    #[serde(default)]
    pub addons: Vec<Addon>,
}

fn check_periods(field: &str, prices: &[PeriodPrice]) -> Result<(), Invalid> {
    let mut seen = Vec::new();
    for (i, p) in prices.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if !PERIODS.contains(&p.months) {
            return Err(invalid(
                format!("{f}.months"),
                format!("{} is not a period length; use 1, 3, 12 or 36", p.months),
            ));
        }
        if seen.contains(&p.months) {
            return Err(invalid(
                format!("{f}.months"),
                format!("{} months is priced twice", p.months),
            ));
        }
        seen.push(p.months);
        check_money(&format!("{f}.price"), p.price)?;
    }
    Ok(())
}

impl Tariff {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("tariff.name", &self.name, 200)?;
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(invalid(
                "tariff.currency",
                format!(
                    "{:?} is not an ISO 4217 code such as \"EUR\"",
                    self.currency
                ),
            ));
        }
        if self.prices.is_empty() && self.daily_price.is_none() {
            return Err(invalid(
                "tariff.prices",
                "a tariff needs at least one period price or a daily price",
            ));
        }
        check_periods("tariff.prices", &self.prices)?;
        check_periods("tariff.renewal_prices", &self.renewal_prices)?;
        check_money("tariff.setup_fee", self.setup_fee)?;
        if let Some(d) = self.daily_price {
            check_money("tariff.daily_price", d)?;
        }
        if let Some(day) = self.pro_rata_day
            && !(1..=28).contains(&day)
        {
            return Err(invalid(
                "tariff.pro_rata_day",
                format!("{day} is not a day between 1 and 28"),
            ));
        }
        match &self.late_fee {
            LateFee::None => {}
            LateFee::Fixed { amount } => check_money("tariff.late_fee.amount", *amount)?,
            LateFee::Percent { percent } => check_money("tariff.late_fee.percent", *percent)?,
        }
        for (i, a) in self.addons.iter().enumerate() {
            let f = format!("tariff.addons[{i}]");
            check_text(&format!("{f}.resource"), &a.resource, 64)?;
            check_text(&format!("{f}.unit"), &a.unit, 32)?;
            if a.minimum > a.maximum || a.included > a.maximum {
                return Err(invalid(
                    f,
                    format!(
                        "needs minimum ({}) and included ({}) at most maximum ({})",
                        a.minimum, a.included, a.maximum
                    ),
                ));
            }
            check_money(&format!("{f}.price_per_unit"), a.price_per_unit)?;
            if self.addons[..i].iter().any(|b| b.resource == a.resource) {
                return Err(invalid(
                    f,
                    format!("addon {:?} is listed twice", a.resource),
                ));
            }
        }
        Ok(())
    }

    pub fn to_wit(&self) -> wit::Tariff {
        let prices = |ps: &[PeriodPrice]| {
            ps.iter()
                .map(|p| wit::PeriodPrice {
                    months: p.months,
                    price: p.price.to_string(),
                })
                .collect()
        };
        wit::Tariff {
            id: self.id.clone().unwrap_or_default(),
            name: self.name.clone(),
            currency: self.currency.clone(),
            prices: prices(&self.prices),
            setup_fee: self.setup_fee.to_string(),
            renewal_prices: prices(&self.renewal_prices),
            daily_price: self.daily_price.map(|d| d.to_string()),
            daily_cost_from_period: self.daily_cost_from_period,
            pro_rata_day: self.pro_rata_day,
            late_fee: match &self.late_fee {
                LateFee::None => wit::LateFee::None,
                LateFee::Fixed { amount } => wit::LateFee::Fixed(amount.to_string()),
                LateFee::Percent { percent } => wit::LateFee::Percent(percent.to_string()),
            },
            renew_from_suspension: self.renew_from_suspension,
            addons: self
                .addons
                .iter()
                .map(|a| wit::Addon {
                    resource: a.resource.clone(),
                    unit: a.unit.clone(),
                    included: a.included,
                    minimum: a.minimum,
                    maximum: a.maximum,
                    price_per_unit: a.price_per_unit.to_string(),
                })
                .collect(),
        }
    }
}

pub fn check_addons(field: &str, addons: &[AddonQuantity]) -> Result<(), Invalid> {
    for (i, a) in addons.iter().enumerate() {
        check_text(&format!("{field}[{i}].resource"), &a.resource, 64)?;
        if addons[..i].iter().any(|b| b.resource == a.resource) {
            return Err(invalid(
                format!("{field}[{i}]"),
                format!("addon {:?} is listed twice", a.resource),
            ));
        }
    }
    Ok(())
}

pub fn addons_to_wit(addons: &[AddonQuantity]) -> Vec<wit::AddonQuantity> {
    addons
        .iter()
        .map(|a| wit::AddonQuantity {
            resource: a.resource.clone(),
            quantity: a.quantity,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    Ordered,
    Active,
    Suspended,
    Deleted,
}

/// The facts of an existing service, for pricing a renewal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFacts {
    pub id: String,
    pub status: ServiceStatus,
    /// Exclusive end of the paid period.
    #[serde(default)]
    pub expires: Option<NaiveDate>,
    #[serde(default)]
    pub suspended_at: Option<NaiveDate>,
    pub months: u32,
    #[serde(default)]
    pub addons: Vec<AddonQuantity>,
}

impl ServiceFacts {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("service.id", &self.id, 64)?;
        if !PERIODS.contains(&self.months) {
            return Err(invalid(
                "service.months",
                format!("{} is not a period length; use 1, 3, 12 or 36", self.months),
            ));
        }
        check_addons("service.addons", &self.addons)
    }

    pub fn to_wit(&self) -> wit::Service {
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        wit::Service {
            id: self.id.clone(),
            status: match self.status {
                ServiceStatus::Ordered => wit::ServiceStatus::Ordered,
                ServiceStatus::Active => wit::ServiceStatus::Active,
                ServiceStatus::Suspended => wit::ServiceStatus::Suspended,
                ServiceStatus::Deleted => wit::ServiceStatus::Deleted,
            },
            expires: self.expires.map(day),
            suspended_at: self.suspended_at.map(day),
            months: self.months,
            addons: addons_to_wit(&self.addons),
        }
    }
}
