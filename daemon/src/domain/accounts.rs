//! Accounts (provider, resellers, clients), client groups and API keys.

use super::ids::{AccountId, GroupId, KeyId};
use super::invalid::Invalid;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Provider,
    Reseller,
    Client,
}

/// An account. Clients belong to the provider (`reseller_id` absent) or to one
/// reseller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    #[schema(value_type = u64)]
    pub id: AccountId,
    pub kind: AccountKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub group_id: Option<GroupId>,
    /// A reseller whose assigned IP pools are exhausted may draw from the
    /// common pools (the provider allows it; seed 000).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ip_common_fallback: bool,
    pub created_at: DateTime<Utc>,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees and changes everything.
    Provider,
    /// Sees and changes only its own clients, services, pools and ledger.
    Reseller,
}

/// An API key as stored and listed: never the secret, only its hash (in a
/// separate table) and a prefix to recognise it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    #[schema(value_type = u64)]
    pub id: KeyId,
    #[schema(value_type = u64)]
    pub account_id: AccountId,
    pub role: Role,
    /// The first characters of the secret, e.g. "rk_3f9a".
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A group of clients with shared permissions (BILLmanager client groups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClientGroup {
    #[schema(value_type = u64)]
    pub id: GroupId,
    /// The reseller that owns the group; absent for the provider's groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    pub name: String,
    /// Clients may suspend and resume their own services.
    pub allow_suspend_resume: bool,
    /// Clients may delete their own services.
    pub allow_deletion: bool,
    /// The per-tariff limit of services per client does not apply.
    pub ignore_service_limit: bool,
    pub created_at: DateTime<Utc>,
}

/// The longest name accepted anywhere.
pub const MAX_NAME: usize = 200;

pub fn check_name(field: &str, name: &str) -> Result<(), Invalid> {
    let message = if name.trim().is_empty() {
        "must not be empty".to_string()
    } else if name.chars().count() > MAX_NAME {
        format!("must be at most {MAX_NAME} characters")
    } else if name.chars().any(char::is_control) {
        "must not contain control characters".to_string()
    } else {
        return Ok(());
    };
    Err(Invalid {
        field: field.into(),
        message,
    })
}
