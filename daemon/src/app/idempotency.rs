//! Idempotent mutations.
//!
//! A mutation with an `Idempotency-Key` stores the key, a fingerprint of the
//! request (method, path, caller, body bytes) and the full response in the same
//! write transaction as its effect. Replaying the same key and request returns
//! the stored response byte for byte and changes nothing; the same key with a
//! different request is refused with 422.
//!
//! Concurrent requests with the same key: every write goes through the single
//! writer, so the second one always sees the first one's record (in the same
//! batch or a committed one) and receives the stored response. Nobody gets a
//! 409; both callers get the one response of the one effect.
//!
//! Keys are scoped to the caller's account, and records are pruned once older
//! than the retention period (24 hours by default), measured on the daemon's
//! clock.

use super::{ApiError, App, Caller};
use crate::store::{self, IDEMPOTENCY, IDEMPOTENCY_BY_TIME, WriteError};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The longest Idempotency-Key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// An Idempotency-Key together with the fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    key: String,
    fingerprint: String,
}

impl Idempotency {
    pub fn new(
        key: &str,
        method: &str,
        path: &str,
        caller: &Caller,
        body: &[u8],
    ) -> Result<Idempotency, ApiError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::Malformed(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            )));
        }
        let mut h = Sha256::new();
        for part in [
            method.as_bytes(),
            path.as_bytes(),
            &caller.account_id.to_be_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update(body);
        Ok(Idempotency {
            key: format!("{}:{key}", caller.account_id),
            fingerprint: hex::encode(h.finalize()),
        })
    }
}

fn mismatch() -> ApiError {
    ApiError::IdempotencyMismatch(
        "this Idempotency-Key was already used with a different request (method, path or body); use a new key for a new request".into(),
    )
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    status: u16,
    body: String,
    created_at: DateTime<Utc>,
}

/// The response of a mutation, as sent (and, with a key, as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// JSON.
    pub body: Vec<u8>,
    /// True when this is a stored response returned for a repeated key.
    pub replayed: bool,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }
}

fn apply<T: Serialize>(
    txn: &WriteTransaction,
    idem: Option<&Idempotency>,
    status: u16,
    now: DateTime<Utc>,
    op: &impl Fn(&WriteTransaction, DateTime<Utc>) -> Result<T, ApiError>,
) -> Result<Reply, ApiError> {
    if let Some(idem) = idem
        && let Some(found) = txn.open_table(IDEMPOTENCY)?.get(idem.key.as_str())?
    {
        let record: Record = store::decode("idempotency", &idem.key, found.value())?;
        if record.fingerprint != idem.fingerprint {
            return Err(mismatch());
        }
        return Ok(Reply {
            status: record.status,
            body: record.body.into_bytes(),
            replayed: true,
        });
    }
    let value = op(txn, now)?;
    let body = serde_json::to_string(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(idem) = idem {
        let record = Record {
            fingerprint: idem.fingerprint.clone(),
            status,
            body: body.clone(),
            created_at: now,
        };
        txn.open_table(IDEMPOTENCY)?
            .insert(idem.key.as_str(), store::encode(&record).as_slice())?;
        txn.open_table(IDEMPOTENCY_BY_TIME)?
            .insert((now.timestamp(), idem.key.as_str()), ())?;
    }
    Ok(Reply {
        status,
        body: body.into_bytes(),
        replayed: false,
    })
}

impl App {
    /// The stored response of a request already made with this key, if any.
    /// Operations that check facts before they write (and call a rule) look
    /// here first: a retry must get the first response, not be refused
    /// because the first attempt changed the facts (a per-client limit now
    /// reached, a service no longer suspended). The writer checks again, so a
    /// concurrent duplicate is still answered from the record.
    pub(crate) fn stored_reply(
        &self,
        idem: Option<&Idempotency>,
    ) -> Result<Option<Reply>, ApiError> {
        let Some(idem) = idem else { return Ok(None) };
        let read = self.store.read()?;
        let table = match read.open_table(IDEMPOTENCY) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(found) = table.get(idem.key.as_str())? else {
            return Ok(None);
        };
        let record: Record = store::decode("idempotency", &idem.key, found.value())?;
        if record.fingerprint != idem.fingerprint {
            return Err(mismatch());
        }
        Ok(Some(Reply {
            status: record.status,
            body: record.body.into_bytes(),
            replayed: true,
        }))
    }

    /// Run a mutation through the writer: durable before it returns, recorded
    /// under its Idempotency-Key if it has one. `status` is the success status.
    /// `op` may run more than once (the writer re-runs a batch without a
    /// failed job), so it must only touch the transaction it is given.
    pub async fn mutate<T, F>(
        &self,
        idem: Option<Idempotency>,
        status: u16,
        op: F,
    ) -> Result<Reply, ApiError>
    where
        T: Serialize,
        F: Fn(&WriteTransaction, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
    {
        let now = self.clock.now();
        self.writer
            .write(move |txn| {
                apply(txn, idem.as_ref(), status, now, &op).map_err(WriteError::Rejected)
            })
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
