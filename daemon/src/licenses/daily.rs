//! The daily job's license step (seed 003, "license renewal"): a license
//! renews on its own the day before it expires while its server is active,
//! whatever the server's paid period (the rule decides, `renewal-due`), and
//! one not renewed expires on its expiry day, leaving the pool if it was
//! there. Runs after billing's step, so a server suspended that day does not
//! renew its license.

use super::lifecycle::decide_for;
use super::model::{License, LicenseEvent, LicenseOperation, LicenseStatus};
use super::tables::{LicenseReader, append_event, expiring, put};
use super::vendor::LicenseVendor;
use crate::app::daily::{DailyReport, DailyStep, start_of};
use crate::app::{ApiError, App};
use crate::billing::tables::Reader;
use crate::contract::bindings::license_pool::ServiceEvent;
use crate::domain::ids::LicenseEventId;
use chrono::NaiveDate;
use futures_util::future::BoxFuture;
use std::sync::Arc;

pub struct LicenseDay {
    pub vendor: Arc<dyn LicenseVendor>,
}

impl DailyStep for LicenseDay {
    fn run<'a>(
        &'a self,
        app: &'a App,
        day: NaiveDate,
        report: &'a mut DailyReport,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let (registry, vendor, metrics) = (
                app.registry.clone(),
                self.vendor.clone(),
                app.metrics.clone(),
            );
            let at = start_of(day);
            let (renewed, expired) = app
                .write(move |txn, _| {
                    let mut expired = 0;
                    for id in expiring(txn, NaiveDate::MIN, day)? {
                        let Some(license) = txn.license(id)? else {
                            continue;
                        };
                        let gone = License {
                            status: LicenseStatus::Expired,
                            updated_at: at,
                            ..license.clone()
                        };
                        append_event(
                            txn,
                            LicenseEvent {
                                id: LicenseEventId(0),
                                at,
                                operation: LicenseOperation::Expire,
                                license_id: license.id,
                                service_id: license.service_id,
                                tariff: license.tariff.clone(),
                                name: license.name.clone(),
                                ip: license.ip.clone(),
                                months: None,
                                error: None,
                                report: None,
                            },
                        )?;
                        put(txn, Some(&license), &gone)?;
                        expired += 1;
                    }
                    let mut renewed = 0;
                    let tomorrow = day.succ_opt().unwrap_or(day);
                    for id in expiring(txn, tomorrow, tomorrow)? {
                        let Some(service_id) = txn.license(id)?.and_then(|l| l.service_id) else {
                            continue;
                        };
                        let Some(service) = txn.service(service_id)? else {
                            continue;
                        };
                        decide_for(
                            txn,
                            &registry,
                            &*vendor,
                            &metrics,
                            ServiceEvent::RenewalDue,
                            &service,
                            at,
                        )?;
                        if txn.license(id)?.is_some_and(|l| l.expires > tomorrow) {
                            renewed += 1;
                        }
                    }
                    Ok((renewed, expired))
                })
                .await?;
            report.licenses_renewed += renewed;
            report.licenses_expired += expired;
            Ok(())
        })
    }
}
