//! Which rule module serves which hook: the embedded defaults, the rules
//! directory, its manifest, and hot reload.

pub mod manifest;
mod registry;
mod watcher;

pub use registry::{BindingInfo, LoadFailure, ModuleInfo, Registry, RulesReport};
pub use watcher::watch;

/// The default rule module, built from `rules/default` by build.rs.
pub const DEFAULT_MODULE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rules_default.wasm"));

/// The name the embedded default module is listed under.
pub const DEFAULT_MODULE_NAME: &str = "default (embedded)";
