//! The redb tables. Values are JSON (serde) so the file stays inspectable and
//! fields can be added without a migration; keys are typed.

use crate::domain::service::ExpiryIndex;
use redb::TableDefinition;

/// Schema version and other single values.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Id sequences: table name -> last id handed out.
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
/// Account id -> `Account` (provider, resellers, clients).
pub const ACCOUNTS: TableDefinition<u64, &[u8]> = TableDefinition::new("accounts");
/// Client group id -> `ClientGroup`.
pub const CLIENT_GROUPS: TableDefinition<u64, &[u8]> = TableDefinition::new("client_groups");
/// API key id -> `ApiKey` (never the secret).
pub const API_KEYS: TableDefinition<u64, &[u8]> = TableDefinition::new("api_keys");
/// sha256 of an API key secret -> API key id.
pub const API_KEY_HASHES: TableDefinition<&[u8], u64> = TableDefinition::new("api_key_hashes");
/// "caller:key" -> `IdempotencyRecord`.
pub const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency");
/// (created_at seconds, "caller:key") -> (), to prune old records in order.
pub const IDEMPOTENCY_BY_TIME: TableDefinition<(i64, &str), ()> =
    TableDefinition::new("idempotency_by_time");
/// Tariff id -> `Tariff`.
pub const TARIFFS: TableDefinition<u64, &[u8]> = TableDefinition::new("tariffs");
/// Service id -> `Service`.
pub const SERVICES: TableDefinition<u64, &[u8]> = TableDefinition::new("services");
/// (client id, service id) -> (): a client's services, for per-client limits.
pub const SERVICES_BY_CLIENT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("services_by_client");
/// (expiry as days since 0001-01-01, service id) -> (): the services that are
/// not deleted, by expiry, except those in [`SERVICES_UNPAID`]. Every service
/// the daily job acts on has expired (daily services "expire" at their first
/// unpaid day), so it reads a range instead of every service.
pub const SERVICES_BY_EXPIRY: TableDefinition<(i32, u64), ()> =
    TableDefinition::new("services_by_expiry");
/// (expiry, service id) -> (): period services suspended because they expired
/// unpaid. Only auto-deletion concerns them, so the daily job reads this
/// range only as far as the shortest deletion period reaches; in the main
/// index they would be read every day for as long as they are kept.
pub const SERVICES_UNPAID: TableDefinition<(i32, u64), ()> =
    TableDefinition::new("services_unpaid");
/// Ledger line id -> `LedgerEntry`. Append-only: lines are never changed or removed.
pub const LEDGER: TableDefinition<u64, &[u8]> = TableDefinition::new("ledger");
/// (account id, ledger line id) -> (): an account's lines in order.
pub const LEDGER_BY_ACCOUNT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("ledger_by_account");
/// (service id, entry id) -> (): a service's lines, for the sums billing
/// asks about (what was paid for a period, a suspension's daily charges).
pub const LEDGER_BY_SERVICE: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("ledger_by_service");
/// (account id, currency) -> `Balance`, kept in the same transaction as every
/// ledger append so it always equals the sum of the account's lines.
pub const BALANCES: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("balances");
/// Receipt id -> `Receipt`: every state-changing rule decision.
pub const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");

/// Pending id -> `Pending`: orders and renewals waiting for funds, oldest
/// first.
pub const PENDING: TableDefinition<u64, &[u8]> = TableDefinition::new("pending_charges");

/// (reseller id, 0 for the default; currency) -> `PriceList`: wholesale
/// prices.
pub const WHOLESALE_PRICES: TableDefinition<(u64, &str), &[u8]> =
    TableDefinition::new("wholesale_prices");

/// (day recorded, days since 0001-01-01; reseller id; ledger entry id) ->
/// `ShadowRecord`: the shadow lines of each day, what the daily bills and
/// the margins read (a day's lines are one range).
pub const SHADOWS_BY_DAY: TableDefinition<(u32, u64, u64), &[u8]> =
    TableDefinition::new("shadows_by_day");

/// (reseller id, day, currency, resource type) -> `Bill`: the daily
/// wholesale bills.
pub const WHOLESALE_BILLS: TableDefinition<(u64, u32, &str, &str), &[u8]> =
    TableDefinition::new("wholesale_bills");

/// Day -> number of bills made for it: the days billed, so a day is billed
/// once.
pub const BILLED_DAYS: TableDefinition<u32, u64> = TableDefinition::new("wholesale_billed_days");

/// Pool id -> `Pool` (IP address management).
pub const IP_POOLS: TableDefinition<u64, &[u8]> = TableDefinition::new("ip_pools");
/// (pool id, first address) -> last address: a pool's free intervals.
pub const IP_FREE: TableDefinition<(u64, u128), u128> = TableDefinition::new("ip_free");
/// Pool id -> `Usage` (free, allocated, quarantined), kept with every change.
pub const IP_USAGE: TableDefinition<u64, &[u8]> = TableDefinition::new("ip_usage");
/// Allocation id -> `Allocation`: the addresses given now.
pub const IP_ALLOCATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("ip_allocations");
/// (pool id, address) -> allocation id: who holds an address.
pub const IP_TAKEN: TableDefinition<(u64, u128), u64> = TableDefinition::new("ip_taken");
/// (service id, allocation id) -> (): a service's addresses.
pub const IP_BY_SERVICE: TableDefinition<(u64, u64), ()> = TableDefinition::new("ip_by_service");
/// (pool id, first free day, address) -> (): released addresses in quarantine.
pub const IP_QUARANTINE: TableDefinition<(u64, i32, u128), ()> =
    TableDefinition::new("ip_quarantine");

/// The table of an expiry index.
pub fn expiry_table(index: ExpiryIndex) -> TableDefinition<'static, (i32, u64), ()> {
    match index {
        ExpiryIndex::Main => SERVICES_BY_EXPIRY,
        ExpiryIndex::Unpaid => SERVICES_UNPAID,
    }
}

/// Enumeration id -> `Enumeration` (the values of a "control panel" add-on).
pub const ENUMERATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("enumerations");
/// License id -> `License` (seed 003's license pool and the licenses in use).
pub const LICENSES: TableDefinition<u64, &[u8]> = TableDefinition::new("licenses");
/// (license tariff, first day free as days since 0001-01-01, license id) ->
/// (): the pooled licenses (free.lic, 0.0.0.0, active or suspended). A
/// license is free from the day after its IP and its key were both changed
/// a calendar month ago, so taking one reads the start of a range, never
/// the pool.
pub const LICENSES_FREE: TableDefinition<(&str, i32, u64), ()> =
    TableDefinition::new("licenses_free");
/// (expiry as days since 0001-01-01, license id) -> (): licenses neither
/// expired nor deleted, for the daily renewals and expiries.
pub const LICENSES_BY_EXPIRY: TableDefinition<(i32, u64), ()> =
    TableDefinition::new("licenses_by_expiry");
/// Service id -> license id: the license a server holds.
pub const LICENSES_BY_SERVICE: TableDefinition<u64, u64> =
    TableDefinition::new("licenses_by_service");
/// Event id -> `LicenseEvent`: the outbox a vendor integration reads.
pub const LICENSE_EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("license_events");
/// 0 -> `VendorFaults`: failures the license vendor simulator injects
/// (test-clock mode only).
pub const LICENSE_VENDOR_FAULTS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("license_vendor_faults");
