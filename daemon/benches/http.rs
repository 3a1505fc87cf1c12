//! `POST /v1/quotes` throughput against `GET /healthz` on the same server in the
//! same run, 64 concurrent connections each. Client and server share the
//! machine, as they would with wrk on one host.
//!
//! This 2-core VM has noisy phases (one 5 s window of `/healthz` measured
//! anywhere from 40k to 67k req/s), so the two loads alternate in rounds and
//! the ratio is taken per round; the median round ratio is the figure.
//!
//! cargo bench -p rulesd --bench http

mod common;

use common::percentile;
use rulesd::server::{self, Config, Daemon};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;
/// Measured seconds per load per round (after a 1 s warm-up of each).
const SECONDS: u64 = 2;
const ROUNDS: usize = 5;

const QUOTE: &str = r#"{"tariff":{"name":"Basic","currency":"EUR","prices":[{"months":1,"price":"10.00"},{"months":12,"price":"100.00"}],"setup_fee":"5.00"},"months":1,"at":"2026-01-31T10:00:00Z"}"#;

/// A quote with no tariff: authenticated and parsed, refused before any rule.
const REFUSED: &str = r#"{"months":1,"at":"2026-01-31T10:00:00Z"}"#;

async fn load(url: String, body: Option<&'static str>, status: u16) -> (f64, Vec<Duration>) {
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
                let r = req
                    .bearer_auth("rk_bench_provider_key")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), status);
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
    (rate, all)
}

#[tokio::main]
async fn main() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some("rk_bench_provider_key".into());
    let daemon = Arc::new(Daemon::build(&config).unwrap());
    let listener = server::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let d = daemon.clone();
    tokio::spawn(async move { server::serve(&d, listener, std::future::pending()).await });

    println!(
        "connections: {CONNECTIONS}, {ROUNDS} rounds of {SECONDS} s per endpoint, client in the same process"
    );
    let (mut ratios, mut hl, mut ql) = (Vec::new(), Vec::new(), Vec::new());
    let (mut health_total, mut quotes_total) = (0.0, 0.0);
    for round in 1..=ROUNDS {
        let (health, h) = load(format!("{base}/healthz"), None, 200).await;
        let (quotes, q) = load(format!("{base}/v1/quotes"), Some(QUOTE), 200).await;
        println!(
            "round {round}: GET /healthz {health:>7.0} req/s, POST /v1/quotes {quotes:>7.0} req/s, ratio {:.2}",
            quotes / health
        );
        ratios.push(quotes / health);

        health_total += health;
        quotes_total += quotes;
        hl.extend(h);
        ql.extend(q);
    }
    hl.sort();
    ql.sort();
    let rounds = ROUNDS as f64;
    println!(
        "GET /healthz     {:>9.0} req/s  p50 {:?} p99 {:?}",
        health_total / rounds,
        percentile(&hl, 0.5),
        percentile(&hl, 0.99)
    );
    println!(
        "POST /v1/quotes  {:>9.0} req/s  p50 {:?} p99 {:?}",
        quotes_total / rounds,
        percentile(&ql, 0.5),
        percentile(&ql, 0.99)
    );
    ratios.sort_by(f64::total_cmp);
    println!(
        "ratio quotes/healthz: median of rounds {:.2} (min {:.2}, max {:.2})",
        ratios[ROUNDS / 2],
        ratios[0],
        ratios[ROUNDS - 1]
    );

    // Where a quote's cost goes: the same body to a route that does not
    // exist (HTTP and routing only), and a quote refused before the rule
    // (authentication, JSON parsing and a problem document, no rule call).
    let (unrouted, _) = load(format!("{base}/v1/nowhere"), Some(QUOTE), 404).await;
    let (refused, _) = load(format!("{base}/v1/quotes"), Some(REFUSED), 422).await;
    println!(
        "reference: POST /v1/nowhere (same body, 404) {unrouted:.0} req/s; POST /v1/quotes refused before the rule (422) {refused:.0} req/s"
    );

    // What a quote costs without HTTP: the same request through the in-process
    // API the handler calls, one at a time.
    let app = daemon.app.clone();
    let caller = app.authenticate(Some("rk_bench_provider_key")).unwrap();
    let request: rulesd::billing::quotes::QuoteRequest = serde_json::from_str(QUOTE).unwrap();
    let mut inproc = Vec::with_capacity(20_000);
    for i in 0..22_000 {
        let t = Instant::now();
        let quote = app.quote(&caller, request.clone()).await.unwrap();
        if i >= 2_000 {
            inproc.push(t.elapsed());
        }
        assert_eq!(quote.total.to_string(), "15.00");
    }
    inproc.sort();
    println!(
        "App::quote in-process, sequential: p50 {:?} p99 {:?}",
        percentile(&inproc, 0.5),
        percentile(&inproc, 0.99)
    );
}
