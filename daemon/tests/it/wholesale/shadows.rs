//! Shadow lines: every line of a reseller's client has one on the
//! reseller's account, at the wholesale amount, linked both ways.

use super::{Shop, amount};
use crate::support::{TestServer, fixture};
use rulesd::server::Config;
use serde_json::{Value, json};

/// The shadow line of `line` among the reseller's lines, checking the
/// links both ways.
fn shadow_of<'a>(line: &Value, reseller_lines: &'a [Value]) -> &'a Value {
    let id = line["shadow_id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no shadow: {line:#}"));
    let shadow = reseller_lines
        .iter()
        .find(|l| l["id"] == id)
        .unwrap_or_else(|| panic!("shadow {id} is not on the reseller's account"));
    assert_eq!(shadow["shadow_of"], line["id"]);
    assert_eq!(shadow["kind"], line["kind"]);
    assert_eq!(shadow["service_id"], line["service_id"]);
    shadow
}

fn parts(shadow: &Value) -> Vec<(String, String)> {
    shadow["parts"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["resource"].as_str().unwrap().to_string(),
                        p["amount"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn p(r: &str, a: &str) -> (String, String) {
    (r.into(), a.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_is_shadowed_at_wholesale_prices_for_its_months() {
    let shop = Shop::open("2026-03-05T10:00:00Z").await;
    let monthly = shop.order(1).await;
    let yearly = shop.order(12).await;
    let retail = shop.lines_of(shop.client).await;
    let wholesale = shop.lines_of(shop.reseller).await;
    assert_eq!(retail.len(), 4, "{retail:#?}");
    assert_eq!(wholesale.len(), 4, "one shadow per line: {wholesale:#?}");
    // A month of 10 GiB and 5 mailboxes: 1.00 + 1.00 + 0.25.
    let order = &monthly["lines"][0];
    assert_eq!(
        (order["kind"].as_str(), order["amount"].as_str()),
        (Some("order"), Some("5.00"))
    );
    let shadow = shadow_of(&retail[0], &wholesale);
    assert_eq!(shadow["amount"], "2.25");
    assert_eq!(
        parts(shadow),
        [
            p("service", "1.00"),
            p("disk-space", "1.00"),
            p("mailbox", "0.25")
        ]
    );
    assert_eq!(shadow["account_id"], shop.reseller);
    assert_eq!(shadow["period_start"], "2026-03-05");
    assert_eq!(shadow["period_end"], "2026-04-05");
    assert!(
        shadow["description"]
            .as_str()
            .unwrap()
            .starts_with("wholesale: ")
    );
    // The setup fee pays for no resource: a shadow line of zero.
    let setup = shadow_of(&retail[1], &wholesale);
    assert_eq!(
        (setup["kind"].as_str(), setup["amount"].as_str()),
        (Some("setup"), Some("0.00"))
    );
    assert!(parts(setup).is_empty());
    // Twelve months of the same: 27.00.
    assert_eq!(yearly["lines"][0]["amount"], "50.00");
    assert_eq!(shadow_of(&retail[2], &wholesale)["amount"], "27.00");
    // The reseller's balance is derived from its lines like any account's.
    assert_eq!(shop.balance(shop.reseller).await, "-29.25");
    assert_eq!(shop.balance(shop.client).await, "-59.00");
    // The answer the client's order got shows the retail line and its link
    // only, never the wholesale amount.
    assert!(
        order["parts"].is_null() && order["shadow_id"].is_u64(),
        "{order:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn addon_units_are_shadowed_and_their_refund_credits_the_reseller() {
    let shop = Shop::open("2026-03-05T10:00:00Z").await;
    let service = shop.order(1).await["services"][0]["id"].as_u64().unwrap();
    shop.s.set_clock("2026-03-20T10:00:00Z").await;
    let path = format!("/v1/services/{service}/addons");
    let added = shop
        .ok(&path, json!({"resource": "disk-space", "quantity": 10}))
        .await;
    let removed = shop
        .ok(&path, json!({"resource": "disk-space", "quantity": 0}))
        .await;
    let wholesale = shop.lines_of(shop.reseller).await;
    // 10 GiB more at 0.10 for 16 of the 31 days from Mar 20 to Apr 20.
    let up = shadow_of(&added["lines"][0], &wholesale);
    assert_eq!(
        (up["kind"].as_str(), up["amount"].as_str()),
        (Some("addon"), Some("0.52"))
    );
    assert_eq!(parts(up), [p("disk-space", "0.52")]);
    let refund = &removed["lines"][0];
    assert_eq!(refund["kind"], "refund");
    assert!(amount(refund).is_sign_negative(), "{refund:#}");
    let down = shadow_of(refund, &wholesale);
    assert_eq!(
        down["amount"], "-0.52",
        "the seed: a refund credits the wholesale amount"
    );
    assert_eq!(shop.balance(shop.reseller).await, "-2.25");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tariff_change_is_shadowed_for_the_resources_it_adds() {
    let shop = Shop::open("2026-03-01T10:00:00Z").await;
    let mut bigger = super::plan();
    bigger["name"] = json!("A Web Plus");
    bigger["prices"] = json!([{"months": 1, "price": "9.00"}]);
    bigger["consumes"] =
        json!([{"resource": "disk-space", "quantity": 30}, {"resource": "mailbox", "quantity": 5}]);
    let plus = shop.ok("/v1/tariffs", bigger).await["id"].as_u64().unwrap();
    let service = shop.order(1).await["services"][0]["id"].as_u64().unwrap();
    shop.s.set_clock("2026-03-17T10:00:00Z").await;
    let changed = shop
        .ok(
            &format!("/v1/services/{service}/change-tariff"),
            json!({"tariff_id": plus}),
        )
        .await;
    let line = &changed["lines"][0];
    assert_eq!(line["kind"], "change");
    // 20 GiB more at 0.10 for the 15 of 31 days left of the paid month.
    let wholesale = shop.lines_of(shop.reseller).await;
    let shadow = shadow_of(line, &wholesale);
    assert_eq!(shadow["amount"], "0.97");
    assert_eq!(parts(shadow), [p("disk-space", "0.97")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_providers_own_clients_have_no_shadow_lines() {
    let shop = Shop::open("2026-03-05T10:00:00Z").await;
    let t = shop.s.tariff(super::plan()).await;
    let own = shop.s.client("bob", None).await;
    let v = shop
        .s
        .ok(
            "/v1/services",
            json!({"client_id": own, "tariff_id": t, "months": 1}),
        )
        .await;
    assert!(v["lines"][0]["shadow_id"].is_null(), "{v:#}");
    assert!(shop.lines_of(shop.reseller).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reseller_never_sees_another_resellers_wholesale_lines() {
    let shop = Shop::open("2026-03-05T10:00:00Z").await;
    shop.order(1).await;
    let (other, other_key) = shop.s.reseller("other").await;
    let (status, _) = shop
        .s
        .get_as(
            &other_key,
            &format!("/v1/ledger?account_id={}", shop.reseller),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = shop
        .s
        .get_as(
            &other_key,
            &format!("/v1/ledger/balances?account_id={}", shop.reseller),
        )
        .await;
    assert_eq!(status, 404);
    let (_, seen) = shop.s.get_as(&other_key, "/v1/ledger").await;
    assert_eq!(seen, json!([]), "other ({other}) sees no line of acme's");
    // Acme sees its own shadow lines and its client's lines.
    let (status, mine) = shop
        .s
        .get_as(
            &shop.key,
            &format!("/v1/ledger?account_id={}", shop.reseller),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine:#}");
    // The client's own lines carry no wholesale figure.
    for line in shop.lines_of(shop.client).await {
        assert!(
            line["parts"].is_null() && line["shadow_of"].is_null(),
            "{line:#}"
        );
    }
}

/// A wholesale rule's answer is checked like any rule's: the wrong number
/// of shadow lines, an amount finer than a cent, an unknown resource type
/// or a credit for a charge fails the client's order, and nothing of it is
/// recorded.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_wholesale_answer_fails_the_order_and_records_nothing() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("w.wasm"), fixture("wholesale-hostile")).unwrap();
    std::fs::write(
        rules.path().join("rules.toml"),
        "[hooks]\nwholesale = \"w.wasm\"\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.rules_dir = Some(rules.path().to_path_buf());
    let s = TestServer::start_config(config, data).await;
    let (reseller, key) = s.reseller("acme").await;
    let (_, c) = s
        .post_as(&key, "/v1/clients", &json!({"name": "c"}), None)
        .await;
    // The first line's whole units choose the fixture's fault: 4.00 one
    // line short, 5.00 a part of 0.001, 6.00 "gold", 7.00 a credit.
    for (price, fault) in [
        ("4.00", "shadow lines for"),
        ("5.00", "decimal places"),
        ("6.00", "not a resource type"),
        ("7.00", "is negative"),
    ] {
        let (status, t) = s
            .post_as(&key, "/v1/tariffs", &json!({"name": format!("P{price}"), "currency": "EUR", "prices": [{"months": 1, "price": price}]}), None)
            .await;
        assert_eq!(status, 201, "{t:#}");
        let (status, p) = s
            .post_as(
                &key,
                "/v1/services",
                &json!({"client_id": c["id"], "tariff_id": t["id"], "months": 1}),
                None,
            )
            .await;
        assert_eq!(status, 502, "{price}: {p:#}");
        assert!(
            p["detail"].as_str().unwrap().contains(fault),
            "{price}: {p:#}"
        );
    }
    for account in [reseller, c["id"].as_u64().unwrap()] {
        let (_, lines) = s.get(&format!("/v1/ledger?account_id={account}")).await;
        assert_eq!(lines, json!([]));
    }
    let (_, services) = s.get("/v1/services").await;
    assert_eq!(services, json!([]));
    // Each failed call is counted like any rule call.
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(
            "rulesd_rule_calls_total{hook=\"wholesale\",module=\"w.wasm\",outcome=\"failed\"} 4"
        ),
        "{metrics}"
    );
}

/// An order that waited for funds is shadowed when it is paid (by the
/// funds job, not the order request), as an order.
#[tokio::test(flavor = "multi_thread")]
async fn an_order_paid_later_is_shadowed_when_it_is_paid() {
    let shop = Shop::open("2026-03-05T10:00:00Z").await;
    let (status, c) = shop
        .s
        .post_as(
            &shop.key,
            "/v1/clients",
            &json!({"name": "prepaid", "credit_limit": "0"}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{c:#}");
    let client = c["id"].as_u64().unwrap();
    let ordered = shop
        .ok(
            "/v1/services",
            json!({"client_id": client, "tariff_id": shop.plan, "months": 1}),
        )
        .await;
    assert_eq!(ordered["services"][0]["status"], "ordered", "{ordered:#}");
    assert!(
        shop.lines_of(shop.reseller).await.is_empty(),
        "nothing paid, nothing owed"
    );
    shop.ok(
        "/v1/ledger/adjustments",
        json!({"account_id": client, "currency": "EUR", "amount": "-7.00", "description": "payment"}),
    )
    .await;
    let retail: Vec<Value> = shop
        .lines_of(client)
        .await
        .into_iter()
        .filter(|l| l["kind"] != "adjustment")
        .collect();
    assert_eq!(retail.len(), 2, "{retail:#?}");
    let wholesale = shop.lines_of(shop.reseller).await;
    assert_eq!(shadow_of(&retail[0], &wholesale)["amount"], "2.25");
    assert_eq!(shadow_of(&retail[1], &wholesale)["amount"], "0.00");
}
