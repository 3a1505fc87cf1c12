//! Hostile and broken rule modules: each fails its own request or load with a
//! clear error, the daemon keeps serving, and the next normal request succeeds.

use crate::support::{TestServer, fixture, limits, order, refused_start, write_atomically};
use rulesd::runtime::{CallError, LoadError, ModuleSource, Runtime, block_on};
use serde_json::Value;
use std::time::Duration;

/// (fixture behaviour, expected HTTP status, text the problem detail must contain)
const HOSTILE: &[(&str, u16, &str)] = &[
    ("loop", 502, "ran out of fuel"),
    ("oom", 502, "exceeded its memory limit"),
    // The panic message reaches the error through the rule's stderr.
    (
        "panic",
        502,
        "trapped: pricing: wasm `unreachable` executed (the rule panicked or \
     aborted); the rule's last output: ",
    ),
    ("panic", 502, "fixture panics on purpose for tariff"),
    ("negative", 502, "amount -5.00 is negative"),
    ("malformed", 502, "\"12,50 EUR\" is not a decimal amount"),
    ("foreign-import", 502, "trapped"),
];

#[tokio::test(flavor = "multi_thread")]
async fn each_hostile_rule_fails_its_request_and_the_daemon_keeps_serving() {
    let rules = tempfile::tempdir().unwrap();
    let mut manifest = String::new();
    // Each hostile module is bound for its own reseller id (1, 2, ...).
    for (id, (behaviour, _, _)) in (1..).zip(HOSTILE) {
        std::fs::write(
            rules.path().join(format!("{behaviour}.wasm")),
            fixture(behaviour),
        )
        .unwrap();
        manifest.push_str(&format!(
            "[resellers.{id}]\npricing = \"{behaviour}.wasm\"\n"
        ));
    }
    std::fs::write(rules.path().join("rules.toml"), manifest).unwrap();
    let server = TestServer::start(Some(rules.path())).await;
    let report = server.get("/v1/rules").await.1;
    assert_eq!(report["errors"], Value::Array(vec![]), "{report:#}");

    for (id, (behaviour, status, detail)) in (1..).zip(HOSTILE) {
        let (got, body) = server.quote(&order(Some(id))).await;
        assert_eq!(got, *status, "{behaviour}: {body:#}");
        assert_eq!(
            body["type"], "urn:rulesd:problem:rule-failed",
            "{behaviour}: {body:#}"
        );
        let text = body["detail"].as_str().unwrap();
        assert!(text.contains(detail), "{behaviour}: {text}");
        assert!(
            text.contains(&format!("{behaviour}.wasm")),
            "names the module: {text}"
        );
        // std's advice to set a variable no rule can have is left out.
        assert!(!text.contains("RUST_BACKTRACE"), "{text}");

        // The daemon is alive and the next normal request is answered.
        assert_eq!(server.get("/healthz").await.0, 200);
        let (ok, quote) = server.quote(&order(None)).await;
        assert_eq!(ok, 200, "{behaviour}: {quote:#}");
        assert_eq!(quote["total"], "15.00");
    }
}

fn default_module(rt: &Runtime) -> rulesd::runtime::RuleModule {
    rt.load(
        rulesd::rules::DEFAULT_MODULE_NAME,
        rulesd::rules::DEFAULT_MODULE,
        ModuleSource::Embedded,
    )
    .unwrap()
}

fn runtime(limits: rulesd::runtime::Limits) -> Runtime {
    Runtime::new(limits, None).unwrap()
}

pub fn price_request() -> rulesd::contract::bindings::pricing::PriceRequest {
    use rulesd::contract::bindings::{pricing, types};
    pricing::PriceRequest {
        operation: pricing::Operation::Order,
        tariff: types::Tariff {
            id: "t".into(),
            name: "T".into(),
            currency: "EUR".into(),
            prices: vec![types::PeriodPrice {
                months: 1,
                price: "1".into(),
            }],
            setup_fee: "0".into(),
            renewal_prices: vec![],
            daily: None,
            pro_rata_day: None,
            late_fee: types::LateFee::None,
            addons: vec![],
        },
        months: 1,
        addons: vec![],
        service: None,
        at: "2026-01-01T00:00:00Z".into(),
    }
}

#[test]
fn the_wall_clock_backstop_stops_a_rule_that_fuel_would_not() {
    let rt = runtime(rulesd::runtime::Limits {
        fuel: u64::MAX / 4,
        timeout: Duration::from_millis(100),
        ..limits()
    });
    let module = rt
        .load("loop.wasm", &fixture("loop"), ModuleSource::Embedded)
        .unwrap();
    let started = std::time::Instant::now();
    let err = block_on(module.price(&price_request())).unwrap_err();
    assert!(
        matches!(err, CallError::Timeout { limit_ms: 100, .. }),
        "{err}"
    );
    // Generous bound: the point is that it stops, not how precisely.
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Rule calls run on the reactor's own thread (in a wasmtime fiber): a rule
/// that runs long must yield, or it would hold up every other request served
/// by that thread. On a single-threaded runtime, a quick decision started
/// after a looping one must finish first.
#[test]
fn a_long_rule_yields_so_a_quick_one_on_the_same_thread_finishes_first() {
    let rt = runtime(limits());
    let looping = rt
        .load("loop.wasm", &fixture("loop"), ModuleSource::Embedded)
        .unwrap();
    let quick = default_module(&rt);
    let reactor = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let finished = std::sync::Mutex::new(Vec::new());
    reactor.block_on(async {
        let slow = async {
            let outcome = looping.price(&price_request()).await;
            finished.lock().unwrap().push("loop");
            outcome
        };
        let fast = async {
            let outcome = quick.price(&price_request()).await;
            finished.lock().unwrap().push("quick");
            outcome
        };
        let (slow, fast) = tokio::join!(slow, fast);
        assert!(matches!(slow, Err(CallError::OutOfFuel { .. })), "{slow:?}");
        assert!(fast.unwrap().value.is_ok());
    });
    // `join!` polls the looping call first; it yields, the quick one runs.
    assert_eq!(*finished.lock().unwrap(), ["quick", "loop"]);
}

/// A rule that reads the clock, randomness, its environment and the file
/// system, sleeps an hour and prints (what language runtimes do on their
/// own) runs, at once, and sees the same frozen world on every call: over
/// HTTP, and through `block_on` in another runtime as `rulesd diff` calls it.
#[tokio::test(flavor = "multi_thread")]
async fn a_rule_using_wasi_sees_a_frozen_world_and_answers_at_once() {
    let rules = tempfile::tempdir().unwrap();
    let wasi = fixture("wasi");
    std::fs::write(rules.path().join("pricing.wasm"), &wasi).unwrap();
    let server = TestServer::start(Some(rules.path())).await;
    // The rule sleeps for an hour of its own time; none of it may pass here.
    let body = order(None);
    let quote = || tokio::time::timeout(Duration::from_secs(60), server.quote(&body));
    let (status, first) = quote().await.expect("a rule's sleep held up its call");
    assert_eq!(status, 200, "{first:#}");
    let line = first["lines"][0]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(line.starts_with("clock 0 random "), "{line}");
    assert!(line.ends_with(" env 0 file false slept 0"), "{line}");
    let (_, second) = quote().await.expect("a rule's sleep held up its call");
    assert_eq!(second["lines"], first["lines"]);

    let rt = runtime(limits());
    let module = rt
        .load("pricing.wasm", &wasi, ModuleSource::Embedded)
        .unwrap();
    let a = block_on(module.price(&price_request())).unwrap();
    let b = block_on(module.price(&price_request())).unwrap();
    let lines = |c: &rulesd::runtime::Called<_>| match &c.value {
        Ok(rulesd::contract::bindings::pricing::PriceDecision { lines, .. }) => {
            lines[0].description.clone()
        }
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(lines(&a), line);
    assert_eq!(lines(&b), line);
    assert_eq!(a.fuel_used, b.fuel_used);
}

#[test]
fn the_default_module_imports_no_wasi_and_a_std_module_gets_it_frozen() {
    let rt = runtime(limits());
    let default = default_module(&rt);
    // Only the contract's type definitions (no functions): no WASI wiring to
    // pay for at every instantiation (rules-sdk `no-std`).
    assert_eq!(default.imports, ["rulesd:rules/types@0.5.0"]);
    // A module built with std imports WASI; it instantiates and answers.
    let with_std = rt
        .load("v1.wasm", &fixture(""), ModuleSource::Embedded)
        .unwrap();
    assert!(
        with_std.imports.iter().any(|i| i.starts_with("wasi:cli/")),
        "{:?}",
        with_std.imports
    );
    assert!(
        block_on(with_std.price(&price_request()))
            .unwrap()
            .value
            .is_ok()
    );
}

#[test]
fn fuel_used_is_reported_and_deterministic() {
    let rt = runtime(limits());
    let module = rt
        .load("v1.wasm", &fixture(""), ModuleSource::Embedded)
        .unwrap();
    let a = block_on(module.price(&price_request())).unwrap();
    let b = block_on(module.price(&price_request())).unwrap();
    assert!(a.fuel_used > 0);
    assert_eq!(a.fuel_used, b.fuel_used);
    assert_eq!(a.value, b.value);
}

/// A pool slot keeps the pages of its last instance mapped (runtime/mod.rs,
/// `keep_resident`), but every call still starts from the module's image:
/// 3 MiB a call dirties, a page in every two, are back to zero in the next.
#[test]
fn nothing_a_call_writes_to_memory_is_seen_by_the_next() {
    let rt = runtime(limits());
    let module = rt
        .load("ballast.wasm", &fixture("ballast"), ModuleSource::Embedded)
        .unwrap();
    for _ in 0..5 {
        let called = block_on(module.price(&price_request())).unwrap();
        let decision = called.value.unwrap();
        assert_eq!(decision.lines[0].description, "left by earlier calls: 0");
    }
}

/// With reuse on (rules.toml `reuse`) an instance that answered serves the
/// next call, and only then: the ballast fixture sees what the previous call
/// left, which a fresh instance never does. Off again, instances are fresh.
#[test]
fn reuse_keeps_an_instance_between_calls_only_while_it_is_on() {
    let rt = runtime(limits());
    let module = rt
        .load("ballast.wasm", &fixture("ballast"), ModuleSource::Embedded)
        .unwrap();
    let left = |module: &rulesd::runtime::RuleModule| {
        let called = block_on(module.price(&price_request())).unwrap();
        (
            called.value.unwrap().lines[0].description.clone(),
            called.fuel_used,
        )
    };
    let (fresh, fresh_fuel) = left(&module);
    assert_eq!(fresh, "left by earlier calls: 0");
    module.set_reuse(true);
    assert!(module.reuses_instances());
    // The first call with reuse on is fresh and keeps its instance; the
    // next ones run on it, each with the whole fuel budget again.
    assert_eq!(left(&module).0, "left by earlier calls: 0");
    for _ in 0..3 {
        let (reused, fuel) = left(&module);
        assert_eq!(
            reused, "left by earlier calls: 384",
            "a page in every two of 3 MiB"
        );
        assert!(fuel > 0 && fuel < module.fuel_budget(), "{fuel}");
        assert!(
            fuel <= fresh_fuel + fresh_fuel / 2,
            "{fuel} vs {fresh_fuel}"
        );
    }
    module.set_reuse(false);
    assert_eq!(left(&module).0, "left by earlier calls: 0");
}

/// A reused instance is never the cause of a failure: a call that fails on
/// one is made again on a fresh instance, whose answer stands. The fixture
/// traps on any second call of an instance.
#[test]
fn a_call_that_fails_on_a_reused_instance_is_made_again_on_a_fresh_one() {
    let rt = runtime(limits());
    let module = rt
        .load("warm.wasm", &fixture("warm-fails"), ModuleSource::Embedded)
        .unwrap();
    module.set_reuse(true);
    for _ in 0..4 {
        let called = block_on(module.price(&price_request())).unwrap();
        assert_eq!(
            called.value.unwrap().lines[0].description,
            "first call of its instance"
        );
    }
    assert_eq!(module.reuse_failures(), 3, "each reused call failed once");
    // Without reuse every call is a first call anyway.
    module.set_reuse(false);
    assert!(block_on(module.price(&price_request())).is_ok());
}

/// An answer the daemon refuses is never the answer of a kept instance
/// either: `decide::run` asks a fresh instance again, drops the kept ones and
/// counts the failure (`GET /v1/rules`, `rulesd check`). The fixture answers
/// a negative price on any second call of an instance.
#[test]
fn an_answer_refused_on_a_reused_instance_is_asked_again_of_a_fresh_one() {
    use rulesd::decide::{RuleInput, RuleOutput, run};
    let rt = runtime(limits());
    let module = rt
        .load(
            "warm.wasm",
            &fixture("warm-invalid"),
            ModuleSource::Embedded,
        )
        .unwrap();
    let input = RuleInput::Pricing(price_request());
    module.set_reuse(true);
    for _ in 0..4 {
        let decision = block_on(run(&module, input.clone())).unwrap();
        let RuleOutput::Pricing(priced) = decision.output else {
            panic!("{:?}", decision.output)
        };
        assert_eq!(priced.lines[0].description, "first call of its instance");
    }
    assert_eq!(module.reuse_failures(), 3);
    // Without reuse nothing is retried or counted.
    module.set_reuse(false);
    block_on(run(&module, input)).unwrap();
    assert_eq!(module.reuse_failures(), 3);
}

/// 64 calls at once on a module that reuses instances: each gets an
/// instance of its own (a kept one or a fresh one), and every answer is the
/// fresh instance's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reuse_under_64_concurrent_calls_answers_as_fresh_instances() {
    let rt = runtime(limits());
    let module = std::sync::Arc::new(
        rt.load(
            "default",
            rulesd::rules::DEFAULT_MODULE,
            ModuleSource::Embedded,
        )
        .unwrap(),
    );
    let fresh = module.price(&price_request()).await.unwrap();
    module.set_reuse(true);
    for _ in 0..3 {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let module = module.clone();
            calls.spawn(async move { module.price(&price_request()).await });
        }
        while let Some(called) = calls.join_next().await {
            let called = called.unwrap().unwrap();
            assert_eq!(called.value, fresh.value);
            // Fuel is the call's own, not the decision: a kept instance
            // skips what its first call initialised, and may grow memory.
            let margin = fresh.fuel_used / 10;
            assert!(
                called.fuel_used.abs_diff(fresh.fuel_used) < margin,
                "{} vs {}",
                called.fuel_used,
                fresh.fuel_used
            );
        }
    }
}

/// A module built for an older contract names both versions, so its author
/// knows to rebuild it (the default module with its contract version
/// rewritten stands in for one built against rulesd:rules@0.1.0).
#[test]
fn a_module_built_for_another_contract_version_is_refused_naming_both() {
    let rt = runtime(limits());
    let current = format!("@{}", rulesd::contract::hook::CONTRACT_VERSION);
    let mut old = rulesd::rules::DEFAULT_MODULE.to_vec();
    let mut replaced = 0;
    let mut i = 0;
    while i + current.len() <= old.len() {
        if old[i..].starts_with(current.as_bytes()) {
            old[i..i + current.len()].copy_from_slice(b"@0.1.0");
            replaced += 1;
        }
        i += 1;
    }
    assert!(replaced > 0, "the contract version is in the component");
    let err = rt
        .load("old.wasm", &old, ModuleSource::Embedded)
        .unwrap_err();
    assert!(matches!(err, LoadError::ContractVersion { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("rulesd:rules@0.1.0") && text.contains(&format!("rulesd:rules{current}")),
        "{text}"
    );
}

#[test]
fn garbage_core_modules_and_empty_components_are_rejected_at_load() {
    let rt = runtime(limits());
    let garbage = rt.load(
        "garbage.wasm",
        b"this is not wasm at all",
        ModuleSource::Embedded,
    );
    assert!(
        matches!(garbage, Err(LoadError::Invalid { .. })),
        "{garbage:?}"
    );

    // The smallest core module: magic + version 1.
    let core = rt.load("core.wasm", b"\0asm\x01\0\0\0", ModuleSource::Embedded);
    let err = core.unwrap_err().to_string();
    assert!(
        err.contains("core WebAssembly module, not a component"),
        "{err}"
    );

    // The smallest component: magic + component version + layer 1. It exports nothing.
    let empty = rt.load("empty.wasm", b"\0asm\x0d\0\x01\0", ModuleSource::Embedded);
    let err = empty.unwrap_err().to_string();
    assert!(err.contains("exports none of the rule hooks"), "{err}");
    assert!(
        err.contains("rulesd:rules/pricing@0.5.0"),
        "names what is missing: {err}"
    );

    // A truncated real component.
    let mut cut = fixture("");
    cut.truncate(cut.len() / 2);
    assert!(matches!(
        rt.load("cut.wasm", &cut, ModuleSource::Embedded),
        Err(LoadError::Invalid { .. })
    ));
}

const GARBAGE: &[u8] = b"garbage bytes, not a component";
const WRONG_BINDINGS: &[u8] =
    b"[hooks]\npricing = \"pricing.wasm\"\nwholesale = \"only-pricing.wasm\"\n";

fn load_errors(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}", e["file"], e["error"]))
        .collect()
}

/// While the daemon runs, a garbage file and a binding to a module that does
/// not export the hook are reported, and what served before keeps serving.
#[tokio::test(flavor = "multi_thread")]
async fn broken_files_and_wrong_bindings_are_reported_and_defaults_keep_serving() {
    let rules = tempfile::tempdir().unwrap();
    let server = TestServer::start(Some(rules.path())).await;
    write_atomically(rules.path(), "only-pricing.wasm", &fixture(""));
    write_atomically(rules.path(), "pricing.wasm", GARBAGE);
    write_atomically(rules.path(), "rules.toml", WRONG_BINDINGS);
    let report = server
        .wait_for_rules("both problems reported", |r| load_errors(r).len() == 2)
        .await;
    let errors = load_errors(&report);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("pricing.wasm") && e.contains("not a WebAssembly component")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("does not export rulesd:rules/wholesale@0.5.0")),
        "{errors:?}"
    );
    // Both hooks are still served by the embedded default.
    for b in report["bindings"].as_array().unwrap() {
        assert_eq!(b["module"]["source"], "embedded", "{b:#}");
    }
    let (status, quote) = server.quote(&order(None)).await;
    assert_eq!(status, 200, "{quote:#}");
}

/// At start there is nothing earlier to keep serving: the same problems
/// would silently reprice those hooks at the embedded defaults, so the
/// daemon refuses to start, names each one, and creates no store.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_refuses_to_start_when_a_bound_module_cannot_serve() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "only-pricing.wasm", &fixture(""));
    write_atomically(rules.path(), "pricing.wasm", GARBAGE);
    write_atomically(rules.path(), "rules.toml", WRONG_BINDINGS);
    let err = refused_start(rules.path());
    for part in [
        "pricing.wasm: not a WebAssembly component",
        "does not export rulesd:rules/wholesale@0.5.0",
        "refusing to start",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }

    // An unbound broken file is only reported: nothing is served by it.
    std::fs::remove_file(rules.path().join("rules.toml")).unwrap();
    std::fs::rename(
        rules.path().join("pricing.wasm"),
        rules.path().join("spare.wasm"),
    )
    .unwrap();
    let keep = tempfile::tempdir().unwrap();
    let mut config =
        rulesd::server::Config::new("127.0.0.1:0".parse().unwrap(), keep.path().join("data"));
    config.rules_dir = Some(rules.path().to_path_buf());
    if let Err(e) = rulesd::server::Daemon::build(&config) {
        panic!("an unbound broken file stopped the start: {e}");
    }
}

/// A valid component that needs more than the sandbox gives (here: more
/// initial memory than the limit, here less than its one 64 KiB page) is
/// refused at load as such, not as a broken file, and the message names the
/// setting to change.
#[test]
fn a_module_over_the_memory_limit_is_refused_at_load_naming_the_setting() {
    let rt = runtime(rulesd::runtime::Limits {
        memory_bytes: 16 << 10,
        ..limits()
    });
    let err = rt
        .load("big.wasm", &fixture(""), ModuleSource::Embedded)
        .unwrap_err();
    assert!(matches!(err, LoadError::OverLimits { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("big.wasm: needs more than the sandbox allows: "),
        "{text}"
    );
    // In the setting's units: the module's one 64 KiB page needs 1 MiB.
    assert!(
        text.ends_with("which needs --rule-memory-mib 1 or more (it is 0)"),
        "{text}"
    );
}

/// What no request shows, `/metrics` does: rule calls by module and
/// outcome (a failing rule bound for one reseller among working ones), and
/// the daily job's runs. Provider only.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_rule_calls_by_module_and_outcome() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "panic.wasm", &fixture("panic"));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[resellers.1]\npricing = \"panic.wasm\"\n",
    );
    let server = TestServer::start(Some(rules.path())).await;
    for _ in 0..2 {
        assert_eq!(server.quote(&order(Some(1))).await.0, 502);
    }
    assert_eq!(server.quote(&order(None)).await.0, 200);

    // The daily job for today runs in its own task at start: wait for it.
    let mut text = String::new();
    for _ in 0..100 {
        let reply = server
            .client
            .get(server.url("/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert!(
            reply.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4"),
        );
        text = reply.text().await.unwrap();
        if text.lines().any(|l| l == "rulesd_daily_days_total 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for line in [
        "rulesd_rule_calls_total{hook=\"pricing\",module=\"panic.wasm\",outcome=\"failed\"} 2",
        "rulesd_rule_calls_total{hook=\"pricing\",module=\"default (embedded)\",outcome=\"ok\"} 1",
        "rulesd_rule_load_errors 0",
        "rulesd_daily_days_total 1",
        "rulesd_daily_services_total{result=\"failed\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n---\n{text}");
    }
    let (_, reseller) = server.reseller("r").await;
    let status = reseller
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
}
