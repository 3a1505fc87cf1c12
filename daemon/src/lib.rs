//! rulesd: a hosting billing and allocation daemon whose policies are
//! WebAssembly rule modules. See ARCHITECTURE.md for the map.

pub mod api;
pub mod clock;
pub mod diff;
pub mod domain;
pub mod hook;
pub mod http;
pub mod replay;
pub mod rules;
pub mod runtime;
pub mod server;
pub mod store;

/// The daemon's allocator, for every binary built on this crate (the
/// `rulesd` command, its benchmarks and tests). A request allocates many
/// short-lived buffers (JSON, wasmtime's per-call store and instance, redb's
/// dirty pages); with glibc's malloc that was ~19% of a replay's samples.
/// mimalloc: quotes/healthz over HTTP 0.32 -> 0.43, replay +11% (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
