//! The idle timeout: a connection with no request in flight that sends
//! nothing for the timeout is closed.
//!
//! hyper has no idle timeout of its own for HTTP/1 servers (its header timer
//! covers that silence too, but only at the header timeout's length), so the
//! connection's stream is wrapped: a read that would wait while the
//! connection is idle arms a timer, and once it fires the read fails, which
//! makes hyper close the connection. "Idle" needs to know whether a request
//! is in flight, which only the service sees: it holds an [`InFlight`] guard
//! from the request until its response body is dropped (written or
//! abandoned), so a slow handler or a long streamed answer is never idle.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// What the service and the stream of one connection share.
#[derive(Debug, Default)]
pub(super) struct ConnState {
    in_flight: AtomicUsize,
    /// Counts the ends of requests: a change starts a new idle period.
    finished: AtomicU64,
    /// Set by the request body when its timeout passed (HTTP/1 serves one
    /// request at a time per connection, so one flag per connection does).
    pub(super) body_timed_out: AtomicBool,
}

/// Held while a request is in flight on its connection.
pub(super) struct InFlight(Arc<ConnState>);

impl InFlight {
    pub(super) fn new(state: Arc<ConnState>) -> InFlight {
        state.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(state)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's stream, closed after [`Idle::timeout`] of idle silence.
pub(super) struct Idle<S> {
    inner: S,
    state: Arc<ConnState>,
    timeout: Duration,
    /// `ConnState::finished` when this idle period began.
    seen: u64,
    /// Bytes arrived since the idle period began: a request is under way,
    /// bounded by the header and body timeouts instead.
    heard: bool,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<S> Idle<S> {
    pub(super) fn new(inner: S, state: Arc<ConnState>, timeout: Duration) -> Idle<S> {
        Idle {
            inner,
            state,
            timeout,
            seen: 0,
            heard: false,
            timer: None,
        }
    }

    /// The read would wait: fail it if the connection has been idle for the
    /// timeout, otherwise make sure the timer wakes the task when it passes.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let finished = self.state.finished.load(Ordering::Relaxed);
        if finished != self.seen {
            // A response ended since: a new idle period starts now.
            self.seen = finished;
            self.heard = false;
            self.timer = None;
        }
        if self.heard || self.state.in_flight.load(Ordering::Relaxed) > 0 {
            return Poll::Pending;
        }
        let timeout = self.timeout;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "idle connection closed",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.heard = true;
                    this.timer = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_idle(cx),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Idle<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
