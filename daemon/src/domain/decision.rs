//! Rule inputs and outputs as stored in decision receipts.
//!
//! Every decision that changes state is kept with the module's sha256, the
//! exact request handed to the rule (the WIT record itself, serialized) and
//! its validated output, so history can be re-run through a candidate module
//! and compared.

use super::ledger::Line;
use crate::hook::Hook;
use crate::runtime::bindings::{pricing, proration};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A validated pricing decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priced {
    pub lines: Vec<Line>,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub period_start: NaiveDate,
    pub expires: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "hook", rename_all = "kebab-case")]
pub enum RuleInput {
    Pricing(pricing::PriceRequest),
    Proration(proration::ProrationRequest),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hook", rename_all = "kebab-case")]
pub enum RuleOutput {
    Pricing(Priced),
    Proration { lines: Vec<Line> },
}

impl RuleOutput {
    pub fn lines(&self) -> &[Line] {
        match self {
            RuleOutput::Pricing(p) => &p.lines,
            RuleOutput::Proration { lines } => lines,
        }
    }
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: u64,
    /// The decision time handed to the rule.
    pub at: DateTime<Utc>,
    pub hook: Hook,
    pub module: String,
    pub sha256: String,
    pub fuel_used: u64,
    pub account_id: u64,
    pub service_id: u64,
    pub currency: String,
    pub input: RuleInput,
    pub output: RuleOutput,
}
