//! The money ledger: append-only lines, each priced by a rule (or entered by a
//! person as an adjustment), and the balances derived from them.
//!
//! Sign: a line's amount is what the account is charged. Charges are
//! positive; refunds and credits (funds received) are negative. An account's
//! balance is minus the sum of its lines: positive means funds available,
//! negative means the account owes.

use super::ids::{AccountId, EntryId, ReceiptId, ServiceId};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    Order,
    Renewal,
    Setup,
    Daily,
    LateFee,
    Refund,
    Adjustment,
    /// What a change of tariff costs (what it gives back is a refund).
    Change,
    /// Addon units added in the middle of a period.
    Addon,
}

/// A validated line of money, as a rule decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "10.00")]
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<NaiveDate>,
    /// Exclusive end of the period the line pays for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<NaiveDate>,
}

/// A line as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    #[schema(value_type = u64)]
    pub id: EntryId,
    #[schema(value_type = u64)]
    pub account_id: AccountId,
    /// The account's reseller, if any (for tenancy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub service_id: Option<ServiceId>,
    pub currency: String,
    /// When it was recorded, on the daemon's clock.
    pub at: DateTime<Utc>,
    /// The decision receipt of the rule call that priced it; absent for a
    /// manual adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub receipt_id: Option<ReceiptId>,
    /// sha256 of the rule module that priced it; absent for a manual adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_sha256: Option<String>,
    #[serde(flatten)]
    pub line: Line,
    /// On a reseller client's line: its shadow line on the reseller's
    /// account, at wholesale prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub shadow_id: Option<EntryId>,
    /// On a shadow line: the retail line it shadows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub shadow_of: Option<EntryId>,
    /// On a shadow line: its amount per resource type (they add up to it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

/// What a shadow line charges for one resource type ("service" for the
/// base price of a service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Part {
    pub resource: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "0.50")]
    pub amount: Decimal,
}

/// The decision that made a set of lines, as the wholesale rule is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Order,
    Renewal,
    /// A daily-charged service's day.
    Day,
    TariffChange,
    AddonChange,
    /// The refund of a daily service's days of suspension.
    Downtime,
}

/// An account's balance in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    pub currency: String,
    /// Funds available: credits minus charges. Negative means the account owes.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "12.50")]
    pub balance: Decimal,
    /// Sum of the positive lines.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub charged: Decimal,
    /// Sum of the negative lines, as a positive number.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub credited: Decimal,
}

impl Balance {
    pub fn add(&mut self, amount: Decimal) {
        if amount.is_sign_negative() {
            self.credited -= amount;
        } else {
            self.charged += amount;
        }
        self.balance -= amount;
    }
}

/// A validated pricing decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priced {
    pub lines: Vec<Line>,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub period_start: NaiveDate,
    pub expires: NaiveDate,
}
