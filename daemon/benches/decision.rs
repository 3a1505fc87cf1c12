//! Per-decision cost of the default pricing rule in-process: a fresh sandboxed
//! instance per call, as the daemon does it. Prints p50/p99 and the split
//! between instantiation and the call itself.
//!
//! cargo bench -p rulesd --bench decision

mod common;

use common::percentile;
use rulesd::rules::{DEFAULT_MODULE, DEFAULT_MODULE_NAME};
use rulesd::runtime::bindings::{pricing, types};
use rulesd::runtime::{Limits, ModuleSource, Runtime};
use std::time::{Duration, Instant};

fn request() -> pricing::PriceRequest {
    pricing::PriceRequest {
        operation: pricing::Operation::Order,
        tariff: types::Tariff {
            id: "t-1".into(),
            name: "Basic".into(),
            currency: "EUR".into(),
            prices: vec![
                types::PeriodPrice {
                    months: 1,
                    price: "10.00".into(),
                },
                types::PeriodPrice {
                    months: 12,
                    price: "100.00".into(),
                },
            ],
            setup_fee: "5.00".into(),
            renewal_prices: vec![],
            daily: None,
            pro_rata_day: None,
            late_fee: types::LateFee::None,
            addons: vec![],
        },
        months: 1,
        addons: vec![],
        service: None,
        at: "2026-01-31T10:00:00Z".into(),
    }
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<40} n={:<7} p50={:>8.2?} p99={:>8.2?} max={:>8.2?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
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
    let n = 20_000;
    for _ in 0..2_000 {
        module.price(&req).unwrap();
    }
    let mut full = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let called = module.price(&req).unwrap();
        full.push(t.elapsed());
        assert!(called.value.is_ok());
    }
    report("decision (fresh instance + call)", full);
    let mut inst = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        module.instantiate_only().unwrap();
        inst.push(t.elapsed());
    }
    report("of which: store + instantiate", inst);
    let fuel = module.price(&req).unwrap().fuel_used;
    println!("fuel per decision: {fuel}");
}
