//! rulesd: a hosting billing and allocation daemon whose policies are
//! WebAssembly rule modules. See ARCHITECTURE.md for the map.

pub mod hook;
pub mod runtime;
pub mod rules;
pub mod api;
pub mod clock;
pub mod domain;
