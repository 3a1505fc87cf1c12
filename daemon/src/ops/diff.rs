//! Re-running stored decisions through a candidate module: which would change
//! and by how much. Receipts are streamed from one read transaction (redb
//! readers never block the writer), one at a time, so memory does not grow
//! with history; nothing is written.

use crate::app::ApiError;
use crate::contract::hook::Hook;
use crate::decide::{self, Receipt, RuleOutput};
use crate::domain::ids::{AccountId, LicenseId, PoolId, ReceiptId, ServiceId};
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
    /// Only decisions of these hooks (empty: every hook the candidate
    /// exports).
    pub hooks: Vec<Hook>,
}

/// One decision the candidate would make differently, or failed on.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Difference {
    #[schema(value_type = u64)]
    pub receipt_id: ReceiptId,
    pub at: DateTime<Utc>,
    pub hook: Hook,
    /// What the decision was about: one of `service_id`, `pool_id`,
    /// `license_id`, `reseller_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub service_id: Option<ServiceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub pool_id: Option<PoolId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub license_id: Option<LicenseId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    /// The account the decision's money went to, and its currency; absent
    /// for decisions that move no money.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub account_id: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
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
    /// What a decision that moves no money chose, stored and candidate: the
    /// pool and address of an ip-allocation decision ("pool 2: 10.0.0.7"),
    /// the action of a license-pool one (`{"action":"release"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_address: Option<String>,
    /// Candidate total minus stored total; absent when the candidate failed
    /// (it has no total: a failure is not a change of zero).
    #[serde(
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub delta: Option<Decimal>,
}

impl Difference {
    /// What the decision was about, for people: "service 7", "pool 2".
    pub fn subject(&self) -> String {
        match (
            self.service_id,
            self.pool_id,
            self.license_id,
            self.reseller_id,
        ) {
            (Some(id), ..) => format!("service {id}"),
            (_, Some(id), ..) => format!("pool {id}"),
            (_, _, Some(id), _) => format!("license {id}"),
            (.., Some(id)) => format!("reseller {id}"),
            _ => "no subject".into(),
        }
    }
}

impl Difference {
    /// The difference for people, as `rulesd diff` prints it: the totals
    /// (or the addresses), then what differs, one line each.
    pub fn describe(&self) -> Vec<String> {
        let d = self;
        let mut out = Vec::new();
        let total = |lines: &[Line]| -> Decimal { lines.iter().map(|l| l.amount).sum() };
        let failed = || {
            format!(
                "FAILED: {}",
                d.candidate_error.as_deref().unwrap_or("no decision")
            )
        };
        // A decision about an address moves no money: show the addresses.
        let (stored, candidate) = match &d.stored_address {
            Some(address) => (
                address.clone(),
                d.candidate_address.clone().unwrap_or_else(failed),
            ),
            None => (
                total(&d.stored_lines).to_string(),
                match (&d.candidate_lines, d.delta) {
                    (Some(lines), Some(delta)) => format!("{} (delta {delta})", total(lines)),
                    _ => failed(),
                },
            ),
        };
        out.push(format!(
            "  receipt {} ({} {}, {}): stored {stored} -> candidate {candidate}",
            d.receipt_id,
            d.hook,
            d.at.format("%Y-%m-%d"),
            d.subject(),
        ));
        // The lines that differ, and the service's period: a change that
        // moves no money (another period, another description) is a change
        // all the same.
        if let (Some(stored), Some(candidate)) = (d.stored_term, d.candidate_term)
            && stored != candidate
        {
            out.push(format!(
                "    service period: - {} to {}",
                stored.period_start, stored.expires
            ));
            out.push(format!(
                "    service period: + {} to {}",
                candidate.period_start, candidate.expires
            ));
        }
        if let Some(lines) = &d.candidate_lines {
            for i in 0..d.stored_lines.len().max(lines.len()) {
                let (stored, candidate) = (d.stored_lines.get(i), lines.get(i));
                if stored != candidate {
                    out.push(format!("    line {}: - {}", i + 1, describe_line(stored)));
                    out.push(format!(
                        "    line {}: + {}",
                        i + 1,
                        describe_line(candidate)
                    ));
                }
            }
        }
        out
    }
}

/// One ledger line on one line of text, for `rulesd diff`.
fn describe_line(line: Option<&Line>) -> String {
    let Some(l) = line else {
        return "(none)".into();
    };
    let day = |d: Option<NaiveDate>| d.map_or_else(|| "-".into(), |d| d.to_string());
    format!(
        "{} {} [{}..{}) {:?}",
        serde_json::to_value(l.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        l.amount,
        day(l.period_start),
        day(l.period_end),
        l.description
    )
}

/// The service period a pricing or tariff-change decision sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Term {
    pub period_start: NaiveDate,
    pub expires: NaiveDate,
}

impl Term {
    fn of(output: &RuleOutput) -> Option<Term> {
        match output {
            RuleOutput::Pricing(p) | RuleOutput::TariffChange(p) => Some(Term {
                period_start: p.period_start,
                expires: p.expires,
            }),
            RuleOutput::Proration { .. }
            | RuleOutput::IpAllocation { .. }
            | RuleOutput::LicensePool(_)
            | RuleOutput::Wholesale { .. } => None,
        }
    }
}

/// What a decision that moves no money chose, for people: the address of an
/// ip-allocation decision, the action of a license-pool one.
fn address_of(output: &RuleOutput) -> Option<String> {
    match output {
        RuleOutput::IpAllocation { pool, address } => Some(format!("pool {pool}: {address}")),
        RuleOutput::LicensePool(action) => serde_json::to_string(action).ok(),
        _ => None,
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

/// Compare every stored decision of the hooks `candidate` exports. Each
/// difference is handed to `each` as it is found (for streaming); the first
/// `options.show` are also kept in the report.
pub fn diff(
    store: &Store,
    candidate: &RuleModule,
    options: &DiffOptions,
    mut each: impl FnMut(&Difference),
) -> Result<DiffReport, ApiError> {
    // A hook asked for that the candidate lacks would be skipped without a
    // word, and "0 would change" read as a pass.
    if let Some(hook) = options.hooks.iter().find(|&&h| !candidate.exports_hook(h)) {
        let exports: Vec<&str> = candidate.exports().iter().map(|h| h.name()).collect();
        return Err(ApiError::Invalid(crate::domain::invalid::invalid(
            "hook",
            format!(
                "the candidate does not export {hook}; it exports: {}",
                exports.join(", ")
            ),
        )));
    }
    let mut report = DiffReport {
        candidate_sha256: candidate.sha256.clone(),
        ..DiffReport::default()
    };
    let read = store.read()?;
    let Some(receipts) = store::table_if_exists(&read, RECEIPTS)? else {
        return Ok(report);
    };
    for item in redb::ReadableTable::iter(&receipts)? {
        let (id, bytes) = item?;
        let receipt: Receipt = store::decode(RECEIPTS, id.value(), bytes.value())?;
        if !candidate.exports_hook(receipt.hook)
            || !(options.hooks.is_empty() || options.hooks.contains(&receipt.hook))
            || options.since.is_some_and(|s| receipt.at.date_naive() < s)
        {
            report.skipped += 1;
            continue;
        }
        report.examined += 1;
        let stored = receipt.output.lines();
        let rerun = block_on(decide::run(candidate, receipt.input.clone())).map(|d| d.output);
        let (candidate_output, candidate_error, delta) = match rerun {
            Ok(output) if output == receipt.output => continue,
            Ok(output) => {
                let delta = total(output.lines()) - total(stored);
                (Some(output), None, Some(delta))
            }
            Err(e) => (None, Some(e.to_string()), None),
        };
        match delta {
            Some(delta) => {
                report.changed += 1;
                if let Some(payer) = &receipt.payer {
                    *report.delta.entry(payer.currency.clone()).or_default() += delta;
                }
            }
            None => report.failed += 1,
        }
        let difference = Difference {
            receipt_id: receipt.id,
            at: receipt.at,
            hook: receipt.hook,
            service_id: receipt.subject.service(),
            pool_id: receipt.subject.pool(),
            license_id: receipt.subject.license(),
            reseller_id: receipt.subject.reseller(),
            account_id: receipt.payer.as_ref().map(|p| p.account_id),
            currency: receipt.payer.map(|p| p.currency),
            stored_sha256: receipt.sha256,
            stored_lines: stored.to_vec(),
            stored_term: Term::of(&receipt.output),
            candidate_lines: candidate_output.as_ref().map(|o| o.lines().to_vec()),
            candidate_term: candidate_output.as_ref().and_then(Term::of),
            candidate_error,
            stored_address: address_of(&receipt.output),
            candidate_address: candidate_output.as_ref().and_then(address_of),
            delta,
        };
        each(&difference);
        if report.differences.len() < options.show {
            report.differences.push(difference);
        }
    }
    Ok(report)
}
