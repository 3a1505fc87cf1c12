//! Shadow lines (seed 001): every ledger line of a reseller's client is
//! recorded with a shadow line on the reseller's own account, at the
//! wholesale amount the `wholesale` rule decides, in the same transaction.
//!
//! The ledger offers each decision's lines to [`ShadowLines`]; lines of an
//! account with a reseller get one shadow line each, on that reseller's
//! account, linked both ways, indexed by day for the daily bills. A shadow
//! line belongs to the reseller, whose own account names its parent: with a
//! reseller of a reseller, the ledger offers the shadow lines in turn and
//! they get theirs on the parent's account (one more level per parent),
//! priced at the parent's wholesale list for the same holding.
//!
//! The rule is called inside the writer's transaction, as an IP allocation
//! is: the prices and holdings it is shown are those the lines are
//! recorded with, and nothing has to be retried.

use super::model::ShadowRecord;
use super::tables::{billing_day, list_for, put_shadow};
use crate::app::metrics::{Metrics, Outcome};
use crate::app::{ApiError, OnLinesRecorded, Recorded, binding};
use crate::billing::requests::instant;
use crate::billing::tables::Reader;
use crate::contract::bindings::wholesale::{self as wit, WholesaleRequest};
use crate::contract::hook::Hook;
use crate::decide::receipt::{self, Payer, Receipt, Subject};
use crate::decide::{self, RuleInput, RuleOutput};
use crate::domain::ids::{AccountId, EntryId, TariffId};
use crate::domain::ledger::LedgerEntry;
use crate::domain::tariff::{AddonQuantity, Tariff};
use crate::ledger::next_ids;
use crate::rules::Registry;
use crate::runtime::block_on;
use crate::tenancy::tables::account_in;
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Records the shadow lines of a reseller's client's lines.
pub struct ShadowLines {
    registry: Arc<Registry>,
    /// (reseller, currency) found without a price list, warned about once
    /// per process: its shadow lines are zero until the provider sets one.
    unpriced: Mutex<HashSet<(AccountId, String)>>,
}

impl ShadowLines {
    pub fn new(registry: Arc<Registry>) -> Self {
        ShadowLines {
            registry,
            unpriced: Mutex::default(),
        }
    }

    fn warn_unpriced(&self, reseller: AccountId, currency: &str) {
        let mut seen = self.unpriced.lock().unwrap_or_else(|e| e.into_inner());
        if seen.insert((reseller, currency.to_string())) {
            tracing::warn!(
                reseller = reseller.get(),
                currency,
                "no wholesale price list applies (neither the reseller's nor the default): its clients' lines are shadowed at zero until one is set with PUT /v1/wholesale-prices"
            );
        }
    }
}

impl OnLinesRecorded for ShadowLines {
    fn recorded(
        &self,
        txn: &WriteTransaction,
        recorded: &Recorded<'_>,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) -> Result<Vec<LedgerEntry>, ApiError> {
        let Some(first) = recorded.lines.first() else {
            return Ok(vec![]);
        };
        let Some(reseller) = first.reseller_id else {
            return Ok(vec![]);
        };
        let parent = account_in(txn, reseller)?
            .ok_or_else(|| ApiError::Internal(format!("reseller {reseller} is missing")))?
            .reseller_id;
        let (request, priced) = request(txn, recorded, reseller, now)?;
        if !priced {
            self.warn_unpriced(reseller, &request.currency);
        }
        let module = self
            .registry
            .resolve(Hook::Wholesale, binding(Some(reseller)).as_deref());
        let decided = block_on(decide::run(&module, RuleInput::Wholesale(request)));
        metrics.rule_call(Hook::Wholesale, &module.name, Outcome::of(&decided));
        let decision = decided?;
        let RuleOutput::Wholesale { lines, parts } = &decision.output else {
            return Err(ApiError::Internal(
                "a wholesale decision without shadow lines".into(),
            ));
        };
        let currency = first.currency.clone();
        let (receipt_id, first_id) = next_ids(txn, lines.len())?;
        receipt::store(
            txn,
            &Receipt::new(
                receipt_id,
                &decision,
                Subject::Service(first.service_id.ok_or_else(|| {
                    ApiError::Internal("a reseller client's line without a service".into())
                })?),
                Some(Payer {
                    account_id: reseller,
                    currency: currency.clone(),
                }),
            )?,
        )?;
        let day = billing_day(txn, now.date_naive())?;
        let mut out = Vec::with_capacity(lines.len());
        for (i, ((retail, line), parts)) in recorded.lines.iter().zip(lines).zip(parts).enumerate()
        {
            let id = EntryId(first_id.get() + i as u64);
            put_shadow(
                txn,
                day,
                reseller,
                id,
                &ShadowRecord {
                    currency: currency.clone(),
                    retail: retail.line.amount,
                    parts: parts.clone(),
                },
            )?;
            out.push(LedgerEntry {
                id,
                account_id: reseller,
                reseller_id: parent,
                service_id: retail.service_id,
                currency: currency.clone(),
                at: now,
                receipt_id: Some(receipt_id),
                rule_sha256: Some(decision.sha256.clone()),
                line: line.clone(),
                shadow_id: None,
                shadow_of: Some(retail.id),
                parts: parts.clone(),
            });
        }
        Ok(out)
    }
}

/// What the rule is shown: the retail lines, the reseller's prices in
/// their currency and what the service holds before and after; and whether
/// a price list applied.
fn request(
    txn: &WriteTransaction,
    recorded: &Recorded<'_>,
    reseller: AccountId,
    now: DateTime<Utc>,
) -> Result<(WholesaleRequest, bool), ApiError> {
    let first = &recorded.lines[0];
    let currency = &first.currency;
    let list = list_for(txn, reseller, currency)?;
    let after = tariff(txn, recorded.after.tariff)?;
    let (service_base, prices) = match &list {
        Some(l) => (
            l.spec.service_base,
            l.spec
                .resources
                .iter()
                .map(|r| wit::ResourcePrice {
                    resource: r.resource.clone(),
                    price: r.price.to_string(),
                })
                .collect(),
        ),
        None => (Default::default(), vec![]),
    };
    let request = WholesaleRequest {
        reseller: reseller.to_string(),
        service: first.service_id.map(|s| s.to_string()).unwrap_or_default(),
        currency: currency.clone(),
        service_base: service_base.to_string(),
        prices,
        cause: recorded.cause.to_wit(),
        paid_until: recorded.paid_until.map(|d| d.to_string()),
        held_before: match recorded.before {
            Some(h) if h.tariff == after.id => holdings(&after, h.addons),
            Some(h) => holdings(&tariff(txn, h.tariff)?, h.addons),
            None => vec![],
        },
        held_after: holdings(&after, recorded.after.addons),
        lines: recorded
            .lines
            .iter()
            .map(|e| e.line.to_wit(currency))
            .collect(),
        at: instant(now),
    };
    Ok((request, list.is_some()))
}

/// A tariff the lines' service holds (or held).
fn tariff(txn: &WriteTransaction, id: TariffId) -> Result<Tariff, ApiError> {
    txn.tariff(id)?
        .ok_or_else(|| ApiError::Internal(format!("tariff {id} is missing")))
}

/// What a service holds of the provider's resources: its tariff's
/// `consumes` and its addon units, one entry per resource type.
fn holdings(tariff: &Tariff, addons: &[AddonQuantity]) -> Vec<wit::Holding> {
    let mut out: Vec<wit::Holding> = Vec::new();
    for q in tariff.spec.consumes.iter().chain(addons) {
        match out.iter_mut().find(|o| o.resource == q.resource) {
            Some(o) => o.units = o.units.saturating_add(q.quantity),
            None => out.push(wit::Holding {
                resource: q.resource.clone(),
                units: q.quantity,
            }),
        }
    }
    out
}
