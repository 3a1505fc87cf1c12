//! Services (a client's instance of a tariff) and the facts about one that a
//! rule is handed.

use super::ids::{AccountId, ServiceId, TariffId};
use super::invalid::{Invalid, check_text};
use super::tariff::{self, AddonQuantity};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A domain name a client may ask for: dot-separated labels of ASCII
/// letters, digits and inner hyphens (an internationalized name in its
/// `xn--` form), 1 to 63 characters each, at least two labels, 253 characters
/// in all. The domain ends up in control panels and DNS zones, where
/// anything else (`../../etc`, spaces) is at best an error later.
pub fn check_domain(field: &str, name: &str) -> Result<(), Invalid> {
    let problem = if name.len() > 253 {
        Some("is longer than 253 characters".to_string())
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Some(
            "may hold only letters, digits, hyphens and dots \
             (an internationalized name in its xn-- form)"
                .to_string(),
        )
    } else if !name.contains('.') {
        Some("needs at least two labels, such as example.com".to_string())
    } else {
        name.split('.').find_map(|label| {
            if label.is_empty() || label.len() > 63 {
                Some(format!(
                    "has a label of {} characters (1 to 63)",
                    label.len()
                ))
            } else if label.starts_with('-') || label.ends_with('-') {
                Some(format!("label {label:?} starts or ends with a hyphen"))
            } else {
                None
            }
        })
    };
    match problem {
        Some(p) => Err(super::invalid::invalid(field, format!("{name:?} {p}"))),
        None => Ok(()),
    }
}

/// The life of a service: `ordered` (waiting for the funds of its first
/// period; a paid order is active at once), `active`, `suspended`, `deleted`
/// (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    Ordered,
    Active,
    Suspended,
    Deleted,
}

/// Who suspended a service, which decides who may resume it and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SuspendedBy {
    /// The daily job: the service expired (or a day could not be paid).
    /// Renewing (or, for daily charging, funds) brings it back.
    Expiry,
    /// The provider or reseller, administratively.
    Provider,
    /// The client itself (tariffs with daily charging and client suspend).
    Client,
}

/// What a service holds at a moment: its tariff and addon units (a
/// reseller's tariff says what one service consumes of the provider's
/// resources; the addons add to it).
#[derive(Debug, Clone, Copy)]
pub struct Holding<'a> {
    pub tariff: TariffId,
    pub addons: &'a [AddonQuantity],
}

/// The control panel value among `addons`, if one is held.
pub fn panel_of(addons: &[AddonQuantity]) -> Option<&str> {
    addons
        .iter()
        .filter(|a| a.quantity > 0)
        .find_map(|a| tariff::panel_value(&a.resource))
}

/// A stored service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Service {
    #[schema(value_type = u64)]
    pub id: ServiceId,
    /// The client that owns it.
    #[schema(value_type = u64)]
    pub client_id: AccountId,
    /// The client's reseller, if any (for tenancy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    #[schema(value_type = u64)]
    pub tariff_id: TariffId,
    pub status: ServiceStatus,
    /// The period length it is paid for (for daily charging: the order period).
    pub months: u32,
    pub addons: Vec<AddonQuantity>,
    pub username: String,
    pub domain: String,
    pub currency: String,
    /// Whether the tariff charges daily (fixed at order).
    pub daily: bool,
    /// First day of the current period.
    pub period_start: NaiveDate,
    /// Exclusive end of the paid time: the service is paid through the day before.
    pub expires: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_by: Option<SuspendedBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    /// Bumped by every change; a write based on stale facts is retried.
    pub version: u64,
    /// The server's primary IP (an address allocated to it): what its
    /// control-panel license is bound to. Set with `PATCH /v1/services/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_ip: Option<String>,
}

impl Service {
    /// What the service holds now.
    pub fn holding(&self) -> Holding<'_> {
        Holding {
            tariff: self.tariff_id,
            addons: &self.addons,
        }
    }

    /// The control panel value it holds (one unit of a panel addon).
    pub fn panel(&self) -> Option<&str> {
        panel_of(&self.addons)
    }

    /// Which expiry index holds this service.
    pub fn expiry_index(&self) -> Option<ExpiryIndex> {
        expiry_index(self.status, self.daily, self.suspended_by)
    }

    /// Active again: the suspension, whoever made it, is over.
    pub fn activate(&mut self) {
        self.status = ServiceStatus::Active;
        self.suspended_at = None;
        self.suspended_by = None;
    }

    /// Paid for another period of `months`, `period_start` to `expires`:
    /// one suspended because it expired is active again.
    pub fn renew(&mut self, months: u32, period_start: NaiveDate, expires: NaiveDate) {
        self.months = months;
        self.period_start = period_start;
        self.expires = expires;
        if self.suspended_by == Some(SuspendedBy::Expiry) {
            self.activate();
        }
    }

    pub fn suspend(&mut self, by: SuspendedBy, on: NaiveDate) {
        self.status = ServiceStatus::Suspended;
        self.suspended_at = Some(on);
        self.suspended_by = Some(by);
    }

    /// Deleted for good on `on`: it leaves every expiry index.
    pub fn delete(&mut self, on: NaiveDate) {
        self.status = ServiceStatus::Deleted;
        self.deleted_at = Some(on);
    }

    pub fn facts(&self) -> ServiceFacts {
        ServiceFacts {
            id: self.id.to_string(),
            status: self.status,
            period_start: Some(self.period_start),
            expires: Some(self.expires),
            suspended_at: self.suspended_at,
            months: self.months,
            addons: self.addons.clone(),
        }
    }
}

/// The facts of an existing service as a rule sees them (and as a quote may
/// give them inline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFacts {
    pub id: String,
    pub status: ServiceStatus,
    #[serde(default)]
    pub period_start: Option<NaiveDate>,
    /// Exclusive end of the paid period.
    #[serde(default)]
    pub expires: Option<NaiveDate>,
    #[serde(default)]
    pub suspended_at: Option<NaiveDate>,
    pub months: u32,
    #[serde(default)]
    pub addons: Vec<AddonQuantity>,
}

impl ServiceFacts {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("service.id", &self.id, 64)?;
        for (field, day) in [
            ("service.period_start", self.period_start),
            ("service.expires", self.expires),
            ("service.suspended_at", self.suspended_at),
        ] {
            if let Some(day) = day {
                super::day::check_range(field, day)?;
            }
        }
        tariff::check_period("service.months", self.months)?;
        tariff::check_addons("service.addons", &self.addons)
    }
}

/// The expiry indexes a service can be in (the store keeps one table each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryIndex {
    /// Every service that is not deleted, except the unpaid period ones.
    Main,
    /// Period services suspended because they expired unpaid: only
    /// auto-deletion concerns them.
    Unpaid,
}

/// Which expiry index holds a service with these fields: none once deleted.
pub fn expiry_index(
    status: ServiceStatus,
    daily: bool,
    suspended_by: Option<SuspendedBy>,
) -> Option<ExpiryIndex> {
    // An ordered service waits for its first payment: it has no expiry yet.
    if matches!(status, ServiceStatus::Deleted | ServiceStatus::Ordered) {
        None
    } else if !daily && suspended_by == Some(SuspendedBy::Expiry) {
        Some(ExpiryIndex::Unpaid)
    } else {
        Some(ExpiryIndex::Main)
    }
}

#[cfg(test)]
mod tests {
    use super::check_domain;

    #[test]
    fn domains_are_host_names() {
        for good in [
            "example.com",
            "shop.example.co.uk",
            "xn--bcher-kva.de",
            "a-1.b2",
        ] {
            assert!(check_domain("domain", good).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("../../etc", "only letters, digits, hyphens and dots"),
            ("localhost", "at least two labels"),
            ("a..b", "label of 0 characters"),
            ("-a.com", "starts or ends with a hyphen"),
            ("shop example.com", "only letters"),
            ("bücher.de", "xn-- form"),
            ("example.com.", "label of 0 characters"),
        ] {
            let e = check_domain("domain", bad).unwrap_err();
            assert_eq!(e.field, "domain");
            assert!(e.message.contains(why), "{bad}: {}", e.message);
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(check_domain("domain", &long).is_err());
        let too_long = vec!["a".repeat(60); 5].join(".");
        assert!(
            check_domain("domain", &too_long)
                .unwrap_err()
                .message
                .contains("253")
        );
    }
}
