//! The daemon's integration tests: one binary, one module per area.

mod billing;
mod cache;
mod changes;
mod check;
mod cli;
mod crash;
mod decisions;
mod disk;
mod durability;
mod funds;
mod http;
mod idempotency;
mod ipam;
mod ipam_model;
mod layers;
mod licenses;
mod net;
mod reload;
mod replay;
mod sandbox;
mod support;
mod tenancy;
mod wholesale;
