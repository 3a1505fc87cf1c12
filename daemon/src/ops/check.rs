//! `rulesd check MODULE.wasm`: what a module is to this daemon before it is
//! deployed. It is loaded by the runtime's own `Runtime::load` (same engine
//! configuration, limits and import wiring as `rulesd serve`), so "accepted"
//! here means accepted there, with the same words when it is not; then every
//! hook it exports is called once through `decide::run` (the daemon's checks
//! of the answer included) on a sample request built into the binary, on a
//! fresh instance and then on reused ones (whether the module may be listed
//! in rules.toml's `reuse`).

use crate::app::ApiError;
use crate::contract::hook::{CONTRACT_VERSION, Hook};
use crate::decide::{self, RuleInput};
use crate::runtime::{self, LoadError, ModuleSource, Runtime};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// Everything `rulesd check` found out about one module.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub file: String,
    pub bytes: usize,
    pub sha256: String,
    /// The contract version the module was built against, when known (a file
    /// that is not a component has none).
    pub contract: Option<String>,
    /// The contract version this daemon serves.
    pub serves: &'static str,
    /// Whether the daemon would load the module.
    pub accepted: bool,
    /// The daemon's load error, word for word, when it would not.
    pub load_error: Option<String>,
    pub hooks: Vec<Hook>,
    pub imports: Vec<Import>,
    /// The memory a fresh instance starts with (measured without the limit
    /// when the module is over it), and the `--rule-memory-mib` that fits it.
    pub memory: Option<Memory>,
    pub compile_ms: u64,
    pub smoke: Vec<Smoke>,
    /// The hooks' sample calls again on a kept instance (rules.toml
    /// `reuse`): whether each answers as the fresh instance did.
    pub reuse: Vec<Reuse>,
    /// Whether the daemon would load the module and serve every hook it
    /// exports (a refusal of the sample request is an answer; a trap, a
    /// limit or a decision the daemon refuses is not). The exit status.
    pub ok: bool,
}

/// One import of the component, and what the sandbox does with it.
#[derive(Debug, Serialize)]
pub struct Import {
    pub name: String,
    pub kind: ImportKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// WASI, defined frozen (runtime/imports.rs).
    Wasi,
    /// The contract's own type interface: nothing to call.
    ContractTypes,
    /// Anything else: defined, but every call traps.
    Traps,
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub bytes: usize,
    pub rule_memory_mib: usize,
    /// The `--rule-memory-mib` this check ran with.
    pub limit_mib: usize,
}

/// One call of a hook on its sample request.
#[derive(Debug, Serialize)]
pub struct Smoke {
    pub hook: Hook,
    /// "answered" (a decision the daemon accepts), "refused" (one of the
    /// rule's own errors: denied, invalid input, not implemented), "failed"
    /// (a trap, a limit, a decision the daemon refuses) or "skipped" (this
    /// daemon has no sample request for the hook).
    pub outcome: &'static str,
    pub fuel: Option<u64>,
    pub micros: Option<u64>,
    /// The decision as JSON, or the error's text.
    pub answer: String,
}

/// A hook's sample call made again on reused instances.
#[derive(Debug, Serialize)]
pub struct Reuse {
    pub hook: Hook,
    /// Whether every reused call answered exactly as the fresh one, with
    /// no call failing on a kept instance.
    pub same: bool,
    /// Reused calls that failed on a kept instance (made again fresh).
    pub failures: u64,
    /// The first answer that differed from the fresh one, if any.
    pub different: Option<String>,
    /// The last reused call's fuel and time.
    pub fuel: Option<u64>,
    pub micros: u64,
}

/// Calls of each sample with reuse on: the first leaves its instance kept,
/// the others reuse it.
const REUSE_CALLS: usize = 3;

/// Load `bytes` as the daemon would with `runtime`'s limits, and smoke-call
/// every exported hook.
pub fn check(runtime: &Runtime, path: &Path, bytes: &[u8]) -> CheckReport {
    let name = path.display().to_string();
    let mut report = CheckReport {
        file: name.clone(),
        bytes: bytes.len(),
        sha256: runtime::sha256_hex(bytes),
        contract: None,
        serves: CONTRACT_VERSION,
        accepted: false,
        load_error: None,
        hooks: Vec::new(),
        imports: Vec::new(),
        memory: None,
        compile_ms: 0,
        smoke: Vec::new(),
        reuse: Vec::new(),
        ok: false,
    };
    let limit_mib = runtime.limits().memory_bytes >> 20;
    let started = Instant::now();
    let loaded = runtime.load(&name, bytes, ModuleSource::File(path.to_path_buf()));
    report.compile_ms = started.elapsed().as_millis() as u64;
    let module = match loaded {
        Ok(module) => module,
        Err(e) => {
            match &e {
                LoadError::ContractVersion { found, .. } => report.contract = Some(found.clone()),
                // Over the memory limit: measure what it needs without it.
                LoadError::OverLimits { .. } => {
                    report.memory = unlimited_memory(runtime, &name, bytes, limit_mib);
                    // It loaded without the limit: its contract is this one.
                    if report.memory.is_some() {
                        report.contract = Some(CONTRACT_VERSION.into());
                    }
                }
                _ => {}
            }
            report.load_error = Some(e.to_string());
            return report;
        }
    };
    report.accepted = true;
    report.contract = Some(CONTRACT_VERSION.into());
    report.hooks = module.exports();
    report.imports = module
        .imports
        .iter()
        .map(|name| Import {
            name: name.clone(),
            kind: import_kind(name),
        })
        .collect();
    report.memory = module.initial_memory().ok().map(|bytes| Memory {
        bytes,
        rule_memory_mib: bytes.div_ceil(1 << 20).max(1),
        limit_mib,
    });
    report.smoke = report
        .hooks
        .iter()
        .map(|&hook| smoke(&module, hook))
        .collect();
    report.ok = report.smoke.iter().all(|s| s.outcome != "failed");
    if report.ok {
        report.reuse = reuse(&module, &report.smoke);
    }
    report
}

/// Make every sample call again with reuse on, and compare the answers with
/// the fresh instance's.
fn reuse(module: &runtime::RuleModule, smoke: &[Smoke]) -> Vec<Reuse> {
    module.set_reuse(true);
    let reuse = smoke
        .iter()
        .filter_map(|fresh| {
            let input = sample(fresh.hook)?;
            let failed_before = module.reuse_failures();
            let mut different = None;
            let mut last = (None, 0);
            for _ in 0..REUSE_CALLS {
                let started = Instant::now();
                let (_, fuel, answer) =
                    outcome(runtime::block_on(decide::run(module, input.clone())));
                last = (fuel, started.elapsed().as_micros() as u64);
                if answer != fresh.answer && different.is_none() {
                    different = Some(answer);
                }
            }
            let failures = module.reuse_failures() - failed_before;
            Some(Reuse {
                hook: fresh.hook,
                same: different.is_none() && failures == 0,
                failures,
                different,
                fuel: last.0,
                micros: last.1,
            })
        })
        .collect();
    module.set_reuse(false);
    reuse
}

fn import_kind(name: &str) -> ImportKind {
    if runtime::import_is_provided(name) {
        ImportKind::Wasi
    } else if name.starts_with(&format!("rulesd:rules/types@{CONTRACT_VERSION}")) {
        ImportKind::ContractTypes
    } else {
        ImportKind::Traps
    }
}

/// The memory a module over the limit starts with, from a load with the
/// largest limit the daemon allows.
fn unlimited_memory(
    runtime: &Runtime,
    name: &str,
    bytes: &[u8],
    limit_mib: usize,
) -> Option<Memory> {
    let limits = runtime::Limits {
        memory_bytes: *runtime::Limits::MEMORY_MIB.end() << 20,
        ..*runtime.limits()
    };
    let module = Runtime::new(limits, None)
        .ok()?
        .load(name, bytes, ModuleSource::Embedded)
        .ok()?;
    let bytes = module.initial_memory().ok()?;
    Some(Memory {
        bytes,
        rule_memory_mib: bytes.div_ceil(1 << 20).max(1),
        limit_mib,
    })
}

fn smoke(module: &runtime::RuleModule, hook: Hook) -> Smoke {
    let Some(input) = sample(hook) else {
        return Smoke {
            hook,
            outcome: "skipped",
            fuel: None,
            micros: None,
            answer: format!("this daemon has no sample {hook} request"),
        };
    };
    let started = Instant::now();
    let result = runtime::block_on(decide::run(module, input));
    let micros = Some(started.elapsed().as_micros() as u64);
    let (outcome, fuel, answer) = outcome(result);
    Smoke {
        hook,
        outcome,
        fuel,
        micros,
        answer,
    }
}

/// A call's outcome (see [`Smoke::outcome`]), fuel and answer.
fn outcome(result: Result<decide::Decision, ApiError>) -> (&'static str, Option<u64>, String) {
    match result {
        Ok(decision) => (
            "answered",
            Some(decision.fuel_used),
            serde_json::to_string(&decision.output).unwrap_or_default(),
        ),
        Err(e) => (
            match e {
                ApiError::Denied(_)
                | ApiError::NotImplemented(_)
                | ApiError::RuleRejectedInput(_) => "refused",
                _ => "failed",
            },
            None,
            e.to_string(),
        ),
    }
}

/// The sample request of each hook: real requests the seed scenarios
/// (tests/scenarios) made, as their receipts stored them.
pub fn sample(hook: Hook) -> Option<RuleInput> {
    let json = match hook {
        Hook::Pricing => include_str!("samples/pricing.json"),
        Hook::TariffChange => include_str!("samples/tariff-change.json"),
        Hook::Proration => include_str!("samples/proration.json"),
        Hook::IpAllocation => include_str!("samples/ip-allocation.json"),
        Hook::Wholesale => include_str!("samples/wholesale.json"),
        Hook::LicensePool => include_str!("samples/license-pool.json"),
    };
    // Tested to parse (tests below): a failure is a bug in the binary.
    serde_json::from_str(json).ok()
}

impl CheckReport {
    /// The report for a person, one fact per line.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{}  ({} bytes, sha256 {})",
            self.file,
            self.bytes,
            &self.sha256[..12]
        )];
        let contract = match (&self.contract, self.accepted) {
            (Some(v), true) => format!("rulesd:rules@{v}: accepted"),
            (Some(v), false) if v != self.serves => format!(
                "rulesd:rules@{v}: refused, this daemon serves rulesd:rules@{}",
                self.serves
            ),
            (Some(v), false) => format!("rulesd:rules@{v}"),
            (None, _) => format!("unknown (this daemon serves rulesd:rules@{})", self.serves),
        };
        out.push(format!("contract   {contract}"));
        if self.accepted {
            let hooks: Vec<&str> = self.hooks.iter().map(|h| h.name()).collect();
            out.push(format!("hooks      {}", hooks.join(", ")));
            if self.imports.is_empty() {
                out.push("imports    none".into());
            }
            for (i, import) in self.imports.iter().enumerate() {
                let what = match import.kind {
                    ImportKind::Wasi => "WASI, frozen",
                    ImportKind::ContractTypes => "the contract's types",
                    ImportKind::Traps => "NOT PROVIDED: traps when called",
                };
                let label = if i == 0 { "imports   " } else { "          " };
                out.push(format!("{label} {} ({what})", import.name));
            }
        }
        if let Some(m) = &self.memory {
            out.push(format!(
                "memory     {} bytes at start: needs --rule-memory-mib {} (checked with {})",
                m.bytes, m.rule_memory_mib, m.limit_mib
            ));
        }
        out.push(format!("compile    {} ms", self.compile_ms));
        for s in &self.smoke {
            let cost = match (s.fuel, s.micros) {
                (Some(fuel), Some(us)) => format!("{fuel} fuel, {us} us"),
                (None, Some(us)) => format!("{us} us"),
                _ => String::new(),
            };
            out.push(format!(
                "smoke      {}: {} ({cost}) {}",
                s.hook,
                s.outcome,
                cut(&runtime::one_line(&s.answer), 400)
            ));
        }
        for r in &self.reuse {
            let fuel = r.fuel.map_or(String::new(), |f| format!("{f} fuel, "));
            out.push(match (&r.different, r.failures) {
                (None, 0) => format!(
                    "reuse      {}: the same answer on a reused instance ({fuel}{} us) for \
                     this sample; replay your scenarios with `reuse` before listing it",
                    r.hook, r.micros
                ),
                (Some(answer), _) => format!(
                    "reuse      {}: a DIFFERENT answer on a reused instance: the rule keeps \
                     state between calls; do not list it in rules.toml's `reuse` (reused: {})",
                    r.hook,
                    cut(&runtime::one_line(answer), 200)
                ),
                (None, n) => format!(
                    "reuse      {}: FAILED on a reused instance ({n} of {REUSE_CALLS} calls, \
                     each made again fresh): the rule keeps state between calls; do not \
                     list it in rules.toml's `reuse`",
                    r.hook
                ),
            });
        }
        out.push(match (&self.load_error, self.ok) {
            (Some(e), _) => format!("REFUSED    {e}"),
            (None, true) => "ok         the daemon would load and serve it".into(),
            (None, false) => {
                "FAILED     the daemon would load it, but a hook failed its sample call (above)"
                    .into()
            }
        });
        out
    }
}

fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_request_parses_and_is_of_its_hook() {
        for hook in Hook::ALL {
            let input = sample(hook).unwrap_or_else(|| panic!("no sample for {hook}"));
            assert_eq!(input.hook(), hook);
        }
    }
}
