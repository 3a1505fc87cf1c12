//! Accounts (provider, resellers, clients), client groups and API keys.

use super::ids::{AccountId, GroupId, KeyId};
use super::invalid::Invalid;
use super::money;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
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
    /// How far below zero its balance may go; absent: the daemon's
    /// `--credit-limit` (default unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "50.00")]
    pub credit_limit: Option<CreditLimit>,
    pub created_at: DateTime<Utc>,
}

/// How far below zero an account's balance may go (BILLmanager and H-Sphere
/// accounts are prepaid with an optional credit). Written "unlimited" or an
/// amount such as "50.00" (in the units of each currency the account pays
/// in; "0" is strictly prepaid).
///
/// - An order or renewal the limit does not cover leaves the service waiting
///   for funds (ordered, or its renewal pending) until a credit covers it.
/// - A tariff change or addon it does not cover is refused (402).
/// - A daily-charged day is charged when the balance minus the day stays
///   within the limit; "unlimited" keeps the pay-as-you-go rule that a day
///   needs the balance to cover it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreditLimit {
    #[default]
    Unlimited,
    Amount(Decimal),
}

impl CreditLimit {
    /// Whether a balance of `balance` covers charging `total` more.
    pub fn covers(self, balance: Decimal, total: Decimal) -> bool {
        match self {
            CreditLimit::Unlimited => true,
            CreditLimit::Amount(limit) => balance - total >= -limit,
        }
    }

    /// What is missing for `balance` to cover `total` (zero if it does).
    pub fn shortfall(self, balance: Decimal, total: Decimal) -> Decimal {
        match self {
            CreditLimit::Unlimited => Decimal::ZERO,
            CreditLimit::Amount(limit) => (total - balance - limit).max(Decimal::ZERO),
        }
    }
}

impl std::str::FromStr for CreditLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "unlimited" {
            return Ok(CreditLimit::Unlimited);
        }
        let amount = money::parse(s)
            .map_err(|m| format!("a credit limit is \"unlimited\" or an amount: {m}"))?;
        money::refuse_negative_zero(s, amount)?;
        money::check(amount, false)?;
        // Compared with balances in every currency the account pays in: no
        // finer than the finest minor unit (3 places, as KWD).
        if amount.normalize().scale() > 3 {
            return Err(format!(
                "a credit limit has at most 3 decimal places, got {amount}"
            ));
        }
        Ok(CreditLimit::Amount(amount))
    }
}

impl std::fmt::Display for CreditLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreditLimit::Unlimited => f.write_str("unlimited"),
            CreditLimit::Amount(a) => write!(f, "{a}"),
        }
    }
}

impl Serialize for CreditLimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CreditLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
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
