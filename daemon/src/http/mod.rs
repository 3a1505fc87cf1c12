//! HTTP: a thin layer of axum handlers over the in-process API (the
//! domains' `impl App` blocks).

mod accounts;
mod billing;
mod extract;
mod idempotency;
mod ipam;
mod ledger;
mod licenses;
mod links;
mod metrics;
mod openapi;
mod ops;
pub mod problem;
mod rules;
mod wholesale;

pub use openapi::document as openapi_document;

use crate::app::{ApiError, App};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 1 << 20;

/// A candidate module for `/v1/rules/diff` may be this large (interpreted
/// languages compile to large components).
pub const MODULE_LIMIT: usize = 64 << 20;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .merge(ops::router())
        .merge(rules::router())
        .merge(accounts::router())
        .merge(billing::router())
        .merge(ledger::router())
        .merge(ipam::router())
        .merge(licenses::router())
        .merge(wholesale::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
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
