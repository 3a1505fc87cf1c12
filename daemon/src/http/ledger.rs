//! `/v1/ledger`: lines, balances and manual adjustments.

use super::extract::{Mutation, Params};
use super::idempotency::reply;
use super::problem::Problem;
use crate::app::{ApiError, App, Caller};
use crate::domain::ids::{AccountId, ServiceId};
use crate::domain::ledger::{Balance, LedgerEntry};
use crate::ledger::{LedgerQuery, NewAdjustment};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

type AppState = State<Arc<App>>;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/ledger", get(list_ledger))
        .route("/v1/ledger/balances", get(balances))
        .route("/v1/ledger/adjustments", post(adjust))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerParams {
    /// Only this account's lines.
    pub account_id: Option<u64>,
    /// Only this service's lines.
    pub service_id: Option<u64>,
    /// Lines with an id greater than this (for paging).
    #[param(maximum = 9223372036854775807_u64)]
    pub after: Option<u64>,
    /// At most this many lines (default 100, at most 1000: `MAX_LIMIT`).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

impl From<LedgerParams> for LedgerQuery {
    fn from(p: LedgerParams) -> LedgerQuery {
        LedgerQuery {
            account_id: p.account_id.map(AccountId),
            service_id: p.service_id.map(ServiceId),
            after: p.after,
            limit: p.limit,
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BalanceQuery {
    /// The account whose balances to show (required).
    pub account_id: u64,
}

/// Ledger lines, oldest first.
#[utoipa::path(
    get,
    tag = "ledger", path = "/v1/ledger",
    params(LedgerParams),
    responses(
        (status = 200, description = "Ledger lines, oldest first", body = [LedgerEntry]),
        (status = 404, description = "The account or service does not exist (or is not visible to the caller)", body = Problem),
        (status = 422, description = "Invalid query string (e.g. a limit that is not a number, 0 or above 1000)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_ledger(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<LedgerParams>,
) -> Result<Json<Vec<LedgerEntry>>, ApiError> {
    app.list_ledger(&caller, q.into()).map(Json)
}

/// An account's balances, one per currency (derived from its ledger lines).
#[utoipa::path(
    get,
    tag = "ledger", path = "/v1/ledger/balances",
    params(BalanceQuery),
    responses(
        (status = 200, description = "One balance per currency", body = [Balance]),
        (status = 404, description = "The account does not exist (or is not visible to the caller)", body = Problem),
        (status = 422, description = "Invalid query string (account_id is required)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn balances(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<BalanceQuery>,
) -> Result<Json<Vec<Balance>>, ApiError> {
    app.balances(&caller, AccountId(q.account_id)).map(Json)
}

/// Record a manual adjustment: a negative amount credits the account (funds received).
#[utoipa::path(
    post,
    tag = "ledger", path = "/v1/ledger/adjustments",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewAdjustment,
    responses(
        (status = 201, description = "The ledger line", body = LedgerEntry),
        (status = 404, description = "The account or service does not exist (or is not visible to the caller)", body = Problem),
        (status = 422, description = "Invalid adjustment, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn adjust(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewAdjustment>(&caller) {
        Ok((req, idem)) => {
            let (account, credit) = (req.account_id, req.amount.is_sign_negative());
            let written = app.adjust(caller, req, idem).await;
            if credit && written.is_ok() {
                // Funds arrived: what waits for them may start now.
                app.settle_after_credit(account).await;
            }
            reply(StatusCode::CREATED, written)
        }
        Err(e) => e.into_response(),
    }
}
