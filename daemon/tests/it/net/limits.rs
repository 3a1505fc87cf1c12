//! No connection holds the daemon: silent, slow-header and slow-body
//! connections are closed within their timeouts (set short here by the same
//! settings as the flags), `/healthz` answers a fresh connection while 2,000
//! idle ones are held, connections beyond the limit wait for a slot, and a
//! shutdown lets the request in flight finish.

use crate::support::{PROVIDER_KEY, TestServer};
use rulesd::net::ConnLimits;
use rulesd::server::{self, Config, Daemon};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IDLE: Duration = Duration::from_millis(1000);
const HEADER: Duration = Duration::from_millis(2000);
const BODY: Duration = Duration::from_millis(2000);

async fn server_with(conn: ConnLimits) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.conn = conn;
    TestServer::start_config(config, data).await
}

fn short(max_connections: usize) -> ConnLimits {
    ConnLimits {
        max_connections,
        header_read_timeout: HEADER,
        body_read_timeout: BODY,
        idle_timeout: IDLE,
    }
}

fn addr(server: &TestServer) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

/// Reads until the daemon closes the connection (or `limit` passes):
/// everything it sent, and when it closed, counted from `since`.
async fn until_closed(
    stream: &mut TcpStream,
    since: Instant,
    limit: Duration,
) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(since.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "still open after {limit:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), since.elapsed())
}

/// GET /healthz on a new connection; its status.
async fn fresh_healthz(server: &TestServer) -> u16 {
    // A new client: a new connection, not one from a pool.
    let r = reqwest::Client::new()
        .get(server.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

fn assert_between(what: &str, took: Duration, low: Duration, high: Duration) {
    assert!(
        took >= low && took <= high,
        "{what}: closed after {took:?}, expected {low:?}..{high:?}"
    );
}

#[tokio::test]
async fn silent_slow_header_and_slow_body_connections_are_closed_within_their_timeouts() {
    let server = server_with(short(64)).await;
    let to = addr(&server);
    let margin = Duration::from_millis(1500);

    // Connects and sends nothing.
    let silent = tokio::spawn(async move {
        let mut s = TcpStream::connect(to).await.unwrap();
        let t = Instant::now();
        until_closed(&mut s, t, IDLE + margin + margin).await
    });
    // One header byte per second.
    let slow_header = tokio::spawn(async move {
        let s = TcpStream::connect(to).await.unwrap();
        let t = Instant::now();
        trickle(
            s,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            t,
            HEADER + margin + margin,
        )
        .await
    });
    // A whole head, then one body byte per second.
    let slow_body = tokio::spawn(async move {
        let mut s = TcpStream::connect(to).await.unwrap();
        let head = format!(
            "POST /v1/quotes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PROVIDER_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let t = Instant::now();
        trickle(s, &[b' '; 100], t, BODY + margin + margin).await
    });
    // Meanwhile the daemon answers everyone else.
    for _ in 0..3 {
        assert_eq!(fresh_healthz(&server).await, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let (sent, took) = silent.await.unwrap();
    assert_between(
        "silent",
        took,
        IDLE - Duration::from_millis(100),
        IDLE + margin,
    );
    assert_eq!(sent, "", "a silent connection is closed without an answer");
    let (_, took) = slow_header.await.unwrap();
    assert_between(
        "slow header",
        took,
        HEADER - Duration::from_millis(100),
        HEADER + margin,
    );
    let (sent, took) = slow_body.await.unwrap();
    assert_between(
        "slow body",
        took,
        BODY - Duration::from_millis(100),
        BODY + margin,
    );
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(
        sent.contains("urn:rulesd:problem:request-timeout"),
        "{sent}"
    );

    // A kept-alive connection idle after its answer is closed the same way.
    let mut s = TcpStream::connect(to).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let (_, took) = until_closed(&mut s, Instant::now(), IDLE + margin + margin).await;
    assert_between(
        "kept alive, then idle",
        took,
        IDLE - Duration::from_millis(100),
        IDLE + margin,
    );
}

/// Sends `bytes` one a second while reading; returns what the daemon sent
/// and when it closed, from `since`.
async fn trickle(
    stream: TcpStream,
    bytes: &[u8],
    since: Instant,
    limit: Duration,
) -> (String, Duration) {
    let (mut read, mut write) = stream.into_split();
    let bytes = bytes.to_vec();
    let writer = tokio::spawn(async move {
        for b in bytes {
            if write.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(since.elapsed());
        match tokio::time::timeout(left, read.read(&mut buf)).await {
            Err(_) => panic!("still open after {limit:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    writer.abort();
    (String::from_utf8_lossy(&got).into_owned(), since.elapsed())
}

#[tokio::test]
async fn healthz_answers_a_fresh_connection_while_2000_idle_connections_are_held() {
    // 2,000 client sockets and the daemon's 2,000 in this one process.
    let limit = rulesd::net::fdlimit::raise().expect("the open-files limit");
    assert!(
        limit.soft >= 4_600,
        "this test needs 4,600 open files; the hard limit is {}",
        limit.hard
    );
    let idle = Duration::from_secs(4);
    let server = server_with(ConnLimits {
        idle_timeout: idle,
        header_read_timeout: idle,
        ..ConnLimits::default()
    })
    .await;
    let to = addr(&server);
    let start = Instant::now();
    let mut held = Vec::with_capacity(2000);
    for _ in 0..2000 {
        held.push(TcpStream::connect(to).await.unwrap());
    }
    let opened = start.elapsed();
    // While they are all held (before the idle timeout frees any), fresh
    // connections are answered at once.
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(fresh_healthz(&server).await, 200);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    assert!(
        start.elapsed() < idle,
        "the check ran after the idle timeout ({opened:?} to open)"
    );
    // And the idle timeout then closes every one of them.
    let deadline = start + idle + Duration::from_secs(5);
    for mut s in held {
        let mut buf = [0u8; 16];
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, s.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "an idle connection outlived the idle timeout"
        );
    }
}

#[tokio::test]
async fn beyond_the_limit_a_new_connection_waits_for_a_free_slot() {
    let server = server_with(short(4)).await;
    let to = addr(&server);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(to).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The fifth waits in the backlog until the idle timeout frees a slot.
    let t = Instant::now();
    assert_eq!(fresh_healthz(&server).await, 200);
    let waited = t.elapsed();
    assert!(
        waited >= IDLE - Duration::from_millis(300) && waited < IDLE + Duration::from_secs(3),
        "answered after {waited:?}"
    );
}

#[tokio::test]
async fn a_shutdown_lets_the_request_in_flight_finish() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some(PROVIDER_KEY.into());
    let daemon = Daemon::build(&config).unwrap();
    let listener = server::bind(config.listen).await.unwrap();
    let to = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server::serve(&daemon, listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    // A request half sent: its head, half its body.
    let body = serde_json::to_vec(&crate::support::order(None)).unwrap();
    let mut s = TcpStream::connect(to).await.unwrap();
    let head = format!(
        "POST /v1/quotes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PROVIDER_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..10]).await.unwrap();
    // An idle connection does not hold the shutdown up.
    let mut idle = TcpStream::connect(to).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!serving.is_finished(), "stopped with a request in flight");
    let (gone, _) = until_closed(&mut idle, Instant::now(), Duration::from_secs(2)).await;
    assert_eq!(gone, "");
    s.write_all(&body[10..]).await.unwrap();
    let (answer, _) = until_closed(&mut s, Instant::now(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"total\":\"15.00\""), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("serve returned once the request was answered")
        .unwrap();
    assert!(TcpStream::connect(to).await.is_err(), "still accepting");
}

#[tokio::test]
async fn an_idle_timeout_above_the_header_timeout_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().join("data"));
    config.conn.idle_timeout = config.conn.header_read_timeout + Duration::from_secs(1);
    let err = Daemon::build(&config).err().expect("refused").to_string();
    assert!(err.contains("--idle-timeout-ms"), "{err}");
    assert!(err.contains("--header-read-timeout-ms"), "{err}");
}
