//! HTTP: a thin layer of axum handlers over the in-process API (the
//! domains' `impl App` blocks).

mod accounts;
mod billing;
mod extract;
mod idempotency;
mod ledger;
mod openapi;
pub mod problem;

pub use openapi::document as openapi_document;

use crate::app::{ApiError, App, Caller};
use crate::billing::quotes::{Quote, QuoteRequest};
use crate::contract::hook::Hook;
use crate::domain::invalid::invalid;
use crate::rules::RulesReport;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use problem::{ApiJson, Problem};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 1 << 20;

/// A candidate module for `/v1/rules/diff` may be this large (interpreted
/// languages compile to large components).
pub const MODULE_LIMIT: usize = 64 << 20;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/rules", get(list_rules))
        .route("/v1/quotes", post(create_quote))
        .route(
            "/v1/rules/diff",
            post(rules_diff).layer(DefaultBodyLimit::max(MODULE_LIMIT)),
        )
        .route("/v1/openapi.json", get(openapi_json))
        .route(
            "/v1/resellers",
            get(accounts::list_resellers).post(accounts::create_reseller),
        )
        .route("/v1/resellers/{id}", get(accounts::get_reseller))
        .route(
            "/v1/clients",
            get(accounts::list_clients).post(accounts::create_client),
        )
        .route("/v1/clients/{id}", get(accounts::get_client))
        .route(
            "/v1/client-groups",
            get(accounts::list_client_groups).post(accounts::create_client_group),
        )
        .route("/v1/client-groups/{id}", get(accounts::get_client_group))
        .route(
            "/v1/api-keys",
            get(accounts::list_api_keys).post(accounts::create_api_key),
        )
        .route("/v1/api-keys/{id}", delete(accounts::revoke_api_key))
        .route(
            "/v1/tariffs",
            get(billing::list_tariffs).post(billing::create_tariff),
        )
        .route("/v1/tariffs/{id}", get(billing::get_tariff))
        .route("/v1/tariffs/{id}/enable", post(billing::enable_tariff))
        .route("/v1/tariffs/{id}/disable", post(billing::disable_tariff))
        .route(
            "/v1/services",
            get(billing::list_services).post(billing::order),
        )
        .route(
            "/v1/services/{id}",
            get(billing::get_service).delete(billing::delete_service),
        )
        .route("/v1/services/{id}/renew", post(billing::renew))
        .route("/v1/services/{id}/suspend", post(billing::suspend))
        .route("/v1/services/{id}/resume", post(billing::resume))
        .route("/v1/ledger", get(ledger::list_ledger))
        .route("/v1/ledger/balances", get(ledger::balances))
        .route("/v1/ledger/adjustments", post(ledger::adjust))
        .route(
            "/v1/clock",
            get(accounts::get_clock).post(accounts::set_clock),
        )
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

/// Counters in the Prometheus text format (provider only): rule calls by
/// hook, module and outcome; rule load errors; what the daily job did.
#[utoipa::path(
    get,
    path = "/metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        (status = 403, description = "Provider only", body = Problem),
    ),
    security(("bearer" = []))
)]
async fn metrics(State(app): State<Arc<App>>, caller: Caller) -> Result<Response, ApiError> {
    let text = app.metrics(&caller)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The module serving each hook, every loaded module, and load errors (provider only).
#[utoipa::path(
    get,
    path = "/v1/rules",
    responses(
        (status = 200, description = "Bindings, modules and load errors", body = RulesReport),
        (status = 403, description = "Provider only", body = Problem),
    ),
    security(("bearer" = []))
)]
async fn list_rules(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<RulesReport>, ApiError> {
    app.rules(&caller).map(Json)
}

/// Price an order, renewal or day through the pricing rule. Changes nothing.
#[utoipa::path(
    post,
    path = "/v1/quotes",
    request_body = QuoteRequest,
    responses(
        (status = 200, description = "The price the rule would charge", body = Quote),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 404, description = "The tariff, client or reseller does not exist (or is not visible to the caller)", body = Problem),
        (status = 413, description = "Request body too large", body = Problem),
        (status = 415, description = "The body is not `application/json`", body = Problem),
        (status = 422, description = "Invalid request, or denied by the rule", body = Problem),
        (status = 502, description = "The rule module failed: trapped, ran out of fuel, time or memory, or answered nonsense", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; retry", body = Problem),
    ),
    security(("bearer" = []))
)]
async fn create_quote(
    State(app): State<Arc<App>>,
    caller: Caller,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<Quote>, ApiError> {
    app.quote(&caller, req).await.map(Json)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DiffQuery {
    /// Only decisions made on or after this day.
    since: Option<chrono::NaiveDate>,
    /// How many differences the summary repeats in full (default 10).
    show: Option<usize>,
    /// Only decisions of these hooks, separated by commas (default: every
    /// hook the candidate exports).
    hook: Option<String>,
}

/// `hook=pricing,proration` as hooks.
fn parse_hooks(list: &str) -> Result<Vec<Hook>, ApiError> {
    list.split(',')
        .map(|name| {
            name.trim()
                .parse()
                .map_err(|e: String| ApiError::Invalid(invalid("hook", e)))
        })
        .collect()
}

/// Re-run the stored decisions through a candidate module (the request body,
/// `application/wasm`) and stream what would change as NDJSON: one
/// `{"type":"difference",...}` line per changed decision, then one
/// `{"type":"summary",...}`. Provider only; writes nothing; never blocks writers.
#[utoipa::path(post, path = "/v1/rules/diff", params(DiffQuery),
    request_body(content = String, content_type = "application/wasm",
        description = "The candidate component's bytes (a binary body, not text)"),
    responses(
        (status = 200, description = "NDJSON stream of differences, then a summary", content_type = "application/x-ndjson"),
        (status = 403, description = "Provider only", body = Problem),
        (status = 413, description = "The module is larger than 64 MiB", body = Problem),
        (status = 415, description = "The body is not sent as application/wasm (or application/octet-stream)", body = Problem),
        (status = 422, description = "Not a loadable rule module, or an invalid query string", body = Problem),
    ),
    security(("bearer" = [])))]
async fn rules_diff(
    State(app): State<Arc<App>>,
    caller: Caller,
    extract::Params(q): extract::Params<DiffQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // A module is binary: a JSON or form body here is a client mix-up, better
    // named as such than reported as "not a WebAssembly component".
    let binary = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/wasm")
                || v.eq_ignore_ascii_case("application/octet-stream")
        });
    if !binary {
        return problem::RequestError::UnsupportedMediaType(
            "send the candidate module as `Content-Type: application/wasm`".into(),
        )
        .into_response();
    }
    let hooks = match q.hook.as_deref().map(parse_hooks).transpose() {
        Ok(hooks) => hooks.unwrap_or_default(),
        Err(e) => return e.into_response(),
    };
    let options = crate::ops::diff::DiffOptions {
        since: q.since,
        show: q.show.unwrap_or(10),
        hooks,
    };
    match app.diff_rules(&caller, body.to_vec(), options).await {
        Err(e) => e.into_response(),
        Ok(rx) => {
            let lines = futures_util::stream::unfold(rx, |mut rx| async move {
                let event = rx.recv().await?;
                let mut line = serde_json::to_vec(&event).unwrap_or_default();
                line.push(b'\n');
                Some((Ok::<_, std::convert::Infallible>(line), rx))
            });
            (
                [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
                axum::body::Body::from_stream(lines),
            )
                .into_response()
        }
    }
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
