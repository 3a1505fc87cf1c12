//! Control-panel licenses (seed 003): a server's "Control panel" add-on
//! maps to a vendor's license tariff; the server's license follows its life
//! (lifecycle.rs, through billing's save and deletion listeners), renews
//! monthly on its own and expires (daily.rs), and comes from the pool of
//! free licenses before a new one is ordered (apply.rs, with an index of
//! free licenses by tariff in tables.rs). The vendor is an adapter
//! (vendor.rs); `/v1/licenses` and the outbox of events are pool.rs.

mod apply;
pub mod daily;
pub mod lifecycle;
pub mod model;
pub mod pool;
mod tables;
pub mod vendor;
