//! Daily bills (seed 001): "at the end of each day, the wholesale charges
//! are summarized by type, and a separate bill is created for each type of
//! resources. As the result, resellers do not see these charges until the
//! next day."
//!
//! The daily job's run for a day bills the day before: it sums that day's
//! shadow lines (one range of the index by day, visited one line at a
//! time, so memory grows with resellers x types, not lines) per reseller,
//! currency and resource type, and writes the bills and the mark that the
//! day is billed in one transaction: run twice, or killed half way and run
//! again, a day is billed once. A shadow line recorded for a day already
//! billed (its transaction began before midnight and committed after the
//! bills) is indexed under the next day, so none is left out.

use super::model::{Bill, BillStatus};
use super::tables::{billed, bills, each_shadow, put_bills};
use crate::app::daily::{DailyReport, DailyStep};
use crate::app::{ApiError, App, Caller};
use crate::domain::accounts::AccountKind;
use crate::domain::ids::AccountId;
use crate::domain::invalid::invalid;
use crate::store::{self, BILLED_DAYS, SHADOWS_BY_DAY};
use chrono::{Datelike, Days, NaiveDate};
use futures_util::future::BoxFuture;
use redb::ReadableTable;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The daily job's wholesale step: bill the day before.
pub struct WholesaleDay;

impl DailyStep for WholesaleDay {
    fn run<'a>(
        &'a self,
        app: &'a App,
        day: NaiveDate,
        report: &'a mut DailyReport,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            if let Some(before) = day.pred_opt() {
                report.bills += app.bill_day(before).await?;
            }
            Ok(())
        })
    }
}

/// The longest range of days a bills or margins query may span.
pub(crate) const MAX_DAYS: u64 = 366;

/// The sums of one day: (reseller, currency, resource) -> (amount, lines).
type Sums = BTreeMap<(AccountId, String, String), (Decimal, u64)>;

/// Sum the shadow lines of `day` (all resellers, or one).
fn sum_day(
    table: &impl ReadableTable<(u32, u64, u64), &'static [u8]>,
    day: NaiveDate,
    reseller: Option<AccountId>,
) -> Result<Sums, ApiError> {
    let mut sums = Sums::new();
    each_shadow(table, day, day, reseller, |_, owner, record| {
        for part in record.parts {
            let key = (owner, record.currency.clone(), part.resource);
            let sum = sums.entry(key).or_default();
            sum.0 += part.amount;
            sum.1 += 1;
        }
        Ok(())
    })?;
    Ok(sums)
}

fn to_bills(day: NaiveDate, sums: Sums, status: BillStatus) -> Vec<Bill> {
    sums.into_iter()
        .map(
            |((reseller_id, currency, resource), (amount, lines))| Bill {
                reseller_id,
                day,
                currency,
                resource,
                amount,
                lines,
                status,
            },
        )
        .collect()
}

/// `from`..=`to` as asked, defaulting to the month so far.
pub(crate) fn days(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if to < from {
        return Err(invalid("to", format!("{to} is before from ({from})")).into());
    }
    if (to - from).num_days() as u64 >= MAX_DAYS {
        return Err(invalid("to", format!("at most {MAX_DAYS} days from `from`")).into());
    }
    Ok((from, to))
}

impl App {
    /// Bill `day`, once: the number of bills made (0 if it was billed).
    pub async fn bill_day(&self, day: NaiveDate) -> Result<u64, ApiError> {
        self.write(move |txn, _| {
            if billed(&txn.open_table(BILLED_DAYS)?, day)?.is_some() {
                return Ok(0);
            }
            let sums = sum_day(&txn.open_table(SHADOWS_BY_DAY)?, day, None)?;
            let bills = to_bills(day, sums, BillStatus::Closed);
            put_bills(txn, day, &bills)?;
            Ok(bills.len() as u64)
        })
        .await
    }

    /// The reseller whose wholesale figures `caller` asks for: the
    /// provider any reseller's, a reseller only its own (anything else is
    /// a 404, as if it did not exist).
    pub(crate) fn wholesale_reseller(
        &self,
        caller: &Caller,
        reseller: AccountId,
    ) -> Result<AccountId, ApiError> {
        let not_found = || ApiError::NotFound(format!("reseller {reseller} does not exist"));
        let id = caller.acting_for(Some(reseller)).map_err(|_| not_found())?;
        match id.map(|r| self.account(r)).transpose()?.flatten() {
            Some(a) if a.kind == AccountKind::Reseller => Ok(a.id),
            _ => Err(not_found()),
        }
    }

    /// `GET /v1/resellers/{id}/bills`: a reseller's bills from `from` to
    /// `to` (default: this month so far). The reseller sees the closed ones
    /// (a day's from the next day on); the provider sees, for days not
    /// billed yet, their running totals too.
    pub fn bills(
        &self,
        caller: &Caller,
        reseller: AccountId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Bill>, ApiError> {
        let reseller = self.wholesale_reseller(caller, reseller)?;
        let today = self.clock.now().date_naive();
        let (from, to) = days(from, to, today)?;
        let read = self.store.read()?;
        let mut out = bills(&read, reseller, from, to)?;
        if !caller.is_provider() {
            return Ok(out);
        }
        let (Some(index), days_billed) = (
            store::table_if_exists(&read, SHADOWS_BY_DAY)?,
            store::table_if_exists(&read, BILLED_DAYS)?,
        ) else {
            return Ok(out);
        };
        let mut day = from;
        while day <= to.min(today) {
            let done = match &days_billed {
                Some(t) => billed(t, day)?.is_some(),
                None => false,
            };
            if !done {
                out.extend(to_bills(
                    day,
                    sum_day(&index, day, Some(reseller))?,
                    BillStatus::Open,
                ));
            }
            day = match day.checked_add_days(Days::new(1)) {
                Some(d) => d,
                None => break,
            };
        }
        out.sort_by(|a, b| {
            (a.day, &a.currency, &a.resource).cmp(&(b.day, &b.currency, &b.resource))
        });
        Ok(out)
    }
}
