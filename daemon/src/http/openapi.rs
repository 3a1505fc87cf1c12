//! The OpenAPI 3.1 document, generated from the handlers and types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rulesd",
        description = "Hosting billing and allocation daemon whose policies are WebAssembly rule modules. \
            Authenticate with `Authorization: Bearer <API key>`. Every mutating request accepts an \
            `Idempotency-Key` header: the same key and request return the stored response \
            (marked `Idempotent-Replayed: true`) and change nothing; the same key with another \
            request is refused with 422."
    ),
    paths(
        super::healthz, super::list_rules, super::rules_diff, super::create_quote, super::openapi_json,
        super::accounts::create_reseller, super::accounts::list_resellers, super::accounts::get_reseller,
        super::accounts::create_client, super::accounts::list_clients, super::accounts::get_client,
        super::accounts::create_client_group, super::accounts::list_client_groups,
        super::accounts::get_client_group,
        super::accounts::create_api_key, super::accounts::list_api_keys, super::accounts::revoke_api_key,
        super::accounts::get_clock, super::accounts::set_clock,
        super::billing::create_tariff, super::billing::list_tariffs, super::billing::get_tariff,
        super::billing::enable_tariff, super::billing::disable_tariff,
        super::billing::order, super::billing::list_services, super::billing::get_service,
        super::billing::renew, super::billing::suspend, super::billing::resume,
        super::billing::delete_service,
        super::billing::list_ledger, super::billing::balances, super::billing::adjust,
    ),
    components(schemas(super::problem::Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as served at `/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
