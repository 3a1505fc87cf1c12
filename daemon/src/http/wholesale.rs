//! Handlers for wholesale prices, a reseller's daily bills and margins.

use super::extract::{Id, Mutation, Params};
use super::idempotency::reply;
use super::problem::Problem;
use crate::app::{ApiError, App, Caller};
use crate::domain::ids::AccountId;
use crate::wholesale::model::{Bill, Margins, PriceList, PriceListSpec};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

type AppState = State<Arc<App>>;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/v1/wholesale-prices",
            get(list_wholesale_prices).put(set_wholesale_prices),
        )
        .route("/v1/resellers/{id}/bills", get(list_bills))
        .route("/v1/resellers/{id}/margins", get(get_margins))
}

/// Set (replace) the wholesale price list of a reseller, or the default one,
/// in one currency. Provider only.
#[utoipa::path(
    put,
    tag = "wholesale", path = "/v1/wholesale-prices",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = PriceListSpec,
    responses(
        (status = 200, description = "The price list", body = PriceList),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "No such reseller", body = Problem),
        (status = 422, description = "Invalid price list", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn set_wholesale_prices(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<PriceListSpec>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::OK,
            app.set_wholesale_prices(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WholesaleQuery {
    /// The lists that apply to this reseller (its own, else the default per
    /// currency). A reseller's key always reads its own.
    pub reseller_id: Option<u64>,
}

/// Wholesale price lists: the provider sees all of them; a reseller the ones
/// that apply to it.
#[utoipa::path(
    get,
    tag = "wholesale", path = "/v1/wholesale-prices",
    params(WholesaleQuery),
    responses(
        (status = 200, description = "The price lists", body = [PriceList]),
        (status = 404, description = "No such reseller (or not the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_wholesale_prices(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<WholesaleQuery>,
) -> Result<Json<Vec<PriceList>>, ApiError> {
    app.wholesale_prices(&caller, q.reseller_id.map(AccountId))
        .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DaysQuery {
    /// First day, YYYY-MM-DD (default: the first of `to`'s month).
    #[param(value_type = Option<String>, format = Date, example = "2026-12-01")]
    pub from: Option<NaiveDate>,
    /// Last day, included, YYYY-MM-DD (default: today); at most 366 days
    /// after `from`.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub to: Option<NaiveDate>,
}

/// A reseller's daily wholesale bills, one per day, currency and resource
/// type. A reseller sees its own, a day's from the next day on; the
/// provider sees every reseller's, and the running totals of days not
/// billed yet (`status: open`).
#[utoipa::path(
    get,
    tag = "wholesale", path = "/v1/resellers/{id}/bills",
    params(("id" = u64, Path), DaysQuery),
    responses(
        (status = 200, description = "The bills, by day, currency and type", body = [Bill]),
        (status = 404, description = "No such reseller (or not the caller)", body = Problem),
        (status = 422, description = "Invalid range of days", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_bills(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AccountId>,
    Params(q): Params<DaysQuery>,
) -> Result<Json<Vec<Bill>>, ApiError> {
    app.bills(&caller, id, q.from, q.to).map(Json)
}

/// What a reseller's clients were charged, what the reseller owes for it
/// at wholesale and the margin, per currency and resource type. A reseller
/// sees its own, up to yesterday.
#[utoipa::path(
    get,
    tag = "wholesale", path = "/v1/resellers/{id}/margins",
    params(("id" = u64, Path), DaysQuery),
    responses(
        (status = 200, description = "Retail, wholesale and margin", body = Margins),
        (status = 404, description = "No such reseller (or not the caller)", body = Problem),
        (status = 422, description = "Invalid range of days", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_margins(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AccountId>,
    Params(q): Params<DaysQuery>,
) -> Result<Json<Margins>, ApiError> {
    app.margins(&caller, id, q.from, q.to).map(Json)
}
