//! IP allocation: allocations per second at 64 concurrent HTTP clients for a
//! /24 and a /16 IPv4 pool and a /64 IPv6 pool in one run (free space is
//! intervals, so the size should not matter), the process's memory after
//! each, and the in-process cost of one ip-allocation decision (the rule
//! call and its checks) next to a pricing decision's.
//!
//! Each client allocates for its own service and releases the address
//! again, so the pool never fills and every pool serves the same work; the
//! store is durable (every allocation is fsync'd with its group).
//!
//! cargo bench -p rulesd --bench ipam

mod common;
#[path = "common/pricing.rs"]
mod pricing;

#[path = "common/memory.rs"]
mod memory;
use common::percentile;
use memory::{mib, proc_status_kib};
use rulesd::contract::bindings::ip_allocation as wit;
use rulesd::decide::{self, RuleInput};
use rulesd::rules::{DEFAULT_MODULE, DEFAULT_MODULE_NAME};
use rulesd::runtime::{Limits, ModuleSource, Runtime, block_on};
use rulesd::server::{self, Config, Daemon};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KEY: &str = "rk_bench_provider_key";
const CLIENTS: usize = 64;
const ROUNDS: usize = 3;
/// Measured seconds per pool per round (after a 1 s warm-up).
const SECONDS: u64 = 3;
const DECISIONS: usize = 20_000;

async fn ok(r: reqwest::RequestBuilder) -> Value {
    let r = r.bearer_auth(KEY).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body:#}");
    body
}

/// A pool and one service per client, drawing only from that pool: each
/// pool gets its own reseller (an assigned pool), whose services see no other.
async fn setup(base: &str, p: &reqwest::Client, name: &str, range: &str) -> Vec<u64> {
    let reseller = ok(p
        .post(format!("{base}/v1/resellers"))
        .json(&json!({"name": name})))
    .await;
    let key = reseller["api_key"].as_str().unwrap().to_string();
    let r = |req: reqwest::RequestBuilder| req.bearer_auth(&key);
    ok(p.post(format!("{base}/v1/ip-pools"))
        .json(&json!({"name": name, "ranges": [range], "reseller_id": reseller["id"]})))
    .await;
    let send = |req: reqwest::RequestBuilder| async move {
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.json::<Value>().await.unwrap()
    };
    let tariff = send(r(p.post(format!("{base}/v1/tariffs"))).json(&json!({
        "name": "VPS", "currency": "EUR", "prices": [{"months": 1, "price": "5.00"}],
        "simultaneous_orders": CLIENTS
    })))
    .await;
    let client = send(r(p.post(format!("{base}/v1/clients"))).json(&json!({"name": "c"}))).await;
    let ordered = send(r(p.post(format!("{base}/v1/services"))).json(&json!({
        "client_id": client["id"], "tariff_id": tariff["id"], "months": 1, "count": CLIENTS
    })))
    .await;
    ordered["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect()
}

/// Allocations per second (each followed by its release) with one client
/// per service, and the allocations' latencies.
async fn load(base: &str, services: &[u64], family: &'static str) -> (f64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for &svc in services {
        let (base, stop, done) = (base.to_string(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/v1/ip-allocations"))
                    .bearer_auth(KEY)
                    .json(&json!({"service_id": svc, "family": family}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
                let a: Value = r.json().await.unwrap();
                latencies.push(t.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
                let r = client
                    .delete(format!("{base}/v1/ip-allocations/{}", a["id"]))
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200);
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let from = done.load(Ordering::Relaxed);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let rate = (done.load(Ordering::Relaxed) - from) as f64 / t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    (rate, all)
}

/// The p50 of `n` calls of `decide::run` with `input`.
fn decision_p50(
    module: &rulesd::runtime::RuleModule,
    input: &RuleInput,
    n: usize,
) -> (Duration, u64) {
    let mut fuel = 0;
    for _ in 0..2_000 {
        fuel = block_on(decide::run(module, input.clone()))
            .unwrap()
            .fuel_used;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let d = block_on(decide::run(module, input.clone())).unwrap();
        samples.push(t.elapsed());
        std::hint::black_box(d);
    }
    samples.sort();
    (percentile(&samples, 0.5), fuel)
}

fn decisions() {
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let module = runtime
        .load(DEFAULT_MODULE_NAME, DEFAULT_MODULE, ModuleSource::Embedded)
        .unwrap();
    let pool = |id: &str, kind, first: u32| wit::Pool {
        id: id.into(),
        kind,
        reseller: (kind == wit::PoolKind::Assigned).then(|| "7".into()),
        family: wit::IpFamily::V4,
        free: (0..8).map(|i| format!("10.0.{first}.{}", i + 1)).collect(),
        free_count: 250,
        quarantined: 0,
        quarantine_days: 0,
    };
    let ip = RuleInput::IpAllocation(wit::AllocationRequest {
        reseller: Some("7".into()),
        service: "42".into(),
        kind: wit::AddressKind::Static,
        family: wit::IpFamily::V4,
        requested_address: None,
        requested_pool: None,
        pools: vec![
            pool("2", wit::PoolKind::Assigned, 1),
            pool("1", wit::PoolKind::Common, 0),
        ],
        common_overflow_allowed: false,
        at: "2026-05-01T09:00:00Z".into(),
    });
    let price = pricing::request();
    let mut raw = Vec::with_capacity(DECISIONS);
    for _ in 0..DECISIONS {
        let t = Instant::now();
        std::hint::black_box(block_on(module.price(&price)).unwrap());
        raw.push(t.elapsed());
    }
    raw.sort();
    let (ip_p50, ip_fuel) = decision_p50(&module, &ip, DECISIONS);
    let (price_p50, price_fuel) = decision_p50(&module, &RuleInput::Pricing(price), DECISIONS);
    println!(
        "in-process decision + checks (decide::run), p50 of {DECISIONS}: ip-allocation {ip_p50:.2?} ({ip_fuel} fuel), pricing {price_p50:.2?} ({price_fuel} fuel); the bare pricing call {:.2?}",
        percentile(&raw, 0.5)
    );
}

#[tokio::main]
async fn main() {
    decisions();
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some(KEY.into());
    let daemon = Arc::new(Daemon::build(&config).unwrap());
    let listener = server::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let d = daemon.clone();
    tokio::spawn(async move { server::serve(&d, listener, std::future::pending()).await });
    let p = reqwest::Client::new();
    let pools = [
        ("/24", "10.24.0.0/24", "ipv4"),
        ("/16", "10.16.0.0/16", "ipv4"),
        ("IPv6 /64", "2001:db8:64::/64", "ipv6"),
    ];
    let mut services = Vec::new();
    for (name, range, _) in pools {
        services.push(setup(&base, &p, name, range).await);
    }
    println!(
        "{CLIENTS} clients over HTTP, each allocating for its service and releasing; {ROUNDS} rounds of {SECONDS} s per pool"
    );
    let mut rates = vec![Vec::new(); pools.len()];
    let mut latencies = vec![Vec::new(); pools.len()];
    for round in 1..=ROUNDS {
        for (i, (name, _, family)) in pools.iter().enumerate() {
            let (rate, l) = load(&base, &services[i], family).await;
            println!(
                "round {round}: {name:>8}: {rate:>6.0} allocations/s, RSS {}",
                mib(proc_status_kib("VmRSS"))
            );
            rates[i].push(rate);
            latencies[i].extend(l);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base_rate = median(&mut rates[0].clone());
    for (i, (name, ..)) in pools.iter().enumerate() {
        let rate = median(&mut rates[i]);
        latencies[i].sort();
        println!(
            "{name:>8}: median {rate:>6.0} allocations/s ({:+.1}% vs /24), p50 {:.2?}, p99 {:.2?}",
            (rate / base_rate - 1.0) * 100.0,
            percentile(&latencies[i], 0.5),
            percentile(&latencies[i], 0.99)
        );
    }
    println!(
        "peak RSS of the process (server and clients): {}",
        mib(proc_status_kib("VmHWM"))
    );
}
