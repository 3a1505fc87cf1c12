//! The network edge: the accept loop that serves the router over plain HTTP
//! or HTTPS, with the limits that keep slow or idle clients from holding the
//! daemon.
//!
//! The invariant: **no connection holds the daemon.** Every connection is
//! bounded in count ([`ConnLimits::max_connections`], kept below the open-files
//! limit) and in time: silence with no request in flight ends at the idle
//! timeout, a request head must be complete within the header timeout, its
//! body within the body timeout. A connection past any of them is closed (a
//! late body gets 408 first), so its slot and file descriptor come back.

mod body;
pub mod fdlimit;
mod idle;
mod serve;
pub mod tls;

pub use serve::serve;
pub use tls::{Tls, TlsError, TlsFiles};

use std::time::Duration;

/// How many connections are open at most, by default: far above a
/// provider's normal load (64 busy clients are a heavy bench) and above the
/// 2,000 idle connections one hostile client was seen to hold, yet well
/// under common open-files limits (the daemon lowers it below the one in
/// force, see [`fdlimit`]).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// A request head (request line and headers) must have arrived this long
/// after the daemon started waiting for it.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body must have arrived this long after its head: 1 MiB (the
/// JSON limit) needs ~35 KiB/s, a 64 MiB candidate module ~2.2 MiB/s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection with no request in flight that sends nothing for this long
/// is closed (a kept-alive client reconnects; the same default as Node.js).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Limits on the connections the daemon serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections open at once; beyond it new ones wait in the listen
    /// backlog until one closes.
    pub max_connections: usize,
    /// From the moment the daemon waits for a request (a new connection, or
    /// a kept-alive one after its last response) until the request head is
    /// complete; also bounds a TLS handshake.
    pub header_read_timeout: Duration,
    /// From the request head until the end of its body; a later body is
    /// answered 408 and the connection closed.
    pub body_read_timeout: Duration,
    /// Silence with no request in flight; at most `header_read_timeout`,
    /// which counts that silence too.
    pub idle_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// Connection limits that cannot work together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnLimitsError {
    #[error("the connection limit (--max-connections) must be at least 1")]
    NoConnections,
    #[error("the {0} must be longer than zero")]
    ZeroTimeout(&'static str),
    /// hyper's header timer starts when the daemon begins waiting for a
    /// request, so it would close a silent connection first and a longer
    /// idle timeout would never apply: refused rather than silently ignored.
    #[error(
        "the idle timeout ({idle:?}, --idle-timeout-ms) must not exceed the header read \
         timeout ({header:?}, --header-read-timeout-ms), which also counts the wait \
         for a request"
    )]
    IdleAboveHeader { idle: Duration, header: Duration },
}

impl ConnLimits {
    pub fn validate(&self) -> Result<(), ConnLimitsError> {
        if self.max_connections == 0 {
            return Err(ConnLimitsError::NoConnections);
        }
        for (name, t) in [
            ("header read timeout", self.header_read_timeout),
            ("body read timeout", self.body_read_timeout),
            ("idle timeout", self.idle_timeout),
        ] {
            if t.is_zero() {
                return Err(ConnLimitsError::ZeroTimeout(name));
            }
        }
        if self.idle_timeout > self.header_read_timeout {
            return Err(ConnLimitsError::IdleAboveHeader {
                idle: self.idle_timeout,
                header: self.header_read_timeout,
            });
        }
        Ok(())
    }
}
