//! Counters for `GET /metrics` (rendered by `http::metrics`), for alerts a
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
#[derive(Debug, Clone, Default)]
pub struct DailyCounters {
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
    /// Requests refused by a key's rate limit, by role (provider, reseller).
    rate_limited: [std::sync::atomic::AtomicU64; 2],
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

    /// Count a request refused by its key's rate limit.
    pub(crate) fn rate_limited(&self, role: crate::domain::accounts::Role) {
        let i = role as usize;
        self.rate_limited[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Count a run of the daily job.
    pub(crate) fn daily_run(&self, count: impl FnOnce(&mut DailyCounters)) {
        count(&mut self.daily.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Calls of one module for one hook that ended one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCalls {
    pub module: String,
    pub hook: Hook,
    /// "ok", "refused", "failed" or "busy".
    pub outcome: &'static str,
    pub count: u64,
}

/// The counters at one moment, for whoever renders them.
#[derive(Debug, Clone)]
pub struct MetricsSnapshot {
    /// Only combinations that happened, by module, then hook, then outcome.
    pub rule_calls: Vec<RuleCalls>,
    /// Rule files and bindings that currently fail to load.
    pub load_errors: usize,
    pub daily: DailyCounters,
    /// Requests refused by their key's rate limit: provider keys, reseller keys.
    pub rate_limited: [u64; 2],
}

impl App {
    /// The counters (provider only: the counts are the provider's business).
    pub fn metrics(&self, caller: &Caller) -> Result<MetricsSnapshot, ApiError> {
        caller.require_provider()?;
        let calls = self.metrics.calls.lock().unwrap_or_else(|e| e.into_inner());
        let mut rule_calls = Vec::new();
        for (module, counts) in calls.iter() {
            for (hook, by_outcome) in Hook::ALL.iter().zip(counts) {
                for (outcome, n) in OUTCOMES.iter().zip(by_outcome) {
                    if *n > 0 {
                        rule_calls.push(RuleCalls {
                            module: module.clone(),
                            hook: *hook,
                            outcome: outcome.label(),
                            count: *n,
                        });
                    }
                }
            }
        }
        drop(calls);
        let daily = self
            .metrics
            .daily
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let limited =
            |i: usize| self.metrics.rate_limited[i].load(std::sync::atomic::Ordering::Relaxed);
        Ok(MetricsSnapshot {
            rule_calls,
            load_errors: self.registry.report().errors.len(),
            daily,
            rate_limited: [limited(0), limited(1)],
        })
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
}
