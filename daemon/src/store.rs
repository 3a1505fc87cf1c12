//! The embedded redb store. This first version creates the file and guards its
//! schema version; the tables of accounts, tariffs, services and the ledger
//! arrive with the store issue.

use redb::{Database, ReadableDatabase, TableDefinition};
use std::path::{Path, PathBuf};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const SCHEMA_KEY: &str = "schema_version";

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

pub const FILE_NAME: &str = "rulesd.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    #[error(
        "the store {path} has schema version {found}, but this rulesd understands only \
         version {SCHEMA_VERSION}; use the rulesd release that wrote it"
    )]
    UnknownSchema { path: PathBuf, found: u64 },
    #[error("store {path}: {detail}")]
    Io { path: PathBuf, detail: String },
}

pub struct Store {
    db: Database,
}

impl Store {
    /// Open (or create) `dir/rulesd.redb` and check its schema version.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(FILE_NAME);
        let io = |e: &dyn std::fmt::Display| StoreError::Io {
            path: path.clone(),
            detail: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(&e))?;
        let db = Database::create(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let found = {
            let read = db.begin_read().map_err(|e| io(&e))?;
            match read.open_table(META) {
                Ok(t) => t.get(SCHEMA_KEY).map_err(|e| io(&e))?.map(|v| v.value()),
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(io(&e)),
            }
        };
        match found {
            Some(SCHEMA_VERSION) => {}
            Some(found) => return Err(StoreError::UnknownSchema { path, found }),
            None => {
                let write = db.begin_write().map_err(|e| io(&e))?;
                write
                    .open_table(META)
                    .map_err(|e| io(&e))?
                    .insert(SCHEMA_KEY, SCHEMA_VERSION)
                    .map_err(|e| io(&e))?;
                write.commit().map_err(|e| io(&e))?;
            }
        }
        Ok(Store { db })
    }

    pub fn schema_version(&self) -> Result<Option<u64>, redb::Error> {
        let read = self.db.begin_read()?;
        let table = read.open_table(META)?;
        Ok(table.get(SCHEMA_KEY)?.map(|v| v.value()))
    }
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
}
