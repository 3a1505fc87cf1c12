//! RFC 9457 problem details: every error leaves the daemon as
//! `application/problem+json` with a message a person can act on.

use crate::app::ApiError;
use crate::runtime::CallError;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. "urn:rulesd:problem:rule-denied".
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
}

/// Seconds a client is asked to wait (Retry-After) when the store cannot
/// write: long enough for an operator to free space, short enough that a
/// retried payment does not wait for minutes once it has.
pub const STORAGE_RETRY_AFTER_SECS: u64 = 30;

/// What every problem `type` starts with; the rest is the kind.
pub const PROBLEM_URN: &str = "urn:rulesd:problem:";

pub fn problem(status: StatusCode, kind: &str, title: &str, detail: String) -> Response {
    let body = Problem {
        kind: format!("{PROBLEM_URN}{kind}"),
        title: title.into(),
        status: status.as_u16(),
        detail,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Why an HTTP request was refused: something only HTTP has (a body that
/// cannot be read, a wrong media type) or an error of the in-process API.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request body is not JSON (or not readable), or a header is malformed.
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
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl RequestError {
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::Malformed(_) => StatusCode::BAD_REQUEST,
            RequestError::Shape(_) => StatusCode::UNPROCESSABLE_ENTITY,
            RequestError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RequestError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::Api(e) => status(e),
        }
    }

    /// A stable identifier of the kind of problem, for clients to match on.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::Malformed(_) => "malformed-request",
            RequestError::Shape(_) => "invalid-request",
            RequestError::UnsupportedMediaType(_) => "unsupported-media-type",
            RequestError::PayloadTooLarge(_) => "payload-too-large",
            RequestError::Api(e) => kind(e),
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            RequestError::Malformed(_) => "The request could not be read",
            RequestError::Shape(_) => "The request is invalid",
            RequestError::UnsupportedMediaType(_) => "Send the body as application/json",
            RequestError::PayloadTooLarge(_) => "The request body is too large",
            RequestError::Api(e) => title(e),
        }
    }
}

/// The status of an API error.
pub fn status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::Conflict(_) | ApiError::Exhausted(_) => StatusCode::CONFLICT,
        ApiError::Storage(_) | ApiError::DiskUnwritable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::InsufficientFunds(_) => StatusCode::PAYMENT_REQUIRED,
        ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::IdempotencyMismatch(_)
        | ApiError::Invalid(_)
        | ApiError::Policy(_)
        | ApiError::Denied(_)
        | ApiError::NotImplemented(_)
        | ApiError::RuleRejectedInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::RuleFailed(CallError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::RuleFailed(_) | ApiError::Vendor(_) => StatusCode::BAD_GATEWAY,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn kind(e: &ApiError) -> &'static str {
    match e {
        ApiError::Invalid(_) => "invalid-request",
        ApiError::Policy(_) => "policy-violation",
        ApiError::Conflict(_) => "conflict",
        ApiError::Exhausted(_) => "pool-exhausted",
        ApiError::InsufficientFunds(_) => "insufficient-funds",
        ApiError::RateLimited { .. } => "rate-limited",
        ApiError::Denied(_) => "rule-denied",
        ApiError::NotImplemented(_) => "rule-not-implemented",
        ApiError::RuleRejectedInput(_) => "rule-rejected-input",
        ApiError::RuleFailed(CallError::Busy) => "busy",
        ApiError::RuleFailed(_) => "rule-failed",
        ApiError::Vendor(_) => "vendor-failed",
        ApiError::NotFound(_) => "not-found",
        ApiError::Unauthorized(_) => "unauthorized",
        ApiError::Forbidden(_) => "forbidden",
        ApiError::IdempotencyMismatch(_) => "idempotency-key-reused",
        ApiError::Internal(_) => "internal",
        ApiError::Storage(_) | ApiError::DiskUnwritable(_) => "storage-unavailable",
    }
}

fn title(e: &ApiError) -> &'static str {
    match e {
        ApiError::Invalid(_) => "The request is invalid",
        ApiError::Policy(_) => "A policy of the tariff or the service forbids this",
        ApiError::Conflict(_) => "This conflicts with the current state; nothing was changed",
        ApiError::Exhausted(_) => "No free address this request may have",
        ApiError::InsufficientFunds(_) => "The balance and credit limit do not cover this",
        ApiError::RateLimited { .. } => "Too many requests with this API key",
        ApiError::Denied(_) => "A policy denies this request",
        ApiError::NotImplemented(_) => "The rule module does not implement this",
        ApiError::RuleRejectedInput(_) => "The rule module rejected the facts it was given",
        ApiError::RuleFailed(CallError::Busy) => "Too many rule calls in flight",
        ApiError::RuleFailed(_) => "The rule module failed; nothing was changed",
        ApiError::Vendor(_) => "The license vendor failed; nothing was changed",
        ApiError::NotFound(_) => "Not found",
        ApiError::Unauthorized(_) => "Authentication required",
        ApiError::Forbidden(_) => "Not allowed for this API key",
        ApiError::IdempotencyMismatch(_) => {
            "This Idempotency-Key was used with a different request"
        }
        ApiError::Internal(_) => "Internal error",
        ApiError::Storage(_) => "The store is unavailable; nothing was changed",
        ApiError::DiskUnwritable(_) => {
            "The disk holding the store is full or read-only; nothing was changed"
        }
    }
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Debug-quoted: a rule's text (its output, a refusal) may hold
            // newlines, and must not pass for log lines of its own.
            tracing::warn!(kind = self.kind(), error = ?self.to_string(), "request failed");
        }
        let mut response = problem(status, self.kind(), self.title(), self.to_string());
        let retry_after = match &self {
            RequestError::Api(ApiError::RateLimited { retry_after, .. }) => Some(*retry_after),
            RequestError::Api(ApiError::Storage(_) | ApiError::DiskUnwritable(_)) => {
                Some(STORAGE_RETRY_AFTER_SECS)
            }
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110 section 11.6.1: a 401 names the scheme that would work.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rulesd\""),
            );
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        RequestError::Api(self).into_response()
    }
}

/// `axum::Json` whose rejections are problem documents (see [`json_rejection`]).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = RequestError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // `application/json`, possibly with parameters (`; charset=utf-8`).
        let plain_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.as_bytes().strip_prefix(b"application/json"))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(b";"));
        if !plain_json {
            // Other JSON media types, or none: axum decides and words the refusal.
            return match axum::Json::<T>::from_request(req, state).await {
                Ok(axum::Json(value)) => Ok(ApiJson(value)),
                Err(rejection) => Err(json_rejection(rejection)),
            };
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&body).map(ApiJson)
    }
}

/// Parse a JSON request body. A body that parses costs one plain serde_json
/// pass; only one that fails is parsed again through axum's extractor, whose
/// error names the path of the offending field (`serde_path_to_error`, which
/// would otherwise wrap every field of every request).
///
/// Every request body of this API is a JSON object. serde would also accept
/// an array for a struct (its fields in order), so `[]` would pass as a
/// request whose fields are all optional (a renewal, say) and charge money:
/// anything but an object is refused first.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && serde_json::from_slice::<IgnoredAny>(body).is_ok() {
        // Well-formed JSON of the wrong kind; malformed JSON keeps its 400 below.
        return Err(RequestError::Shape(format!(
            "the request body must be a JSON object, not {}",
            match first {
                Some(b'[') => "an array",
                Some(b'"') => "a string",
                Some(b'n') => "null",
                Some(b't' | b'f') => "a boolean",
                _ => "a number",
            }
        )));
    }
    serde_json::from_slice(body).or_else(|_| {
        axum::Json::<T>::from_bytes(body)
            .map(|axum::Json(value)| value)
            .map_err(json_rejection)
    })
}

/// A body that could not be read: too large (413) or cut short (400).
pub fn body_rejection(rejection: BytesRejection) -> RequestError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        RequestError::PayloadTooLarge(rejection.body_text())
    } else {
        RequestError::Malformed(rejection.body_text())
    }
}

/// A JSON rejection as an API error: a syntax error is 400, a body of the
/// wrong shape (unknown field, bad decimal, impossible date) 422, a missing
/// content type 415, an oversized body 413.
pub fn json_rejection(rejection: JsonRejection) -> RequestError {
    let text = rejection.body_text();
    match &rejection {
        JsonRejection::JsonDataError(_) => RequestError::Shape(text),
        JsonRejection::MissingJsonContentType(_) => RequestError::UnsupportedMediaType(text),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            RequestError::PayloadTooLarge(text)
        }
        _ => RequestError::Malformed(text),
    }
}
