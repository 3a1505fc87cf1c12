//! The body read timeout: a request body must have arrived by a deadline set
//! when its head did. A total deadline rather than a gap between reads, so a
//! body trickling one byte a second cannot stretch it.

use super::idle::ConnState;
use crate::http::problem::problem;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Why a body read failed: it was too slow.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub(super) struct BodyTimeout(Duration);

/// A request body that fails once its deadline passes; the connection's
/// state learns of it so the response can say 408.
pub(super) struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    timeout: Duration,
    /// Made only when a read has to wait: most bodies arrive with their head.
    timer: Option<Pin<Box<Sleep>>>,
    state: Arc<ConnState>,
}

impl TimedBody {
    pub(super) fn new(inner: Incoming, timeout: Duration, state: Arc<ConnState>) -> TimedBody {
        TimedBody {
            inner,
            deadline: Instant::now() + timeout,
            timeout,
            timer: None,
            state,
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.state.body_timed_out.store(true, Ordering::Relaxed);
                        Poll::Ready(Some(Err(BodyTimeout(this.timeout).into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a request whose body timed out is answered, whatever its handler
/// made of the failed read; the connection is closed after it (the rest of
/// the body would be read as the next request).
pub(super) fn body_timeout_response(timeout: Duration) -> Response {
    let mut response = problem(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        "The request body was too slow",
        format!(
            "the request body did not arrive within {} ms of its head (--body-read-timeout-ms)",
            timeout.as_millis()
        ),
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
