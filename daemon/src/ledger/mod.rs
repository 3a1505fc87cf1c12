//! The money ledger: append-only lines, per-account balances kept with them,
//! and the one place where rule decisions become ledger lines and decision
//! receipts ([`record`]). `/v1/ledger` and `/v1/balances` read it; manual
//! adjustments write it.

mod adjustments;
mod queries;
mod record;
mod tables;

pub use adjustments::NewAdjustment;
pub use queries::{LedgerQuery, page};
pub(crate) use record::{Target, record};
pub(crate) use tables::{balance_in, daily_charged_between, next_ids, paid_for_days_left};
