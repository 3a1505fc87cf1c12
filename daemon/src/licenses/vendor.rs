//! The license vendor, behind an adapter trait. The daemon calls it inside
//! the write transaction that records the outcome, so an adapter must be
//! quick and must not keep state a re-run of the transaction would see
//! twice. The shipped adapter is [`Simulator`], a local stand-in with
//! failures injected per operation and license ([`Faulty`], configured
//! through `PUT /v1/license-vendor/faults` in test-clock mode); a real
//! integration reads the outbox of events (`GET /v1/license-events`),
//! carries them out at the vendor and reports back on each.

use super::model::{License, LicenseOperation, VendorFault};
use crate::domain::ids::LicenseId;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

/// Why the vendor refused an operation, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VendorError(pub String);

/// What a license vendor does for the daemon.
pub trait LicenseVendor: Send + Sync {
    /// A new license `id` of `tariff` for `months`; its activation key.
    fn order(
        &self,
        id: LicenseId,
        tariff: &str,
        name: &str,
        ip: &str,
        months: u32,
        today: NaiveDate,
    ) -> Result<String, VendorError>;
    /// Rename a pooled license, set its IP and generate a new key; the key.
    fn reuse(
        &self,
        license: &License,
        name: &str,
        ip: &str,
        today: NaiveDate,
    ) -> Result<String, VendorError>;
    fn renew(&self, license: &License, months: u32) -> Result<(), VendorError>;
    fn suspend(&self, license: &License) -> Result<(), VendorError>;
    fn activate(&self, license: &License) -> Result<(), VendorError>;
    /// Back to the pool: named free.lic, IP 0.0.0.0.
    fn release(&self, license: &License) -> Result<(), VendorError>;
}

/// A local vendor: every operation succeeds; keys are derived from what the
/// license becomes, so a re-run transaction gets the same key.
pub struct Simulator;

fn key_of(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for p in parts {
        hash.update(p.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..12])
}

impl LicenseVendor for Simulator {
    fn order(
        &self,
        id: LicenseId,
        tariff: &str,
        name: &str,
        ip: &str,
        _months: u32,
        today: NaiveDate,
    ) -> Result<String, VendorError> {
        Ok(key_of(&[
            &id.to_string(),
            tariff,
            name,
            ip,
            &today.to_string(),
        ]))
    }
    fn reuse(
        &self,
        license: &License,
        name: &str,
        ip: &str,
        today: NaiveDate,
    ) -> Result<String, VendorError> {
        Ok(key_of(&[
            &license.id.to_string(),
            &license.key,
            name,
            ip,
            &today.to_string(),
        ]))
    }
    fn renew(&self, _: &License, _: u32) -> Result<(), VendorError> {
        Ok(())
    }
    fn suspend(&self, _: &License) -> Result<(), VendorError> {
        Ok(())
    }
    fn activate(&self, _: &License) -> Result<(), VendorError> {
        Ok(())
    }
    fn release(&self, _: &License) -> Result<(), VendorError> {
        Ok(())
    }
}

/// An adapter with injected failures: an operation a fault names (for its
/// license, or for every license) fails before the adapter is asked.
pub struct Faulty<'a> {
    pub inner: &'a dyn LicenseVendor,
    pub faults: &'a [VendorFault],
}

impl Faulty<'_> {
    fn check(
        &self,
        operation: LicenseOperation,
        license: Option<LicenseId>,
    ) -> Result<(), VendorError> {
        let hit = self.faults.iter().any(|f| {
            f.operation == operation && (f.license_id.is_none() || f.license_id == license)
        });
        if hit {
            let what = serde_json::to_value(operation)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let of = license.map_or_else(String::new, |id| format!(" of license {id}"));
            Err(VendorError(format!(
                "the vendor failed the {what}{of} (an injected fault)"
            )))
        } else {
            Ok(())
        }
    }
}

impl LicenseVendor for Faulty<'_> {
    fn order(
        &self,
        id: LicenseId,
        tariff: &str,
        name: &str,
        ip: &str,
        months: u32,
        today: NaiveDate,
    ) -> Result<String, VendorError> {
        self.check(LicenseOperation::Order, None)?;
        self.inner.order(id, tariff, name, ip, months, today)
    }
    fn reuse(
        &self,
        license: &License,
        name: &str,
        ip: &str,
        today: NaiveDate,
    ) -> Result<String, VendorError> {
        self.check(LicenseOperation::Reuse, Some(license.id))?;
        self.inner.reuse(license, name, ip, today)
    }
    fn renew(&self, license: &License, months: u32) -> Result<(), VendorError> {
        self.check(LicenseOperation::Renew, Some(license.id))?;
        self.inner.renew(license, months)
    }
    fn suspend(&self, license: &License) -> Result<(), VendorError> {
        self.check(LicenseOperation::Suspend, Some(license.id))?;
        self.inner.suspend(license)
    }
    fn activate(&self, license: &License) -> Result<(), VendorError> {
        self.check(LicenseOperation::Activate, Some(license.id))?;
        self.inner.activate(license)
    }
    fn release(&self, license: &License) -> Result<(), VendorError> {
        self.check(LicenseOperation::Release, Some(license.id))?;
        self.inner.release(license)
    }
}
