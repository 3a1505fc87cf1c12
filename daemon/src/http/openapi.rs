//! The OpenAPI 3.1 document, generated from the handlers and types.

use super::links::Links;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder, Schema};
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
        super::ops::healthz, super::metrics::metrics, super::rules::list_rules, super::rules::rules_diff,
        super::billing::create_quote, super::ops::openapi_json,
        super::accounts::create_reseller, super::accounts::list_resellers, super::accounts::get_reseller,
        super::accounts::create_client, super::accounts::list_clients, super::accounts::get_client,
        super::accounts::create_client_group, super::accounts::list_client_groups,
        super::accounts::get_client_group,
        super::accounts::create_api_key, super::accounts::list_api_keys, super::accounts::revoke_api_key,
        super::ops::get_clock, super::ops::set_clock,
        super::billing::create_tariff, super::billing::list_tariffs, super::billing::get_tariff,
        super::billing::enable_tariff, super::billing::disable_tariff,
        super::billing::order, super::billing::list_services, super::billing::get_service,
        super::billing::renew, super::billing::suspend, super::billing::resume,
        super::billing::delete_service, super::billing::change_tariff, super::billing::set_addon,
        super::billing::list_pending, super::accounts::change_client,
        super::wholesale::set_wholesale_prices, super::wholesale::list_wholesale_prices,
        super::wholesale::list_bills, super::wholesale::get_margins,
        super::ledger::list_ledger, super::ledger::balances, super::ledger::adjust,
        super::accounts::change_reseller,
        super::ipam::create_pool, super::ipam::list_pools, super::ipam::get_pool,
        super::ipam::change_pool, super::ipam::delete_pool, super::ipam::pool_allocations,
        super::ipam::allocate, super::ipam::list_allocations, super::ipam::get_allocation,
        super::ipam::release_allocation, super::ipam::service_addresses, super::ipam::ip_usage,
        super::billing::edit_service, super::billing::create_enumeration,
        super::billing::list_enumerations, super::billing::get_enumeration,
        super::licenses::list_licenses, super::licenses::add_license, super::licenses::get_license,
        super::licenses::service_license, super::licenses::license_events,
        super::licenses::report_license_event, super::licenses::set_vendor_faults,
    ),
    components(schemas(super::problem::Problem)),
    modifiers(&BearerAuth, &Problems, &Flattened, &Links)
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

/// What every operation shares, added here rather than repeated on each
/// handler (where one would be forgotten): errors are
/// `application/problem+json` documents; a secured operation answers 401
/// without a valid key (the `Caller` extractor), 429 when the key's rate
/// limit is used up, and 503 when the store
/// fails (every one reads it, if only to check the key); one that takes an
/// `Idempotency-Key` answers 400 when the key is malformed and 422 when it
/// was used with another request,
/// and one with query parameters 422 when they do not parse. Also: an optional
/// request body is written `request_body(content = Option<T>)` on the handler
/// (utoipa then leaves `required` out), but utoipa also lets it be JSON
/// `null`, which `Mutation::parse_or_default` refuses: the body, when there
/// is one, is a `T`.
struct Problems;

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                problems(op);
            }
        }
    }
}

fn problems(op: &mut Operation) {
    if let Some(body) = &mut op.request_body {
        for content in body.content.values_mut() {
            if let Some(RefOr::T(Schema::OneOf(one))) = &content.schema
                && let [a, b] = one.items.as_slice()
            {
                match (is_null(a), is_null(b)) {
                    (true, false) => content.schema = Some(b.clone()),
                    (false, true) => content.schema = Some(a.clone()),
                    _ => {}
                }
            }
        }
    }
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut idempotent = false;
    for p in op.parameters.iter_mut().flatten() {
        // Every path parameter is an id: bounded as `extract::Id` bounds it.
        if p.parameter_in == ParameterIn::Path {
            p.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(0))
                    .maximum(Some(super::extract::MAX_ID))
                    .into(),
            );
        }
        if p.parameter_in == ParameterIn::Header && p.name == "Idempotency-Key" {
            idempotent = true;
            // What `http::idempotency` accepts, given once here. No
            // example: a key is new for each request, and one value shown
            // for every operation is what generated clients and fuzzers
            // send with every request (each after the first answered 422).
            p.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(super::idempotency::MAX_KEY_LEN))
                    .pattern(Some("^[!-~]+$"))
                    .into(),
            );
        }
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let responses = &mut op.responses.responses;
    // What every secured operation, and every one with a JSON body, can
    // answer: listed here once instead of on each handler. A handler that
    // says more about one of them keeps its own words.
    let secured_answers = [
        ("401", "No valid API key in `Authorization: Bearer <key>`"),
        (
            "429",
            "The API key's rate limit is used up; retry after the `Retry-After` seconds",
        ),
        ("503", "The store failed; nothing changed, retry"),
    ];
    let json_answers = [
        ("400", "Malformed JSON body or Idempotency-Key"),
        ("413", "Request body too large"),
        ("415", "The body is not `application/json`"),
    ];
    let idempotency_answers = [
        ("400", "Malformed Idempotency-Key"),
        ("422", "The Idempotency-Key was used with another request"),
    ];
    let query_answer = ("422", "Invalid query string");
    let defaults = secured_answers
        .iter()
        .filter(|_| secured)
        .chain(json_answers.iter().filter(|_| json_body))
        .chain(idempotency_answers.iter().filter(|_| idempotent))
        .chain(std::iter::once(&query_answer).filter(|_| query));
    for &(status, description) in defaults {
        responses.entry(status.into()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
        });
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if status.parse::<u16>().is_ok_and(|s| s >= 400)
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response
                .content
                .insert("application/problem+json".into(), content);
        }
    }
}

/// A request type flattened into a stored one (`Tariff` holds a
/// `TariffSpec`, `PriceList` a `PriceListSpec`): utoipa derives `allOf:
/// [spec, {the stored fields}]`, which no stored value matches, since the
/// spec (a request that denies unknown fields) has `additionalProperties:
/// false`. Merged here into one object with every property.
struct Flattened;

impl Modify for Flattened {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let schemas = &mut components.schemas;
        let merged: Vec<_> = schemas
            .iter()
            .filter_map(|(name, schema)| {
                let RefOr::T(Schema::AllOf(all)) = schema else {
                    return None;
                };
                let [RefOr::Ref(spec), RefOr::T(Schema::Object(own))] = all.items.as_slice() else {
                    return None;
                };
                let spec_name = spec.ref_location.strip_prefix("#/components/schemas/")?;
                let Some(RefOr::T(Schema::Object(spec))) = schemas.get(spec_name) else {
                    return None;
                };
                let mut object = spec.clone();
                object.description = all.description.clone();
                object.properties.extend(own.properties.clone());
                object.required.extend(own.required.iter().cloned());
                Some((name.clone(), object))
            })
            .collect();
        for (name, object) in merged {
            schemas.insert(name, RefOr::T(Schema::Object(object)));
        }
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

/// The document as served at `/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
