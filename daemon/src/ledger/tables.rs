//! Every read and write of the ledger's tables: lines, the index of lines
//! by account, and the balances kept in step with every line appended.

use crate::app::ApiError;
use crate::domain::ids::{AccountId, EntryId, ReceiptId};
use crate::domain::ledger::{Balance, LedgerEntry, Line, LineKind};
use crate::domain::money;
use crate::domain::service::Service;
use crate::store::{self, BALANCES, LEDGER, LEDGER_BY_ACCOUNT, LEDGER_BY_SERVICE, RECEIPTS};
use chrono::NaiveDate;
use redb::{ReadableTable, WriteTransaction};
use rust_decimal::Decimal;

/// Ids for one receipt and `lines` ledger lines, from one open of the
/// counters table.
pub(crate) fn next_ids(
    txn: &WriteTransaction,
    lines: usize,
) -> Result<(ReceiptId, EntryId), ApiError> {
    let mut counters = txn.open_table(store::COUNTERS)?;
    Ok((
        store::next_ids_in(&mut counters, RECEIPTS, 1)?.into(),
        store::next_ids_in(&mut counters, LEDGER, lines as u64)?.into(),
    ))
}

pub(super) fn next_entry_id(txn: &WriteTransaction) -> Result<EntryId, ApiError> {
    Ok(store::next_id(txn, LEDGER)?.into())
}

/// Append lines and update their accounts' balances in the same
/// transaction, one balance write per account and currency.
pub(crate) fn append<'e>(
    txn: &WriteTransaction,
    entries: impl Iterator<Item = &'e LedgerEntry> + Clone,
) -> Result<(), ApiError> {
    {
        let mut ledger = txn.open_table(LEDGER)?;
        let mut by_account = txn.open_table(LEDGER_BY_ACCOUNT)?;
        let mut by_service = txn.open_table(LEDGER_BY_SERVICE)?;
        for entry in entries.clone() {
            ledger.insert(entry.id.get(), store::encode(entry).as_slice())?;
            by_account.insert((entry.account_id.get(), entry.id.get()), ())?;
            if let Some(service) = entry.service_id {
                by_service.insert((service.get(), entry.id.get()), ())?;
            }
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

/// Up to `limit` lines that `keep` accepts, with ids above `after`: of one
/// account (through its index) or of all, oldest first.
pub(super) fn entries(
    read: &store::View<'_>,
    account: Option<AccountId>,
    after: u64,
    keep: impl Fn(&LedgerEntry) -> bool,
    limit: usize,
) -> Result<Vec<LedgerEntry>, ApiError> {
    let Some(ledger) = store::table_if_exists(read, LEDGER)? else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    let mut take = |e: LedgerEntry| {
        if keep(&e) {
            out.push(e);
        }
        out.len() < limit
    };
    if let Some(account) = account {
        // The ledger table may exist without its index (a migration opens
        // it on a new store): no index, no lines of any account.
        let Some(index) = store::table_if_exists(read, LEDGER_BY_ACCOUNT)? else {
            return Ok(vec![]);
        };
        let account = account.get();
        for key in index.range((account, after.saturating_add(1))..=(account, u64::MAX))? {
            let id = key?.0.value().1;
            if let Some(e) = store::get_json::<LedgerEntry>(&ledger, LEDGER, id)?
                && !take(e)
            {
                break;
            }
        }
    } else {
        for item in ledger.range(after.saturating_add(1)..)? {
            let (id, bytes) = item?;
            if !take(store::decode(LEDGER, id.value(), bytes.value())?) {
                break;
            }
        }
    }
    Ok(out)
}

/// An account's balances, one per currency it has lines in.
pub(super) fn balances_of(
    read: &store::View<'_>,
    account: AccountId,
) -> Result<Vec<Balance>, ApiError> {
    let Some(table) = store::table_if_exists(read, BALANCES)? else {
        return Ok(vec![]);
    };
    let account = account.get();
    let mut out = Vec::new();
    for item in table.range((account, "")..(account.saturating_add(1), ""))? {
        let (key, bytes) = item?;
        out.push(store::decode(BALANCES, key.value().0, bytes.value())?);
    }
    Ok(out)
}

/// The daily charges of `service` for the days strictly between `from` and
/// `to`.
pub(crate) fn daily_charged_between(
    read: &store::View<'_>,
    service: &Service,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Decimal, ApiError> {
    sum_of_lines(read, service, |line| {
        (line.kind == LineKind::Daily && line.period_start.is_some_and(|d| from < d && d < to))
            .then_some(line.amount)
    })
}

/// What the client paid for the days of `service` from `today` to its
/// expiry: each order, renewal, change or addon line (refunds subtracted)
/// for the share of its days that falls in them, not setup or late fees.
/// After an early renewal the days left run over two periods, and both
/// count. In whole minor units, half away from zero.
pub(crate) fn paid_for_days_left(
    read: &store::View<'_>,
    service: &Service,
    today: NaiveDate,
) -> Result<Decimal, ApiError> {
    let end = service.expires;
    let paid = sum_of_lines(read, service, |line| {
        let (Some(s), Some(e)) = (line.period_start, line.period_end) else {
            return None;
        };
        let charged_for_time = matches!(
            line.kind,
            LineKind::Order
                | LineKind::Renewal
                | LineKind::Change
                | LineKind::Addon
                | LineKind::Refund
        );
        let (from, to) = (s.max(today), e.min(end));
        if !charged_for_time || to <= from || e <= s {
            return None;
        }
        let share = Decimal::from((to - from).num_days()) / Decimal::from((e - s).num_days());
        Some(line.amount * share)
    })?;
    Ok(paid.round_dp_with_strategy(
        money::minor_units(&service.currency),
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    ))
}

/// The sum of what `count` makes of each of `service`'s client's lines
/// (None: not counted), through the index of lines by service.
fn sum_of_lines(
    read: &store::View<'_>,
    service: &Service,
    count: impl Fn(&Line) -> Option<Decimal>,
) -> Result<Decimal, ApiError> {
    let (Some(index), Some(ledger)) = (
        store::table_if_exists(read, LEDGER_BY_SERVICE)?,
        store::table_if_exists(read, LEDGER)?,
    ) else {
        return Ok(Decimal::ZERO);
    };
    let mut sum = Decimal::ZERO;
    let id = service.id.get();
    for key in index.range((id, 0)..=(id, u64::MAX))? {
        let entry = key?.0.value().1;
        // The index holds the reseller's shadow lines of the service too:
        // what the client paid is the client's lines only.
        if let Some(e) = store::get_json::<LedgerEntry>(&ledger, LEDGER, entry)?
            && e.shadow_of.is_none()
            && let Some(amount) = count(&e.line)
        {
            sum += amount;
        }
    }
    Ok(sum)
}
