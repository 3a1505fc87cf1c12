//! Checking a tariff before it is stored: every field, and the policies
//! against one another.

use super::*;
use crate::domain::invalid::{Invalid, check_text, invalid};
use crate::domain::money;

fn check_money(field: &str, amount: Decimal) -> Result<(), Invalid> {
    money::check(amount, false).map_err(|m| invalid(field, m))
}

pub(super) fn check_periods(field: &str, prices: &[PeriodPrice]) -> Result<(), Invalid> {
    for (i, p) in prices.iter().enumerate() {
        // The field's name is built only for an error: every quote with an
        // inline tariff runs this.
        let at = |part: &str| format!("{field}[{i}].{part}");
        if !PERIODS.contains(&p.months) {
            check_period(&at("months"), p.months)?;
        }
        if prices[..i].iter().any(|q| q.months == p.months) {
            return Err(invalid(
                at("months"),
                format!("{} months is priced twice", p.months),
            ));
        }
        money::check(p.price, false).map_err(|m| invalid(at("price"), m))?;
    }
    Ok(())
}

pub(super) fn check_template(field: &str, template: &str, macros: &[&str]) -> Result<(), Invalid> {
    check_text(field, template, 200)?;
    let mut rest = template;
    while let Some(start) = rest.find('@') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('@') else {
            return Err(invalid(field, "has an unclosed @ macro"));
        };
        let name = &after[..end];
        if !macros.contains(&name) {
            return Err(invalid(
                field,
                format!(
                    "@{name}@ is not a macro here; use {}",
                    macros
                        .iter()
                        .map(|m| format!("@{m}@"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

pub const USERNAME_MACROS: [&str; 4] = ["USERNAME", "DOMAIN", "ID", "ACCOUNT_ID"];
pub const DOMAIN_MACROS: [&str; 3] = ["USERNAME", "TYPE", "ID"];

impl TariffSpec {
    pub fn validate(&self) -> Result<(), Invalid> {
        self.check_identity()?;
        self.check_prices()?;
        self.check_charging()?;
        self.check_late_fee()?;
        self.check_minimum_order_period()?;
        self.check_limits()?;
        self.check_templates()?;
        self.check_addon_terms()?;
        if let Some(panel) = &self.control_panel {
            panel.validate()?;
        }
        self.check_consumes()
    }

    /// Checks what one service consumes: known resource types, each once.
    fn check_consumes(&self) -> Result<(), Invalid> {
        check_addons("tariff.consumes", &self.consumes)?;
        for (i, c) in self.consumes.iter().enumerate() {
            if !RESOURCES.contains(&c.resource.as_str()) {
                return Err(invalid(
                    format!("tariff.consumes[{i}].resource"),
                    format!(
                        "{:?} is not a resource type; use one of {}",
                        c.resource,
                        RESOURCES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// An amount charged as it is (a period price, the setup fee, a day's
    /// price) is in whole minor units of the tariff's currency: 0.001 EUR a
    /// month would be charged 0.00, 10.005 would round. Per-unit addon
    /// prices may be finer: they are multiplied before they are rounded.
    fn check_chargeable(&self, field: &str, amount: Decimal) -> Result<(), Invalid> {
        money::check_places(amount, &self.currency).map_err(|m| invalid(field, m))
    }

    /// Checks the name, the currency code and the product type.
    fn check_identity(&self) -> Result<(), Invalid> {
        check_text("tariff.name", &self.name, 200)?;
        money::check_currency("tariff.currency", &self.currency)?;
        check_text("tariff.product_type", &self.product_type, 64)
    }

    /// Checks the order and renewal prices: at least one order price, valid
    /// periods, and no renewal price for a period that cannot be ordered.
    fn check_prices(&self) -> Result<(), Invalid> {
        if self.prices.is_empty() {
            return Err(invalid(
                "tariff.prices",
                "a tariff needs a price for at least one period",
            ));
        }
        check_periods("tariff.prices", &self.prices)?;
        check_periods("tariff.renewal_prices", &self.renewal_prices)?;
        for (field, prices) in [
            ("tariff.prices", &self.prices),
            ("tariff.renewal_prices", &self.renewal_prices),
        ] {
            for (i, p) in prices.iter().enumerate() {
                self.check_chargeable(&format!("{field}[{i}].price"), p.price)?;
            }
        }
        for (i, r) in self.renewal_prices.iter().enumerate() {
            if !self.prices.iter().any(|p| p.months == r.months) {
                return Err(invalid(
                    format!("tariff.renewal_prices[{i}]"),
                    format!("{} months has a renewal price but no order price", r.months),
                ));
            }
        }
        Ok(())
    }

    /// Checks the setup fee, daily charging and calendar-based charges, which
    /// exclude each other.
    fn check_charging(&self) -> Result<(), Invalid> {
        check_money("tariff.setup_fee", self.setup_fee)?;
        self.check_chargeable("tariff.setup_fee", self.setup_fee)?;
        if let Some(d) = &self.daily {
            match d.price {
                Some(p) => {
                    check_money("tariff.daily.price", p)?;
                    self.check_chargeable("tariff.daily.price", p)?;
                }
                None if !d.cost_from_period => {
                    return Err(invalid(
                        "tariff.daily.price",
                        "daily charging needs a day price unless cost_from_period is set",
                    ));
                }
                None => {}
            }
            if self.calendar.is_some() {
                return Err(invalid(
                    "tariff.calendar",
                    "calendar-based charges are not available with daily charging",
                ));
            }
        }
        if let Some(c) = &self.calendar
            && !(1..=28).contains(&c.pro_rata_day)
        {
            return Err(invalid(
                "tariff.calendar.pro_rata_day",
                format!("{} is not a day between 1 and 28", c.pro_rata_day),
            ));
        }
        Ok(())
    }

    /// Checks the late fee's amount or percentage.
    fn check_late_fee(&self) -> Result<(), Invalid> {
        match &self.late_fee {
            LateFee::None | LateFee::RenewFromSuspension => {}
            LateFee::Fixed { amount } => {
                check_money("tariff.late_fee.amount", *amount)?;
                self.check_chargeable("tariff.late_fee.amount", *amount)?;
            }
            LateFee::Percent { percent } => {
                check_money("tariff.late_fee.percent", *percent)?;
                if *percent > Decimal::ONE_HUNDRED * Decimal::TEN {
                    return Err(invalid(
                        "tariff.late_fee.percent",
                        format!("{percent} is more than 1000 percent"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that the minimum order period, if any, is positive and reached
    /// by some period the tariff sells.
    fn check_minimum_order_period(&self) -> Result<(), Invalid> {
        let Some(m) = &self.minimum_period else {
            return Ok(());
        };
        if m.length == 0 {
            return Err(invalid(
                "tariff.minimum_period.length",
                "must be at least 1",
            ));
        }
        // A minimum that no period on sale reaches (even at 31 days a
        // month) would make a tariff nobody can order.
        let reaches = |months: u32| match m.unit {
            PeriodUnit::Months => months >= m.length,
            PeriodUnit::Days => months * 31 >= m.length,
        };
        if !self
            .prices
            .iter()
            .any(|p| self.sells(p.months) && reaches(p.months))
        {
            return Err(invalid(
                "tariff.minimum_period",
                "no period this tariff sells is as long as its minimum order period",
            ));
        }
        Ok(())
    }

    /// Checks the per-client service limit, the simultaneous order limit and
    /// that no client group is both allowed and forbidden.
    fn check_limits(&self) -> Result<(), Invalid> {
        for (field, v) in [
            ("tariff.services_per_client", self.services_per_client),
            ("tariff.simultaneous_orders", self.simultaneous_orders),
        ] {
            if v == Some(0) {
                return Err(invalid(field, "must be at least 1 when set"));
            }
        }
        if let Some(n) = self.simultaneous_orders
            && n > 100
        {
            return Err(invalid(
                "tariff.simultaneous_orders",
                "at most 100 services can be ordered at once",
            ));
        }
        if let Some(g) = self
            .client_groups
            .allowed
            .iter()
            .find(|g| self.client_groups.forbidden.contains(g))
        {
            return Err(invalid(
                "tariff.client_groups",
                format!("group {g} is both allowed and forbidden"),
            ));
        }
        Ok(())
    }

    /// Checks the username and domain templates: their length and macros.
    fn check_templates(&self) -> Result<(), Invalid> {
        // Seed 002: a username template has at most 16 characters, so a
        // template cannot cut its own @ID@ off.
        check_text(
            "tariff.username_template",
            &self.username_template,
            MAX_USERNAME,
        )?;
        check_template(
            "tariff.username_template",
            &self.username_template,
            &USERNAME_MACROS,
        )?;
        check_template(
            "tariff.domain_template",
            &self.domain_template,
            &DOMAIN_MACROS,
        )
    }

    /// Checks each addon: a known resource, a unit, consistent bounds, a
    /// valid price, and no resource listed twice.
    fn check_addon_terms(&self) -> Result<(), Invalid> {
        for (i, a) in self.addons.iter().enumerate() {
            let f = format!("tariff.addons[{i}]");
            if !RESOURCES.contains(&a.resource.as_str()) {
                return Err(invalid(
                    format!("{f}.resource"),
                    format!(
                        "{:?} is not a resource type; use one of {}",
                        a.resource,
                        RESOURCES.join(", ")
                    ),
                ));
            }
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
