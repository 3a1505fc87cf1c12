//! Conversions between the daemon's types and the contract's (the WIT
//! records `bindgen!` generates): what a rule is handed, and what of its
//! answer the daemon keeps.

use super::bindings::types as wit;
use super::bindings::{proration, tariff_change, wholesale};
use crate::domain::ledger::{Cause, Line, LineKind};
use crate::domain::service::{ServiceFacts, ServiceStatus};
use crate::domain::tariff::{
    AddonOrderPolicy, AddonQuantity, ChangePolicy, LateFee, PeriodPrice, PriceTerms,
};
use crate::domain::{day, money};

impl PriceTerms {
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
            id: self.id.clone(),
            name: self.name.clone(),
            currency: self.currency.clone(),
            prices: prices(&self.prices),
            setup_fee: self.setup_fee.to_string(),
            renewal_prices: prices(&self.renewal_prices),
            daily: self.daily.as_ref().map(|d| wit::DailyCharging {
                price: d.price.map(|p| p.to_string()),
                cost_from_period: d.cost_from_period,
                charge_downtime: d.charge_downtime,
            }),
            pro_rata_day: self.pro_rata_day,
            late_fee: match &self.late_fee {
                LateFee::None => wit::LateFee::None,
                LateFee::Fixed { amount } => wit::LateFee::Fixed(amount.to_string()),
                LateFee::Percent { percent } => wit::LateFee::Percent(percent.to_string()),
                LateFee::RenewFromSuspension => wit::LateFee::RenewFromSuspension,
            },
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

impl ServiceFacts {
    pub fn to_wit(&self) -> wit::Service {
        wit::Service {
            id: self.id.clone(),
            status: match self.status {
                ServiceStatus::Ordered => wit::ServiceStatus::Ordered,
                ServiceStatus::Active => wit::ServiceStatus::Active,
                ServiceStatus::Suspended => wit::ServiceStatus::Suspended,
                ServiceStatus::Deleted => wit::ServiceStatus::Deleted,
            },
            period_start: self.period_start.map(day::format),
            expires: self.expires.map(day::format),
            suspended_at: self.suspended_at.map(day::format),
            months: self.months,
            addons: addons_to_wit(&self.addons),
        }
    }
}

/// A service's or an order's addons as rules see them.
pub fn addons_to_wit(addons: &[AddonQuantity]) -> Vec<wit::AddonQuantity> {
    addons
        .iter()
        .map(|a| wit::AddonQuantity {
            resource: a.resource.clone(),
            quantity: a.quantity,
        })
        .collect()
}

impl ChangePolicy {
    pub fn to_wit(self) -> tariff_change::ChangePolicy {
        match self {
            ChangePolicy::ChangePeriod => tariff_change::ChangePolicy::ChangePeriod,
            ChangePolicy::AddFundsOrRefund => tariff_change::ChangePolicy::AddFundsOrRefund,
            ChangePolicy::Forbidden => tariff_change::ChangePolicy::Forbidden,
            ChangePolicy::ExtraChargeOnly => tariff_change::ChangePolicy::ExtraChargeOnly,
            ChangePolicy::FullPaymentFromToday => tariff_change::ChangePolicy::FullPaymentFromToday,
            ChangePolicy::FullPaymentFromExpiry => {
                tariff_change::ChangePolicy::FullPaymentFromExpiry
            }
        }
    }
}

impl AddonOrderPolicy {
    pub fn to_wit(self) -> proration::AddonOrderPolicy {
        match self {
            AddonOrderPolicy::ProratedToExpiry => proration::AddonOrderPolicy::ProratedToExpiry,
            AddonOrderPolicy::FullPeriod => proration::AddonOrderPolicy::FullPeriod,
        }
    }
}

impl From<wit::LineKind> for LineKind {
    fn from(k: wit::LineKind) -> Self {
        match k {
            wit::LineKind::Order => LineKind::Order,
            wit::LineKind::Renewal => LineKind::Renewal,
            wit::LineKind::Setup => LineKind::Setup,
            wit::LineKind::Daily => LineKind::Daily,
            wit::LineKind::LateFee => LineKind::LateFee,
            wit::LineKind::Refund => LineKind::Refund,
            wit::LineKind::Adjustment => LineKind::Adjustment,
            wit::LineKind::Change => LineKind::Change,
            wit::LineKind::Addon => LineKind::Addon,
        }
    }
}

impl LineKind {
    pub fn to_wit(self) -> wit::LineKind {
        match self {
            LineKind::Order => wit::LineKind::Order,
            LineKind::Renewal => wit::LineKind::Renewal,
            LineKind::Setup => wit::LineKind::Setup,
            LineKind::Daily => wit::LineKind::Daily,
            LineKind::LateFee => wit::LineKind::LateFee,
            LineKind::Refund => wit::LineKind::Refund,
            LineKind::Adjustment => wit::LineKind::Adjustment,
            LineKind::Change => wit::LineKind::Change,
            LineKind::Addon => wit::LineKind::Addon,
        }
    }
}

impl Line {
    /// The line as a rule sees it, its amount with the currency's places.
    pub fn to_wit(&self, currency: &str) -> wit::Line {
        wit::Line {
            kind: self.kind.to_wit(),
            description: self.description.clone(),
            amount: money::in_minor_units(self.amount, currency).to_string(),
            period_start: self.period_start.map(day::format),
            period_end: self.period_end.map(day::format),
        }
    }
}

impl Cause {
    pub fn to_wit(self) -> wholesale::WholesaleCause {
        match self {
            Cause::Order => wholesale::WholesaleCause::Order,
            Cause::Renewal => wholesale::WholesaleCause::Renewal,
            Cause::Day => wholesale::WholesaleCause::Day,
            Cause::TariffChange => wholesale::WholesaleCause::TariffChange,
            Cause::AddonChange => wholesale::WholesaleCause::AddonChange,
            Cause::Downtime => wholesale::WholesaleCause::Downtime,
        }
    }
}
