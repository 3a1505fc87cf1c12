//! Payment before service: credit limits, orders and renewals waiting for
//! funds and starting in order when funds arrive, changes and addons the
//! limit does not cover, and daily charging held to the same limit.

use crate::billing::server_at;
use crate::support::{PROVIDER_KEY, TestServer};
use rulesd::ledger::NewAdjustment;
use serde_json::{Value, json};

async fn monthly(s: &TestServer) -> u64 {
    s.tariff(json!({
        "name": "Basic", "currency": "EUR",
        "prices": [{"months": 1, "price": "10.00"}],
        "addons": [{"resource": "disk-space", "unit": "GiB", "maximum": 10, "price_per_unit": "3.00"}],
    }))
    .await
}

/// A one-month tariff at `price` without addons.
async fn plan(s: &TestServer, name: &str, price: &str) -> u64 {
    s.tariff(json!({"name": name, "currency": "EUR", "prices": [{"months": 1, "price": price}]}))
        .await
}

async fn prepaid_client(s: &TestServer, limit: &str) -> u64 {
    s.ok(
        "/v1/clients",
        json!({"name": "alice", "credit_limit": limit}),
    )
    .await["id"]
        .as_u64()
        .unwrap()
}

async fn order(s: &TestServer, client: u64, tariff: u64) -> Value {
    s.ok(
        "/v1/services",
        json!({"client_id": client, "tariff_id": tariff, "months": 1}),
    )
    .await
}

async fn service(s: &TestServer, id: u64) -> Value {
    s.get(&format!("/v1/services/{id}")).await.1
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_the_balance_does_not_cover_wait_and_start_in_order_when_paid() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let t = monthly(&s).await;
    let alice = prepaid_client(&s, "0").await;
    let first = order(&s, alice, t).await;
    assert_eq!(first["services"][0]["status"], "ordered", "{first:#}");
    // Nothing is paid: no paid time until it starts.
    assert_eq!(first["services"][0]["period_start"], "2026-11-01");
    assert_eq!(first["services"][0]["expires"], "2026-11-01");
    assert_eq!(first["lines"], json!([]));
    assert_eq!(first["total"], "0.00");
    assert_eq!(first["waiting"][0]["amount"], "10.00");
    let first = first["services"][0]["id"].as_u64().unwrap();
    let second = order(&s, alice, t).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    let (_, pending) = s.get(&format!("/v1/pending?client_id={alice}")).await;
    let waiting: Vec<&Value> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["service_id"])
        .collect();
    assert_eq!(waiting, [&json!(first), &json!(second)]);
    assert!(s.ledger(&format!("account_id={alice}")).await.is_empty());

    // 15.00 arrives on the 5th: the first order starts that day, the second
    // still waits (5.00 left does not cover it).
    s.set_clock("2026-11-05T12:00:00Z").await;
    s.fund(alice, "15.00").await;
    let started = service(&s, first).await;
    assert_eq!(started["status"], "active", "{started:#}");
    assert_eq!(started["period_start"], "2026-11-05");
    assert_eq!(started["expires"], "2026-12-05");
    assert_eq!(service(&s, second).await["status"], "ordered");
    s.fund(alice, "5.00").await;
    assert_eq!(service(&s, second).await["status"], "active");
    let (_, pending) = s.get("/v1/pending").await;
    assert_eq!(pending, json!([]));
    let charged: Vec<Value> = s
        .ledger(&format!("account_id={alice}"))
        .await
        .into_iter()
        .filter(|l| l["kind"] == "order")
        .map(|l| l["service_id"].clone())
        .collect();
    assert_eq!(charged, [json!(first), json!(second)], "each charged once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credit_limit_lets_the_balance_go_that_far_below_zero() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let t = monthly(&s).await;
    let alice = prepaid_client(&s, "20.00").await;
    for expected in ["active", "active", "ordered"] {
        let v = order(&s, alice, t).await;
        assert_eq!(v["services"][0]["status"], expected, "{v:#}");
    }
    // Raising the limit starts what waits.
    let v = s
        .post_as(&s.client, &format!("/v1/clients/{alice}"), &json!({}), None)
        .await;
    assert_eq!(v.0, 405, "the change is a PATCH");
    let r = s
        .client
        .patch(s.url(&format!("/v1/clients/{alice}")))
        .json(&json!({"credit_limit": "30"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, pending) = s.get("/v1/pending").await;
    assert_eq!(pending, json!([]));
    let (_, b) = s
        .get(&format!("/v1/ledger/balances?account_id={alice}"))
        .await;
    assert_eq!(b[0]["balance"], "-30.00");
    // A limit that is not an amount is refused.
    let r = s
        .client
        .patch(s.url(&format!("/v1/clients/{alice}")))
        .json(&json!({"credit_limit": "-5"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn renewals_wait_changes_and_addons_are_refused_with_the_shortfall() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let t = monthly(&s).await;
    let pro = plan(&s, "Pro", "20.00").await;
    let alice = prepaid_client(&s, "0").await;
    s.fund(alice, "10.00").await;
    let id = order(&s, alice, t).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    s.set_clock("2026-11-16T09:00:00Z").await;
    let before = s.ledger(&format!("account_id={alice}")).await;
    for (path, body) in [
        ("change-tariff", json!({"tariff_id": pro})),
        ("addons", json!({"resource": "disk-space", "quantity": 2})),
    ] {
        let (status, p) = s.refused(&format!("/v1/services/{id}/{path}"), body).await;
        assert_eq!(status, 402, "{p:#}");
        assert_eq!(p["type"], "urn:rulesd:problem:insufficient-funds");
        assert!(p["detail"].as_str().unwrap().contains("needs"), "{p:#}");
    }
    let (_, p) = s
        .refused(
            &format!("/v1/services/{id}/change-tariff"),
            json!({"tariff_id": pro}),
        )
        .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("needs 5.00 EUR more"),
        "{p:#}"
    );
    let renewal = s.ok(&format!("/v1/services/{id}/renew"), json!({})).await;
    assert_eq!(renewal["lines"], json!([]));
    assert_eq!(renewal["waiting"]["what"]["kind"], "renewal", "{renewal:#}");
    assert_eq!(renewal["service"]["expires"], "2026-12-01");
    let (status, _) = s
        .refused(&format!("/v1/services/{id}/renew"), json!({}))
        .await;
    assert_eq!(status, 422, "one renewal waits at a time");
    assert_eq!(s.ledger(&format!("account_id={alice}")).await, before);
    s.fund(alice, "10.00").await;
    let renewed = service(&s, id).await;
    assert_eq!(renewed["expires"], "2027-01-01", "{renewed:#}");
}

/// Funds go to what was ordered first: a change waits its turn behind
/// them, and a refund starts them at once.
#[tokio::test(flavor = "multi_thread")]
async fn waiting_orders_come_before_changes_and_a_refund_pays_them() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let t = monthly(&s).await;
    let cheap = plan(&s, "Cheap", "5.00").await;
    let pro = plan(&s, "Pro", "20.00").await;
    let alice = prepaid_client(&s, "0").await;
    s.fund(alice, "10.00").await;
    let id = order(&s, alice, t).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    let waiting = order(&s, alice, cheap).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    assert_eq!(service(&s, waiting).await["status"], "ordered");
    s.set_clock("2026-11-16T09:00:00Z").await;
    // Even with credit to spare, an upgrade waits behind the order.
    let r = s
        .client
        .patch(s.url(&format!("/v1/clients/{alice}")))
        .json(&json!({"credit_limit": "3.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(service(&s, waiting).await["status"], "ordered");
    let (status, p) = s
        .refused(
            &format!("/v1/services/{id}/change-tariff"),
            json!({"tariff_id": pro}),
        )
        .await;
    assert_eq!(status, 402, "{p:#}");
    assert!(
        p["detail"].as_str().unwrap().contains("paid first"),
        "{p:#}"
    );
    // A downgrade refunds 2.50 (half a month of 5.00 less): 2.50 and 3.00 of
    // credit cover the waiting 5.00 order, which starts at once.
    let down = s
        .ok(
            &format!("/v1/services/{id}/change-tariff"),
            json!({"tariff_id": cheap}),
        )
        .await;
    assert_eq!(down["lines"][0]["amount"], "-2.50", "{down:#}");
    assert_eq!(service(&s, waiting).await["status"], "active");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_job_settles_what_a_credit_left_waiting_and_drops_deleted_orders() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let t = monthly(&s).await;
    let alice = prepaid_client(&s, "0").await;
    let kept = order(&s, alice, t).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    let dropped = order(&s, alice, t).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    let (status, _) = s
        .client
        .delete(s.url(&format!("/v1/services/{dropped}")))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 200);
    // A credit written without settling, as a crash between the two leaves it.
    let app = s.app();
    let caller = app.authenticate(Some(PROVIDER_KEY)).unwrap();
    let credit = NewAdjustment {
        account_id: rulesd::domain::ids::AccountId(alice),
        currency: "EUR".into(),
        amount: "-50.00".parse().unwrap(),
        description: "payment".into(),
    };
    app.adjust(caller, credit, None).await.unwrap();
    assert_eq!(service(&s, kept).await["status"], "ordered");
    s.set_clock("2026-11-02T06:00:00Z").await;
    assert_eq!(service(&s, kept).await["status"], "active");
    let (_, pending) = s.get("/v1/pending").await;
    assert_eq!(pending, json!([]));
    let orders = s
        .ledger(&format!("account_id={alice}"))
        .await
        .into_iter()
        .filter(|l| l["kind"] == "order")
        .count();
    assert_eq!(orders, 1, "the deleted order was never charged");
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_charging_suspends_at_the_credit_limit() {
    let s = server_at("2026-03-02T06:00:00Z").await;
    let daily = s
        .tariff(json!({"name": "Daily", "currency": "EUR", "prices": [{"months": 1, "price": "3.00"}], "daily": {"price": "0.10"}}))
        .await;
    let alice = prepaid_client(&s, "0.25").await;
    let id = order(&s, alice, daily).await["services"][0]["id"]
        .as_u64()
        .unwrap();
    // -0.10 on the 2nd, -0.20 on the 3rd; the 4th would be -0.30.
    s.set_clock("2026-03-04T06:00:00Z").await;
    let v = service(&s, id).await;
    assert_eq!(v["status"], "suspended", "{v:#}");
    assert_eq!(v["suspended_at"], "2026-03-04");
    let (_, b) = s
        .get(&format!("/v1/ledger/balances?account_id={alice}"))
        .await;
    assert_eq!(b[0]["balance"], "-0.20");
}
