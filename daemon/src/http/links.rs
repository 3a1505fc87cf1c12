//! What the OpenAPI document says about chaining calls: request examples that
//! the daemon accepts (a client, a tariff, an order and what follows it) and
//! links from each create response to the operations that take the created
//! id. Without them a generated client or a fuzzer has to guess ids, and a
//! guess is a 404: the money paths (orders, renewals, changes, addons,
//! adjustments, the ledger) are reached only through an id a create returned.

use serde_json::{Value, json};
use utoipa::Modify;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// A request body the daemon accepts, per operation. The ids are those a
/// fresh store gives (account 1 is the provider, 2 a reseller, 3 the first
/// client; tariffs 1 and 2 the first two, of one currency): what .ci/fuzz-api
/// creates before its run, so that these examples are orders, changes and
/// payments that succeed there. A client copying them uses its own ids.
fn examples() -> [(&'static str, Value); 9] {
    [
        (
            "create_client",
            json!({"name": "Jane Doe", "credit_limit": "unlimited"}),
        ),
        (
            "create_tariff",
            json!({
                "name": "Shared hosting S",
                "currency": "EUR",
                "product_type": "shared-hosting",
                "prices": [
                    {"months": 1, "price": "10.00"},
                    {"months": 12, "price": "100.00"}
                ],
                "setup_fee": "5.00",
                "addons": [{
                    "resource": "disk-space", "unit": "GB", "included": 10,
                    "minimum": 10, "maximum": 100, "price_per_unit": "0.50"
                }]
            }),
        ),
        (
            "order",
            json!({"client_id": 3, "tariff_id": 1, "months": 12}),
        ),
        ("renew", json!({"months": 12})),
        ("change_tariff", json!({"tariff_id": 2, "months": 12})),
        (
            "set_addon",
            json!({"resource": "disk-space", "quantity": 20}),
        ),
        ("suspend", json!({})),
        ("resume", json!({})),
        (
            "adjust",
            json!({
                "account_id": 3, "currency": "EUR", "amount": "-50.00",
                "description": "Bank transfer 2026-01-15"
            }),
        ),
    ]
}

/// Where a create (or change) response names an id, and what takes it:
/// (producer, its success status, the id's runtime expression, consumers).
/// A consumer is (operation, where the id goes: a parameter's name or
/// `body.<field>`).
type Producer = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// What a service's id opens: every operation on one service, and its lines.
const SERVICE_OPS: &[(&str, &str)] = &[
    ("get_service", "id"),
    ("renew", "id"),
    ("change_tariff", "id"),
    ("set_addon", "id"),
    ("suspend", "id"),
    ("resume", "id"),
    ("delete_service", "id"),
    ("service_addresses", "id"),
    ("list_ledger", "service_id"),
];

const PRODUCERS: &[Producer] = &[
    (
        "create_client",
        "201",
        "$response.body#/id",
        &[
            ("get_client", "id"),
            ("change_client", "id"),
            ("order", "body.client_id"),
            ("adjust", "body.account_id"),
            ("balances", "account_id"),
            ("list_ledger", "account_id"),
            ("list_services", "client_id"),
            ("list_pending", "client_id"),
        ],
    ),
    (
        "create_tariff",
        "201",
        "$response.body#/id",
        &[
            ("get_tariff", "id"),
            ("enable_tariff", "id"),
            ("disable_tariff", "id"),
            ("order", "body.tariff_id"),
        ],
    ),
    ("order", "201", "$response.body#/services/0/id", SERVICE_OPS),
    ("renew", "200", "$response.body#/service/id", SERVICE_OPS),
    (
        "change_tariff",
        "200",
        "$response.body#/service/id",
        SERVICE_OPS,
    ),
    (
        "set_addon",
        "200",
        "$response.body#/service/id",
        SERVICE_OPS,
    ),
    ("suspend", "200", "$response.body#/service/id", SERVICE_OPS),
    ("resume", "200", "$response.body#/service/id", SERVICE_OPS),
    (
        "adjust",
        "201",
        "$response.body#/account_id",
        &[("balances", "account_id"), ("list_ledger", "account_id")],
    ),
];

pub(super) struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut OpenApi) {
        for (id, example) in examples() {
            let op = operation(openapi, id);
            let body = op.request_body.as_mut().expect("an example for a body");
            let content = body
                .content
                .get_mut("application/json")
                .expect("a JSON body");
            content.example = Some(example);
        }
        for &(producer, status, expression, consumers) in PRODUCERS {
            let mut links = serde_json::Map::new();
            for &(consumer, target) in consumers {
                let to = match target.strip_prefix("body.") {
                    Some(field) => ("requestBody", json!({ field: expression })),
                    None => ("parameters", json!({ target: expression })),
                };
                links.insert(
                    format!("{consumer}.{target}"),
                    json!({"operationId": consumer, to.0: to.1}),
                );
            }
            let op = operation(openapi, producer);
            let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) else {
                panic!("{producer} has no {status} response");
            };
            // Written as the response's one extension, named "links": utoipa
            // 5.5 writes its `Link`'s fields in snake case (`operation_id`,
            // juhaku/utoipa#1326), which no reader of the document knows, and
            // an extension map with more than one key is written in a random
            // order (a `HashMap`), which would make the committed document
            // differ from run to run.
            response.extensions = Some(Extensions::from_iter([("links", Value::Object(links))]));
        }
    }
}

/// The operation with this `operationId` (the handler's name). A name that
/// is not there is a mistake in the tables above, caught by every test that
/// builds the document.
fn operation<'a>(openapi: &'a mut OpenApi, id: &str) -> &'a mut Operation {
    openapi
        .paths
        .paths
        .values_mut()
        .flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
        })
        .flatten()
        .find(|op| op.operation_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no operation {id}"))
}
