//! `GET /v1/resellers/{id}/margins`: what a reseller's clients were charged,
//! what the reseller owes for it at wholesale and the difference, per
//! resource type and currency, from the shadow lines of the days asked.
//!
//! A retail line is not priced per resource type, so it is shared between
//! the parts of its shadow line in proportion to their wholesale amounts
//! (rounded to the currency's places, the rest to the largest part); a
//! line whose shadow has no part (a setup or late fee) counts as "service".
//! Each line's shares add up to it exactly, so the totals' retail minus
//! wholesale is the margin to the cent.

use super::bills::days;
use super::model::{Margin, Margins, ShadowRecord};
use super::tables::each_shadow;
use crate::app::{ApiError, App, Caller};
use crate::decide::wholesale::BASE_RESOURCE;
use crate::domain::ids::AccountId;
use crate::domain::money;
use crate::store::{self, SHADOWS_BY_DAY};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// (currency, resource) -> (retail, wholesale).
type Sums = BTreeMap<(String, String), (Decimal, Decimal)>;

/// The retail amount of a shadowed line, per resource type of its shadow.
fn shares(record: &ShadowRecord) -> Vec<(&str, Decimal)> {
    let total: Decimal = record.parts.iter().map(|p| p.amount).sum();
    if total.is_zero() {
        return vec![(BASE_RESOURCE, record.retail)];
    }
    let places = money::minor_units(&record.currency);
    let mut out: Vec<(&str, Decimal)> = record
        .parts
        .iter()
        .map(|p| {
            let share = (record.retail * p.amount / total)
                .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
            (p.resource.as_str(), share)
        })
        .collect();
    let rest = record.retail - out.iter().map(|(_, s)| *s).sum::<Decimal>();
    if let Some(largest) = (0..out.len()).max_by_key(|&i| record.parts[i].amount.abs()) {
        out[largest].1 += rest;
    }
    out
}

fn add(sums: &mut Sums, record: &ShadowRecord) {
    for (resource, retail) in shares(record) {
        let key = (record.currency.clone(), resource.to_string());
        sums.entry(key).or_default().0 += retail;
    }
    for part in &record.parts {
        let key = (record.currency.clone(), part.resource.clone());
        sums.entry(key).or_default().1 += part.amount;
    }
}

fn margin(
    resource: Option<String>,
    currency: String,
    retail: Decimal,
    wholesale: Decimal,
) -> Margin {
    let shown = |d: Decimal| money::in_minor_units(d, &currency);
    Margin {
        retail: shown(retail),
        wholesale: shown(wholesale),
        margin: shown(retail - wholesale),
        resource,
        currency,
    }
}

impl App {
    /// Retail, wholesale and margin of a reseller's clients' lines from
    /// `from` to `to` (default: this month so far). A reseller sees its own
    /// up to yesterday, the days it has bills for.
    pub fn margins(
        &self,
        caller: &Caller,
        reseller: AccountId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Margins, ApiError> {
        let reseller = self.wholesale_reseller(caller, reseller)?;
        let today = self.clock.now().date_naive();
        let (from, to) = days(from, to, today)?;
        let last = if caller.is_provider() {
            to
        } else {
            to.min(today.pred_opt().unwrap_or(today))
        };
        let mut sums = Sums::new();
        let read = self.store.read()?;
        if let Some(index) = store::table_if_exists(&read, SHADOWS_BY_DAY)? {
            each_shadow(&index, from, last, Some(reseller), |_, _, record| {
                add(&mut sums, &record);
                Ok(())
            })?;
        }
        let mut totals: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        let mut resources = Vec::with_capacity(sums.len());
        for ((currency, resource), (retail, wholesale)) in sums {
            let t = totals.entry(currency.clone()).or_default();
            t.0 += retail;
            t.1 += wholesale;
            resources.push(margin(Some(resource), currency, retail, wholesale));
        }
        Ok(Margins {
            reseller_id: reseller,
            from,
            to,
            resources,
            totals: totals
                .into_iter()
                .map(|(currency, (retail, wholesale))| margin(None, currency, retail, wholesale))
                .collect(),
        })
    }
}
