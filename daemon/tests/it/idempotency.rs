//! Idempotency-Key: replays, mismatches, concurrency, scoping and pruning.

use crate::support::TestServer;
use rulesd::server::Config;
use serde_json::json;
use std::sync::Arc;

async fn raw_post(
    s: &TestServer,
    client: &reqwest::Client,
    key: &str,
    body: &str,
) -> (u16, Option<String>, Vec<u8>) {
    let r = client
        .post(s.url("/v1/clients"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, r.bytes().await.unwrap().to_vec())
}

async fn client_count(s: &TestServer) -> usize {
    s.get("/v1/clients").await.1.as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn same_key_same_request_replays_the_stored_response() {
    let s = TestServer::start(None).await;
    let body = r#"{"name": "Ann"}"#;
    let (st1, replayed1, first) = raw_post(&s, &s.client, "k-1", body).await;
    let (st2, replayed2, second) = raw_post(&s, &s.client, "k-1", body).await;
    assert_eq!((st1, st2), (201, 201));
    assert_eq!(replayed1, None);
    assert_eq!(replayed2.as_deref(), Some("true"));
    assert_eq!(first, second, "byte for byte");
    assert_eq!(client_count(&s).await, 1);

    // Same key, different body: refused, nothing created.
    let (st, _, problem) = raw_post(&s, &s.client, "k-1", r#"{"name": "Bob"}"#).await;
    assert_eq!(st, 422);
    assert!(String::from_utf8_lossy(&problem).contains("idempotency-key-reused"));
    assert_eq!(client_count(&s).await, 1);

    // Two keys on one request: which one counts? Refused, nothing created.
    let r = s
        .client
        .post(s.url("/v1/clients"))
        .header("content-type", "application/json")
        .header("idempotency-key", "k-3")
        .header("idempotency-key", "k-4")
        .body(r#"{"name": "Two keys"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("one Idempotency-Key header")
    );
    assert_eq!(client_count(&s).await, 1);

    // Keys are per caller: a reseller using "k-1" gets its own effect.
    let (_, ka) = s.reseller("R").await;
    let (st, replayed, _) = raw_post(&s, &ka, "k-1", body).await;
    assert_eq!((st, replayed), (201, None));
    assert_eq!(client_count(&s).await, 2);

    // A refused request records nothing: the key stays free.
    let (st, _, _) = raw_post(&s, &s.client, "k-2", r#"{"name": ""}"#).await;
    assert_eq!(st, 422);
    let (st, replayed, _) = raw_post(&s, &s.client, "k-2", r#"{"name": "Cy"}"#).await;
    assert_eq!((st, replayed), (201, None));

    // Bad keys are refused.
    let (st, _, _) = raw_post(&s, &s.client, &"x".repeat(300), body).await;
    assert_eq!(st, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_with_one_key_have_one_effect() {
    let s = Arc::new(TestServer::start(None).await);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            raw_post(&s, &s.client, "same-key", r#"{"name": "Once"}"#).await
        }));
    }
    let mut bodies = Vec::new();
    let mut fresh = 0;
    for t in tasks {
        let (status, replayed, body) = t.await.unwrap();
        assert_eq!(status, 201);
        if replayed.is_none() {
            fresh += 1;
        }
        bodies.push(body);
    }
    assert_eq!(fresh, 1, "exactly one request executed");
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "all got the one response"
    );
    assert_eq!(client_count(&s).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn records_are_pruned_after_the_retention_period() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.test_clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    let s = TestServer::start_config(config, data).await;
    let app = s.app();
    assert_eq!(
        raw_post(&s, &s.client, "k", r#"{"name": "A"}"#).await.0,
        201
    );

    // 23 hours later the record is still kept.
    let clock = |t: &str| json!({"now": t});
    assert_eq!(
        s.post_as(&s.client, "/v1/clock", &clock("2026-01-01T23:00:00Z"), None)
            .await
            .0,
        200
    );
    assert_eq!(app.prune_idempotency().await.unwrap(), 0);
    assert_eq!(
        raw_post(&s, &s.client, "k", r#"{"name": "B"}"#).await.0,
        422
    );

    // After 24 hours it is pruned and the key is free again.
    assert_eq!(
        s.post_as(&s.client, "/v1/clock", &clock("2026-01-02T00:00:01Z"), None)
            .await
            .0,
        200
    );
    assert_eq!(app.prune_idempotency().await.unwrap(), 1);
    let (status, replayed, _) = raw_post(&s, &s.client, "k", r#"{"name": "B"}"#).await;
    assert_eq!((status, replayed), (201, None));

    // The test clock only moves forward, and only the provider moves it.
    assert_eq!(
        s.post_as(&s.client, "/v1/clock", &clock("2025-01-01T00:00:00Z"), None)
            .await
            .0,
        422
    );
    let (_, ka) = s.reseller("R").await;
    assert_eq!(
        s.post_as(&ka, "/v1/clock", &clock("2027-01-01T00:00:00Z"), None)
            .await
            .0,
        403
    );
    // A move of more than ten years, or to a day the contract's dates
    // cannot follow, is refused before anything runs.
    for (to, needle) in [
        ("2040-01-01T00:00:00Z", "move it at most 3660 days"),
        ("+12026-01-01T00:00:00Z", "outside the days rulesd accepts"),
    ] {
        let (status, p) = s.post_as(&s.client, "/v1/clock", &clock(to), None).await;
        assert_eq!(status, 422, "{to}: {p:#}");
        assert!(p["detail"].as_str().unwrap().contains(needle), "{p:#}");
    }
    assert_eq!(s.get("/v1/clock").await.1["now"], "2026-01-02T00:00:01Z");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clock_endpoint_exists_only_in_test_clock_mode() {
    let s = TestServer::start(None).await;
    assert_eq!(s.get("/v1/clock").await.0, 404);
    assert_eq!(
        s.post_as(
            &s.client,
            "/v1/clock",
            &json!({"now": "2030-01-01T00:00:00Z"}),
            None
        )
        .await
        .0,
        404
    );
}
