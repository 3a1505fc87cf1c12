//! A loaded, validated rule module and the sandboxed call path.

use super::error::{CallError, LoadError};
use super::limits::{Limiter, Limits, MemoryLimitExceeded};
use super::warm::{Kept, Warm};
use crate::contract::bindings::{
    ip_allocation, license_pool, pricing, proration, tariff_change, types, wholesale,
};
use crate::contract::hook::{CONTRACT_PACKAGE, CONTRACT_VERSION, Hook};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use wasmtime::component::{Component, Instance, InstancePre, Linker};
use wasmtime::{Engine, Store, Trap};

/// Fuel between yields to the async reactor during a rule call: far more
/// than a default decision uses (so it never yields), little enough that a
/// long rule shares the reactor thread (BENCHMARKS.md has the figures).
const YIELD_FUEL: u64 = 250_000;

/// Where a module came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "lowercase")]
pub enum ModuleSource {
    /// Compiled into the daemon binary.
    Embedded,
    /// A file in the rules directory.
    File(PathBuf),
}

/// The export indices of the hooks a module implements, resolved once at load.
#[derive(Default)]
struct HookIndices {
    pricing: Option<pricing::GuestIndices>,
    tariff_change: Option<tariff_change::GuestIndices>,
    proration: Option<proration::GuestIndices>,
    ip_allocation: Option<ip_allocation::GuestIndices>,
    license_pool: Option<license_pool::GuestIndices>,
    wholesale: Option<wholesale::GuestIndices>,
}

/// A rule's answer plus what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Called<T> {
    pub value: T,
    pub fuel_used: u64,
}

/// What the store of one call holds: the limiter and, once the rule first
/// calls WASI, the locked-down context of [`super::imports`]. No other host
/// state: a rule has no ambient authority at all.
pub(super) struct Sandbox {
    limiter: Limiter,
    pub(super) wasi: Option<Box<super::imports::Wasi>>,
}

/// A compiled, validated module. Immutable; swapped as a whole on reload, so an
/// in-flight call finishes on the version it started with.
pub struct RuleModule {
    pub name: String,
    pub sha256: String,
    pub source: ModuleSource,
    pub loaded_at: DateTime<Utc>,
    /// What the component imports (WASI interfaces, for a module built with
    /// std or a language runtime). WASI is frozen (see `super::imports`), the
    /// rest traps; each import still costs a little wiring at every
    /// instantiation, which is why the default module has none.
    pub imports: Vec<String>,
    limits: Limits,
    pre: InstancePre<Sandbox>,
    hooks: HookIndices,
    /// Idle instances kept between calls, when rules.toml asks for reuse.
    warm: Warm<(Store<Sandbox>, Instance)>,
}

impl std::fmt::Debug for RuleModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleModule")
            .field("name", &self.name)
            .field("sha256", &self.sha256)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Refuse a component built against another version of the contract, with
/// both versions named: otherwise it would load with no hook found, or fail
/// on a type it was never given.
fn check_contract_version(
    engine: &Engine,
    name: &str,
    component: &Component,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    let names = ty
        .imports(engine)
        .map(|(n, _)| n.to_string())
        .chain(ty.exports(engine).map(|(n, _)| n.to_string()));
    let prefix = format!("{CONTRACT_PACKAGE}/");
    for n in names {
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let found = rest.split_once('@').map_or("", |(_, v)| v);
        if found != CONTRACT_VERSION {
            return Err(LoadError::ContractVersion {
                name: name.into(),
                found: if found.is_empty() {
                    "(no version)".into()
                } else {
                    found.into()
                },
                expected: CONTRACT_VERSION,
            });
        }
    }
    Ok(())
}

impl RuleModule {
    pub(super) fn new(
        engine: &Engine,
        limits: Limits,
        name: &str,
        sha256: String,
        source: ModuleSource,
        component: Component,
        shared_idle: Arc<AtomicUsize>,
    ) -> Result<Self, LoadError> {
        check_contract_version(engine, name, &component)?;
        let mut linker = Linker::<Sandbox>::new(engine);
        // Language runtimes import WASI and use some of it on their own; it
        // is defined, frozen and powerless (see `super::imports`). Anything
        // else a component imports is a trap: a rule that calls it fails its
        // call instead of getting ambient authority.
        super::imports::link(engine, &mut linker, &component)
            .map_err(|e| instantiate_err(name, e))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| instantiate_err(name, e))?;
        let hooks = HookIndices {
            pricing: pricing::GuestIndices::new(&pre).ok(),
            tariff_change: tariff_change::GuestIndices::new(&pre).ok(),
            proration: proration::GuestIndices::new(&pre).ok(),
            ip_allocation: ip_allocation::GuestIndices::new(&pre).ok(),
            license_pool: license_pool::GuestIndices::new(&pre).ok(),
            wholesale: wholesale::GuestIndices::new(&pre).ok(),
        };
        let imports = component
            .component_type()
            .imports(engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let module = RuleModule {
            name: name.into(),
            sha256,
            source,
            loaded_at: Utc::now(),
            imports,
            limits,
            pre,
            hooks,
            warm: Warm::new(shared_idle),
        };
        if module.exports().is_empty() {
            let found: Vec<String> = component
                .component_type()
                .exports(engine)
                .map(|(n, _)| n.to_string())
                .collect();
            return Err(LoadError::NoHooks {
                name: name.into(),
                expected: Hook::ALL.map(|h| h.export_name()).join(", "),
                found: if found.is_empty() {
                    "none".into()
                } else {
                    found.join(", ")
                },
            });
        }
        module.probe()?;
        Ok(module)
    }

    /// Instantiate once and type-check every exported hook against the
    /// contract, so a mismatch is a load error and not a failure per request.
    fn probe(&self) -> Result<(), LoadError> {
        let mut store = self.store();
        // Async like every call: WASI's host functions are async ones.
        let instance = super::block_on(self.pre.instantiate_async(&mut store))
            .map_err(|e| instantiate_err(&self.name, e))?;
        let mismatch = |hook: Hook| {
            move |e: wasmtime::Error| LoadError::Mismatch {
                name: self.name.clone(),
                hook,
                reason: super::one_line(&format!("{e:#}")),
            }
        };
        if let Some(i) = &self.hooks.pricing {
            i.load(&mut store, &instance)
                .map_err(mismatch(Hook::Pricing))?;
        }
        if let Some(i) = &self.hooks.tariff_change {
            i.load(&mut store, &instance)
                .map_err(mismatch(Hook::TariffChange))?;
        }
        if let Some(i) = &self.hooks.proration {
            i.load(&mut store, &instance)
                .map_err(mismatch(Hook::Proration))?;
        }
        if let Some(i) = &self.hooks.ip_allocation {
            i.load(&mut store, &instance)
                .map_err(mismatch(Hook::IpAllocation))?;
        }
        if let Some(i) = &self.hooks.license_pool {
            i.load(&mut store, &instance)
                .map_err(mismatch(Hook::LicensePool))?;
        }
        if let Some(i) = &self.hooks.wholesale {
            i.load(&mut store, &instance)
                .map_err(mismatch(Hook::Wholesale))?;
        }
        Ok(())
    }

    /// The hooks this module exports.
    pub fn exports(&self) -> Vec<Hook> {
        let h = &self.hooks;
        let present = [
            h.pricing.is_some(),
            h.tariff_change.is_some(),
            h.proration.is_some(),
            h.ip_allocation.is_some(),
            h.license_pool.is_some(),
            h.wholesale.is_some(),
        ];
        Hook::ALL
            .into_iter()
            .zip(present)
            .filter_map(|(hook, p)| p.then_some(hook))
            .collect()
    }

    pub fn exports_hook(&self, hook: Hook) -> bool {
        self.exports().contains(&hook)
    }

    pub fn fuel_budget(&self) -> u64 {
        self.limits.fuel
    }

    /// Keep instances between calls (rules.toml `reuse`, `rulesd diff
    /// --reuse-instances`), or stop: see `super::warm` for what that
    /// changes and what it never does.
    pub fn set_reuse(&self, on: bool) {
        self.warm.set_enabled(on);
    }

    pub fn reuses_instances(&self) -> bool {
        self.warm.enabled()
    }

    /// An answer of this module was refused by the daemon's checks while it
    /// reuses instances: count it and drop the kept ones (`decide::run`
    /// then asks a fresh instance, see `super::warm`).
    pub fn refused_while_reusing(&self) {
        self.warm.failed();
        tracing::warn!(module = %self.name, "an answer was refused while instances are reused; asking a fresh instance");
    }

    /// Calls that failed on a kept instance, or whose answer was refused,
    /// since the module loaded.
    pub fn reuse_failures(&self) -> u64 {
        self.warm.failures()
    }

    fn store(&self) -> Store<Sandbox> {
        let mut store = Store::new(
            self.pre.engine(),
            Sandbox {
                limiter: Limiter {
                    memory_bytes: self.limits.memory_bytes,
                    peak: 0,
                },
                wasi: None,
            },
        );
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        self.arm(&mut store);
        store
    }

    /// Give a store the budget of one call: the whole fuel budget and time
    /// limit, and an empty output buffer (a reused store gets them anew).
    fn arm(&self, store: &mut Store<Sandbox>) {
        // Fuel is only settable to a value, which cannot fail when fuel
        // consumption is enabled (it always is, see `engine_config`).
        let _ = store.set_fuel(self.limits.fuel);
        store.set_epoch_deadline(self.limits.epoch_ticks());
        store.data().clear_output();
    }

    /// Run `f` against a fresh instance (fuel budget and epoch deadline armed by
    /// [`Self::store`]), or a kept one when reuse is on, and classify whatever
    /// goes wrong.
    ///
    /// The call runs on a wasmtime fiber on the caller's thread: a decision
    /// costs no thread hand-off, and a long rule yields to the async reactor
    /// every [`YIELD_FUEL`] instructions instead of stalling it.
    async fn run<R>(
        &self,
        hook: Hook,
        // Clone: a call that fails on a reused instance is made again.
        f: impl AsyncFnOnce(&mut Store<Sandbox>, &Instance) -> wasmtime::Result<R> + Clone,
    ) -> Result<Called<R>, CallError> {
        if let Some(mut warm) = self.warm.take() {
            let (store, instance) = &mut warm.instance;
            self.arm(store);
            match f.clone()(store, instance).await {
                Ok(value) => {
                    let called = self.answered(hook, store, value);
                    warm.calls += 1;
                    self.warm.put(warm);
                    return Ok(called);
                }
                // A failure on a reused instance is never the answer: the
                // call is made again on a fresh one, whose answer stands.
                Err(e) => {
                    self.warm.failed();
                    tracing::warn!(
                        module = %self.name,
                        %hook,
                        calls = warm.calls,
                        error = %super::one_line(&format!("{e:#}")),
                        "a call failed on a reused instance; made again on a fresh one \
                         (a rule that fails on reused instances must not be listed in reuse)"
                    );
                }
            }
        }
        let mut store = self.store();
        // Fuel is enabled (see `engine_config`) and the interval is non-zero,
        // so this cannot fail.
        let _ = store.fuel_async_yield_interval(Some(YIELD_FUEL));
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| self.classify(hook, e, store.data().output()))?;
        let value = match f(&mut store, &instance).await {
            Ok(value) => value,
            Err(e) => return Err(self.classify(hook, e, store.data().output())),
        };
        let called = self.answered(hook, &store, value);
        if self.warm.enabled() {
            self.warm.put(Kept {
                instance: (store, instance),
                calls: 1,
            });
        }
        Ok(called)
    }

    /// A call's answer and the fuel it used; what it printed goes to the log.
    fn answered<R>(&self, hook: Hook, store: &Store<Sandbox>, value: R) -> Called<R> {
        if let Some(output) = store.data().output() {
            tracing::debug!(module = %self.name, %hook, ?output, "rule output");
        }
        let left = store.get_fuel().unwrap_or(0);
        Called {
            value,
            fuel_used: self.limits.fuel - left,
        }
    }

    /// Turn a failed call into its typed error; a trap carries the end of
    /// what the rule printed (a Python traceback, a Rust panic message).
    fn classify(&self, hook: Hook, e: wasmtime::Error, output: Option<String>) -> CallError {
        let module = self.name.clone();
        let printed = output.map_or(String::new(), |o| format!("; the rule's last output: {o}"));
        if let Some(m) = e.downcast_ref::<MemoryLimitExceeded>() {
            return CallError::Memory {
                module,
                detail: m.to_string(),
            };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::OutOfFuel {
                module,
                budget: self.limits.fuel,
            },
            Some(Trap::Interrupt) => CallError::Timeout {
                module,
                limit_ms: self.limits.timeout.as_millis(),
            },
            Some(Trap::UnreachableCodeReached) => CallError::Trap {
                module,
                detail: format!(
                    "{hook}: wasm `unreachable` executed (the rule panicked or aborted){printed}"
                ),
            },
            _ => {
                let detail = format!("{e:#}");
                if detail.contains("concurrent") || detail.contains("maximum number") {
                    CallError::Busy
                } else {
                    CallError::Trap {
                        module,
                        detail: format!("{hook}: {}{printed}", first_lines(&detail, 6)),
                    }
                }
            }
        }
    }

    /// Create a sandboxed instance and drop it without calling anything: the
    /// fixed cost of every call, measured on its own by `benches/decision.rs`.
    pub fn instantiate_only(&self) -> Result<(), CallError> {
        let mut store = self.store();
        super::block_on(self.pre.instantiate_async(&mut store))
            .map(drop)
            .map_err(|e| self.classify(Hook::Pricing, e, None))
    }

    /// The memory a fresh instance starts with, in bytes (its largest linear
    /// memory, which `--rule-memory-mib` bounds): what a call needs before
    /// the rule allocates anything, for `rulesd check`.
    pub fn initial_memory(&self) -> Result<usize, CallError> {
        let mut store = self.store();
        super::block_on(self.pre.instantiate_async(&mut store))
            .map_err(|e| self.classify(Hook::Pricing, e, None))?;
        Ok(store.data().limiter.peak)
    }

    fn indices<'a, T>(&self, hook: Hook, i: &'a Option<T>) -> Result<&'a T, CallError> {
        i.as_ref().ok_or_else(|| CallError::NotExported {
            module: self.name.clone(),
            hook,
        })
    }

    pub async fn price(
        &self,
        req: &pricing::PriceRequest,
    ) -> Result<Called<Result<pricing::PriceDecision, types::RuleError>>, CallError> {
        let i = self.indices(Hook::Pricing, &self.hooks.pricing)?;
        self.run(Hook::Pricing, async |store, instance| {
            i.load(&mut *store, instance)?.call_price(store, req).await
        })
        .await
    }

    pub async fn change_tariff(
        &self,
        req: &tariff_change::ChangeRequest,
    ) -> Result<Called<Result<tariff_change::ChangeDecision, types::RuleError>>, CallError> {
        let i = self.indices(Hook::TariffChange, &self.hooks.tariff_change)?;
        self.run(Hook::TariffChange, async |store, instance| {
            i.load(&mut *store, instance)?.call_change(store, req).await
        })
        .await
    }

    pub async fn prorate(
        &self,
        req: &proration::ProrationRequest,
    ) -> Result<Called<Result<proration::ProrationDecision, types::RuleError>>, CallError> {
        let i = self.indices(Hook::Proration, &self.hooks.proration)?;
        self.run(Hook::Proration, async |store, instance| {
            i.load(&mut *store, instance)?
                .call_prorate(store, req)
                .await
        })
        .await
    }

    pub async fn allocate_ip(
        &self,
        req: &ip_allocation::AllocationRequest,
    ) -> Result<Called<Result<ip_allocation::AllocationDecision, types::RuleError>>, CallError>
    {
        let i = self.indices(Hook::IpAllocation, &self.hooks.ip_allocation)?;
        self.run(Hook::IpAllocation, async |store, instance| {
            i.load(&mut *store, instance)?
                .call_allocate(store, req)
                .await
        })
        .await
    }

    pub async fn decide_license(
        &self,
        req: &license_pool::LicenseRequest,
    ) -> Result<Called<Result<license_pool::LicenseDecision, types::RuleError>>, CallError> {
        let i = self.indices(Hook::LicensePool, &self.hooks.license_pool)?;
        self.run(Hook::LicensePool, async |store, instance| {
            i.load(&mut *store, instance)?.call_decide(store, req).await
        })
        .await
    }

    pub async fn wholesale(
        &self,
        req: &wholesale::WholesaleRequest,
    ) -> Result<Called<Result<wholesale::WholesaleDecision, types::RuleError>>, CallError> {
        let i = self.indices(Hook::Wholesale, &self.hooks.wholesale)?;
        self.run(Hook::Wholesale, async |store, instance| {
            i.load(&mut *store, instance)?
                .call_wholesale(store, req)
                .await
        })
        .await
    }
}

fn instantiate_err(name: &str, e: wasmtime::Error) -> LoadError {
    LoadError::Instantiate {
        name: name.into(),
        reason: super::one_line(&format!("{e:#}")),
    }
}

/// Trap messages carry a wasm backtrace; keep the head, which names the cause.
fn first_lines(s: &str, n: usize) -> String {
    s.lines().take(n).collect::<Vec<_>>().join("\n")
}
