//! What other domains do when a service ends: billing deletes services (on
//! request, or the daily job after an unpaid expiry) and calls every
//! listener in the deletion's own transaction, so nothing a service held
//! (its addresses, later its licenses) outlives it, and billing imports none
//! of the domains that listen.

use super::ApiError;
use crate::domain::ids::ServiceId;
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use std::sync::Arc;

/// A domain's part of deleting a service. It runs in the deletion's write
/// transaction and may run more than once (the writer re-runs a batch), so
/// it only touches that transaction.
pub trait OnServiceDeleted: Send + Sync {
    fn deleted(
        &self,
        txn: &WriteTransaction,
        service: ServiceId,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError>;
}

/// Every listener, in registration order; cheap to clone into a write job.
#[derive(Clone, Default)]
pub struct ServiceListeners(Arc<[Arc<dyn OnServiceDeleted>]>);

impl ServiceListeners {
    pub fn new(listeners: Vec<Arc<dyn OnServiceDeleted>>) -> Self {
        ServiceListeners(listeners.into())
    }

    /// Tell every listener that `service` is deleted, in `txn`.
    pub fn deleted(
        &self,
        txn: &WriteTransaction,
        service: ServiceId,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        for l in self.0.iter() {
            l.deleted(txn, service, now)?;
        }
        Ok(())
    }
}
