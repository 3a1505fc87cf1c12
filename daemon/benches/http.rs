//! `POST /v1/quotes` throughput against `GET /healthz` on the same server in the
//! same run, 64 concurrent connections each. Client and server share the
//! machine, as they would with wrk on one host.
//!
//! Three servers in the one run: the daemon's own accept loop over plain
//! HTTP (connection limits and timeouts on: the figure), the same router
//! under bare `axum::serve` (no limits: what the limits cost), and the
//! daemon over HTTPS (a self-signed certificate; the clients trust it).
//!
//! This 2-core VM has noisy phases (one 5 s window of `/healthz` measured
//! anywhere from 40k to 67k req/s), so the loads alternate in rounds and
//! every comparison is a ratio taken per round; the median round ratio is
//! the figure.
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
const ROUNDS: usize = 7;

const QUOTE: &str = r#"{"tariff":{"name":"Basic","currency":"EUR","prices":[{"months":1,"price":"10.00"},{"months":12,"price":"100.00"}],"setup_fee":"5.00"},"months":1,"at":"2026-01-31T10:00:00Z"}"#;

/// A quote with no tariff: authenticated and parsed, refused before any rule.
const REFUSED: &str = r#"{"months":1,"at":"2026-01-31T10:00:00Z"}"#;

/// This process's CPU time (user + system, every thread) in microseconds,
/// from /proc/self/stat (in USER_HZ ticks, 100 a second on Linux).
fn cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name, which may hold spaces: state is the
    // first, utime and stime the 12th and 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 * 10_000.0
}

/// Requests per second over the measured window, the process's CPU time
/// per request in that window (client and server together: the client's
/// share is the same for every plain-HTTP server, so a difference is the
/// server's), and every request's latency.
async fn load(
    url: String,
    root: Option<reqwest::Certificate>,
    body: Option<&'static str>,
    status: u16,
) -> (f64, f64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (url, stop, done) = (url.clone(), stop.clone(), done.clone());
        let root = root.clone();
        tasks.push(tokio::spawn(async move {
            // One client per task: one keep-alive connection each.
            let mut client = reqwest::Client::builder().pool_max_idle_per_host(1);
            if let Some(root) = root {
                client = client
                    .use_rustls_tls()
                    .tls_built_in_root_certs(false)
                    .add_root_certificate(root);
            }
            let client = client.build().unwrap();
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
    let (t, cpu) = (Instant::now(), cpu_us());
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let count = done.load(Ordering::Relaxed) - start_count;
    let cpu_per_request = (cpu_us() - cpu) / count as f64;
    let rate = count as f64 / t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    (rate, cpu_per_request, all)
}

/// One server under test: its base URL and the root its clients trust.
struct Target {
    name: &'static str,
    base: String,
    root: Option<reqwest::Certificate>,
}

/// Each round's /healthz and quote rates for one target.
#[derive(Default)]
struct Rates {
    health: Vec<f64>,
    quotes: Vec<f64>,
    /// Process CPU microseconds per request.
    health_cpu: Vec<f64>,
    quote_cpu: Vec<f64>,
    health_latency: Vec<Duration>,
    quote_latency: Vec<Duration>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// "median (min-max)" of per-round ratios `a[i] / b[i]`.
fn ratios(a: &[f64], b: &[f64]) -> String {
    let mut r: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    r.sort_by(f64::total_cmp);
    format!(
        "{:.3} (rounds {:.3}-{:.3})",
        median(&r),
        r[0],
        r[r.len() - 1]
    )
}

/// A daemon on a fresh data directory and an ephemeral port, served by
/// `server::serve` (HTTPS when `tls` is given).
async fn start(tls: Option<rulesd::net::TlsFiles>) -> (Arc<Daemon>, String, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().join("data"));
    config.provider_key = Some("rk_bench_provider_key".into());
    config.tls = tls;
    let daemon = Arc::new(Daemon::build(&config).unwrap());
    let listener = server::bind(config.listen).await.unwrap();
    let base = format!("{}://{}", daemon.scheme(), listener.local_addr().unwrap());
    let d = daemon.clone();
    tokio::spawn(async move { server::serve(&d, listener, std::future::pending()).await });
    (daemon, base, data)
}

#[tokio::main]
async fn main() {
    let (daemon, base, _data) = start(None).await;

    // The same router under bare axum::serve: no connection limits.
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let bare = format!("http://{}", listener.local_addr().unwrap());
    let router = rulesd::http::router(daemon.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    // HTTPS: a second daemon with a self-signed certificate.
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let certs = tempfile::tempdir().unwrap();
    let files = rulesd::net::TlsFiles {
        cert: certs.path().join("cert.pem"),
        key: certs.path().join("key.pem"),
    };
    std::fs::write(&files.cert, made.cert.pem()).unwrap();
    std::fs::write(&files.key, made.signing_key.serialize_pem()).unwrap();
    let (_tls_daemon, tls_base, _tls_data) = start(Some(files)).await;
    let root = reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap();

    let targets = [
        Target {
            name: "server::serve, plain HTTP, limits on",
            base: base.clone(),
            root: None,
        },
        Target {
            name: "axum::serve, plain HTTP, no limits",
            base: bare,
            root: None,
        },
        Target {
            name: "server::serve, HTTPS, limits on",
            base: tls_base,
            root: Some(root),
        },
    ];
    println!(
        "connections: {CONNECTIONS}, {ROUNDS} rounds of {SECONDS} s per endpoint and server, client in the same process"
    );
    let mut rates: Vec<Rates> = targets.iter().map(|_| Rates::default()).collect();
    for round in 1..=ROUNDS {
        // Alternate the order, so no server always runs right after the
        // same other one.
        let mut order: Vec<usize> = (0..targets.len()).collect();
        if round % 2 == 0 {
            order.reverse();
        }
        for i in order {
            let (target, rates) = (&targets[i], &mut rates[i]);
            let (health, health_cpu, h) = load(
                format!("{}/healthz", target.base),
                target.root.clone(),
                None,
                200,
            )
            .await;
            let (quotes, quote_cpu, q) = load(
                format!("{}/v1/quotes", target.base),
                target.root.clone(),
                Some(QUOTE),
                200,
            )
            .await;
            println!(
                "round {round}: {:<38} GET /healthz {health:>7.0} req/s ({health_cpu:.0} us CPU/req), POST /v1/quotes {quotes:>7.0} req/s ({quote_cpu:.0} us CPU/req), ratio {:.2}",
                target.name,
                quotes / health
            );
            rates.health.push(health);
            rates.quotes.push(quotes);
            rates.health_cpu.push(health_cpu);
            rates.quote_cpu.push(quote_cpu);
            rates.health_latency.extend(h);
            rates.quote_latency.extend(q);
        }
    }
    for (target, rates) in targets.iter().zip(&mut rates) {
        rates.health_latency.sort();
        rates.quote_latency.sort();
        println!("{}:", target.name);
        println!(
            "  GET /healthz     median {:>7.0} req/s  p50 {:?} p99 {:?}",
            median(&rates.health),
            percentile(&rates.health_latency, 0.5),
            percentile(&rates.health_latency, 0.99)
        );
        println!(
            "  POST /v1/quotes  median {:>7.0} req/s  p50 {:?} p99 {:?}",
            median(&rates.quotes),
            percentile(&rates.quote_latency, 0.5),
            percentile(&rates.quote_latency, 0.99)
        );
        println!(
            "  process CPU per request: /healthz {:.0} us, quotes {:.0} us (medians of rounds)",
            median(&rates.health_cpu),
            median(&rates.quote_cpu)
        );
        println!(
            "  ratio quotes/healthz: median of rounds {}",
            ratios(&rates.quotes, &rates.health)
        );
    }
    println!(
        "limits on / no limits, quotes: {}; /healthz: {}",
        ratios(&rates[0].quotes, &rates[1].quotes),
        ratios(&rates[0].health, &rates[1].health)
    );
    println!(
        "process CPU per request, limits on / no limits (client included): quotes {}; /healthz {}",
        ratios(&rates[0].quote_cpu, &rates[1].quote_cpu),
        ratios(&rates[0].health_cpu, &rates[1].health_cpu)
    );
    println!(
        "HTTPS / plain HTTP, quotes: {}; /healthz: {}",
        ratios(&rates[2].quotes, &rates[0].quotes),
        ratios(&rates[2].health, &rates[0].health)
    );

    // Where a quote's cost goes: the same body to a route that does not
    // exist (HTTP and routing only), and a quote refused before the rule
    // (authentication, JSON parsing and a problem document, no rule call).
    let (unrouted, _, _) = load(format!("{base}/v1/nowhere"), None, Some(QUOTE), 404).await;
    let (refused, _, _) = load(format!("{base}/v1/quotes"), None, Some(REFUSED), 422).await;
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
