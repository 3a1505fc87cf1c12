//! Handlers for resellers, clients, client groups, API keys and the test clock.

use super::extract::{Id, Mutation};
use super::idempotency::reply;
use super::problem::Problem;
use crate::app::{ApiError, App, Caller};
use crate::domain::accounts::{Account, ApiKey, ClientGroup};
use crate::domain::ids::{AccountId, GroupId, KeyId};
use crate::tenancy::accounts::{
    ClientChange, CreatedApiKey, CreatedReseller, NewApiKey, NewClient, NewClientGroup,
    NewReseller, ResellerChange,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use std::sync::Arc;

type AppState = State<Arc<App>>;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/resellers", get(list_resellers).post(create_reseller))
        .route(
            "/v1/resellers/{id}",
            get(get_reseller).patch(change_reseller),
        )
        .route("/v1/clients", get(list_clients).post(create_client))
        .route("/v1/clients/{id}", get(get_client).patch(change_client))
        .route(
            "/v1/client-groups",
            get(list_client_groups).post(create_client_group),
        )
        .route("/v1/client-groups/{id}", get(get_client_group))
        .route("/v1/api-keys", get(list_api_keys).post(create_api_key))
        .route("/v1/api-keys/{id}", delete(revoke_api_key))
}

/// Create a reseller (provider only). The response carries its API key, shown only here.
#[utoipa::path(
    post,
    tag = "accounts", path = "/v1/resellers",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewReseller,
    responses(
        (status = 201, description = "The reseller and its API key", body = CreatedReseller),
        (status = 403, description = "Provider only", body = Problem),
        (status = 422, description = "Invalid request, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_reseller(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewReseller>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.create_reseller(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// Rename a reseller, or allow it common-pool IP addresses once its assigned
/// pools are exhausted (provider only).
#[utoipa::path(
    patch,
    tag = "accounts", path = "/v1/resellers/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ResellerChange,
    responses(
        (status = 200, description = "The reseller", body = Account),
        (status = 403, description = "Provider only", body = Problem),
        (status = 404, description = "No such reseller", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn change_reseller(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AccountId>,
    m: Mutation,
) -> Response {
    match m.parse::<ResellerChange>(&caller) {
        Ok((req, idem)) => {
            let limit_changed = req.credit_limit.is_some();
            let written = app.change_reseller(caller, id, req, idem).await;
            if limit_changed && written.is_ok() {
                app.settle_after_credit(id).await;
            }
            reply(StatusCode::OK, written)
        }
        Err(e) => e.into_response(),
    }
}

/// Resellers the caller may see (a reseller sees itself).
#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/resellers",
    responses(
        (status = 200, description = "Resellers the caller may see", body = [Account]),
    ),
    security(("bearer" = []))
)]
pub async fn list_resellers(
    State(app): AppState,
    caller: Caller,
) -> Result<Json<Vec<Account>>, ApiError> {
    app.list_resellers(&caller).map(Json)
}

#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/resellers/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The reseller", body = Account),
        (status = 404, description = "No such reseller (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_reseller(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AccountId>,
) -> Result<Json<Account>, ApiError> {
    app.get_reseller(&caller, id).map(Json)
}

/// Create a client of the provider or of a reseller (a reseller's key creates its own).
#[utoipa::path(
    post,
    tag = "accounts", path = "/v1/clients",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewClient,
    responses(
        (status = 201, description = "The client", body = Account),
        (status = 404, description = "The reseller or client group does not exist", body = Problem),
        (status = 422, description = "Invalid request, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_client(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewClient>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.create_client(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/clients",
    responses(
        (status = 200, description = "Clients the caller may see", body = [Account]),
    ),
    security(("bearer" = []))
)]
pub async fn list_clients(
    State(app): AppState,
    caller: Caller,
) -> Result<Json<Vec<Account>>, ApiError> {
    app.list_clients(&caller).map(Json)
}

#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/clients/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The client", body = Account),
        (status = 404, description = "No such client (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_client(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AccountId>,
) -> Result<Json<Account>, ApiError> {
    app.get_client(&caller, id).map(Json)
}

/// Rename a client or change its credit limit. A higher limit starts what
/// waits for funds, as far as it now covers.
#[utoipa::path(
    patch,
    tag = "accounts", path = "/v1/clients/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ClientChange,
    responses(
        (status = 200, description = "The client", body = Account),
        (status = 404, description = "No such client (or not visible to the caller)", body = Problem),
        (status = 422, description = "Invalid change", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn change_client(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<AccountId>,
    m: Mutation,
) -> Response {
    match m.parse::<ClientChange>(&caller) {
        Ok((req, idem)) => {
            let limit_changed = req.credit_limit.is_some();
            let written = app.change_client(caller, id, req, idem).await;
            if limit_changed && written.is_ok() {
                app.settle_after_credit(id).await;
            }
            reply(StatusCode::OK, written)
        }
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    post,
    tag = "accounts", path = "/v1/client-groups",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewClientGroup,
    responses(
        (status = 201, description = "The client group", body = ClientGroup),
        (status = 404, description = "The reseller does not exist", body = Problem),
        (status = 422, description = "Invalid request, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_client_group(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse::<NewClientGroup>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.create_client_group(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/client-groups",
    responses(
        (status = 200, description = "Client groups the caller may see", body = [ClientGroup]),
    ),
    security(("bearer" = []))
)]
pub async fn list_client_groups(
    State(app): AppState,
    caller: Caller,
) -> Result<Json<Vec<ClientGroup>>, ApiError> {
    app.list_client_groups(&caller).map(Json)
}

#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/client-groups/{id}",
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The client group", body = ClientGroup),
        (status = 404, description = "No such client group (or not visible to the caller)", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_client_group(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<GroupId>,
) -> Result<Json<ClientGroup>, ApiError> {
    app.get_client_group(&caller, id).map(Json)
}

/// Create an API key for the caller's account (or, as the provider, for a
/// reseller). The body is optional: none is a key for the caller's account.
#[utoipa::path(
    post,
    tag = "accounts", path = "/v1/api-keys",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Option<NewApiKey>, description = "Optional: an empty body means the defaults"),
    responses(
        (status = 201, description = "The key, with its secret shown only here", body = CreatedApiKey),
        (status = 404, description = "The account does not exist (or is not visible to the caller)", body = Problem),
        (status = 422, description = "Invalid request, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_api_key(State(app): AppState, caller: Caller, m: Mutation) -> Response {
    match m.parse_or_default::<NewApiKey>(&caller) {
        Ok((req, idem)) => reply(
            StatusCode::CREATED,
            app.create_api_key(caller, req, idem).await,
        ),
        Err(e) => e.into_response(),
    }
}

/// API keys the caller may see (never their secrets).
#[utoipa::path(
    get,
    tag = "accounts", path = "/v1/api-keys",
    responses(
        (status = 200, description = "Keys the caller may see, without secrets", body = [ApiKey]),
    ),
    security(("bearer" = []))
)]
pub async fn list_api_keys(
    State(app): AppState,
    caller: Caller,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    app.list_api_keys(&caller).map(Json)
}

/// Revoke an API key; it stops working for the next request.
#[utoipa::path(
    delete,
    tag = "accounts", path = "/v1/api-keys/{id}",
    params(("id" = u64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKey),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem),
        (status = 413, description = "Request body too large", body = Problem),
        (status = 404, description = "No such API key (or not visible to the caller)", body = Problem),
        (status = 422, description = "The key cannot be revoked, or the Idempotency-Key was used with another request", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_api_key(
    State(app): AppState,
    caller: Caller,
    Id(id): Id<KeyId>,
    m: Mutation,
) -> Response {
    match m.idempotency(&caller) {
        Ok(idem) => reply(StatusCode::OK, app.revoke_api_key(caller, id, idem).await),
        Err(e) => e.into_response(),
    }
}
