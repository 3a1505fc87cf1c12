//! Tenancy: a reseller sees and changes only its own objects; another tenant's
//! object is a 404 exactly like a missing one; revoked keys stop at once.

use crate::support::{PROVIDER_KEY, TestServer, client_with_key, order};
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn resellers_are_confined_to_their_own_objects() {
    let s = TestServer::start(None).await;
    let (a, ka) = s.reseller("A").await;
    let (b, kb) = s.reseller("B").await;
    let p = s.client.clone();

    // Objects of each tenant.
    let (_, pc) = s
        .post_as(
            &p,
            "/v1/clients",
            &json!({"name": "provider's client"}),
            None,
        )
        .await;
    let (st, ac) = s
        .post_as(&ka, "/v1/clients", &json!({"name": "A's client"}), None)
        .await;
    assert_eq!(st, 201, "{ac:#}");
    assert_eq!(ac["reseller_id"], a);
    let (_, bc) = s
        .post_as(&kb, "/v1/clients", &json!({"name": "B's client"}), None)
        .await;
    let (_, bg) = s
        .post_as(
            &kb,
            "/v1/client-groups",
            &json!({"name": "B's group"}),
            None,
        )
        .await;
    let (_, ag) = s
        .post_as(
            &ka,
            "/v1/client-groups",
            &json!({"name": "A's group"}),
            None,
        )
        .await;
    let (pc, ac, bc) = (
        pc["id"].as_u64().unwrap(),
        ac["id"].as_u64().unwrap(),
        bc["id"].as_u64().unwrap(),
    );
    let (ag, bg) = (ag["id"].as_u64().unwrap(), bg["id"].as_u64().unwrap());

    // Reads: own objects only; others' are 404, never 403.
    assert_eq!(ids(&s.get_as(&ka, "/v1/resellers").await.1), vec![a]);
    assert_eq!(ids(&s.get_as(&p, "/v1/resellers").await.1), vec![a, b]);
    assert_eq!(s.get_as(&ka, &format!("/v1/resellers/{a}")).await.0, 200);
    for path in [
        format!("/v1/resellers/{b}"),
        "/v1/resellers/1".to_string(), // the provider's own account
        format!("/v1/clients/{bc}"),
        format!("/v1/clients/{pc}"),
        format!("/v1/client-groups/{bg}"),
        "/v1/clients/999999".to_string(),
        format!("/v1/services?client_id={bc}"),
        "/v1/services?client_id=999999".to_string(),
        "/v1/ledger?service_id=999999".to_string(),
    ] {
        let (status, body) = s.get_as(&ka, &path).await;
        assert_eq!(status, 404, "{path}: {body:#}");
        assert_eq!(body["type"], "urn:rulesd:problem:not-found");
    }
    assert_eq!(ids(&s.get_as(&ka, "/v1/clients").await.1), vec![ac]);
    // With no body at all, a key for the caller's own account.
    let r = ka.post(s.url("/v1/api-keys")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["account_id"], a, "{created:#}");
    // The provider asking a key for a client is told why, not "not found".
    let (status, body) = s
        .post_as(&p, "/v1/api-keys", &json!({"account_id": pc}), None)
        .await;
    assert_eq!(status, 422, "{body:#}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("is a client: API keys are for"),
        "{body:#}"
    );
    assert_eq!(ids(&s.get_as(&p, "/v1/clients").await.1), vec![pc, ac, bc]);
    assert_eq!(ids(&s.get_as(&ka, "/v1/client-groups").await.1), vec![ag]);
    let keys = s.get_as(&ka, "/v1/api-keys").await.1;
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .all(|k| k["account_id"] == a),
        "{keys:#}"
    );
    assert!(
        !keys.to_string().contains("rk_test"),
        "no secrets in listings"
    );

    // Writes into another tenant: 404, and nothing is created.
    for (path, body) in [
        ("/v1/clients", json!({"name": "x", "reseller_id": b})),
        ("/v1/clients", json!({"name": "x", "group_id": bg})),
        ("/v1/client-groups", json!({"name": "x", "reseller_id": b})),
        ("/v1/api-keys", json!({"account_id": b})),
        ("/v1/api-keys", json!({"account_id": 1})),
    ] {
        let (status, problem) = s.post_as(&ka, path, &body, None).await;
        assert_eq!(status, 404, "{path} {body}: {problem:#}");
    }
    assert_eq!(ids(&s.get_as(&p, "/v1/clients").await.1), vec![pc, ac, bc]);
    assert_eq!(
        ids(&s.get_as(&p, "/v1/client-groups").await.1),
        vec![bg, ag]
    );

    // Provider-only operations.
    assert_eq!(
        s.post_as(&ka, "/v1/resellers", &json!({"name": "C"}), None)
            .await
            .0,
        403
    );
    assert_eq!(s.get_as(&ka, "/v1/rules").await.0, 403);
    let mut foreign_quote = order(None);
    foreign_quote["reseller_id"] = json!(b);
    assert_eq!(
        s.post_as(&ka, "/v1/quotes", &foreign_quote, None).await.0,
        404
    );
    assert_eq!(
        s.post_as(&ka, "/v1/quotes", &order(None), None).await.0,
        200
    );

    // Revoking another tenant's key is a 404 and the key keeps working.
    let b_keys = s.get_as(&kb, "/v1/api-keys").await.1;
    let b_key = b_keys[0]["id"].as_u64().unwrap();
    let r = ka
        .delete(s.url(&format!("/v1/api-keys/{b_key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(s.get_as(&kb, "/v1/clients").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_bad_and_revoked_keys_are_refused_at_once() {
    let s = TestServer::start(None).await;
    let (_, ka) = s.reseller("A").await;
    assert_eq!(
        s.get_as(&reqwest::Client::new(), "/v1/clients").await.0,
        401
    );
    assert_eq!(
        s.get_as(&client_with_key("rk_nope"), "/v1/clients").await.0,
        401
    );
    assert_eq!(s.get_as(&ka, "/v1/clients").await.0, 200);

    // A second key for A, then the provider revokes A's first key.
    let (st, second) = s.post_as(&ka, "/v1/api-keys", &json!({}), None).await;
    assert_eq!(st, 201, "{second:#}");
    let second_key = client_with_key(second["api_key"].as_str().unwrap());
    let keys = s.get_as(&ka, "/v1/api-keys").await.1;
    let first_id = keys[0]["id"].as_u64().unwrap();
    let r = s
        .client
        .delete(s.url(&format!("/v1/api-keys/{first_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, body) = s.get_as(&ka, "/v1/clients").await;
    assert_eq!(status, 401, "{body:#}");
    assert!(body["detail"].as_str().unwrap().contains("revoked"));
    assert_eq!(s.get_as(&second_key, "/v1/clients").await.0, 200);

    // A key cannot revoke itself (that would lock the last key out).
    let second_id = second["id"].as_u64().unwrap();
    let r = second_key
        .delete(s.url(&format!("/v1/api-keys/{second_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
}

/// RFC 9110: the auth scheme is case-insensitive, and a 401 says which
/// scheme to use (`WWW-Authenticate`).
#[tokio::test(flavor = "multi_thread")]
async fn the_bearer_scheme_is_case_insensitive_and_401_names_it() {
    let s = TestServer::start(None).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = reqwest::Client::new()
            .get(s.url("/v1/clients"))
            .header("authorization", format!("{scheme} {PROVIDER_KEY}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{scheme}");
    }
    for auth in [None, Some("Bearer rk_nope"), Some("Basic dXNlcjpwYXNz")] {
        let mut req = reqwest::Client::new().get(s.url("/v1/clients"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{auth:?}");
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer realm=\"rulesd\"",
            "{auth:?}"
        );
    }
}

/// The listed prefix of a key is never the secret, nor most of it.
#[tokio::test(flavor = "multi_thread")]
async fn a_listed_key_prefix_is_at_most_half_the_secret() {
    let s = TestServer::start(None).await;
    let keys = s.get("/v1/api-keys").await.1;
    let prefix = keys[0]["prefix"].as_str().unwrap();
    assert!(PROVIDER_KEY.starts_with(prefix), "{keys:#}");
    assert!(
        prefix.len() <= 8 && prefix.len() * 2 <= PROVIDER_KEY.len(),
        "{keys:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn account_input_is_validated_and_changes_nothing() {
    let s = TestServer::start(None).await;
    let p = s.client.clone();
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(201)}),
        json!({"name": "ok", "extra": 1}),
        json!({"name": 5}),
        json!({"name": "tab\there"}),
    ] {
        let (status, problem) = s.post_as(&p, "/v1/resellers", &body, None).await;
        assert_eq!(status, 422, "{body}: {problem:#}");
    }
    assert_eq!(
        s.post_as(
            &p,
            "/v1/clients",
            &json!({"name": "c", "group_id": 77}),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        s.post_as(
            &p,
            "/v1/clients",
            &json!({"name": "c", "reseller_id": 77}),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(s.get_as(&p, "/v1/resellers").await.1, json!([]));
    assert_eq!(s.get_as(&p, "/v1/clients").await.1, json!([]));
    assert_eq!(s.get_as(&p, "/v1/clients/not-a-number").await.0, 404);
}
