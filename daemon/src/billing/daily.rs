//! Billing's step of the daily job ([`BillingDay`]; the runner is
//! `app::daily`). On each day every service that is due is handled:
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

use super::funds::day_covered;
use super::requests::{price_request, priced};
use super::tables::{all_tariffs, current, expired_services, save, target};
use crate::app::daily::{DailyReport, DailyStep, start_of};
use crate::app::{ApiError, App, Listeners, binding};
use crate::contract::bindings::pricing;
use crate::contract::hook::Hook;
use crate::decide::{self, Decision, RuleInput};
use crate::domain::accounts::CreditLimit;
use crate::domain::ids::{AccountId, ServiceId, TariffId};
use crate::domain::ledger::Cause;
use crate::domain::ledger::Priced;
use crate::domain::service::{Service, ServiceStatus, SuspendedBy};
use crate::domain::tariff::{Tariff, WeekendSuspension};
use crate::ledger::record;
use crate::store::WriteError;
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use futures_util::future::BoxFuture;
use redb::WriteTransaction;
use std::collections::{HashMap, HashSet};

/// Services handled per write transaction.
const CHUNK: usize = 512;
/// Passes over a day at most. A pass charges a daily service one day, so a
/// service behind by several days (its rule failed before) takes one pass
/// per day; services that change under the job are looked at again too.
const PASSES: usize = 400;
/// Rule calls between yields to the reactor while a chunk is priced: a
/// short stretch of the thread for default decisions (BENCHMARKS.md), so
/// requests are served while the job runs.
const YIELD_EVERY: usize = 50;

/// Billing's part of each day: daily charges, expiry suspensions and
/// auto-deletions (see the module's documentation).
pub struct BillingDay;

impl DailyStep for BillingDay {
    fn run<'a>(
        &'a self,
        app: &'a App,
        day: NaiveDate,
        report: &'a mut DailyReport,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(app.billing_day(day, report))
    }
}

/// Count what the job did to one service.
fn count(report: &mut DailyReport, outcome: DayOutcome) {
    match outcome {
        DayOutcome::Charged => report.charged += 1,
        DayOutcome::Reactivated => report.reactivated += 1,
        DayOutcome::Suspended => report.suspended += 1,
        DayOutcome::Deleted => report.deleted += 1,
        DayOutcome::Unchanged => {}
    }
}

/// One thing to do to one service on one day.
enum Work {
    /// Price and charge a day of a daily-charged service.
    Charge {
        service: Service,
        reseller: Option<AccountId>,
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

    /// Billing's work on `day`, in passes until a pass changes nothing.
    async fn billing_day(&self, day: NaiveDate, report: &mut DailyReport) -> Result<(), ApiError> {
        // What waits for funds first: credits a crash kept from settling,
        // and refunds, are funds too. A failure leaves it waiting, logged.
        if let Err(e) = self.settle_all_pending().await {
            tracing::warn!(error = %e, "settling what waits for funds failed");
        }
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
    fn shortest_deletion(&self, tariffs: &HashMap<TariffId, Tariff>) -> Option<u32> {
        tariffs
            .values()
            .filter_map(|t| t.spec.auto_delete_days)
            .chain(self.options.auto_delete_days)
            .min()
    }

    /// Everything due on `day`, from one read transaction, except the
    /// `settled` services.
    fn due(&self, day: NaiveDate, settled: &HashSet<ServiceId>) -> Result<Vec<Work>, ApiError> {
        let read = self.store.read()?;
        let tariffs = all_tariffs(&read)?;
        // Unpaid period services only wait for deletion: read them only as
        // far back as the shortest deletion period could have reached.
        let unpaid_through = self
            .shortest_deletion(&tariffs)
            .map(|days| day - chrono::Days::new(days.into()));
        let mut work = Vec::new();
        for service in expired_services(&read, day, unpaid_through)? {
            if service.status == ServiceStatus::Deleted || settled.contains(&service.id) {
                continue;
            }
            let tariff = tariffs.get(&service.tariff_id).ok_or_else(|| {
                ApiError::Internal(format!("tariff {} is missing", service.tariff_id))
            })?;
            work.extend(self.work_for(service, tariff, day));
        }
        Ok(work)
    }

    /// What `day` asks of one expired service, if anything.
    fn work_for(&self, service: Service, tariff: &Tariff, day: NaiveDate) -> Option<Work> {
        // Unpaid: suspended for want of money, or a period service whose
        // paid time ran out while it was suspended for another reason (by
        // the provider, say): its expiry passed unpaid all the same, and it
        // is deleted on the same day it would have been.
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
            return Some(Work::Expire {
                service,
                outcome: DayOutcome::Deleted,
            });
        }
        if service.expires > day {
            return None;
        }
        let chargeable = service.status == ServiceStatus::Active
            || matches!(
                service.suspended_by,
                Some(SuspendedBy::Client | SuspendedBy::Expiry)
            );
        if service.daily && chargeable {
            // A daily service pays its days in order: the first unpaid one
            // is its expiry, which is before today only if an earlier run
            // could not charge it (the rule failed). One suspended as unpaid
            // was not provided meanwhile: it pays from today, when it comes
            // back.
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
            Some(Work::Charge {
                keep_on_unpaid: !self.suspends_on(tariff, day),
                reseller: tariff.reseller_id,
                service,
                request: Box::new(request),
            })
        } else if !service.daily
            && service.status == ServiceStatus::Active
            && self.suspends_on(tariff, day)
        {
            Some(Work::Expire {
                service,
                outcome: DayOutcome::Suspended,
            })
        } else {
            None
        }
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
            let run = DayRun {
                listeners: self.listeners.clone(),
                now: self.clock.now(),
                day,
            };
            let limit = self.options.credit_limit;
            let (outcomes, skipped) =
                self.writer
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
                                    let unpaid = Unpaid {
                                        keep: *keep_on_unpaid,
                                        limit,
                                    };
                                    apply_day(txn, service, (decision, priced), unpaid, &run)
                                }
                                Decided::Expire { service, outcome } => {
                                    apply_expiry(txn, service, *outcome, &run)
                                }
                            };
                            let id = match item {
                                Decided::Charge { service, .. }
                                | Decided::Expire { service, .. } => service.id,
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
                count(report, o);
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
    ) -> Result<(Vec<Decided>, Vec<ServiceId>), ApiError> {
        let mut by_binding: HashMap<Option<AccountId>, Vec<Charge>> = HashMap::new();
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
                        let result = decide::run(m, RuleInput::Pricing(*request)).await;
                        self.count_call(Hook::Pricing, m, &result);
                        let result = result.and_then(|d| Ok((priced(&d)?, d)));
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
                    Ok((priced, decision)) => decided.push(Decided::Charge {
                        service,
                        decision: Box::new(decision),
                        priced,
                        keep_on_unpaid,
                    }),
                    Err(e) => {
                        report.failed += 1;
                        failed.push(service.id);
                        tracing::warn!(
                            service = service.id.get(),
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
    settled: Vec<ServiceId>,
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

/// Apply a daily price decision to a service inside the daily job's
/// transaction: charge the day if the balance covers it (or the service is
/// client-suspended, or it is a weekend the tariff does not suspend on),
/// otherwise suspend it as unpaid.
fn apply_day(
    txn: &WriteTransaction,
    seen: &Service,
    (decision, priced): (&Decision, &Priced),
    unpaid: Unpaid,
    run: &DayRun,
) -> Result<DayOutcome, ApiError> {
    let (now, day) = (run.now, run.day);
    let mut service = current(txn, seen)?;
    let client_suspended = service.suspended_by == Some(SuspendedBy::Client);
    let outcome = if client_suspended
        || unpaid.keep
        || day_covered(txn, &service, priced.total, unpaid.limit)?
    {
        record(
            txn,
            decision,
            target(&service, Cause::Day, &run.listeners),
            now,
        )?;
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
    save(txn, &mut service, &run.listeners, run.now)?;
    Ok(outcome)
}

/// The day the daily job applies its decisions for, when, and who listens.
struct DayRun {
    listeners: Listeners,
    now: DateTime<Utc>,
    day: NaiveDate,
}

/// What becomes of a day the balance does not cover.
#[derive(Debug, Clone, Copy)]
struct Unpaid {
    /// Charged anyway (a weekend the tariff does not suspend on).
    keep: bool,
    /// The daemon's default credit limit.
    limit: CreditLimit,
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
    run: &DayRun,
) -> Result<DayOutcome, ApiError> {
    let (now, day) = (run.now, run.day);
    let mut service = current(txn, seen)?;
    match outcome {
        DayOutcome::Suspended => service.suspend(SuspendedBy::Expiry, day),
        DayOutcome::Deleted => service.delete(day),
        _ => return Ok(DayOutcome::Unchanged),
    }
    save(txn, &mut service, &run.listeners, run.now)?;
    if outcome == DayOutcome::Deleted {
        run.listeners.deleted(txn, service.id, now)?;
    }
    Ok(outcome)
}
