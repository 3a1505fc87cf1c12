//! Re-running stored decisions through a candidate module: which would change
//! and by how much. Receipts are streamed from one read transaction (redb
//! readers never block the writer), one at a time, so memory does not grow
//! with history; nothing is written.

use crate::api::ApiError;
use crate::api::pricing::{price_with, prorate_with};
use crate::domain::decision::{Receipt, RuleInput, RuleOutput};
use crate::domain::ledger::Line;
use crate::runtime::{RuleModule, block_on};
use crate::store::{self, RECEIPTS, Store};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Only decisions made on or after this day.
    pub since: Option<NaiveDate>,
    /// How many differences to report in full.
    pub show: usize,
}

/// One decision the candidate would make differently, or failed on.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Difference {
    pub receipt_id: u64,
    pub at: DateTime<Utc>,
    pub hook: crate::hook::Hook,
    pub service_id: u64,
    pub account_id: u64,
    pub currency: String,
    /// The module that made the stored decision.
    pub stored_sha256: String,
    pub stored_lines: Vec<Line>,
    /// The service's period a pricing decision set; absent for proration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_term: Option<Term>,
    /// None when the candidate failed or refused; see `candidate_error`.
    pub candidate_lines: Option<Vec<Line>>,
    /// The period the candidate would set (pricing decisions): a change of
    /// the service's time moves no money in the lines but is a change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_term: Option<Term>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_error: Option<String>,
    /// Candidate total minus stored total; absent when the candidate failed
    /// (it has no total: a failure is not a change of zero).
    #[serde(
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub delta: Option<Decimal>,
}

/// The service period a pricing decision sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Term {
    pub period_start: NaiveDate,
    pub expires: NaiveDate,
}

impl Term {
    fn of(output: &RuleOutput) -> Option<Term> {
        match output {
            RuleOutput::Pricing(p) => Some(Term {
                period_start: p.period_start,
                expires: p.expires,
            }),
            RuleOutput::Proration { .. } => None,
        }
    }
}

/// The summary of a diff.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct DiffReport {
    pub candidate_sha256: String,
    /// Stored decisions re-run through the candidate.
    pub examined: u64,
    /// Decisions of hooks the candidate does not export, or before `since`.
    pub skipped: u64,
    /// Decisions the candidate would make differently (failures not included).
    pub changed: u64,
    /// Decisions the candidate refused or failed on: not in `changed` nor in
    /// `delta`, since they have no candidate amount to compare.
    pub failed: u64,
    /// Total money delta per currency (candidate minus stored) of the
    /// decisions in `changed`.
    #[schema(value_type = BTreeMap<String, String>)]
    pub delta: BTreeMap<String, Decimal>,
    /// The first `show` differences, in full.
    pub differences: Vec<Difference>,
}

fn total(lines: &[Line]) -> Decimal {
    lines.iter().map(|l| l.amount).sum()
}

/// The candidate's answer to a stored request: its output, or why it gave none.
fn rerun(candidate: &RuleModule, input: &RuleInput) -> Result<RuleOutput, ApiError> {
    Ok(match input {
        RuleInput::Pricing(r) => block_on(price_with(candidate, r.clone()))?.0.output,
        RuleInput::Proration(r) => block_on(prorate_with(candidate, r.clone()))?.output,
    })
}

/// Compare every stored decision of the hooks `candidate` exports. Each
/// difference is handed to `each` as it is found (for streaming); the first
/// `options.show` are also kept in the report.
pub fn diff(
    store: &Store,
    candidate: &RuleModule,
    options: &DiffOptions,
    mut each: impl FnMut(&Difference),
) -> Result<DiffReport, ApiError> {
    let mut report = DiffReport {
        candidate_sha256: candidate.sha256.clone(),
        ..DiffReport::default()
    };
    let read = store.read()?;
    let receipts = match read.open_table(RECEIPTS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(report),
        Err(e) => return Err(e.into()),
    };
    for item in redb::ReadableTable::iter(&receipts)? {
        let (id, bytes) = item?;
        let receipt: Receipt = store::decode("receipts", id.value(), bytes.value())?;
        if !candidate.exports_hook(receipt.hook)
            || options.since.is_some_and(|s| receipt.at.date_naive() < s)
        {
            report.skipped += 1;
            continue;
        }
        report.examined += 1;
        let stored = receipt.output.lines();
        let (candidate_lines, candidate_term, candidate_error, delta) =
            match rerun(candidate, &receipt.input) {
                Ok(output) if output == receipt.output => continue,
                Ok(output) => {
                    let delta = total(output.lines()) - total(stored);
                    let term = Term::of(&output);
                    (Some(output.lines().to_vec()), term, None, Some(delta))
                }
                Err(e) => (None, None, Some(e.to_string()), None),
            };
        match delta {
            Some(delta) => {
                report.changed += 1;
                *report.delta.entry(receipt.currency.clone()).or_default() += delta;
            }
            None => report.failed += 1,
        }
        let difference = Difference {
            receipt_id: receipt.id,
            at: receipt.at,
            hook: receipt.hook,
            service_id: receipt.service_id,
            account_id: receipt.account_id,
            currency: receipt.currency,
            stored_sha256: receipt.sha256,
            stored_lines: stored.to_vec(),
            stored_term: Term::of(&receipt.output),
            candidate_lines,
            candidate_term,
            candidate_error,
            delta,
        };
        each(&difference);
        if report.differences.len() < options.show {
            report.differences.push(difference);
        }
    }
    Ok(report)
}
