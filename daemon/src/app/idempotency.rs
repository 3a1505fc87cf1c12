//! Idempotent mutations.
//!
//! A mutation with an Idempotency-Key stores the key, a fingerprint of the
//! request and the response it gave, in the same write transaction as its
//! effect. The same key and request again get the stored response byte for
//! byte and change nothing; the same key with a different request is refused
//! ([`ApiError::IdempotencyMismatch`]). Who receives the request fingerprints
//! it (HTTP: method, path, caller and body bytes) and checks the key's form.
//!
//! Concurrent requests with the same key: every write goes through the single
//! writer, so the second one always sees the first one's record (in the same
//! batch or a committed one) and receives the stored response. Nobody gets a
//! 409; both callers get the one response of the one effect.
//!
//! Keys are scoped to the caller's account, and records are pruned once older
//! than the retention period (24 hours by default), measured on the daemon's
//! clock.

use super::App;
use super::caller::Caller;
use super::error::ApiError;
use crate::store::{self, IDEMPOTENCY, IDEMPOTENCY_BY_TIME, WriteError};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An Idempotency-Key together with the fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

impl Idempotency {
    /// `key` as the client sent it (scoped here to the caller's account);
    /// `fingerprint`: a digest of the whole request it came with.
    pub fn new(caller: &Caller, key: &str, fingerprint: String) -> Idempotency {
        Idempotency {
            key: format!("{}:{key}", caller.account_id),
            fingerprint,
        }
    }
}

fn mismatch() -> ApiError {
    ApiError::IdempotencyMismatch(
        "this Idempotency-Key was already used with a different request (method, path or body); use a new key for a new request".into(),
    )
}

/// A stored response. Records written before the HTTP layer chose statuses
/// also hold a `status`, which is ignored: an endpoint has one success status.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    body: String,
    created_at: DateTime<Utc>,
}

/// What a mutation answers: the value it produced, or, for a request repeated
/// with its Idempotency-Key, the response stored the first time (JSON bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    Fresh(T),
    Replayed(Vec<u8>),
}

impl<T: Serialize> Written<T> {
    /// The response as JSON bytes: exactly the stored ones for a replay.
    pub fn to_json(&self) -> Vec<u8> {
        match self {
            Written::Fresh(value) => encode(value).into_bytes(),
            Written::Replayed(body) => body.clone(),
        }
    }

    /// The response read as `U`.
    pub fn json<U: DeserializeOwned>(&self) -> serde_json::Result<U> {
        match self {
            Written::Fresh(value) => serde_json::from_value(serde_json::to_value(value)?),
            Written::Replayed(body) => serde_json::from_slice(body),
        }
    }

    pub fn is_replayed(&self) -> bool {
        matches!(self, Written::Replayed(_))
    }
}

/// A response as JSON text. Serializing the API's own types cannot fail.
fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("API responses serialize")
}

/// The stored response under `idem`'s key, if any; a different request
/// under the same key is an error.
fn stored<T>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    idem: &Idempotency,
) -> Result<Option<Written<T>>, ApiError> {
    let Some(found) = table.get(idem.key.as_str())? else {
        return Ok(None);
    };
    let record: Record = store::decode(IDEMPOTENCY, &idem.key, found.value())?;
    if record.fingerprint != idem.fingerprint {
        return Err(mismatch());
    }
    Ok(Some(Written::Replayed(record.body.into_bytes())))
}

fn apply<T: Serialize>(
    txn: &WriteTransaction,
    idem: Option<&Idempotency>,
    now: DateTime<Utc>,
    op: &impl Fn(&WriteTransaction, DateTime<Utc>) -> Result<T, ApiError>,
) -> Result<Written<T>, ApiError> {
    if let Some(idem) = idem
        && let Some(replayed) = stored(&txn.open_table(IDEMPOTENCY)?, idem)?
    {
        return Ok(replayed);
    }
    let value = op(txn, now)?;
    if let Some(idem) = idem {
        let record = Record {
            fingerprint: idem.fingerprint.clone(),
            body: encode(&value),
            created_at: now,
        };
        txn.open_table(IDEMPOTENCY)?
            .insert(idem.key.as_str(), store::encode(&record).as_slice())?;
        txn.open_table(IDEMPOTENCY_BY_TIME)?
            .insert((now.timestamp(), idem.key.as_str()), ())?;
    }
    Ok(Written::Fresh(value))
}

impl App {
    /// The stored response of a request already made with this key, if any.
    /// Operations that check facts before they write (and call a rule) look
    /// here first: a retry must get the first response, not be refused
    /// because the first attempt changed the facts (a per-client limit now
    /// reached, a service no longer suspended). The writer checks again, so a
    /// concurrent duplicate is still answered from the record.
    pub(crate) fn replayed<T>(
        &self,
        idem: Option<&Idempotency>,
    ) -> Result<Option<Written<T>>, ApiError> {
        let Some(idem) = idem else { return Ok(None) };
        let read = self.store.read()?;
        match store::table_if_exists(&read, IDEMPOTENCY)? {
            Some(table) => stored(&table, idem),
            None => Ok(None),
        }
    }

    /// Run a mutation through the writer: durable before it returns, recorded
    /// under its Idempotency-Key if it has one. `op` may run more than once
    /// (the writer re-runs a batch without a failed job), so it must only
    /// touch the transaction it is given.
    pub async fn mutate<T, F>(
        &self,
        idem: Option<Idempotency>,
        op: F,
    ) -> Result<Written<T>, ApiError>
    where
        T: Serialize + Send + 'static,
        F: Fn(&WriteTransaction, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
    {
        let now = self.clock.now();
        self.writer
            .write(move |txn| apply(txn, idem.as_ref(), now, &op).map_err(WriteError::Rejected))
            .await
            .map_err(ApiError::from)
    }

    /// Run a mutation the daemon starts itself (no Idempotency-Key) through
    /// the writer: durable before it returns.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: Fn(&WriteTransaction, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
    {
        let now = self.clock.now();
        self.writer
            .write(move |txn| op(txn, now).map_err(WriteError::Rejected))
            .await
            .map_err(ApiError::from)
    }

    /// Delete idempotency records older than the retention period. Returns how
    /// many were removed.
    pub async fn prune_idempotency(&self) -> Result<usize, ApiError> {
        let cutoff = (self.clock.now() - self.options.idempotency_retention).timestamp();
        self.writer
            .write(move |txn| {
                let prune = || -> Result<usize, ApiError> {
                    let mut by_time = txn.open_table(IDEMPOTENCY_BY_TIME)?;
                    let old: Vec<(i64, String)> = by_time
                        .range::<(i64, &str)>(..(cutoff, ""))?
                        .map(|e| e.map(|(k, _)| (k.value().0, k.value().1.to_string())))
                        .collect::<Result<_, _>>()?;
                    let mut records = txn.open_table(IDEMPOTENCY)?;
                    for (at, key) in &old {
                        by_time.remove((*at, key.as_str()))?;
                        records.remove(key.as_str())?;
                    }
                    Ok(old.len())
                };
                prune().map_err(WriteError::Rejected)
            })
            .await
            .map_err(ApiError::from)
    }
}
