//! Licenses as the API shows them, the outbox of license events, and the
//! request shapes of `/v1/licenses` (seed 003).

use crate::domain::ids::{AccountId, LicenseEventId, LicenseId, ServiceId};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The name of a license in the pool.
pub const FREE_NAME: &str = "free.lic";
/// The IP of a license in the pool.
pub const FREE_IP: &str = "0.0.0.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LicenseStatus {
    Active,
    Suspended,
    Expired,
    Deleted,
}

/// A stored license: in the pool (free.lic, 0.0.0.0, no service) or serving
/// a server's control-panel add-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    pub id: LicenseId,
    /// The vendor's license tariff, e.g. "ispmanager-lite".
    pub tariff: String,
    pub name: String,
    pub ip: String,
    /// The activation key; never shown whole after the license is created.
    pub key: String,
    pub status: LicenseStatus,
    /// Exclusive: valid through the day before.
    pub expires: NaiveDate,
    pub ip_changed: NaiveDate,
    pub key_changed: NaiveDate,
    /// The server it serves, its owner and the owner's reseller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseller_id: Option<AccountId>,
    /// The control-panel value it serves (the add-on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `months` calendar months after `day` (clamped to a shorter month's end).
pub(crate) fn add_months(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

impl License {
    /// In the pool: named free.lic, IP 0.0.0.0, active or suspended, serving
    /// nothing. Whether it may be taken yet is [`License::free_from`]'s.
    pub fn pooled(&self) -> bool {
        self.name == FREE_NAME
            && self.ip == FREE_IP
            && self.service_id.is_none()
            && matches!(
                self.status,
                LicenseStatus::Active | LicenseStatus::Suspended
            )
    }

    /// The first day a pooled license is free: its IP and its key were both
    /// changed more than one calendar month before.
    pub fn free_from(&self) -> NaiveDate {
        let last = self.ip_changed.max(self.key_changed);
        add_months(last, 1).succ_opt().unwrap_or(NaiveDate::MAX)
    }

    /// Free on `today`, exactly as seed 003 says: Active or Suspended, named
    /// free.lic, IP 0.0.0.0, not expired, IP and key changed over a month ago.
    pub fn is_free(&self, today: NaiveDate) -> bool {
        self.pooled() && self.expires > today && self.free_from() <= today
    }

    /// Neither expired nor deleted: the daily job renews or expires it.
    pub fn live(&self) -> bool {
        matches!(
            self.status,
            LicenseStatus::Active | LicenseStatus::Suspended
        )
    }

    pub fn view(&self) -> LicenseView {
        LicenseView {
            id: self.id,
            tariff: self.tariff.clone(),
            name: self.name.clone(),
            ip: self.ip.clone(),
            key_prefix: key_prefix(&self.key),
            status: self.status,
            expires: self.expires,
            ip_changed: self.ip_changed,
            key_changed: self.key_changed,
            free: self.pooled(),
            service_id: self.service_id,
            client_id: self.client_id,
            reseller_id: self.reseller_id,
            addon: self.addon.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// How much of a key is shown: enough to tell keys apart, not to use one.
const KEY_SHOWN: usize = 6;

fn key_prefix(key: &str) -> String {
    let shown: String = key.chars().take(KEY_SHOWN).collect();
    format!("{shown}…")
}

/// A license as the API shows it: the key only as a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LicenseView {
    #[schema(value_type = u64)]
    pub id: LicenseId,
    #[schema(example = "ispmanager-lite")]
    pub tariff: String,
    #[schema(example = "Item #42 addon vps-42.example.com")]
    pub name: String,
    #[schema(example = "192.0.2.10")]
    pub ip: String,
    /// The first characters of the key, then "…".
    #[schema(example = "3f9a1c…")]
    pub key_prefix: String,
    pub status: LicenseStatus,
    /// Exclusive: valid through the day before.
    pub expires: NaiveDate,
    pub ip_changed: NaiveDate,
    pub key_changed: NaiveDate,
    /// In the pool (free.lic, 0.0.0.0); it may be taken once its IP and key
    /// were both changed over a month ago.
    pub free: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub service_id: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub client_id: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    /// The control-panel value it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A license the provider already holds, put into the pool (provider only).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLicense {
    /// The vendor's license tariff, as enumeration values map to it.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "ispmanager-lite"
    )]
    pub tariff: String,
    /// The activation key (shown whole only in this request).
    #[schema(
        min_length = 8,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "3f9a1c0e5b7d2a48"
    )]
    pub key: String,
    /// Exclusive: valid through the day before.
    #[schema(example = "2027-01-01")]
    pub expires: NaiveDate,
    /// When its IP last changed; default today (free a month after).
    #[serde(default)]
    pub ip_changed: Option<NaiveDate>,
    /// When its key was last generated; default today.
    #[serde(default)]
    pub key_changed: Option<NaiveDate>,
    /// Active (default) or suspended.
    #[serde(default)]
    pub status: Option<LicenseStatus>,
}

/// What the daemon did with a license, for a vendor integration to carry
/// out or check, and to report back on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseOperation {
    /// A new license ordered from the vendor.
    Order,
    /// A pooled license renamed, given an IP and a new key.
    Reuse,
    Renew,
    Suspend,
    Activate,
    /// Back to the pool: free.lic, 0.0.0.0.
    Release,
    /// Expired unrenewed.
    Expire,
}

/// One entry of the outbox (`GET /v1/license-events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LicenseEvent {
    #[schema(value_type = u64)]
    pub id: LicenseEventId,
    pub at: DateTime<Utc>,
    pub operation: LicenseOperation,
    #[schema(value_type = u64)]
    pub license_id: LicenseId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub service_id: Option<ServiceId>,
    pub tariff: String,
    pub name: String,
    pub ip: String,
    /// The period of an order or renewal, in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
    /// The adapter's error, when it failed (the license was left as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What a vendor integration reported back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<EventReport>,
}

/// A vendor integration's report on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventReport {
    /// Whether the vendor carried the operation out.
    pub done: bool,
    /// What happened, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub detail: Option<String>,
    /// Set by the daemon.
    #[serde(default, skip_deserializing)]
    pub at: Option<DateTime<Utc>>,
}

/// A failure the simulator injects (test-clock mode only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorFault {
    pub operation: LicenseOperation,
    /// Only for this license; absent: every license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub license_id: Option<LicenseId>,
}

/// The simulator's injected failures, replaced as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorFaults {
    pub faults: Vec<VendorFault>,
}
