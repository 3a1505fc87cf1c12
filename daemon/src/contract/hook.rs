//! The six policy hooks a rule module can implement.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The version of the contract (rules-sdk/wit, `package rulesd:rules@...`)
/// this daemon serves; a module built against another is refused at load.
pub const CONTRACT_VERSION: &str = "0.5.0";

/// The contract package, as export names start.
pub const CONTRACT_PACKAGE: &str = "rulesd:rules";

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    Pricing,
    TariffChange,
    Proration,
    IpAllocation,
    LicensePool,
    Wholesale,
}

impl Hook {
    pub const ALL: [Hook; 6] = [
        Hook::Pricing,
        Hook::TariffChange,
        Hook::Proration,
        Hook::IpAllocation,
        Hook::LicensePool,
        Hook::Wholesale,
    ];

    /// The WIT interface name, as used in manifests and file names.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Pricing => "pricing",
            Hook::TariffChange => "tariff-change",
            Hook::Proration => "proration",
            Hook::IpAllocation => "ip-allocation",
            Hook::LicensePool => "license-pool",
            Hook::Wholesale => "wholesale",
        }
    }

    /// The fully qualified export a component must have to implement this hook.
    pub fn export_name(self) -> String {
        format!("rulesd:rules/{}@{CONTRACT_VERSION}", self.name())
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Hook {
    type Err = String;

    /// A hook by its WIT interface name (`pricing`, `ip-allocation`, ...).
    fn from_str(name: &str) -> Result<Hook, String> {
        Hook::ALL
            .into_iter()
            .find(|h| h.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Hook::ALL.iter().map(|h| h.name()).collect();
                format!("{name:?} is not a hook; the hooks are {}", names.join(", "))
            })
    }
}
