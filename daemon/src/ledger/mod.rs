//! `/v1/ledger`: the append-only money ledger, balances, and manual
//! adjustments; plus the one place where rule decisions become ledger lines
//! and decision receipts ([`record`]).

use crate::app::{ApiError, App, Caller, Idempotency, Reply};
use crate::decide::Decision;
use crate::decide::receipt::{self, Payer, Receipt, Subject};
use crate::domain::accounts::{Account, AccountKind};
use crate::domain::ids::{AccountId, ReceiptId, ServiceId};
use crate::domain::invalid::{check_text, invalid};
use crate::domain::ledger::{Balance, LedgerEntry, Line, LineKind};
use crate::domain::money;
use crate::store::{self, ACCOUNTS, BALANCES, LEDGER, LEDGER_BY_ACCOUNT};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Whose ledger a decision's lines go to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub account_id: u64,
    pub reseller_id: Option<u64>,
    pub service_id: u64,
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
            store::next_ids_in(&mut counters, "receipts", 1)?,
            store::next_ids_in(&mut counters, "ledger", lines.len() as u64)?,
        )
    };
    let receipt = Receipt::new(
        ReceiptId(receipt_id),
        decision,
        Subject::Service(ServiceId(target.service_id)),
        Some(Payer {
            account_id: AccountId(target.account_id),
            currency: target.currency.to_string(),
        }),
    )?;
    receipt::store(txn, &receipt)?;
    let entries: Vec<LedgerEntry> = (first..)
        .zip(lines)
        .map(|(id, line)| LedgerEntry {
            id,
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

/// Append lines and update their accounts' balances in the same
/// transaction, one balance write per account and currency.
fn append(txn: &WriteTransaction, entries: &[LedgerEntry]) -> Result<(), ApiError> {
    {
        let mut ledger = txn.open_table(LEDGER)?;
        let mut by_account = txn.open_table(LEDGER_BY_ACCOUNT)?;
        for entry in entries {
            ledger.insert(entry.id, store::encode(entry).as_slice())?;
            by_account.insert((entry.account_id, entry.id), ())?;
        }
    }
    // (account, balance) per account and currency the lines touch.
    let mut table = txn.open_table(BALANCES)?;
    let mut balances: Vec<(u64, Balance)> = Vec::new();
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
            (*account, balance.currency.as_str()),
            store::encode(balance).as_slice(),
        )?;
    }
    Ok(())
}

/// An account's balance in a currency, as of this transaction.
pub(crate) fn balance_in(
    txn: &WriteTransaction,
    account: u64,
    currency: &str,
) -> Result<Balance, ApiError> {
    balance_of(&txn.open_table(BALANCES)?, account, currency)
}

/// An account's balance in a currency, read from the open balances table.
fn balance_of(
    table: &impl ReadableTable<(u64, &'static str), &'static [u8]>,
    account: u64,
    currency: &str,
) -> Result<Balance, ApiError> {
    let found = table.get((account, currency))?;
    Ok(match found {
        Some(v) => store::decode("balances", account, v.value())?,
        None => Balance {
            currency: currency.to_string(),
            ..Balance::default()
        },
    })
}

/// Whether the caller may see this account and its money.
pub(crate) fn can_see_account(caller: &Caller, account: &Account) -> bool {
    match account.kind {
        AccountKind::Provider => caller.is_provider(),
        AccountKind::Reseller => caller.can_see(Some(account.id)),
        AccountKind::Client => caller.can_see(account.reseller_id),
    }
}

/// A manual line: funds received (negative amount, a credit) or a correction.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdjustment {
    pub account_id: u64,
    pub currency: String,
    /// Negative credits the account (e.g. "-50.00" for a payment received);
    /// positive charges it.
    #[serde(with = "crate::domain::money::plain")]
    #[schema(value_type = String, example = "-50.00")]
    pub amount: Decimal,
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// Only this account's lines.
    pub account_id: Option<u64>,
    /// Only this service's lines.
    pub service_id: Option<u64>,
    /// Lines with an id greater than this (for paging).
    pub after: Option<u64>,
    /// At most this many lines (default 100, at most 1000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BalanceQuery {
    /// The account whose balances to show (required).
    pub account_id: u64,
}

impl App {
    fn visible_account(&self, caller: &Caller, id: u64) -> Result<Account, ApiError> {
        match self.read_one::<Account>(ACCOUNTS, "accounts", id)? {
            Some(a) if can_see_account(caller, &a) => Ok(a),
            _ => Err(ApiError::NotFound(format!("account {id} does not exist"))),
        }
    }

    /// Ledger lines the caller may see, oldest first.
    pub fn list_ledger(
        &self,
        caller: &Caller,
        q: LedgerQuery,
    ) -> Result<Vec<LedgerEntry>, ApiError> {
        if q.limit == Some(0) {
            return Err(invalid("limit", "must be at least 1").into());
        }
        let limit = q.limit.unwrap_or(100).min(1000);
        let after = q.after.unwrap_or(0);
        if let Some(account) = q.account_id {
            self.visible_account(caller, account)?;
        }
        // An unknown (or another tenant's) service is a 404, as for accounts.
        if let Some(service) = q.service_id {
            self.get_service(caller, service)?;
        }
        let read = self.store.read()?;
        let ledger = match read.open_table(LEDGER) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![]),
            Err(e) => return Err(e.into()),
        };
        let keep = |e: &LedgerEntry| {
            caller.can_see(e.reseller_id) && q.service_id.is_none_or(|s| e.service_id == Some(s))
        };
        let mut out = Vec::new();
        if let Some(account) = q.account_id {
            let index = read.open_table(LEDGER_BY_ACCOUNT)?;
            for key in index.range((account, after.saturating_add(1))..=(account, u64::MAX))? {
                let id = key?.0.value().1;
                if let Some(e) = store::get_json::<LedgerEntry>(&ledger, "ledger", id)?
                    && keep(&e)
                {
                    out.push(e);
                    if out.len() == limit {
                        break;
                    }
                }
            }
        } else {
            for item in ledger.range(after.saturating_add(1)..)? {
                let (id, bytes) = item?;
                let e: LedgerEntry = store::decode("ledger", id.value(), bytes.value())?;
                if keep(&e) {
                    out.push(e);
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// An account's balances, one per currency it has lines in.
    pub fn balances(&self, caller: &Caller, account_id: u64) -> Result<Vec<Balance>, ApiError> {
        self.visible_account(caller, account_id)?;
        let read = self.store.read()?;
        let table = match read.open_table(BALANCES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![]),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for item in table.range((account_id, "")..(account_id.saturating_add(1), ""))? {
            let (key, bytes) = item?;
            out.push(store::decode("balances", key.value().0, bytes.value())?);
        }
        Ok(out)
    }

    /// Record a manual adjustment (provider, or the reseller of the client).
    pub async fn adjust(
        &self,
        caller: Caller,
        req: NewAdjustment,
        idem: Option<Idempotency>,
    ) -> Result<Reply, ApiError> {
        if req.currency.len() != 3 || !req.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(invalid(
                "currency",
                format!("{:?} is not an ISO 4217 code", req.currency),
            )
            .into());
        }
        money::check_payable(req.amount, &req.currency).map_err(|m| invalid("amount", m))?;
        if req.amount.is_zero() {
            return Err(invalid("amount", "an adjustment of zero changes nothing").into());
        }
        check_text("description", &req.description, 500)?;
        self.mutate(idem, 201, move |txn, now| {
            let account: Option<Account> =
                store::get_json(&txn.open_table(ACCOUNTS)?, "accounts", req.account_id)?;
            let account = match account {
                Some(a) if a.kind == AccountKind::Client && can_see_account(&caller, &a) => a,
                _ => {
                    return Err(ApiError::NotFound(format!(
                        "client {} does not exist",
                        req.account_id
                    )));
                }
            };
            let entry = LedgerEntry {
                id: store::next_id(txn, "ledger")?,
                account_id: account.id,
                reseller_id: account.reseller_id,
                service_id: None,
                currency: req.currency.clone(),
                at: now,
                receipt_id: None,
                rule_sha256: None,
                line: Line {
                    kind: LineKind::Adjustment,
                    description: req.description.clone(),
                    amount: req.amount,
                    period_start: None,
                    period_end: None,
                },
            };
            append(txn, std::slice::from_ref(&entry))?;
            Ok(entry)
        })
        .await
    }
}
