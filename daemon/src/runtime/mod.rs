//! The wasm host: one wasmtime [`Engine`] configured for sandboxed, bounded rule
//! calls, the on-disk cache of compiled modules, and [`RuleModule`], a validated
//! module ready to be called.
//!
//! Every call gets a fresh instance from the pooling allocator, so no state
//! leaks between calls (rules stay pure even if a module keeps globals).

mod error;
mod imports;
mod limits;
mod module;
mod warm;

pub use error::{CallError, LoadError};
pub use imports::is_provided as import_is_provided;
pub use limits::{EPOCH_TICK, Limits, LimitsError, MemoryLimitExceeded};
pub use module::{Called, ModuleSource, RuleModule};
pub use warm::fresh_only;

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

/// The engine, its limits and the compile cache. Cheap to share behind an `Arc`.
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    cache_dir: Option<PathBuf>,
    /// Engine fingerprint, part of every cache file name: artifacts compiled by
    /// another wasmtime version or configuration are never loaded.
    engine_tag: String,
    /// Whether [`Runtime::prune_cache`] may delete (see [`Runtime::pruning_cache`]).
    prune: bool,
    stop_ticker: Arc<AtomicBool>,
    /// Idle instances kept by modules with reuse on (see `warm`).
    idle_instances: Arc<AtomicUsize>,
}

impl Runtime {
    /// Build the engine and start the epoch ticker thread. With `cache_dir`,
    /// compiled modules are kept on disk keyed by sha256 so a restart does not
    /// recompile.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, LoadError> {
        let engine = Engine::new(&engine_config(&limits))
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_tag = format!("{:016x}", hasher.finish());
        if let Some(dir) = &cache_dir
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "compile cache disabled");
        }
        let stop_ticker = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), stop_ticker.clone());
        Ok(Runtime {
            engine,
            limits,
            cache_dir,
            engine_tag,
            prune: false,
            stop_ticker,
            idle_instances: Arc::default(),
        })
    }

    /// Let [`Runtime::prune_cache`] delete: only for a cache this runtime
    /// alone uses (a data directory's own). In a cache shared by several (the
    /// scenarios of one `rulesd replay`) it would delete the others' modules.
    pub fn pruning_cache(mut self) -> Self {
        self.prune = true;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compile (or fetch from the cache), validate and probe a module. This is
    /// CPU-bound (tens of milliseconds for a fresh compile): call it off the
    /// async reactor.
    pub fn load(
        &self,
        name: &str,
        bytes: &[u8],
        source: ModuleSource,
    ) -> Result<RuleModule, LoadError> {
        let sha256 = sha256_hex(bytes);
        let component = self.compile_cached(name, &sha256, bytes)?;
        RuleModule::new(
            &self.engine,
            self.limits,
            name,
            sha256,
            source,
            component,
            self.idle_instances.clone(),
        )
    }

    fn compile_cached(
        &self,
        name: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<wasmtime::component::Component, LoadError> {
        let cached = self
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{sha256}-{}.cwasm", self.engine_tag)));
        if let Some(path) = &cached
            && path.exists()
        {
            // Read into memory rather than `deserialize_file`: a mapped file
            // that someone truncates (clearing the cache by hand) would crash
            // the daemon with SIGBUS.
            let loaded = std::fs::read(path)
                .map_err(wasmtime::Error::from)
                .and_then(|bytes| {
                    // SAFETY: the bytes come from the daemon's own data directory,
                    // were written by `Component::serialize` of this same engine
                    // build (the file name carries the engine fingerprint) and were
                    // renamed into place only once complete; wasmtime also checks
                    // the header and version before using them.
                    unsafe { wasmtime::component::Component::deserialize(&self.engine, bytes) }
                });
            match loaded {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "ignoring unusable cache entry");
                }
            }
        }
        tracing::info!(
            file = name,
            bytes = bytes.len(),
            "compiling rule module (not in the compile cache; a language runtime takes seconds)"
        );
        let component = compile(&self.engine, name, bytes).map_err(|e| match e {
            LoadError::OverLimits { name, reason } => LoadError::OverLimits {
                reason: memory_shortfall(&reason, self.limits.memory_bytes).unwrap_or(reason),
                name,
            },
            e => e,
        })?;
        if let Some(path) = &cached
            && let Err(e) = write_cache(&component, path)
        {
            tracing::warn!(path = %path.display(), error = %e, "could not write compile cache");
        }
        Ok(component)
    }

    /// Delete cached artifacts of modules not in `keep` (sha256s) and those
    /// of other engine builds. A compiled Python or JavaScript rule is 40-80
    /// MiB; without this, every version a provider ever tried would stay on
    /// disk. Whatever is deleted is only recompiled if it comes back.
    pub fn prune_cache<'a>(&self, keep: impl IntoIterator<Item = &'a str>) {
        let Some(dir) = self.cache_dir.as_ref().filter(|_| self.prune) else {
            return;
        };
        let keep: std::collections::HashSet<String> = keep
            .into_iter()
            .map(|sha| format!("{sha}-{}.cwasm", self.engine_tag))
            .collect();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Only what `write_cache` makes: "<sha>-<tag>.cwasm" and, from a
            // write that was cut short, "<sha>-<tag>.tmp<pid>".
            let ours = name.len() > 65
                && name.as_bytes()[64] == b'-'
                && name[..64].bytes().all(|b| b.is_ascii_hexdigit());
            if !ours || keep.contains(&name) {
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::debug!(file = %name, "removed unused compile cache entry"),
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "could not remove compile cache entry")
                }
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Run a rule call to completion on the current thread, for callers that are
/// not async (`rulesd diff`, benchmarks). A call that yields to the reactor
/// (see `RuleModule::run`) has already asked to be polled again, so polling
/// in a loop is exactly running it synchronously.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The identity of a module: the lowercase hex sha256 of its bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn compile(
    engine: &Engine,
    name: &str,
    bytes: &[u8],
) -> Result<wasmtime::component::Component, LoadError> {
    // Say what is wrong with a file that is not WebAssembly at all ourselves:
    // the parser's message carries a multi-line dump of the expected bytes.
    if bytes.len() < 8 || bytes[..4] != *b"\0asm" {
        return Err(LoadError::Invalid {
            name: name.into(),
            reason: not_wasm_reason(bytes),
        });
    }
    // A core module has version 1 in its header; a component has layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule { name: name.into() });
    }
    wasmtime::component::Component::new(engine, bytes).map_err(|e| {
        let reason = one_line(&format!("{e:#}"));
        // The pooling allocator checks a valid component against the
        // sandbox's limits while it is compiled; that is not a broken file.
        if reason.contains("pooling allocator") {
            LoadError::OverLimits {
                name: name.into(),
                reason,
            }
        } else {
            LoadError::Invalid {
                name: name.into(),
                reason,
            }
        }
    })
}

/// wasmtime's "memory has a minimum byte size of 13041664 which exceeds the
/// limit of 0xc00000 bytes" in the units the setting takes.
fn memory_shortfall(reason: &str, limit: usize) -> Option<String> {
    let (_, rest) = reason.split_once("minimum byte size of ")?;
    let needed: usize = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let mib = |bytes: usize| bytes.div_ceil(1 << 20);
    Some(format!(
        "its memory starts at {needed} bytes, which needs --rule-memory-mib {} or more (it is {})",
        mib(needed),
        limit >> 20
    ))
}

/// Why bytes without a WebAssembly header are not a module, in one line.
fn not_wasm_reason(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".into();
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if bytes.len() < 8 {
        return format!(
            "the file is only {} bytes long ({}); a component starts with the 8-byte \
             header 00 61 73 6d 0d 00 01 00 (\"\\0asm\", layer 1)",
            bytes.len(),
            head.join(" ")
        );
    }
    format!(
        "the file starts with bytes {} (expected 00 61 73 6d, \"\\0asm\")",
        head[..4].join(" ")
    )
}

/// Collapse a message onto one line: load errors are shown in `/v1/rules`
/// and logs, where a multi-line dump is hard to read and to grep.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_cache(component: &wasmtime::component::Component, path: &Path) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The engine configuration, set explicitly rather than relying on defaults
/// that change between wasmtime releases.
fn engine_config(limits: &Limits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Deterministic budget: fuel counts instructions, the same on every machine.
    config.consume_fuel(true);
    // Wall-clock backstop for anything fuel does not bound.
    config.epoch_interruption(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.parallel_compilation(true);
    config.max_wasm_stack(512 << 10);
    // Calls run on fibers (see `RuleModule::run`); their stacks come from the
    // pool below and must hold the wasm stack plus the host frames under it.
    config.async_stack_size(1 << 20);
    config.memory_init_cow(true);

    // A fresh instance per call is only cheap with the pooling allocator: slots
    // are reserved once and reused, and pages stay resident between uses.
    let mut pool = PoolingAllocationConfig::default();
    // + probes at load time, + the one call the writer makes inside its
    // transaction without a permit (a reseller's shadow lines), + the idle
    // instances of modules that reuse them.
    let slots = limits.max_concurrent.max(1) + 9 + warm::IDLE_SLOTS;
    // Per component: a componentize-py rule built with `--stub-wasi` has 38
    // core instances (one per stubbed WASI interface), a plain one 14; a
    // Rust rule a handful.
    pool.total_component_instances(slots)
        .total_core_instances(slots * 16)
        .total_memories(slots * 2)
        .total_tables(slots * 8)
        .total_stacks(slots)
        .max_core_instances_per_component(64)
        .max_memories_per_component(2)
        .max_tables_per_component(16)
        .max_memory_size(limits.memory_bytes)
        .linear_memory_keep_resident(keep_resident(limits))
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// How much of a linear memory a pool slot keeps mapped when its instance
/// is dropped. The next instance of the same module then starts without
/// page faults, which is most of the cost of a Python or JavaScript rule
/// (their runtimes start from a 10-13 MiB memory image and touch much of it
/// in every call). With Linux's PAGEMAP_SCAN (6.7+) the reset copies back
/// only the pages the call wrote, so the whole memory can stay resident
/// (its contents are still exactly the image's again: no state survives).
/// Without it, everything kept is reset with a memset whether it was
/// written or not, so only the first 128 KiB are (the default rule's
/// memory is one 64 KiB page).
fn keep_resident(limits: &Limits) -> usize {
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        limits.memory_bytes
    } else {
        128 << 10
    }
}

fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("rulesd-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch ticker thread");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_error(bytes: &[u8]) -> String {
        let runtime = Runtime::new(Limits::default(), None).unwrap();
        runtime
            .load("x.wasm", bytes, ModuleSource::Embedded)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_file_that_is_not_wasm_gets_a_one_line_error_naming_its_first_bytes() {
        assert_eq!(
            load_error(b"abcdefgh"),
            "x.wasm: not a WebAssembly component: the file starts with bytes 61 62 63 64 \
             (expected 00 61 73 6d, \"\\0asm\")"
        );
        assert_eq!(
            load_error(b""),
            "x.wasm: not a WebAssembly component: the file is empty"
        );
        let short = load_error(b"abc");
        assert!(short.contains("only 3 bytes long (61 62 63)"), "{short}");
    }

    #[test]
    fn parser_errors_are_one_line() {
        // A component header followed by garbage: wasmtime's own message.
        let e = load_error(b"\0asm\x0d\0\x01\0 truncated garbage");
        assert!(
            e.starts_with("x.wasm: not a WebAssembly component: "),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
}
