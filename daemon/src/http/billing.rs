//! Handlers for tariffs, services and the ledger.

use super::extract::{Id, Mutation, Params};
use super::idempotency::reply;
use super::problem::{ApiJson, Problem};
use crate::app::{ApiError, App, Caller};
use crate::billing::model::{
    ActRequest, AddonRequest, ChangeTariffRequest, Changed, OrderRequest, Ordered, Pending,
    RenewRequest, ServiceEdit,
};
use crate::billing::quotes::{Quote, QuoteRequest};
use crate::domain::ids::{AccountId, EnumerationId, ServiceId, TariffId};
use crate::domain::service::Service;
use crate::domain::tariff::{Enumeration, NewEnumeration, Tariff, TariffSpec};
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
        .route("/v1/quotes", post(create_quote))
        .route("/v1/tariffs", get(list_tariffs).post(create_tariff))
        .route("/v1/tariffs/{id}", get(get_tariff))
        .route("/v1/tariffs/{id}/enable", post(enable_tariff))
        .route("/v1/tariffs/{id}/disable", post(disable_tariff))
        .route("/v1/services", get(list_services).post(order))
        .route(
            "/v1/services/{id}",
            get(get_service).patch(edit_service).delete(delete_service),
        )
        .route(
            "/v1/enumerations",
            get(list_enumerations).post(create_enumeration),
        )
        .route("/v1/enumerations/{id}", get(get_enumeration))
        .route("/v1/services/{id}/renew", post(renew))
        .route("/v1/services/{id}/change-tariff", post(change_tariff))
        .route("/v1/services/{id}/addons", post(set_addon))
        .route("/v1/pending", get(list_pending))
        .route("/v1/services/{id}/suspend", post(suspend))
        .route("/v1/services/{id}/resume", post(resume))
}

/// Create a tariff: the provider's own, or a reseller's retail plan.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/tariffs",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = TariffSpec,
    responses(
        (status = 201, description = "The tariff", body = Tariff),
        (status = 422, description = "Invalid tariff, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_tariff(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<TariffSpec>(&caller) {
        Ok((spec, idem)) => reply(
            StatusCode::CREATED,
            app.create_tariff(caller, spec, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    tag = "billing", path = "/v1/tariffs",
    responses(
        (status = 200, description = "Tariffs the caller may see", body = [Tariff]),
    ),
    security(("bearer" = []))
)]
pub async fn list_tariffs(
    State(app): AppState,
    caller: Caller,
) -> Result<Json<Vec<Tariff>>, ApiError> {
    app.list_tariffs(&caller).map(Json)
}

#[utoipa::path(
    get,
    tag = "billing", path = "/v1/tariffs/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The tariff", body = Tariff),
        (status = 404, description = "No such tariff (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_tariff(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<TariffId>,
) -> Result<Json<Tariff>, ApiError> {
    app.get_tariff(&caller, id).map(Json)
}

/// Enable a tariff (it takes orders again).
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/tariffs/{id}/enable",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The tariff", body = Tariff),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem),
        (status = 413, description = "Request body too large", body = Problem),
        (status = 404, description = "No such tariff (or not visible to the caller)", body = Problem),
        (status = 422, description = "The Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn enable_tariff(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<TariffId>,
    m: Mutation,
) -> Response {
    match m.idempotency(&caller) {
        Ok(idem) => reply(
            StatusCode::OK,
            app.set_tariff_enabled(caller, id, true, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Disable a tariff: no new orders; existing services keep renewing.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/tariffs/{id}/disable",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The tariff", body = Tariff),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem),
        (status = 413, description = "Request body too large", body = Problem),
        (status = 404, description = "No such tariff (or not visible to the caller)", body = Problem),
        (status = 422, description = "The Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn disable_tariff(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<TariffId>,
    m: Mutation,
) -> Response {
    match m.idempotency(&caller) {
        Ok(idem) => reply(
            StatusCode::OK,
            app.set_tariff_enabled(caller, id, false, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Order services: every tariff policy is checked (422 names the one broken),
/// the pricing rule prices the order, and the lines are recorded.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/services",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = OrderRequest,
    responses(
        (status = 201, description = "The services and the lines recorded", body = Ordered),
        (status = 404, description = "The client, tariff or reseller does not exist (or is not visible to the caller)", body = Problem),
        (status = 409, description = "The service kept changing while the request was decided; retry", body = Problem),
        (status = 422, description = "Invalid request, a tariff policy forbids it, the rule refused it, or the Idempotency-Key was used with another request", body = Problem),
        (status = 502, description = "The rule module failed: trapped, ran out of fuel, time or memory, or answered nonsense", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; nothing changed, retry", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn order(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<OrderRequest>(&caller) {
        Ok((req, idem)) => reply(StatusCode::CREATED, app.order(caller, req, idem).await),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServiceQuery {
    /// Only this client's services.
    pub client_id: Option<u64>,
}

#[utoipa::path(
    get,
    tag = "billing", path = "/v1/services",
    params(ServiceQuery),
    responses(
        (status = 200, description = "Services the caller may see", body = [Service]),
        (status = 404, description = "The client does not exist (or is not visible to the caller)", body = Problem),
        (status = 422, description = "Invalid query string", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_services(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<ServiceQuery>,
) -> Result<Json<Vec<Service>>, ApiError> {
    app.list_services(&caller, q.client_id.map(AccountId))
        .map(Json)
}

#[utoipa::path(
    get,
    tag = "billing", path = "/v1/services/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The service", body = Service),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_service(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
) -> Result<Json<Service>, ApiError> {
    app.get_service(&caller, id).map(Json)
}

/// Renew for another period (body optional: `{"months": 12}`).
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/services/{id}/renew",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Option<RenewRequest>, description = "Optional: an empty body means the defaults"),
    responses(
        (status = 200, description = "The service and the lines recorded", body = Changed),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service kept changing while the request was decided; retry", body = Problem),
        (status = 422, description = "Invalid request, a policy forbids it, the rule refused it, or the Idempotency-Key was used with another request", body = Problem),
        (status = 502, description = "The rule module failed: trapped, ran out of fuel, time or memory, or answered nonsense", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; nothing changed, retry", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn renew(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse_or_default::<RenewRequest>(&caller) {
        Ok((req, idem)) => reply(StatusCode::OK, app.renew(caller, id, req, idem).await),
        Err(e) => e.into_response(),
    }
}

/// Change the service's tariff. What it costs is the tariff-change rule's
/// decision under the change policy of the tariff being left
/// (docs/tariff-changes.md).
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/services/{id}/change-tariff",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ChangeTariffRequest,
    responses(
        (status = 200, description = "The service on its new tariff and the lines recorded", body = Changed),
        (status = 402, description = "The client's balance and credit limit do not cover the charge; nothing changed", body = Problem),
        (status = 404, description = "No such service or tariff (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service changed while the change was decided; quote and ask again", body = Problem),
        (status = 422, description = "Invalid request, or a policy forbids the change (the tariff cannot be changed, the target is not on sale to this client, an addon is out of the target's limits)", body = Problem),
        (status = 502, description = "The rule module failed", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; nothing changed, retry", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn change_tariff(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse::<ChangeTariffRequest>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::OK,
            app.change_tariff(caller, id, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Set the quantity of one addon mid-period: added units are charged as the
/// tariff's addon order policy says, removed ones refunded as its
/// cancellation policy says; renewals price the new quantity.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/services/{id}/addons",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = AddonRequest,
    responses(
        (status = 200, description = "The service with its new quantity and the lines recorded", body = Changed),
        (status = 402, description = "The client's balance and credit limit do not cover the charge; nothing changed", body = Problem),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service changed while the request was decided; ask again", body = Problem),
        (status = 422, description = "Invalid request, no such addon, or a quantity outside its minimum and maximum", body = Problem),
        (status = 502, description = "The rule module failed", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; nothing changed, retry", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn set_addon(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse::<AddonRequest>(&caller) {
        Ok((req, idem)) => reply(StatusCode::OK, app.set_addon(caller, id, req, idem).await),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PendingQuery {
    /// Only this client's.
    pub client_id: Option<u64>,
}

/// Orders and renewals waiting for funds, oldest first (they start in this
/// order once the balance covers them).
#[utoipa::path(
    get,
    tag = "billing", path = "/v1/pending",
    params(PendingQuery),
    responses(
        (status = 200, description = "What waits for funds", body = [Pending]),
        (status = 404, description = "No such client (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_pending(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<PendingQuery>,
) -> Result<Json<Vec<Pending>>, ApiError> {
    app.list_pending(&caller, q.client_id.map(AccountId))
        .map(Json)
}

/// Suspend (body optional: `{"by": "client"}` applies the client's permissions).
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/services/{id}/suspend",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Option<ActRequest>, description = "Optional: an empty body means the defaults"),
    responses(
        (status = 200, description = "The service", body = Changed),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service kept changing while the request was decided; retry", body = Problem),
        (status = 422, description = "Invalid request, the service is not active, a policy forbids it, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn suspend(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse_or_default::<ActRequest>(&caller) {
        Ok((req, idem)) => reply(StatusCode::OK, app.suspend(caller, id, req, idem).await),
        Err(e) => e.into_response(),
    }
}

/// Resume a suspended service.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/services/{id}/resume",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Option<ActRequest>, description = "Optional: an empty body means the defaults"),
    responses(
        (status = 200, description = "The service and any downtime lines", body = Changed),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service kept changing while the request was decided; retry", body = Problem),
        (status = 422, description = "Invalid request, the service is not suspended, a policy or the rule forbids it, or the Idempotency-Key was used with another request", body = Problem),
        (status = 502, description = "The rule module failed: trapped, ran out of fuel, time or memory, or answered nonsense", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; nothing changed, retry", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn resume(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse_or_default::<ActRequest>(&caller) {
        Ok((req, idem)) => reply(StatusCode::OK, app.resume(caller, id, req, idem).await),
        Err(e) => e.into_response(),
    }
}

/// Delete a service (final).
#[utoipa::path(
    delete,
    tag = "billing", path = "/v1/services/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Option<ActRequest>, description = "Optional: an empty body means the defaults"),
    responses(
        (status = 200, description = "The deleted service", body = Changed),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service kept changing while the request was decided; retry", body = Problem),
        (status = 422, description = "Invalid request, already deleted, a policy forbids it, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn delete_service(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse_or_default::<ActRequest>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::OK,
            app.delete_service(caller, id, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Price an order, renewal or day through the pricing rule. Changes nothing.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/quotes",
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
pub async fn create_quote(
    State(app): AppState,
    caller: Caller,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<Quote>, ApiError> {
    app.quote(&caller, req).await.map(Json)
}

/// Edit a server: its control panel (priced as an addon change) and its
/// primary IP (an address allocated to it). What it means for the server's
/// license (ordered, reordered, released, activated) happens in the same
/// transaction.
#[utoipa::path(
    patch,
    tag = "billing", path = "/v1/services/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ServiceEdit,
    responses(
        (status = 200, description = "The service and the lines of a panel change", body = Changed),
        (status = 402, description = "The balance and credit limit do not cover the change", body = Problem),
        (status = 404, description = "No such service (or not visible to the caller)", body = Problem),
        (status = 409, description = "The service changed while the request was decided; retry", body = Problem),
        (status = 422, description = "Nothing to change, a panel the tariff does not sell, an IP not allocated to the service, the service is not active, or the Idempotency-Key was used with another request", body = Problem),
        (status = 502, description = "A rule module or the license vendor failed; nothing changed", body = Problem),
        (status = 503, description = "Too many rule calls in flight, or the store failed; nothing changed, retry", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn edit_service(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
    m: Mutation,
) -> Response {
    match m.parse::<ServiceEdit>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::OK,
            app.edit_service(caller, id, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Create an enumeration (provider only): the values a tariff's
/// control-panel add-on is chosen from, each mapped to a vendor's license
/// tariff or to none.
#[utoipa::path(
    post,
    tag = "billing", path = "/v1/enumerations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewEnumeration,
    responses(
        (status = 201, description = "The enumeration", body = Enumeration),
        (status = 403, description = "Provider only", body = Problem),
        (status = 422, description = "Invalid values, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_enumeration(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewEnumeration>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.create_enumeration(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    tag = "billing", path = "/v1/enumerations",
    responses((status = 200, description = "Every enumeration", body = [Enumeration])),
    security(("bearer" = []))
)]
pub async fn list_enumerations(
    State(app): AppState,
    _caller: Caller,
) -> Result<Json<Vec<Enumeration>>, ApiError> {
    app.list_enumerations().map(Json)
}

#[utoipa::path(
    get,
    tag = "billing", path = "/v1/enumerations/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The enumeration", body = Enumeration),
        (status = 404, description = "No such enumeration", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_enumeration(
    State(app): AppState,
    _caller: Caller,
    Id(id): Id<EnumerationId>,
) -> Result<Json<Enumeration>, ApiError> {
    app.get_enumeration(id).map(Json)
}
