//! `/v1/tariffs`: tariff plans. The provider's tariffs are sold to its own
//! clients; a reseller's tariffs are its retail plans, sold to its clients.
//! Terms are immutable once created (stored decisions refer to them); only
//! `enabled` changes.

use super::tables::{Reader, next_tariff_id, put_tariff};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::ids::TariffId;
use crate::domain::invalid::invalid;
use crate::domain::tariff::{Tariff, TariffSpec};

fn not_found(id: TariffId) -> ApiError {
    ApiError::NotFound(format!("tariff {id} does not exist"))
}

impl App {
    pub async fn create_tariff(
        &self,
        caller: Caller,
        spec: TariffSpec,
        idem: Option<Idempotency>,
    ) -> Result<Written<Tariff>, ApiError> {
        spec.validate()?;
        self.mutate(idem, move |txn, now| {
            let owner = caller.reseller_scope();
            for g in spec
                .client_groups
                .allowed
                .iter()
                .chain(&spec.client_groups.forbidden)
            {
                let group = txn.group(*g)?;
                if group.is_none_or(|group| group.reseller_id != owner) {
                    return Err(invalid(
                        "tariff.client_groups",
                        format!("client group {g} does not exist among this account's groups"),
                    )
                    .into());
                }
            }
            for (i, target) in spec.may_change_to.iter().enumerate() {
                let problem = match txn.tariff(*target)? {
                    Some(t) if t.reseller_id != owner => {
                        "does not exist among this account's tariffs".to_string()
                    }
                    None => "does not exist among this account's tariffs".to_string(),
                    Some(t) if t.spec.currency != spec.currency => format!(
                        "is priced in {}, this tariff in {}",
                        t.spec.currency, spec.currency
                    ),
                    Some(_) => continue,
                };
                return Err(invalid(
                    format!("tariff.may_change_to[{i}]"),
                    format!("tariff {target} {problem}"),
                )
                .into());
            }
            if let Some(panel) = &spec.control_panel {
                let enumeration = txn.enumeration(panel.enumeration_id)?.ok_or_else(|| {
                    invalid(
                        "tariff.control_panel.enumeration_id",
                        format!("enumeration {} does not exist", panel.enumeration_id),
                    )
                })?;
                panel.check_values(&enumeration)?;
            }
            let tariff = Tariff {
                id: next_tariff_id(txn)?,
                reseller_id: owner,
                created_at: now,
                spec: spec.clone(),
            };
            put_tariff(txn, &tariff)?;
            Ok(tariff)
        })
        .await
    }

    pub fn list_tariffs(&self, caller: &Caller) -> Result<Vec<Tariff>, ApiError> {
        self.tariffs_where(|t| caller.can_see(t.reseller_id))
    }

    pub fn get_tariff(&self, caller: &Caller, id: TariffId) -> Result<Tariff, ApiError> {
        match self.store.read()?.tariff(id)? {
            Some(t) if caller.can_see(t.reseller_id) => Ok(t),
            _ => Err(not_found(id)),
        }
    }

    /// Enable or disable a tariff. A disabled tariff takes no new orders;
    /// existing services keep renewing.
    pub async fn set_tariff_enabled(
        &self,
        caller: Caller,
        id: TariffId,
        enabled: bool,
        idem: Option<Idempotency>,
    ) -> Result<Written<Tariff>, ApiError> {
        self.mutate(idem, move |txn, _| {
            let mut tariff = match txn.tariff(id)? {
                Some(t) if caller.can_see(t.reseller_id) => t,
                _ => return Err(not_found(id)),
            };
            tariff.spec.enabled = enabled;
            put_tariff(txn, &tariff)?;
            Ok(tariff)
        })
        .await
    }
}
