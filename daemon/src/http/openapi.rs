//! The OpenAPI 3.1 document, generated from the handlers and types.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rulesd",
        description = "Hosting billing and allocation daemon whose policies are WebAssembly rule modules."
    ),
    paths(
        super::healthz,
        super::list_rules,
        super::create_quote,
        super::openapi_json
    ),
    components(schemas(super::problem::Problem))
)]
pub struct ApiDoc;

/// The document as served at `/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
