//! What a read sees: a snapshot of the last commit, or, on a scratch store,
//! the open session transaction (see [`super::session`]), so a replay step
//! reads what the steps before it wrote without a commit per step.
//!
//! [`View`] and [`ViewTable`] mirror the redb calls the API makes
//! (`open_table`, and `ReadableTable` on the result), so read code is written
//! once for both.

use super::session::Open;
use redb::{
    AccessGuard, Key, Range, ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata,
    Table, TableDefinition, TableError, TableStats, Value,
};
use std::borrow::Borrow;
use std::ops::RangeBounds;

/// A consistent view of the store for reading.
///
/// On a scratch store it holds the session's lock, so it is not `Send`: it
/// cannot be kept across an `.await` (where it would block the writes of the
/// same session), which the compiler checks for every handler.
pub enum View<'s> {
    /// A read transaction: the state as of the last commit.
    Snapshot(ReadTransaction),
    /// A scratch store's open write transaction, uncommitted writes included.
    Session(Open<'s>),
}

impl View<'_> {
    /// Open a table for reading. On a snapshot, a table nothing was ever
    /// written to does not exist (redb creates tables on their first write);
    /// in a session it is created empty.
    pub fn open_table<K: Key + 'static, V: Value + 'static>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<ViewTable<'_, K, V>, TableError> {
        match self {
            View::Snapshot(read) => read.open_table(definition).map(ViewTable::Snapshot),
            View::Session(open) => open.txn().open_table(definition).map(ViewTable::Session),
        }
    }
}

/// A table opened through a [`View`].
pub enum ViewTable<'v, K: Key + 'static, V: Value + 'static> {
    Snapshot(ReadOnlyTable<K, V>),
    Session(Table<'v, K, V>),
}

impl<K: Key + 'static, V: Value + 'static> ReadableTableMetadata for ViewTable<'_, K, V> {
    fn stats(&self) -> redb::Result<TableStats> {
        match self {
            ViewTable::Snapshot(t) => t.stats(),
            ViewTable::Session(t) => t.stats(),
        }
    }

    fn len(&self) -> redb::Result<u64> {
        match self {
            ViewTable::Snapshot(t) => t.len(),
            ViewTable::Session(t) => t.len(),
        }
    }
}

impl<K: Key + 'static, V: Value + 'static> ReadableTable<K, V> for ViewTable<'_, K, V> {
    fn get<'a>(
        &self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> redb::Result<Option<AccessGuard<'_, V>>> {
        match self {
            ViewTable::Snapshot(t) => t.get(key),
            ViewTable::Session(t) => t.get(key),
        }
    }

    fn range<'a, KR>(&self, range: impl RangeBounds<KR> + 'a) -> redb::Result<Range<'_, K, V>>
    where
        KR: Borrow<K::SelfType<'a>> + 'a,
    {
        match self {
            ViewTable::Snapshot(t) => t.range(range),
            ViewTable::Session(t) => t.range(range),
        }
    }

    fn first(&self) -> redb::Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        match self {
            ViewTable::Snapshot(t) => t.first(),
            ViewTable::Session(t) => t.first(),
        }
    }

    fn last(&self) -> redb::Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        match self {
            ViewTable::Snapshot(t) => t.last(),
            ViewTable::Session(t) => t.last(),
        }
    }
}
