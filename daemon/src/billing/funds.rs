//! Payment before service (BILLmanager and H-Sphere accounts are prepaid,
//! with an optional credit limit; `domain::accounts::CreditLimit`).
//!
//! - An order or renewal the balance and limit do not cover is not charged:
//!   it waits for funds ([`Pending`]), the ordered service in status
//!   `ordered`. Once anything waits on an account, later orders and renewals
//!   of it wait behind it, so funds go to them in order of ordering.
//! - [`App::settle_pending`] starts (or renews) what waits, oldest first,
//!   while the balance covers it; it is run after a credit to the account,
//!   after its limit changes, and by the daily job (which also settles
//!   what a crash between a credit and its settlement left waiting). Each
//!   is priced again when it is settled, so its period starts when it is
//!   paid, and its lines and the removal of its wait are one transaction:
//!   nothing is charged twice.
//! - A tariff change or addon the limit does not cover is refused (402),
//!   naming the shortfall: it changes a service in use, it does not wait.

use super::model::{Changed, Pending, Waiting};
use super::order_policy::policy;
use super::requests::price_request;
use super::tables::{Reader, current, order_target, save, service_tariff, target};
use crate::app::{ApiError, App, Caller, Written};
use crate::contract::bindings::pricing;
use crate::domain::accounts::CreditLimit;
use crate::domain::ids::{AccountId, ServiceId};
use crate::domain::ledger::Cause;
use crate::domain::service::{Service, ServiceStatus};
use crate::ledger::{balance_in, record};
use crate::store::{self, PENDING};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};
use rust_decimal::Decimal;

/// The credit limit of `account`: its own, or the daemon's default.
fn limit_of(
    txn: &impl Reader,
    account: AccountId,
    default: CreditLimit,
) -> Result<CreditLimit, ApiError> {
    Ok(txn
        .account(account)?
        .and_then(|a| a.credit_limit)
        .unwrap_or(default))
}

/// Whether `total` may be charged to `service`'s client now: its balance
/// and limit cover it and nothing of the client waits for funds before it.
pub(super) fn can_charge(
    txn: &WriteTransaction,
    service: &Service,
    total: Decimal,
    default: CreditLimit,
) -> Result<bool, ApiError> {
    let limit = limit_of(txn, service.client_id, default)?;
    if limit == CreditLimit::Unlimited || total <= Decimal::ZERO {
        return Ok(true);
    }
    let balance = balance_in(txn, service.client_id, &service.currency)?.balance;
    Ok(limit.covers(balance, total) && waiting_of(txn, service.client_id)?.is_empty())
}

/// Whether a day of a daily-charged service costing `total` is covered:
/// within the client's credit limit, or with an unlimited one (the
/// default), by its balance alone (pay as you go, as before limits).
pub(super) fn day_covered(
    txn: &WriteTransaction,
    service: &Service,
    total: Decimal,
    default: CreditLimit,
) -> Result<bool, ApiError> {
    let balance = balance_in(txn, service.client_id, &service.currency)?.balance;
    Ok(match limit_of(txn, service.client_id, default)? {
        CreditLimit::Unlimited => balance >= total,
        limit => limit.covers(balance, total),
    })
}

/// Refuse a charge of `total` the client's balance and limit do not cover
/// (tariff changes and addons), naming the shortfall, or made while orders
/// or renewals wait for funds (they are paid first).
pub(super) fn check_funds(
    txn: &WriteTransaction,
    service: &Service,
    total: Decimal,
    default: CreditLimit,
) -> Result<(), ApiError> {
    let limit = limit_of(txn, service.client_id, default)?;
    if total <= Decimal::ZERO || limit == CreditLimit::Unlimited {
        return Ok(());
    }
    let waiting = waiting_of(txn, service.client_id)?;
    if !waiting.is_empty() {
        // Funds go to what was ordered first.
        return Err(ApiError::InsufficientFunds(format!(
            "client {} has {} order(s) or renewal(s) waiting for funds: they are paid first",
            service.client_id,
            waiting.len()
        )));
    }
    let balance = balance_in(txn, service.client_id, &service.currency)?.balance;
    if limit.covers(balance, total) {
        return Ok(());
    }
    Err(ApiError::InsufficientFunds(format!(
        "client {} needs {} {} more: this costs {total}, the balance is {balance} and the credit limit {limit}",
        service.client_id,
        limit.shortfall(balance, total),
        service.currency,
    )))
}

/// Put an order or renewal of `service` in the queue of what waits for funds.
pub(super) fn wait(
    txn: &WriteTransaction,
    service: &Service,
    what: Waiting,
    amount: Decimal,
    now: DateTime<Utc>,
) -> Result<Pending, ApiError> {
    if let Waiting::Renewal { .. } = what
        && waiting_of(txn, service.client_id)?
            .iter()
            .any(|p| p.service_id == service.id)
    {
        return Err(policy(format!(
            "service {} already waits for funds; pay for it before renewing it again",
            service.id
        )));
    }
    let pending = Pending {
        id: store::next_id(txn, PENDING)?.into(),
        account_id: service.client_id,
        service_id: service.id,
        what,
        amount,
        since: now,
    };
    txn.open_table(PENDING)?
        .insert(pending.id.get(), store::encode(&pending).as_slice())?;
    Ok(pending)
}

/// Drop what waits for funds for `service` (it was deleted).
pub(super) fn forget_waiting(txn: &WriteTransaction, service: ServiceId) -> Result<(), ApiError> {
    let mut table = txn.open_table(PENDING)?;
    for p in waiting_in(&table, |p| p.service_id == service)? {
        table.remove(p.id.get())?;
    }
    Ok(())
}

/// What waits for funds on `account`, oldest first.
fn waiting_of(txn: &WriteTransaction, account: AccountId) -> Result<Vec<Pending>, ApiError> {
    let table = txn.open_table(PENDING)?;
    waiting_in(&table, |p| p.account_id == account)
}

fn waiting_in(
    table: &impl ReadableTable<u64, &'static [u8]>,
    keep: impl Fn(&Pending) -> bool,
) -> Result<Vec<Pending>, ApiError> {
    let mut out = Vec::new();
    for item in table.iter()? {
        let (id, bytes) = item?;
        let pending: Pending = store::decode(PENDING, id.value(), bytes.value())?;
        if keep(&pending) {
            out.push(pending);
        }
    }
    Ok(out)
}

impl App {
    /// What waits for funds that the caller may see: of one client, or of
    /// every client it sees.
    pub fn list_pending(
        &self,
        caller: &Caller,
        client: Option<AccountId>,
    ) -> Result<Vec<Pending>, ApiError> {
        if let Some(id) = client {
            match self.store.read()?.account(id)? {
                Some(a) if caller.sees_client(&a) => {}
                _ => return Err(ApiError::NotFound(format!("client {id} does not exist"))),
            }
            return self.pending(Some(id));
        }
        let read = self.store.read()?;
        let mut visible = Vec::new();
        for p in self.pending(None)? {
            if read
                .account(p.account_id)?
                .is_some_and(|a| caller.sees_client(&a))
            {
                visible.push(p);
            }
        }
        Ok(visible)
    }

    /// What waits for funds, of one account or of all, oldest first.
    pub fn pending(&self, account: Option<AccountId>) -> Result<Vec<Pending>, ApiError> {
        let read = self.store.read()?;
        match store::table_if_exists(&read, PENDING)? {
            Some(table) => waiting_in(&table, |p| account.is_none_or(|a| p.account_id == a)),
            None => Ok(vec![]),
        }
    }

    /// Start or renew what waits for funds on `account`, oldest first, while
    /// its balance and limit cover it. Returns the services settled.
    pub async fn settle_pending(&self, account: AccountId) -> Result<Vec<Changed>, ApiError> {
        let mut settled = Vec::new();
        // Each round settles the oldest or stops; a round that lost a race
        // (the service changed under it) is tried again, a few times.
        let mut conflicts = 0;
        while let Some(first) = self.pending(Some(account))?.into_iter().next() {
            match self.settle_one(first).await {
                Ok(Some(changed)) => settled.push(changed),
                Ok(None) => break,
                Err(ApiError::Conflict(_)) if conflicts < 3 => conflicts += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(settled)
    }

    /// Settle what waits on `account` after money came back to it (a
    /// credit, a refund, a higher limit). A failure is logged, not returned:
    /// what caused the settlement is done, and the daily job settles again.
    pub async fn settle_after_credit(&self, account: AccountId) {
        if let Err(e) = self.settle_pending(account).await {
            tracing::warn!(%account, error = %e, "settling what waits for funds failed; the daily job retries");
        }
    }

    /// `written`, once what waits on `client` is settled if the operation
    /// gave money back (a refund is funds, as a credit is).
    pub(super) async fn settling_refunds<T>(
        &self,
        written: Result<Written<T>, ApiError>,
        gave_back: bool,
        client: AccountId,
    ) -> Result<Written<T>, ApiError> {
        if gave_back && written.is_ok() {
            self.settle_after_credit(client).await;
        }
        written
    }

    /// Settle every account something waits on (the daily job).
    pub async fn settle_all_pending(&self) -> Result<usize, ApiError> {
        // Each account once, in the order of its oldest wait (dedup() would
        // only drop neighbours: waits of several accounts interleave).
        let mut accounts: Vec<AccountId> = Vec::new();
        for p in self.pending(None)? {
            if !accounts.contains(&p.account_id) {
                accounts.push(p.account_id);
            }
        }
        let mut settled = 0;
        for account in accounts {
            settled += self.settle_pending(account).await?.len();
        }
        Ok(settled)
    }

    /// Price and charge `pending` if the balance covers it: Some(the service
    /// after it), or None when it still waits.
    async fn settle_one(&self, pending: Pending) -> Result<Option<Changed>, ApiError> {
        let now = self.clock.now();
        let (seen, tariff) = {
            let read = self.store.read()?;
            let seen = read.service(pending.service_id)?;
            let tariff = seen
                .as_ref()
                .map(|s| service_tariff(&read, s))
                .transpose()?;
            (seen, tariff)
        };
        let (Some(seen), Some(tariff)) = (seen, tariff) else {
            return Err(ApiError::Internal(format!(
                "service {} waits for funds but does not exist",
                pending.service_id
            )));
        };
        let default = self.options.credit_limit;
        if seen.status == ServiceStatus::Deleted {
            // Deleted while it waited: nothing to pay for any more.
            self.write(move |txn, _| {
                txn.open_table(PENDING)?.remove(pending.id.get())?;
                Ok(())
            })
            .await?;
            return Ok(Some(Changed::new(seen, vec![])));
        }
        let (operation, months, service) = match pending.what {
            Waiting::Order => (pricing::Operation::Order, seen.months, None),
            Waiting::Renewal { months } => {
                (pricing::Operation::Renewal, months, Some(seen.facts()))
            }
        };
        let request = price_request(
            operation,
            &tariff.spec.terms(Some(tariff.id)),
            months,
            &seen.addons,
            service.as_ref(),
            now,
        );
        let (decision, priced) = self.decide_price(tariff.reseller_id, request).await?;
        let listeners = self.listeners.clone();
        self.write(move |txn, now| {
            if txn.open_table(PENDING)?.get(pending.id.get())?.is_none() {
                return Ok(None); // settled by a concurrent run
            }
            let mut service = current(txn, &seen)?;
            let limit = limit_of(txn, service.client_id, default)?;
            let balance = balance_in(txn, service.client_id, &service.currency)?.balance;
            if !limit.covers(balance, priced.total) {
                return Ok(None);
            }
            let target = match pending.what {
                Waiting::Order => order_target(&service, &listeners),
                Waiting::Renewal { .. } => target(&service, Cause::Renewal, &listeners),
            };
            let lines = record(txn, &decision, target, now)?;
            match pending.what {
                Waiting::Order => {
                    service.status = ServiceStatus::Active;
                    service.period_start = priced.period_start;
                    service.expires = priced.expires;
                }
                Waiting::Renewal { months } => {
                    service.renew(months, priced.period_start, priced.expires)
                }
            }
            save(txn, &mut service, &listeners, now)?;
            txn.open_table(PENDING)?.remove(pending.id.get())?;
            Ok(Some(Changed::new(service, lines)))
        })
        .await
    }
}
