//! The "Control panel" add-on of a server tariff (seed 003): an enumeration
//! of panels, each optionally mapped to a vendor's license tariff (the
//! seed's "Internal name"), priced per value on the tariff, with a table
//! matching the server's period to the license's.
//!
//! For pricing, a panel is an addon like any other: each priced value is an
//! addon `control-panel:<value>` of at most one unit (`Addon`), and a server
//! holds one unit of the value chosen. Orders, renewals, daily charges,
//! proration and tariff changes therefore price a panel with the rules and
//! policies that price every addon.

use super::{Addon, check_period};
use crate::domain::ids::EnumerationId;
use crate::domain::invalid::{Invalid, check_text, invalid};
use crate::domain::money;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The resource name of a panel value as an addon: `control-panel:<value>`.
pub const PANEL_PREFIX: &str = "control-panel:";

/// The addon resource that holds panel `value`.
pub fn panel_resource(value: &str) -> String {
    format!("{PANEL_PREFIX}{value}")
}

/// The panel value an addon resource holds, if it is a panel.
pub fn panel_value(resource: &str) -> Option<&str> {
    resource.strip_prefix(PANEL_PREFIX)
}

/// One value of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// What orders and edits name: lowercase letters, digits and hyphens.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,63}$", example = "ispmanager-lite")]
    pub key: String,
    /// For people, e.g. "ISPmanager Lite".
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "ISPmanager Lite"
    )]
    pub name: String,
    /// The vendor's license tariff this value orders (the seed's "Internal
    /// name"); absent for a value that orders no license ("no panel").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "ispmanager-lite"
    )]
    pub license_tariff: Option<String>,
}

/// An enumeration as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnumeration {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Control panel"
    )]
    pub name: String,
    #[schema(min_items = 1, max_items = 64)]
    pub values: Vec<EnumValue>,
}

/// A stored enumeration. Its values are immutable (tariffs and services
/// name them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Enumeration {
    #[schema(value_type = u64)]
    pub id: EnumerationId,
    pub name: String,
    pub values: Vec<EnumValue>,
    pub created_at: DateTime<Utc>,
}

impl Enumeration {
    pub fn value(&self, key: &str) -> Option<&EnumValue> {
        self.values.iter().find(|v| v.key == key)
    }
}

fn check_key(field: &str, key: &str) -> Result<(), Invalid> {
    let ok = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !key.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "{key:?} is not a value key; use 1 to 64 lowercase letters, digits and hyphens"
            ),
        ))
    }
}

impl NewEnumeration {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("name", &self.name, 200)?;
        if self.values.is_empty() || self.values.len() > 64 {
            return Err(invalid("values", "needs 1 to 64 values"));
        }
        for (i, v) in self.values.iter().enumerate() {
            let f = |part: &str| format!("values[{i}].{part}");
            check_key(&f("key"), &v.key)?;
            check_text(&f("name"), &v.name, 200)?;
            if let Some(t) = &v.license_tariff {
                check_text(&f("license_tariff"), t, 200)?;
            }
            if self.values[..i].iter().any(|w| w.key == v.key) {
                return Err(invalid(f("key"), format!("{:?} is listed twice", v.key)));
            }
        }
        Ok(())
    }
}

/// The monthly price of one panel value on a tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PanelPrice {
    /// An enumeration value's key.
    #[schema(example = "ispmanager-lite")]
    pub value: String,
    /// Price for one month, a decimal string (per-unit, like an addon's).
    #[serde(with = "crate::domain::money::unsigned")]
    #[schema(value_type = String, pattern = r"^0*[0-9]{1,12}(\.[0-9]{1,4}0*)?$", example = "5.00")]
    pub price: Decimal,
}

/// Which license period a server period gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodMatch {
    #[schema(schema_with = super::months_schema)]
    pub server_months: u32,
    #[schema(schema_with = super::months_schema)]
    pub license_months: u32,
}

/// A tariff's "Control panel" add-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlPanel {
    /// The enumeration whose values the client chooses from.
    #[schema(value_type = u64)]
    pub enumeration_id: EnumerationId,
    /// The values this tariff sells, each with its monthly price (a value
    /// left out cannot be chosen here; "no panel" may cost 0).
    #[schema(min_items = 1, max_items = 64)]
    pub prices: Vec<PanelPrice>,
    /// License period per server period; a server period not listed gets a
    /// one-month license (the seed's default: a license renews monthly
    /// whatever the server's period).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<PeriodMatch>,
}

impl ControlPanel {
    /// The license period for a server paid `server_months` at a time.
    pub fn license_months(&self, server_months: u32) -> u32 {
        self.periods
            .iter()
            .find(|p| p.server_months == server_months)
            .map_or(1, |p| p.license_months)
    }

    pub fn price(&self, value: &str) -> Option<&PanelPrice> {
        self.prices.iter().find(|p| p.value == value)
    }

    /// The panel values as the addons a pricing rule sees.
    pub fn addons(&self) -> impl Iterator<Item = Addon> + '_ {
        self.prices.iter().map(|p| Addon {
            resource: panel_resource(&p.value),
            unit: "license".into(),
            included: 0,
            minimum: 0,
            maximum: 1,
            price_per_unit: p.price,
        })
    }

    /// The checks that need no store: prices and periods. That each value
    /// is one of the enumeration's is checked where it is read.
    pub fn validate(&self) -> Result<(), Invalid> {
        let field = "tariff.control_panel";
        if self.prices.is_empty() || self.prices.len() > 64 {
            return Err(invalid(
                format!("{field}.prices"),
                "needs 1 to 64 priced values",
            ));
        }
        for (i, p) in self.prices.iter().enumerate() {
            let f = format!("{field}.prices[{i}]");
            check_key(&format!("{f}.value"), &p.value)?;
            money::check(p.price, false).map_err(|m| invalid(format!("{f}.price"), m))?;
            if self.prices[..i].iter().any(|q| q.value == p.value) {
                return Err(invalid(
                    format!("{f}.value"),
                    format!("{:?} is priced twice", p.value),
                ));
            }
        }
        for (i, p) in self.periods.iter().enumerate() {
            let f = format!("{field}.periods[{i}]");
            check_period(&format!("{f}.server_months"), p.server_months)?;
            check_period(&format!("{f}.license_months"), p.license_months)?;
            if self.periods[..i]
                .iter()
                .any(|q| q.server_months == p.server_months)
            {
                return Err(invalid(
                    format!("{f}.server_months"),
                    format!("{} months is matched twice", p.server_months),
                ));
            }
        }
        Ok(())
    }

    /// That every priced value is one of `enumeration`'s.
    pub fn check_values(&self, enumeration: &Enumeration) -> Result<(), Invalid> {
        for (i, p) in self.prices.iter().enumerate() {
            if enumeration.value(&p.value).is_none() {
                return Err(invalid(
                    format!("tariff.control_panel.prices[{i}].value"),
                    format!(
                        "{:?} is not a value of enumeration {} ({})",
                        p.value, enumeration.id, enumeration.name
                    ),
                ));
            }
        }
        Ok(())
    }
}
