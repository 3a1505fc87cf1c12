//! The accept loop: one task per connection, each holding one of
//! [`ConnLimits::max_connections`] slots, served by hyper's HTTP/1 with the
//! header timer on, the stream wrapped for the idle timeout and the request
//! body for the body timeout.
//!
//! `axum::serve` has no hook for any of that (no connection cap, no timers),
//! so the loop is ours; what it must keep from it is the graceful shutdown:
//! on the signal it stops accepting, idle connections close at once, and
//! requests in flight finish before [`serve`] returns.

use super::ConnLimits;
use super::body::{TimedBody, body_timeout_response};
use super::idle::{ConnState, Idle, InFlight};
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long the loop pauses after an accept error such as running out of
/// file descriptors (EMFILE): retrying at once would spin on the same error.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serve `router` on `listener` (over TLS when `tls` is given) until
/// `shutdown` resolves, then let the requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Beyond the limit the loop stops accepting: new connections wait in the
    // kernel's listen backlog, holding no file descriptor of ours, and are
    // taken in order as slots free up (the idle and header timeouts make
    // sure they do).
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // closed: never happens, the loop owns it
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            http: http.clone(),
            router: router.clone(),
            tls: tls.clone(),
            limits,
            watcher: graceful.watcher(),
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Errors of one connection (a reset, a refused handshake) are the client's
/// and are skipped; running out of descriptors or memory is logged and
/// waited out.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

/// What one connection's task needs.
struct Connection {
    http: Arc<http1::Builder>,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnLimits,
    watcher: Watcher,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        // Answers are small and written whole: do not wait for more.
        let _ = stream.set_nodelay(true);
        let Some(acceptor) = self.tls.clone() else {
            return self.serve_http(stream).await;
        };
        // A handshake that never finishes must not hold the slot either: it
        // gets the header timeout, as the wait for a request does.
        match tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve_http(stream).await,
            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    }

    async fn serve_http<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let state = Arc::new(ConnState::default());
        let io = TokioIo::new(Idle::new(stream, state.clone(), self.limits.idle_timeout));
        let service = ConnService {
            router: self.router,
            state,
            body_timeout: self.limits.body_read_timeout,
        };
        let conn = self.http.serve_connection(io, service);
        // Timeouts and resets end connections all the time; not news.
        if let Err(e) = self.watcher.watch(conn).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

/// The router as one connection's hyper service: each request's body gets
/// the body deadline, and its response body carries the [`InFlight`] guard.
#[derive(Clone)]
struct ConnService {
    router: Router,
    state: Arc<ConnState>,
    body_timeout: Duration,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = hyper::Response<Guarded>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::new(self.state.clone());
        let (state, timeout) = (self.state.clone(), self.body_timeout);
        state.body_timed_out.store(false, Ordering::Relaxed);
        let request = request.map(|b| Body::new(TimedBody::new(b, timeout, state.clone())));
        let router = self.router.clone();
        Box::pin(async move {
            let Ok(mut response) = router.oneshot(request).await;
            if state.body_timed_out.load(Ordering::Relaxed) {
                response = body_timeout_response(timeout);
            }
            Ok(response.map(|body| Guarded {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A response body that keeps its request counted as in flight until hyper
/// has written it (or given up) and drops it.
struct Guarded {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
