//! Closed-loop load for the HTTP benches: `CONNECTIONS` workers each run
//! one operation after another; a warm-up, then a measured window.

use super::common::percentile;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const CONNECTIONS: usize = 64;
pub const WARMUP: Duration = Duration::from_secs(1);
pub const SECONDS: u64 = 5;

/// Rate, latencies of requests started in the measured window, and the rate
/// in each second of the window.
pub struct Load {
    pub rate: f64,
    pub latencies: Vec<Duration>,
    pub per_second: Vec<f64>,
}

/// Run `op(worker, i)` in `CONNECTIONS` concurrent loops: 1 s warm-up, then
/// `SECONDS` s measured.
pub async fn drive<F, Fut>(op: F) -> Load
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..CONNECTIONS {
        let (op, stop, done) = (op.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                op(worker, i).await;
                samples.push((t, t.elapsed()));
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            samples
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let window = Instant::now();
    let start_count = done.load(Ordering::Relaxed);
    let mut last = start_count;
    let mut per_second = Vec::new();
    for s in 1..=SECONDS {
        tokio::time::sleep_until((window + Duration::from_secs(s)).into()).await;
        let now = done.load(Ordering::Relaxed);
        per_second.push((now - last) as f64);
        last = now;
    }
    let rate = (last - start_count) as f64 / window.elapsed().as_secs_f64();
    let end = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        for (t, d) in task.await.unwrap() {
            if t >= window && t < end {
                latencies.push(d);
            }
        }
    }
    latencies.sort();
    Load {
        rate,
        latencies,
        per_second,
    }
}

pub fn print_load(name: &str, load: &Load) {
    println!(
        "{name:<44} {:>8.0}/s  p50 {:>9.2?}  p99 {:>9.2?}  per second: {}",
        load.rate,
        percentile(&load.latencies, 0.5),
        percentile(&load.latencies, 0.99),
        load.per_second
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

/// One keep-alive connection per worker.
pub fn connections() -> Arc<Vec<reqwest::Client>> {
    Arc::new(
        (0..CONNECTIONS)
            .map(|_| {
                reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap()
            })
            .collect(),
    )
}

/// POST `body` with `key` (setup, not measured); the answer, which must be
/// a success.
pub async fn post_json(
    client: &reqwest::Client,
    key: &str,
    url: String,
    body: &serde_json::Value,
) -> serde_json::Value {
    let r = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// POST a JSON `body` with `key`, expecting `status`; the answer is read
/// and dropped.
pub async fn send(conn: &reqwest::Client, url: &str, key: &str, body: String, status: u16) {
    let r = conn
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), status);
    r.bytes().await.unwrap();
}
