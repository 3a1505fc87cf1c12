//! What other domains do when billing changes a service: billing saves
//! services (orders, suspensions, activations, edits), deletes them (on
//! request, or the daily job after an unpaid expiry) and records ledger
//! lines (orders, renewals, days, changes, refunds), and calls every
//! listener in that same transaction, so nothing a service held (its
//! addresses, its license) outlives it or lags behind it, and no line of a
//! reseller's client goes without its shadow line, while billing imports
//! none of the domains that listen.

use super::ApiError;
use super::metrics::Metrics;
use crate::domain::ids::ServiceId;
use crate::domain::ledger::{Cause, LedgerEntry};
use crate::domain::service::{Holding, Service, ServiceStatus};
use chrono::{DateTime, NaiveDate, Utc};
use redb::WriteTransaction;
use std::sync::Arc;

/// A domain's part of deleting a service. It runs in the deletion's write
/// transaction and may run more than once (the writer re-runs a batch), so
/// it only touches that transaction.
pub trait OnServiceDeleted: Send + Sync {
    /// A rule call it makes is counted in `metrics`, like every other.
    fn deleted(
        &self,
        txn: &WriteTransaction,
        service: ServiceId,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) -> Result<(), ApiError>;
}

/// What a saved service was before the save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub status: ServiceStatus,
    /// The control panel value it held.
    pub panel: Option<String>,
    pub primary_ip: Option<String>,
}

/// A service as billing saves it.
#[derive(Debug, Clone, Copy)]
pub struct Saved<'a> {
    /// None for a new service.
    pub before: Option<&'a Before>,
    pub after: &'a Service,
    /// An edit chose the control panel (perhaps the same one again).
    pub panel_chosen: bool,
}

/// A domain's part of saving a service (what it holds follows the
/// service's status, panel and primary IP), in the save's transaction and
/// under the same rule as [`OnServiceDeleted`]. An error fails the save.
pub trait OnServiceSaved: Send + Sync {
    fn saved(
        &self,
        txn: &WriteTransaction,
        saved: &Saved<'_>,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) -> Result<(), ApiError>;
}

/// The lines one decision recorded for a service, and what they paid for.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The lines, with their ids, not yet appended.
    pub lines: &'a [LedgerEntry],
    pub cause: Cause,
    /// The service's expiry before the decision; None for an order.
    pub paid_until: Option<NaiveDate>,
    /// What the service held before the decision; None for an order.
    pub before: Option<Holding<'a>>,
    pub after: Holding<'a>,
}

/// A domain's part of recording ledger lines, in the same transaction and
/// under the same rule as [`OnServiceDeleted`].
pub trait OnLinesRecorded: Send + Sync {
    /// Lines to append with `recorded`'s (a reseller's shadow lines), each
    /// with an id of its own and naming the line it follows in `shadow_of`.
    /// The ledger offers them to every listener in turn, as lines recorded
    /// for the same service, until none answers more. A rule call it makes
    /// is counted in `metrics`, like every other.
    fn recorded(
        &self,
        txn: &WriteTransaction,
        recorded: &Recorded<'_>,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) -> Result<Vec<LedgerEntry>, ApiError>;
}

/// Every listener, in registration order; cheap to clone into a write job.
#[derive(Clone, Default)]
pub struct Listeners {
    deleted: Arc<[Arc<dyn OnServiceDeleted>]>,
    recorded: Arc<[Arc<dyn OnLinesRecorded>]>,
    saved: Arc<[Arc<dyn OnServiceSaved>]>,
    metrics: Arc<Metrics>,
}

impl Listeners {
    pub fn new(
        deleted: Vec<Arc<dyn OnServiceDeleted>>,
        recorded: Vec<Arc<dyn OnLinesRecorded>>,
        saved: Vec<Arc<dyn OnServiceSaved>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Listeners {
            deleted: deleted.into(),
            recorded: recorded.into(),
            saved: saved.into(),
            metrics,
        }
    }

    /// Tell every listener that a service was saved, in `txn`.
    pub fn saved(
        &self,
        txn: &WriteTransaction,
        saved: &Saved<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        for l in self.saved.iter() {
            l.saved(txn, saved, now, &self.metrics)?;
        }
        Ok(())
    }

    /// Tell every listener that `service` is deleted, in `txn`.
    pub fn deleted(
        &self,
        txn: &WriteTransaction,
        service: ServiceId,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        for l in self.deleted.iter() {
            l.deleted(txn, service, now, &self.metrics)?;
        }
        Ok(())
    }

    /// What every listener adds to `recorded`'s lines, in `txn`.
    pub fn recorded(
        &self,
        txn: &WriteTransaction,
        recorded: &Recorded<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<LedgerEntry>, ApiError> {
        let mut out = Vec::new();
        for l in self.recorded.iter() {
            out.extend(l.recorded(txn, recorded, now, &self.metrics)?);
        }
        Ok(out)
    }
}
