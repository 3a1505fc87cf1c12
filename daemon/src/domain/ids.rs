//! Typed ids, so that a pool id can never be passed where a service id is
//! meant. Each is a `u64` on the wire and in the store (`serde(transparent)`);
//! API documents describe them as integers (`#[schema(value_type = u64)]` on
//! the fields that hold them).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The number, as stored and sent.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> $name {
                $name(id)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }
    )*};
}

ids! {
    /// An account: the provider, a reseller or a client.
    AccountId;
    /// A client group.
    GroupId;
    /// An API key.
    KeyId;
    /// A tariff.
    TariffId;
    /// A service (what a client ordered).
    ServiceId;
    /// A ledger line.
    EntryId;
    /// A stored rule decision.
    ReceiptId;
    /// An IP pool.
    PoolId;
    /// An address given to a service.
    AllocationId;
    /// A pooled license.
    LicenseId;
    /// A license event in the outbox.
    LicenseEventId;
    /// An enumeration (the values of a "control panel" add-on).
    EnumerationId;
    /// An order or renewal waiting for funds.
    PendingId;
}
