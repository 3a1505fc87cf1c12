//! rulesd: a hosting billing and allocation daemon whose policies are
//! WebAssembly rule modules. See ARCHITECTURE.md for the map.

pub mod hook;
pub mod runtime;
