//! The resource budget of one rule call.

use std::ops::RangeInclusive;
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

/// A limit outside the range the daemon accepts. Each names the
/// `rulesd serve` flag that sets it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    #[error(
        "the rule fuel budget {0} is outside {min}..={max} instructions (--rule-fuel)",
        min = Limits::FUEL.start(),
        max = Limits::FUEL.end()
    )]
    Fuel(u64),
    #[error(
        "the rule timeout {0} ms is outside {min}..={max} ms (--rule-timeout-ms)",
        min = Limits::TIMEOUT_MS.start(),
        max = Limits::TIMEOUT_MS.end()
    )]
    Timeout(u128),
    #[error(
        "the rule memory limit {0} bytes is outside {min}..={max} MiB (--rule-memory-mib)",
        min = Limits::MEMORY_MIB.start(),
        max = Limits::MEMORY_MIB.end()
    )]
    Memory(usize),
    #[error(
        "{0} concurrent rule calls is outside {min}..={max}",
        min = Limits::MAX_CONCURRENT.start(),
        max = Limits::MAX_CONCURRENT.end()
    )]
    Concurrency(u32),
}

impl Limits {
    /// Accepted fuel per call. A quote through the default module uses about
    /// 22,000, so less than a million fails real rules on every call (a typo,
    /// not a tighter budget); above 10^12 the wall-clock limit always stops a
    /// call first.
    pub const FUEL: RangeInclusive<u64> = 1_000_000..=1_000_000_000_000;
    /// Accepted wall-clock limit per call, in milliseconds: at least two
    /// epoch ticks, at most a minute (a request waits for its rule).
    pub const TIMEOUT_MS: RangeInclusive<u64> = 10..=60_000;
    /// Accepted memory per instance, in MiB: the default module needs one
    /// 64 KiB page, and wasm32 addresses at most 4 GiB.
    pub const MEMORY_MIB: RangeInclusive<usize> = 1..=4096;
    /// Accepted size of the instance pool (calls in flight at once).
    pub const MAX_CONCURRENT: RangeInclusive<u32> = 1..=10_000;

    /// Check every limit against its accepted range, so a daemon never starts
    /// with a budget that fails every call (fuel 0) or that blames the
    /// embedded module for its own misconfiguration (memory 0).
    pub fn validate(&self) -> Result<(), LimitsError> {
        if !Self::FUEL.contains(&self.fuel) {
            return Err(LimitsError::Fuel(self.fuel));
        }
        let timeout_ms = self.timeout.as_millis();
        let (lo, hi) = (*Self::TIMEOUT_MS.start(), *Self::TIMEOUT_MS.end());
        if timeout_ms < u128::from(lo) || timeout_ms > u128::from(hi) {
            return Err(LimitsError::Timeout(timeout_ms));
        }
        let (lo, hi) = (*Self::MEMORY_MIB.start(), *Self::MEMORY_MIB.end());
        if self.memory_bytes < lo << 20 || self.memory_bytes > hi << 20 {
            return Err(LimitsError::Memory(self.memory_bytes));
        }
        if !Self::MAX_CONCURRENT.contains(&self.max_concurrent) {
            return Err(LimitsError::Concurrency(self.max_concurrent));
        }
        Ok(())
    }

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
    /// The largest size any memory of the instance asked for, allowed or
    /// not: what `rulesd check` reports as the memory a module needs.
    pub peak: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Also called when a memory is created (from 0 to its minimum).
        self.peak = self.peak.max(desired);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_each_limit_is_range_checked() {
        let ok = Limits::default();
        assert_eq!(ok.validate(), Ok(()));
        let bad = [
            (Limits { fuel: 0, ..ok }, "(--rule-fuel)"),
            (
                Limits {
                    fuel: 999_999,
                    ..ok
                },
                "(--rule-fuel)",
            ),
            (
                Limits {
                    timeout: Duration::ZERO,
                    ..ok
                },
                "(--rule-timeout-ms)",
            ),
            (
                Limits {
                    timeout: Duration::from_secs(61),
                    ..ok
                },
                "(--rule-timeout-ms)",
            ),
            (
                Limits {
                    memory_bytes: 0,
                    ..ok
                },
                "1..=4096 MiB (--rule-memory-mib)",
            ),
            (
                Limits {
                    memory_bytes: (4096 << 20) + 1,
                    ..ok
                },
                "(--rule-memory-mib)",
            ),
            (
                Limits {
                    max_concurrent: 0,
                    ..ok
                },
                "concurrent rule calls",
            ),
        ];
        for (limits, names) in bad {
            let e = limits.validate().unwrap_err().to_string();
            assert!(e.contains(names), "{e}");
        }
        let edges = Limits {
            fuel: *Limits::FUEL.start(),
            timeout: Duration::from_millis(*Limits::TIMEOUT_MS.start()),
            memory_bytes: 1 << 20,
            max_concurrent: 1,
        };
        assert_eq!(edges.validate(), Ok(()));
    }
}
