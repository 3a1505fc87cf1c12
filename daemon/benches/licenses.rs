//! Control-panel licenses (seed 003).
//!
//! 1. Choosing a license from a pool of 10 and from a pool of 100,000 free
//!    licenses: the latency of one take (`PATCH /v1/services/{id}` setting
//!    the primary IP of a server that chose a panel: the daemon reads the
//!    8 longest-free licenses from the start of the free index, the rule
//!    picks, the vendor simulator renames one), one at a time over HTTP on
//!    a durable store; median and p99 of 100 takes each, alternating between the
//!    two daemons so both see the same machine.
//! 2. Licenses ordered per second with 32 concurrent clients over HTTP:
//!    each client sets the primary IP of its next server; from a pool large
//!    enough for every take (reuse), then from an empty pool (a new license
//!    from the simulator each time).
//!
//! cargo bench -p rulesd --bench licenses [-- choose | -- throughput]

mod common;
// Shared by the benches; this one uses only its setup helper.
#[allow(dead_code)]
#[path = "common/load.rs"]
mod load;
#[path = "common/served.rs"]
mod served;
use common::percentile;
use load::post_json;
use served::{KEY, Served, runtime, serve_with};

use rulesd::app::{App, Caller};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const TAKES: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parts = ["choose", "throughput"];
    let only = |part: &str| {
        !args.iter().any(|a| parts.contains(&a.as_str())) || args.iter().any(|a| a == part)
    };
    let rt = runtime();
    if only("choose") {
        rt.block_on(choose());
    }
    if only("throughput") {
        rt.block_on(throughput());
    }
}

/// A daemon on a durable store serving HTTP, with a VPS tariff selling a
/// panel, an address pool and a funded client.
struct Bench {
    served: Served,
    app: Arc<App>,
    base: String,
    http: reqwest::Client,
    caller: Caller,
    tariff: Value,
    client: Value,
}

impl Bench {
    async fn start() -> Bench {
        let served = serve_with(|_| {}).await;
        let base = served.base.clone();
        let http = reqwest::Client::new();
        let post = async |path: &str, body: Value| {
            post_json(&http, KEY, format!("{base}{path}"), &body).await
        };
        let e = post(
            "/v1/enumerations",
            json!({"name": "Control panel", "values": [
            {"key": "lite", "name": "ISPmanager Lite", "license_tariff": "ispmanager-lite"}]}),
        )
        .await;
        let tariff = post("/v1/tariffs", json!({"name": "VPS", "currency": "EUR", "simultaneous_orders": 100,
            "prices": [{"months": 1, "price": "10.00"}],
            "control_panel": {"enumeration_id": e["id"], "prices": [{"value": "lite", "price": "5.00"}]}}))
        .await["id"]
            .clone();
        post(
            "/v1/ip-pools",
            json!({"name": "servers", "ranges": ["10.0.0.0/8"]}),
        )
        .await;
        let client = post("/v1/clients", json!({"name": "alice"})).await["id"].clone();
        post(
            "/v1/ledger/adjustments",
            json!({"account_id": client, "currency": "EUR",
            "amount": "-100000000.00", "description": "funds"}),
        )
        .await;
        let app = served.daemon.app.clone();
        let caller = app.authenticate(Some(KEY)).unwrap();
        Bench {
            served,
            app,
            base,
            http,
            caller,
            tariff,
            client,
        }
    }

    /// `n` free licenses put into the pool (in-process, 64 at a time).
    async fn pool(&self, n: usize) {
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (app, caller, next) = (self.app.clone(), self.caller, next.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return;
                        }
                        let new = serde_json::from_value(json!({"tariff": "ispmanager-lite",
                            "key": format!("bench-key-{i}"),
                            "expires": "2030-01-01", "ip_changed": "2025-01-01", "key_changed": "2025-01-01"}))
                        .unwrap();
                        app.add_license(caller, new, None).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }

    /// `n` servers that chose the panel, each with an address: (id, address).
    async fn servers(&self, n: usize) -> Vec<(u64, String)> {
        let mut ids = Vec::new();
        while ids.len() < n {
            let count = (n - ids.len()).min(100);
            let req =
                serde_json::from_value(json!({"client_id": self.client, "tariff_id": self.tariff,
                "months": 1, "control_panel": "lite", "count": count}))
                .unwrap();
            let ordered = self.app.order(self.caller, req, None).await.unwrap();
            let v: Value = ordered.json().unwrap();
            for s in v["services"].as_array().unwrap() {
                ids.push(s["id"].as_u64().unwrap());
            }
        }
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let ids = Arc::new(ids);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (app, caller, next, ids, out) = (
                    self.app.clone(),
                    self.caller,
                    next.clone(),
                    ids.clone(),
                    out.clone(),
                );
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&id) = ids.get(i) else { return };
                        let req = serde_json::from_value(json!({"service_id": id})).unwrap();
                        let a = app.allocate(caller, req, None).await.unwrap();
                        let a: Value = a.json().unwrap();
                        let address = a["address"].as_str().unwrap().to_string();
                        out.lock().unwrap().push((id, address));
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let mut out = std::mem::take(&mut *out.lock().unwrap());
        out.sort();
        out
    }

    async fn take(&self, server: &(u64, String)) {
        let r = self
            .http
            .patch(format!("{}/v1/services/{}", self.base, server.0))
            .bearer_auth(KEY)
            .json(&json!({"primary_ip": server.1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
        r.bytes().await.unwrap();
    }

    /// A durable write that takes no license.
    async fn write(&self) {
        let r = self
            .http
            .post(format!("{}/v1/clients", self.base))
            .bearer_auth(KEY)
            .json(&json!({"name": "control"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        r.bytes().await.unwrap();
    }

    /// How many licenses are in the pool now.
    async fn free(&self) -> usize {
        let r = self
            .http
            .get(format!("{}/v1/licenses?free=true&limit=1000", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        r.json::<Vec<Value>>().await.unwrap().len()
    }
}

impl Bench {
    async fn stop(self) {
        drop(self.app);
        self.served.stop().await;
    }
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{name}: median {:.2} ms, p99 {:.2} ms ({} takes)",
        percentile(&d, 0.5).as_secs_f64() * 1e3,
        percentile(&d, 0.99).as_secs_f64() * 1e3,
        d.len()
    );
}

async fn choose() {
    println!(
        "== choose: one take at a time over HTTP, durable stores, a pool of 10 and one of 100,000 free licenses, takes alternating between them"
    );
    // Two daemons at once, so both pools see the same machine: the small
    // pool is refilled to 10 (untimed) before each 10 takes.
    let small = Bench::start().await;
    let large = Bench::start().await;
    let t = Instant::now();
    large.pool(100_000).await;
    println!(
        "(100,000 licenses put into the pool in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let (small_servers, large_servers) = (small.servers(TAKES).await, large.servers(TAKES).await);
    let (mut small_takes, mut large_takes) = (Vec::new(), Vec::new());
    for i in 0..TAKES {
        if i % 10 == 0 {
            small.pool(10).await;
        }
        let mut turn = [
            (&small, &small_servers[i], &mut small_takes),
            (&large, &large_servers[i], &mut large_takes),
        ];
        if i % 2 == 1 {
            turn.reverse();
        }
        for (bench, server, takes) in turn {
            let t = Instant::now();
            bench.take(server).await;
            takes.push(t.elapsed());
        }
    }
    assert_eq!(small.free().await, 0, "every take reused a pooled license");
    // The control: a write that takes no license (a client created), in
    // the same two stores, alternating too. What it costs more in the large
    // store is the store's size, not the choice.
    let (mut small_writes, mut large_writes) = (Vec::new(), Vec::new());
    for i in 0..TAKES {
        let mut turn = [(&small, &mut small_writes), (&large, &mut large_writes)];
        if i % 2 == 1 {
            turn.reverse();
        }
        for (bench, writes) in turn {
            let t = Instant::now();
            bench.write().await;
            writes.push(t.elapsed());
        }
    }
    let median = |d: &mut Vec<Duration>| {
        d.sort();
        percentile(d, 0.5).as_secs_f64()
    };
    report("pool of 10", small_takes.clone());
    report("pool of 100,000", large_takes.clone());
    report(
        "control, a client created, store of the pool of 10",
        small_writes.clone(),
    );
    report(
        "control, a client created, store of the pool of 100,000",
        large_writes.clone(),
    );
    let takes = median(&mut large_takes) / median(&mut small_takes);
    let writes = median(&mut large_writes) / median(&mut small_writes);
    println!(
        "median ratio (100,000 / 10): takes {takes:.2}, control writes {writes:.2}; the choice alone: {:.2}",
        takes / writes
    );
    small.stop().await;
    large.stop().await;
}

async fn orders_per_second(b: &Bench, servers: Vec<(u64, String)>) -> f64 {
    let servers = Arc::new(servers);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (servers, next) = (servers.clone(), next.clone());
            let (http, base) = (reqwest::Client::new(), b.base.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((id, ip)) = servers.get(i) else {
                        return;
                    };
                    let r = http
                        .patch(format!("{base}/v1/services/{id}"))
                        .bearer_auth(KEY)
                        .json(&json!({"primary_ip": ip}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                    r.bytes().await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    servers.len() as f64 / started.elapsed().as_secs_f64()
}

async fn throughput() {
    const N: usize = 3_000;
    println!(
        "== throughput: {N} licenses ordered by {CLIENTS} concurrent HTTP clients, durable store"
    );
    let b = Bench::start().await;
    b.pool(N).await;
    let servers = b.servers(N).await;
    let reused = orders_per_second(&b, servers).await;
    assert_eq!(b.free().await, 0);
    println!("from the pool (reused): {reused:.0} licenses/s");
    let servers = b.servers(N).await;
    let new = orders_per_second(&b, servers).await;
    println!("pool empty (new from the vendor simulator): {new:.0} licenses/s");
    b.stop().await;
}
