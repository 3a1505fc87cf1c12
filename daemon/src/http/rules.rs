//! `/v1/rules`: what is loaded and bound, and a candidate module's diff
//! against the stored decisions.

use super::MODULE_LIMIT;
use super::extract::Params;
use super::problem::Problem;
use crate::app::{ApiError, App, Caller};
use crate::contract::hook::Hook;
use crate::domain::invalid::invalid;
use crate::rules::RulesReport;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/rules", get(list_rules)).route(
        "/v1/rules/diff",
        post(rules_diff).layer(DefaultBodyLimit::max(MODULE_LIMIT)),
    )
}

/// The module serving each hook, every loaded module, and load errors (provider only).
#[utoipa::path(
    get,
    tag = "rules", path = "/v1/rules",
    responses(
        (status = 200, description = "Bindings, modules and load errors", body = RulesReport),
        (status = 403, description = "Provider only", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_rules(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<RulesReport>, ApiError> {
    app.rules(&caller).map(Json)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// Only decisions made on or after this day.
    pub since: Option<chrono::NaiveDate>,
    /// How many differences the summary repeats in full (default 10).
    pub show: Option<usize>,
    /// Only decisions of these hooks, separated by commas (default: every
    /// hook the candidate exports).
    pub hook: Option<String>,
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
#[utoipa::path(post, tag = "rules", path = "/v1/rules/diff", params(DiffQuery),
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
pub async fn rules_diff(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(q): Params<DiffQuery>,
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
        // Not `RequestError::UnsupportedMediaType`, whose title asks for the
        // JSON every other endpoint takes: here title and detail both name wasm.
        return super::problem::problem(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send the module as application/wasm",
            "send the candidate module as `Content-Type: application/wasm` \
             (or application/octet-stream)"
                .into(),
        );
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
