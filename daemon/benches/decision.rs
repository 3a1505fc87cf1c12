//! Per-decision cost of the default pricing rule in-process: a fresh sandboxed
//! instance per call, as the daemon does it. Prints p50/p99 and the split
//! between instantiation and the call itself.
//!
//! cargo bench -p rulesd --bench decision

mod common;
#[path = "common/pricing.rs"]
mod pricing;

use common::percentile;
use pricing::request;
use rulesd::rules::{DEFAULT_MODULE, DEFAULT_MODULE_NAME};
use rulesd::runtime::{Limits, ModuleSource, Runtime, block_on};
use std::time::{Duration, Instant};

/// Rounds of measurement. This 2-core VM has noisy phases (a whole run can
/// land ~40% slower when a neighbour is busy), so the two measurements are
/// interleaved in rounds and the median of the rounds' p50s is reported next
/// to the pooled figures.
const ROUNDS: usize = 9;
const PER_ROUND: usize = 4_000;

fn report(name: &str, rounds: &[Vec<Duration>]) {
    let mut round_p50: Vec<Duration> = rounds
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.sort();
            percentile(&r, 0.50)
        })
        .collect();
    let mut all: Vec<Duration> = rounds.concat();
    all.sort();
    println!(
        "{name:<34} n={:<6} pooled p50={:>8.2?} p99={:>8.2?} max={:>8.2?}",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
    let per_round: Vec<String> = round_p50.iter().map(|d| format!("{d:.2?}")).collect();
    round_p50.sort();
    println!(
        "{:<34} median of round p50s={:>8.2?} (rounds: {})",
        "",
        percentile(&round_p50, 0.50),
        per_round.join(" ")
    );
}

fn main() {
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let started = Instant::now();
    let module = runtime
        .load(DEFAULT_MODULE_NAME, DEFAULT_MODULE, ModuleSource::Embedded)
        .unwrap();
    println!("compile + validate default module: {:?}", started.elapsed());
    let req = request();
    for _ in 0..2_000 {
        block_on(module.price(&req)).unwrap();
    }
    let (mut full, mut inst) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let mut round = Vec::with_capacity(PER_ROUND);
        for _ in 0..PER_ROUND {
            let t = Instant::now();
            let called = block_on(module.price(&req)).unwrap();
            round.push(t.elapsed());
            assert!(called.value.is_ok());
        }
        full.push(round);
        let mut round = Vec::with_capacity(PER_ROUND);
        for _ in 0..PER_ROUND {
            let t = Instant::now();
            module.instantiate_only().unwrap();
            round.push(t.elapsed());
        }
        inst.push(round);
    }
    report("decision (fresh instance + call)", &full);
    report("of which: store + instantiate", &inst);
    let fuel = block_on(module.price(&req)).unwrap().fuel_used;
    println!("fuel per decision: {fuel}");
}
