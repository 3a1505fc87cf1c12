//! The errors of the in-process API. The HTTP layer renders each as
//! `application/problem+json` with the status given here.

use crate::domain::invalid::Invalid;
use crate::runtime::CallError;
use crate::store::{StoreError, WriteError};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The request body is not JSON (or not readable).
    #[error("{0}")]
    Malformed(String),
    /// The body is JSON of the wrong shape: unknown field, wrong type, bad
    /// decimal, impossible date.
    #[error("{0}")]
    Shape(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
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
    /// The rule bound to the hook does not implement this operation.
    #[error("{0}")]
    NotImplemented(String),
    /// The rule says the facts handed to it make no sense.
    #[error("{0}")]
    RuleRejectedInput(String),
    /// The rule failed: trapped, looped, ran out of memory or answered nonsense.
    #[error(transparent)]
    RuleFailed(#[from] CallError),
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
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Storage(e.to_string())
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

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Malformed(_) => 400,
            ApiError::Shape(_) => 422,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::NotFound(_) => 404,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::IdempotencyMismatch(_) => 422,
            ApiError::Conflict(_) => 409,
            ApiError::Storage(_) => 503,
            ApiError::Invalid(_)
            | ApiError::Policy(_)
            | ApiError::Denied(_)
            | ApiError::NotImplemented(_)
            | ApiError::RuleRejectedInput(_) => 422,
            ApiError::RuleFailed(CallError::Busy) => 503,
            ApiError::RuleFailed(_) => 502,
            ApiError::Internal(_) => 500,
        }
    }

    /// A stable identifier of the kind of problem, for clients to match on.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "malformed-request",
            ApiError::Shape(_) => "invalid-request",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::Invalid(_) => "invalid-request",
            ApiError::Policy(_) => "policy-violation",
            ApiError::Conflict(_) => "conflict",
            ApiError::Denied(_) => "rule-denied",
            ApiError::NotImplemented(_) => "rule-not-implemented",
            ApiError::RuleRejectedInput(_) => "rule-rejected-input",
            ApiError::RuleFailed(CallError::Busy) => "busy",
            ApiError::RuleFailed(_) => "rule-failed",
            ApiError::NotFound(_) => "not-found",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::IdempotencyMismatch(_) => "idempotency-key-reused",
            ApiError::Internal(_) => "internal",
            ApiError::Storage(_) => "storage-unavailable",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "The request could not be read",
            ApiError::Shape(_) => "The request is invalid",
            ApiError::UnsupportedMediaType(_) => "Send the body as application/json",
            ApiError::PayloadTooLarge(_) => "The request body is too large",
            ApiError::Invalid(_) => "The request is invalid",
            ApiError::Policy(_) => "A policy of the tariff or the service forbids this",
            ApiError::Conflict(_) => "The object changed meanwhile; nothing was changed",
            ApiError::Denied(_) => "A policy denies this request",
            ApiError::NotImplemented(_) => "The rule module does not implement this",
            ApiError::RuleRejectedInput(_) => "The rule module rejected the facts it was given",
            ApiError::RuleFailed(CallError::Busy) => "Too many rule calls in flight",
            ApiError::RuleFailed(_) => "The rule module failed; nothing was changed",
            ApiError::NotFound(_) => "Not found",
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden(_) => "Not allowed for this API key",
            ApiError::IdempotencyMismatch(_) => {
                "This Idempotency-Key was used with a different request"
            }
            ApiError::Internal(_) => "Internal error",
            ApiError::Storage(_) => "The store is unavailable; nothing was changed",
        }
    }
}
