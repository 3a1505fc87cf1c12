//! The in-process API: what every endpoint does, without HTTP. Handlers, tests
//! and the replay harness all call these functions.

pub mod decision;
mod error;
pub mod quotes;

pub use error::ApiError;

use crate::clock::Clock;
use crate::hook::Hook;
use crate::rules::{Registry, RulesReport};
use crate::runtime::{CallError, Called, RuleModule};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

/// The daemon's state shared by all requests.
pub struct App {
    pub registry: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Bounds the rule calls in flight to the instance pool's size, so a burst
    /// queues instead of failing.
    calls: Semaphore,
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
    pub fn new(registry: Arc<Registry>, clock: Arc<dyn Clock>) -> Self {
        let permits = registry.runtime().limits().max_concurrent as usize;
        App {
            registry,
            clock,
            calls: Semaphore::new(permits.max(1)),
        }
    }

    /// `GET /v1/rules`.
    pub fn rules(&self) -> RulesReport {
        self.registry.report()
    }

    /// Run a rule call on the blocking pool, so a slow rule never stalls the
    /// async reactor, and with a permit so calls never exceed the instance pool.
    pub(crate) async fn call_rule<T: Send + 'static>(
        &self,
        hook: Hook,
        reseller: Option<&str>,
        call: impl FnOnce(&RuleModule) -> Result<Called<T>, CallError> + Send + 'static,
    ) -> Result<(Arc<RuleModule>, Called<T>), ApiError> {
        let module = self.registry.resolve(hook, reseller);
        let _permit = self
            .calls
            .acquire()
            .await
            .map_err(|_| ApiError::Internal("the rule runtime is shutting down".into()))?;
        let m = module.clone();
        let called = tokio::task::spawn_blocking(move || call(&m))
            .await
            .map_err(|e| ApiError::Internal(format!("rule call task failed: {e}")))??;
        Ok((module, called))
    }
}
