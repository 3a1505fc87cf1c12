//! rulesd: a hosting billing and allocation daemon whose policies are
//! WebAssembly rule modules. See ARCHITECTURE.md for the map: the layers
//! below are listed from the bottom up, and each imports only from those
//! before it (`tests/it/layers.rs` keeps it so).

// Mechanism: no knowledge of requests or tenants.
pub mod clock;
pub mod contract;
pub mod domain;
pub mod rules;
pub mod runtime;
pub mod store;
// What every domain shares.
pub mod app;
pub mod decide;
// The domains.
pub mod billing;
pub mod ipam;
pub mod ledger;
pub mod licenses;
pub mod tenancy;
pub mod wholesale;
// Operations and the outside.
pub mod http;
pub mod net;
pub mod ops;
pub mod replay;
pub mod server;

/// The daemon's allocator, for every binary built on this crate (the
/// `rulesd` command, its benchmarks and tests): a request allocates many
/// short-lived buffers (JSON, wasmtime's per-call store and instance, redb's
/// dirty pages), and glibc's malloc was a large share of a replay's time
/// (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
