//! Who sees which license: the provider everything, a reseller the licenses
//! of its clients' servers and nothing else (not the pool, not another
//! reseller's, not the outbox, not the simulator's faults).

use super::{Shop, fund};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn every_license_endpoint_keeps_tenants_apart() {
    let shop = Shop::open("2026-03-01T09:00:00Z").await;
    let pooled = shop.pool(1, "ispmanager-pro").await[0];
    let mut resellers = Vec::new();
    for name in ["acme", "globex"] {
        let (id, key) = shop.s.reseller(name).await;
        // A reseller sells the provider's VPS to its own client.
        let (_, c) = shop
            .s
            .post_as(
                &key,
                "/v1/clients",
                &json!({"name": format!("{name} client")}),
                None,
            )
            .await;
        let client = c["id"].as_u64().unwrap();
        fund(&shop.s, client).await;
        let (_, t) = shop
            .s
            .post_as(&key, "/v1/tariffs", &super::vps(shop.enumeration), None)
            .await;
        let tariff = t["id"].as_u64().unwrap();
        let (service, ip) = shop.server_on(tariff, client, "lite").await;
        assert_eq!(shop.patch(service, json!({"primary_ip": ip})).await.0, 200);
        let (_, l) = shop.s.get(&format!("/v1/services/{service}/license")).await;
        assert_eq!(l["reseller_id"].as_u64(), Some(id));
        resellers.push((key, service, l["id"].as_u64().unwrap()));
    }
    let (acme, acme_service, acme_license) = &resellers[0];
    let (_, globex_service, globex_license) = &resellers[1];

    let (status, list) = shop.s.get_as(acme, "/v1/licenses").await;
    assert_eq!(status, 200);
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [*acme_license],
        "its clients' licenses only, not the pool"
    );
    assert_eq!(
        shop.s.get("/v1/licenses").await.1.as_array().unwrap().len(),
        3
    );
    // A client's own licenses, as a portal shows them.
    let (_, l) = shop.s.get(&format!("/v1/licenses/{acme_license}")).await;
    let client = l["client_id"].as_u64().unwrap();
    let (_, own) = shop
        .s
        .get_as(acme, &format!("/v1/licenses?client_id={client}"))
        .await;
    assert_eq!(own.as_array().unwrap().len(), 1, "{own:#}");
    let (_, none) = shop
        .s
        .get_as(acme, &format!("/v1/licenses?client_id={}", client + 1000))
        .await;
    assert_eq!(none, json!([]));

    for (path, status) in [
        (format!("/v1/licenses/{acme_license}"), 200),
        (format!("/v1/services/{acme_service}/license"), 200),
        (format!("/v1/licenses/{globex_license}"), 404),
        (format!("/v1/licenses/{pooled}"), 404),
        (format!("/v1/services/{globex_service}/license"), 404),
        ("/v1/license-events".into(), 403),
        ("/v1/enumerations".into(), 200),
    ] {
        let (got, v) = shop.s.get_as(acme, &path).await;
        assert_eq!(got, status, "{path}: {v:#}");
        assert!(!v.to_string().contains("pooled-key"), "no key leaks: {v}");
    }
    for (path, body) in [
        (
            "/v1/licenses",
            json!({"tariff": "x", "key": "0123456789", "expires": "2030-01-01"}),
        ),
        ("/v1/license-events/1/report", json!({"done": true})),
        ("/v1/enumerations", super::enumeration()),
    ] {
        let (got, v) = shop.s.post_as(acme, path, &body, None).await;
        assert_eq!(got, 403, "{path}: {v:#}");
    }
    let r = acme
        .put(shop.s.url("/v1/license-vendor/faults"))
        .json(&json!({"faults": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Another reseller's server cannot be edited either.
    let r = acme
        .patch(shop.s.url(&format!("/v1/services/{globex_service}")))
        .json(&json!({"control_panel": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        shop.s
            .get(&format!("/v1/licenses/{globex_license}"))
            .await
            .1["status"],
        "active"
    );
    // The whole key is never shown.
    let (_, l) = shop.s.get(&format!("/v1/licenses/{pooled}")).await;
    assert_eq!(l["key_prefix"], "pooled…");
    assert!(l.get("key").is_none());
}
