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
