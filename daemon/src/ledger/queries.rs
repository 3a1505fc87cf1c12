//! Reading the ledger: the lines and balances a caller may see, and the
//! sums billing asks about.

use crate::app::{ApiError, App, Caller};
use crate::domain::accounts::Account;
use crate::domain::ids::{AccountId, ServiceId};
use crate::domain::invalid::invalid;
use crate::domain::ledger::{Balance, LedgerEntry, LineKind};
use crate::domain::service::Service;
use crate::store::{self, ACCOUNTS, BALANCES, LEDGER, LEDGER_BY_ACCOUNT};
use chrono::NaiveDate;
use redb::ReadableTable;
use rust_decimal::Decimal;

/// Which ledger lines to list.
#[derive(Debug, Clone, Default)]
pub struct LedgerQuery {
    /// Only this account's lines.
    pub account_id: Option<AccountId>,
    /// Only this service's lines.
    pub service_id: Option<ServiceId>,
    /// Lines with an id greater than this (for paging).
    pub after: Option<u64>,
    /// At most this many lines (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// The daily charges of `service` for the days strictly between `from` and
/// `to`.
pub(crate) fn daily_charged_between(
    read: &store::View<'_>,
    service: &Service,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Decimal, ApiError> {
    let index = read.open_table(LEDGER_BY_ACCOUNT)?;
    let ledger = read.open_table(LEDGER)?;
    let mut sum = Decimal::ZERO;
    let client = service.client_id.get();
    for key in index.range((client, 0)..=(client, u64::MAX))? {
        let id = key?.0.value().1;
        if let Some(e) = store::get_json::<LedgerEntry>(&ledger, LEDGER, id)?
            && e.service_id == Some(service.id)
            && e.line.kind == LineKind::Daily
            && e.line.period_start.is_some_and(|d| from < d && d < to)
        {
            sum += e.line.amount;
        }
    }
    Ok(sum)
}

impl App {
    fn visible_account(&self, caller: &Caller, id: AccountId) -> Result<Account, ApiError> {
        match self.read_one::<Account>(ACCOUNTS, id)? {
            Some(a) if caller.sees_account(&a) => Ok(a),
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
        let Some(ledger) = store::table_if_exists(&read, LEDGER)? else {
            return Ok(vec![]);
        };
        let keep = |e: &LedgerEntry| {
            caller.can_see(e.reseller_id) && q.service_id.is_none_or(|s| e.service_id == Some(s))
        };
        let mut out = Vec::new();
        if let Some(account) = q.account_id {
            let index = read.open_table(LEDGER_BY_ACCOUNT)?;
            let account = account.get();
            for key in index.range((account, after.saturating_add(1))..=(account, u64::MAX))? {
                let id = key?.0.value().1;
                if let Some(e) = store::get_json::<LedgerEntry>(&ledger, LEDGER, id)?
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
                let e: LedgerEntry = store::decode(LEDGER, id.value(), bytes.value())?;
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
    pub fn balances(
        &self,
        caller: &Caller,
        account_id: AccountId,
    ) -> Result<Vec<Balance>, ApiError> {
        self.visible_account(caller, account_id)?;
        let account_id = account_id.get();
        let read = self.store.read()?;
        let Some(table) = store::table_if_exists(&read, BALANCES)? else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for item in table.range((account_id, "")..(account_id.saturating_add(1), ""))? {
            let (key, bytes) = item?;
            out.push(store::decode(BALANCES, key.value().0, bytes.value())?);
        }
        Ok(out)
    }
}
