//! Reseller wholesale billing.
//!
//! 1. Orders per second over HTTP at 64 connections, a provider's client's
//!    order next to a reseller's client's in one run (same daemon, rounds
//!    alternating): the reseller's costs one more rule call (the wholesale
//!    rule, inside the writer's transaction) and its shadow lines.
//! 2. The daily bill job over many shadow lines of one day: the parent
//!    writes the index rows of 100,000 and then 1,000,000 shadow lines (10
//!    resellers, three resource types each) straight into a store, then
//!    re-executes this binary, which opens it with `Daemon::build` and times
//!    one `App::bill_day`, so the peak memory it reports (VmHWM) is the
//!    job's. The job keeps a sum per reseller, currency and type; what the
//!    process gains is the store's page cache (`--store-cache-mib`), shown
//!    at 64 MiB and at the default.
//!
//! cargo bench -p rulesd --bench wholesale [-- orders | -- bills]

mod common;
#[path = "common/load.rs"]
mod load;
#[path = "common/memory.rs"]
mod memory;
#[path = "common/served.rs"]
mod served;
use load::{CONNECTIONS, Load, SECONDS, WARMUP, connections, drive, post_json, print_load, send};
use memory::{mib, proc_status_kib};
use served::{KEY, runtime, serve_with};

use chrono::NaiveDate;
use rulesd::app::ratelimit::RateLimit;
use rulesd::server::{Config, Daemon};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 4;
/// Set in the re-executed child: the store's directory and its line count.
const CHILD_ENV: &str = "RULESD_BENCH_BILLS_DIR";
const LINES_ENV: &str = "RULESD_BENCH_BILLS_LINES";
const CACHE_ENV: &str = "RULESD_BENCH_BILLS_CACHE_MIB";
const RESELLERS: u64 = 10;

fn main() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        let lines = std::env::var(LINES_ENV).unwrap().parse().unwrap();
        let cache = std::env::var(CACHE_ENV).unwrap().parse().unwrap();
        runtime().block_on(bills_child(Path::new(&dir), lines, cache));
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parts = ["orders", "bills"];
    let only = |part: &str| {
        !args.iter().any(|a| parts.contains(&a.as_str())) || args.iter().any(|a| a == part)
    };
    if only("orders") {
        runtime().block_on(orders());
    }
    if only("bills") {
        // With a 64 MiB page cache, then redb's default (1 GiB): what the
        // job adds to the process is the pages it read, up to the cache.
        for (lines, cache) in [(100_000, 64), (1_000_000, 64), (1_000_000, 1024)] {
            bills_parent(lines, cache);
        }
    }
}

// ---------------------------------------------------------------------------
// 1. A reseller's client's orders next to a provider's client's

fn plan() -> Value {
    json!({"name": "Web", "currency": "EUR",
           "prices": [{"months": 1, "price": "5.00"}], "setup_fee": "2.00",
           "consumes": [{"resource": "disk-space", "quantity": 10}, {"resource": "mailbox", "quantity": 5}]})
}

/// A tariff and 1,000 clients made with `key` (the provider's or a
/// reseller's): the order body each worker sends in turn.
async fn seller(base: &str, key: &str) -> Arc<Vec<String>> {
    let http = reqwest::Client::new();
    let tariff = post_json(&http, key, format!("{base}/v1/tariffs"), &plan()).await["id"].clone();
    let mut bodies = Vec::new();
    for i in 0..1000 {
        let c = post_json(
            &http,
            key,
            format!("{base}/v1/clients"),
            &json!({"name": format!("c{i}")}),
        )
        .await;
        bodies.push(format!(
            r#"{{"client_id":{},"tariff_id":{tariff},"months":1}}"#,
            c["id"]
        ));
    }
    Arc::new(bodies)
}

async fn orders_of(base: &str, key: &str, bodies: Arc<Vec<String>>) -> Load {
    let conns = connections();
    let (url, key) = (
        Arc::new(format!("{base}/v1/services")),
        Arc::new(key.to_string()),
    );
    drive(move |worker, i| {
        let (bodies, url, key, conns) = (bodies.clone(), url.clone(), key.clone(), conns.clone());
        async move {
            let body = bodies[(worker + i * CONNECTIONS) % bodies.len()].clone();
            send(&conns[worker], url.as_str(), key.as_str(), body, 201).await;
        }
    })
    .await
}

async fn orders() {
    println!(
        "== orders: a provider's client vs a reseller's client, {CONNECTIONS} connections, {} s warm-up, {SECONDS} s measured, durable store, {ROUNDS} rounds alternating",
        WARMUP.as_secs()
    );
    // A reseller's key is held to 2,000 requests/s by default: the bench
    // measures the work, not the limit.
    let served = serve_with(|config| {
        config.options.reseller_rate = RateLimit::provider_default();
    })
    .await;
    let base = served.base.clone();
    let http = reqwest::Client::new();
    let prices = json!({"currency": "EUR", "service_base": "1.00", "resources": [
        {"resource": "disk-space", "unit": "GiB", "price": "0.10"},
        {"resource": "mailbox", "unit": "mailbox", "price": "0.05"}]});
    let r = http
        .put(format!("{base}/v1/wholesale-prices"))
        .bearer_auth(KEY)
        .json(&prices)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let reseller = post_json(
        &http,
        KEY,
        format!("{base}/v1/resellers"),
        &json!({"name": "acme"}),
    )
    .await;
    let reseller_key = reseller["api_key"].as_str().unwrap().to_string();
    let provider_bodies = seller(&base, KEY).await;
    let reseller_bodies = seller(&base, &reseller_key).await;
    let (mut provider, mut resold) = (Vec::new(), Vec::new());
    // The store grows as it goes: who goes first alternates.
    for round in 0..ROUNDS {
        for resellers_turn in [round % 2 == 1, round % 2 == 0] {
            if resellers_turn {
                let r = orders_of(&base, &reseller_key, reseller_bodies.clone()).await;
                print_load("reseller's client: POST /v1/services", &r);
                resold.push(r.rate);
            } else {
                let p = orders_of(&base, KEY, provider_bodies.clone()).await;
                print_load("provider's client: POST /v1/services", &p);
                provider.push(p.rate);
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "mean: provider's {:.0}/s, reseller's {:.0}/s, ratio {:.2}",
        mean(&provider),
        mean(&resold),
        mean(&resold) / mean(&provider)
    );
    served.stop().await;
}

// ---------------------------------------------------------------------------
// 2. The daily bill job over many shadow lines

fn bill_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 5).unwrap()
}

/// Write `lines` shadow lines of `bill_day()` into a new store in `dir`,
/// as the index the bill job reads holds them.
fn write_shadows(dir: &Path, lines: u64) {
    use chrono::Datelike;
    let store = rulesd::store::Store::open(dir).unwrap();
    let day = bill_day().num_days_from_ce() as u32;
    let record = br#"{"currency":"EUR","retail":"5.00","parts":[{"resource":"service","amount":"1.00"},{"resource":"disk-space","amount":"1.00"},{"resource":"mailbox","amount":"0.25"}]}"#;
    let per_txn = 100_000;
    let mut id = 1u64;
    while id <= lines {
        let txn = store.begin_write().unwrap();
        {
            let mut t = txn.open_table(rulesd::store::SHADOWS_BY_DAY).unwrap();
            for _ in 0..per_txn.min(lines - id + 1) {
                t.insert((day, 1 + id % RESELLERS, id), record.as_slice())
                    .unwrap();
                id += 1;
            }
        }
        txn.commit().unwrap();
    }
    store.flush().unwrap();
}

fn bills_parent(lines: u64, cache_mib: usize) {
    println!(
        "\n== the daily bill job over {lines} shadow lines of one day ({RESELLERS} resellers, 3 types), --store-cache-mib {cache_mib}"
    );
    let data = tempfile::tempdir().unwrap();
    let t = Instant::now();
    write_shadows(data.path(), lines);
    let size = std::fs::metadata(data.path().join(rulesd::store::FILE_NAME))
        .unwrap()
        .len();
    println!(
        "setup: {:.1?}, store file {:.0} MiB",
        t.elapsed(),
        size as f64 / 1048576.0
    );
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, data.path())
        .env(LINES_ENV, lines.to_string())
        .env(CACHE_ENV, cache_mib.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "the bill-job child failed: {status}");
}

async fn bills_child(dir: &Path, lines: u64, cache_mib: usize) {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.to_path_buf());
    config.store_cache_mib = cache_mib;
    // On the day itself: the daemon's own start-up run of the daily job
    // bills the day before, not this one.
    config.test_clock = Some(bill_day().and_hms_opt(12, 0, 0).unwrap().and_utc());
    let daemon = Daemon::build(&config).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let app = daemon.app.clone();
    let rss_before = proc_status_kib("VmRSS");
    let t = Instant::now();
    let bills = app.bill_day(bill_day()).await.unwrap();
    let elapsed = t.elapsed();
    let hwm_after = proc_status_kib("VmHWM");
    assert_eq!(bills, RESELLERS * 3);
    println!(
        "bill_day: {elapsed:.2?} for {lines} lines ({:.0} lines/s), {bills} bills",
        lines as f64 / elapsed.as_secs_f64()
    );
    println!(
        "memory (child): VmRSS before the job {}, VmHWM after {} (job adds {})",
        mib(rss_before),
        mib(hwm_after),
        mib(hwm_after.saturating_sub(rss_before))
    );
    let t = Instant::now();
    assert_eq!(app.bill_day(bill_day()).await.unwrap(), 0);
    println!("bill_day again: {:.2?}, 0 bills (billed once)", t.elapsed());
}
