//! Opt-in reuse of instances between calls (`reuse` in rules.toml).
//!
//! By default every call gets a fresh instance, so nothing a rule keeps in a
//! global survives to the next call. A Python or JavaScript rule pays most
//! of its decision time re-creating its language runtime from the memory
//! image (BENCHMARKS.md, "Rules in other languages"); a provider whose rule
//! keeps no state between calls may have its instances kept warm instead.
//!
//! What keeps reuse honest:
//! - Only a call that succeeded puts its instance back: a trap, running out
//!   of fuel or time, or the memory limit drops the instance.
//! - A call that fails on a reused instance is made again on a fresh one,
//!   and the fresh answer stands, so a reused instance can never be the
//!   cause of a failed decision (a heap grown over many calls, say). So is
//!   an answer the daemon refuses (`decide::run`, through [`fresh_only`]),
//!   and the kept instances are dropped then. Each such failure is counted
//!   (`GET /v1/rules`, `rulesd check`): a module that fails on reused
//!   instances keeps state and must not be listed.
//! - An instance is retired after [`MAX_CALLS`] calls, so whatever a runtime
//!   accumulates is bounded: rules-sdk's no-std bump allocator never frees
//!   (the default rule's memory grows by about 1 KiB a call on a kept
//!   instance, 64 KiB every ~60 calls), and a runtime's caches or
//!   fragmentation grow too. Memory that reaches the limit first is a
//!   failure like any other: the call is made again on a fresh instance.
//! - Idle instances hold pool slots: all modules together keep at most
//!   [`IDLE_SLOTS`] idle, in slots reserved for them (see `engine_config`).
//! - Each call gets its full fuel budget and time limit again, and its own
//!   output buffer.
//!
//! What reuse does change: a rule that keeps state (a counter, a cache keyed
//! by something other than its input, WASI randomness it reads) may answer
//! differently. `rulesd check` calls every hook on a fresh and on a reused
//! instance and says whether the answers agree; `rulesd diff
//! --reuse-instances` re-runs stored decisions on reused instances.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

tokio::task_local! {
    /// Set while a call must not take a kept instance.
    static FRESH_ONLY: ();
}

/// Run `call` (rule calls of this task) on fresh instances only, whatever
/// the module's reuse: the retry of an answer the daemon refused.
pub async fn fresh_only<F: Future>(call: F) -> F::Output {
    FRESH_ONLY.scope((), call).await
}

/// Whether the current task is inside [`fresh_only`].
pub(super) fn must_be_fresh() -> bool {
    FRESH_ONLY.try_with(|_| ()).is_ok()
}

/// Pool slots reserved for idle instances, across all modules.
pub(super) const IDLE_SLOTS: u32 = 8;

/// Calls an instance serves before it is retired.
pub(super) const MAX_CALLS: u32 = 10_000;

/// An instance kept between calls (with the store that owns it), and how
/// many calls it has served.
pub(super) struct Kept<T> {
    pub(super) instance: T,
    pub(super) calls: u32,
}

/// One module's idle instances, when its reuse is switched on.
pub(super) struct Warm<T> {
    enabled: AtomicBool,
    idle: Mutex<Vec<Kept<T>>>,
    /// Idle instances of all modules of the runtime, bounded by [`IDLE_SLOTS`].
    shared_idle: Arc<AtomicUsize>,
    /// Calls that failed on a kept instance, or whose answer was refused.
    failures: AtomicU64,
}

impl<T> Warm<T> {
    pub(super) fn new(shared_idle: Arc<AtomicUsize>) -> Self {
        Warm {
            enabled: AtomicBool::new(false),
            idle: Mutex::new(Vec::new()),
            shared_idle,
            failures: AtomicU64::new(0),
        }
    }

    pub(super) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Switch reuse on or off; off drops the idle instances at once.
    pub(super) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
        if !on {
            self.drain();
        }
    }

    /// A call failed on a kept instance (or its answer was refused): count
    /// it, and drop the kept instances, which may share its state.
    pub(super) fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        self.drain();
    }

    pub(super) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// An idle instance, if one is kept and the task may use one.
    pub(super) fn take(&self) -> Option<Kept<T>> {
        // Off (the default), every call is fresh without taking the lock.
        if !self.enabled() || must_be_fresh() {
            return None;
        }
        let taken = self.lock().pop();
        if taken.is_some() {
            self.shared_idle.fetch_sub(1, Ordering::AcqRel);
        }
        taken
    }

    /// Keep an instance that just answered, unless reuse is off, it has
    /// served its calls, or the idle slots are all taken.
    pub(super) fn put(&self, warm: Kept<T>) {
        if !self.enabled() || warm.calls >= MAX_CALLS {
            return;
        }
        let reserved = self
            .shared_idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < IDLE_SLOTS as usize).then_some(n + 1)
            });
        if reserved.is_ok() {
            self.lock().push(warm);
        }
    }

    fn drain(&self) {
        let dropped = std::mem::take(&mut *self.lock());
        self.shared_idle.fetch_sub(dropped.len(), Ordering::AcqRel);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept<T>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Drop for Warm<T> {
    fn drop(&mut self) {
        self.drain();
    }
}
