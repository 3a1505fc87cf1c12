//! Changes to the layout of an existing store, each run once at start
//! (before any request is served) and marked done in the meta table.

use super::{
    LEDGER, LEDGER_BY_SERVICE, META, SERVICES, SERVICES_BY_EXPIRY, SERVICES_UNPAID, Store,
    StoreError,
};
use crate::domain::ledger::LedgerEntry;
use crate::domain::service::{ExpiryIndex, Service};
use redb::{ReadableTable, WriteTransaction};

/// Bring `store` up to the current layout.
pub fn run(store: &Store) -> Result<(), StoreError> {
    let txn = store.begin_write()?;
    {
        let mut meta = txn.open_table(META)?;
        if meta.get(UNPAID_INDEX_KEY)?.is_none() {
            move_unpaid_services(&txn)?;
            meta.insert(UNPAID_INDEX_KEY, 1)?;
        }
        if meta.get(LEDGER_BY_SERVICE_KEY)?.is_none() {
            index_lines_by_service(&txn)?;
            meta.insert(LEDGER_BY_SERVICE_KEY, 1)?;
        }
    }
    txn.commit()?;
    Ok(())
}

/// Set once unpaid period services live in their own index.
const UNPAID_INDEX_KEY: &str = "services_unpaid_index";

/// A store written before [`SERVICES_UNPAID`] existed keeps unpaid period
/// services in the main expiry index; move them (once, at start).
fn move_unpaid_services(txn: &WriteTransaction) -> Result<(), StoreError> {
    // (On a new store this creates the tables, empty.)
    let services = txn.open_table(SERVICES)?;
    let mut by_expiry = txn.open_table(SERVICES_BY_EXPIRY)?;
    let mut unpaid = txn.open_table(SERVICES_UNPAID)?;
    let mut moved = Vec::new();
    for key in by_expiry.iter()? {
        let (day, id) = key?.0.value();
        if let Some(bytes) = services.get(id)? {
            let service: Service = super::decode(SERVICES, id, bytes.value())?;
            if service.expiry_index() == Some(ExpiryIndex::Unpaid) {
                moved.push((day, id));
            }
        }
    }
    for key in moved {
        by_expiry.remove(key)?;
        unpaid.insert(key, ())?;
    }
    Ok(())
}

/// Set once every ledger line of a service is in [`LEDGER_BY_SERVICE`].
const LEDGER_BY_SERVICE_KEY: &str = "ledger_by_service_index";

/// A store written before [`LEDGER_BY_SERVICE`] existed: index its lines
/// (once, at start).
fn index_lines_by_service(txn: &WriteTransaction) -> Result<(), StoreError> {
    let ledger = txn.open_table(LEDGER)?;
    let mut by_service = txn.open_table(LEDGER_BY_SERVICE)?;
    for item in ledger.iter()? {
        let (id, bytes) = item?;
        let entry: LedgerEntry = super::decode(LEDGER, id.value(), bytes.value())?;
        if let Some(service) = entry.service_id {
            by_service.insert((service.get(), id.value()), ())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{AccountId, ServiceId, TariffId};
    use crate::domain::service::{ServiceStatus, SuspendedBy};
    use chrono::{Datelike, NaiveDate};

    fn service(id: u64, status: ServiceStatus, suspended_by: Option<SuspendedBy>) -> Service {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        Service {
            id: ServiceId(id),
            client_id: AccountId(1),
            reseller_id: None,
            tariff_id: TariffId(1),
            status,
            months: 1,
            addons: vec![],
            username: format!("u{id}"),
            domain: format!("u{id}.example"),
            currency: "EUR".into(),
            daily: false,
            period_start: day("2026-01-05"),
            expires: day("2026-02-05"),
            suspended_at: suspended_by.map(|_| day("2026-02-05")),
            suspended_by,
            deleted_at: None,
            created_at: "2026-01-05T06:00:00Z".parse().unwrap(),
            version: 1,
            primary_ip: None,
        }
    }

    fn keys(store: &Store, table: redb::TableDefinition<(i32, u64), ()>) -> Vec<u64> {
        let read = store.read().unwrap();
        let table = read.open_table(table).unwrap();
        table
            .iter()
            .unwrap()
            .map(|k| k.unwrap().0.value().1)
            .collect()
    }

    /// A store written before the unpaid index kept every service in the
    /// main one; the first start moves the unpaid period services, once.
    #[test]
    fn a_store_from_before_the_unpaid_index_is_moved_over_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_scratch(dir.path()).unwrap();
        let txn = store.begin_write().unwrap();
        {
            let mut services = txn.open_table(SERVICES).unwrap();
            let mut by_expiry = txn.open_table(SERVICES_BY_EXPIRY).unwrap();
            for s in [
                service(1, ServiceStatus::Active, None),
                service(2, ServiceStatus::Suspended, Some(SuspendedBy::Expiry)),
                service(3, ServiceStatus::Suspended, Some(SuspendedBy::Provider)),
            ] {
                services
                    .insert(s.id.get(), super::super::encode(&s).as_slice())
                    .unwrap();
                by_expiry
                    .insert((s.expires.num_days_from_ce(), s.id.get()), ())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        run(&store).unwrap();
        assert_eq!(keys(&store, SERVICES_BY_EXPIRY), [1, 3]);
        assert_eq!(keys(&store, SERVICES_UNPAID), [2]);
        // Once: a later start does not scan again (an entry put back in the
        // main index by hand stays there).
        let expires = service(2, ServiceStatus::Active, None).expires;
        let txn = store.begin_write().unwrap();
        txn.open_table(SERVICES_BY_EXPIRY)
            .unwrap()
            .insert((expires.num_days_from_ce(), 2), ())
            .unwrap();
        txn.commit().unwrap();
        run(&store).unwrap();
        assert_eq!(keys(&store, SERVICES_BY_EXPIRY), [1, 2, 3]);
    }

    /// Lines written before the index of lines by service are indexed at
    /// the first start; manual adjustments (no service) are not.
    #[test]
    fn a_store_from_before_the_service_index_gets_its_lines_indexed() {
        use crate::domain::ids::EntryId;
        use crate::domain::ledger::{Line, LineKind};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_scratch(dir.path()).unwrap();
        let entry = |id: u64, service: Option<u64>| LedgerEntry {
            id: EntryId(id),
            account_id: AccountId(2),
            reseller_id: None,
            service_id: service.map(ServiceId),
            currency: "EUR".into(),
            at: "2026-01-05T06:00:00Z".parse().unwrap(),
            receipt_id: None,
            rule_sha256: None,
            line: Line {
                kind: LineKind::Adjustment,
                description: "x".into(),
                amount: "1.00".parse().unwrap(),
                period_start: None,
                period_end: None,
            },
            shadow_id: None,
            shadow_of: None,
            parts: vec![],
        };
        let txn = store.begin_write().unwrap();
        {
            let mut ledger = txn.open_table(LEDGER).unwrap();
            for e in [
                entry(1, Some(7)),
                entry(2, None),
                entry(3, Some(7)),
                entry(4, Some(9)),
            ] {
                ledger
                    .insert(e.id.get(), super::super::encode(&e).as_slice())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        run(&store).unwrap();
        let read = store.read().unwrap();
        let index = read.open_table(LEDGER_BY_SERVICE).unwrap();
        let keys: Vec<(u64, u64)> = index
            .iter()
            .unwrap()
            .map(|k| k.unwrap().0.value())
            .collect();
        assert_eq!(keys, [(7, 1), (7, 3), (9, 4)]);
    }
}
