//! `GET /metrics`: counters in the Prometheus text format, for alerts a
//! provider cannot get from requests alone. A daily charge its rule fails on
//! leaves the day unpaid and the service running (it is charged once the rule
//! answers again), so nobody's request fails: only these counters and the log
//! show revenue stopping. Counters start at zero with the process.

use super::App;
use super::caller::Caller;
use super::error::ApiError;
use crate::contract::hook::Hook;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// How a rule call ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// A decision the daemon accepted.
    Ok,
    /// The rule said no (denied, invalid input, not implemented).
    Refused,
    /// Trapped, ran out of fuel, time or memory, or gave an invalid decision.
    Failed,
    /// Too many calls in flight.
    Busy,
}

impl Outcome {
    pub(crate) fn of<T>(result: &Result<T, ApiError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(ApiError::RuleFailed(crate::runtime::CallError::Busy)) => Outcome::Busy,
            Err(ApiError::RuleFailed(_)) => Outcome::Failed,
            Err(_) => Outcome::Refused,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Busy => "busy",
        }
    }
}

/// The daily job's totals since start.
#[derive(Default)]
pub(crate) struct DailyCounters {
    pub days: u64,
    pub charged: u64,
    pub reactivated: u64,
    pub suspended: u64,
    pub deleted: u64,
    pub failed: u64,
    pub last_day: Option<NaiveDate>,
    pub last_run_failed: u64,
}

const OUTCOMES: [Outcome; 4] = [
    Outcome::Ok,
    Outcome::Refused,
    Outcome::Failed,
    Outcome::Busy,
];

/// Calls of one module: by hook (as in `Hook::ALL`), then by outcome.
type ModuleCalls = [[u64; OUTCOMES.len()]; Hook::ALL.len()];

/// The counters; one per daemon, shared by every request.
#[derive(Default)]
pub struct Metrics {
    /// By module name: looked up by `&str`, so counting a call allocates
    /// nothing (it is on every quote's path).
    calls: Mutex<BTreeMap<String, ModuleCalls>>,
    daily: Mutex<DailyCounters>,
}

impl Metrics {
    pub(crate) fn rule_call(&self, hook: Hook, module: &str, outcome: Outcome) {
        let h = Hook::ALL.iter().position(|&x| x == hook).unwrap_or(0);
        let o = outcome as usize;
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match calls.get_mut(module) {
            Some(counts) => counts[h][o] += 1,
            None => {
                let mut counts = ModuleCalls::default();
                counts[h][o] = 1;
                calls.insert(module.to_owned(), counts);
            }
        }
    }

    /// Count a run of the daily job.
    pub(crate) fn daily_run(&self, count: impl FnOnce(&mut DailyCounters)) {
        count(&mut self.daily.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// One metric family: its HELP and TYPE lines, then its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value in the text format: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl App {
    /// `GET /metrics` (provider only: the counts are the provider's business).
    pub fn metrics(&self, caller: &Caller) -> Result<String, ApiError> {
        caller.require_provider()?;
        let mut out = String::new();
        family(
            &mut out,
            "rulesd_rule_calls_total",
            "counter",
            "Rule calls by hook, module and outcome: ok; refused (the rule said no); \
             failed (trapped, out of fuel, time or memory, or an invalid decision); busy.",
        );
        let calls = self.metrics.calls.lock().unwrap_or_else(|e| e.into_inner());
        for (module, counts) in calls.iter() {
            for (hook, by_outcome) in Hook::ALL.iter().zip(counts) {
                for (outcome, n) in OUTCOMES.iter().zip(by_outcome) {
                    if *n > 0 {
                        let _ = writeln!(
                            out,
                            "rulesd_rule_calls_total{{hook=\"{hook}\",module=\"{}\",outcome=\"{}\"}} {n}",
                            label(module),
                            outcome.label()
                        );
                    }
                }
            }
        }
        drop(calls);
        family(
            &mut out,
            "rulesd_rule_load_errors",
            "gauge",
            "Rule files and bindings that currently fail to load or cannot be served \
             as written (GET /v1/rules lists them).",
        );
        let _ = writeln!(
            out,
            "rulesd_rule_load_errors {}",
            self.registry.report().errors.len()
        );
        let d = self.metrics.daily.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "rulesd_daily_days_total",
            "counter",
            "Days the daily job has completed.",
        );
        let _ = writeln!(out, "rulesd_daily_days_total {}", d.days);
        family(
            &mut out,
            "rulesd_daily_services_total",
            "counter",
            "What the daily job did to services: charged a day; reactivated (a daily \
             service whose balance covers a day again: that day is charged too, and counted \
             here, not under charged); suspended; deleted; failed: the rule could not price \
             a day, which stays unpaid.",
        );
        for (result, n) in [
            ("charged", d.charged),
            ("reactivated", d.reactivated),
            ("suspended", d.suspended),
            ("deleted", d.deleted),
            ("failed", d.failed),
        ] {
            let _ = writeln!(
                out,
                "rulesd_daily_services_total{{result=\"{result}\"}} {n}"
            );
        }
        if let Some(day) = d.last_day {
            family(
                &mut out,
                "rulesd_daily_last_day_timestamp_seconds",
                "gauge",
                "Start (UTC) of the last day the daily job completed.",
            );
            let start = day
                .and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp());
            let _ = writeln!(out, "rulesd_daily_last_day_timestamp_seconds {start}");
            family(
                &mut out,
                "rulesd_daily_last_run_failed",
                "gauge",
                "Services the last daily run could not price.",
            );
            let _ = writeln!(out, "rulesd_daily_last_run_failed {}", d.last_run_failed);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::CallError;

    #[test]
    fn outcomes_say_who_said_no() {
        let trap = CallError::Trap {
            module: "m".into(),
            detail: "x".into(),
        };
        assert_eq!(Outcome::of(&Ok::<(), ApiError>(())), Outcome::Ok);
        assert_eq!(
            Outcome::of::<()>(&Err(ApiError::Denied("no".into()))),
            Outcome::Refused
        );
        assert_eq!(
            Outcome::of::<()>(&Err(ApiError::RuleFailed(trap))),
            Outcome::Failed
        );
        assert_eq!(
            Outcome::of::<()>(&Err(ApiError::RuleFailed(CallError::Busy))),
            Outcome::Busy
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
