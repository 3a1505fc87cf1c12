//! Applying a license-pool decision in the write transaction that records
//! it: the vendor is asked first, and the license is written only when it
//! answered, so a failure leaves the license exactly as it was. Every
//! operation, done or failed, goes to the outbox.
//!
//! Taking a license (seed 003, "when a new license is ordered"): the free
//! licenses the rule chose, in its order; for each, the vendor renames it
//! `Item #<service id> addon <service name>`, sets the IP and generates a
//! new key, then it is activated and renewed if needed; on any error it
//! stays in the pool as it was and the next is tried; when none is left, a
//! new license is ordered. Releasing one (a deleted server, "no panel", a
//! reorder) suspends it and returns it to the pool: free.lic, 0.0.0.0.

use super::model::{
    FREE_IP, FREE_NAME, License, LicenseEvent, LicenseOperation, LicenseStatus, add_months,
};
use super::tables::{LicenseReader, append_event, next_license_id, put};
use super::vendor::{LicenseVendor, VendorError};
use crate::app::ApiError;
use crate::decide::license::LicenseAction;
use crate::domain::ids::{LicenseEventId, LicenseId};
use crate::domain::service::Service;
use chrono::{DateTime, NaiveDate, Utc};
use redb::WriteTransaction;

/// The server a decision is about.
pub(crate) struct Server<'a> {
    pub service: &'a Service,
    /// The license tariff its panel maps to.
    pub wanted: Option<&'a str>,
    /// The license period matched to the server's period.
    pub months: u32,
}

/// What one decision does, in one transaction.
pub(crate) struct Applier<'a> {
    pub txn: &'a WriteTransaction,
    pub vendor: &'a dyn LicenseVendor,
    pub now: DateTime<Utc>,
}

impl Applier<'_> {
    fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// Record an operation in the outbox.
    fn event(
        &self,
        operation: LicenseOperation,
        license: &License,
        months: Option<u32>,
        outcome: &Result<(), VendorError>,
    ) -> Result<LicenseEventId, ApiError> {
        if let Err(e) = outcome {
            tracing::warn!(license = license.id.get(), error = %e, "the license vendor failed");
        }
        append_event(
            self.txn,
            LicenseEvent {
                id: LicenseEventId(0),
                at: self.now,
                operation,
                license_id: license.id,
                service_id: license.service_id,
                tariff: license.tariff.clone(),
                name: license.name.clone(),
                ip: license.ip.clone(),
                months,
                error: outcome.as_ref().err().map(|e| e.0.clone()),
                report: None,
            },
        )
    }

    /// Write `license` over `old` with the time of the change.
    fn save(&self, old: Option<&License>, mut license: License) -> Result<License, ApiError> {
        license.updated_at = self.now;
        put(self.txn, old, &license)?;
        Ok(license)
    }

    pub fn apply(
        &self,
        action: &LicenseAction,
        server: &Server<'_>,
        current: Option<License>,
    ) -> Result<(), ApiError> {
        let current_or = |what: &str| {
            current.clone().ok_or_else(|| {
                ApiError::Internal(format!("a license {what} without a current license"))
            })
        };
        match action {
            LicenseAction::Take { candidates, name } => {
                self.take(candidates, name, server)?;
            }
            LicenseAction::Reorder { candidates, name } => {
                self.release(current_or("reorder")?)?;
                self.take(candidates, name, server)?;
            }
            LicenseAction::Activate => {
                self.set_status(current_or("activation")?, LicenseStatus::Active)?;
            }
            LicenseAction::Suspend => {
                self.set_status(current_or("suspension")?, LicenseStatus::Suspended)?;
            }
            LicenseAction::Renew { months } => {
                self.renew(current_or("renewal")?, *months)?;
            }
            LicenseAction::Release => self.release(current_or("release")?)?,
            LicenseAction::Nothing => {}
        }
        Ok(())
    }

    /// Activate or suspend; a vendor failure leaves it as it was (and is in
    /// the outbox), the server's own change goes on.
    fn set_status(&self, license: License, status: LicenseStatus) -> Result<(), ApiError> {
        if license.status == status {
            return Ok(());
        }
        let (operation, outcome) = match status {
            LicenseStatus::Active => (LicenseOperation::Activate, self.vendor.activate(&license)),
            _ => (LicenseOperation::Suspend, self.vendor.suspend(&license)),
        };
        self.event(operation, &license, None, &outcome)?;
        if outcome.is_ok() {
            let changed = License {
                status,
                ..license.clone()
            };
            self.save(Some(&license), changed)?;
        }
        Ok(())
    }

    /// Expired unrenewed: it leaves the pool, if it was there, and the
    /// daily job's renewals.
    pub fn expire(&self, license: License) -> Result<(), ApiError> {
        self.event(LicenseOperation::Expire, &license, None, &Ok(()))?;
        let expired = License {
            status: LicenseStatus::Expired,
            ..license.clone()
        };
        self.save(Some(&license), expired)?;
        Ok(())
    }

    /// Renew for `months` from its expiry.
    fn renew(&self, license: License, months: u32) -> Result<(), ApiError> {
        let outcome = self.vendor.renew(&license, months);
        self.event(LicenseOperation::Renew, &license, Some(months), &outcome)?;
        if outcome.is_ok() {
            let renewed = License {
                expires: add_months(license.expires, months),
                ..license.clone()
            };
            self.save(Some(&license), renewed)?;
        }
        Ok(())
    }

    /// Suspend it and return it to the pool. The pool is the daemon's
    /// record: a vendor that fails to rename it still gets it back (the
    /// outbox says what failed), since its server is gone or moved on.
    fn release(&self, license: License) -> Result<(), ApiError> {
        let mut released = license.clone();
        if license.status == LicenseStatus::Active {
            let outcome = self.vendor.suspend(&license);
            self.event(LicenseOperation::Suspend, &license, None, &outcome)?;
            if outcome.is_ok() {
                released.status = LicenseStatus::Suspended;
            }
        }
        let outcome = self.vendor.release(&license);
        released.name = FREE_NAME.into();
        released.ip = FREE_IP.into();
        released.ip_changed = self.today();
        released.service_id = None;
        released.client_id = None;
        released.reseller_id = None;
        released.addon = None;
        self.event(LicenseOperation::Release, &released, None, &outcome)?;
        self.save(Some(&license), released)?;
        Ok(())
    }

    /// A license for `server`: a free one the rule chose, else a new one.
    fn take(
        &self,
        candidates: &[LicenseId],
        name: &str,
        server: &Server<'_>,
    ) -> Result<License, ApiError> {
        let (Some(tariff), Some(ip)) = (server.wanted, server.service.primary_ip.as_deref()) else {
            return Err(ApiError::Internal(
                "a license taken for a server without a panel or an IP".into(),
            ));
        };
        let today = self.today();
        for id in candidates {
            let Some(license) = self.txn.license(*id)? else {
                continue;
            };
            // Checked again here: the rule saw the pool before this
            // transaction's earlier steps.
            if !license.is_free(today) || license.tariff != tariff {
                continue;
            }
            if let Some(taken) = self.reuse(&license, name, ip, server)? {
                return Ok(taken);
            }
        }
        self.order_new(tariff, name, ip, server)
    }

    /// Reuse a pooled license; None (and the license untouched) when the
    /// vendor failed any step.
    fn reuse(
        &self,
        license: &License,
        name: &str,
        ip: &str,
        server: &Server<'_>,
    ) -> Result<Option<License>, ApiError> {
        let today = self.today();
        let mut taken = License {
            name: name.into(),
            ip: ip.into(),
            ip_changed: today,
            key_changed: today,
            service_id: Some(server.service.id),
            client_id: Some(server.service.client_id),
            reseller_id: server.service.reseller_id,
            addon: server.service.panel().map(str::to_string),
            ..license.clone()
        };
        let steps = (|| {
            taken.key = self.vendor.reuse(license, name, ip, today)?;
            if license.status != LicenseStatus::Active {
                self.vendor.activate(&taken)?;
                taken.status = LicenseStatus::Active;
            }
            // Renewed if it would lapse before the day after tomorrow: the
            // daily job renews the day before expiry, and that day is past.
            if license.expires <= today.succ_opt().unwrap_or(today) {
                self.vendor.renew(&taken, server.months)?;
                taken.expires = add_months(license.expires, server.months);
            }
            Ok::<(), VendorError>(())
        })();
        self.event(LicenseOperation::Reuse, &taken, None, &steps)?;
        match steps {
            Ok(()) => Ok(Some(self.save(Some(license), taken)?)),
            Err(_) => Ok(None),
        }
    }

    /// A new license from the vendor; its failure fails the request.
    fn order_new(
        &self,
        tariff: &str,
        name: &str,
        ip: &str,
        server: &Server<'_>,
    ) -> Result<License, ApiError> {
        let today = self.today();
        let id = next_license_id(self.txn)?;
        let key = self
            .vendor
            .order(id, tariff, name, ip, server.months, today)
            .map_err(|e| {
                ApiError::Vendor(format!(
                    "no free {tariff} license could be taken and the vendor refused a new one: {e}"
                ))
            })?;
        let license = License {
            id,
            tariff: tariff.into(),
            name: name.into(),
            ip: ip.into(),
            key,
            status: LicenseStatus::Active,
            expires: add_months(today, server.months),
            ip_changed: today,
            key_changed: today,
            service_id: Some(server.service.id),
            client_id: Some(server.service.client_id),
            reseller_id: server.service.reseller_id,
            addon: server.service.panel().map(str::to_string),
            created_at: self.now,
            updated_at: self.now,
        };
        self.event(
            LicenseOperation::Order,
            &license,
            Some(server.months),
            &Ok(()),
        )?;
        put(self.txn, None, &license)?;
        Ok(license)
    }
}
