//! Replay throughput: a generated scenario of 100,000 steps (orders and
//! renewals of thousands of services over several years, the clock moving
//! forward with every step, so the daily job runs for every day passed) is
//! parsed with `Scenario::parse` and run with `replay::run` on a scratch store
//! with the embedded default rules.
//!
//! cargo bench -p rulesd --bench replay

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rulesd::replay::{self, RunOptions, Scenario};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

const STEPS: usize = 100_000;
const SERVICES: usize = 5_000;
const CLIENTS: usize = 200;
/// Orders are spread over this many days from the start; renewals go on after.
const ORDER_DAYS: i64 = 540;

/// splitmix64: a fixed seed gives the same scenario every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Order { service: usize },
    Renew { service: usize },
}

struct Service {
    months: u32,
    expires: NaiveDate,
}

fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(months)).unwrap()
}

/// When a service is renewed next: mostly a few days before it expires,
/// sometimes a few days late (it is suspended meanwhile), sometimes never.
fn schedule(rng: &mut Rng, s: &Service) -> Option<DateTime<Utc>> {
    let day = match rng.below(100) {
        0..88 => s.expires - Duration::days(rng.below(5) as i64),
        88..98 => s.expires + Duration::days(1 + rng.below(10) as i64),
        _ => return None,
    };
    Some(day.and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::seconds(rng.below(86_400) as i64))
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The scenario text and the span of time its steps cover.
fn generate() -> (String, DateTime<Utc>, DateTime<Utc>, usize, usize) {
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let mut rng = Rng(2026);
    let mut text = String::with_capacity(STEPS * 160);
    writeln!(
        text,
        "name = \"bench: {STEPS} orders and renewals\"\nstart = {}\n",
        instant(start)
    )
    .unwrap();
    for c in 0..CLIENTS {
        writeln!(
            text,
            "[[setup]]\nop = \"POST /v1/clients\"\nbody = {{ name = \"client {c}\" }}\nsave = \"c{c}\"\n"
        )
        .unwrap();
    }
    text.push_str(
        r#"[[setup]]
op = "POST /v1/tariffs"
body = { name = "Hosting", currency = "EUR", prices = [{ months = 1, price = "10.00" }, { months = 3, price = "27.00" }, { months = 12, price = "100.00" }], setup_fee = "5.00" }
save = "hosting"

[[setup]]
op = "POST /v1/tariffs"
body = { name = "Late fee", currency = "EUR", prices = [{ months = 1, price = "3.00" }, { months = 3, price = "8.50" }, { months = 12, price = "30.00" }], late_fee = { kind = "percent", percent = "50" } }
save = "late"

"#,
    );
    let mut queue = BinaryHeap::new();
    for s in 0..SERVICES {
        let at = start + Duration::seconds(rng.below(ORDER_DAYS as u64 * 86_400) as i64);
        queue.push(Reverse((at, Event::Order { service: s })));
    }
    let mut services: Vec<Option<Service>> = (0..SERVICES).map(|_| None).collect();
    let (mut orders, mut renewals) = (0, 0);
    let mut last = start;
    for _ in 0..STEPS {
        let Reverse((at, event)) = queue.pop().expect("enough events");
        last = at;
        let service = match event {
            Event::Order { service } => {
                let months = [1, 1, 1, 3, 3, 12][rng.below(6) as usize];
                let tariff = if service % 4 == 0 { "late" } else { "hosting" };
                writeln!(
                    text,
                    "[[step]]\nat = {}\nop = \"POST /v1/services\"\nbody = {{ client_id = \"${{c{}.id}}\", tariff_id = \"${{{tariff}.id}}\", months = {months} }}\nsave = \"s{service}\"\nexpect = {{ status = 201 }}\n",
                    instant(at),
                    service % CLIENTS
                )
                .unwrap();
                orders += 1;
                services[service] = Some(Service {
                    months,
                    expires: add_months(at.date_naive(), months),
                });
                service
            }
            Event::Renew { service } => {
                writeln!(
                    text,
                    "[[step]]\nat = {}\nop = \"POST /v1/services/${{s{service}.services.0.id}}/renew\"\nexpect = {{ status = 200 }}\n",
                    instant(at)
                )
                .unwrap();
                renewals += 1;
                let s = services[service].as_mut().unwrap();
                // On time: the period continues from the expiry; late: from today.
                let from = s.expires.max(at.date_naive());
                s.expires = add_months(from, s.months);
                service
            }
        };
        if let Some(next) = schedule(&mut rng, services[service].as_ref().unwrap()) {
            queue.push(Reverse((next.max(at), Event::Renew { service })));
        }
    }
    (text, start, last, orders, renewals)
}

#[tokio::main]
async fn main() {
    let t = Instant::now();
    let (text, start, end, orders, renewals) = generate();
    println!(
        "generated {STEPS} steps ({orders} orders, {renewals} renewals of {SERVICES} services, {CLIENTS} clients) from {} to {} ({} days), {:.1} MiB of TOML, in {:.2?}",
        start.date_naive(),
        end.date_naive(),
        (end - start).num_days(),
        text.len() as f64 / 1048576.0,
        t.elapsed()
    );
    // What the TOML parse alone costs: a floor for Scenario::parse.
    let t = Instant::now();
    let table: toml::Table = toml::from_str(&text).unwrap();
    println!("toml::from_str alone: {:.2?}", t.elapsed());
    drop(table);
    let t = Instant::now();
    let scenario = Scenario::parse(Path::new("bench.toml"), &text).unwrap();
    let parsed = t.elapsed();
    println!(
        "Scenario::parse: {:.2?} ({:.0} steps/s)",
        parsed,
        (scenario.setup.len() + scenario.steps.len()) as f64 / parsed.as_secs_f64()
    );
    drop(text);
    let t = Instant::now();
    let outcome = replay::run(&scenario, &RunOptions::default())
        .await
        .unwrap();
    let ran = t.elapsed();
    if let Some(failure) = &outcome.failure {
        println!("the scenario FAILED:\n{}", replay::describe(failure));
    }
    println!(
        "replay::run: {} steps ({} setup) in {:.2?}: {:.0} steps/s (scratch store, embedded default rules, compile of the default module included)",
        outcome.steps,
        scenario.setup.len(),
        ran,
        outcome.steps as f64 / ran.as_secs_f64()
    );
    println!(
        "parse + run: {:.0} steps/s",
        outcome.steps as f64 / (parsed + ran).as_secs_f64()
    );
}
