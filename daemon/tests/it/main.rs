//! The daemon's integration tests: one binary, one module per area.

mod cli;
mod http;
mod reload;
mod sandbox;
mod support;
