//! Durable acknowledged writes per second with group commit at 1, 8 and 64
//! concurrent clients, against one commit per request in the same run, and the
//! latency of an acknowledged write at 64 clients. Each write creates a client
//! account through the in-process API (the same path as `POST /v1/clients`
//! minus HTTP), committed with `Durability::Immediate` and two-phase commit.
//!
//! cargo bench -p rulesd --bench writes

mod common;

use common::percentile;
use rulesd::server::{Config, Daemon};
use rulesd::tenancy::accounts::NewClient;
use std::time::{Duration, Instant};

const SECONDS: f64 = 3.0;

async fn run(max_batch: usize, clients: usize) -> (f64, Vec<Duration>) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some("rk_bench_provider_key".into());
    config.max_batch = max_batch;
    let daemon = Daemon::build(&config).unwrap();
    let app = daemon.app.clone();
    let caller = app.authenticate(Some("rk_bench_provider_key")).unwrap();
    let deadline = Instant::now() + Duration::from_secs_f64(SECONDS);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let req = NewClient {
                    name: format!("client {c}-{i}"),
                    reseller_id: None,
                    group_id: None,
                    credit_limit: None,
                };
                let t = Instant::now();
                app.create_client(caller, req, None).await.unwrap();
                latencies.push(t.elapsed());
                i += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

#[tokio::main]
async fn main() {
    println!("durable acknowledged writes/s ({SECONDS} s per cell)");
    println!(
        "{:>8} {:>16} {:>16} {:>8}",
        "clients", "one commit/req", "group commit", "ratio"
    );
    for clients in [1, 8, 64] {
        let (single, _) = run(1, clients).await;
        let (group, lat) = run(rulesd::store::Writer::DEFAULT_MAX_BATCH, clients).await;
        println!(
            "{clients:>8} {single:>16.0} {group:>16.0} {:>7.1}x",
            group / single
        );
        if clients == 64 {
            println!(
                "latency at 64 clients with group commit: p50 {:?} p99 {:?}",
                percentile(&lat, 0.5),
                percentile(&lat, 0.99)
            );
        }
    }
}
