//! Which module serves which hook, and the reload that changes it.
//!
//! The bindings are an immutable snapshot behind an `RwLock<Arc<_>>`: a request
//! clones the `Arc` of the module it needs and calls it without holding any
//! lock, so a reload swaps the snapshot atomically while in-flight calls finish
//! on the module they started with.

use super::manifest::{self, Manifest};
use crate::contract::hook::Hook;
use crate::runtime::{ModuleSource, RuleModule, Runtime};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// A module file (or the manifest) that failed to load. The previous working
/// version, if any, keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LoadFailure {
    /// File name in the rules directory.
    pub file: String,
    pub error: String,
    pub at: DateTime<Utc>,
}

#[derive(Default, Clone)]
struct FileState {
    /// The last version of this file that loaded.
    module: Option<Arc<RuleModule>>,
    /// The last failure, cleared when a later version loads.
    failure: Option<LoadFailure>,
    /// sha256 of the bytes that failed, so the same bad bytes are not recompiled.
    failed_sha: Option<String>,
}

type Bindings = BTreeMap<Hook, Arc<RuleModule>>;

#[derive(Default, Clone)]
struct State {
    files: BTreeMap<String, FileState>,
    /// The last manifest that parsed (None: bind by file name).
    manifest: Option<Manifest>,
    manifest_failure: Option<LoadFailure>,
    binding_failures: Vec<LoadFailure>,
    /// Files `reuse` names that are not in the directory: reported, but
    /// they bind no hook, so they never refuse a start.
    reuse_failures: Vec<LoadFailure>,
    global: Bindings,
    resellers: BTreeMap<String, Bindings>,
}

/// The rule modules and their bindings.
pub struct Registry {
    runtime: Arc<Runtime>,
    default: Arc<RuleModule>,
    dir: Option<PathBuf>,
    state: RwLock<Arc<State>>,
    /// Serializes reloads; requests never take it.
    reloading: Mutex<()>,
}

/// One hook binding as shown by `GET /v1/rules`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BindingInfo {
    pub hook: Hook,
    /// The reseller this binding applies to; absent for the global binding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reseller: Option<String>,
    pub module: ModuleInfo,
}

/// A loaded module as shown by `GET /v1/rules`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModuleInfo {
    pub name: String,
    pub sha256: String,
    /// "embedded" or "file".
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub loaded_at: DateTime<Utc>,
    pub exports: Vec<Hook>,
    pub fuel_budget: u64,
    /// Whether its instances are kept between calls (rules.toml `reuse`).
    pub reuse_instances: bool,
    /// Calls that failed on a kept instance, or whose answer the daemon
    /// refused while instances were kept, each made again on a fresh
    /// instance: a module with any keeps state and should leave `reuse`.
    pub reuse_failures: u64,
}

impl From<&RuleModule> for ModuleInfo {
    fn from(m: &RuleModule) -> Self {
        let (source, path) = match &m.source {
            ModuleSource::Embedded => ("embedded", None),
            ModuleSource::File(p) => ("file", Some(p.display().to_string())),
        };
        ModuleInfo {
            name: m.name.clone(),
            sha256: m.sha256.clone(),
            source: source.into(),
            path,
            loaded_at: m.loaded_at,
            exports: m.exports(),
            fuel_budget: m.fuel_budget(),
            reuse_instances: m.reuses_instances(),
            reuse_failures: m.reuse_failures(),
        }
    }
}

/// Everything `GET /v1/rules` reports.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RulesReport {
    /// The module serving each hook globally, then per-reseller overrides.
    pub bindings: Vec<BindingInfo>,
    /// Every module file that has a working version.
    pub modules: Vec<ModuleInfo>,
    /// The last load error of each file (and of the manifest), if any.
    pub errors: Vec<LoadFailure>,
}

impl Registry {
    /// A registry serving `default` for every hook, reloading from `dir` when
    /// [`Registry::reload`] is called.
    pub fn new(runtime: Arc<Runtime>, default: Arc<RuleModule>, dir: Option<PathBuf>) -> Self {
        Registry {
            runtime,
            default,
            dir,
            state: RwLock::new(Arc::new(State::default())),
            reloading: Mutex::new(()),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    fn snapshot(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The module that serves `hook` for a request by `reseller` (or the provider).
    pub fn resolve(&self, hook: Hook, reseller: Option<&str>) -> Arc<RuleModule> {
        let state = self.snapshot();
        reseller
            .and_then(|r| state.resellers.get(r))
            .and_then(|b| b.get(&hook))
            .or_else(|| state.global.get(&hook))
            .unwrap_or(&self.default)
            .clone()
    }

    pub fn report(&self) -> RulesReport {
        let state = self.snapshot();
        let mut bindings: Vec<BindingInfo> = Hook::ALL
            .into_iter()
            .map(|hook| BindingInfo {
                hook,
                reseller: None,
                module: state
                    .global
                    .get(&hook)
                    .unwrap_or(&self.default)
                    .as_ref()
                    .into(),
            })
            .collect();
        for (reseller, hooks) in &state.resellers {
            for (hook, module) in hooks {
                bindings.push(BindingInfo {
                    hook: *hook,
                    reseller: Some(reseller.clone()),
                    module: module.as_ref().into(),
                });
            }
        }
        let mut modules: Vec<ModuleInfo> = vec![self.default.as_ref().into()];
        modules.extend(
            state
                .files
                .values()
                .filter_map(|f| f.module.as_deref().map(ModuleInfo::from)),
        );
        let errors = state
            .files
            .values()
            .filter_map(|f| f.failure.clone())
            .chain(state.manifest_failure.clone())
            .chain(state.binding_failures.iter().cloned())
            .chain(state.reuse_failures.iter().cloned())
            .collect();
        RulesReport {
            bindings,
            modules,
            errors,
        }
    }

    /// The bindings that cannot be served as written: the bound file is not
    /// in the rules directory, failed to load, or does not export the hook.
    /// The daemon refuses to start while there are any (see
    /// `server::Daemon::build`): at start no earlier version was loaded, so
    /// such a hook would be served by the embedded default rules, repricing
    /// it silently at prices the provider did not choose. Later, while it
    /// runs, the same problems only keep the previous version serving (a bad
    /// deploy must not take the daemon down), as nginx treats its
    /// configuration: a reload keeps the old one, a start refuses a bad one.
    pub fn unservable_bindings(&self) -> Vec<LoadFailure> {
        let state = self.snapshot();
        let effective = state
            .manifest
            .clone()
            .unwrap_or_else(|| Manifest::by_convention(state.files.keys().cloned()));
        let bound = effective.hooks.values().chain(
            effective
                .resellers
                .values()
                .flat_map(|hooks| hooks.values()),
        );
        // A manifest rejected at start has no earlier version to keep: the
        // hooks it binds would go to the defaults (or to files by name).
        let mut out: Vec<LoadFailure> = state
            .manifest_failure
            .iter()
            .chain(&state.binding_failures)
            .cloned()
            .collect();
        for file in bound {
            if let Some(FileState {
                module: None,
                failure: Some(failure),
                ..
            }) = state.files.get(file)
                && !out
                    .iter()
                    .any(|f| f.file == failure.file && f.error == failure.error)
            {
                out.push(failure.clone());
            }
        }
        out
    }

    /// Rescan the rules directory: load new or changed modules, drop removed
    /// ones, re-read the manifest and swap in the new bindings. Blocking and
    /// CPU-bound (it may compile): run it off the async reactor.
    pub fn reload(&self) {
        let Some(dir) = &self.dir else { return };
        let _guard = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.snapshot();
        let mut next = State {
            files: self.load_files(dir, &old),
            ..State::default()
        };

        let manifest = read_manifest(dir, &old, &mut next);
        let effective = manifest
            .clone()
            .unwrap_or_else(|| Manifest::by_convention(next.files.keys().cloned()));
        next.manifest = manifest;
        for (name, file) in &next.files {
            if let Some(module) = &file.module {
                let reuse = effective.reuse.contains(name);
                if module.reuses_instances() != reuse {
                    tracing::info!(file = %name, reuse, "instance reuse switched");
                }
                module.set_reuse(reuse);
            }
        }

        let mut failures = Vec::new();
        next.global = bind(&effective.hooks, &next.files, &old.global, &mut failures);
        for (reseller, hooks) in &effective.resellers {
            let previous = old.resellers.get(reseller).cloned().unwrap_or_default();
            let bound = bind(hooks, &next.files, &previous, &mut failures);
            next.resellers.insert(reseller.clone(), bound);
        }
        for failure in &mut failures {
            // A problem that persists across rescans is the same problem: keep
            // when it started and log it once.
            match old
                .binding_failures
                .iter()
                .find(|o| o.file == failure.file && o.error == failure.error)
            {
                Some(seen) => failure.at = seen.at,
                None => {
                    tracing::warn!(file = %failure.file, error = %failure.error, "rule binding cannot be served as written")
                }
            }
        }
        next.binding_failures = failures;
        next.reuse_failures = effective
            .reuse
            .iter()
            .filter(|n| !next.files.contains_key(*n))
            .map(|name| LoadFailure {
                file: name.clone(),
                error: format!(
                    "{name} is listed in rules.toml's reuse but is not in the rules directory \
                     (reuse binds no hook: nothing else changes)"
                ),
                // Kept from the scan that first saw it, as binding failures are.
                at: old
                    .reuse_failures
                    .iter()
                    .find(|o| &o.file == name)
                    .map_or_else(Utc::now, |o| o.at),
            })
            .collect();

        self.log_rebinds(&old, &next);
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
    }

    /// Log every hook whose serving module changed.
    fn log_rebinds(&self, old: &State, next: &State) {
        for hook in Hook::ALL {
            let before = old.global.get(&hook).map(|m| m.sha256.as_str());
            let after = next.global.get(&hook).map(|m| m.sha256.as_str());
            if before != after {
                let module = next
                    .global
                    .get(&hook)
                    .map_or("embedded default", |m| &m.name);
                tracing::info!(%hook, module, sha256 = after.unwrap_or(&self.default.sha256), "hook rebound");
            }
        }
    }

    /// Drop the compile cache's entries of modules this registry does not
    /// hold (see [`Runtime::prune_cache`]). Not part of [`Registry::reload`]:
    /// a start that is then refused must leave the cache as it found it (a
    /// start tried with another memory limit compiles for another engine,
    /// and pruning then would cost the next normal start a recompile).
    pub fn prune_cache(&self) {
        let state = self.snapshot();
        self.runtime.prune_cache(
            state
                .files
                .values()
                .filter_map(|f| f.module.as_deref())
                .chain(state.global.values().map(|m| &**m))
                .chain(
                    state
                        .resellers
                        .values()
                        .flat_map(|b| b.values().map(|m| &**m)),
                )
                .chain([&*self.default])
                .map(|m| m.sha256.as_str()),
        );
    }

    fn load_files(&self, dir: &Path, old: &State) -> BTreeMap<String, FileState> {
        let mut files = BTreeMap::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::error!(dir = %dir.display(), error = %e, "cannot read the rules directory");
                return old.files.clone();
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Editors write temporary files (".x.wasm.swp", "x.wasm~", "4913")
            // next to the real one: only complete *.wasm names count.
            if !name.ends_with(".wasm") || name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let previous = old.files.get(&name).cloned().unwrap_or_default();
            files.insert(name.clone(), self.load_file(&name, &path, previous));
        }
        files
    }

    fn load_file(&self, name: &str, path: &Path, mut state: FileState) -> FileState {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                state.failure = Some(LoadFailure {
                    file: name.into(),
                    error: format!("{}: {e}", path.display()),
                    at: Utc::now(),
                });
                return state;
            }
        };
        let sha = crate::runtime::sha256_hex(&bytes);
        if state.module.as_ref().is_some_and(|m| m.sha256 == sha) {
            // The file holds the version already serving again (a bad
            // version was put back): its earlier failure no longer describes
            // the file, so it must not stay listed in /v1/rules.
            if state.failure.take().is_some() {
                tracing::info!(file = name, sha256 = %sha, "rule module restored to the serving version; its load error is cleared");
            }
            state.failed_sha = None;
            return state;
        }
        if state.failed_sha.as_deref() == Some(sha.as_str()) {
            return state;
        }
        let started = std::time::Instant::now();
        match self
            .runtime
            .load(name, &bytes, ModuleSource::File(path.to_path_buf()))
        {
            Ok(module) => {
                tracing::info!(file = name, sha256 = %sha, ms = started.elapsed().as_millis() as u64, exports = ?module.exports(), "rule module loaded");
                FileState {
                    module: Some(Arc::new(module)),
                    failure: None,
                    failed_sha: None,
                }
            }
            Err(e) => {
                tracing::error!(file = name, sha256 = %sha, error = %e, "rule module rejected; a version loaded before, if any, keeps serving");
                state.failure = Some(LoadFailure {
                    file: name.into(),
                    error: e.to_string(),
                    at: Utc::now(),
                });
                state.failed_sha = Some(sha);
                state
            }
        }
    }
}

/// Resolve hook -> file bindings to modules. A binding whose file has no
/// working version, does not export the hook, or is gone from the directory
/// keeps the previous module for that hook (the default only if nothing else
/// served it), and the problem is reported. A deleted file is treated like a
/// corrupt one because a deploy that removes and then copies a module, or a
/// slip of `rm`, must not reprice everything at the embedded defaults: only
/// the manifest (unbinding the hook) moves a hook back to the default.
fn bind(
    wanted: &BTreeMap<Hook, String>,
    files: &BTreeMap<String, FileState>,
    previous: &Bindings,
    failures: &mut Vec<LoadFailure>,
) -> Bindings {
    let mut bound = Bindings::new();
    for (hook, file) in wanted {
        let fail = |error: String| LoadFailure {
            file: file.clone(),
            error,
            at: Utc::now(),
        };
        match files.get(file) {
            None => match previous.get(hook) {
                Some(m) => {
                    failures.push(fail(format!(
                        "{file} is bound to the {hook} hook but is not in the rules directory; \
                         {} (sha256 {}) keeps serving {hook} until the file is back or \
                         rules.toml stops binding it",
                        m.name,
                        short_sha(&m.sha256)
                    )));
                    bound.insert(*hook, m.clone());
                }
                None => failures.push(fail(format!(
                    "{file} is bound to the {hook} hook but is not in the rules directory; \
                     the embedded default serves {hook}"
                ))),
            },
            Some(FileState { module: None, .. }) => {
                if let Some(m) = previous.get(hook) {
                    bound.insert(*hook, m.clone());
                }
            }
            Some(FileState {
                module: Some(m), ..
            }) => {
                if m.exports_hook(*hook) {
                    bound.insert(*hook, m.clone());
                } else {
                    failures.push(fail(format!(
                        "{file} is bound to the {hook} hook but does not export {}; it exports: {}",
                        hook.export_name(),
                        m.exports()
                            .iter()
                            .map(|h| h.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                    if let Some(m) = previous.get(hook) {
                        bound.insert(*hook, m.clone());
                    }
                }
            }
        }
    }
    bound
}

/// The first 12 hex digits of a sha256, enough to tell versions apart in a message.
fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The manifest as it is now: None without one; the previous one, with the
/// failure noted in `next`, when it cannot be read or is rejected.
fn read_manifest(dir: &Path, old: &State, next: &mut State) -> Option<Manifest> {
    let manifest_path = dir.join(manifest::FILE_NAME);
    match std::fs::read_to_string(&manifest_path) {
        Ok(text) => match Manifest::parse(&manifest_path, &text) {
            Ok(m) => Some(m),
            Err(error) => {
                tracing::error!(%error, "rules manifest rejected; keeping the previous bindings");
                next.manifest_failure = Some(LoadFailure {
                    file: manifest::FILE_NAME.into(),
                    error,
                    at: Utc::now(),
                });
                old.manifest.clone()
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            next.manifest_failure = Some(LoadFailure {
                file: manifest::FILE_NAME.into(),
                error: format!("{}: {e}", manifest_path.display()),
                at: Utc::now(),
            });
            old.manifest.clone()
        }
    }
}
