//! Manual adjustments: funds received and corrections, by the provider or
//! the client's reseller.

use super::tables::{append, next_entry_id};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::ids::AccountId;
use crate::domain::invalid::{check_text, invalid};
use crate::domain::ledger::{LedgerEntry, Line, LineKind};
use crate::domain::money;
use crate::tenancy::tables::account_in;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

/// A manual line: funds received (negative amount, a credit) or a correction.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdjustment {
    #[schema(value_type = u64)]
    pub account_id: AccountId,
    #[schema(pattern = "^(?!XXX)[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    /// Negative credits the account (e.g. "-50.00" for a payment received);
    /// positive charges it; never zero (with or without a sign), which
    /// would change nothing.
    #[serde(with = "crate::domain::money::plain")]
    #[schema(value_type = String, pattern = r"^-?0*([1-9][0-9]{0,11}(\.[0-9]{1,4})?|0\.(0{0,3}[1-9]|0{0,2}[1-9][0-9]|0?[1-9][0-9]{2}|[1-9][0-9]{3}))0*$", example = "-50.00")]
    pub amount: Decimal,
    #[schema(min_length = 1, max_length = 500, example = "Bank transfer 2026-01-15")]
    pub description: String,
}

impl App {
    /// Record a manual adjustment (provider, or the reseller of the client).
    pub async fn adjust(
        &self,
        caller: Caller,
        req: NewAdjustment,
        idem: Option<Idempotency>,
    ) -> Result<Written<LedgerEntry>, ApiError> {
        money::check_currency("currency", &req.currency)?;
        money::check_payable(req.amount, &req.currency).map_err(|m| invalid("amount", m))?;
        if req.amount.is_zero() {
            return Err(invalid("amount", "an adjustment of zero changes nothing").into());
        }
        check_text("description", &req.description, 500)?;
        // Stored and shown with exactly the currency's places: "1.0" JPY is 1.
        let amount = money::in_minor_units(req.amount, &req.currency);
        self.mutate(idem, move |txn, now| {
            let account = match account_in(txn, req.account_id)? {
                Some(a) if caller.sees_client(&a) => a,
                _ => {
                    return Err(ApiError::NotFound(format!(
                        "client {} does not exist",
                        req.account_id
                    )));
                }
            };
            let entry = LedgerEntry {
                shadow_id: None,
                shadow_of: None,
                parts: vec![],
                id: next_entry_id(txn)?,
                account_id: account.id,
                reseller_id: account.reseller_id,
                service_id: None,
                currency: req.currency.clone(),
                at: now,
                receipt_id: None,
                rule_sha256: None,
                line: Line {
                    kind: LineKind::Adjustment,
                    description: req.description.clone(),
                    amount,
                    period_start: None,
                    period_end: None,
                },
            };
            append(txn, std::iter::once(&entry))?;
            Ok(entry)
        })
        .await
    }
}
