//! Every read and write of the wholesale price lists: one record per
//! reseller (0 for the default) and currency.

use super::model::PriceList;
use crate::app::ApiError;
use crate::domain::ids::AccountId;
use crate::store::{self, WHOLESALE_PRICES};
use redb::{ReadableTable, WriteTransaction};

/// The key of a reseller's list (0: the default list).
fn owner_key(reseller: Option<AccountId>) -> u64 {
    reseller.map_or(0, AccountId::get)
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
