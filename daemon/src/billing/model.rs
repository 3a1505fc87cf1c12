//! What clients send and receive for the service operations: orders,
//! renewals, suspension, resumption and deletion.

use crate::domain::ids::{AccountId, PendingId, ServiceId, TariffId};
use crate::domain::ledger::LedgerEntry;
use crate::domain::service::Service;
use crate::domain::tariff::AddonQuantity;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    #[schema(value_type = u64)]
    pub client_id: AccountId,
    #[schema(value_type = u64)]
    pub tariff_id: TariffId,
    /// Period length in months: 1, 3, 12 or 36 (for daily charging: the
    /// order period the day price is derived from).
    #[schema(schema_with = crate::domain::tariff::months_schema)]
    pub months: u32,
    /// Addon quantities; omitted addons get their included quantity (or the
    /// minimum, if higher).
    #[serde(default)]
    pub addons: Vec<AddonQuantity>,
    /// The service's domain; default from the tariff's domain template.
    #[serde(default)]
    pub domain: Option<String>,
    /// How many services to order at once (the tariff's simultaneous order limit applies).
    #[serde(default = "one")]
    #[schema(minimum = 1)]
    pub count: u32,
    /// The control panel chosen (a value key of the tariff's control-panel
    /// add-on); a value mapped to a license tariff gets the server a license
    /// once it is active and has a primary IP.
    #[serde(default)]
    #[schema(example = "ispmanager-lite")]
    pub control_panel: Option<String>,
}

fn one() -> u32 {
    1
}

/// The result of an order: the services and the ledger lines recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ordered {
    pub services: Vec<Service>,
    pub lines: Vec<LedgerEntry>,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "15.00")]
    pub total: Decimal,
    /// Services the balance and credit limit did not cover: ordered, not
    /// active, until funds arrive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<Pending>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// Period length in months; default: the service's current period.
    #[serde(default)]
    #[schema(schema_with = crate::domain::tariff::optional_months_schema)]
    pub months: Option<u32>,
}

/// `POST /v1/services/{id}/change-tariff`: move a service to another tariff.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTariffRequest {
    /// The tariff to change to: the same owner and currency, on sale.
    #[schema(value_type = u64)]
    pub tariff_id: TariffId,
    /// The period to pay for under a full-payment policy; the other policies
    /// keep the service's period (the default).
    #[serde(default)]
    #[schema(schema_with = crate::domain::tariff::optional_months_schema)]
    pub months: Option<u32>,
}

/// `POST /v1/services/{id}/addons`: set the quantity of one addon.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddonRequest {
    /// The addon's resource type, e.g. "disk-space".
    pub resource: String,
    /// The new quantity, within the addon's minimum and maximum.
    pub quantity: u32,
}

/// Who asks for a suspension, resumption or deletion. API keys belong to the
/// provider and resellers; `client` means they act on the client's request,
/// so the client's permissions apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    #[default]
    Provider,
    Client,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    #[serde(default)]
    pub by: Actor,
}

/// `PATCH /v1/services/{id}`: what a server's owner edits. Absent fields
/// stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEdit {
    /// A value of the tariff's control-panel add-on; null for none. The
    /// change is priced as an addon change (the old value cancelled, the new
    /// one ordered, under the tariff's addon policies); choosing the same
    /// value again activates an inactive license.
    #[serde(default, deserialize_with = "crate::domain::present")]
    #[schema(value_type = Option<String>, example = "ispmanager-pro")]
    pub control_panel: Option<Option<String>>,
    /// An address allocated to the service (`POST /v1/ip-allocations`); null
    /// for none. A new one reorders the server's license.
    #[serde(default, deserialize_with = "crate::domain::present")]
    #[schema(value_type = Option<String>, example = "192.0.2.10")]
    pub primary_ip: Option<Option<String>>,
}

/// A service after an operation, with the lines it recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Changed {
    pub service: Service,
    pub lines: Vec<LedgerEntry>,
    /// A renewal the balance and credit limit did not cover: it waits for
    /// funds and nothing was charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Pending>,
}

impl Changed {
    pub fn new(service: Service, lines: Vec<LedgerEntry>) -> Changed {
        Changed {
            service,
            lines,
            waiting: None,
        }
    }
}

/// An order or renewal waiting for funds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pending {
    #[schema(value_type = u64)]
    pub id: PendingId,
    #[schema(value_type = u64)]
    pub account_id: AccountId,
    #[schema(value_type = u64)]
    pub service_id: ServiceId,
    pub what: Waiting,
    /// What it would cost when it was asked for (it is priced again when paid).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "10.00")]
    pub amount: Decimal,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Waiting {
    /// The first period of an ordered service.
    Order,
    /// Another period of `months`.
    Renewal { months: u32 },
}
