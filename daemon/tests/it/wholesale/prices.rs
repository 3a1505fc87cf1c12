//! Wholesale price lists: the provider writes them, per reseller or as the
//! default; a reseller reads the ones that apply to it and no other's.

use crate::support::TestServer;
use serde_json::{Value, json};

async fn put(s: &TestServer, client: &reqwest::Client, body: Value) -> (u16, Value) {
    let r = client
        .put(s.url("/v1/wholesale-prices"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn disk(price: &str) -> Value {
    json!([{"resource": "disk-space", "unit": "GiB", "price": price}])
}

fn currencies(lists: &Value) -> Vec<(Value, String)> {
    lists
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["reseller_id"].clone(),
                l["currency"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn resellers_read_the_lists_that_apply_to_them_and_no_others() {
    let s = TestServer::start(None).await;
    let (a, a_key) = s.reseller("a").await;
    let (b, b_key) = s.reseller("b").await;
    let p = s.client.clone();
    for body in [
        json!({"currency": "EUR", "service_base": "1.00", "resources": disk("0.05")}),
        json!({"currency": "USD", "resources": disk("0.06")}),
        json!({"reseller_id": a, "currency": "EUR", "service_base": "0.50", "resources": disk("0.0125")}),
    ] {
        let (status, v) = put(&s, &p, body.clone()).await;
        assert_eq!(status, 200, "{body}: {v:#}");
    }
    let (_, all) = s.get("/v1/wholesale-prices").await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    // A: its own EUR list, the default USD one.
    let (status, mine) = s.get_as(&a_key, "/v1/wholesale-prices").await;
    assert_eq!(status, 200);
    assert_eq!(
        currencies(&mine),
        [(Value::Null, "USD".into()), (json!(a), "EUR".into())]
    );
    assert_eq!(mine[1]["resources"][0]["price"], "0.0125");
    // B has none of its own: the defaults.
    let (_, theirs) = s.get_as(&b_key, "/v1/wholesale-prices").await;
    assert_eq!(
        currencies(&theirs),
        [(Value::Null, "EUR".into()), (Value::Null, "USD".into())]
    );
    // The provider asks for what applies to A.
    let (_, for_a) = s
        .get(&format!("/v1/wholesale-prices?reseller_id={a}"))
        .await;
    assert_eq!(currencies(&for_a), currencies(&mine));
    // B may not read A's, nor write any.
    let (status, _) = s
        .get_as(&b_key, &format!("/v1/wholesale-prices?reseller_id={a}"))
        .await;
    assert_eq!(status, 404);
    let (status, p404) = put(
        &s,
        &b_key,
        json!({"reseller_id": b, "currency": "EUR", "resources": disk("0")}),
    )
    .await;
    assert_eq!(status, 403, "{p404:#}");
    // A list is replaced, not merged.
    let (_, v) = put(
        &s,
        &p,
        json!({"reseller_id": a, "currency": "EUR", "resources": []}),
    )
    .await;
    assert_eq!(v["resources"], json!([]));
    let (_, mine) = s.get_as(&a_key, "/v1/wholesale-prices").await;
    assert_eq!(mine[1]["resources"], json!([]));
}

#[tokio::test]
async fn a_bad_price_list_is_refused_naming_the_field_and_changes_nothing() {
    let s = TestServer::start(None).await;
    let p = s.client.clone();
    for (body, status, field) in [
        (
            json!({"currency": "EUR", "resources": [{"resource": "gold", "unit": "g", "price": "1"}]}),
            422,
            "resources[0].resource",
        ),
        (
            json!({"currency": "EUR", "resources": [{"resource": "ram", "unit": "GiB", "price": "-1"}]}),
            422,
            "resources[0].price",
        ),
        (
            json!({"currency": "EUR", "resources": [
            {"resource": "ram", "unit": "GiB", "price": "1"},
            {"resource": "ram", "unit": "MiB", "price": "1"}]}),
            422,
            "resources[1].resource",
        ),
        (
            json!({"currency": "euro", "resources": []}),
            422,
            "currency",
        ),
        (
            json!({"currency": "EUR", "service_base": "-0.01"}),
            422,
            "service_base",
        ),
        (
            json!({"currency": "EUR", "resources": [], "extra": 1}),
            422,
            "",
        ),
        (json!({"reseller_id": 999, "currency": "EUR"}), 404, ""),
    ] {
        let (got, v) = put(&s, &p, body.clone()).await;
        assert_eq!(got, status, "{body}: {v:#}");
        assert!(
            v["detail"].as_str().unwrap().contains(field),
            "{body}: {v:#}"
        );
    }
    let (_, all) = s.get("/v1/wholesale-prices").await;
    assert_eq!(all, json!([]));
}

#[tokio::test]
async fn a_resellers_plan_says_what_one_service_consumes() {
    let s = TestServer::start(None).await;
    let (_, a_key) = s.reseller("a").await;
    let plan = |consumes: Value| {
        json!({"name": "A Web", "currency": "EUR", "prices": [{"months": 1, "price": "5.00"}],
               "consumes": consumes})
    };
    let (status, t) = s
        .post_as(
            &a_key,
            "/v1/tariffs",
            &plan(json!([{"resource": "disk-space", "quantity": 10}, {"resource": "mailbox", "quantity": 5}])),
            None,
        )
        .await;
    assert_eq!(status, 201, "{t:#}");
    assert_eq!(
        t["consumes"][1],
        json!({"resource": "mailbox", "quantity": 5})
    );
    for (consumes, field) in [
        (
            json!([{"resource": "gold", "quantity": 1}]),
            "tariff.consumes[0].resource",
        ),
        (
            json!([{"resource": "ram", "quantity": 1}, {"resource": "ram", "quantity": 2}]),
            "tariff.consumes[1]",
        ),
    ] {
        let (status, p) = s
            .post_as(&a_key, "/v1/tariffs", &plan(consumes), None)
            .await;
        assert_eq!(status, 422, "{p:#}");
        assert!(p["detail"].as_str().unwrap().contains(field), "{p:#}");
    }
}
