//! `/v1/wholesale-prices`: the provider sets a price list per reseller and
//! currency, or the default one; a reseller reads the lists that apply to
//! it (its own, else the default, per currency) and never another's.

use super::model::{PriceList, PriceListSpec};
use super::tables::{lists, put};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::accounts::AccountKind;
use crate::domain::ids::AccountId;
use crate::tenancy::tables::account_in;

impl App {
    /// Set (replace) a price list. Provider only.
    pub async fn set_wholesale_prices(
        &self,
        caller: Caller,
        spec: PriceListSpec,
        idem: Option<Idempotency>,
    ) -> Result<Written<PriceList>, ApiError> {
        caller.require_provider()?;
        spec.validate()?;
        self.mutate(idem, move |txn, now| {
            if let Some(r) = spec.reseller_id {
                match account_in(txn, r)? {
                    Some(a) if a.kind == AccountKind::Reseller => {}
                    _ => return Err(ApiError::NotFound(format!("reseller {r} does not exist"))),
                }
            }
            let list = PriceList {
                spec: spec.clone(),
                updated_at: now,
            };
            put(txn, &list)?;
            Ok(list)
        })
        .await
    }

    /// The price lists the caller may read: the provider every list (or a
    /// reseller's and the default ones, with `reseller`); a reseller the
    /// lists that apply to it: its own, and the default for a currency it
    /// has none in.
    pub fn wholesale_prices(
        &self,
        caller: &Caller,
        reseller: Option<AccountId>,
    ) -> Result<Vec<PriceList>, ApiError> {
        let Some(reseller) = caller.acting_for(reseller)? else {
            return lists(&self.store.read()?, |_| true);
        };
        match self.account(reseller)? {
            Some(a) if a.kind == AccountKind::Reseller => {}
            _ => {
                return Err(ApiError::NotFound(format!(
                    "reseller {reseller} does not exist"
                )));
            }
        }
        let read = self.store.read()?;
        let own = lists(&read, |l| l.spec.reseller_id == Some(reseller))?;
        let defaults = lists(&read, |l| {
            l.spec.reseller_id.is_none() && !own.iter().any(|o| o.spec.currency == l.spec.currency)
        })?;
        Ok(defaults.into_iter().chain(own).collect())
    }
}
