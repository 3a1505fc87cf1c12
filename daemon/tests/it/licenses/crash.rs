//! 32 servers ask for a license at once against a pool of 10 free ones while
//! the real binary is SIGKILLed; each request is sent again with its
//! Idempotency-Key after the restart until it is answered. At the end:
//! exactly 10 licenses reused and 22 new, none given twice, every answer
//! replays byte for byte.

use super::{enumeration, vps};
use crate::support::{Binary, PROVIDER_KEY, client_with_key};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

async fn call(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: &Value,
    key: Option<&str>,
) -> Option<(u16, String)> {
    let mut req = c.request(method.clone(), url);
    if method != reqwest::Method::GET {
        req = req.json(body);
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let r = req.send().await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

async fn ok(c: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let (status, text) = call(
        c,
        reqwest::Method::POST,
        format!("{base}{path}"),
        &body,
        None,
    )
    .await
    .expect("the daemon answers");
    assert!((200..300).contains(&status), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// What the race left, checked through the API: each server holds its own
/// license at its IP; of the pool's 10, each serves one server; the other
/// 22 are new; nothing else was made.
pub(crate) async fn check_race(
    base: &str,
    c: &reqwest::Client,
    servers: &[(u64, String)],
    pool: &[u64],
) {
    let mut holders: BTreeMap<u64, u64> = BTreeMap::new();
    for (service, ip) in servers {
        let (status, text) = call(
            c,
            reqwest::Method::GET,
            format!("{base}/v1/services/{service}/license"),
            &Value::Null,
            None,
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "service {service}: {text}");
        let l: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(l["ip"].as_str(), Some(ip.as_str()));
        assert_eq!(l["status"], "active");
        let id = l["id"].as_u64().unwrap();
        assert!(
            holders.insert(id, *service).is_none(),
            "license {id} given twice"
        );
    }
    let reused = holders.keys().filter(|id| pool.contains(id)).count();
    assert_eq!((reused, holders.len() - reused), (10, 22));
    let (_, text) = call(
        c,
        reqwest::Method::GET,
        format!("{base}/v1/licenses?limit=1000"),
        &Value::Null,
        None,
    )
    .await
    .unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(all.len(), 32, "no license made but those held");
    for l in &all {
        let id = l["id"].as_u64().unwrap();
        assert_eq!(l["service_id"].as_u64(), holders.get(&id).copied(), "{l}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_orders_against_ten_free_licenses_across_sigkills() {
    let data = tempfile::tempdir().unwrap();
    let p = client_with_key(PROVIDER_KEY);
    let mut daemon = Binary::spawn(data.path(), Some(PROVIDER_KEY));
    let base = daemon.base_url();
    let e = ok(&p, &base, "/v1/enumerations", enumeration()).await;
    let t = ok(&p, &base, "/v1/tariffs", vps(e["id"].as_u64().unwrap())).await;
    ok(
        &p,
        &base,
        "/v1/ip-pools",
        json!({"name": "servers", "ranges": ["10.2.0.0/24"]}),
    )
    .await;
    let c = ok(&p, &base, "/v1/clients", json!({"name": "alice"})).await;
    let client = c["id"].as_u64().unwrap();
    ok(&p, &base, "/v1/ledger/adjustments",
        json!({"account_id": client, "currency": "EUR", "amount": "-100000.00", "description": "funds"})).await;
    let mut pool = Vec::new();
    for i in 0..10 {
        let l = ok(
            &p,
            &base,
            "/v1/licenses",
            json!({"tariff": "ispmanager-lite", "key": format!("crash-key-{i}"),
            "expires": "2030-01-01", "ip_changed": "2025-01-01", "key_changed": "2025-01-01"}),
        )
        .await;
        pool.push(l["id"].as_u64().unwrap());
    }
    let mut servers = Vec::new();
    for _ in 0..32 {
        let o = ok(&p, &base, "/v1/services", json!({"client_id": client, "tariff_id": t["id"], "months": 1, "control_panel": "lite"})).await;
        let id = o["services"][0]["id"].as_u64().unwrap();
        let a = ok(&p, &base, "/v1/ip-allocations", json!({"service_id": id})).await;
        servers.push((id, a["address"].as_str().unwrap().to_string()));
    }
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();

    // Each server's edit, sent until answered.
    let mut answers: BTreeMap<u64, (u16, String)> = BTreeMap::new();
    let (mut kills, mut interrupted) = (0, 0);
    let mut delay = 2;
    while answers.len() < servers.len() {
        let mut daemon = Binary::spawn(data.path(), None);
        let base = daemon.base_url();
        let tasks: Vec<_> = servers
            .iter()
            .filter(|(id, _)| !answers.contains_key(id))
            .cloned()
            .map(|(id, ip)| {
                let (p, base) = (p.clone(), base.clone());
                tokio::spawn(async move {
                    let url = format!("{base}/v1/services/{id}");
                    let key = format!("license-{id}");
                    (
                        id,
                        call(
                            &p,
                            reqwest::Method::PATCH,
                            url,
                            &json!({"primary_ip": ip}),
                            Some(&key),
                        )
                        .await,
                    )
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        daemon.child.kill().unwrap(); // SIGKILL
        daemon.child.wait().unwrap();
        kills += 1;
        delay = (delay * 2).min(1000);
        let before = answers.len();
        for t in tasks {
            if let (id, Some(answer)) = t.await.unwrap() {
                answers.insert(id, answer);
            }
        }
        if answers.len() > before && answers.len() < servers.len() {
            interrupted += 1;
        }
    }

    let mut daemon = Binary::spawn(data.path(), None);
    let base = daemon.base_url();
    let mut kept = BTreeSet::new();
    for (id, ip) in &servers {
        let (status, text) = &answers[id];
        assert_eq!(*status, 200, "service {id}: {text}");
        let again = call(
            &p,
            reqwest::Method::PATCH,
            format!("{base}/v1/services/{id}"),
            &json!({"primary_ip": ip}),
            Some(&format!("license-{id}")),
        )
        .await
        .unwrap();
        assert_eq!(&again, &answers[id], "the answer replays");
        kept.insert(*id);
    }
    check_race(&base, &p, &servers, &pool).await;
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();
    eprintln!("{kills} kills, {interrupted} of them with requests both answered and not");
}
