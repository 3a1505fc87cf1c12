//! Every read and write of tenancy's tables: accounts, client groups, API
//! keys and the index from a key's hash to the key.

use crate::app::{ApiError, App};
use crate::domain::accounts::{Account, AccountKind, ApiKey, ClientGroup};
use crate::domain::ids::{AccountId, GroupId, KeyId};
use crate::store::{self, ACCOUNTS, API_KEY_HASHES, API_KEYS, CLIENT_GROUPS, StoreError};
use redb::{ReadableTable, WriteTransaction};

pub(crate) fn account_in(
    txn: &WriteTransaction,
    id: AccountId,
) -> Result<Option<Account>, ApiError> {
    Ok(store::get_json(&txn.open_table(ACCOUNTS)?, ACCOUNTS, id)?)
}

pub(super) fn next_account_id(txn: &WriteTransaction) -> Result<AccountId, ApiError> {
    Ok(store::next_id(txn, ACCOUNTS)?.into())
}

pub(super) fn put_account(txn: &WriteTransaction, account: &Account) -> Result<(), ApiError> {
    txn.open_table(ACCOUNTS)?
        .insert(account.id.get(), store::encode(account).as_slice())?;
    Ok(())
}

/// Whether the store already has a provider account.
pub(crate) fn has_provider(store: &store::Store) -> Result<bool, ApiError> {
    let read = store.read()?;
    let Some(accounts) = store::table_if_exists(&read, ACCOUNTS)? else {
        return Ok(false);
    };
    for entry in accounts.iter()? {
        let (id, bytes) = entry?;
        let a: Account = store::decode(ACCOUNTS, id.value(), bytes.value())?;
        if a.kind == AccountKind::Provider {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn group_in(
    txn: &WriteTransaction,
    id: GroupId,
) -> Result<Option<ClientGroup>, ApiError> {
    Ok(store::get_json(
        &txn.open_table(CLIENT_GROUPS)?,
        CLIENT_GROUPS,
        id,
    )?)
}

pub(super) fn next_group_id(txn: &WriteTransaction) -> Result<GroupId, ApiError> {
    Ok(store::next_id(txn, CLIENT_GROUPS)?.into())
}

pub(super) fn put_group(txn: &WriteTransaction, group: &ClientGroup) -> Result<(), ApiError> {
    txn.open_table(CLIENT_GROUPS)?
        .insert(group.id.get(), store::encode(group).as_slice())?;
    Ok(())
}

pub(super) fn key_in(txn: &WriteTransaction, id: KeyId) -> Result<Option<ApiKey>, ApiError> {
    Ok(store::get_json(&txn.open_table(API_KEYS)?, API_KEYS, id)?)
}

pub(super) fn next_key_id(txn: &WriteTransaction) -> Result<KeyId, StoreError> {
    Ok(store::next_id(txn, API_KEYS)?.into())
}

/// Store a key (new or revoked); `hash`, for a new key, indexes it by its
/// secret's hash.
pub(super) fn put_key(
    txn: &WriteTransaction,
    key: &ApiKey,
    hash: Option<&[u8; 32]>,
) -> Result<(), StoreError> {
    txn.open_table(API_KEYS)?
        .insert(key.id.get(), store::encode(key).as_slice())?;
    if let Some(hash) = hash {
        txn.open_table(API_KEY_HASHES)?
            .insert(hash.as_slice(), key.id.get())?;
    }
    Ok(())
}

/// The stored key whose secret has this hash, revoked or not, and the
/// account it belongs to (None if that is gone), from one snapshot.
pub(super) fn key_by_hash(
    store: &store::Store,
    hash: &[u8; 32],
) -> Result<Option<(ApiKey, Option<Account>)>, StoreError> {
    let read = store.read()?;
    let Some(hashes) = store::table_if_exists(&read, API_KEY_HASHES)? else {
        return Ok(None);
    };
    let Some(id) = hashes.get(hash.as_slice())?.map(|v| v.value()) else {
        return Ok(None);
    };
    let Some(key) = store::get_json::<ApiKey>(&read.open_table(API_KEYS)?, API_KEYS, id)? else {
        return Ok(None);
    };
    let account = store::get_json(&read.open_table(ACCOUNTS)?, ACCOUNTS, key.account_id)?;
    Ok(Some((key, account)))
}

impl App {
    pub(crate) fn account(&self, id: AccountId) -> Result<Option<Account>, ApiError> {
        Ok(self.store.read_one(ACCOUNTS, id)?)
    }

    pub(super) fn accounts_where(
        &self,
        keep: impl Fn(&Account) -> bool,
    ) -> Result<Vec<Account>, ApiError> {
        Ok(self.store.read_all(ACCOUNTS, keep)?)
    }

    pub(super) fn group(&self, id: GroupId) -> Result<Option<ClientGroup>, ApiError> {
        Ok(self.store.read_one(CLIENT_GROUPS, id)?)
    }

    pub(super) fn groups_where(
        &self,
        keep: impl Fn(&ClientGroup) -> bool,
    ) -> Result<Vec<ClientGroup>, ApiError> {
        Ok(self.store.read_all(CLIENT_GROUPS, keep)?)
    }

    pub(super) fn keys_where(
        &self,
        keep: impl Fn(&ApiKey) -> bool,
    ) -> Result<Vec<ApiKey>, ApiError> {
        Ok(self.store.read_all(API_KEYS, keep)?)
    }
}
