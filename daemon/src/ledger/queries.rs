//! Reading the ledger: the lines and balances a caller may see, and the
//! sums billing asks about.

use super::tables::{balances_of, entries};
use crate::app::{ApiError, App, Caller};
use crate::domain::accounts::Account;
use crate::domain::ids::{AccountId, ServiceId};
use crate::domain::invalid::invalid;
use crate::domain::ledger::{Balance, LedgerEntry};

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

/// The most lines one `GET /v1/ledger` returns.
pub const MAX_LIMIT: usize = 1000;

/// A page of a listing: `limit` (default 100, 1 to [`MAX_LIMIT`]) records
/// with ids after `after` (default 0). Refused rather than clamped, so the
/// bounds the OpenAPI document gives are what the daemon enforces; ids are
/// int64 in the document (and in most clients' types).
pub fn page(limit: Option<usize>, after: Option<u64>) -> Result<(usize, u64), ApiError> {
    match limit {
        Some(0) => return Err(invalid("limit", "must be at least 1").into()),
        Some(n) if n > MAX_LIMIT => {
            return Err(invalid("limit", format!("must be at most {MAX_LIMIT}")).into());
        }
        _ => {}
    }
    if after.is_some_and(|a| a > i64::MAX as u64) {
        return Err(invalid("after", format!("must be at most {}", i64::MAX)).into());
    }
    Ok((limit.unwrap_or(100), after.unwrap_or(0)))
}

impl App {
    fn visible_account(&self, caller: &Caller, id: AccountId) -> Result<Account, ApiError> {
        match self.account(id)? {
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
        let (limit, after) = page(q.limit, q.after)?;
        if let Some(account) = q.account_id {
            self.visible_account(caller, account)?;
        }
        // An unknown (or another tenant's) service is a 404, as for accounts.
        if let Some(service) = q.service_id {
            self.get_service(caller, service)?;
        }
        // A reseller's own lines (its shadow lines, adjustments to its
        // account) name its parent, not itself.
        let keep = |e: &LedgerEntry| {
            (caller.can_see(e.reseller_id) || e.account_id == caller.account_id)
                && q.service_id.is_none_or(|s| e.service_id == Some(s))
        };
        let read = self.store.read()?;
        let out = entries(&read, q.account_id, after, keep, limit)?;
        Ok(out)
    }

    /// An account's balances, one per currency it has lines in.
    pub fn balances(
        &self,
        caller: &Caller,
        account_id: AccountId,
    ) -> Result<Vec<Balance>, ApiError> {
        self.visible_account(caller, account_id)?;
        balances_of(&self.store.read()?, account_id)
    }
}
