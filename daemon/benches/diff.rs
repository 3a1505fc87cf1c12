//! `diff::diff` over a large history: stores of 250,000 and 1,000,000 pricing
//! receipts, each re-run through a candidate module in a child process (so
//! the peak memory it reports, VmHWM, is the diff's and not the setup's).
//!
//! The receipts are real: a short in-process history (orders, renewals on
//! time and late, daily charges, expiries over two months, several tariffs)
//! is made through the API with the default rules, and its receipts are
//! copied, with new ids, into the big stores in large write transactions.
//!
//! Candidates: the embedded default module (the one that made the receipts:
//! nothing changes, every decision is re-run and compared), and, if cargo
//! can build it, the test fixture rule with `list-price` (the listed price of
//! the period, one line: nearly every decision changes). A control run does
//! the same per-receipt work on the file opened with a 16 MiB redb page
//! cache, to tell the cache's memory from the diff's own.
//!
//! cargo bench -p rulesd --bench diff

#[path = "common/memory.rs"]
mod memory;
use memory::{mib, proc_status_kib};

use chrono::{DateTime, Utc};
use rulesd::app::{App, Caller};
use rulesd::billing::model::{OrderRequest, Ordered, RenewRequest};
use rulesd::decide::{Receipt, Subject};
use rulesd::domain::accounts::Account;
use rulesd::domain::ids::{AccountId, ReceiptId, ServiceId, TariffId};
use rulesd::domain::tariff::{Tariff, TariffSpec};
use rulesd::ledger::NewAdjustment;
use rulesd::ops::clock::ClockState;
use rulesd::ops::diff::{self, DiffOptions};
use rulesd::rules::{DEFAULT_MODULE, DEFAULT_MODULE_NAME};
use rulesd::runtime::{Limits, ModuleSource, Runtime, block_on};
use rulesd::server::{Config, Daemon};
use rulesd::store::{self, RECEIPTS, Store};
use rulesd::tenancy::accounts::NewClient;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

const SIZES: [u64; 2] = [250_000, 1_000_000];
/// Receipts per write transaction when filling a store.
const TXN: u64 = 50_000;
const CHILD_DIR: &str = "RULESD_BENCH_DIFF_DIR";
const CHILD_CANDIDATE: &str = "RULESD_BENCH_DIFF_CANDIDATE";

fn main() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        let candidate = std::env::var(CHILD_CANDIDATE).unwrap();
        child(Path::new(&dir), &candidate);
        return;
    }
    let t = Instant::now();
    let templates = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(history());
    println!(
        "history: {} real receipts from the API with the default rules in {:.2?}",
        templates.len(),
        t.elapsed()
    );
    let work = tempfile::tempdir().unwrap();
    let mut candidates = vec![("default".to_string(), "default (embedded)".to_string())];
    match list_price_fixture(work.path()) {
        Ok(path) => candidates.push((
            path.display().to_string(),
            "fixture list-price (changes prices)".into(),
        )),
        Err(e) => println!("skipping the price-changing candidate: {e}"),
    }
    for n in SIZES {
        let dir = work.path().join(format!("store-{n}"));
        let t = Instant::now();
        fill(&dir, &templates, n);
        let size = std::fs::metadata(dir.join(store::FILE_NAME)).unwrap().len();
        println!(
            "\nstore of {n} receipts written in {:.1?} ({:.0} MiB)",
            t.elapsed(),
            size as f64 / 1048576.0
        );
        let control = ("control".to_string(), "control: the same work as diff with the default module, database opened with a 16 MiB redb cache".to_string());
        for (candidate, label) in candidates.iter().chain([&control]) {
            println!("candidate: {label}");
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .env(CHILD_DIR, &dir)
                .env(CHILD_CANDIDATE, candidate)
                .status()
                .unwrap();
            assert!(status.success(), "the diff child failed: {status}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

// ---------------------------------------------------------------------------
// A short real history, for its receipts

const KEY: &str = "rk_bench_provider_key";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A fresh mutation's answer read as `T` (the bench sends no
/// Idempotency-Key, so nothing is replayed).
fn created<T: serde::de::DeserializeOwned, W: serde::Serialize>(
    r: Result<rulesd::app::Written<W>, rulesd::app::ApiError>,
) -> T {
    r.unwrap().json().unwrap()
}

async fn tariff(app: &App, caller: Caller, spec: Value) -> TariffId {
    let spec: TariffSpec = serde_json::from_value(spec).unwrap();
    created::<Tariff, _>(app.create_tariff(caller, spec, None).await).id
}

async fn order(
    app: &App,
    caller: Caller,
    client: AccountId,
    tariff: TariffId,
    months: u32,
) -> ServiceId {
    let req = OrderRequest {
        client_id: client,
        tariff_id: tariff,
        months,
        addons: vec![],
        domain: None,
        count: 1,
        control_panel: None,
    };
    created::<Ordered, _>(app.order(caller, req, None).await).services[0].id
}

/// Two months of a small shop through the API; returns its receipts.
async fn history() -> Vec<Receipt> {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some(KEY.into());
    config.test_clock = Some(at("2026-01-05T09:00:00Z"));
    config.durable = false;
    let daemon = Daemon::build(&config).unwrap();
    let app = daemon.app.clone();
    let caller = app.authenticate(Some("rk_bench_provider_key")).unwrap();
    let tariffs = [
        tariff(&app, caller, json!({"name": "Hosting", "currency": "EUR",
            "prices": [{"months": 1, "price": "10.00"}, {"months": 3, "price": "27.00"}, {"months": 12, "price": "100.00"}],
            "setup_fee": "5.00",
            "addons": [{"resource": "disk-space", "unit": "GB", "included": 10, "maximum": 100, "price_per_unit": "0.20"}]})).await,
        tariff(&app, caller, json!({"name": "Calendar", "currency": "EUR",
            "prices": [{"months": 1, "price": "31.00"}, {"months": 3, "price": "90.00"}],
            "calendar": {"pro_rata_day": 15}})).await,
        tariff(&app, caller, json!({"name": "Late fee", "currency": "EUR",
            "prices": [{"months": 1, "price": "3.00"}, {"months": 12, "price": "30.00"}],
            "late_fee": {"kind": "percent", "percent": "50"}})).await,
        tariff(&app, caller, json!({"name": "From suspension", "currency": "EUR",
            "prices": [{"months": 1, "price": "5.00"}],
            "late_fee": {"kind": "renew-from-suspension"}})).await,
    ];
    let daily = [
        tariff(
            &app,
            caller,
            json!({"name": "Daily", "currency": "EUR",
            "prices": [{"months": 1, "price": "3.00"}], "daily": {"price": "0.10"}}),
        )
        .await,
        tariff(
            &app,
            caller,
            json!({"name": "Daily from period", "currency": "EUR",
            "prices": [{"months": 1, "price": "3.00"}], "daily": {"cost_from_period": true}}),
        )
        .await,
    ];
    let mut clients = Vec::new();
    for i in 0..20 {
        let req = NewClient {
            name: format!("client {i}"),
            reseller_id: None,
            group_id: None,
            credit_limit: None,
        };
        let id = created::<Account, _>(app.create_client(caller, req, None).await).id;
        let fund = NewAdjustment {
            account_id: id,
            currency: "EUR".into(),
            amount: "-500.00".parse().unwrap(),
            description: "payment received".into(),
        };
        app.adjust(caller, fund, None).await.unwrap();
        clients.push(id);
    }
    let mut period = Vec::new();
    let mut n = 0;
    for day in 0..60i64 {
        let now = at("2026-01-05T09:00:00Z") + chrono::Duration::days(day);
        if day > 0 {
            app.set_clock(&caller, ClockState { now }).await.unwrap();
        }
        // A few orders every third day, daily-charged ones in the first week.
        if day % 3 == 0 {
            for k in 0..4 {
                n += 1;
                let client = clients[n % clients.len()];
                let (t, months) = (tariffs[n % tariffs.len()], [1, 1, 3, 12][k]);
                let months = if t == tariffs[1] || t == tariffs[3] {
                    1
                } else {
                    months
                };
                period.push(order(&app, caller, client, t, months).await);
            }
        }
        if day < 7 {
            let client = clients[day as usize % clients.len()];
            order(&app, caller, client, daily[day as usize % 2], 1).await;
        }
        // Renew some services: on time, or late (suspended meanwhile).
        for (i, &service) in period.iter().enumerate() {
            let s = app.get_service(&caller, service).unwrap();
            let due = (s.expires - now.date_naive()).num_days();
            if (i % 3 != 2 && due == 2) || (i % 3 == 2 && due == -4) {
                app.renew(caller, service, RenewRequest::default(), None)
                    .await
                    .unwrap();
            }
        }
    }
    let read = app.store.read().unwrap();
    let table = read.open_table(RECEIPTS).unwrap();
    redb::ReadableTable::iter(&table)
        .unwrap()
        .map(|item| {
            let (id, bytes) = item.unwrap();
            store::decode(store::RECEIPTS, id.value(), bytes.value()).unwrap()
        })
        .collect()
}

/// A store with `n` receipts: the templates in turn, with new ids and
/// services, written `TXN` at a time.
fn fill(dir: &Path, templates: &[Receipt], n: u64) {
    let store = Store::open(dir).unwrap();
    let len = templates.len() as u64;
    let mut id = 0;
    while id < n {
        let txn = store.begin_write().unwrap();
        {
            let mut table = txn.open_table(RECEIPTS).unwrap();
            for _ in 0..TXN.min(n - id) {
                id += 1;
                let mut r = templates[((id - 1) % len) as usize].clone();
                r.id = ReceiptId(id);
                if let Subject::Service(service) = r.subject {
                    r.subject =
                        Subject::Service(ServiceId(service.get() + 1_000_000 * ((id - 1) / len)));
                }
                table.insert(id, store::encode(&r).as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
    }
}

/// The fixture rule with `list-price`, built like the integration tests
/// build it (target/wasm-fixtures), copied to `dir`.
fn list_price_fixture(dir: &Path) -> Result<PathBuf, String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = workspace.join("target/wasm-fixtures");
    let status = std::process::Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .current_dir(workspace)
        .args(["build", "--quiet", "-p", "rules-fixture"])
        .args(["--target", "wasm32-wasip2", "--profile", "wasm-rules"])
        .args(["--features", "list-price"])
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of the fixture failed: {status}"));
    }
    let path = dir.join("list-price.wasm");
    std::fs::copy(
        target.join("wasm32-wasip2/wasm-rules/rules_fixture.wasm"),
        &path,
    )
    .map_err(|e| e.to_string())?;
    Ok(path)
}

// ---------------------------------------------------------------------------
// The child: one diff

fn child(dir: &Path, candidate: &str) {
    let t = Instant::now();
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    if candidate == "control" {
        return control(dir, &runtime);
    }
    let module = if candidate == "default" {
        runtime
            .load(DEFAULT_MODULE_NAME, DEFAULT_MODULE, ModuleSource::Embedded)
            .unwrap()
    } else {
        let bytes = std::fs::read(candidate).unwrap();
        runtime
            .load("list-price.wasm", &bytes, ModuleSource::Embedded)
            .unwrap()
    };
    let store = Store::open_existing(dir).unwrap();
    let loaded = t.elapsed();
    let hwm_before = proc_status_kib("VmHWM");
    let options = DiffOptions {
        since: None,
        show: 10,
        hooks: vec![],
    };
    let mut streamed = 0u64;
    let t = Instant::now();
    let report = diff::diff(&store, &module, &options, |_| streamed += 1).unwrap();
    let elapsed = t.elapsed();
    let hwm = proc_status_kib("VmHWM");
    let decisions = report.examined + report.skipped;
    println!(
        "  diff: {decisions} decisions in {:.2?}: {:.0} decisions/s; examined {} changed {} failed {} delta {:?} (streamed {streamed}); compile+open {:.0?}",
        elapsed,
        decisions as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        report.examined,
        report.changed,
        report.failed,
        report.delta,
        loaded,
    );
    println!(
        "  memory: VmHWM {} before the diff, {} after",
        mib(hwm_before),
        mib(hwm)
    );
}

/// What `diff::diff` does for each pricing receipt (decode, re-run through
/// the default module, validate, compare), on a database opened with a small
/// redb page cache instead of the default 1 GiB one `Store::open_existing`
/// gets: separates the cache from the diff's own memory.
fn control(dir: &Path, runtime: &Runtime) {
    use redb::{ReadableDatabase, ReadableTable};
    use rulesd::decide::receipt::{RuleInput, RuleOutput};
    let module = runtime
        .load(DEFAULT_MODULE_NAME, DEFAULT_MODULE, ModuleSource::Embedded)
        .unwrap();
    let db = redb::Builder::new()
        .set_cache_size(16 << 20)
        .open(dir.join(store::FILE_NAME))
        .unwrap();
    let hwm_before = proc_status_kib("VmHWM");
    let t = Instant::now();
    let read = db.begin_read().unwrap();
    let table = read.open_table(RECEIPTS).unwrap();
    let (mut n, mut same) = (0u64, 0u64);
    for item in table.iter().unwrap() {
        let (id, bytes) = item.unwrap();
        let receipt: Receipt = store::decode(store::RECEIPTS, id.value(), bytes.value()).unwrap();
        n += 1;
        if let (RuleInput::Pricing(request), RuleOutput::Pricing(stored)) =
            (&receipt.input, &receipt.output)
        {
            let decision = block_on(module.price(request)).unwrap().value.unwrap();
            let priced =
                rulesd::decide::checks::check_price(&module.name, request, &decision).unwrap();
            same += u64::from(&priced == stored);
        }
    }
    let elapsed = t.elapsed();
    println!(
        "  control: {n} decisions in {:.2?}: {:.0} decisions/s; unchanged {same}",
        elapsed,
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  memory: VmHWM {} before, {} after",
        mib(hwm_before),
        mib(proc_status_kib("VmHWM"))
    );
}
