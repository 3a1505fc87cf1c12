//! Billing end to end.
//!
//! 1. Orders per second over real HTTP (127.0.0.1, ephemeral port, 64
//!    concurrent keep-alive connections, reqwest client in the same process):
//!    each request is `POST /v1/services`, i.e. policy checks, the pricing rule
//!    in wasm and one durable group-committed write of the service, its ledger
//!    lines and the decision receipt. In the same run, the store's raw
//!    acknowledged-write rate at 64 concurrent writers, measured the way
//!    `benches/writes.rs` does (a client account per write through the
//!    in-process API), and the ratio of the two.
//! 2. The daily job over 100,000 services: the parent builds the store through
//!    the in-process API, then re-executes this binary, which opens the store
//!    with `Daemon::build` (test clock, durable) and times one
//!    `App::run_daily_jobs(day)`, so the peak memory it reports (VmHWM) is the
//!    job's and not the setup's; then the ordinary day after it.
//!
//! 3. Tariff changes next to renewals over HTTP in one run (64 connections,
//!    each on services of its own so nothing conflicts): a change
//!    (`POST /v1/services/{id}/change-tariff`, add-funds-or-refund, toggling
//!    between two tariffs) costs one rule call and one write, like a renewal.
//!
//! cargo bench -p rulesd --bench billing [-- orders | -- daily | -- changes]

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

use chrono::{DateTime, NaiveDate, Utc};
use rulesd::app::{App, Caller};
use rulesd::billing::model::OrderRequest;
use rulesd::domain::ids::{AccountId, TariffId};
use rulesd::domain::tariff::{Tariff, TariffSpec};
use rulesd::ledger::NewAdjustment;
use rulesd::ops::clock::ClockState;
use rulesd::server::{Config, Daemon};
use rulesd::tenancy::accounts::NewClient;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use std::time::{Duration, Instant};

/// Set in the re-executed child that runs the daily job on the store in this directory.
const CHILD_ENV: &str = "RULESD_BENCH_DAILY_JOB_DIR";

fn main() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        runtime().block_on(daily_child(Path::new(&dir)));
        return;
    }
    // `-- orders` or `-- daily` runs one part only.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parts = ["orders", "daily", "changes"];
    let only = |part: &str| {
        !args.iter().any(|a| parts.contains(&a.as_str())) || args.iter().any(|a| a == part)
    };
    if only("orders") {
        runtime().block_on(orders());
    }
    if only("changes") {
        runtime().block_on(changes());
    }
    if only("daily") {
        daily_parent();
    }
}

// ---------------------------------------------------------------------------
// 1. Orders over HTTP against raw acknowledged writes

fn tariff_spec(value: Value) -> TariffSpec {
    serde_json::from_value(value).unwrap()
}

async fn post(client: &reqwest::Client, url: String, body: &Value) -> Value {
    post_json(client, KEY, url, body).await
}

fn order_tariff() -> Value {
    json!({"name": "Basic", "currency": "EUR",
           "prices": [{"months": 1, "price": "10.00"}, {"months": 12, "price": "100.00"}],
           "setup_fee": "5.00"})
}

/// Orders over HTTP with `clients` client accounts, the connections taking
/// them in turn.
async fn http_orders(clients: usize) -> Load {
    let served = serve_with(|_| {}).await;
    let setup = reqwest::Client::new();
    let tariff = post(
        &setup,
        format!("{}/v1/tariffs", served.base),
        &order_tariff(),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..clients {
        let c = post(
            &setup,
            format!("{}/v1/clients", served.base),
            &json!({"name": format!("client {i}")}),
        )
        .await;
        ids.push(c["id"].as_u64().unwrap());
    }
    let ids = Arc::new(ids);
    let url = Arc::new(format!("{}/v1/services", served.base));
    let conns = connections();
    let load = drive(move |worker, i| {
        let (ids, url, conns) = (ids.clone(), url.clone(), conns.clone());
        async move {
            let client = ids[(worker + i * CONNECTIONS) % ids.len()];
            let body = format!(r#"{{"client_id":{client},"tariff_id":{tariff},"months":1}}"#);
            send(&conns[worker], url.as_str(), KEY, body, 201).await;
        }
    })
    .await;
    served.stop().await;
    load
}

/// The same orders through the in-process API (no HTTP, no client).
async fn inprocess_orders(clients: usize) -> Load {
    let served = serve_with(|_| {}).await;
    let app = served.daemon.app.clone();
    let caller = app.authenticate(Some("rk_bench_provider_key")).unwrap();
    let tariff = created::<Tariff, _>(
        app.create_tariff(caller, tariff_spec(order_tariff()), None)
            .await,
    )
    .id;
    let ids = Arc::new(create_clients(&app, caller, clients).await);
    let a = app.clone();
    let load = drive(move |worker, i| {
        let (app, ids) = (a.clone(), ids.clone());
        async move {
            let req = OrderRequest {
                client_id: AccountId(ids[(worker + i * CONNECTIONS) % ids.len()]),
                tariff_id: tariff,
                months: 1,
                addons: vec![],
                domain: None,
                count: 1,
                control_panel: None,
            };
            app.order(caller, req, None).await.unwrap();
        }
    })
    .await;
    drop(app);
    served.stop().await;
    load
}

/// Raw acknowledged writes at 64 writers, as `benches/writes.rs` measures
/// them: each creates a client account through the in-process API.
async fn raw_writes() -> Load {
    let served = serve_with(|_| {}).await;
    let app = served.daemon.app.clone();
    let caller = app.authenticate(Some("rk_bench_provider_key")).unwrap();
    let a = app.clone();
    let load = drive(move |worker, i| {
        let app = a.clone();
        async move {
            let req = NewClient {
                name: format!("client {worker}-{i}"),
                reseller_id: None,
                group_id: None,
                credit_limit: None,
            };
            app.create_client(caller, req, None).await.unwrap();
        }
    })
    .await;
    drop(app);
    served.stop().await;
    load
}

async fn orders() {
    println!(
        "== orders vs raw acknowledged writes: {CONNECTIONS} concurrent, {} s warm-up, {SECONDS} s measured, durable store",
        WARMUP.as_secs()
    );
    let raw = raw_writes().await;
    print_load("raw writes (create client, in-process)", &raw);
    let mut cells = Vec::new();
    for clients in [8, 1000] {
        let load = http_orders(clients).await;
        print_load(
            &format!("POST /v1/services over HTTP, {clients} clients"),
            &load,
        );
        cells.push((clients, load.rate));
    }
    let inproc = inprocess_orders(1000).await;
    print_load("App::order in-process, 1000 clients", &inproc);
    for (clients, rate) in cells {
        println!(
            "ratio orders/raw writes ({clients} clients, HTTP): {:.2}",
            rate / raw.rate
        );
    }
    println!(
        "ratio orders/raw writes (1000 clients, in-process): {:.2}",
        inproc.rate / raw.rate
    );
}

// ---------------------------------------------------------------------------
// 3. Tariff changes next to renewals

/// Services each connection works on, in turn.
const PER_WORKER: usize = 16;

/// `CONNECTIONS * PER_WORKER` one-month services of one client on `tariff`.
async fn services_for(base: &str, setup: &reqwest::Client, tariff: u64) -> Arc<Vec<u64>> {
    let client = post(
        setup,
        format!("{base}/v1/clients"),
        &json!({"name": "bench"}),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..CONNECTIONS * PER_WORKER {
        let v = post(
            setup,
            format!("{base}/v1/services"),
            &json!({"client_id": client, "tariff_id": tariff, "months": 1}),
        )
        .await;
        ids.push(v["services"][0]["id"].as_u64().unwrap());
    }
    Arc::new(ids)
}

/// Each worker's `i`-th request goes to its own service `i % PER_WORKER`
/// with `body(round)`, `round` counting that service's requests.
async fn drive_services(
    base: &str,
    ids: Arc<Vec<u64>>,
    path: &'static str,
    body: Arc<dyn Fn(usize) -> String + Send + Sync>,
) -> Load {
    let conns = connections();
    let base = Arc::new(base.to_string());
    drive(move |worker, i| {
        let (ids, conns, base, body) = (ids.clone(), conns.clone(), base.clone(), body.clone());
        async move {
            let id = ids[worker * PER_WORKER + i % PER_WORKER];
            let url = format!("{base}/v1/services/{id}/{path}");
            send(&conns[worker], &url, KEY, body(i / PER_WORKER), 200).await;
        }
    })
    .await
}

async fn changes() {
    println!(
        "== tariff changes vs renewals over HTTP: {CONNECTIONS} concurrent, {} s warm-up, {SECONDS} s measured, durable store",
        WARMUP.as_secs()
    );
    let served = serve_with(|_| {}).await;
    let setup = reqwest::Client::new();
    let base = served.base.clone();
    let tariff = |name: &str, price: &str| {
        json!({"name": name, "currency": "EUR", "change_policy": "add-funds-or-refund",
               "prices": [{"months": 1, "price": price}]})
    };
    let basic = post(
        &setup,
        format!("{base}/v1/tariffs"),
        &tariff("Basic", "10.00"),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    let pro = post(
        &setup,
        format!("{base}/v1/tariffs"),
        &tariff("Pro", "20.00"),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    let renewed = services_for(&base, &setup, basic).await;
    let changed = services_for(&base, &setup, basic).await;
    let renew = drive_services(&base, renewed, "renew", Arc::new(|_| "{}".to_string())).await;
    print_load("POST /v1/services/{id}/renew", &renew);
    let change = drive_services(
        &base,
        changed,
        "change-tariff",
        Arc::new(move |round| {
            let to = if round % 2 == 0 { pro } else { basic };
            format!(r#"{{"tariff_id":{to}}}"#)
        }),
    )
    .await;
    print_load("POST /v1/services/{id}/change-tariff", &change);
    println!("ratio changes/renewals: {:.2}", change.rate / renew.rate);
    served.stop().await;
}

// ---------------------------------------------------------------------------
// 2. The daily job over 100,000 services

/// Period services: expire on the job day and get suspended.
const PERIOD_SERVICES: usize = 95_000;
/// Daily-charged services: priced through the rule on the job day.
const DAILY_SERVICES: usize = 5_000;
/// Services per order (one order, one rule call, `count` services).
const PER_ORDER: usize = 50;
/// Clients with daily services that have no funds: suspended as unpaid.
const UNFUNDED_DAILY_CLIENTS: usize = 10;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Period services are ordered a month before the job day.
fn ordered_at() -> DateTime<Utc> {
    at("2026-06-01T09:00:00Z")
}
/// Daily services are ordered the day before (paid until the job day).
fn eve() -> DateTime<Utc> {
    at("2026-06-30T12:00:00Z")
}
fn job_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
}

/// A fresh mutation's answer read as `T` (the bench sends no
/// Idempotency-Key, so nothing is replayed).
fn created<T: serde::de::DeserializeOwned, W: serde::Serialize>(
    r: Result<rulesd::app::Written<W>, rulesd::app::ApiError>,
) -> T {
    r.unwrap().json().unwrap()
}

/// `f(i)` for every `i` in `0..n`, 64 at a time; results in order.
async fn each<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send,
{
    let mut tasks = Vec::new();
    for w in 0..CONNECTIONS {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut i = w;
            while i < n {
                out.push((i, f(i).await));
                i += CONNECTIONS;
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, v)| v).collect()
}

async fn create_clients(app: &Arc<App>, caller: Caller, n: usize) -> Vec<u64> {
    let app = app.clone();
    each(n, move |i| {
        let app = app.clone();
        async move {
            let req = NewClient {
                name: format!("client {i}"),
                reseller_id: None,
                group_id: None,
                credit_limit: None,
            };
            created::<Value, _>(app.create_client(caller, req, None).await)["id"]
                .as_u64()
                .unwrap()
        }
    })
    .await
}

async fn order_many(app: &Arc<App>, caller: Caller, clients: &[u64], tariff: u64) {
    let app = app.clone();
    let clients = Arc::new(clients.to_vec());
    each(clients.len(), move |i| {
        let (app, clients) = (app.clone(), clients.clone());
        async move {
            let req = OrderRequest {
                client_id: AccountId(clients[i]),
                tariff_id: TariffId(tariff),
                months: 1,
                addons: vec![],
                domain: None,
                count: PER_ORDER as u32,
                control_panel: None,
            };
            app.order(caller, req, None).await.unwrap();
        }
    })
    .await;
}

/// Build the store (scratch mode: the setup is not what is measured).
async fn daily_setup(dir: &Path) {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.to_path_buf());
    config.provider_key = Some(KEY.into());
    config.test_clock = Some(ordered_at());
    config.durable = false;
    let daemon = Daemon::build(&config).unwrap();
    let app = daemon.app.clone();
    let caller = app.authenticate(Some("rk_bench_provider_key")).unwrap();
    let t = Instant::now();
    let period = created::<Tariff, _>(
        app.create_tariff(
            caller,
            tariff_spec(json!({"name": "Monthly", "currency": "EUR",
                "prices": [{"months": 1, "price": "10.00"}, {"months": 12, "price": "100.00"}],
                "simultaneous_orders": PER_ORDER})),
            None,
        )
        .await,
    );
    let daily = created::<Tariff, _>(
        app.create_tariff(
            caller,
            tariff_spec(json!({"name": "Daily", "currency": "EUR",
                "prices": [{"months": 1, "price": "15.00"}],
                "daily": {"price": "0.50"},
                "simultaneous_orders": PER_ORDER})),
            None,
        )
        .await,
    );
    let period_clients = PERIOD_SERVICES / PER_ORDER;
    let daily_clients = DAILY_SERVICES / PER_ORDER;
    let clients = create_clients(&app, caller, period_clients + daily_clients).await;
    let (period_clients, daily_clients) = clients.split_at(period_clients);
    order_many(&app, caller, period_clients, period.id.get()).await;
    println!(
        "setup: {} clients, {PERIOD_SERVICES} period services ordered on {} in {:.1?}",
        clients.len(),
        ordered_at().date_naive(),
        t.elapsed()
    );
    // A month passes: the daily job runs for each day (nothing is due yet).
    let t = Instant::now();
    let moved = app
        .set_clock(&caller, ClockState { now: eve() })
        .await
        .unwrap();
    println!(
        "setup: clock moved to {}: the daily job ran {} days in {:.1?}",
        eve(),
        moved.daily.days.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let funded = &daily_clients[UNFUNDED_DAILY_CLIENTS..];
    {
        let app = app.clone();
        let funded = Arc::new(funded.to_vec());
        each(funded.len(), move |i| {
            let (app, funded) = (app.clone(), funded.clone());
            async move {
                let req = NewAdjustment {
                    account_id: AccountId(funded[i]),
                    currency: "EUR".into(),
                    amount: "-1000.00".parse().unwrap(),
                    description: "payment received".into(),
                };
                app.adjust(caller, req, None).await.unwrap();
            }
        })
        .await;
    }
    order_many(&app, caller, daily_clients, daily.id.get()).await;
    println!(
        "setup: {DAILY_SERVICES} daily services ordered on {} ({} of their clients without funds) in {:.1?}",
        eve().date_naive(),
        UNFUNDED_DAILY_CLIENTS,
        t.elapsed()
    );
    app.store.flush().unwrap();
    drop(app);
    drop(daemon);
}

fn daily_parent() {
    println!(
        "\n== daily job over {} services (store built by the parent; the job runs in a child process)",
        PERIOD_SERVICES + DAILY_SERVICES
    );
    let data = tempfile::tempdir().unwrap();
    {
        let rt = runtime();
        rt.block_on(daily_setup(data.path()));
    }
    let size = std::fs::metadata(data.path().join(rulesd::store::FILE_NAME))
        .unwrap()
        .len();
    println!("setup: store file {:.0} MiB", size as f64 / 1048576.0);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, data.path())
        .status()
        .unwrap();
    assert!(status.success(), "the daily-job child failed: {status}");
}

async fn daily_child(dir: &Path) {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.to_path_buf());
    // The clock stays on the eve: the daemon's own start-up check of the
    // daily job finds nothing to do, and the job for the next day is the
    // call timed below.
    config.test_clock = Some(eve());
    let daemon = Daemon::build(&config).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let app = daemon.app.clone();
    let rss_before = proc_status_kib("VmRSS");
    let hwm_before = proc_status_kib("VmHWM");
    let t = Instant::now();
    let report = app.run_daily_jobs(job_day()).await.unwrap();
    let elapsed = t.elapsed();
    let hwm_after = proc_status_kib("VmHWM");
    assert_eq!(report.days, vec![job_day()]);
    println!(
        "run_daily_jobs({}): {:.2?}  charged {}  suspended {}  failed {}  ({:.0} services/s)",
        job_day(),
        elapsed,
        report.charged,
        report.suspended,
        report.failed,
        (report.charged + report.suspended) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "memory (child): VmRSS before the job {}, VmHWM before {}, VmHWM after {} (job adds {})",
        mib(rss_before),
        mib(hwm_before),
        mib(hwm_after),
        mib(hwm_after.saturating_sub(rss_before))
    );
    // The ordinary day after: 95,500 services now wait suspended, of which
    // only the 500 unpaid daily ones need looking at (and the 4,500 paid
    // daily ones are charged again).
    let next = job_day().succ_opt().unwrap();
    let t = Instant::now();
    let report = app.run_daily_jobs(next).await.unwrap();
    println!(
        "run_daily_jobs({next}), the day after: {:.2?}  charged {}  suspended {}",
        t.elapsed(),
        report.charged,
        report.suspended
    );
}
