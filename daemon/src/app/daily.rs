//! The daily job's runner, driven by the injected clock.
//!
//! Each day is run at its first instant, in order and exactly once (the last
//! day done is kept in the store). A day is the list of [`DailyStep`]s the
//! daemon was built with, run one after the other; each domain with work on
//! a day (billing's charges, suspensions and deletions) is one step. Steps
//! re-check what they change in their write transactions, so a crash half
//! way through a day repeats only what was not committed.

use super::App;
use super::error::ApiError;
use super::metrics::DailyCounters;
use crate::store::{self, META, WriteError};
use chrono::{Datelike, NaiveDate, NaiveTime};
use futures_util::future::BoxFuture;
use redb::ReadableTable;
use serde::Serialize;
use utoipa::ToSchema;

/// Where the last completed day is kept (days since 0001-01-01).
const LAST_DAY_KEY: &str = "daily_job_last_day";

/// One domain's work on one day of the daily job.
pub trait DailyStep: Send + Sync {
    /// Do the work due on `day`, counting what was done in `report`.
    fn run<'a>(
        &'a self,
        app: &'a App,
        day: NaiveDate,
        report: &'a mut DailyReport,
    ) -> BoxFuture<'a, Result<(), ApiError>>;
}

/// What the daily job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DailyReport {
    /// Days run, in order.
    pub days: Vec<NaiveDate>,
    /// Days charged to daily-charged services.
    pub charged: u64,
    /// Daily services brought back once their balance covered a day.
    pub reactivated: u64,
    pub suspended: u64,
    pub deleted: u64,
    /// Services the rule could not price (logged). The day stays unpaid and
    /// the service is charged it first by the next run that can price it.
    pub failed: u64,
    /// Daily wholesale bills made (one per reseller, currency and resource
    /// type of the day before).
    pub bills: u64,
    /// Licenses renewed the day before they expire (their servers active).
    pub licenses_renewed: u64,
    /// Licenses that expired unrenewed.
    pub licenses_expired: u64,
}

/// The decision time of the daily job for `day`: its first instant.
pub fn start_of(day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// The last day the job completed on `store`, if it ever ran.
pub fn last_day(store: &store::Store) -> Result<Option<NaiveDate>, store::StoreError> {
    let read = store.read()?;
    let Some(meta) = store::table_if_exists(&read, META)? else {
        return Ok(None);
    };
    Ok(meta
        .get(LAST_DAY_KEY)?
        .and_then(|v| i32::try_from(v.value()).ok())
        .and_then(NaiveDate::from_num_days_from_ce_opt))
}

/// On a store where the job never ran, record `day - 1` as done, so the
/// first run handles `day` and every day after it, however late the first
/// tick comes. Called at start, before any request is served.
pub fn initialize(store: &store::Store, day: NaiveDate) -> Result<(), store::StoreError> {
    let txn = store.begin_write()?;
    {
        let mut meta = txn.open_table(META)?;
        if meta.get(LAST_DAY_KEY)?.is_none() {
            let before = day.pred_opt().unwrap_or(day);
            meta.insert(LAST_DAY_KEY, before.num_days_from_ce() as u64)?;
        }
    }
    txn.commit()?;
    Ok(())
}

impl App {
    /// The last day the job completed, if it ever ran.
    pub fn last_daily_run(&self) -> Result<Option<NaiveDate>, ApiError> {
        Ok(last_day(&self.store)?)
    }

    /// Run the job for every day after the last completed one through
    /// `through`. On a store where it never ran, only `through` is run.
    pub async fn run_daily_jobs(&self, through: NaiveDate) -> Result<DailyReport, ApiError> {
        let _one_at_a_time = self.daily.lock().await;
        let mut report = DailyReport::default();
        let mut day = match self.last_daily_run()? {
            Some(last) => last.succ_opt().unwrap_or(last),
            None => through,
        };
        while day <= through {
            for step in &self.daily_steps {
                step.run(self, day, &mut report).await?;
            }
            let n = day.num_days_from_ce() as u64;
            self.writer
                .write(move |txn| {
                    let mut meta = txn.open_table(META).map_err(store::StoreError::from)?;
                    meta.insert(LAST_DAY_KEY, n)
                        .map_err(store::StoreError::from)?;
                    Ok::<_, WriteError<ApiError>>(())
                })
                .await?;
            report.days.push(day);
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        self.metrics.daily_run(|d| add_run(d, &report));
        Ok(report)
    }
}

/// Add a run's report to the totals kept for `GET /metrics`.
fn add_run(d: &mut DailyCounters, report: &DailyReport) {
    d.days += report.days.len() as u64;
    d.charged += report.charged;
    d.reactivated += report.reactivated;
    d.suspended += report.suspended;
    d.deleted += report.deleted;
    d.failed += report.failed;
    if let Some(last) = report.days.last() {
        d.last_day = Some(*last);
        d.last_run_failed = report.failed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_runs_add_up_and_the_last_one_is_kept() {
        let mut d = DailyCounters::default();
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        add_run(
            &mut d,
            &DailyReport {
                days: vec![day("2026-01-01"), day("2026-01-02")],
                charged: 3,
                failed: 2,
                ..DailyReport::default()
            },
        );
        add_run(
            &mut d,
            &DailyReport {
                days: vec![day("2026-01-03")],
                charged: 1,
                ..DailyReport::default()
            },
        );
        assert_eq!((d.days, d.charged, d.failed), (3, 4, 2));
        assert_eq!(
            (d.last_day, d.last_run_failed),
            (Some(day("2026-01-03")), 0)
        );
    }
}
