//! What clients send and receive for the service operations: orders,
//! renewals, suspension, resumption and deletion.

use crate::domain::ids::{AccountId, TariffId};
use crate::domain::ledger::LedgerEntry;
use crate::domain::service::Service;
use crate::domain::tariff::AddonQuantity;
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
    pub count: u32,
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
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// Period length in months; default: the service's current period.
    #[serde(default)]
    pub months: Option<u32>,
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

/// A service after an operation, with the lines it recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Changed {
    pub service: Service,
    pub lines: Vec<LedgerEntry>,
}
