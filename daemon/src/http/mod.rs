//! HTTP: a thin layer of axum handlers over the in-process API in [`crate::api`].

mod openapi;
pub mod problem;

pub use openapi::document as openapi_document;

use crate::api::quotes::{Quote, QuoteRequest};
use crate::api::{ApiError, App};
use crate::rules::RulesReport;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use problem::{ApiJson, Problem};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 1 << 20;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/rules", get(list_rules))
        .route("/v1/quotes", post(create_quote))
        .route("/v1/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The module serving each hook, every loaded module, and load errors.
#[utoipa::path(get, path = "/v1/rules", responses((status = 200, body = RulesReport)))]
async fn list_rules(State(app): State<Arc<App>>) -> Json<RulesReport> {
    Json(app.rules())
}

/// Price an order, renewal or day through the pricing rule. Changes nothing.
#[utoipa::path(
    post,
    path = "/v1/quotes",
    request_body = QuoteRequest,
    responses(
        (status = 200, body = Quote),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request or denied by the rule", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The rule module failed", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_quote(
    State(app): State<Arc<App>>,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<Quote>, ApiError> {
    app.quote(req).await.map(Json)
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_json() -> Response {
    Json(openapi_document()).into_response()
}

async fn not_found() -> Response {
    ApiError::NotFound("no such endpoint; see /v1/openapi.json".into()).into_response()
}

async fn method_not_allowed() -> Response {
    problem::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this endpoint does not accept that method; see /v1/openapi.json".into(),
    )
}
