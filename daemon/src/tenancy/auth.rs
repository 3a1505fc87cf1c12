//! API keys: generation, hashing, and resolving a key's secret to a [`Caller`].
//!
//! A key is shown once, when it is created; the store keeps only its sha256.
//! Resolved keys are cached in memory ([`KeyCache`]); a revocation empties the
//! cache once it is committed and before it is acknowledged, so it takes
//! effect for the very next request.

use super::tables;
use crate::app::{ApiError, App, Caller};
use crate::domain::accounts::{Account, ApiKey, Role};
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use sha2::{Digest, Sha256};

/// A new random key secret: "rk_" + 64 hex digits (256 bits).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    format!("rk_{}", hex::encode(bytes))
}

/// The shortest provider key a person may choose. Generated keys are 67
/// characters; a short chosen one could be guessed.
pub const MIN_CHOSEN_SECRET: usize = 16;

/// The longest provider key a person may choose (it travels in a header).
pub const MAX_CHOSEN_SECRET: usize = 256;

/// At most this many characters of a secret are kept as its prefix.
const PREFIX_LEN: usize = 7;

/// Why a provider key chosen by a person (`--provider-key`) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChosenKeyError {
    #[error(
        "the provider key has {0} characters; it must have at least {MIN_CHOSEN_SECRET} \
         (or leave it out and one is generated)"
    )]
    TooShort(usize),
    #[error("the provider key has {0} characters; it must have at most {MAX_CHOSEN_SECRET}")]
    TooLong(usize),
    #[error(
        "the provider key must be visible ASCII characters only (no spaces or control \
         characters): it is sent as `Authorization: Bearer <key>`"
    )]
    BadCharacter,
}

/// Check a provider key a person chose (surrounding whitespace is not part
/// of it: the caller trims).
pub fn check_chosen_secret(secret: &str) -> Result<(), ChosenKeyError> {
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ChosenKeyError::BadCharacter);
    }
    match secret.len() {
        n if n < MIN_CHOSEN_SECRET => Err(ChosenKeyError::TooShort(n)),
        n if n > MAX_CHOSEN_SECRET => Err(ChosenKeyError::TooLong(n)),
        _ => Ok(()),
    }
}

/// The part of a secret kept in clear to recognise its key by: at most
/// [`PREFIX_LEN`] characters and at most half of the secret, so the stored
/// and listed prefix never gives the secret away.
fn prefix(secret: &str) -> String {
    let len = PREFIX_LEN.min(secret.chars().count() / 2);
    secret.chars().take(len).collect()
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The stored key whose secret is `secret`, revoked or not.
pub fn find_key(store: &store::Store, secret: &str) -> Result<Option<ApiKey>, StoreError> {
    Ok(tables::key_by_hash(store, &hash(secret))?.map(|(key, _)| key))
}

/// Store a key for `account` inside `txn`; returns its record.
pub fn insert_key(
    txn: &WriteTransaction,
    account: &Account,
    role: Role,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<ApiKey, StoreError> {
    let key = ApiKey {
        id: tables::next_key_id(txn)?,
        account_id: account.id,
        role,
        prefix: prefix(secret),
        created_at: now,
        revoked_at: None,
    };
    tables::put_key(txn, &key, Some(&hash(secret)))?;
    Ok(key)
}

impl App {
    /// Resolve an API key's secret to the caller (None: no key was sent),
    /// and take a request from the key's rate limit.
    pub fn authenticate(&self, secret: Option<&str>) -> Result<Caller, ApiError> {
        let caller = self.resolve_key(secret)?;
        self.rate_limits.check(&caller).map_err(|wait| {
            self.metrics.rate_limited(caller.role);
            let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
            ApiError::RateLimited {
                message: format!(
                    "API key {} has used up its rate limit; retry in {retry_after} s",
                    caller.key_id
                ),
                retry_after,
            }
        })?;
        Ok(caller)
    }

    fn resolve_key(&self, secret: Option<&str>) -> Result<Caller, ApiError> {
        let unauthorized = || {
            ApiError::Unauthorized("send a valid API key as `Authorization: Bearer <key>`".into())
        };
        let hash = hash(secret.ok_or_else(unauthorized)?);
        if let Some(caller) = self.keys.get(&hash) {
            return Ok(caller);
        }
        let generation = self.keys.generation();
        let Some((key, account)) = tables::key_by_hash(&self.store, &hash)? else {
            return Err(unauthorized());
        };
        if key.revoked_at.is_some() {
            return Err(ApiError::Unauthorized(format!(
                "API key {}… was revoked",
                key.prefix
            )));
        }
        if account.is_none() {
            return Err(unauthorized());
        }
        let caller = Caller {
            account_id: key.account_id,
            role: key.role,
            key_id: key.id,
        };
        self.keys.insert(generation, hash, caller);
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_key_is_long_enough_and_its_prefix_never_the_secret() {
        assert_eq!(check_chosen_secret("x"), Err(ChosenKeyError::TooShort(1)));
        assert_eq!(
            check_chosen_secret("fifteen-chars-x"),
            Err(ChosenKeyError::TooShort(15))
        );
        assert_eq!(check_chosen_secret("sixteen-chars-xx"), Ok(()));
        assert_eq!(
            check_chosen_secret("sixteen chars xx"),
            Err(ChosenKeyError::BadCharacter)
        );
        assert_eq!(
            check_chosen_secret(&"k".repeat(257)),
            Err(ChosenKeyError::TooLong(257))
        );
        assert_eq!(prefix("sixteen-chars-xx"), "sixteen");
        assert_eq!(prefix(&generate_secret()).len(), 7);
        // Whatever reaches it, the prefix is at most half the secret.
        for secret in ["x", "ab", "abcdefgh", "abcdefghijklm"] {
            let p = prefix(secret);
            assert!(p.len() * 2 <= secret.len(), "{secret:?} -> {p:?}");
        }
    }
}
