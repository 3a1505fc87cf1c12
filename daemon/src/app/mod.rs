//! What every domain shares: the daemon's state ([`App`]), the caller,
//! typed errors, idempotent writes, the daily job's runner and the metrics
//! counters. Nothing here imports a domain (billing, ledger, tenancy...);
//! domains add `impl App` blocks of their own.

pub mod caller;
pub mod daily;
pub mod error;
pub mod idempotency;
pub mod lifecycle;
pub mod metrics;
pub mod ratelimit;

pub use caller::Caller;
pub use error::ApiError;
pub use idempotency::{Idempotency, Written};
pub use lifecycle::{
    Before, Listeners, OnLinesRecorded, OnServiceDeleted, OnServiceSaved, Recorded, Saved,
};

use caller::KeyCache;
use daily::DailyStep;
use metrics::Metrics;
use ratelimit::{RateLimit, RateLimits};

use crate::clock::{Clock, TestClock};
use crate::contract::hook::Hook;
use crate::domain::accounts::CreditLimit;
use crate::domain::ids::AccountId;
use crate::rules::{Registry, RulesReport};
use crate::runtime::RuleModule;
use crate::store::{Store, Writer};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

/// Tunables of the API layer.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long an Idempotency-Key record is kept (at least).
    pub idempotency_retention: chrono::Duration,
    /// Product-type setting: days after expiry an unrenewed service is
    /// deleted, for tariffs that do not set their own (None: never).
    pub auto_delete_days: Option<u32>,
    /// Product-type setting: whether unpaid services are suspended on
    /// Saturdays and Sundays, for tariffs that do not decide it themselves.
    pub suspend_on_weekends: bool,
    /// The credit limit of accounts that set none (`--credit-limit`).
    pub credit_limit: CreditLimit,
    /// Requests per second (and burst) of each provider key and each
    /// reseller key.
    pub provider_rate: RateLimit,
    pub reseller_rate: RateLimit,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idempotency_retention: chrono::Duration::hours(24),
            auto_delete_days: None,
            suspend_on_weekends: true,
            credit_limit: CreditLimit::Unlimited,
            provider_rate: RateLimit::provider_default(),
            reseller_rate: RateLimit::reseller_default(),
        }
    }
}

/// The daemon's state shared by all requests.
pub struct App {
    pub registry: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Set when started in test-clock mode: the same clock, settable.
    pub(crate) test_clock: Option<Arc<TestClock>>,
    pub store: Store,
    pub(crate) writer: Writer,
    pub(crate) options: Options,
    /// Bounds the rule calls in flight to the instance pool's size, so a burst
    /// queues instead of failing.
    calls: Semaphore,
    /// Held while the daily job runs: one run at a time.
    daily: tokio::sync::Mutex<()>,
    /// What the daily job does each day, in order.
    daily_steps: Vec<Box<dyn DailyStep>>,
    /// API keys already resolved (see [`KeyCache`]).
    pub(crate) keys: KeyCache,
    /// Counters for `GET /metrics`.
    pub(crate) metrics: Arc<Metrics>,
    /// A token bucket per API key.
    pub(crate) rate_limits: RateLimits,
    /// What other domains do when a service is deleted or lines are
    /// recorded for it.
    pub(crate) listeners: Listeners,
}

/// What the domains plug into the shared machinery.
#[derive(Default)]
pub struct Domains {
    /// What the daily job does each day, in order.
    pub daily_steps: Vec<Box<dyn DailyStep>>,
    /// What happens, in the same transaction, when a service is deleted.
    pub on_service_deleted: Vec<Arc<dyn OnServiceDeleted>>,
    /// What is recorded with a service's ledger lines, in their transaction.
    pub on_lines_recorded: Vec<Arc<dyn OnLinesRecorded>>,
    /// What follows a service's status, panel and primary IP, in the
    /// transaction that saves it.
    pub on_service_saved: Vec<Arc<dyn OnServiceSaved>>,
}

/// The key rule bindings are looked up by: a reseller's id, or none for the
/// provider (`rules.toml`'s `[resellers.<id>]`).
pub(crate) fn binding(reseller: Option<AccountId>) -> Option<String> {
    reseller.map(|r| r.to_string())
}

/// Which module made a decision and what it cost; attached to every answer that
/// a rule decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleStamp {
    pub hook: Hook,
    pub module: String,
    pub sha256: String,
    /// Fuel (wasm instructions, roughly) the call used.
    pub fuel_used: u64,
}

impl App {
    /// `test_clock`: when given, it is the daemon's clock and `/v1/clock` can
    /// set it. `domains`: what the domains add to the daily job and to a
    /// service's deletion.
    pub fn new(
        registry: Arc<Registry>,
        test_clock: Option<Arc<TestClock>>,
        store: Store,
        writer: Writer,
        options: Options,
        domains: Domains,
    ) -> Self {
        let permits = registry.runtime().limits().max_concurrent as usize;
        let clock: Arc<dyn Clock> = match &test_clock {
            Some(c) => c.clone(),
            None => Arc::new(crate::clock::SystemClock),
        };
        let rate_limits = RateLimits::new(options.provider_rate, options.reseller_rate);
        let metrics = Arc::new(Metrics::default());
        App {
            registry,
            clock,
            test_clock,
            store,
            writer,
            options,
            calls: Semaphore::new(permits.max(1)),
            daily: tokio::sync::Mutex::new(()),
            daily_steps: domains.daily_steps,
            keys: KeyCache::default(),
            metrics: metrics.clone(),
            rate_limits,
            listeners: Listeners::new(
                domains.on_service_deleted,
                domains.on_lines_recorded,
                domains.on_service_saved,
                metrics,
            ),
        }
    }

    /// `GET /v1/rules` (provider only: module details are the provider's business).
    pub fn rules(&self, caller: &Caller) -> Result<RulesReport, ApiError> {
        caller.require_provider()?;
        Ok(self.registry.report())
    }

    /// Run `work` with the module bound to `hook` (for `reseller`), holding a
    /// permit so calls never exceed the instance pool. Rule calls run on the
    /// reactor's thread inside a wasmtime fiber and yield on fuel, so a slow
    /// rule never stalls other requests (see `RuleModule::run`).
    pub(crate) async fn with_module<T>(
        &self,
        hook: Hook,
        reseller: Option<AccountId>,
        work: impl AsyncFnOnce(&RuleModule) -> T,
    ) -> Result<T, ApiError> {
        let module = self.registry.resolve(hook, binding(reseller).as_deref());
        let _permit = self
            .calls
            .acquire()
            .await
            .map_err(|_| ApiError::Internal("the rule runtime is shutting down".into()))?;
        Ok(work(&module).await)
    }

    /// A place among the rule calls in flight, for a call made elsewhere
    /// than [`App::with_module`] (an allocation decides inside the writer).
    pub(crate) async fn rule_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.calls
            .acquire()
            .await
            .map_err(|_| ApiError::Internal("the rule runtime is shutting down".into()))
    }
}
