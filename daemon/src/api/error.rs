//! The errors of the in-process API. The HTTP layer renders each as
//! `application/problem+json` with the status given here.

use crate::domain::tariff::Invalid;
use crate::runtime::CallError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The request body is not JSON, or not the JSON of this endpoint.
    #[error("{0}")]
    Malformed(String),
    /// The request is well-formed but breaks a rule of the API.
    #[error(transparent)]
    Invalid(#[from] Invalid),
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
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Malformed(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::Invalid(_)
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
            ApiError::Invalid(_) => "invalid-request",
            ApiError::Denied(_) => "rule-denied",
            ApiError::NotImplemented(_) => "rule-not-implemented",
            ApiError::RuleRejectedInput(_) => "rule-rejected-input",
            ApiError::RuleFailed(CallError::Busy) => "busy",
            ApiError::RuleFailed(_) => "rule-failed",
            ApiError::NotFound(_) => "not-found",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "The request body could not be read",
            ApiError::Invalid(_) => "The request is invalid",
            ApiError::Denied(_) => "A policy denies this request",
            ApiError::NotImplemented(_) => "The rule module does not implement this",
            ApiError::RuleRejectedInput(_) => "The rule module rejected the facts it was given",
            ApiError::RuleFailed(CallError::Busy) => "Too many rule calls in flight",
            ApiError::RuleFailed(_) => "The rule module failed; nothing was changed",
            ApiError::NotFound(_) => "Not found",
            ApiError::Internal(_) => "Internal error",
        }
    }
}
