//! Control-panel licenses (seed 003) end to end over HTTP: the lifecycle,
//! the pool (its cooldowns, a vendor failing mid-reuse, 32 orders racing
//! for 10 free licenses, also across SIGKILLs), tenancy on every endpoint.

mod crash;
mod lifecycle;
mod pool;
mod tenancy;

use crate::support::TestServer;
use rulesd::server::Config;
use serde_json::{Value, json};

/// A server shop on a test clock: a "Control panel" enumeration (no panel,
/// Lite, Pro), a VPS tariff selling them, an address pool and a funded
/// client.
pub(crate) struct Shop {
    pub s: TestServer,
    pub tariff: u64,
    pub client: u64,
    pub enumeration: u64,
}

pub(crate) fn enumeration() -> Value {
    json!({"name": "Control panel", "values": [
        {"key": "none", "name": "No panel"},
        {"key": "lite", "name": "ISPmanager Lite", "license_tariff": "ispmanager-lite"},
        {"key": "pro", "name": "ISPmanager Pro", "license_tariff": "ispmanager-pro"},
    ]})
}

pub(crate) fn vps(enumeration: u64) -> Value {
    json!({"name": "VPS", "currency": "EUR", "simultaneous_orders": 100,
           "prices": [{"months": 1, "price": "10.00"}, {"months": 12, "price": "100.00"}],
           "control_panel": {"enumeration_id": enumeration, "prices": [
               {"value": "none", "price": "0"},
               {"value": "lite", "price": "5.00"},
               {"value": "pro", "price": "8.00"}]}})
}

impl Shop {
    pub async fn open(at: &str) -> Shop {
        Shop::open_with(at, None).await
    }

    /// [`Shop::open`] with the rule modules in `rules`.
    pub async fn open_with(at: &str, rules: Option<&std::path::Path>) -> Shop {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
        config.test_clock = Some(at.parse().unwrap());
        config.rules_dir = rules.map(|p| p.to_path_buf());
        let s = TestServer::start_config(config, data).await;
        let e = s.ok("/v1/enumerations", enumeration()).await;
        let t = s.ok("/v1/tariffs", vps(e["id"].as_u64().unwrap())).await;
        s.ok(
            "/v1/ip-pools",
            json!({"name": "servers", "ranges": ["10.1.0.0/22"]}),
        )
        .await;
        let c = s.ok("/v1/clients", json!({"name": "alice"})).await;
        let client = c["id"].as_u64().unwrap();
        fund(&s, client).await;
        Shop {
            tariff: t["id"].as_u64().unwrap(),
            client,
            enumeration: e["id"].as_u64().unwrap(),
            s,
        }
    }

    /// A server of `client` with `panel` and an address (not yet its
    /// primary IP): (service id, address).
    pub async fn server(&self, client: u64, panel: &str) -> (u64, String) {
        self.server_on(self.tariff, client, panel).await
    }

    /// [`Shop::server`] on another tariff (a reseller's).
    pub async fn server_on(&self, tariff: u64, client: u64, panel: &str) -> (u64, String) {
        let o = self
            .s
            .ok(
                "/v1/services",
                json!({"client_id": client, "tariff_id": tariff, "months": 1, "control_panel": panel}),
            )
            .await;
        let id = o["services"][0]["id"].as_u64().unwrap();
        let a = self
            .s
            .ok("/v1/ip-allocations", json!({"service_id": id}))
            .await;
        (id, a["address"].as_str().unwrap().to_string())
    }

    /// A server with `panel` and its primary IP set: its license, if any.
    pub async fn licensed(&self, panel: &str) -> (u64, Value) {
        let (id, ip) = self.server(self.client, panel).await;
        let (status, v) = self.patch(id, json!({"primary_ip": ip})).await;
        assert_eq!(status, 200, "{v:#}");
        (
            id,
            self.s.get(&format!("/v1/services/{id}/license")).await.1,
        )
    }

    pub async fn patch(&self, service: u64, body: Value) -> (u16, Value) {
        let r = self
            .s
            .client
            .patch(self.s.url(&format!("/v1/services/{service}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `n` free licenses of `tariff` (IP and key changed long ago): their ids.
    pub async fn pool(&self, n: usize, tariff: &str) -> Vec<u64> {
        let mut ids = Vec::new();
        for i in 0..n {
            let v = self
                .s
                .ok(
                    "/v1/licenses",
                    json!({"tariff": tariff, "key": format!("pooled-key-{tariff}-{i}"),
                           "expires": "2030-01-01", "ip_changed": "2025-01-01", "key_changed": "2025-01-01"}),
                )
                .await;
            ids.push(v["id"].as_u64().unwrap());
        }
        ids
    }

    pub async fn license(&self, id: u64) -> Value {
        let (status, v) = self.s.get(&format!("/v1/licenses/{id}")).await;
        assert_eq!(status, 200, "{v:#}");
        v
    }

    pub async fn events(&self) -> Vec<Value> {
        let (status, v) = self.s.get("/v1/license-events?limit=1000").await;
        assert_eq!(status, 200, "{v:#}");
        v.as_array().unwrap().clone()
    }
}

pub(crate) async fn fund(s: &TestServer, account: u64) {
    s.ok(
        "/v1/ledger/adjustments",
        json!({"account_id": account, "currency": "EUR", "amount": "-100000.00", "description": "funds"}),
    )
    .await;
}
