//! The pool: what is free, a vendor failing mid-reuse, licenses put into
//! the pool, and 32 orders racing for 10 free licenses.

use super::Shop;
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn a_vendor_failing_on_the_second_of_three_free_licenses_leaves_it_in_the_pool() {
    let shop = Shop::open("2026-03-01T09:00:00Z").await;
    let pool = shop.pool(3, "ispmanager-lite").await;
    let second = shop.license(pool[1]).await;
    let r = shop
        .s
        .client
        .put(shop.s.url("/v1/license-vendor/faults"))
        .json(&json!({"faults": [{"operation": "reuse", "license_id": pool[1]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    let (_, first) = shop.licensed("lite").await;
    assert_eq!(first["id"].as_u64(), Some(pool[0]));
    let (s2, taken) = shop.licensed("lite").await;
    assert_eq!(
        taken["id"].as_u64(),
        Some(pool[2]),
        "the 2nd failed: the 3rd is used"
    );
    assert_eq!(
        taken["name"],
        format!("Item #{s2} addon user{s2}.example.com")
    );
    assert_eq!(
        shop.license(pool[1]).await,
        second,
        "back in the pool unchanged"
    );
    let events = shop.events().await;
    let failed: Vec<&Value> = events.iter().filter(|e| e["error"].is_string()).collect();
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert_eq!(failed[0]["license_id"].as_u64(), Some(pool[1]));
    assert_eq!(failed[0]["operation"], "reuse");

    // None left: a new license from the vendor.
    let (_, third) = shop.licensed("lite").await;
    assert!(third["id"].as_u64().unwrap() > pool[2]);
    assert_eq!(third["status"], "active");
}

#[tokio::test(flavor = "multi_thread")]
async fn free_means_every_condition_of_the_seed() {
    let shop = Shop::open("2026-03-10T09:00:00Z").await;
    let add = |body: Value| {
        let s = &shop.s;
        async move { s.post_as(&s.client, "/v1/licenses", &body, None).await }
    };
    let base = json!({"tariff": "ispmanager-lite", "key": "0123456789", "expires": "2030-01-01",
                      "ip_changed": "2026-01-01", "key_changed": "2026-01-01"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    // Refused: an expired license, days in the future, a short key, an
    // unknown field, a status a pooled license cannot have.
    for body in [
        with("expires", json!("2026-03-10")),
        with("ip_changed", json!("2026-03-11")),
        with("key", json!("short")),
        with("colour", json!("red")),
        with("status", json!("expired")),
        with("expires", json!("2026-02-30")),
    ] {
        let (status, v) = add(body.clone()).await;
        assert!(status == 422 || status == 400, "{body}: {status} {v:#}");
    }
    assert_eq!(
        shop.s.get("/v1/licenses").await.1,
        json!([]),
        "nothing was added"
    );

    let (_, long_free) = add(base.clone()).await;
    let (_, suspended) = add(with("status", json!("suspended"))).await;
    let (_, just_ip) = add(with("ip_changed", json!("2026-02-10"))).await;
    let (_, over_ip) = add(with("ip_changed", json!("2026-02-09"))).await;
    let (_, just_key) = add(with("key_changed", json!("2026-02-10"))).await;
    let (_, other) = add(with("tariff", json!("ispmanager-pro"))).await;
    let (_, listed) = shop
        .s
        .get("/v1/licenses?free=true&tariff=ispmanager-lite")
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 5);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["name"] == "free.lic" && l["ip"] == "0.0.0.0")
    );

    // Taken in the order the default rule gives: the longest free first;
    // "just" one month is not "more than" a month.
    let mut taken = Vec::new();
    for _ in 0..3 {
        taken.push(shop.licensed("lite").await.1["id"].as_u64().unwrap());
    }
    let id = |v: &Value| v["id"].as_u64().unwrap();
    assert_eq!(&taken[..2], [id(&long_free), id(&suspended)]);
    assert_eq!(taken[2], id(&over_ip));
    for not_yet in [&just_ip, &just_key] {
        assert_eq!(shop.license(id(not_yet)).await["name"], "free.lic");
    }
    assert_eq!(
        shop.license(id(&other)).await["name"],
        "free.lic",
        "another tariff"
    );
    // The next day both are free.
    shop.s.set_clock("2026-03-11T09:00:00Z").await;
    let next = shop.licensed("lite").await.1;
    assert_eq!(id(&next), id(&just_ip));
}

/// 32 servers ask for a license at once, with 10 free in the pool: exactly
/// 10 reused, 22 new, none given twice.
#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_simultaneous_orders_against_ten_free_licenses() {
    let shop = Arc::new(Shop::open("2026-03-01T09:00:00Z").await);
    let pool = shop.pool(10, "ispmanager-lite").await;
    let mut servers = Vec::new();
    for _ in 0..32 {
        servers.push(shop.server(shop.client, "lite").await);
    }
    let tasks: Vec<_> = servers
        .iter()
        .cloned()
        .map(|(id, ip)| {
            let shop = shop.clone();
            tokio::spawn(async move { shop.patch(id, json!({"primary_ip": ip})).await })
        })
        .collect();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, 200, "{v:#}");
    }
    super::crash::check_race(&shop.s.base, &shop.s.client, &servers, &pool).await;
}
