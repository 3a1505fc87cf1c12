//! The plain-Rust view of the WIT contract: decimals are [`Decimal`], dates are
//! [`NaiveDate`], instants are [`DateTime<Utc>`]. See `wit/rules.wit` for the
//! meaning of every field.

use alloc::string::String;
use alloc::vec::Vec;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// Why a rule produced no decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// The module does not implement this hook or operation.
    NotImplemented(String),
    /// The request breaks a policy; the text is shown to a person.
    Denied(String),
    /// The facts handed in make no sense to this rule.
    InvalidInput(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Order,
    Renewal,
    Setup,
    Daily,
    LateFee,
    Refund,
    Adjustment,
    /// What a change of tariff costs.
    Change,
    /// Addon units added mid-period.
    Addon,
}

/// One line of money a decision wants recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    /// Positive for a charge, negative for a refund.
    pub amount: Decimal,
    pub period_start: Option<NaiveDate>,
    /// Exclusive end of the period this line pays for.
    pub period_end: Option<NaiveDate>,
}

impl Line {
    /// A line without a period.
    pub fn charge(kind: LineKind, description: impl Into<String>, amount: Decimal) -> Self {
        Line {
            kind,
            description: description.into(),
            amount,
            period_start: None,
            period_end: None,
        }
    }

    /// The same line, paying for `[start, end)`.
    pub fn covering(mut self, start: NaiveDate, end: NaiveDate) -> Self {
        self.period_start = Some(start);
        self.period_end = Some(end);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodPrice {
    pub months: u32,
    pub price: Decimal,
}

/// What renewing an expired service costs. The late days run from the expiry
/// through the day of renewal, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LateFee {
    None,
    Fixed(Decimal),
    /// Percent of the cost of the late days, e.g. 50 for half.
    Percent(Decimal),
    /// The renewed period starts at the old expiry: time, not money.
    RenewFromSuspension,
}

/// Daily charging settings of a tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCharging {
    /// Price of one day; required unless `cost_from_period`.
    pub price: Option<Decimal>,
    /// A day costs the order period's price / the days of that period.
    pub cost_from_period: bool,
    /// Client-suspended days are paid for (true) or refunded on resume (false).
    pub charge_downtime: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addon {
    pub resource: String,
    pub unit: String,
    pub included: u32,
    pub minimum: u32,
    pub maximum: u32,
    pub price_per_unit: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonQuantity {
    pub resource: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub prices: Vec<PeriodPrice>,
    pub setup_fee: Decimal,
    pub renewal_prices: Vec<PeriodPrice>,
    pub daily: Option<DailyCharging>,
    pub pro_rata_day: Option<u32>,
    pub late_fee: LateFee,
    pub addons: Vec<Addon>,
}

impl Tariff {
    /// The order price of a period length, if it is sold.
    pub fn price_for(&self, months: u32) -> Option<Decimal> {
        self.prices
            .iter()
            .find(|p| p.months == months)
            .map(|p| p.price)
    }

    /// The renewal price of a period length: the special renewal price if set,
    /// else the order price.
    pub fn renewal_price_for(&self, months: u32) -> Option<Decimal> {
        self.renewal_prices
            .iter()
            .find(|p| p.months == months)
            .map(|p| p.price)
            .or_else(|| self.price_for(months))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    Ordered,
    Active,
    Suspended,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: String,
    pub status: ServiceStatus,
    /// First day of the current period (of the order period, when daily-charged).
    pub period_start: Option<NaiveDate>,
    /// Exclusive end of the paid time; for daily charging the first uncharged day.
    pub expires: Option<NaiveDate>,
    pub suspended_at: Option<NaiveDate>,
    pub months: u32,
    pub addons: Vec<AddonQuantity>,
}

// ---- pricing ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Order,
    Renewal,
    Daily,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRequest {
    pub operation: Operation,
    pub tariff: Tariff,
    pub months: u32,
    pub addons: Vec<AddonQuantity>,
    pub service: Option<Service>,
    /// The decision time: the only clock a rule sees.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceDecision {
    pub lines: Vec<Line>,
    pub period_start: NaiveDate,
    /// Exclusive end of the paid period. For a renewal, after the service's
    /// current expiry (the daemon refuses a renewal that does not extend it).
    pub expires: NaiveDate,
}

// ---- tariff-change ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangePolicy {
    ChangePeriod,
    AddFundsOrRefund,
    Forbidden,
    ExtraChargeOnly,
    FullPaymentFromToday,
    FullPaymentFromExpiry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    pub service: Service,
    pub from: Tariff,
    pub to: Tariff,
    pub policy: ChangePolicy,
    /// The period length asked for (the service's, or the one chosen for a
    /// full payment); `to` sells it.
    pub months: u32,
    /// The addon quantities the service will have on `to`.
    pub addons: Vec<AddonQuantity>,
    /// What the client paid for the days from the change to the expiry
    /// (each order, renewal, change or addon line for the share of its days
    /// in them, refunds subtracted; setup and late fees not counted).
    pub paid: Decimal,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeDecision {
    pub lines: Vec<Line>,
    /// First day of the service's period after the change.
    pub period_start: NaiveDate,
    /// New expiry (exclusive), not before the day of the change.
    pub expires: NaiveDate,
}

// ---- proration ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddonOrderPolicy {
    ProratedToExpiry,
    FullPeriod,
}

/// One addon's quantity changing on a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonChange {
    pub resource: String,
    /// The quantity the service has now.
    pub from: u32,
    /// The quantity asked for.
    pub to: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProrationEvent {
    /// An addon's quantity goes up mid-period.
    AddonOrder(AddonChange),
    /// An addon's quantity goes down mid-period; `refund` is the tariff's
    /// cancellation policy (refund the unused days, or nothing).
    AddonCancel {
        change: AddonChange,
        refund: bool,
    },
    /// A client resumes its suspended daily service: the days it was down and
    /// what they were charged.
    Downtime {
        days: u32,
        charged: Decimal,
    },
    Cancellation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProrationRequest {
    pub event: ProrationEvent,
    pub tariff: Tariff,
    pub service: Service,
    pub addon_policy: AddonOrderPolicy,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProrationDecision {
    pub lines: Vec<Line>,
}

// ---- ip-allocation ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Common,
    Assigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Static,
    Dynamic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub id: String,
    pub kind: PoolKind,
    pub reseller: Option<String>,
    pub family: IpFamily,
    /// Free addresses, lowest first (a bounded sample; a requested address
    /// comes first in its pool).
    pub free: Vec<String>,
    pub free_count: u64,
    /// Released addresses still in quarantine (not free yet).
    pub quarantined: u64,
    pub quarantine_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest {
    pub reseller: Option<String>,
    pub service: String,
    pub kind: AddressKind,
    pub family: IpFamily,
    /// Checked free by the daemon, in `requested_pool`.
    pub requested_address: Option<String>,
    pub requested_pool: Option<String>,
    /// Assigned pools first, then common pools.
    pub pools: Vec<Pool>,
    pub common_overflow_allowed: bool,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocationDecision {
    Allocate {
        pool: String,
        address: String,
    },
    /// Nothing free that this request may have; say what to ask for.
    Exhausted(String),
    Deny(String),
}

// ---- license-pool ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseStatus {
    Active,
    Suspended,
    Expired,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub id: String,
    /// The vendor's license tariff, e.g. "ispmanager-lite".
    pub tariff: String,
    pub name: String,
    pub ip: String,
    pub status: LicenseStatus,
    /// Exclusive: valid through the day before.
    pub expires: NaiveDate,
    pub ip_changed: NaiveDate,
    pub key_changed: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceEvent {
    FirstOrder,
    PrimaryIpChanged,
    LicenseTariffChanged,
    LicenseCancelled,
    ServiceSuspended,
    ServiceActivated,
    ServiceDeleted,
    UnchangedInactive,
    RenewalDue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRequest {
    pub event: ServiceEvent,
    pub service_id: String,
    pub service_name: String,
    pub service_active: bool,
    /// "0.0.0.0" while the server has none.
    pub primary_ip: String,
    /// The license tariff the server's panel maps to; None for no panel.
    pub wanted_tariff: Option<String>,
    /// The license period matched to the server's period, in months.
    pub license_months: u32,
    pub current: Option<License>,
    /// Free licenses of `wanted_tariff`, the longest free first.
    pub free: Vec<License>,
    pub at: DateTime<Utc>,
}

/// Which free licenses to try, in order, and the name the one taken gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub candidates: Vec<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseDecision {
    /// Get the server a license: from the pool, else a new one.
    Take(Take),
    /// Return the current license to the pool and take another.
    Reorder(Take),
    Activate,
    Suspend,
    /// Renew the current license for this many months.
    Renew(u32),
    /// Suspend the current license and return it to the pool.
    Release,
    Nothing,
}

// ---- wholesale ----

/// The wholesale price of one unit of a resource type for one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholesalePrice {
    pub resource: String,
    pub price: Decimal,
}

/// Units of a resource type a service holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub resource: String,
    pub units: u32,
}

/// Which decision made the retail lines of a [`WholesaleRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholesaleCause {
    Order,
    Renewal,
    /// A daily-charged service's day.
    Day,
    TariffChange,
    AddonChange,
    /// The refund of a daily service's days of suspension.
    Downtime,
}

/// The retail lines of one decision for a reseller's client, to shadow on
/// the reseller's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholesaleRequest {
    pub reseller: String,
    pub service: String,
    pub currency: String,
    /// What one service costs for a month before its resources (the part
    /// named [`BASE_RESOURCE`]).
    pub service_base: Decimal,
    pub prices: Vec<WholesalePrice>,
    pub cause: WholesaleCause,
    /// The service's expiry before the decision; None for an order.
    pub paid_until: Option<NaiveDate>,
    /// What the service held before the decision; empty for an order.
    pub held_before: Vec<Holding>,
    pub held_after: Vec<Holding>,
    pub lines: Vec<Line>,
    pub at: DateTime<Utc>,
}

/// The part of a shadow line named for the per-service base price.
pub const BASE_RESOURCE: &str = "service";

/// What a shadow line charges for one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholesalePart {
    pub resource: String,
    /// In the currency's minor units, the sign of the retail line.
    pub amount: Decimal,
}

/// One list of parts per retail line, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholesaleDecision {
    pub shadows: Vec<Vec<WholesalePart>>,
}
