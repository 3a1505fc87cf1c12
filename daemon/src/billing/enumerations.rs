//! `/v1/enumerations`: named lists of values a tariff's add-on is chosen
//! from (seed 003's "Control panel" enumeration, each value mapped to a
//! vendor's license tariff or to none). The provider defines them; every
//! caller may read them, as everyone may read the tariffs that price them.
//! Values are immutable once created: tariffs and services name them.

use super::tables::{Reader, next_enumeration_id, put_enumeration};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::ids::EnumerationId;
use crate::domain::tariff::{Enumeration, NewEnumeration};
use crate::store::ENUMERATIONS;

fn not_found(id: EnumerationId) -> ApiError {
    ApiError::NotFound(format!("enumeration {id} does not exist"))
}

impl App {
    pub async fn create_enumeration(
        &self,
        caller: Caller,
        new: NewEnumeration,
        idem: Option<Idempotency>,
    ) -> Result<Written<Enumeration>, ApiError> {
        caller.require_provider()?;
        new.validate()?;
        self.mutate(idem, move |txn, now| {
            let e = Enumeration {
                id: next_enumeration_id(txn)?,
                name: new.name.clone(),
                values: new.values.clone(),
                created_at: now,
            };
            put_enumeration(txn, &e)?;
            Ok(e)
        })
        .await
    }

    pub fn list_enumerations(&self) -> Result<Vec<Enumeration>, ApiError> {
        Ok(self.store.read_all(ENUMERATIONS, |_: &Enumeration| true)?)
    }

    pub fn get_enumeration(&self, id: EnumerationId) -> Result<Enumeration, ApiError> {
        self.store
            .read()?
            .enumeration(id)?
            .ok_or_else(|| not_found(id))
    }
}
