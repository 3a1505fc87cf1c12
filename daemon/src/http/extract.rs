//! Extractors whose rejections are problem documents: the caller from the
//! bearer key, a mutation's raw body and Idempotency-Key, and path ids.

use super::idempotency::idempotency;
use super::problem::{RequestError, body_rejection, parse_json};
use crate::app::{ApiError, App, Caller, Idempotency};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::sync::Arc;

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        app.authenticate(secret)
            .map_err(IntoResponse::into_response)
    }
}

/// The token of a `Bearer` credential. The scheme is matched without regard
/// to case (RFC 9110 section 11.1: `bearer`, `BEARER` are the same scheme).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A mutating request: its method, path, Idempotency-Key and raw body. The
/// body is kept as bytes because the idempotency fingerprint covers them.
pub struct Mutation {
    method: String,
    path: String,
    key: Option<String>,
    body: Bytes,
    json_content_type: bool,
}

impl<S: Send + Sync> FromRequest<S> for Mutation {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let json_content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if req.headers().get_all("idempotency-key").iter().count() > 1 {
            return Err(RequestError::Malformed(
                "send one Idempotency-Key header, not several".into(),
            )
            .into_response());
        }
        let key = match req.headers().get("idempotency-key") {
            None => None,
            Some(v) => Some(v.to_str().map(str::to_string).map_err(|_| {
                RequestError::Malformed("Idempotency-Key must be visible ASCII".into())
                    .into_response()
            })?),
        };
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| body_rejection(rejection).into_response())?;
        Ok(Mutation {
            method,
            path,
            key,
            body,
            json_content_type,
        })
    }
}

impl Mutation {
    /// The body as JSON of type `T` (same errors as every JSON endpoint).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, RequestError> {
        if !self.json_content_type {
            return Err(RequestError::UnsupportedMediaType(
                "Expected request with `Content-Type: application/json`".into(),
            ));
        }
        parse_json(&self.body)
    }

    /// The body as `T` together with the request's idempotency context.
    pub fn parse<T: DeserializeOwned>(
        &self,
        caller: &Caller,
    ) -> Result<(T, Option<Idempotency>), RequestError> {
        Ok((self.json()?, self.idempotency(caller)?))
    }

    /// The body as `T`, or `T::default()` when there is none (for endpoints
    /// whose every field is optional), with the idempotency context.
    pub fn parse_or_default<T: DeserializeOwned + Default>(
        &self,
        caller: &Caller,
    ) -> Result<(T, Option<Idempotency>), RequestError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            Ok((T::default(), self.idempotency(caller)?))
        } else {
            self.parse(caller)
        }
    }

    /// The request's idempotency context, if it carries a key.
    pub fn idempotency(&self, caller: &Caller) -> Result<Option<Idempotency>, RequestError> {
        self.key
            .as_deref()
            .map(|k| idempotency(k, &self.method, &self.path, caller, &self.body))
            .transpose()
    }
}

/// A numeric id in the path, typed (`Id<ServiceId>`); anything else is a
/// 404 like an unknown id. Ids are int64 on the wire (the document says so,
/// [`MAX_ID`]), so one above `i64::MAX` is not an id either, though it fits
/// the `u64` the store keys by.
pub struct Id<T>(pub T);

/// The largest id in a path, as the OpenAPI document bounds it.
pub const MAX_ID: u64 = i64::MAX as u64;

impl<S: Send + Sync, T: From<u64>> FromRequestParts<S> for Id<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<u64>::from_request_parts(parts, state).await {
            Ok(Path(id)) if id <= MAX_ID => Ok(Id(T::from(id))),
            _ => Err(ApiError::NotFound("no object has this id".into()).into_response()),
        }
    }
}

/// A query string of type `T`, whose rejection is a problem document.
pub struct Params<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Params(v))
            .map_err(|e| RequestError::Shape(e.body_text()).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in ["Bearer k1", "bearer k1", "BEARER k1", "bEaReR   k1 "] {
            assert_eq!(bearer_token(header), Some("k1"), "{header:?}");
        }
        for header in ["Basic k1", "Bearer", "Bearer ", "Bearerk1", "k1"] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
