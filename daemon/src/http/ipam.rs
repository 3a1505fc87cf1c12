//! `/v1/ip-pools`, `/v1/ip-allocations`, `/v1/ip-usage`.

use super::extract::{Id, Mutation, Params};
use super::idempotency::reply;
use super::problem::Problem;
use crate::app::{ApiError, App, Caller};
use crate::domain::ids::{AllocationId, PoolId, ServiceId};
use crate::ipam::model::{
    Allocation, IpUsage, NewAllocation, NewPool, PoolChange, PoolView, Released,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

type AppState = State<Arc<App>>;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/ip-pools", get(list_pools).post(create_pool))
        .route(
            "/v1/ip-pools/{id}",
            get(get_pool).patch(change_pool).delete(delete_pool),
        )
        .route("/v1/ip-pools/{id}/allocations", get(pool_allocations))
        .route("/v1/ip-allocations", get(list_allocations).post(allocate))
        .route(
            "/v1/ip-allocations/{id}",
            get(get_allocation).delete(release_allocation),
        )
        .route("/v1/services/{id}/addresses", get(service_addresses))
        .route("/v1/ip-usage", get(ip_usage))
}

/// Create an IP pool (provider only): IPv4 or IPv6 ranges less exclusions,
/// common or assigned to a reseller.
#[utoipa::path(
    post,
    tag = "ip", path = "/v1/ip-pools",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewPool,
    responses(
        (status = 201, description = "The pool and its usage", body = PoolView),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "The reseller does not exist", body = Problem),
        (status = 409, description = "The ranges overlap another pool (named)", body = Problem),
        (status = 422, description = "Invalid ranges or exclusions", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_pool(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewPool>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.create_pool(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// The pools the caller may see: the provider all, a reseller its assigned ones.
#[utoipa::path(
    get,
    tag = "ip", path = "/v1/ip-pools",
    responses((status = 200, description = "Pools with their usage", body = [PoolView])),
    security(("bearer" = []))
)]
pub async fn list_pools(
    State(app): AppState,
    caller: Caller,
) -> Result<Json<Vec<PoolView>>, ApiError> {
    app.list_pools(&caller).map(Json)
}

#[utoipa::path(
    get,
    tag = "ip", path = "/v1/ip-pools/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The pool and its usage", body = PoolView),
        (status = 404, description = "No such pool (or not visible to the caller: a common pool to a reseller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_pool(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<PoolId>,
) -> Result<Json<PoolView>, ApiError> {
    app.get_pool(&caller, id).map(Json)
}

/// Rename, reassign (addresses given stay with their services) or change
/// the quarantine of a pool (provider only).
#[utoipa::path(
    patch,
    tag = "ip", path = "/v1/ip-pools/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = PoolChange,
    responses(
        (status = 200, description = "The pool", body = PoolView),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "No such pool or reseller", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn change_pool(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<PoolId>,
    m: Mutation,
) -> Response {
    match m.parse::<PoolChange>(&caller) {
        Ok((req, idem)) => reply(StatusCode::OK, app.change_pool(caller, id, req, idem).await),
        Err(e) => e.into_response(),
    }
}

/// Delete a pool none of whose addresses is in use (provider only).
#[utoipa::path(
    delete,
    tag = "ip", path = "/v1/ip-pools/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The deleted pool", body = PoolView),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "No such pool", body = Problem),
        (status = 409, description = "Addresses of the pool are in use", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn delete_pool(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<PoolId>,
    m: Mutation,
) -> Response {
    match m.idempotency(&caller) {
        Ok(idem) => reply(StatusCode::OK, app.delete_pool(caller, id, idem).await),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    tag = "ip", path = "/v1/ip-pools/{id}/allocations",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The pool's allocations", body = [Allocation]),
        (status = 404, description = "No such pool (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn pool_allocations(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<PoolId>,
) -> Result<Json<Vec<Allocation>>, ApiError> {
    app.pool_allocations(&caller, id).map(Json)
}

/// Give a service an address, chosen by the ip-allocation rule among the
/// pools it may draw from.
#[utoipa::path(
    post,
    tag = "ip", path = "/v1/ip-allocations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewAllocation,
    responses(
        (status = 201, description = "The allocation", body = Allocation),
        (status = 404, description = "The service, pool or address is not one the caller may use", body = Problem),
        (status = 409, description = "pool-exhausted: nothing free this service may have (the text says what to ask the provider for); conflict: the requested address is in use", body = Problem),
        (status = 422, description = "Invalid request, or the service is deleted", body = Problem),
        (status = 502, description = "The rule failed or answered an address it was not offered", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn allocate(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewAllocation>(&caller) {
        Ok((req, idem)) => reply(StatusCode::CREATED, app.allocate(caller, req, idem).await),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AllocationQuery {
    /// Only this service's addresses.
    pub service_id: Option<u64>,
}

/// Allocations the caller may see (a reseller: its services').
#[utoipa::path(
    get,
    tag = "ip", path = "/v1/ip-allocations",
    params(AllocationQuery),
    responses(
        (status = 200, description = "Allocations", body = [Allocation]),
        (status = 404, description = "The service does not exist (or is not visible)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list_allocations(
    State(app): AppState,
    caller: Caller,
    Params(q): Params<AllocationQuery>,
) -> Result<Json<Vec<Allocation>>, ApiError> {
    app.list_allocations(&caller, q.service_id.map(ServiceId))
        .map(Json)
}

/// A service's addresses.
#[utoipa::path(
    get,
    tag = "ip", path = "/v1/services/{id}/addresses",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The service's allocations", body = [Allocation]),
        (status = 404, description = "No such service (or not visible)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn service_addresses(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<ServiceId>,
) -> Result<Json<Vec<Allocation>>, ApiError> {
    app.list_allocations(&caller, Some(id)).map(Json)
}

#[utoipa::path(
    get,
    tag = "ip", path = "/v1/ip-allocations/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The allocation", body = Allocation),
        (status = 404, description = "No such allocation (or not visible)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_allocation(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AllocationId>,
) -> Result<Json<Allocation>, ApiError> {
    app.get_allocation(&caller, id).map(Json)
}

/// Release an address: free at once, or after the pool's quarantine.
#[utoipa::path(
    delete,
    tag = "ip", path = "/v1/ip-allocations/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The released allocation and when the address is free again", body = Released),
        (status = 403, description = "A reseller releasing a common-pool address", body = Problem),
        (status = 404, description = "No such allocation (or not visible)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn release_allocation(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AllocationId>,
    m: Mutation,
) -> Response {
    match m.idempotency(&caller) {
        Ok(idem) => reply(
            StatusCode::OK,
            app.release_allocation(caller, id, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Static and dynamic addresses held, by pool type, and the pools the caller
/// may see with their utilisation (a reseller sees only counts of the common
/// pools).
#[utoipa::path(
    get,
    tag = "ip", path = "/v1/ip-usage",
    responses((status = 200, description = "Usage", body = IpUsage)),
    security(("bearer" = []))
)]
pub async fn ip_usage(State(app): AppState, caller: Caller) -> Result<Json<IpUsage>, ApiError> {
    app.ip_usage(&caller).map(Json)
}
