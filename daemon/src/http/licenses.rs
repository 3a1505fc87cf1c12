//! `/v1/licenses`, `/v1/services/{id}/license`, `/v1/license-events`,
//! `/v1/license-vendor/faults`.

use super::extract::{Id, Mutation, Params};
use super::idempotency::reply;
use super::problem::{ApiJson, Problem};
use crate::app::{ApiError, App, Caller};
use crate::domain::ids::{LicenseEventId, LicenseId, ServiceId};
use crate::licenses::model::{EventReport, LicenseEvent, LicenseView, NewLicense, VendorFaults};
use crate::licenses::pool::{EventQuery, LicenseQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use std::sync::Arc;

type AppState = State<Arc<App>>;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/licenses", get(list_licenses).post(add_license))
        .route("/v1/licenses/{id}", get(get_license))
        .route("/v1/services/{id}/license", get(service_license))
        .route("/v1/license-events", get(license_events))
        .route("/v1/license-events/{id}/report", post(report_license_event))
        .route("/v1/license-vendor/faults", put(set_vendor_faults))
}

/// Licenses the caller may see: the provider all (the pool too), a reseller
/// those of its clients' servers. Keys are shown only as a prefix.
#[utoipa::path(
    get,
    tag = "licenses", path = "/v1/licenses",
    params(LicenseQuery),
    responses(
        (status = 200, description = "Licenses, by id", body = [LicenseView]),
        (status = 422, description = "Invalid filter or page", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_licenses(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<LicenseQuery>,
) -> Result<Json<Vec<LicenseView>>, ApiError> {
    app.list_licenses(&caller, q).map(Json)
}

/// Put a license the provider holds into the pool (provider only): named
/// free.lic with IP 0.0.0.0, free once its IP and key were both changed
/// over a calendar month ago.
#[utoipa::path(
    post,
    tag = "licenses", path = "/v1/licenses",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewLicense,
    responses(
        (status = 201, description = "The pooled license", body = LicenseView),
        (status = 403, description = "Provider only", body = Problem),
        (status = 422, description = "Invalid license (expired, a day in the future, a short key), or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn add_license(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewLicense>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.add_license(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    tag = "licenses", path = "/v1/licenses/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The license", body = LicenseView),
        (status = 404, description = "No such license (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_license(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<LicenseId>,
) -> Result<Json<LicenseView>, ApiError> {
    app.get_license(&caller, id).map(Json)
}

/// The license a server holds.
#[utoipa::path(
    get,
    tag = "licenses", path = "/v1/services/{id}/license",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The server's license", body = LicenseView),
        (status = 404, description = "No such service (or not visible to the caller), or it holds no license", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn service_license(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
) -> Result<Json<LicenseView>, ApiError> {
    app.service_license(&caller, id).map(Json)
}

/// The outbox of license operations, oldest first (provider only): what a
/// vendor integration carries out and reports back on.
#[utoipa::path(
    get,
    tag = "licenses", path = "/v1/license-events",
    params(EventQuery),
    responses(
        (status = 200, description = "Events after `after`", body = [LicenseEvent]),
        (status = 403, description = "Provider only", body = Problem),
        (status = 422, description = "Invalid page", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn license_events(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<EventQuery>,
) -> Result<Json<Vec<LicenseEvent>>, ApiError> {
    app.license_events(&caller, q).map(Json)
}

/// A vendor integration reports whether it carried an event out (once).
#[utoipa::path(
    post,
    tag = "licenses", path = "/v1/license-events/{id}/report",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = EventReport,
    responses(
        (status = 200, description = "The event with its report", body = LicenseEvent),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "No such event", body = Problem),
        (status = 409, description = "The event was reported on already", body = Problem),
        (status = 422, description = "Invalid report, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn report_license_event(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<LicenseEventId>,
    m: Mutation,
) -> Response {
    match m.parse::<EventReport>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::OK,
            app.report_license_event(caller, id, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Replace the license vendor simulator's injected failures (provider only,
/// test-clock mode only).
#[utoipa::path(
    put,
    tag = "licenses", path = "/v1/license-vendor/faults",
    request_body = VendorFaults,
    responses(
        (status = 200, description = "The faults now injected", body = VendorFaults),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "Not in test-clock mode", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn set_vendor_faults(
    State(app): AppState,
    caller: Caller,
    ApiJson(faults): ApiJson<VendorFaults>,
) -> Result<Json<VendorFaults>, ApiError> {
    app.set_vendor_faults(caller, faults).await.map(Json)
}
