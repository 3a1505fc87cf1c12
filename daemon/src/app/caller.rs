//! Who is calling ([`Caller`]) and the cache of API keys already resolved to
//! a caller. Every domain checks tenancy through [`Caller`]; resolving a key
//! is `tenancy::auth`'s.

use super::error::ApiError;
use crate::domain::accounts::{Account, AccountKind, Role};
use crate::domain::ids::{AccountId, KeyId};
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub account_id: AccountId,
    pub role: Role,
    pub key_id: KeyId,
}

impl Caller {
    /// The reseller whose objects this caller is confined to; None for the provider.
    pub fn reseller_scope(&self) -> Option<AccountId> {
        match self.role {
            Role::Provider => None,
            Role::Reseller => Some(self.account_id),
        }
    }

    pub fn is_provider(&self) -> bool {
        self.role == Role::Provider
    }

    /// Whether this caller may see an object owned by `reseller` (None: the provider's).
    pub fn can_see(&self, reseller: Option<AccountId>) -> bool {
        match self.reseller_scope() {
            None => true,
            Some(own) => reseller == Some(own),
        }
    }

    /// The reseller an object is for: a reseller's key always means itself
    /// (naming another reseller is a 404, as if it did not exist); the
    /// provider names one or none (its own). Whether a named reseller exists
    /// is the caller's to check where it matters.
    pub fn acting_for(&self, requested: Option<AccountId>) -> Result<Option<AccountId>, ApiError> {
        match (self.reseller_scope(), requested) {
            (Some(own), None) => Ok(Some(own)),
            (Some(own), Some(r)) if r == own => Ok(Some(own)),
            (Some(_), Some(r)) => Err(ApiError::NotFound(format!("reseller {r} does not exist"))),
            (None, requested) => Ok(requested),
        }
    }

    /// Whether this caller may see the account and its money.
    pub fn sees_account(&self, account: &Account) -> bool {
        match account.kind {
            AccountKind::Provider => self.is_provider(),
            AccountKind::Reseller => self.can_see(Some(account.id)),
            AccountKind::Client => self.can_see(account.reseller_id),
        }
    }

    /// Whether `account` is a client this caller may see.
    pub fn sees_client(&self, account: &Account) -> bool {
        account.kind == AccountKind::Client && self.can_see(account.reseller_id)
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

/// Keys already resolved, by sha256. Every request authenticates, and reading
/// three tables and decoding two records for it was a measurable share of a
/// cheap request (a quote).
///
/// Correctness under concurrency: a lookup that misses notes the generation,
/// reads the store, and caches its answer only if the generation has not
/// moved meanwhile. [`KeyCache::invalidate`] (called after a revocation
/// commits) moves the generation and empties the map, so an answer read before
/// the revocation can never be cached after it.
#[derive(Default)]
pub struct KeyCache {
    generation: AtomicU64,
    callers: RwLock<HashMap<[u8; 32], Caller>>,
}

/// More distinct keys than this and the cache starts over (a bound on memory
/// if someone sprays valid keys; far above any real provider's count).
const KEY_CACHE_LIMIT: usize = 10_000;

impl KeyCache {
    pub(crate) fn get(&self, hash: &[u8; 32]) -> Option<Caller> {
        self.callers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .copied()
    }

    /// The generation to note before a lookup that may be cached.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn insert(&self, generation: u64, hash: [u8; 32], caller: Caller) {
        let mut callers = self.callers.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            if callers.len() >= KEY_CACHE_LIMIT {
                callers.clear();
            }
            callers.insert(hash, caller);
        }
    }

    /// Forget every cached key; call after a change to keys or accounts has
    /// committed and before it is acknowledged.
    pub fn invalidate(&self) {
        let mut callers = self.callers.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        callers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_read_before_an_invalidation_is_never_cached_after_it() {
        let cache = KeyCache::default();
        let caller = Caller {
            account_id: AccountId(7),
            role: Role::Reseller,
            key_id: KeyId(3),
        };
        let key = [1u8; 32];
        // A lookup started, then a revocation committed and invalidated.
        let started = cache.generation.load(Ordering::Acquire);
        cache.invalidate();
        cache.insert(started, key, caller);
        assert_eq!(cache.get(&key), None);
        // A lookup after the invalidation is cached, until the next one.
        let started = cache.generation.load(Ordering::Acquire);
        cache.insert(started, key, caller);
        assert_eq!(cache.get(&key), Some(caller));
        cache.invalidate();
        assert_eq!(cache.get(&key), None);
    }
}
