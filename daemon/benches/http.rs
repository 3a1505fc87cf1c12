//! `POST /v1/quotes` throughput against `GET /healthz` on the same server in the
//! same run, 64 concurrent connections each. Client and server share the
//! machine, as they would with wrk on one host.
//!
//! cargo bench -p rulesd --bench http

mod common;

use common::percentile;
use rulesd::server::{self, Config, Daemon};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;
const SECONDS: u64 = 5;

const QUOTE: &str = r#"{"tariff":{"name":"Basic","currency":"EUR","prices":[{"months":1,"price":"10.00"},{"months":12,"price":"100.00"}],"setup_fee":"5.00"},"months":1,"at":"2026-01-31T10:00:00Z"}"#;

async fn load(url: String, body: Option<&'static str>) -> (f64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (url, stop, done) = (url.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            // One client per task: one keep-alive connection each.
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let req = match body {
                    Some(b) => client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(b),
                    None => client.get(&url),
                };
                let r = req.bearer_auth("rk_bench").send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.unwrap();
                latencies.push(t.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    let start_count = done.load(Ordering::Relaxed);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let count = done.load(Ordering::Relaxed) - start_count;
    let rate = count as f64 / t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort();
    (rate, all)
}

#[tokio::main]
async fn main() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some("rk_bench".into());
    let daemon = Arc::new(Daemon::build(&config).unwrap());
    let listener = server::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let d = daemon.clone();
    tokio::spawn(async move { server::serve(&d, listener, std::future::pending()).await });

    let (health, hl) = load(format!("{base}/healthz"), None).await;
    let (quotes, ql) = load(format!("{base}/v1/quotes"), Some(QUOTE)).await;
    println!("connections: {CONNECTIONS}, {SECONDS} s each, client in the same process");
    println!(
        "GET /healthz     {health:>9.0} req/s  p50 {:?} p99 {:?}",
        percentile(&hl, 0.5),
        percentile(&hl, 0.99)
    );
    println!(
        "POST /v1/quotes  {quotes:>9.0} req/s  p50 {:?} p99 {:?}",
        percentile(&ql, 0.5),
        percentile(&ql, 0.99)
    );
    println!("ratio quotes/healthz: {:.2}", quotes / health);
}
