//! IP pools and allocations (seed 000) over HTTP: the seed's rules, tenancy
//! on every endpoint, validation, release and quarantine, IPv6, hostile
//! rules, and no address given twice under 64 concurrent clients.

use crate::support::{TestServer, client_with_key, fixture, write_atomically};
use rulesd::server::Config;
use serde_json::{Value, json};

async fn server_at(start: &str, rules: Option<&std::path::Path>) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.test_clock = Some(start.parse().unwrap());
    config.rules_dir = rules.map(|p| p.to_path_buf());
    TestServer::start_config(config, data).await
}

async fn post(s: &TestServer, as_: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    s.post_as(as_, path, &body, None).await
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn created(s: &TestServer, as_: &reqwest::Client, path: &str, body: Value) -> Value {
    let (status, v) = post(s, as_, path, body.clone()).await;
    assert!(
        (200..300).contains(&status),
        "{path} {body}: {status} {v:#}"
    );
    v
}

/// A service of a new client of `as_` (the provider or a reseller).
async fn service(s: &TestServer, as_: &reqwest::Client, name: &str) -> u64 {
    let client = created(s, as_, "/v1/clients", json!({"name": name})).await["id"].clone();
    let tariff = created(
        s,
        as_,
        "/v1/tariffs",
        json!({"name": format!("VPS {name}"), "currency": "EUR", "prices": [{"months": 1, "price": "5.00"}]}),
    )
    .await["id"]
        .clone();
    created(
        s,
        as_,
        "/v1/services",
        json!({"client_id": client, "tariff_id": tariff, "months": 1}),
    )
    .await["services"][0]["id"]
        .as_u64()
        .unwrap()
}

async fn allocate(s: &TestServer, as_: &reqwest::Client, body: Value) -> (u16, Value) {
    post(s, as_, "/v1/ip-allocations", body).await
}

/// A server with resellers A and B, and the provider's client.
struct Two {
    s: TestServer,
    p: reqwest::Client,
    a: u64,
    a_key: reqwest::Client,
    b_key: reqwest::Client,
}

async fn two_resellers() -> Two {
    let s = server_at("2026-03-01T10:00:00Z", None).await;
    let p = s.client.clone();
    let (a, a_key) = s.reseller("A").await;
    let (_, b_key) = s.reseller("B").await;
    Two {
        s,
        p,
        a,
        a_key,
        b_key,
    }
}

#[tokio::test]
async fn the_seed_assigned_pool_first_common_otherwise_and_fallback_only_when_allowed() {
    let Two {
        s,
        p,
        a,
        a_key,
        b_key,
    } = two_resellers().await;
    let common = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "common", "ranges": ["10.0.0.0/29"], "excluded": ["10.0.0.0", "10.0.0.7"]}),
    )
    .await;
    assert_eq!(common["size"], "6");
    assert_eq!(common["free"], "6");
    created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "A's", "ranges": ["10.0.1.1-10.0.1.2"], "reseller_id": a}),
    )
    .await;

    // A draws from its own pool first.
    let svc_a = service(&s, &a_key, "alice").await;
    for expected in ["10.0.1.1", "10.0.1.2"] {
        let (status, got) = allocate(&s, &a_key, json!({"service_id": svc_a})).await;
        assert_eq!(status, 201, "{got:#}");
        assert_eq!(got["address"], expected);
        assert_eq!(got["common"], false);
    }
    // Exhausted, and not allowed the common pool: a clear 409.
    let (status, p409) = allocate(&s, &a_key, json!({"service_id": svc_a})).await;
    assert_eq!(status, 409, "{p409:#}");
    assert_eq!(p409["type"], "urn:rulesd:problem:pool-exhausted");
    assert!(
        p409["detail"]
            .as_str()
            .unwrap()
            .contains("ask the provider"),
        "{p409:#}"
    );
    // The provider allows it: the common pool serves, and A is not told which pool.
    let (status, r) = send(
        p.patch(s.url(&format!("/v1/resellers/{a}")))
            .json(&json!({"ip_common_fallback": true})),
    )
    .await;
    assert_eq!(
        (status, &r["ip_common_fallback"]),
        (200, &json!(true)),
        "{r:#}"
    );
    let body = json!({"service_id": svc_a, "kind": "dynamic"});
    let (status, got) = s
        .post_as(&a_key, "/v1/ip-allocations", &body, Some("fallback-1"))
        .await;
    assert_eq!(
        (status, got["address"].as_str()),
        (201, Some("10.0.0.1")),
        "{got:#}"
    );
    assert_eq!(got["common"], true);
    assert!(got.get("pool_id").is_none(), "{got:#}");
    // Retried with its key: the same answer, the common pool still unnamed.
    let (status, again) = s
        .post_as(&a_key, "/v1/ip-allocations", &body, Some("fallback-1"))
        .await;
    assert_eq!((status, &again), (201, &got));

    // B has no pool: common addresses, automatically.
    let svc_b = service(&s, &b_key, "bob").await;
    let (status, got) = allocate(&s, &b_key, json!({"service_id": svc_b})).await;
    assert_eq!(
        (status, got["address"].as_str()),
        (201, Some("10.0.0.2")),
        "{got:#}"
    );
    // The provider's own client: common too.
    let svc_p = service(&s, &p, "own").await;
    let (status, got) = allocate(&s, &p, json!({"service_id": svc_p})).await;
    assert_eq!(
        (status, got["address"].as_str()),
        (201, Some("10.0.0.3")),
        "{got:#}"
    );
    assert!(
        got["pool_id"].is_u64(),
        "the provider sees the pool: {got:#}"
    );

    // A service lists its addresses.
    let (_, addrs) = s
        .get_as(&a_key, &format!("/v1/services/{svc_a}/addresses"))
        .await;
    let mut listed: Vec<&str> = addrs
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, ["10.0.0.1", "10.0.1.1", "10.0.1.2"]);
}

#[tokio::test]
async fn tenancy_on_every_pool_and_allocation_endpoint() {
    let Two {
        s,
        p,
        a,
        a_key,
        b_key,
    } = two_resellers().await;
    let common = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "common", "ranges": ["10.0.0.0/28"]}),
    )
    .await["id"]
        .clone();
    let a_pool = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "A's", "ranges": ["10.0.1.0/28"], "reseller_id": a}),
    )
    .await["id"]
        .clone();

    // Only the provider writes pools.
    let pool_url = s.url(&format!("/v1/ip-pools/{a_pool}"));
    for req in [
        a_key
            .post(s.url("/v1/ip-pools"))
            .json(&json!({"name": "x", "ranges": ["10.5.0.0/30"]})),
        a_key.patch(&pool_url).json(&json!({"name": "mine now"})),
        a_key.delete(&pool_url),
    ] {
        let (status, body) = send(req).await;
        assert_eq!(status, 403, "{body:#}");
    }
    // A sees its pool, not the common one (404 also when it names it), nor B's view.
    let (_, listed) = s.get_as(&a_key, "/v1/ip-pools").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], a_pool);
    assert_eq!(
        s.get_as(&a_key, &format!("/v1/ip-pools/{common}")).await.0,
        404
    );
    assert_eq!(
        s.get_as(&a_key, &format!("/v1/ip-pools/{common}/allocations"))
            .await
            .0,
        404
    );
    assert_eq!(
        s.get_as(&b_key, &format!("/v1/ip-pools/{a_pool}")).await.0,
        404
    );
    assert_eq!(s.get_as(&b_key, "/v1/ip-pools").await.1, json!([]));
    assert_eq!(s.get(&format!("/v1/ip-pools/{common}")).await.0, 200);

    let svc_a = service(&s, &a_key, "alice").await;
    let svc_b = service(&s, &b_key, "bob").await;
    // A may not name the common pool, nor B's service, nor B A's pool.
    let (status, _) = allocate(&s, &a_key, json!({"service_id": svc_a, "pool_id": common})).await;
    assert_eq!(status, 404);
    let (status, _) = allocate(&s, &a_key, json!({"service_id": svc_b})).await;
    assert_eq!(status, 404);
    let (status, _) = allocate(&s, &b_key, json!({"service_id": svc_b, "pool_id": a_pool})).await;
    assert_eq!(status, 404);

    let mine = allocate(&s, &a_key, json!({"service_id": svc_a})).await.1;
    let theirs = allocate(&s, &b_key, json!({"service_id": svc_b})).await.1;
    assert_eq!(theirs["common"], true);
    // Each sees its own allocations only.
    assert_eq!(
        s.get_as(&b_key, &format!("/v1/ip-allocations/{}", mine["id"]))
            .await
            .0,
        404
    );
    let (_, b_list) = s.get_as(&b_key, "/v1/ip-allocations").await;
    assert_eq!(b_list.as_array().unwrap().len(), 1);
    assert_eq!(
        s.get_as(&a_key, &format!("/v1/ip-pools/{a_pool}/allocations"))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // B may not release A's, nor (a common-pool address) its own.
    let (status, _) =
        send(b_key.delete(s.url(&format!("/v1/ip-allocations/{}", mine["id"])))).await;
    assert_eq!(status, 404);
    let (status, body) =
        send(b_key.delete(s.url(&format!("/v1/ip-allocations/{}", theirs["id"])))).await;
    assert_eq!(status, 403, "{body:#}");
    // A releases its own pool's address.
    let (status, body) =
        send(a_key.delete(s.url(&format!("/v1/ip-allocations/{}", mine["id"])))).await;
    assert_eq!(status, 200, "{body:#}");

    // Usage: B sees only counts of its common-pool addresses.
    let (_, usage) = s.get_as(&b_key, "/v1/ip-usage").await;
    assert_eq!(usage["common"], json!({"static": 1, "dynamic": 0}));
    assert_eq!(usage["pools"], json!([]));
    let (_, usage) = s.get("/v1/ip-usage").await;
    assert_eq!(usage["pools"].as_array().unwrap().len(), 2);

    // Clients have no keys: an API key for a client account is refused.
    let client = created(&s, &a_key, "/v1/clients", json!({"name": "c"})).await["id"].clone();
    let (status, _) = post(&s, &p, "/v1/api-keys", json!({"account_id": client})).await;
    assert_eq!(status, 422);
    // A bad key gets nothing.
    assert_eq!(
        s.get_as(&client_with_key("rk_nope_nope_nope_nope"), "/v1/ip-pools")
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn pools_are_validated_overlaps_refused_and_in_use_pools_kept() {
    let s = server_at("2026-03-01T10:00:00Z", None).await;
    let p = s.client.clone();
    let first = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "one", "ranges": ["10.0.0.0/24"]}),
    )
    .await;
    for (body, status, says) in [
        (
            json!({"name": "x", "ranges": ["10.0.0.128/25"]}),
            409,
            "overlap IP pool 1",
        ),
        (
            json!({"name": "x", "ranges": ["10.1.0.1/24"]}),
            422,
            "host bits",
        ),
        (
            json!({"name": "x", "ranges": ["10.1.0.0/24", "2001:db8::/64"]}),
            422,
            "IPv6",
        ),
        (
            json!({"name": "x", "ranges": ["10.1.0.0/24"], "excluded": ["10.2.0.1"]}),
            422,
            "not inside",
        ),
        (
            json!({"name": "x", "ranges": ["10.1.0.0/30"], "excluded": ["10.1.0.0/30"]}),
            422,
            "no address",
        ),
        (json!({"name": "x", "ranges": []}), 422, "at least one"),
        (
            json!({"name": "x", "ranges": ["10.1.0.0/24"], "color": "red"}),
            422,
            "unknown field",
        ),
        (
            json!({"name": "x", "ranges": ["10.1.0.0/24"], "reseller_id": 99}),
            404,
            "reseller 99",
        ),
    ] {
        let (got, v) = post(&s, &p, "/v1/ip-pools", body.clone()).await;
        assert_eq!(got, status, "{body}: {v:#}");
        assert!(
            v["detail"].as_str().unwrap().contains(says),
            "{body}: {v:#}"
        );
    }
    assert_eq!(
        s.get("/v1/ip-pools").await.1.as_array().unwrap().len(),
        1,
        "nothing created"
    );

    // In use: not deleted. Free again: deleted, and its range can be reused.
    let svc = service(&s, &p, "own").await;
    let got = allocate(&s, &p, json!({"service_id": svc})).await.1;
    let (status, v) = send(p.delete(s.url(&format!("/v1/ip-pools/{}", first["id"])))).await;
    assert_eq!(status, 409, "{v:#}");
    send(p.delete(s.url(&format!("/v1/ip-allocations/{}", got["id"])))).await;
    let (status, _) = send(p.delete(s.url(&format!("/v1/ip-pools/{}", first["id"])))).await;
    assert_eq!(status, 200);
    created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "again", "ranges": ["10.0.0.0/25"]}),
    )
    .await;
}

#[tokio::test]
async fn deleting_a_service_releases_its_addresses_into_quarantine() {
    let s = server_at("2026-03-01T10:00:00Z", None).await;
    let p = s.client.clone();
    let pool = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "q", "ranges": ["10.0.0.1-10.0.0.3"], "quarantine_days": 2}),
    )
    .await["id"]
        .clone();
    let one = service(&s, &p, "one").await;
    let two = service(&s, &p, "two").await;
    let given = allocate(&s, &p, json!({"service_id": one, "address": "10.0.0.2"}))
        .await
        .1;
    assert_eq!(given["address"], "10.0.0.2", "{given:#}");
    // A requested address in use is a conflict naming its holder.
    let (status, v) = allocate(&s, &p, json!({"service_id": two, "address": "10.0.0.2"})).await;
    assert_eq!(status, 409, "{v:#}");

    let (status, _) = send(p.delete(s.url(&format!("/v1/services/{one}")))).await;
    assert_eq!(status, 200);
    assert_eq!(
        s.get(&format!("/v1/ip-allocations/{}", given["id"]))
            .await
            .0,
        404
    );
    let (_, view) = s.get(&format!("/v1/ip-pools/{pool}")).await;
    assert_eq!(
        (
            view["allocated"].as_str(),
            view["quarantined"].as_str(),
            view["free"].as_str()
        ),
        (Some("0"), Some("1"), Some("2"))
    );
    // In quarantine: not handed out, not even on request.
    let (status, v) = allocate(&s, &p, json!({"service_id": two, "address": "10.0.0.2"})).await;
    assert_eq!(status, 409);
    assert!(
        v["detail"].as_str().unwrap().contains("quarantine"),
        "{v:#}"
    );
    // A deleted service takes no address.
    let (status, _) = allocate(&s, &p, json!({"service_id": one})).await;
    assert_eq!(status, 422);
    // Two days on, it is free again.
    created(&s, &p, "/v1/clock", json!({"now": "2026-03-03T10:00:00Z"})).await;
    let (status, v) = allocate(&s, &p, json!({"service_id": two, "address": "10.0.0.2"})).await;
    assert_eq!(
        (status, v["address"].as_str()),
        (201, Some("10.0.0.2")),
        "{v:#}"
    );
    let (_, view) = s.get(&format!("/v1/ip-pools/{pool}")).await;
    assert_eq!(
        (
            view["allocated"].as_str(),
            view["quarantined"].as_str(),
            view["free"].as_str()
        ),
        (Some("1"), Some("0"), Some("2"))
    );
}

#[tokio::test]
async fn an_ipv6_64_hands_out_addresses_like_a_small_pool() {
    let s = server_at("2026-03-01T10:00:00Z", None).await;
    let p = s.client.clone();
    let pool = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "v6", "ranges": ["2001:db8::/64"], "excluded": ["2001:db8::"]}),
    )
    .await;
    assert_eq!(pool["family"], "ipv6");
    assert_eq!(pool["size"], "18446744073709551615");
    let svc = service(&s, &p, "six").await;
    let (status, v) = allocate(&s, &p, json!({"service_id": svc})).await;
    assert_eq!(status, 409, "IPv4 asked, no IPv4 pool: {v:#}");
    for expected in ["2001:db8::1", "2001:db8::2"] {
        let (status, v) = allocate(&s, &p, json!({"service_id": svc, "family": "ipv6"})).await;
        assert_eq!(
            (status, v["address"].as_str()),
            (201, Some(expected)),
            "{v:#}"
        );
    }
    let (status, v) = allocate(
        &s,
        &p,
        json!({"service_id": svc, "address": "2001:db8::ffff:ffff:ffff:ffff"}),
    )
    .await;
    assert_eq!((status, v["family"].as_str()), (201, Some("ipv6")), "{v:#}");
    let (_, view) = s.get(&format!("/v1/ip-pools/{}", pool["id"])).await;
    assert_eq!(view["free"], "18446744073709551612");
}

#[tokio::test]
async fn a_rule_answering_an_address_it_was_not_offered_is_refused_and_nothing_recorded() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "hostile.wasm", &fixture("ip-hostile"));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[hooks]\nip-allocation = \"hostile.wasm\"\n",
    );
    let s = server_at("2026-03-01T10:00:00Z", Some(rules.path())).await;
    let p = s.client.clone();
    let pool = created(
        &s,
        &p,
        "/v1/ip-pools",
        json!({"name": "h", "ranges": ["10.9.0.0/24"], "excluded": ["10.9.0.0"]}),
    )
    .await["id"]
        .clone();
    // Services 1..=4: the fixture answers by service id mod 4.
    let mut services = Vec::new();
    for i in 0..4 {
        services.push(service(&s, &p, &format!("s{i}")).await);
    }
    let mut by_case = std::collections::BTreeMap::new();
    for &svc in &services {
        let (status, v) = allocate(&s, &p, json!({"service_id": svc})).await;
        by_case.insert(svc % 4, (status, v));
    }
    for (case, says) in [(0, "not offered"), (1, "outside"), (2, "excluded")] {
        let (status, v) = &by_case[&case];
        assert_eq!(*status, 502, "{v:#}");
        assert_eq!(v["type"], "urn:rulesd:problem:rule-failed");
        assert!(
            v["detail"].as_str().unwrap().contains(says),
            "{case}: {v:#}"
        );
    }
    // Case 3 answers 10.9.0.5: given once, then refused as taken.
    assert_eq!(by_case[&3].0, 201);
    let again = services.iter().find(|&&s| s % 4 == 3).unwrap();
    let (status, v) = allocate(&s, &p, json!({"service_id": again})).await;
    assert_eq!(status, 502, "{v:#}");
    assert!(v["detail"].as_str().unwrap().contains("not free"), "{v:#}");
    let (_, view) = s.get(&format!("/v1/ip-pools/{pool}")).await;
    assert_eq!(
        (view["allocated"].as_str(), view["free"].as_str()),
        (Some("1"), Some("254")),
        "nothing else recorded"
    );
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"hook="ip-allocation",module="hostile.wasm",outcome="failed"} 4"#),
        "{metrics}"
    );
}

/// 64 clients of 64 services race for a pool of 50 over HTTP against the
/// real binary: 50 distinct addresses, 14 clear pool-exhausted answers.
/// Then SIGKILL, restart on the same data: the same 50, nothing more to give.
#[tokio::test(flavor = "multi_thread")]
async fn sixty_four_clients_never_get_one_address_twice_even_across_sigkill() {
    use crate::support::{Binary, PROVIDER_KEY};
    use std::collections::BTreeSet;
    let data = tempfile::tempdir().unwrap();
    let mut daemon = Binary::spawn(data.path(), Some(PROVIDER_KEY));
    let base = daemon.base_url();
    let p = client_with_key(PROVIDER_KEY);
    let ok = |r: reqwest::Response| async move {
        assert!(r.status().is_success(), "{}", r.status());
        r.json::<Value>().await.unwrap()
    };
    ok(p.post(format!("{base}/v1/ip-pools"))
        .json(&json!({"name": "fifty", "ranges": ["10.50.0.1-10.50.0.50"]}))
        .send()
        .await
        .unwrap())
    .await;
    let tariff = ok(p
        .post(format!("{base}/v1/tariffs"))
        .json(
            &json!({"name": "VPS", "currency": "EUR", "prices": [{"months": 1, "price": "5.00"}], "simultaneous_orders": 64}),
        )
        .send()
        .await
        .unwrap())
    .await["id"]
        .clone();
    let client = ok(p
        .post(format!("{base}/v1/clients"))
        .json(&json!({"name": "many"}))
        .send()
        .await
        .unwrap())
    .await["id"]
        .clone();
    let services = ok(p
        .post(format!("{base}/v1/services"))
        .json(&json!({"client_id": client, "tariff_id": tariff, "months": 1, "count": 64}))
        .send()
        .await
        .unwrap())
    .await["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect::<Vec<_>>();
    let answers = futures_util::future::join_all(services.iter().map(|&svc| {
        let (base, p) = (base.clone(), client_with_key(PROVIDER_KEY));
        async move {
            let r = p
                .post(format!("{base}/v1/ip-allocations"))
                .json(&json!({"service_id": svc}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let given: Vec<&str> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, v)| v["address"].as_str().unwrap())
        .collect();
    let distinct: BTreeSet<&str> = given.iter().copied().collect();
    assert_eq!((given.len(), distinct.len()), (50, 50));
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s != 201)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(refused.len(), 14);
    for v in &refused {
        assert_eq!(v["type"], "urn:rulesd:problem:pool-exhausted", "{v:#}");
    }

    daemon.child.kill().unwrap(); // SIGKILL
    daemon.child.wait().unwrap();
    let mut daemon = Binary::spawn(data.path(), None);
    let base = daemon.base_url();
    let stored = ok(p
        .get(format!("{base}/v1/ip-allocations"))
        .send()
        .await
        .unwrap())
    .await;
    let stored: BTreeSet<String> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, distinct.iter().map(|a| a.to_string()).collect());
    let r = p
        .post(format!("{base}/v1/ip-allocations"))
        .json(&json!({"service_id": services[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();
}
