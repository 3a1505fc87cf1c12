//! Writing the ledger: a decision's lines with its receipt, and the
//! balances kept in step with every line appended.

use crate::app::ApiError;
use crate::decide::Decision;
use crate::decide::receipt::{self, Payer, Receipt, Subject};
use crate::domain::ids::{AccountId, EntryId, ReceiptId, ServiceId};
use crate::domain::ledger::{Balance, LedgerEntry};
use crate::store::{self, BALANCES, LEDGER, LEDGER_BY_ACCOUNT, RECEIPTS};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};

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
    // Both sequences from one open of the counters table.
    let (receipt_id, first) = {
        let mut counters = txn.open_table(store::COUNTERS)?;
        (
            store::next_ids_in(&mut counters, RECEIPTS, 1)?,
            store::next_ids_in(&mut counters, LEDGER, lines.len() as u64)?,
        )
    };
    let receipt = Receipt::new(
        ReceiptId(receipt_id),
        decision,
        Subject::Service(target.service_id),
        Some(Payer {
            account_id: target.account_id,
            currency: target.currency.to_string(),
        }),
    )?;
    receipt::store(txn, &receipt)?;
    let entries: Vec<LedgerEntry> = (first..)
        .zip(lines)
        .map(|(id, line)| LedgerEntry {
            id: EntryId(id),
            account_id: target.account_id,
            reseller_id: target.reseller_id,
            service_id: Some(target.service_id),
            currency: target.currency.to_string(),
            at: now,
            receipt_id: Some(ReceiptId(receipt_id)),
            rule_sha256: Some(decision.sha256.clone()),
            line: line.clone(),
        })
        .collect();
    append(txn, &entries)?;
    Ok(entries)
}

/// Append lines and update their accounts' balances in the same
/// transaction, one balance write per account and currency.
pub(crate) fn append(txn: &WriteTransaction, entries: &[LedgerEntry]) -> Result<(), ApiError> {
    {
        let mut ledger = txn.open_table(LEDGER)?;
        let mut by_account = txn.open_table(LEDGER_BY_ACCOUNT)?;
        for entry in entries {
            ledger.insert(entry.id.get(), store::encode(entry).as_slice())?;
            by_account.insert((entry.account_id.get(), entry.id.get()), ())?;
        }
    }
    // (account, balance) per account and currency the lines touch.
    let mut table = txn.open_table(BALANCES)?;
    let mut balances: Vec<(AccountId, Balance)> = Vec::new();
    for entry in entries {
        let found = balances
            .iter()
            .position(|(a, b)| *a == entry.account_id && b.currency == entry.currency);
        let i = match found {
            Some(i) => i,
            None => {
                let balance = balance_of(&table, entry.account_id, &entry.currency)?;
                balances.push((entry.account_id, balance));
                balances.len() - 1
            }
        };
        balances[i].1.add(entry.line.amount);
    }
    for (account, balance) in &balances {
        table.insert(
            (account.get(), balance.currency.as_str()),
            store::encode(balance).as_slice(),
        )?;
    }
    Ok(())
}

/// An account's balance in a currency, as of this transaction.
pub(crate) fn balance_in(
    txn: &WriteTransaction,
    account: AccountId,
    currency: &str,
) -> Result<Balance, ApiError> {
    balance_of(&txn.open_table(BALANCES)?, account, currency)
}

/// An account's balance in a currency, read from the open balances table.
pub(crate) fn balance_of(
    table: &impl ReadableTable<(u64, &'static str), &'static [u8]>,
    account: AccountId,
    currency: &str,
) -> Result<Balance, ApiError> {
    let found = table.get((account.get(), currency))?;
    Ok(match found {
        Some(v) => store::decode(BALANCES, account, v.value())?,
        None => Balance {
            currency: currency.to_string(),
            ..Balance::default()
        },
    })
}
