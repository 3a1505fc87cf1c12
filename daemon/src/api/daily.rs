//! The daily job, driven by the injected clock.
//!
//! For each day, at its first instant, in order and exactly once (the last
//! day done is kept in the store), every service that is due is handled:
//! - a daily-charged service whose next day is unpaid gets that day priced by
//!   the rule and charged if the balance covers it (or it is client-suspended,
//!   or it is a weekend its tariff does not suspend on); otherwise it is
//!   suspended as unpaid. A daily service suspended as unpaid is charged and
//!   reactivated on the first day the balance covers again;
//! - a period service past its expiry is suspended (weekend policy permitting);
//! - a service suspended as unpaid for the auto-deletion period is deleted
//!   (a period service counts as unpaid from its expiry, whoever suspended
//!   it).
//!
//! Each step re-checks the service in the write transaction, so the job is
//! idempotent per service: a crash half way through a day repeats only what
//! was not committed. Writes go through the group-committing writer in chunks,
//! so requests keep being served while the job runs.

use super::facts::{self, current, save, target};
use super::ledger::Decision;
use super::ledger::{balance_in, record};
use super::metrics::Outcome;
use super::pricing::{binding, price_request, price_with};
use super::{ApiError, App};
use crate::domain::decision::Priced;
use crate::domain::service::{Service, ServiceStatus, SuspendedBy};
use crate::domain::tariff::{Tariff, WeekendSuspension};
use crate::hook::Hook;
use crate::runtime::bindings::pricing;
use crate::store::{
    self, META, SERVICES, SERVICES_BY_EXPIRY, SERVICES_UNPAID, TARIFFS, WriteError,
};
use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use redb::{ReadableTable, WriteTransaction};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Where the last completed day is kept (days since 0001-01-01).
const LAST_DAY_KEY: &str = "daily_job_last_day";
/// Services handled per write transaction.
const CHUNK: usize = 512;
/// Passes over a day at most. A pass charges a daily service one day, so a
/// service behind by several days (its rule failed before) takes one pass
/// per day; services that change under the job are looked at again too.
const PASSES: usize = 400;
/// Rule calls between yields to the reactor while a chunk is priced (a
/// default decision is ~10 us, so about half a millisecond).
const YIELD_EVERY: usize = 50;

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
}

impl DailyReport {
    fn count(&mut self, outcome: DayOutcome) {
        match outcome {
            DayOutcome::Charged => self.charged += 1,
            DayOutcome::Reactivated => self.reactivated += 1,
            DayOutcome::Suspended => self.suspended += 1,
            DayOutcome::Deleted => self.deleted += 1,
            DayOutcome::Unchanged => {}
        }
    }
}

/// One thing to do to one service on one day.
enum Work {
    /// Price and charge a day of a daily-charged service.
    Charge {
        service: Service,
        reseller: Option<u64>,
        request: Box<pricing::PriceRequest>,
        keep_on_unpaid: bool,
    },
    /// Suspend or delete.
    Expire {
        service: Service,
        outcome: DayOutcome,
    },
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
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
        if meta.get(UNPAID_INDEX_KEY)?.is_none() {
            move_unpaid_services(&txn)?;
            meta.insert(UNPAID_INDEX_KEY, 1)?;
        }
    }
    txn.commit()?;
    Ok(())
}

/// The services in an expiry index that expired on or before `day` (days
/// since 0001-01-01), in expiry order.
fn expired_through(
    read: &store::View<'_>,
    index: redb::TableDefinition<(i32, u64), ()>,
    day: i32,
) -> Result<Vec<u64>, ApiError> {
    let Some(table) = store::table_if_exists(read, index)? else {
        return Ok(vec![]);
    };
    let mut ids = Vec::new();
    for key in table.range((i32::MIN, 0)..=(day, u64::MAX))? {
        ids.push(key?.0.value().1);
    }
    Ok(ids)
}

/// Set once unpaid period services live in their own index.
const UNPAID_INDEX_KEY: &str = "services_unpaid_index";

/// A store written before [`SERVICES_UNPAID`] existed keeps unpaid period
/// services in the main expiry index; move them (once, at start).
fn move_unpaid_services(txn: &WriteTransaction) -> Result<(), store::StoreError> {
    // (On a new store this creates the tables, empty.)
    let services = txn.open_table(SERVICES)?;
    let mut by_expiry = txn.open_table(SERVICES_BY_EXPIRY)?;
    let mut unpaid = txn.open_table(SERVICES_UNPAID)?;
    let mut moved = Vec::new();
    for key in by_expiry.iter()? {
        let (day, id) = key?.0.value();
        if let Some(bytes) = services.get(id)? {
            let service: Service = store::decode("services", id, bytes.value())?;
            if facts::expiry_index(&service) == Some(facts::ExpiryIndex::Unpaid) {
                moved.push((day, id));
            }
        }
    }
    for key in moved {
        by_expiry.remove(key)?;
        unpaid.insert(key, ())?;
    }
    Ok(())
}

impl App {
    /// Whether unpaid services of `tariff` are suspended on `day`.
    fn suspends_on(&self, tariff: &Tariff, day: NaiveDate) -> bool {
        let on_weekends = match tariff.spec.weekend_suspension {
            WeekendSuspension::ProductType => self.options.suspend_on_weekends,
            WeekendSuspension::Suspend => true,
            WeekendSuspension::DoNotSuspend => false,
        };
        on_weekends || !is_weekend(day)
    }

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
            self.run_day(day, &mut report).await?;
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
        self.metrics.daily_run(&report);
        Ok(report)
    }

    async fn run_day(&self, day: NaiveDate, report: &mut DailyReport) -> Result<(), ApiError> {
        // Services this run is done with although they are still due: their
        // rule failed, or they stay as they are (unpaid and still not
        // covered). Looking at them again in the same run changes nothing.
        let mut settled = HashSet::new();
        for _ in 0..PASSES {
            let work = self.due(day, &settled)?;
            if work.is_empty() {
                return Ok(());
            }
            let pass = self.apply(day, work, report).await?;
            settled.extend(pass.settled);
            if pass.changed == 0 && pass.conflicts == 0 {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The shortest auto-deletion period any service can have (the daemon's
    /// default or any tariff's own), or None when nothing is ever deleted.
    fn shortest_deletion(&self, tariffs: &HashMap<u64, Tariff>) -> Option<u32> {
        tariffs
            .values()
            .filter_map(|t| t.spec.auto_delete_days)
            .chain(self.options.auto_delete_days)
            .min()
    }

    /// Everything due on `day`, from one read transaction, except the
    /// `settled` services.
    fn due(&self, day: NaiveDate, settled: &HashSet<u64>) -> Result<Vec<Work>, ApiError> {
        let read = self.store.read()?;
        let Some(services) = store::table_if_exists(&read, SERVICES)? else {
            return Ok(vec![]);
        };
        // No tariff, so no service either.
        let Some(tariffs_table) = store::table_if_exists(&read, TARIFFS)? else {
            return Ok(vec![]);
        };
        // All of them: the deletion horizon needs every tariff's policy, and
        // a provider has far fewer tariffs than services.
        let mut tariffs: HashMap<u64, Tariff> = HashMap::new();
        for entry in tariffs_table.iter()? {
            let (id, bytes) = entry?;
            let tariff = super::facts::decode_tariff(id.value(), bytes.value())?;
            tariffs.insert(tariff.id, tariff);
        }
        let mut work = Vec::new();
        let today = day.num_days_from_ce();
        let mut ids = expired_through(&read, SERVICES_BY_EXPIRY, today)?;
        // Unpaid period services only wait for deletion: read them only as
        // far back as the shortest deletion period could have reached.
        if let Some(shortest) = self.shortest_deletion(&tariffs) {
            let reached = today.saturating_sub(i32::try_from(shortest).unwrap_or(i32::MAX));
            ids.extend(expired_through(&read, SERVICES_UNPAID, reached)?);
        }
        for id in ids {
            let Some(service) = store::get_json::<Service>(&services, "services", id)? else {
                continue;
            };
            if service.status == ServiceStatus::Deleted || settled.contains(&service.id) {
                continue;
            }
            let tariff = tariffs.get(&service.tariff_id).ok_or_else(|| {
                ApiError::Internal(format!("tariff {} is missing", service.tariff_id))
            })?;
            // Unpaid: suspended for want of money, or a period service
            // whose paid time ran out while it was suspended for another
            // reason (by the provider, say): its expiry passed unpaid all the
            // same, and it is deleted on the same day it would have been.
            let unpaid = service.suspended_by == Some(SuspendedBy::Expiry)
                || (!service.daily && service.status == ServiceStatus::Suspended);
            let delete_after = tariff
                .spec
                .auto_delete_days
                .or(self.options.auto_delete_days);
            if let Some(days) = delete_after
                && unpaid
                && day >= service.expires + chrono::Days::new(days.into())
            {
                work.push(Work::Expire {
                    service,
                    outcome: DayOutcome::Deleted,
                });
                continue;
            }
            if service.expires > day {
                continue;
            }
            let chargeable = service.status == ServiceStatus::Active
                || matches!(
                    service.suspended_by,
                    Some(SuspendedBy::Client | SuspendedBy::Expiry)
                );
            if service.daily && chargeable {
                // A daily service pays its days in order: the first unpaid
                // one is its expiry, which is before today only if an
                // earlier run could not charge it (the rule failed). One
                // suspended as unpaid was not provided meanwhile: it pays
                // from today, when it comes back.
                let charged_day = if service.suspended_by == Some(SuspendedBy::Expiry) {
                    day
                } else {
                    service.expires
                };
                let request = price_request(
                    pricing::Operation::Daily,
                    &tariff.spec.terms(Some(tariff.id)),
                    service.months,
                    &service.addons,
                    Some(&service.facts()),
                    start_of(charged_day),
                );
                work.push(Work::Charge {
                    keep_on_unpaid: !self.suspends_on(tariff, day),
                    reseller: tariff.reseller_id,
                    service,
                    request: Box::new(request),
                });
            } else if !service.daily
                && service.status == ServiceStatus::Active
                && self.suspends_on(tariff, day)
            {
                work.push(Work::Expire {
                    service,
                    outcome: DayOutcome::Suspended,
                });
            }
        }
        Ok(work)
    }

    /// Price what needs pricing, then write in chunks.
    async fn apply(
        &self,
        day: NaiveDate,
        work: Vec<Work>,
        report: &mut DailyReport,
    ) -> Result<Pass, ApiError> {
        let mut pass = Pass::default();
        let mut work = work.into_iter().peekable();
        while work.peek().is_some() {
            let chunk: Vec<Work> = work.by_ref().take(CHUNK).collect();
            let (decided, failed) = self.price_chunk(chunk, report).await?;
            pass.settled.extend(failed);
            let now = self.clock.now();
            let (outcomes, skipped) = self
                .writer
                .write(move |txn| {
                    let mut outcomes = Vec::with_capacity(decided.len());
                    let mut skipped = 0;
                    for item in &decided {
                        let result = match item {
                            Decided::Charge {
                                service,
                                decision,
                                priced,
                                keep_on_unpaid,
                            } => {
                                apply_day(txn, service, decision, priced, *keep_on_unpaid, now, day)
                            }
                            Decided::Expire { service, outcome } => {
                                apply_expiry(txn, service, *outcome, day)
                            }
                        };
                        let id = match item {
                            Decided::Charge { service, .. } | Decided::Expire { service, .. } => {
                                service.id
                            }
                        };
                        match result {
                            Ok(o) => outcomes.push((id, o)),
                            Err(ApiError::Conflict(_)) => skipped += 1,
                            Err(e) => return Err(WriteError::Rejected(e)),
                        }
                    }
                    Ok((outcomes, skipped))
                })
                .await?;
            pass.conflicts += skipped;
            for (id, o) in outcomes {
                if o == DayOutcome::Unchanged {
                    pass.settled.push(id);
                } else {
                    pass.changed += 1;
                }
                report.count(o);
            }
        }
        Ok(pass)
    }

    /// Ask the pricing rules for the chunk's daily charges, on the blocking
    /// pool, one module resolution per reseller binding.
    /// Returns the decisions and the services the rule could not price.
    async fn price_chunk(
        &self,
        chunk: Vec<Work>,
        report: &mut DailyReport,
    ) -> Result<(Vec<Decided>, Vec<u64>), ApiError> {
        let mut by_binding: HashMap<Option<u64>, Vec<Charge>> = HashMap::new();
        let mut decided = Vec::with_capacity(chunk.len());
        let mut failed = Vec::new();
        for item in chunk {
            match item {
                Work::Expire { service, outcome } => {
                    decided.push(Decided::Expire { service, outcome })
                }
                Work::Charge {
                    service,
                    reseller,
                    request,
                    keep_on_unpaid,
                } => {
                    by_binding
                        .entry(reseller)
                        .or_default()
                        .push((service, request, keep_on_unpaid))
                }
            }
        }
        for (reseller, items) in by_binding {
            let results = self
                .with_module(Hook::Pricing, reseller, async move |m| {
                    let mut results = Vec::with_capacity(items.len());
                    for (i, (service, request, keep)) in items.into_iter().enumerate() {
                        let result = price_with(m, *request).await;
                        self.metrics
                            .rule_call(Hook::Pricing, &m.name, Outcome::of(&result));
                        results.push((service, result, keep));
                        // Each call is short and yields only on fuel; let
                        // requests on this thread in between calls.
                        if i % YIELD_EVERY == YIELD_EVERY - 1 {
                            tokio::task::yield_now().await;
                        }
                    }
                    results
                })
                .await?;
            for (service, result, keep_on_unpaid) in results {
                match result {
                    Ok((decision, priced)) => decided.push(Decided::Charge {
                        service,
                        decision: Box::new(decision),
                        priced,
                        keep_on_unpaid,
                    }),
                    Err(e) => {
                        report.failed += 1;
                        failed.push(service.id);
                        tracing::warn!(
                            service = service.id,
                            binding = ?binding(reseller),
                            error = %e,
                            "the daily charge could not be priced"
                        );
                    }
                }
            }
        }
        Ok((decided, failed))
    }
}

/// What one pass over a day did.
#[derive(Default)]
struct Pass {
    /// Services written (charged, reactivated, suspended, deleted).
    changed: usize,
    /// Services that changed under the job: looked at again.
    conflicts: usize,
    /// Services done with for this run though still due (see `run_day`).
    settled: Vec<u64>,
}

/// A daily charge waiting for its price: the service, the request, and
/// whether an unpaid day is charged anyway (a weekend without suspension).
type Charge = (Service, Box<pricing::PriceRequest>, bool);

/// Work with its rule decision made.
enum Decided {
    Charge {
        service: Service,
        decision: Box<Decision>,
        priced: Priced,
        keep_on_unpaid: bool,
    },
    Expire {
        service: Service,
        outcome: DayOutcome,
    },
}

/// The decision time of the daily job for `day`: its first instant.
pub(crate) fn start_of(day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Apply a daily price decision to a service inside the daily job's
/// transaction: charge the day if the balance covers it (or the service is
/// client-suspended, or it is a weekend the tariff does not suspend on),
/// otherwise suspend it as unpaid.
fn apply_day(
    txn: &WriteTransaction,
    seen: &Service,
    decision: &Decision,
    priced: &Priced,
    keep_on_unpaid: bool,
    now: chrono::DateTime<chrono::Utc>,
    day: NaiveDate,
) -> Result<DayOutcome, ApiError> {
    let mut service = current(txn, seen)?;
    let balance = balance_in(txn, service.client_id, &service.currency)?;
    let client_suspended = service.suspended_by == Some(SuspendedBy::Client);
    let outcome = if balance.balance >= priced.total || client_suspended || keep_on_unpaid {
        record(txn, decision, target(&service), now)?;
        service.period_start = priced.period_start;
        service.expires = priced.expires;
        if service.suspended_by == Some(SuspendedBy::Expiry) {
            service.activate();
            DayOutcome::Reactivated
        } else {
            DayOutcome::Charged
        }
    } else if service.status == ServiceStatus::Active {
        service.suspend(SuspendedBy::Expiry, day);
        DayOutcome::Suspended
    } else {
        return Ok(DayOutcome::Unchanged);
    };
    save(txn, &mut service)?;
    Ok(outcome)
}

/// What the daily job did to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayOutcome {
    Charged,
    Reactivated,
    Suspended,
    Deleted,
    Unchanged,
}

/// Suspend an expired period service or delete a long-expired one, in the
/// daily job's transaction.
fn apply_expiry(
    txn: &WriteTransaction,
    seen: &Service,
    outcome: DayOutcome,
    day: NaiveDate,
) -> Result<DayOutcome, ApiError> {
    let mut service = current(txn, seen)?;
    match outcome {
        DayOutcome::Suspended => service.suspend(SuspendedBy::Expiry, day),
        DayOutcome::Deleted => {
            service.status = ServiceStatus::Deleted;
            service.deleted_at = Some(day);
        }
        _ => return Ok(DayOutcome::Unchanged),
    }
    save(txn, &mut service)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: u64, status: ServiceStatus, suspended_by: Option<SuspendedBy>) -> Service {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        Service {
            id,
            client_id: 1,
            reseller_id: None,
            tariff_id: 1,
            status,
            months: 1,
            addons: vec![],
            username: format!("u{id}"),
            domain: format!("u{id}.example"),
            currency: "EUR".into(),
            daily: false,
            period_start: day("2026-01-05"),
            expires: day("2026-02-05"),
            suspended_at: suspended_by.map(|_| day("2026-02-05")),
            suspended_by,
            deleted_at: None,
            created_at: "2026-01-05T06:00:00Z".parse().unwrap(),
            version: 1,
        }
    }

    fn keys(store: &store::Store, table: redb::TableDefinition<(i32, u64), ()>) -> Vec<u64> {
        let read = store.read().unwrap();
        let table = read.open_table(table).unwrap();
        table
            .iter()
            .unwrap()
            .map(|k| k.unwrap().0.value().1)
            .collect()
    }

    /// A store written before the unpaid index kept every service in the
    /// main one; the first start moves the unpaid period services, once.
    #[test]
    fn a_store_from_before_the_unpaid_index_is_moved_over_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open_scratch(dir.path()).unwrap();
        let txn = store.begin_write().unwrap();
        {
            let mut services = txn.open_table(SERVICES).unwrap();
            let mut by_expiry = txn.open_table(SERVICES_BY_EXPIRY).unwrap();
            for s in [
                service(1, ServiceStatus::Active, None),
                service(2, ServiceStatus::Suspended, Some(SuspendedBy::Expiry)),
                service(3, ServiceStatus::Suspended, Some(SuspendedBy::Provider)),
            ] {
                services.insert(s.id, store::encode(&s).as_slice()).unwrap();
                by_expiry
                    .insert((s.expires.num_days_from_ce(), s.id), ())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        let today = "2026-02-06".parse().unwrap();
        initialize(&store, today).unwrap();
        assert_eq!(keys(&store, SERVICES_BY_EXPIRY), [1, 3]);
        assert_eq!(keys(&store, SERVICES_UNPAID), [2]);
        // Once: a later start does not scan again (an entry put back in the
        // main index by hand stays there).
        let expires = service(2, ServiceStatus::Active, None).expires;
        let txn = store.begin_write().unwrap();
        txn.open_table(SERVICES_BY_EXPIRY)
            .unwrap()
            .insert((expires.num_days_from_ce(), 2), ())
            .unwrap();
        txn.commit().unwrap();
        initialize(&store, today).unwrap();
        assert_eq!(keys(&store, SERVICES_BY_EXPIRY), [1, 2, 3]);
    }
}
