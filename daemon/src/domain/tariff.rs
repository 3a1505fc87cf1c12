//! Tariff plans as the API accepts and stores them: prices, addons and every
//! policy of the BILLmanager tariff settings (seed 002), their validation, and
//! the part of them a pricing rule sees ([`PriceTerms`]).

use super::ids::{AccountId, GroupId, ServiceId, TariffId};
use super::invalid::{Invalid, check_text, invalid};
use super::money;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn check_money(field: &str, amount: Decimal) -> Result<(), Invalid> {
    money::check(amount, false).map_err(|m| invalid(field, m))
}

/// Period lengths a tariff can sell, in months (BILLmanager: 1 and 3 months,
/// 1 and 3 years).
pub const PERIODS: [u32; 4] = [1, 3, 12, 36];

pub fn check_period(field: &str, months: u32) -> Result<(), Invalid> {
    if PERIODS.contains(&months) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{months} is not a period length; use 1, 3, 12 or 36"),
        ))
    }
}

/// The resource types an addon can sell (the seed's list).
pub const RESOURCES: [&str; 12] = [
    "database",
    "ipv6-addresses",
    "disk-space",
    "web-domain-limit",
    "domain-limit",
    "email-domain-limit",
    "max-cpu-load",
    "ram",
    "mailbox",
    "cpu-time",
    "public-ipv4-addresses",
    "traffic",
];

/// Usernames are at most this long (an ispmanager limit).
pub const MAX_USERNAME: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodPrice {
    /// Period length in months: 1, 3, 12 or 36.
    pub months: u32,
    /// Price of the whole period, a decimal string.
    #[serde(with = "crate::domain::money::plain")]
    #[schema(value_type = String, example = "10.00")]
    pub price: Decimal,
}

/// What renewing an expired service costs (BILLmanager "late renewal fee").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LateFee {
    #[default]
    None,
    /// A fixed amount added to the renewal.
    Fixed {
        #[serde(with = "crate::domain::money::plain")]
        #[schema(value_type = String)]
        amount: Decimal,
    },
    /// A percentage of the cost of the late days.
    Percent {
        #[serde(with = "crate::domain::money::plain")]
        #[schema(value_type = String)]
        percent: Decimal,
    },
    /// The renewed period starts at the old expiry: paid in time, not money.
    RenewFromSuspension,
}

/// Daily charging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DailyCharging {
    /// Price of one day; required unless `cost_from_period`.
    #[serde(
        default,
        with = "crate::domain::money::plain_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    /// "Calculate daily cost depending on order period": a day costs the
    /// period price / the days of the period.
    #[serde(default)]
    pub cost_from_period: bool,
    /// Clients may suspend and resume their services themselves.
    #[serde(default)]
    pub client_suspend: bool,
    /// Days a client suspended the service are paid for; otherwise refunded on resume.
    #[serde(default)]
    pub charge_downtime: bool,
}

/// Calendar-based charging: periods end on the 1st of a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// Ordered before this day of the month: the first period ends at the 1st
    /// of the next month; on or after it, at the 1st of the month after.
    #[serde(default = "default_pro_rata_day")]
    pub pro_rata_day: u32,
}

fn default_pro_rata_day() -> u32 {
    15
}

/// Whether unpaid services are suspended on Saturdays and Sundays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WeekendSuspension {
    /// The daemon's product-type setting (`--weekend-suspension`).
    #[default]
    ProductType,
    Suspend,
    /// Not on weekends: suspension waits for Monday.
    DoNotSuspend,
}

/// How a change of tariff is billed (stored now; applied by a later release).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChangePolicy {
    ChangePeriod,
    #[default]
    AddFundsOrRefund,
    Forbidden,
    ExtraChargeOnly,
    FullPaymentFromToday,
    FullPaymentFromExpiry,
}

/// How addons ordered mid-period are priced (stored now; applied later).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AddonOrderPolicy {
    #[default]
    ProratedToExpiry,
    FullPeriod,
}

/// What cancelling an addon mid-period gives back (stored now; applied later).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AddonCancellation {
    #[default]
    Refund,
    NoRefund,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodUnit {
    Days,
    Months,
}

/// The shortest period a service may be ordered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinimumPeriod {
    pub length: u32,
    pub unit: PeriodUnit,
}

/// Client groups that may (or may not) order this tariff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPolicy {
    /// If not empty, only clients in these groups may order.
    #[serde(default)]
    #[schema(value_type = Vec<u64>)]
    pub allowed: Vec<GroupId>,
    /// Clients in these groups may not order.
    #[serde(default)]
    #[schema(value_type = Vec<u64>)]
    pub forbidden: Vec<GroupId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Addon {
    /// Resource type, one of the seed's list, e.g. "disk-space".
    pub resource: String,
    pub unit: String,
    #[serde(default)]
    pub included: u32,
    #[serde(default)]
    pub minimum: u32,
    pub maximum: u32,
    /// Price of one unit above `included` for one month.
    #[serde(with = "crate::domain::money::plain")]
    #[schema(value_type = String)]
    pub price_per_unit: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddonQuantity {
    pub resource: String,
    pub quantity: u32,
}

/// A tariff plan as created: prices, addons and policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffSpec {
    pub name: String,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// Product type, used by the domain template's @TYPE@.
    #[serde(default = "default_product_type")]
    pub product_type: String,
    /// Order price per period length; a length that is missing is not sold.
    #[serde(default)]
    pub prices: Vec<PeriodPrice>,
    /// "Disable the Monthly period": 1-month orders and renewals are refused.
    #[serde(default)]
    pub monthly_disabled: bool,
    /// "Disable the Yearly period": 12-month orders and renewals are refused.
    #[serde(default)]
    pub yearly_disabled: bool,
    #[serde(default, with = "crate::domain::money::plain")]
    #[schema(value_type = String)]
    pub setup_fee: Decimal,
    /// Special renewal prices; a missing length renews at its order price.
    #[serde(default)]
    pub renewal_prices: Vec<PeriodPrice>,
    #[serde(default)]
    pub daily: Option<DailyCharging>,
    #[serde(default)]
    pub calendar: Option<Calendar>,
    #[serde(default)]
    pub late_fee: LateFee,
    /// Days after expiry an unrenewed service is deleted; absent: the daemon's
    /// product-type setting (`--auto-delete-days`; none means never).
    #[serde(default)]
    pub auto_delete_days: Option<u32>,
    #[serde(default)]
    pub weekend_suspension: WeekendSuspension,
    #[serde(default)]
    pub change_policy: ChangePolicy,
    #[serde(default)]
    pub addon_order_policy: AddonOrderPolicy,
    #[serde(default)]
    pub addon_cancellation: AddonCancellation,
    #[serde(default)]
    pub minimum_period: Option<MinimumPeriod>,
    /// Services of this tariff one client may have (not counting deleted ones).
    #[serde(default)]
    pub services_per_client: Option<u32>,
    /// "Simultaneous services order": how many services one order may create
    /// (absent: one).
    #[serde(default)]
    pub simultaneous_orders: Option<u32>,
    /// No orders or renewals after this day.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    pub client_groups: GroupPolicy,
    /// Macros: @USERNAME@ (the client's name), @DOMAIN@, @ID@ (service id),
    /// @ACCOUNT_ID@ (client id). The result is at most 16 characters.
    #[serde(default = "default_username_template")]
    pub username_template: String,
    /// Macros: @USERNAME@ (the generated username), @TYPE@, @ID@.
    #[serde(default = "default_domain_template")]
    pub domain_template: String,
    /// "Activate after creation": a disabled tariff cannot be ordered.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub addons: Vec<Addon>,
}

fn default_product_type() -> String {
    "shared-hosting".into()
}
fn default_username_template() -> String {
    "user@ID@".into()
}
fn default_domain_template() -> String {
    "@USERNAME@.example.com".into()
}
fn enabled_by_default() -> bool {
    true
}

/// A stored tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tariff {
    #[schema(value_type = u64)]
    pub id: TariffId,
    /// The reseller whose retail plan this is; absent for the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub spec: TariffSpec,
}

/// The pricing terms of a tariff: exactly what a rule is handed, and what a
/// decision receipt stores so the decision can be re-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTerms {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub prices: Vec<PeriodPrice>,
    #[serde(with = "crate::domain::money::plain")]
    pub setup_fee: Decimal,
    pub renewal_prices: Vec<PeriodPrice>,
    pub daily: Option<DailyCharging>,
    pub pro_rata_day: Option<u32>,
    pub late_fee: LateFee,
    pub addons: Vec<Addon>,
}

fn check_periods(field: &str, prices: &[PeriodPrice]) -> Result<(), Invalid> {
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

fn check_template(field: &str, template: &str, macros: &[&str]) -> Result<(), Invalid> {
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
        self.check_addon_terms()
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
        if let Some(d) = &self.daily {
            match d.price {
                Some(p) => check_money("tariff.daily.price", p)?,
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
            LateFee::Fixed { amount } => check_money("tariff.late_fee.amount", *amount)?,
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

    /// Whether a period length may be ordered or renewed (priced and not disabled).
    pub fn sells(&self, months: u32) -> bool {
        let disabled =
            (months == 1 && self.monthly_disabled) || (months == 12 && self.yearly_disabled);
        !disabled && self.prices.iter().any(|p| p.months == months)
    }

    /// The pricing terms handed to a rule. `id` is empty for an inline tariff.
    pub fn terms(&self, id: Option<TariffId>) -> PriceTerms {
        PriceTerms {
            id: id.map(|i| i.to_string()).unwrap_or_default(),
            name: self.name.clone(),
            currency: self.currency.clone(),
            prices: self.prices.clone(),
            setup_fee: self.setup_fee,
            renewal_prices: self.renewal_prices.clone(),
            daily: self.daily.clone(),
            pro_rata_day: self.calendar.as_ref().map(|c| c.pro_rata_day),
            late_fee: self.late_fee.clone(),
            addons: self.addons.clone(),
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

/// Expand a template's macros. Unknown macros cannot occur: templates are
/// checked when the tariff is created.
pub fn expand(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("@{name}@"), value);
    }
    out
}

/// A username from the tariff's template: lowercased, reduced to the
/// characters a control panel accepts (a-z, 0-9, '_', '-'), and at most
/// [`MAX_USERNAME`] characters. `@DOMAIN@` is the domain the client asked for
/// (empty when the domain is generated, since that needs the username).
///
/// When the result is too long, the template's text and the free-text macros
/// (`@USERNAME@`, `@DOMAIN@`) are cut, last ones first, and the ids are kept:
/// cutting `@ID@` would give different services the same username.
pub fn username(
    template: &str,
    client_name: &str,
    client_id: AccountId,
    service_id: ServiceId,
    domain: Option<&str>,
) -> String {
    let clean = |text: &str| -> String {
        text.to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    };
    // What each piece of the template may lose when the result is too long.
    #[derive(Clone, Copy, PartialEq)]
    enum Cut {
        /// A free-text macro: cut first.
        Text,
        /// The template's own characters (separators, prefixes).
        Literal,
        /// An id: never cut.
        Id,
    }
    let mut pieces: Vec<(String, Cut)> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('@') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('@') else { break };
        pieces.push((clean(&rest[..start]), Cut::Literal));
        pieces.push(match &after[..end] {
            "ID" => (service_id.to_string(), Cut::Id),
            "ACCOUNT_ID" => (client_id.to_string(), Cut::Id),
            "USERNAME" => (clean(client_name), Cut::Text),
            "DOMAIN" => (clean(domain.unwrap_or_default()), Cut::Text),
            // Templates are checked when the tariff is created.
            other => (clean(other), Cut::Literal),
        });
        rest = &after[end + 1..];
    }
    pieces.push((clean(rest), Cut::Literal));
    let total: usize = pieces.iter().map(|(p, _)| p.len()).sum();
    let mut excess = total.saturating_sub(MAX_USERNAME);
    for kind in [Cut::Text, Cut::Literal] {
        for (piece, _) in pieces.iter_mut().rev().filter(|(_, k)| *k == kind) {
            let cut = excess.min(piece.len());
            piece.truncate(piece.len() - cut);
            excess -= cut;
        }
    }
    let name: String = pieces
        .iter()
        .flat_map(|(p, _)| p.chars())
        .take(MAX_USERNAME)
        .collect();
    if name.is_empty() {
        format!("user{service_id}")
            .chars()
            .take(MAX_USERNAME)
            .collect()
    } else {
        name
    }
}

/// A default domain from the tariff's template, lowercased.
pub fn domain(template: &str, username: &str, product_type: &str, service_id: ServiceId) -> String {
    expand(
        template,
        &[
            ("USERNAME", username),
            ("TYPE", product_type),
            ("ID", &service_id.to_string()),
        ],
    )
    .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_price_errors_name_the_price() {
        let price = |months, price: &str| PeriodPrice {
            months,
            price: price.parse().unwrap(),
        };
        let field = |prices: &[PeriodPrice]| check_periods("tariff.prices", prices).unwrap_err();
        assert!(check_periods("tariff.prices", &[price(1, "10.00"), price(12, "100")]).is_ok());
        let e = field(&[price(1, "10.00"), price(2, "18.00")]);
        assert_eq!(e.field, "tariff.prices[1].months");
        assert!(e.message.contains("not a period length"), "{}", e.message);
        let e = field(&[price(1, "10.00"), price(3, "27"), price(1, "9")]);
        assert_eq!(e.field, "tariff.prices[2].months");
        assert!(e.message.contains("priced twice"), "{}", e.message);
        let e = field(&[price(3, "-1.00")]);
        assert_eq!(e.field, "tariff.prices[0].price");
    }

    fn username(t: &str, name: &str, client: u64, service: u64, domain: Option<&str>) -> String {
        super::username(t, name, AccountId(client), ServiceId(service), domain)
    }

    fn domain(t: &str, username: &str, product_type: &str, service: u64) -> String {
        super::domain(t, username, product_type, ServiceId(service))
    }

    #[test]
    fn templates_expand_and_usernames_are_cut_to_16() {
        assert_eq!(username("user@ID@", "Alice", 7, 510, None), "user510");
        assert_eq!(
            username(
                "@USERNAME@_@ACCOUNT_ID@",
                "Very Long Name Inc",
                12345,
                1,
                None
            ),
            "verylongna_12345"
        );
        assert_eq!(username("@DOMAIN@", "", 1, 9, None), "user9");
        // Too long: the name is cut, never the ids, so services stay apart.
        assert_eq!(
            username("@USERNAME@@ID@", "Averyveryverylongname", 3, 510, None),
            "averyveryvery510"
        );
        assert_eq!(
            username(
                "u-@USERNAME@-@ACCOUNT_ID@",
                "Alice Example",
                1234567,
                1,
                None
            ),
            "u-alicee-1234567"
        );
        assert_eq!(
            username("@DOMAIN@", "", 1, 9, Some("shop.example")),
            "shopexample"
        );
        assert_eq!(
            domain("@USERNAME@.example.com", "admin", "shared-hosting", 1),
            "admin.example.com"
        );
        assert_eq!(
            domain("@TYPE@-@ID@.host.test", "u", "vps", 42),
            "vps-42.host.test"
        );
    }

    #[test]
    fn unknown_macros_are_refused() {
        let err = check_template("t", "user@NAME@", &USERNAME_MACROS).unwrap_err();
        assert!(err.message.contains("@NAME@ is not a macro"), "{err}");
        assert!(check_template("t", "user@ID", &USERNAME_MACROS).is_err());
        assert!(check_template("t", "user@ID@", &USERNAME_MACROS).is_ok());
    }
}
