//! Bearer API keys: generation, hashing, and resolving a key to a [`Caller`].
//!
//! A key is shown once, when it is created; the store keeps only its sha256.
//! Every request looks its key up in a fresh read transaction, so a revocation
//! takes effect for the very next request.

use super::{ApiError, App};
use crate::domain::accounts::{Account, ApiKey, Role};
use crate::store::{self, ACCOUNTS, API_KEY_HASHES, API_KEYS, StoreError};
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use sha2::{Digest, Sha256};

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub account_id: u64,
    pub role: Role,
    pub key_id: u64,
}

impl Caller {
    /// The reseller whose objects this caller is confined to; None for the provider.
    pub fn reseller_scope(&self) -> Option<u64> {
        match self.role {
            Role::Provider => None,
            Role::Reseller => Some(self.account_id),
        }
    }

    pub fn is_provider(&self) -> bool {
        self.role == Role::Provider
    }

    /// Whether this caller may see an object owned by `reseller` (None: the provider's).
    pub fn can_see(&self, reseller: Option<u64>) -> bool {
        match self.reseller_scope() {
            None => true,
            Some(own) => reseller == Some(own),
        }
    }

    pub fn require_provider(&self) -> Result<(), ApiError> {
        if self.is_provider() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "only the provider's API key may do this".into(),
            ))
        }
    }
}

/// A new random key secret: "rk_" + 64 hex digits (256 bits).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    format!("rk_{}", hex::encode(bytes))
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Store a key for `account` inside `txn`; returns its record.
pub fn insert_key(
    txn: &WriteTransaction,
    account: &Account,
    role: Role,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<ApiKey, StoreError> {
    let id = store::next_id(txn, "api_keys")?;
    let key = ApiKey {
        id,
        account_id: account.id,
        role,
        prefix: secret.chars().take(7).collect(),
        created_at: now,
        revoked_at: None,
    };
    txn.open_table(API_KEYS)?
        .insert(id, store::encode(&key).as_slice())?;
    txn.open_table(API_KEY_HASHES)?
        .insert(hash(secret).as_slice(), id)?;
    Ok(key)
}

impl App {
    /// Resolve an `Authorization` header value to the caller.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Caller, ApiError> {
        let unauthorized = || {
            ApiError::Unauthorized("send a valid API key as `Authorization: Bearer <key>`".into())
        };
        let secret = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(unauthorized)?;
        let read = self.store.read()?;
        let key_id = match read
            .open_table(API_KEY_HASHES)?
            .get(hash(secret).as_slice())?
        {
            Some(id) => id.value(),
            None => return Err(unauthorized()),
        };
        let key: ApiKey = store::get_json(&read.open_table(API_KEYS)?, "api_keys", key_id)?
            .ok_or_else(unauthorized)?;
        if key.revoked_at.is_some() {
            return Err(ApiError::Unauthorized(format!(
                "API key {}… was revoked",
                key.prefix
            )));
        }
        let account: Option<Account> =
            store::get_json(&read.open_table(ACCOUNTS)?, "accounts", key.account_id)?;
        if account.is_none() {
            return Err(unauthorized());
        }
        Ok(Caller {
            account_id: key.account_id,
            role: key.role,
            key_id: key.id,
        })
    }
}
