//! HTTPS: a round trip with a self-signed certificate made here, the
//! certificate replaced on disk and served without a restart, a broken
//! replacement ignored, and bad files refused at start naming the file.

use crate::support::{PROVIDER_KEY, TestServer, order, write_atomically};
use rulesd::net::TlsFiles;
use rulesd::server::{Config, Daemon};
use std::path::Path;
use std::time::{Duration, Instant};

/// A self-signed certificate for 127.0.0.1 and localhost: (cert, key) PEM.
fn self_signed() -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
}

/// A client that trusts only `cert` and opens a fresh connection: a new
/// client has an empty pool, so each request below is a new handshake.
fn trusting(cert: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .build()
        .unwrap()
}

fn write_pair(dir: &Path, (cert, key): &(String, String)) {
    // Key first, as renewal tools often do: the pair is briefly mismatched.
    write_atomically(dir, "key.pem", key.as_bytes());
    write_atomically(dir, "cert.pem", cert.as_bytes());
}

fn files(dir: &Path) -> TlsFiles {
    TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

async fn tls_server(dir: &Path) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.tls = Some(files(dir));
    TestServer::start_config(config, data).await
}

/// GET /healthz over a new connection trusting only `cert`.
async fn healthz(server: &TestServer, cert: &str) -> Result<u16, reqwest::Error> {
    let r = trusting(cert).get(server.url("/healthz")).send().await?;
    Ok(r.status().as_u16())
}

#[tokio::test]
async fn https_round_trip_then_a_new_certificate_is_served_without_restart() {
    let certs = tempfile::tempdir().unwrap();
    let first = self_signed();
    write_pair(certs.path(), &first);
    let server = tls_server(certs.path()).await;
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );

    // A round trip: an authenticated quote over HTTPS.
    let r = trusting(&first.0)
        .post(server.url("/v1/quotes"))
        .bearer_auth(PROVIDER_KEY)
        .json(&order(None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let quote: serde_json::Value = r.json().await.unwrap();
    assert_eq!(quote["total"], "15.00");
    // Plain HTTP on the HTTPS port is no way in.
    let plain = server.url("/healthz").replacen("https://", "http://", 1);
    let r = reqwest::get(&plain).await;
    assert!(r.is_err() || r.unwrap().status() != 200);

    // Renewal: the files are replaced; new handshakes get the new one.
    let second = self_signed();
    write_pair(certs.path(), &second);
    let deadline = Instant::now() + Duration::from_secs(10);
    while healthz(&server, &second.0).await.ok() != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        healthz(&server, &first.0).await.is_err(),
        "the old certificate is still served"
    );

    // A broken replacement is logged and ignored: the second one stays.
    write_atomically(certs.path(), "cert.pem", b"not a certificate");
    tokio::time::sleep(rulesd::net::tls::DEBOUNCE * 4).await;
    assert_eq!(healthz(&server, &second.0).await.unwrap(), 200);
    // A key that is not the certificate's is refused the same way.
    write_atomically(certs.path(), "cert.pem", second.0.as_bytes());
    write_atomically(certs.path(), "key.pem", self_signed().1.as_bytes());
    tokio::time::sleep(rulesd::net::tls::DEBOUNCE * 4).await;
    assert_eq!(healthz(&server, &second.0).await.unwrap(), 200);
}

/// Each bad pair is refused by `Daemon::build`, naming the file at fault,
/// before the store is created.
#[tokio::test]
async fn a_bad_certificate_or_key_is_refused_at_start_naming_the_file() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    let (cert, key) = self_signed();
    let refused = |what: &str| {
        let keep = tempfile::tempdir().unwrap();
        let data = keep.path().join("data");
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.clone());
        config.tls = Some(files(dir));
        let err = match Daemon::build(&config) {
            Ok(_) => panic!("started with {what}"),
            Err(e) => e.to_string(),
        };
        assert!(!data.exists(), "{what}: the data directory was created");
        err
    };
    let cert_path = dir.join("cert.pem").display().to_string();
    let key_path = dir.join("key.pem").display().to_string();

    let err = refused("no files");
    assert!(
        err.contains("TLS certificate") && err.contains(&cert_path),
        "{err}"
    );

    std::fs::write(dir.join("cert.pem"), b"garbage").unwrap();
    std::fs::write(dir.join("key.pem"), &key).unwrap();
    let err = refused("a garbage certificate");
    assert!(
        err.contains("TLS certificate") && err.contains(&cert_path),
        "{err}"
    );

    std::fs::write(dir.join("cert.pem"), &cert).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = refused("a garbage key");
    assert!(err.contains("TLS key") && err.contains(&key_path), "{err}");

    std::fs::write(dir.join("key.pem"), self_signed().1).unwrap();
    let err = refused("another certificate's key");
    assert!(
        err.contains("does not belong") && err.contains(&key_path) && err.contains(&cert_path),
        "{err}"
    );
}

/// The real binary: `--tls-cert`/`--tls-key` print an https address and
/// serve it; one without the other is refused by the command line.
#[test]
fn the_binary_serves_https_with_the_tls_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    write_pair(tmp.path(), &(cert.clone(), key));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rulesd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .arg("--tls-cert")
        .arg(tmp.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(tmp.path().join("key.pem"))
        .env_remove("RULESD_RULES_DIR")
        .env("RULESD_PROVIDER_KEY", PROVIDER_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("rulesd listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        trusting(&cert)
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulesd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(tmp.path().join("cert.pem"))
        .env_remove("RULESD_TLS_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tls-key"), "{stderr}");
}
