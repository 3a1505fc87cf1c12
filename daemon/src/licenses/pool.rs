//! `/v1/licenses`, `/v1/services/{id}/license`, `/v1/license-events` and the
//! simulator's faults: what the API reads and writes of licenses directly.
//! The provider sees every license and the pool; a reseller sees the
//! licenses of its clients' servers, never the pool.

use super::model::{
    EventReport, FREE_IP, FREE_NAME, License, LicenseEvent, LicenseStatus, LicenseView, NewLicense,
    VendorFaults,
};
use super::tables::{LicenseReader, next_license_id, put, put_event, put_faults};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::ids::{AccountId, LicenseEventId, LicenseId, ServiceId};
use crate::domain::invalid::{check_text, invalid};
use crate::ledger::page;
use serde::Deserialize;
use utoipa::IntoParams;

/// Filters of `GET /v1/licenses`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LicenseQuery {
    /// Only licenses of this status.
    pub status: Option<LicenseStatus>,
    /// Only licenses of this vendor tariff.
    pub tariff: Option<String>,
    /// Only licenses in the pool (`true`) or in use (`false`).
    pub free: Option<bool>,
    /// Only the licenses of this client's servers (what a client portal
    /// shows its client: clients have no API keys of their own).
    #[param(maximum = 9223372036854775807_u64)]
    pub client_id: Option<u64>,
    /// Licenses with an id greater than this (for paging).
    #[param(maximum = 9223372036854775807_u64)]
    pub after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Paging of `GET /v1/license-events`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Events with an id greater than this: the last one a consumer saw.
    #[param(maximum = 9223372036854775807_u64)]
    pub after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

fn not_found(id: LicenseId) -> ApiError {
    ApiError::NotFound(format!("license {id} does not exist"))
}

/// A license the caller may see: a reseller, those of its clients' servers.
fn visible(caller: &Caller, license: &License) -> bool {
    caller.is_provider() || (license.reseller_id.is_some() && caller.can_see(license.reseller_id))
}

impl App {
    pub fn list_licenses(
        &self,
        caller: &Caller,
        q: LicenseQuery,
    ) -> Result<Vec<LicenseView>, ApiError> {
        let (limit, after) = page(q.limit, q.after)?;
        let keep = |l: &License| {
            visible(caller, l)
                && q.status.is_none_or(|s| s == l.status)
                && q.tariff.as_ref().is_none_or(|t| t == &l.tariff)
                && q.free.is_none_or(|f| f == l.pooled())
                && q.client_id
                    .is_none_or(|c| l.client_id.map(AccountId::get) == Some(c))
        };
        let read = self.store.read()?;
        Ok(read
            .licenses(after, limit, &keep)?
            .iter()
            .map(License::view)
            .collect())
    }

    pub fn get_license(&self, caller: &Caller, id: LicenseId) -> Result<LicenseView, ApiError> {
        match self.store.read()?.license(id)? {
            Some(l) if visible(caller, &l) => Ok(l.view()),
            _ => Err(not_found(id)),
        }
    }

    /// The license a server holds (404 when it holds none).
    pub fn service_license(
        &self,
        caller: &Caller,
        service: ServiceId,
    ) -> Result<LicenseView, ApiError> {
        self.get_service(caller, service)?;
        match self.store.read()?.license_of(service)? {
            Some(l) => Ok(l.view()),
            None => Err(ApiError::NotFound(format!(
                "service {service} holds no license"
            ))),
        }
    }

    /// Put a license the provider holds into the pool.
    pub async fn add_license(
        &self,
        caller: Caller,
        new: NewLicense,
        idem: Option<Idempotency>,
    ) -> Result<Written<LicenseView>, ApiError> {
        caller.require_provider()?;
        check_text("tariff", &new.tariff, 200)?;
        check_text("key", &new.key, 200)?;
        if new.key.chars().count() < 8 {
            return Err(invalid("key", "must be at least 8 characters").into());
        }
        let status = new.status.unwrap_or(LicenseStatus::Active);
        if !matches!(status, LicenseStatus::Active | LicenseStatus::Suspended) {
            return Err(invalid("status", "a license joins the pool active or suspended").into());
        }
        let today = self.clock.now().date_naive();
        for (field, day) in [
            ("ip_changed", new.ip_changed),
            ("key_changed", new.key_changed),
        ] {
            if day.is_some_and(|d| d > today) {
                return Err(invalid(field, format!("is after today ({today})")).into());
            }
        }
        if new.expires <= today {
            return Err(invalid(
                "expires",
                format!(
                    "{} is not after today ({today}): the license has expired",
                    new.expires
                ),
            )
            .into());
        }
        self.mutate(idem, move |txn, now| {
            let license = License {
                id: next_license_id(txn)?,
                tariff: new.tariff.clone(),
                name: FREE_NAME.into(),
                ip: FREE_IP.into(),
                key: new.key.clone(),
                status,
                expires: new.expires,
                ip_changed: new.ip_changed.unwrap_or(today),
                key_changed: new.key_changed.unwrap_or(today),
                service_id: None,
                client_id: None,
                reseller_id: None,
                addon: None,
                created_at: now,
                updated_at: now,
            };
            put(txn, None, &license)?;
            Ok(license.view())
        })
        .await
    }

    /// The outbox, oldest first (provider only: a vendor integration's key).
    pub fn license_events(
        &self,
        caller: &Caller,
        q: EventQuery,
    ) -> Result<Vec<LicenseEvent>, ApiError> {
        caller.require_provider()?;
        let (limit, after) = page(q.limit, q.after)?;
        self.store.read()?.events(after, limit)
    }

    /// A vendor integration's report on an event: once per event.
    pub async fn report_license_event(
        &self,
        caller: Caller,
        id: LicenseEventId,
        report: EventReport,
        idem: Option<Idempotency>,
    ) -> Result<Written<LicenseEvent>, ApiError> {
        caller.require_provider()?;
        if let Some(detail) = &report.detail {
            check_text("detail", detail, 1000)?;
        }
        self.mutate(idem, move |txn, now| {
            let mut event = txn
                .event(id)?
                .ok_or_else(|| ApiError::NotFound(format!("license event {id} does not exist")))?;
            if event.report.is_some() {
                return Err(ApiError::Conflict(format!(
                    "license event {id} was reported on already"
                )));
            }
            event.report = Some(EventReport {
                at: Some(now),
                ..report.clone()
            });
            put_event(txn, &event)?;
            Ok(event)
        })
        .await
    }

    /// Replace the simulator's injected faults (test-clock mode only: a
    /// production vendor is not to be made to fail from the API).
    pub async fn set_vendor_faults(
        &self,
        caller: Caller,
        faults: VendorFaults,
    ) -> Result<VendorFaults, ApiError> {
        caller.require_provider()?;
        if self.test_clock.is_none() {
            return Err(ApiError::NotFound(
                "no license vendor simulator faults: start the daemon with --test-clock to inject them"
                    .into(),
            ));
        }
        self.write(move |txn, _| {
            put_faults(txn, &faults)?;
            Ok(faults.clone())
        })
        .await
    }
}
