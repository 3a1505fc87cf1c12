//! Where rule decisions become money: a decision's lines, with its receipt,
//! appended to the payer's ledger in the caller's transaction.

use super::tables::{append, next_ids};
use crate::app::ApiError;
use crate::decide::Decision;
use crate::decide::receipt::{self, Payer, Receipt, Subject};
use crate::domain::ids::{AccountId, EntryId, ServiceId};
use crate::domain::ledger::LedgerEntry;
use chrono::{DateTime, Utc};
use redb::WriteTransaction;

/// Whose ledger a decision's lines go to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub account_id: AccountId,
    pub reseller_id: Option<AccountId>,
    pub service_id: ServiceId,
    pub currency: &'a str,
}

/// Store a decision's receipt and append its lines to the ledger, in the
/// caller's transaction.
pub(crate) fn record(
    txn: &WriteTransaction,
    decision: &Decision,
    target: Target<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<LedgerEntry>, ApiError> {
    let lines = decision.output.lines();
    let (receipt_id, first) = next_ids(txn, lines.len())?;
    let receipt = Receipt::new(
        receipt_id,
        decision,
        Subject::Service(target.service_id),
        Some(Payer {
            account_id: target.account_id,
            currency: target.currency.to_string(),
        }),
    )?;
    receipt::store(txn, &receipt)?;
    let entries: Vec<LedgerEntry> = (first.get()..)
        .zip(lines)
        .map(|(id, line)| LedgerEntry {
            id: EntryId(id),
            account_id: target.account_id,
            reseller_id: target.reseller_id,
            service_id: Some(target.service_id),
            currency: target.currency.to_string(),
            at: now,
            receipt_id: Some(receipt_id),
            rule_sha256: Some(decision.sha256.clone()),
            line: line.clone(),
        })
        .collect();
    append(txn, &entries)?;
    Ok(entries)
}
