//! The network edge over real sockets on 127.0.0.1: HTTPS and certificate
//! reload, connection limits and timeouts, graceful shutdown.

mod limits;
mod tls;
