//! The embedded redb store: typed tables, a schema version checked at open,
//! durable writes through one group-committing [`Writer`]; a scratch store
//! (the replay harness) reads and writes through one open [`Session`].

pub mod decoded;
pub mod migrations;
mod session;
mod tables;
mod view;
mod writer;

pub use session::Session;
pub use tables::*;
pub use view::{View, ViewTable};
pub use writer::{WriteError, Writer};

use redb::{
    Database, ReadOnlyDatabase, ReadableDatabase, ReadableTable, Table, TableHandle,
    WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SCHEMA_KEY: &str = "schema_version";

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

pub const FILE_NAME: &str = "rulesd.redb";

/// The page cache of a store opened by a read-only tool (`rulesd diff`).
const READ_TOOL_CACHE: usize = 16 << 20;

/// The daemon's page cache by default, in MiB (redb's own default). Pages
/// read stay cached up to this size: a job that reads much (the daily bill
/// job over a million shadow lines) grows the process by up to this much.
pub const DEFAULT_CACHE_MIB: usize = 1024;

/// The page cache sizes a daemon accepts, in MiB.
pub const CACHE_MIB: std::ops::RangeInclusive<usize> = 16..=65536;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error(
        "the store {path} has schema version {found}, but this rulesd understands only \
         version {SCHEMA_VERSION}; use the rulesd release that wrote it"
    )]
    UnknownSchema { path: PathBuf, found: u64 },
    /// The data directory's path names a file (or something else).
    #[error("the data directory {path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("storage error: {0}")]
    Storage(String),
    #[error("corrupt record in {table} for key {key}: {detail}")]
    Corrupt {
        table: String,
        key: String,
        detail: String,
    },
    #[error("the store writer has stopped")]
    WriterGone,
    /// A write to a store opened read-only ([`Store::open_existing`]).
    #[error("the store is open read-only (for a tool that only reads); nothing was written")]
    ReadOnly,
    /// The disk refused to take a write (full, over quota, mounted
    /// read-only). Nothing of the write was kept; the writer reopens the
    /// store before the next one, so writes work again once the disk does.
    #[error(
        "the disk holding the store is {0}: nothing was written; free space (or make it writable) and retry"
    )]
    Disk(DiskProblem),
}

/// Why the disk refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DiskProblem {
    /// ENOSPC.
    #[error("full")]
    Full,
    /// EDQUOT.
    #[error("over its quota")]
    Quota,
    /// EROFS.
    #[error("read-only")]
    ReadOnly,
}

impl DiskProblem {
    fn of(e: &std::io::Error) -> Option<DiskProblem> {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::StorageFull => Some(DiskProblem::Full),
            ErrorKind::QuotaExceeded => Some(DiskProblem::Quota),
            ErrorKind::ReadOnlyFilesystem => Some(DiskProblem::ReadOnly),
            _ => None,
        }
    }
}

macro_rules! storage_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                // Every redb error converts to `redb::Error`, whose `Io`
                // variant holds the OS error a full or read-only disk gave.
                match redb::Error::from(e) {
                    redb::Error::Io(io) if let Some(p) = DiskProblem::of(&io) => StoreError::Disk(p),
                    e => StoreError::Storage(e.to_string()),
                }
            }
        }
    )*};
}
storage_errors!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SavepointError,
    redb::SetDurabilityError,
    redb::DatabaseError
);

/// The redb database. On a durable store, reads open their own read
/// transaction and never wait for the writer, and all writes go through the
/// [`Writer`]; on a scratch store both go through its [`Session`]; a store
/// opened by a read-only tool refuses every write.
#[derive(Clone)]
pub struct Store {
    /// Declared before `db`: dropping the last handle commits the session
    /// before the database closes.
    session: Option<Arc<Session>>,
    db: Db,
}

/// The database of a [`Store`]: writable (the daemon, replay), or opened
/// read-only so that a tool like `rulesd diff` works on a backup without
/// changing a byte of it (a writable redb file is rewritten on open and on
/// close, even when nothing is written in between).
#[derive(Clone)]
enum Db {
    Writable(Arc<Reopenable>),
    ReadOnly(Arc<ReadOnlyDatabase>),
    /// A file that needed redb's repair, copied to a temporary directory and
    /// repaired there (see [`Store::open_existing`]); read-only like
    /// `ReadOnly`.
    RepairedCopy(Arc<RepairedCopy>),
}

/// A writable database that can be closed and opened again. After an I/O
/// error (a full disk) redb fails every later operation, reads included,
/// with `PreviousIo` until the database is reopened; [`Store::reopen`] does
/// that, so writes work again once the disk does.
struct Reopenable {
    path: PathBuf,
    cache_bytes: usize,
    /// None between closing the failed database and opening it again (and
    /// after a reopen that failed: the writer tries again before its next
    /// batch).
    db: std::sync::RwLock<Option<Arc<Database>>>,
}

impl Reopenable {
    fn current(&self) -> Result<Arc<Database>, StoreError> {
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                StoreError::Storage(
                    "the store is closed after a failed write (is the disk full?); it reopens with the next write".into(),
                )
            })
    }
}

/// A repaired copy of a store file and the directory that holds it.
struct RepairedCopy {
    /// Declared before `_dir`: the database closes before its file goes.
    db: Database,
    _dir: tempfile::TempDir,
}

impl Db {
    fn writable(&self) -> Result<Arc<Database>, StoreError> {
        match self {
            Db::Writable(db) => db.current(),
            Db::ReadOnly(_) | Db::RepairedCopy(_) => Err(StoreError::ReadOnly),
        }
    }

    fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        Ok(match self {
            Db::Writable(db) => db.current()?.begin_read()?,
            Db::RepairedCopy(copy) => copy.db.begin_read()?,
            Db::ReadOnly(db) => db.begin_read()?,
        })
    }
}

impl Store {
    /// Every record of a JSON table that `keep` accepts, in id order.
    pub fn read_all<T: DeserializeOwned>(
        &self,
        table: redb::TableDefinition<u64, &[u8]>,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, StoreError> {
        let read = self.read()?;
        let Some(t) = table_if_exists(&read, table)? else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for entry in t.iter()? {
            let (id, bytes) = entry?;
            let value: T = decode(table, id.value(), bytes.value())?;
            if keep(&value) {
                out.push(value);
            }
        }
        Ok(out)
    }

    /// The record `id` of a JSON table.
    pub fn read_one<T: DeserializeOwned>(
        &self,
        table: redb::TableDefinition<u64, &[u8]>,
        id: impl Into<u64>,
    ) -> Result<Option<T>, StoreError> {
        let read = self.read()?;
        match table_if_exists(&read, table)? {
            Some(t) => get_json(&t, table, id),
            None => Ok(None),
        }
    }
}

impl Store {
    /// Open (or create) `dir/rulesd.redb` and check its schema version.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, true, DEFAULT_CACHE_MIB)
    }

    /// [`Store::open`] (`durable`) or [`Store::open_scratch`] with a page
    /// cache of `cache_mib` MiB.
    pub fn open_cached(dir: &Path, durable: bool, cache_mib: usize) -> Result<Store, StoreError> {
        Store::open_with(dir, durable, cache_mib)
    }

    /// Open a scratch store whose commits are not fsync'd (the replay
    /// harness: a crash loses a run that can be run again), read and written
    /// through one open [`Session`]. [`Store::flush`] makes everything
    /// written so far durable.
    pub fn open_scratch(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, false, DEFAULT_CACHE_MIB)
    }

    /// Open an existing store read-only, creating and changing nothing (for
    /// tools that only read, like `rulesd diff`, which promise to leave a
    /// backup as it was: its bytes stay the same, and a file without write
    /// permission, or an immutable one, works). Every write is refused with
    /// [`StoreError::ReadOnly`]. Fails clearly if a daemon holds the file.
    ///
    /// A file that was not closed cleanly (copied while a daemon had it
    /// open, or left by a crash) needs redb's repair, which writes: such a
    /// file is copied to a temporary directory (`$TMPDIR`) and repaired
    /// there, so the tool still works and the file is still not touched, at
    /// the cost of disk the size of the file for as long as the store is
    /// open. (Not memory: a tool streaming a history of millions of decisions
    /// keeps its memory flat.)
    pub fn open_existing(dir: &Path) -> Result<Store, StoreError> {
        check_not_a_file(dir)?;
        let path = dir.join(FILE_NAME);
        let open_err = |e: redb::DatabaseError| StoreError::Open {
            path: path.clone(),
            detail: match e {
                redb::DatabaseError::DatabaseAlreadyOpen => {
                    "it is open in another process (a running daemon?); use a copy or a backup"
                        .into()
                }
                e => e.to_string(),
            },
        };
        // A small page cache: a tool streams through the file once, and
        // redb's default cache (up to 1 GiB) would grow with the history read.
        let mut builder = redb::Builder::new();
        builder.set_cache_size(READ_TOOL_CACHE);
        let db = match builder.open_read_only(&path) {
            Ok(db) => Db::ReadOnly(Arc::new(db)),
            Err(redb::DatabaseError::RepairAborted) => {
                tracing::info!(path = %path.display(), "the store was not closed cleanly; repairing a temporary copy (the file is not written)");
                let (dir, copy) = temporary_copy(&path).map_err(|e| StoreError::Open {
                    path: path.clone(),
                    detail: format!("cannot copy it for repair: {e}"),
                })?;
                Db::RepairedCopy(Arc::new(RepairedCopy {
                    db: builder.create(&copy).map_err(open_err)?,
                    _dir: dir,
                }))
            }
            Err(e) => return Err(open_err(e)),
        };
        let store = Store { session: None, db };
        match store.schema_version()? {
            Some(SCHEMA_VERSION) => Ok(store),
            found => Err(StoreError::UnknownSchema {
                path,
                found: found.unwrap_or(0),
            }),
        }
    }

    fn open_with(dir: &Path, durable: bool, cache_mib: usize) -> Result<Store, StoreError> {
        let path = dir.join(FILE_NAME);
        let open_err = |detail: String| StoreError::Open {
            path: path.clone(),
            detail,
        };
        check_not_a_file(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let db = redb::Builder::new()
            .set_cache_size(cache_mib << 20)
            .create(&path)
            .map_err(|e| open_err(e.to_string()))?;
        let found = {
            let read = db.begin_read()?;
            match existing(read.open_table(META))? {
                Some(t) => t.get(SCHEMA_KEY)?.map(|v| v.value()),
                None => None,
            }
        };
        match found {
            Some(SCHEMA_VERSION) => {}
            Some(found) => return Err(StoreError::UnknownSchema { path, found }),
            None => {
                let write = begin_durable(&db)?;
                write.open_table(META)?.insert(SCHEMA_KEY, SCHEMA_VERSION)?;
                write.commit()?;
            }
        }
        let db = Arc::new(db);
        Ok(Store {
            session: (!durable).then(|| Arc::new(Session::new(db.clone()))),
            db: Db::Writable(Arc::new(Reopenable {
                path,
                cache_bytes: cache_mib << 20,
                db: std::sync::RwLock::new(Some(db)),
            })),
        })
    }

    /// Close the database and open it again (redb repairs it, since it was
    /// not closed cleanly): after a failed commit redb refuses everything
    /// until then. Fails while the disk still refuses the repair's writes;
    /// the writer then tries again before its next batch.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let Db::Writable(w) = &self.db else {
            return Err(StoreError::ReadOnly);
        };
        let mut db =
            w.db.write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Closed first: the failed database's file lock would refuse the new one.
        drop(db.take());
        let opened = redb::Builder::new()
            .set_cache_size(w.cache_bytes)
            .create(&w.path)?;
        *db = Some(Arc::new(opened));
        Ok(())
    }

    /// A write transaction outside the writer, for work done once at start
    /// (before the writer and any task run: on a scratch store, a session
    /// opened again between its commit here and this transaction would keep
    /// it waiting): durable when `commit` returns (fsync'd, with
    /// redb's two-phase commit so a torn write of the commit slot cannot be
    /// mistaken for a valid one), or for a scratch store not fsync'd at all
    /// (its session's writes so far are committed first).
    pub fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        match &self.session {
            None => begin_durable(self.db.writable()?.as_ref()),
            Some(session) => {
                session.commit()?;
                let mut txn = self.db.writable()?.begin_write()?;
                txn.set_durability(redb::Durability::None)?;
                Ok(txn)
            }
        }
    }

    /// Make every write so far durable (the session's commit, then one empty
    /// durable commit).
    pub fn flush(&self) -> Result<(), StoreError> {
        match &self.session {
            Some(session) => session.flush(),
            None => Ok(begin_durable(self.db.writable()?.as_ref())?.commit()?),
        }
    }

    /// A consistent view for reading: a snapshot of the last commit, or a
    /// scratch store's session with everything written so far.
    pub fn read(&self) -> Result<View<'_>, StoreError> {
        match &self.session {
            None => Ok(View::Snapshot(self.db.begin_read()?)),
            Some(session) => Ok(View::Session(session.open()?)),
        }
    }

    /// A scratch store's session (None for a durable store).
    pub fn session(&self) -> Option<Arc<Session>> {
        self.session.clone()
    }

    pub fn schema_version(&self) -> Result<Option<u64>, StoreError> {
        let read = self.read()?;
        let table = read.open_table(META)?;
        Ok(table.get(SCHEMA_KEY)?.map(|v| v.value()))
    }
}

/// A data directory path that exists must be a directory: otherwise creating
/// it fails with a bare "File exists (os error 17)" that names neither the
/// path nor the problem.
fn check_not_a_file(dir: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(StoreError::NotADirectory { path: dir.into() }),
        _ => Ok(()),
    }
}

/// A copy of a store file in a new temporary directory.
fn temporary_copy(path: &Path) -> std::io::Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join(FILE_NAME);
    std::fs::copy(path, &copy)?;
    Ok((dir, copy))
}

/// A write transaction that is durable when `commit` returns.
pub(super) fn begin_durable(db: &Database) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    txn.set_two_phase_commit(true);
    Ok(txn)
}

/// Open a table for reading, or None if nothing was ever written to it
/// (redb creates tables on their first write).
pub fn table_if_exists<'v, K: redb::Key + 'static, V: redb::Value + 'static>(
    read: &'v View<'_>,
    table: redb::TableDefinition<K, V>,
) -> Result<Option<ViewTable<'v, K, V>>, StoreError> {
    existing(read.open_table(table))
}

/// A table just opened, or None if it does not exist yet: [`table_if_exists`]
/// for whatever kind of transaction opened it.
pub fn existing<T>(opened: Result<T, redb::TableError>) -> Result<Option<T>, StoreError> {
    match opened {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Decode a JSON record of `table` (named in the error if it is corrupt).
pub fn decode<T: DeserializeOwned>(
    table: impl TableHandle,
    key: impl std::fmt::Display,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table: table.name().to_string(),
        key: key.to_string(),
        detail: e.to_string(),
    })
}

/// Encode a JSON record.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain data types to JSON cannot fail.
    serde_json::to_vec(value).expect("records serialize to JSON")
}

/// Get and decode a JSON record by id from `table`, opened from `definition`.
pub fn get_json<T: DeserializeOwned>(
    table: &impl ReadableTable<u64, &'static [u8]>,
    definition: impl TableHandle,
    id: impl Into<u64>,
) -> Result<Option<T>, StoreError> {
    let id = id.into();
    match table.get(id)? {
        Some(v) => decode(definition, id, v.value()).map(Some),
        None => Ok(None),
    }
}

/// Hand out the next id for a record of `table` (each table has its own
/// sequence, kept in [`COUNTERS`] under the table's name).
pub fn next_id(txn: &WriteTransaction, table: impl TableHandle) -> Result<u64, StoreError> {
    next_ids(txn, table, 1)
}

/// Hand out `n` consecutive ids for records of `table`; returns the first.
pub fn next_ids(
    txn: &WriteTransaction,
    table: impl TableHandle,
    n: u64,
) -> Result<u64, StoreError> {
    next_ids_in(&mut txn.open_table(COUNTERS)?, table, n)
}

/// [`next_ids`] with the counters table already open (several sequences in
/// one operation open it once).
pub fn next_ids_in(
    counters: &mut Table<&str, u64>,
    table: impl TableHandle,
    n: u64,
) -> Result<u64, StoreError> {
    let sequence = table.name();
    let first = counters.get(sequence)?.map_or(0, |v| v.value()) + 1;
    counters.insert(sequence, first + n.saturating_sub(1))?;
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reopens_with_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));
        drop(store);
        assert!(Store::open(dir.path()).is_ok());
    }

    #[test]
    fn a_data_directory_that_is_a_file_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, "").unwrap();
        for err in [
            Store::open(&file).err().unwrap(),
            Store::open_existing(&file).err().unwrap(),
        ] {
            assert!(
                matches!(&err, StoreError::NotADirectory { path } if *path == file),
                "{err}"
            );
            assert!(err.to_string().ends_with("is not a directory"), "{err}");
        }
    }

    #[test]
    fn open_existing_is_read_only_and_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let file = dir.path().join(FILE_NAME);
        let before = std::fs::read(&file).unwrap();
        let mut permissions = std::fs::metadata(&file).unwrap().permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&file, permissions).unwrap();

        for _ in 0..2 {
            let store = Store::open_existing(dir.path()).unwrap();
            assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));
            assert!(matches!(store.begin_write(), Err(StoreError::ReadOnly)));
            assert!(matches!(store.flush(), Err(StoreError::ReadOnly)));
        }
        assert!(std::fs::read(&file).unwrap() == before, "the file changed");
    }

    #[test]
    fn open_existing_repairs_an_unclean_copy_elsewhere_only() {
        // A copy taken while a daemon has the store open was not closed
        // cleanly: redb must repair it, which would write the file.
        let live = tempfile::tempdir().unwrap();
        let store = Store::open(live.path()).unwrap();
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(live.path().join(FILE_NAME), copy.path().join(FILE_NAME)).unwrap();
        drop(store);
        assert!(matches!(
            redb::ReadOnlyDatabase::open(copy.path().join(FILE_NAME)),
            Err(redb::DatabaseError::RepairAborted)
        ));
        let before = std::fs::read(copy.path().join(FILE_NAME)).unwrap();
        let store = Store::open_existing(copy.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));
        assert!(matches!(store.begin_write(), Err(StoreError::ReadOnly)));
        drop(store);
        assert!(std::fs::read(copy.path().join(FILE_NAME)).unwrap() == before);
    }

    #[test]
    fn open_existing_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(matches!(
            Store::open_existing(&missing),
            Err(StoreError::Open { .. })
        ));
        assert!(!missing.exists());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(FILE_NAME)).unwrap();
            let w = db.begin_write().unwrap();
            w.open_table(META).unwrap().insert(SCHEMA_KEY, 99).unwrap();
            w.commit().unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::UnknownSchema { found: 99, .. }),
            "{err}"
        );
    }

    /// A read-only or over-quota disk cannot be made in a test without
    /// unmounting under the daemon (a remount read-only is refused while the
    /// file is open for writing): the mapping of every OS error is checked
    /// here, the full disk end to end in tests/it/disk.rs.
    #[test]
    fn a_full_read_only_or_over_quota_disk_is_a_disk_problem() {
        use std::io::{Error, ErrorKind};
        for (kind, problem) in [
            (ErrorKind::StorageFull, DiskProblem::Full),
            (ErrorKind::QuotaExceeded, DiskProblem::Quota),
            (ErrorKind::ReadOnlyFilesystem, DiskProblem::ReadOnly),
        ] {
            let commit = redb::CommitError::Storage(redb::StorageError::Io(Error::from(kind)));
            assert!(matches!(StoreError::from(commit), StoreError::Disk(p) if p == problem));
        }
        let other = redb::StorageError::Io(Error::from(ErrorKind::PermissionDenied));
        assert!(matches!(StoreError::from(other), StoreError::Storage(_)));
        assert_eq!(
            StoreError::Disk(DiskProblem::ReadOnly).to_string(),
            "the disk holding the store is read-only: nothing was written; free space (or make it writable) and retry"
        );
    }
}
