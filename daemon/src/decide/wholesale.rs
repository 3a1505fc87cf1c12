//! The checks of a wholesale decision: one shadow line per retail line the
//! rule was shown, each in parts per resource type (a known resource, or
//! "service" for the base price, each once), every part in whole minor
//! units of the currency and of the retail line's sign (a refund credits
//! the reseller, a charge never does).

use super::refusal_text;
use crate::app::ApiError;
use crate::contract::bindings::wholesale::{WholesaleDecision, WholesaleRequest};
use crate::domain::ledger::{Line, Part};
use crate::domain::money;
use crate::domain::tariff::RESOURCES;
use crate::runtime::CallError;
use rust_decimal::Decimal;

/// The part of a shadow line for a service's base price.
pub const BASE_RESOURCE: &str = "service";

/// A validated wholesale decision: the shadow lines, and the parts of
/// each.
pub type Shadows = (Vec<Line>, Vec<Vec<Part>>);

/// The shadow lines of the retail lines the request showed, or why the
/// answer cannot be used.
pub fn check_wholesale(
    module: &str,
    request: &WholesaleRequest,
    decision: WholesaleDecision,
) -> Result<Shadows, ApiError> {
    // The daemon wrote these lines from checked ones: a failure is a bug.
    let retail = super::checks::lines(&request.lines, &request.currency)
        .map_err(|m| ApiError::Internal(format!("a wholesale request's retail {m}")))?;
    let invalid = |detail: String| {
        ApiError::RuleFailed(CallError::InvalidDecision {
            module: module.to_string(),
            detail,
        })
    };
    if decision.shadows.len() != retail.len() {
        return Err(invalid(format!(
            "answered {} shadow lines for {} retail lines",
            decision.shadows.len(),
            retail.len()
        )));
    }
    let mut lines = Vec::with_capacity(retail.len());
    let mut all_parts = Vec::with_capacity(retail.len());
    for (i, (line, raw)) in retail.iter().zip(decision.shadows).enumerate() {
        let f = format!("shadow line {}", i + 1);
        let credit = line.amount < Decimal::ZERO;
        let mut parts: Vec<Part> = Vec::with_capacity(raw.len());
        for p in raw {
            let resource = refusal_text(&p.resource);
            if p.resource != BASE_RESOURCE && !RESOURCES.contains(&p.resource.as_str()) {
                return Err(invalid(format!("{f}: {resource:?} is not a resource type")));
            }
            if parts.iter().any(|q| q.resource == p.resource) {
                return Err(invalid(format!("{f}: {resource} is charged twice")));
            }
            let amount = money::parse(&p.amount)
                .and_then(|a| money::check(a, credit).map(|()| a))
                .and_then(|a| money::check_places(a, &request.currency).map(|()| a))
                .map_err(|m| invalid(format!("{f}: {resource}: amount {m}")))?;
            if credit && amount > Decimal::ZERO {
                return Err(invalid(format!(
                    "{f}: {resource}: the retail line is a refund, so its shadow credits; got {amount}"
                )));
            }
            parts.push(Part {
                resource: p.resource,
                amount: money::in_minor_units(amount, &request.currency),
            });
        }
        let amount: Decimal = parts.iter().map(|p| p.amount).sum();
        lines.push(Line {
            kind: line.kind,
            description: shadow_description(&line.description),
            amount: money::in_minor_units(amount, &request.currency),
            period_start: line.period_start,
            period_end: line.period_end,
        });
        all_parts.push(parts);
    }
    Ok((lines, all_parts))
}

/// A shadow line says what it shadows, within a ledger description's 500
/// characters.
fn shadow_description(retail: &str) -> String {
    let mut text = format!("wholesale: {retail}");
    if let Some((cut, _)) = text.char_indices().nth(500) {
        text.truncate(cut);
    }
    text
}
