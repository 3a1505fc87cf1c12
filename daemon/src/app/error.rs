//! The errors of the in-process API, one variant per kind of failure a
//! caller can act on. The HTTP layer chooses their statuses and renders them
//! (`http::problem`).

use crate::domain::invalid::Invalid;
use crate::runtime::CallError;
use crate::store::{StoreError, WriteError};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The request is well-formed but breaks a rule of the API.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A policy of the tariff or the client forbids this request; the text
    /// names the policy ("tariff Basic allows at most 1 service(s) per client").
    #[error("{0}")]
    Policy(String),
    /// The object changed while the request was being decided; retry.
    #[error("{0}")]
    Conflict(String),
    /// The rule refused: a policy forbids this request.
    #[error("{0}")]
    Denied(String),
    /// The rule found nothing free that this request may have (a pool is
    /// exhausted); the text says what to ask the provider for.
    #[error("{0}")]
    Exhausted(String),
    /// The account's balance and credit limit do not cover this charge; the
    /// text names the shortfall.
    #[error("{0}")]
    InsufficientFunds(String),
    /// The API key's rate limit is used up; retry after this many seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// The rule bound to the hook does not implement this operation.
    #[error("{0}")]
    NotImplemented(String),
    /// The rule says the facts handed to it make no sense.
    #[error("{0}")]
    RuleRejectedInput(String),
    /// The rule failed: trapped, looped, ran out of memory or answered nonsense.
    #[error(transparent)]
    RuleFailed(#[from] CallError),
    /// An upstream vendor (the license vendor) failed; nothing was changed.
    #[error("{0}")]
    Vendor(String),
    #[error("{0}")]
    NotFound(String),
    /// No valid API key.
    #[error("{0}")]
    Unauthorized(String),
    /// The key is valid but its role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The Idempotency-Key was used before with a different request.
    #[error("{0}")]
    IdempotencyMismatch(String),
    #[error("{0}")]
    Internal(String),
    /// The store failed; nothing was written.
    #[error("{0}")]
    Storage(String),
    /// The disk refused the write (full, over quota, read-only); nothing was
    /// written, and writes work again once the disk takes them.
    #[error("{0}")]
    DiskUnwritable(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Disk(_) => ApiError::DiskUnwritable(e.to_string()),
            e => ApiError::Storage(e.to_string()),
        }
    }
}

impl From<WriteError<ApiError>> for ApiError {
    fn from(e: WriteError<ApiError>) -> Self {
        match e {
            WriteError::Rejected(e) => e,
            WriteError::Store(e) => e.into(),
        }
    }
}

impl From<redb::StorageError> for ApiError {
    fn from(e: redb::StorageError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<redb::TableError> for ApiError {
    fn from(e: redb::TableError) -> Self {
        StoreError::from(e).into()
    }
}
