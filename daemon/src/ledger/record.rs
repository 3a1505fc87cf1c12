//! Where rule decisions become money: a decision's lines, with its receipt,
//! appended to the payer's ledger in the caller's transaction, with the
//! lines the listeners add (a reseller's shadow lines, and theirs in turn).

use super::tables::{append, next_ids};
use crate::app::{ApiError, Listeners, Recorded};
use crate::decide::Decision;
use crate::decide::receipt::{self, Payer, Receipt, Subject};
use crate::domain::ids::{AccountId, EntryId, ServiceId};
use crate::domain::ledger::{Cause, LedgerEntry};
use crate::domain::service::Holding;
use chrono::{DateTime, NaiveDate, Utc};
use redb::WriteTransaction;

/// Whose ledger a decision's lines go to.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub account_id: AccountId,
    pub reseller_id: Option<AccountId>,
    pub service_id: ServiceId,
    pub currency: &'a str,
    /// What made the lines and what they pay for, as the listeners are told.
    pub cause: Cause,
    /// The service's expiry before the decision; None for an order.
    pub paid_until: Option<NaiveDate>,
    /// What the service held before the decision; None for an order.
    pub before: Option<Holding<'a>>,
    pub after: Holding<'a>,
    pub listeners: &'a Listeners,
}

/// How many levels of shadow lines one line may have: a reseller of a
/// reseller of ... More means a loop in the accounts' parents.
const MAX_SHADOW_DEPTH: usize = 8;

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
            shadow_id: None,
            shadow_of: None,
            parts: vec![],
        })
        .collect();
    let mut entries = entries;
    append_with_shadows(txn, &mut entries, &target, now)?;
    Ok(entries)
}

/// Append `lines` after asking the listeners for the lines that follow
/// them (linking each to its shadow), and those, level by level: all in
/// one append, which opens the ledger's tables once.
fn append_with_shadows(
    txn: &WriteTransaction,
    lines: &mut [LedgerEntry],
    target: &Target<'_>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut levels: Vec<Vec<LedgerEntry>> = Vec::new();
    for depth in 0..=MAX_SHADOW_DEPTH {
        let current: &mut [LedgerEntry] = match depth {
            0 => &mut *lines,
            _ => levels.last_mut().map_or(&mut [], Vec::as_mut_slice),
        };
        let recorded = Recorded {
            lines: current,
            cause: target.cause,
            paid_until: target.paid_until,
            before: target.before,
            after: target.after,
        };
        let shadows = target.listeners.recorded(txn, &recorded, now)?;
        for s in &shadows {
            if let Some(l) = current.iter_mut().find(|l| Some(l.id) == s.shadow_of) {
                l.shadow_id = Some(s.id);
            }
        }
        if shadows.is_empty() {
            return append(txn, lines.iter().chain(levels.iter().flatten()));
        }
        levels.push(shadows);
    }
    Err(ApiError::Internal(format!(
        "service {}: shadow lines more than {MAX_SHADOW_DEPTH} levels deep (a loop in the resellers' parents?)",
        target.service_id
    )))
}
