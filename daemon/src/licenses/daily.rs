//! The daily job's license step (seed 003, "license renewal"): a license
//! renews on its own the day before it expires while its server is active,
//! whatever the server's paid period (the rule decides, `renewal-due`), and
//! one not renewed expires on its expiry day, leaving the pool if it was
//! there. Runs after billing's step, so a server suspended that day does not
//! renew its license.

use super::lifecycle::{Facts, FollowServers};
use super::tables::{LicenseReader, expiring};
use crate::app::daily::{DailyReport, DailyStep, start_of};
use crate::app::{ApiError, App};
use crate::billing::tables::Reader;
use crate::contract::bindings::license_pool::ServiceEvent;
use chrono::NaiveDate;
use futures_util::future::BoxFuture;
use std::sync::Arc;

pub struct LicenseDay {
    pub follow: Arc<FollowServers>,
}

impl DailyStep for LicenseDay {
    fn run<'a>(
        &'a self,
        app: &'a App,
        day: NaiveDate,
        report: &'a mut DailyReport,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let (follow, metrics) = (self.follow.clone(), app.metrics.clone());
            let at = start_of(day);
            let (renewed, expired) = app
                .write(move |txn, _| {
                    let mut expired = 0;
                    for id in expiring(txn, NaiveDate::MIN, day)? {
                        if let Some(license) = txn.license(id)? {
                            follow.expire(txn, license, at)?;
                            expired += 1;
                        }
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
                        let facts = Facts::read(txn, &service)?;
                        follow.decide(
                            txn,
                            &metrics,
                            ServiceEvent::RenewalDue,
                            &service,
                            facts,
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
