//! Decision receipts: every decision that changes state is kept with the
//! module's sha256, the exact request handed to the rule (the WIT record
//! itself, serialized) and its validated output, so history can be re-run
//! through a candidate module and compared (`rulesd diff`).

use super::Decision;
use super::license::LicenseAction;
use crate::app::ApiError;
use crate::contract::bindings::{
    ip_allocation, license_pool, pricing, proration, tariff_change, wholesale,
};
use crate::contract::hook::Hook;
use crate::domain::ids::{AccountId, LicenseId, PoolId, ReceiptId, ServiceId};
use crate::domain::ledger::{Line, Part, Priced};
use crate::store::{self, RECEIPTS, StoreError};
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

/// What a rule was asked: the request of one hook, exactly as handed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "hook", rename_all = "kebab-case")]
pub enum RuleInput {
    Pricing(pricing::PriceRequest),
    TariffChange(Box<tariff_change::ChangeRequest>),
    Proration(proration::ProrationRequest),
    IpAllocation(ip_allocation::AllocationRequest),
    LicensePool(license_pool::LicenseRequest),
    Wholesale(wholesale::WholesaleRequest),
}

impl RuleInput {
    pub fn hook(&self) -> Hook {
        match self {
            RuleInput::Pricing(_) => Hook::Pricing,
            RuleInput::TariffChange(_) => Hook::TariffChange,
            RuleInput::Proration(_) => Hook::Proration,
            RuleInput::IpAllocation(_) => Hook::IpAllocation,
            RuleInput::LicensePool(_) => Hook::LicensePool,
            RuleInput::Wholesale(_) => Hook::Wholesale,
        }
    }

    /// The decision time in the request. The daemon wrote it (RFC 3339), so
    /// a failure is a bug; it fails the write rather than record a wrong time.
    fn at(&self) -> Result<DateTime<Utc>, ApiError> {
        let at = match self {
            RuleInput::Pricing(r) => &r.at,
            RuleInput::TariffChange(r) => &r.at,
            RuleInput::Proration(r) => &r.at,
            RuleInput::IpAllocation(r) => &r.at,
            RuleInput::LicensePool(r) => &r.at,
            RuleInput::Wholesale(r) => &r.at,
        };
        at.parse()
            .map_err(|_| ApiError::Internal(format!("decision time {at:?} is not RFC 3339")))
    }
}

/// What a rule decided, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hook", rename_all = "kebab-case")]
pub enum RuleOutput {
    Pricing(Priced),
    /// The lines of a change and the service's period after it.
    TariffChange(Priced),
    Proration {
        lines: Vec<Line>,
    },
    /// The pool and address chosen (the address as the rule wrote it).
    IpAllocation {
        pool: String,
        address: String,
    },
    /// What happens to a server's license.
    LicensePool(LicenseAction),
    /// A reseller's shadow lines, one per retail line, and their parts per
    /// resource type.
    Wholesale {
        lines: Vec<Line>,
        parts: Vec<Vec<Part>>,
    },
}

impl RuleOutput {
    /// The money the decision moves (none for a decision about no money).
    pub fn lines(&self) -> &[Line] {
        match self {
            RuleOutput::Pricing(p) | RuleOutput::TariffChange(p) => &p.lines,
            RuleOutput::Proration { lines } | RuleOutput::Wholesale { lines, .. } => lines,
            RuleOutput::IpAllocation { .. } | RuleOutput::LicensePool(_) => &[],
        }
    }
}

/// What a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Service(ServiceId),
    Pool(PoolId),
    License(LicenseId),
    Reseller(AccountId),
}

impl Subject {
    pub fn service(self) -> Option<ServiceId> {
        match self {
            Subject::Service(id) => Some(id),
            _ => None,
        }
    }

    pub fn pool(self) -> Option<PoolId> {
        match self {
            Subject::Pool(id) => Some(id),
            _ => None,
        }
    }

    pub fn license(self) -> Option<LicenseId> {
        match self {
            Subject::License(id) => Some(id),
            _ => None,
        }
    }

    pub fn reseller(self) -> Option<AccountId> {
        match self {
            Subject::Reseller(id) => Some(id),
            _ => None,
        }
    }
}

/// Whose ledger a decision's lines went to, in which currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payer {
    pub account_id: AccountId,
    pub currency: String,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct Receipt {
    pub id: ReceiptId,
    /// The decision time handed to the rule.
    pub at: DateTime<Utc>,
    pub hook: Hook,
    pub module: String,
    pub sha256: String,
    pub fuel_used: u64,
    pub subject: Subject,
    /// None for a decision that moves no money.
    pub payer: Option<Payer>,
    pub input: RuleInput,
    pub output: RuleOutput,
}

impl Receipt {
    /// The receipt of `decision`, to be stored as `id`.
    pub fn new(
        id: ReceiptId,
        decision: &Decision,
        subject: Subject,
        payer: Option<Payer>,
    ) -> Result<Receipt, ApiError> {
        Ok(Receipt {
            id,
            at: decision.input.at()?,
            hook: decision.hook,
            module: decision.module.clone(),
            sha256: decision.sha256.clone(),
            fuel_used: decision.fuel_used,
            subject,
            payer,
            input: decision.input.clone(),
            output: decision.output.clone(),
        })
    }
}

/// Store a receipt in the caller's transaction.
/// The id of a new receipt.
pub fn next_id(txn: &WriteTransaction) -> Result<ReceiptId, StoreError> {
    Ok(store::next_id(txn, RECEIPTS)?.into())
}

pub fn store(txn: &WriteTransaction, receipt: &Receipt) -> Result<(), StoreError> {
    txn.open_table(RECEIPTS)?
        .insert(receipt.id.get(), store::encode(receipt).as_slice())?;
    Ok(())
}

/// A receipt as stored: the subject is the one id field present, so records
/// written when every receipt was about a service read as they are.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: ReceiptId,
    at: DateTime<Utc>,
    hook: Hook,
    module: String,
    sha256: String,
    fuel_used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_id: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pool_id: Option<PoolId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    license_id: Option<LicenseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reseller_id: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    input: RuleInput,
    output: RuleOutput,
}

impl TryFrom<Stored> for Receipt {
    type Error = String;

    fn try_from(s: Stored) -> Result<Receipt, String> {
        let subject = match (s.service_id, s.pool_id, s.license_id, s.reseller_id) {
            (Some(id), None, None, None) => Subject::Service(id),
            (None, Some(id), None, None) => Subject::Pool(id),
            (None, None, Some(id), None) => Subject::License(id),
            (None, None, None, Some(id)) => Subject::Reseller(id),
            _ => {
                return Err(format!(
                    "receipt {} does not name exactly one subject",
                    s.id
                ));
            }
        };
        let payer = match (s.account_id, s.currency) {
            (Some(account_id), Some(currency)) => Some(Payer {
                account_id,
                currency,
            }),
            (None, None) => None,
            _ => {
                return Err(format!(
                    "receipt {} names an account or a currency alone",
                    s.id
                ));
            }
        };
        Ok(Receipt {
            id: s.id,
            at: s.at,
            hook: s.hook,
            module: s.module,
            sha256: s.sha256,
            fuel_used: s.fuel_used,
            subject,
            payer,
            input: s.input,
            output: s.output,
        })
    }
}

impl From<Receipt> for Stored {
    fn from(r: Receipt) -> Stored {
        let (account_id, currency) = match r.payer {
            Some(p) => (Some(p.account_id), Some(p.currency)),
            None => (None, None),
        };
        Stored {
            id: r.id,
            at: r.at,
            hook: r.hook,
            module: r.module,
            sha256: r.sha256,
            fuel_used: r.fuel_used,
            account_id,
            service_id: r.subject.service(),
            pool_id: r.subject.pool(),
            license_id: r.subject.license(),
            reseller_id: r.subject.reseller(),
            currency,
            input: r.input,
            output: r.output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::checks::tests::daily_request;
    use serde_json::{Value, json};

    fn receipt(subject: Subject, payer: Option<Payer>) -> Receipt {
        Receipt {
            id: ReceiptId(3),
            at: "2026-01-05T00:00:00Z".parse().unwrap(),
            hook: Hook::Pricing,
            module: "m".into(),
            sha256: "ab".into(),
            fuel_used: 7,
            subject,
            payer,
            input: RuleInput::Pricing(daily_request()),
            output: RuleOutput::Proration { lines: vec![] },
        }
    }

    /// Receipts are stored with the fields they always had (`service_id`,
    /// `account_id`, `currency`), so receipts written before subjects were
    /// typed read as they are; a decision without money has no payer fields.
    #[test]
    fn a_receipt_is_stored_in_the_shape_older_receipts_have() {
        let service = receipt(
            Subject::Service(ServiceId(9)),
            Some(Payer {
                account_id: AccountId(2),
                currency: "EUR".into(),
            }),
        );
        let stored: Value = serde_json::from_slice(&store::encode(&service)).unwrap();
        assert_eq!(stored["service_id"], json!(9));
        assert_eq!(stored["account_id"], json!(2));
        assert_eq!(stored["currency"], json!("EUR"));
        assert_eq!(serde_json::from_value::<Receipt>(stored).unwrap(), service);

        let pool = receipt(Subject::Pool(PoolId(4)), None);
        let stored: Value = serde_json::from_slice(&store::encode(&pool)).unwrap();
        assert_eq!(stored["pool_id"], json!(4));
        assert!(stored.get("service_id").is_none() && stored.get("currency").is_none());
        assert_eq!(serde_json::from_value::<Receipt>(stored).unwrap(), pool);
    }

    #[test]
    fn a_stored_receipt_names_exactly_one_subject_and_a_whole_payer() {
        let good: Value = serde_json::from_slice(&store::encode(&receipt(
            Subject::Service(ServiceId(9)),
            Some(Payer {
                account_id: AccountId(2),
                currency: "EUR".into(),
            }),
        )))
        .unwrap();
        let mut two = good.clone();
        two["pool_id"] = json!(1);
        let err = serde_json::from_value::<Receipt>(two).unwrap_err();
        assert!(err.to_string().contains("exactly one subject"), "{err}");
        let mut half = good.clone();
        half.as_object_mut().unwrap().remove("currency");
        let err = serde_json::from_value::<Receipt>(half).unwrap_err();
        assert!(err.to_string().contains("alone"), "{err}");
    }
}
