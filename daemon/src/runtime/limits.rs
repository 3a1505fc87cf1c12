//! The resource budget of one rule call.

use std::time::Duration;

/// Limits applied to every rule call. The defaults fit the default module with a
/// wide margin (a quote uses well under 1% of the fuel budget) while a runaway
/// rule is stopped within milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deterministic instruction budget (wasmtime fuel) per call.
    pub fuel: u64,
    /// Wall-clock backstop per call, enforced by epoch interruption.
    pub timeout: Duration,
    /// Maximum linear memory of one instance, in bytes.
    pub memory_bytes: usize,
    /// Maximum number of rule calls running at once (instances in the pool).
    pub max_concurrent: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 50_000_000,
            timeout: Duration::from_millis(1_000),
            memory_bytes: 32 << 20,
            max_concurrent: 128,
        }
    }
}

/// How often the epoch ticks; the timeout is rounded up to whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

impl Limits {
    pub(crate) fn epoch_ticks(&self) -> u64 {
        let ticks = self.timeout.as_micros().div_ceil(EPOCH_TICK.as_micros());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

/// Why a call ran over its budget.
#[derive(Debug, thiserror::Error)]
#[error("the rule tried to grow its memory to {desired} bytes; the limit is {limit} bytes")]
pub struct MemoryLimitExceeded {
    pub desired: usize,
    pub limit: usize,
}

/// The per-store limiter: traps (rather than failing `memory.grow`) so the
/// error names the cause instead of surfacing as an allocator abort.
pub(crate) struct Limiter {
    pub memory_bytes: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                desired,
                limit: self.memory_bytes,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
