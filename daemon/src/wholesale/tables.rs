//! Every read and write of the wholesale tables: the price lists (one per
//! reseller, 0 for the default, and currency), the index of shadow lines by
//! day, the daily bills and the days billed.

use super::model::{Bill, PriceList, ShadowRecord};
use crate::app::ApiError;
use crate::domain::ids::{AccountId, EntryId};
use crate::store::{self, BILLED_DAYS, SHADOWS_BY_DAY, WHOLESALE_BILLS, WHOLESALE_PRICES};
use chrono::{Datelike, NaiveDate};
use redb::{ReadableTable, WriteTransaction};

/// The key of a reseller's list (0: the default list).
fn owner_key(reseller: Option<AccountId>) -> u64 {
    reseller.map_or(0, AccountId::get)
}

/// A day as the tables key it.
pub(crate) fn day_key(day: NaiveDate) -> u32 {
    u32::try_from(day.num_days_from_ce()).unwrap_or(0)
}

fn day_of(key: u32) -> Result<NaiveDate, ApiError> {
    i32::try_from(key)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| ApiError::Internal(format!("day key {key} is not a date")))
}

pub(crate) fn put(txn: &WriteTransaction, list: &PriceList) -> Result<(), ApiError> {
    txn.open_table(WHOLESALE_PRICES)?.insert(
        (
            owner_key(list.spec.reseller_id),
            list.spec.currency.as_str(),
        ),
        store::encode(list).as_slice(),
    )?;
    Ok(())
}

/// Every list `keep` accepts: the default ones first, then by reseller and
/// currency.
pub(crate) fn lists(
    read: &store::View<'_>,
    keep: impl Fn(&PriceList) -> bool,
) -> Result<Vec<PriceList>, ApiError> {
    let Some(table) = store::table_if_exists(read, WHOLESALE_PRICES)? else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for item in table.iter()? {
        let (key, bytes) = item?;
        let list: PriceList = store::decode(WHOLESALE_PRICES, key.value().0, bytes.value())?;
        if keep(&list) {
            out.push(list);
        }
    }
    Ok(out)
}

/// The list a reseller is charged by in a currency: its own, else the
/// default; None when the provider set neither.
pub(crate) fn list_for(
    txn: &WriteTransaction,
    reseller: AccountId,
    currency: &str,
) -> Result<Option<PriceList>, ApiError> {
    let table = txn.open_table(WHOLESALE_PRICES)?;
    for owner in [reseller.get(), 0] {
        if let Some(v) = table.get((owner, currency))? {
            return Ok(Some(store::decode(WHOLESALE_PRICES, owner, v.value())?));
        }
    }
    Ok(None)
}

/// The day a shadow line recorded on `day` is billed with: that day, or,
/// if its bills are already made, the first day after it not billed.
pub(crate) fn billing_day(txn: &WriteTransaction, day: NaiveDate) -> Result<NaiveDate, ApiError> {
    let table = txn.open_table(BILLED_DAYS)?;
    let mut day = day;
    while billed(&table, day)?.is_some() {
        day = day
            .succ_opt()
            .ok_or_else(|| ApiError::Internal("no day left to bill".into()))?;
    }
    Ok(day)
}

/// Index a shadow line under the day it is billed with.
pub(crate) fn put_shadow(
    txn: &WriteTransaction,
    day: NaiveDate,
    reseller: AccountId,
    entry: EntryId,
    record: &ShadowRecord,
) -> Result<(), ApiError> {
    txn.open_table(SHADOWS_BY_DAY)?.insert(
        (day_key(day), reseller.get(), entry.get()),
        store::encode(record).as_slice(),
    )?;
    Ok(())
}

/// Visit the shadow lines recorded from `from` to `to` (inclusive), of one
/// reseller or all, in day order, one at a time (a day may hold millions).
pub(crate) fn each_shadow(
    table: &impl ReadableTable<(u32, u64, u64), &'static [u8]>,
    from: NaiveDate,
    to: NaiveDate,
    reseller: Option<AccountId>,
    mut visit: impl FnMut(NaiveDate, AccountId, ShadowRecord) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (first, last) = (day_key(from), day_key(to));
    if last < first {
        return Ok(());
    }
    for day in first..=last {
        let date = day_of(day)?;
        let range = match reseller {
            Some(r) => table.range((day, r.get(), 0)..=(day, r.get(), u64::MAX))?,
            None => table.range((day, 0, 0)..=(day, u64::MAX, u64::MAX))?,
        };
        for item in range {
            let (key, bytes) = item?;
            let (_, owner, entry) = key.value();
            let record = store::decode(SHADOWS_BY_DAY, entry, bytes.value())?;
            visit(date, AccountId(owner), record)?;
        }
    }
    Ok(())
}

/// The bills of `day` were made (how many), or None.
pub(crate) fn billed(
    table: &impl ReadableTable<u32, u64>,
    day: NaiveDate,
) -> Result<Option<u64>, ApiError> {
    Ok(table.get(day_key(day))?.map(|v| v.value()))
}

/// Store a day's bills and mark the day billed, in one transaction.
pub(crate) fn put_bills(
    txn: &WriteTransaction,
    day: NaiveDate,
    bills: &[Bill],
) -> Result<(), ApiError> {
    let mut table = txn.open_table(WHOLESALE_BILLS)?;
    for b in bills {
        table.insert(
            (
                b.reseller_id.get(),
                day_key(b.day),
                b.currency.as_str(),
                b.resource.as_str(),
            ),
            store::encode(b).as_slice(),
        )?;
    }
    txn.open_table(BILLED_DAYS)?
        .insert(day_key(day), bills.len() as u64)?;
    Ok(())
}

/// A reseller's bills from `from` to `to`, by day, currency and type.
pub(crate) fn bills(
    read: &store::View<'_>,
    reseller: AccountId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Bill>, ApiError> {
    let Some(table) = store::table_if_exists(read, WHOLESALE_BILLS)? else {
        return Ok(vec![]);
    };
    let r = reseller.get();
    let mut out = Vec::new();
    for item in
        table.range((r, day_key(from), "", "")..(r, day_key(to).saturating_add(1), "", ""))?
    {
        let (_, bytes) = item?;
        out.push(store::decode(WHOLESALE_BILLS, r, bytes.value())?);
    }
    Ok(out)
}
