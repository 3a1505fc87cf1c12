//! The HTTP side of idempotent mutations: what an Idempotency-Key may look
//! like, what the fingerprint of a request covers, and how a fresh or a
//! replayed answer becomes a response. The in-process side (storing and
//! replaying in the write transaction) is `app::idempotency`.

use super::problem::RequestError;
use crate::app::{ApiError, Caller, Idempotency, Written};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The longest Idempotency-Key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The idempotency context of a request carrying `key`: the fingerprint
/// covers the method, the path, the caller and the body bytes, so the same
/// key on any other request is refused.
pub fn idempotency(
    key: &str,
    method: &str,
    path: &str,
    caller: &Caller,
    body: &[u8],
) -> Result<Idempotency, RequestError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RequestError::Malformed(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        )));
    }
    let mut h = Sha256::new();
    for part in [
        method.as_bytes(),
        path.as_bytes(),
        &caller.account_id.get().to_be_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(body);
    Ok(Idempotency::new(caller, key, hex::encode(h.finalize())))
}

/// A mutation's answer as a response with the endpoint's success `status`;
/// a replayed one carries the stored bytes and `Idempotent-Replayed: true`.
pub fn reply<T: Serialize>(status: StatusCode, written: Result<Written<T>, ApiError>) -> Response {
    let written = match written {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let mut response = (status, written.to_json()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if written.is_replayed() {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
