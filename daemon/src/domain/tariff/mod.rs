//! Tariff plans as the API accepts and stores them: prices, addons and every
//! policy of the BILLmanager tariff settings (seed 002), and the part of them
//! a pricing rule sees ([`PriceTerms`]). Their validation is validate.rs, the
//! username and domain templates templates.rs.

use super::ids::{AccountId, GroupId, TariffId};
use super::invalid::{Invalid, invalid};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod panel;
mod templates;
mod validate;

pub use panel::{
    ControlPanel, EnumValue, Enumeration, NewEnumeration, PANEL_PREFIX, PanelPrice, PeriodMatch,
    panel_resource, panel_value,
};

pub use templates::{domain, expand, username};
pub use validate::check_addons;

/// Period lengths a tariff can sell, in months (BILLmanager: 1 and 3 months,
/// 1 and 3 years).
pub const PERIODS: [u32; 4] = [1, 3, 12, 36];

/// The OpenAPI schema of a period length: one of [`PERIODS`], so that
/// clients generated from the document (and the fuzzer) send only those.
pub fn months_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .enum_values(Some(PERIODS))
        .examples([12])
        .build()
}

/// [`months_schema`] for a field that may be left out or null (the default).
pub fn optional_months_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
    let values = PERIODS.map(serde_json::Value::from);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .enum_values(Some(values.into_iter().chain([serde_json::Value::Null])))
        .examples([12])
        .build()
}

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
    #[schema(schema_with = months_schema)]
    pub months: u32,
    /// Price of the whole period, a decimal string.
    #[serde(with = "crate::domain::money::unsigned")]
    #[schema(value_type = String, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "10.00")]
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
        #[serde(with = "crate::domain::money::unsigned")]
        #[schema(value_type = String)]
        amount: Decimal,
    },
    /// A percentage of the cost of the late days.
    Percent {
        #[serde(with = "crate::domain::money::unsigned")]
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
        with = "crate::domain::money::unsigned_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "0.35")]
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

/// How a change of tariff is billed: the policy of the tariff being left
/// (docs/tariff-changes.md).
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

/// How addon units added mid-period are priced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AddonOrderPolicy {
    #[default]
    ProratedToExpiry,
    FullPeriod,
}

/// What removing addon units mid-period gives back.
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
    #[serde(with = "crate::domain::money::unsigned")]
    #[schema(value_type = String, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "0.50")]
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
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: String,
    /// ISO 4217 code, e.g. "EUR" (not "XXX", ISO's "no currency").
    #[schema(pattern = "^(?!XXX)[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    /// Product type, used by the domain template's @TYPE@.
    #[serde(default = "default_product_type")]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "shared-hosting"
    )]
    pub product_type: String,
    /// Order price per period length; a length that is missing is not sold.
    /// At least one (`check_prices`), at most one per period length.
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 4)]
    pub prices: Vec<PeriodPrice>,
    /// "Disable the Monthly period": 1-month orders and renewals are refused.
    #[serde(default)]
    pub monthly_disabled: bool,
    /// "Disable the Yearly period": 12-month orders and renewals are refused.
    #[serde(default)]
    pub yearly_disabled: bool,
    #[serde(default, with = "crate::domain::money::unsigned")]
    #[schema(value_type = String, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "5.00")]
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
    /// The tariffs its services may change to; empty: any tariff of the same
    /// owner and currency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<u64>)]
    pub may_change_to: Vec<TariffId>,
    #[serde(default)]
    pub addon_order_policy: AddonOrderPolicy,
    #[serde(default)]
    pub addon_cancellation: AddonCancellation,
    #[serde(default)]
    pub minimum_period: Option<MinimumPeriod>,
    /// Services of this tariff one client may have (not counting deleted ones).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub services_per_client: Option<u32>,
    /// "Simultaneous services order": how many services one order may create
    /// (absent: one).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub simultaneous_orders: Option<u32>,
    /// No orders or renewals after this day.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    pub client_groups: GroupPolicy,
    /// Macros: @USERNAME@ (the client's name), @DOMAIN@, @ID@ (service id),
    /// @ACCOUNT_ID@ (client id). The result is at most 16 characters.
    #[serde(default = "default_username_template")]
    // validate.rs: not blank (one atom that is not a space), no control
    // characters, and an @ only around one of USERNAME_MACROS.
    #[schema(
        min_length = 1,
        max_length = 16,
        pattern = r"^([^@\u0000-\u001f\u007f-\u009f]|@(USERNAME|DOMAIN|ID|ACCOUNT_ID)@)*([^@\s\u0000-\u001f\u007f-\u009f]|@(USERNAME|DOMAIN|ID|ACCOUNT_ID)@)([^@\u0000-\u001f\u007f-\u009f]|@(USERNAME|DOMAIN|ID|ACCOUNT_ID)@)*$",
        example = "user@ID@"
    )]
    pub username_template: String,
    /// Macros: @USERNAME@ (the generated username), @TYPE@, @ID@.
    #[serde(default = "default_domain_template")]
    // As the username template, with DOMAIN_MACROS.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^([^@\u0000-\u001f\u007f-\u009f]|@(USERNAME|TYPE|ID)@)*([^@\s\u0000-\u001f\u007f-\u009f]|@(USERNAME|TYPE|ID)@)([^@\u0000-\u001f\u007f-\u009f]|@(USERNAME|TYPE|ID)@)*$",
        example = "@USERNAME@.example.com"
    )]
    pub domain_template: String,
    /// "Activate after creation": a disabled tariff cannot be ordered.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub addons: Vec<Addon>,
    /// The "Control panel" add-on (seed 003): a panel per service, chosen
    /// from an enumeration, priced per value; a value mapped to a license
    /// tariff gets the server a license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_panel: Option<ControlPanel>,
    /// What one service of this tariff consumes of the provider's resources
    /// (units per service, besides its addons): what a reseller's plan is
    /// charged at wholesale prices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumes: Vec<AddonQuantity>,
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

impl TariffSpec {
    /// Whether a period length may be ordered or renewed (priced and not disabled).
    pub fn sells(&self, months: u32) -> bool {
        let disabled =
            (months == 1 && self.monthly_disabled) || (months == 12 && self.yearly_disabled);
        !disabled && self.prices.iter().any(|p| p.months == months)
    }

    /// Every addon a service of this tariff may hold: its addons, then its
    /// panel values (one unit each, at most one chosen).
    pub fn all_addons(&self) -> impl Iterator<Item = Addon> + '_ {
        self.addons
            .iter()
            .cloned()
            .chain(self.control_panel.iter().flat_map(|p| p.addons()))
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
            addons: self.all_addons().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate::{USERNAME_MACROS, check_periods, check_template};
    use super::*;
    use crate::domain::ids::ServiceId;

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
