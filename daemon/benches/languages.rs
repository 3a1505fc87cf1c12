//! Per-decision cost of a rule by language, in one run: the default rule
//! (Rust, embedded) and the Python and JavaScript example rules, in-process,
//! a fresh sandboxed instance per call as the daemon does it, and again
//! with instances kept between calls (rules.toml `reuse`), on the same
//! request (`rulesd check`'s pricing sample, an order every rule answers).
//! Prints p50/p99 of a decision, of instantiation alone, and the fuel.
//!
//!   .ci/rule-languages        # builds the examples into .ci-cache/ (PyPI, npm)
//!   cargo bench -p rulesd --bench languages
//!
//! RULESD_BENCH_PYTHON / RULESD_BENCH_JS name other modules; a module that is
//! missing is skipped, with a line saying so.

mod common;

use common::percentile;
use rulesd::contract::hook::Hook;
use rulesd::decide::RuleInput;
use rulesd::runtime::{Limits, ModuleSource, RuleModule, Runtime, block_on};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Interleaved rounds, so a noisy phase of the shared machine hits every
/// language alike.
const ROUNDS: usize = 7;

fn module_path(var: &str, cached: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../.ci-cache/rule-languages")
            .join(cached)
    })
}

struct Lang {
    name: String,
    module: RuleModule,
    per_round: usize,
    decisions: Vec<Duration>,
    instantiations: Vec<Duration>,
    fuel: u64,
}

fn main() {
    // A compile cache, so a second run (or one under perf) spends its time on
    // decisions, not on compiling the Python and JavaScript runtimes again.
    let cache = std::env::temp_dir().join("rulesd-bench-languages");
    let runtime = Runtime::new(Limits::default(), Some(cache)).unwrap();
    let Some(RuleInput::Pricing(request)) = rulesd::ops::check::sample(Hook::Pricing) else {
        panic!("no pricing sample");
    };
    let mut langs = Vec::new();
    // Each module twice: fresh instances, and instances kept (the second
    // load comes from the compile cache).
    let load = |name: &str, bytes: &[u8], source: ModuleSource, reuse: bool| {
        let module = runtime.load(name, bytes, source).unwrap();
        module.set_reuse(reuse);
        module
    };
    for reuse in [false, true] {
        let name = if reuse {
            "Rust, reused"
        } else {
            "Rust (default)"
        };
        let default = load(
            rulesd::rules::DEFAULT_MODULE_NAME,
            rulesd::rules::DEFAULT_MODULE,
            ModuleSource::Embedded,
            reuse,
        );
        langs.push((name.to_string(), default, 3_000));
    }
    for (name, var, cached) in [
        ("Python", "RULESD_BENCH_PYTHON", "python/rules/rule.wasm"),
        (
            "JavaScript",
            "RULESD_BENCH_JS",
            "javascript/rules/rule.wasm",
        ),
    ] {
        let path = module_path(var, cached);
        let Ok(bytes) = std::fs::read(&path) else {
            println!("{name}: no module at {} (skipped)", path.display());
            continue;
        };
        let started = Instant::now();
        let module = load(name, &bytes, ModuleSource::File(path.clone()), false);
        println!(
            "{name}: {} ({} bytes) loaded (compiled, or from the compile cache) in {:.1?}",
            path.display(),
            bytes.len(),
            started.elapsed()
        );
        langs.push((name.to_string(), module, 150));
        let reused = load(name, &bytes, ModuleSource::File(path.clone()), true);
        langs.push((format!("{name}, reused"), reused, 1_500));
    }
    let mut langs: Vec<Lang> = langs
        .into_iter()
        .map(|(name, module, per_round)| Lang {
            name,
            module,
            per_round,
            decisions: Vec::new(),
            instantiations: Vec::new(),
            fuel: 0,
        })
        .collect();
    // Warm up: the pool's slots, the first page faults, lazy init.
    for lang in &langs {
        for _ in 0..lang.per_round / 5 {
            block_on(lang.module.price(&request)).unwrap();
        }
    }
    for _ in 0..ROUNDS {
        for lang in &mut langs {
            for _ in 0..lang.per_round {
                let t = Instant::now();
                let called = block_on(lang.module.price(&request)).unwrap();
                lang.decisions.push(t.elapsed());
                assert!(called.value.is_ok(), "{}: {:?}", lang.name, called.value);
                lang.fuel = called.fuel_used;
                if !lang.module.reuses_instances() {
                    let t = Instant::now();
                    lang.module.instantiate_only().unwrap();
                    lang.instantiations.push(t.elapsed());
                }
            }
        }
    }
    println!(
        "{:<20} {:>7} {:>10} {:>10} {:>16} {:>12}",
        "language", "n", "p50", "p99", "instantiate p50", "fuel"
    );
    for lang in &mut langs {
        lang.decisions.sort();
        lang.instantiations.sort();
        let instantiate = if lang.instantiations.is_empty() {
            "-".to_string()
        } else {
            format!("{:.2?}", percentile(&lang.instantiations, 0.50))
        };
        println!(
            "{:<20} {:>7} {:>10.2?} {:>10.2?} {:>16} {:>12}",
            lang.name,
            lang.decisions.len(),
            percentile(&lang.decisions, 0.50),
            percentile(&lang.decisions, 0.99),
            instantiate,
            lang.fuel
        );
    }
}
