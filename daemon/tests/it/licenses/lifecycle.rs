//! A server's license follows the server: renewals on the daily job,
//! suspension, edits that are refused and change nothing, a vendor that
//! refuses a new license.

use super::Shop;
use crate::support::{fixture, write_atomically};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_license_renews_monthly_while_its_server_is_active_and_expires_otherwise() {
    // The seed: a server paid a year from 2015-06-01 gets a one-month
    // license, renewed on 2015-06-30 while the server is active.
    let shop = Shop::open("2015-06-01T09:00:00Z").await;
    let o = shop
        .s
        .ok(
            "/v1/services",
            json!({"client_id": shop.client, "tariff_id": shop.tariff, "months": 12, "control_panel": "lite"}),
        )
        .await;
    let service = o["services"][0]["id"].as_u64().unwrap();
    assert_eq!(o["services"][0]["expires"], "2016-06-01");
    assert_eq!(o["total"], "160.00", "a year of server and of Lite: {o:#}");
    let ip = shop
        .s
        .ok("/v1/ip-allocations", json!({"service_id": service}))
        .await;
    let (status, _) = shop
        .patch(service, json!({"primary_ip": ip["address"]}))
        .await;
    assert_eq!(status, 200);
    let (_, license) = shop.s.get(&format!("/v1/services/{service}/license")).await;
    assert_eq!(license["expires"], "2015-07-01");
    let id = license["id"].as_u64().unwrap();

    shop.s.set_clock("2015-06-29T12:00:00Z").await;
    assert_eq!(
        shop.license(id).await["expires"],
        "2015-07-01",
        "not a day early"
    );
    shop.s.set_clock("2015-06-30T12:00:00Z").await;
    assert_eq!(shop.license(id).await["expires"], "2015-08-01");

    // Suspended when its renewal falls due: not renewed, and it expires.
    shop.s.set_clock("2015-07-20T12:00:00Z").await;
    shop.s
        .ok(&format!("/v1/services/{service}/suspend"), json!({}))
        .await;
    assert_eq!(shop.license(id).await["status"], "suspended");
    shop.s.set_clock("2015-08-01T12:00:00Z").await;
    let l = shop.license(id).await;
    assert_eq!(
        (l["status"].as_str(), l["expires"].as_str()),
        (Some("expired"), Some("2015-08-01"))
    );

    // Resumed: an expired license is replaced (the default rule reorders).
    shop.s
        .ok(&format!("/v1/services/{service}/resume"), json!({}))
        .await;
    let (_, now) = shop.s.get(&format!("/v1/services/{service}/license")).await;
    assert_ne!(now["id"].as_u64(), Some(id));
    assert_eq!(
        (now["status"].as_str(), now["expires"].as_str()),
        (Some("active"), Some("2015-09-01"))
    );

    let ops: Vec<String> = shop
        .events()
        .await
        .iter()
        .filter(|e| e["license_id"].as_u64() == Some(id))
        .map(|e| e["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ops, ["order", "renew", "suspend", "expire", "release"]);
    assert!(
        shop.s.metrics().await.contains("hook=\"license-pool\""),
        "license decisions are counted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_edits_change_nothing() {
    let shop = Shop::open("2026-03-01T09:00:00Z").await;
    let (service, ip) = shop.server(shop.client, "lite").await;
    let other = shop.server(shop.client, "none").await;
    let refused = [
        (json!({}), "nothing to change"),
        (
            json!({"primary_ip": "10.9.9.9"}),
            "not allocated to service",
        ),
        (json!({"primary_ip": other.1}), "not allocated to service"),
        (json!({"primary_ip": "0.0.0.0"}), "not an IP address"),
        (json!({"primary_ip": "server-1"}), "not an IP address"),
        (json!({"control_panel": "plesk"}), "sells no control panel"),
        (
            json!({"control_panel": "lite", "colour": "red"}),
            "unknown field",
        ),
    ];
    for (body, why) in refused {
        let (status, v) = shop.patch(service, body.clone()).await;
        assert!(status == 422 || status == 400, "{body}: {status} {v:#}");
        assert!(
            v["detail"].as_str().unwrap_or("").contains(why),
            "{body}: {v:#}"
        );
    }
    let (_, s) = shop.s.get(&format!("/v1/services/{service}")).await;
    assert!(s.get("primary_ip").is_none(), "{s:#}");
    assert_eq!(
        shop.s
            .get(&format!("/v1/services/{service}/license"))
            .await
            .0,
        404
    );

    // A server holding a license keeps an IP: it cannot be cleared.
    shop.patch(service, json!({"primary_ip": ip})).await;
    let (status, v) = shop.patch(service, json!({"primary_ip": null})).await;
    assert_eq!(status, 422, "{v:#}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("bound to its primary IP")
    );
    // Without a panel, it can.
    assert_eq!(
        shop.patch(service, json!({"control_panel": "none"}))
            .await
            .0,
        200
    );
    assert_eq!(
        shop.patch(service, json!({"primary_ip": null})).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vendor_refusing_a_new_license_fails_the_edit_and_changes_nothing() {
    let shop = Shop::open("2026-03-01T09:00:00Z").await;
    let r = shop
        .s
        .client
        .put(shop.s.url("/v1/license-vendor/faults"))
        .json(&json!({"faults": [{"operation": "order"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (service, ip) = shop.server(shop.client, "lite").await;
    let events = shop.events().await.len();
    let (status, v) = shop.patch(service, json!({"primary_ip": ip})).await;
    assert_eq!(status, 502, "{v:#}");
    assert_eq!(
        v["type"].as_str().map(|t| t.ends_with("vendor-failed")),
        Some(true),
        "{v:#}"
    );
    let (_, s) = shop.s.get(&format!("/v1/services/{service}")).await;
    assert!(
        s.get("primary_ip").is_none(),
        "the edit was not kept: {s:#}"
    );
    assert_eq!(
        shop.events().await.len(),
        events,
        "no event of an edit not made"
    );

    // With a free license in the pool, the same edit takes it.
    let pooled = shop.pool(1, "ispmanager-lite").await;
    let (status, _) = shop.patch(service, json!({"primary_ip": ip})).await;
    assert_eq!(status, 200);
    assert_eq!(
        shop.license(pooled[0]).await["service_id"].as_u64(),
        Some(service)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_answering_a_license_it_was_not_offered_is_refused_and_nothing_changes() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "hostile.wasm", &fixture("license-hostile"));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[hooks]\nlicense-pool = \"hostile.wasm\"\n",
    );
    let shop = Shop::open_with("2026-03-01T09:00:00Z", Some(rules.path())).await;
    let pool = shop.pool(2, "ispmanager-lite").await;
    // Services 1..=3: the fixture answers by service id mod 3.
    for _ in 0..3 {
        let (service, ip) = shop.server(shop.client, "lite").await;
        let says = ["not offered", "holds no license", "control characters"][service as usize % 3];
        let (status, v) = shop.patch(service, json!({"primary_ip": ip})).await;
        assert_eq!(status, 502, "{v:#}");
        assert_eq!(v["type"], "urn:rulesd:problem:rule-failed");
        assert!(v["detail"].as_str().unwrap().contains(says), "{v:#}");
        let (_, s) = shop.s.get(&format!("/v1/services/{service}")).await;
        assert!(s.get("primary_ip").is_none(), "nothing kept: {s:#}");
    }
    for id in pool {
        assert_eq!(shop.license(id).await["name"], "free.lic");
    }
    assert_eq!(
        shop.s.get("/v1/licenses").await.1.as_array().unwrap().len(),
        2
    );
    assert!(shop.events().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tariff_change_keeps_the_license_if_the_new_tariff_sells_the_panel() {
    let shop = Shop::open("2026-03-01T09:00:00Z").await;
    // Another VPS with the same panels, and a plan without any.
    let same = shop.s.ok("/v1/tariffs", super::vps(shop.enumeration)).await["id"].clone();
    let bare = shop
        .s
        .ok(
            "/v1/tariffs",
            json!({"name": "Bare", "currency": "EUR", "prices": [{"months": 1, "price": "7.00"}]}),
        )
        .await["id"]
        .clone();
    let (service, license) = shop.licensed("lite").await;
    let id = license["id"].as_u64().unwrap();
    let change = |tariff: serde_json::Value| {
        let s = &shop.s;
        async move {
            s.post_as(
                &s.client,
                &format!("/v1/services/{service}/change-tariff"),
                &json!({"tariff_id": tariff}),
                None,
            )
            .await
        }
    };
    let (status, v) = change(same).await;
    assert_eq!(status, 200, "{v:#}");
    let l = shop.license(id).await;
    assert_eq!(
        (l["service_id"].as_u64(), l["status"].as_str()),
        (Some(service), Some("active")),
        "kept: {l:#}"
    );
    let (status, v) = change(bare).await;
    assert_eq!(status, 200, "{v:#}");
    let l = shop.license(id).await;
    assert_eq!(
        (l["name"].as_str(), l["free"].as_bool()),
        (Some("free.lic"), Some(true)),
        "{l:#}"
    );
    assert_eq!(
        shop.s
            .get(&format!("/v1/services/{service}/license"))
            .await
            .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn period_matching_gives_a_yearly_server_a_yearly_license() {
    let shop = Shop::open("2026-03-01T09:00:00Z").await;
    let mut spec = super::vps(shop.enumeration);
    spec["control_panel"]["periods"] = json!([{"server_months": 12, "license_months": 12}]);
    let tariff = shop.s.ok("/v1/tariffs", spec).await["id"].as_u64().unwrap();
    let mut expiries = Vec::new();
    for months in [12, 1] {
        let o = shop
            .s
            .ok(
                "/v1/services",
                json!({"client_id": shop.client, "tariff_id": tariff, "months": months, "control_panel": "lite"}),
            )
            .await;
        let id = o["services"][0]["id"].as_u64().unwrap();
        let a = shop
            .s
            .ok("/v1/ip-allocations", json!({"service_id": id}))
            .await;
        assert_eq!(
            shop.patch(id, json!({"primary_ip": a["address"]})).await.0,
            200
        );
        let (_, l) = shop.s.get(&format!("/v1/services/{id}/license")).await;
        expiries.push(l["expires"].as_str().unwrap().to_string());
    }
    // 12 months matched to 12; a period not in the table gets one month.
    assert_eq!(expiries, ["2027-03-01", "2026-04-01"]);
}
