//! The in-process API: what every endpoint does, without HTTP. Handlers, tests
//! and the replay harness all call these functions.

pub mod accounts;
mod auth;
pub mod candidates;
pub mod clock;
pub mod daily;
pub mod decision;
mod error;
mod facts;
pub mod idempotency;
pub mod ledger;
pub mod metrics;
mod order_policy;
pub(crate) mod pricing;
pub mod quotes;
pub mod services;
pub mod tariffs;

pub use auth::{
    Caller, ChosenKeyError, MIN_CHOSEN_SECRET, check_chosen_secret, find_key, generate_secret,
    insert_key,
};
pub use error::ApiError;
pub use idempotency::{Idempotency, Reply};

use crate::clock::{Clock, TestClock};
use crate::hook::Hook;
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idempotency_retention: chrono::Duration::hours(24),
            auto_delete_days: None,
            suspend_on_weekends: true,
        }
    }
}

/// The daemon's state shared by all requests.
pub struct App {
    pub registry: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Set when started in test-clock mode: the same clock, settable.
    test_clock: Option<Arc<TestClock>>,
    pub store: Store,
    writer: Writer,
    options: Options,
    /// Bounds the rule calls in flight to the instance pool's size, so a burst
    /// queues instead of failing.
    calls: Semaphore,
    /// Held while the daily job runs: one run at a time.
    daily: tokio::sync::Mutex<()>,
    /// API keys already resolved (see `auth::KeyCache`).
    keys: auth::KeyCache,
    /// Counters for `GET /metrics`.
    metrics: metrics::Metrics,
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
    /// `test_clock`: when given, it is the daemon's clock and `/v1/clock` can set it.
    pub fn new(
        registry: Arc<Registry>,
        test_clock: Option<Arc<TestClock>>,
        store: Store,
        writer: Writer,
        options: Options,
    ) -> Self {
        let permits = registry.runtime().limits().max_concurrent as usize;
        let clock: Arc<dyn Clock> = match &test_clock {
            Some(c) => c.clone(),
            None => Arc::new(crate::clock::SystemClock),
        };
        App {
            registry,
            clock,
            test_clock,
            store,
            writer,
            options,
            calls: Semaphore::new(permits.max(1)),
            daily: tokio::sync::Mutex::new(()),
            keys: auth::KeyCache::default(),
            metrics: metrics::Metrics::default(),
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
        reseller: Option<u64>,
        work: impl AsyncFnOnce(&RuleModule) -> T,
    ) -> Result<T, ApiError> {
        let module = self
            .registry
            .resolve(hook, pricing::binding(reseller).as_deref());
        let _permit = self
            .calls
            .acquire()
            .await
            .map_err(|_| ApiError::Internal("the rule runtime is shutting down".into()))?;
        Ok(work(&module).await)
    }
}
