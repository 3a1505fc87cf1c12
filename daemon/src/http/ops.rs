//! What runs the daemon rather than the business: liveness, the API
//! document and the test clock.

use super::extract::Mutation;
use super::openapi_document;
use super::problem::Problem;
use crate::app::{ApiError, App, Caller};
use crate::ops::clock::{ClockSet, ClockState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

type AppState = State<Arc<App>>;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(super::metrics::metrics))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1/clock", get(get_clock).post(set_clock))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness.
#[utoipa::path(get, tag = "operations", path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// This document.
#[utoipa::path(get, tag = "operations", path = "/v1/openapi.json", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Response {
    Json(openapi_document()).into_response()
}

/// The test clock (only in test-clock mode).
#[utoipa::path(
    get,
    tag = "operations", path = "/v1/clock",
    responses(
        (status = 200, description = "The test clock", body = ClockState),
        (status = 404, description = "The daemon runs on the system clock (no --test-clock)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_clock(State(app): AppState, caller: Caller) -> Result<Json<ClockState>, ApiError> {
    app.get_clock(&caller).map(Json)
}

/// Move the test clock forward (provider only; only in test-clock mode).
#[utoipa::path(
    post,
    tag = "operations", path = "/v1/clock",
    request_body = ClockState,
    responses(
        (status = 200, description = "The new time and the daily jobs run for the days passed", body = ClockSet),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "The daemon runs on the system clock (no --test-clock)", body = Problem),
        (status = 422, description = "Invalid time: backwards, or too far at once", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn set_clock(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    let to = match m.json::<ClockState>() {
        Ok(to) => to,
        Err(e) => return e.into_response(),
    };
    // The move runs the daily job day by day. Run it to the end even if the
    // client goes away: a dropped request would leave the clock ahead of
    // the days the job has done.
    let moved = tokio::spawn(async move { app.set_clock(&caller, to).await });
    match moved.await {
        Ok(result) => result.map(Json).into_response(),
        Err(e) => ApiError::Internal(format!("moving the clock failed: {e}")).into_response(),
    }
}
