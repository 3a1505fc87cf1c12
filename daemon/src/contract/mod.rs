//! The contract between the daemon and rule modules: the hooks, the types
//! `wasmtime::component::bindgen!` generates from `rules-sdk/wit`, and every
//! conversion between them and the daemon's own types.

pub mod bindings;
pub mod hook;
pub mod wit;
