//! Shared test helpers: fixture rule modules built from source, a daemon on an
//! ephemeral port, and request bodies.

use rulesd::runtime::Limits;
use rulesd::server::{self, Config, Daemon};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The fixture rule (`tests/rules/fixture`) built for wasm32-wasip2 with one
/// behaviour feature ("" = good, version 1). Built once per behaviour per test
/// run; builds are serialized because they share one target dir.
pub fn fixture(behaviour: &str) -> Vec<u8> {
    static BUILT: OnceLock<Mutex<HashMap<String, Vec<u8>>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    if let Some(bytes) = built.get(behaviour) {
        return bytes.clone();
    }
    let target = workspace().join("target/wasm-fixtures");
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.current_dir(workspace())
        .args(["build", "--quiet", "-p", "rules-fixture"])
        .args(["--target", "wasm32-wasip2", "--profile", "wasm-rules"])
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if !behaviour.is_empty() {
        cmd.args(["--features", behaviour]);
    }
    let status = cmd
        .status()
        .expect("running cargo to build the fixture rule");
    assert!(
        status.success(),
        "building fixture rule {behaviour:?} failed"
    );
    let bytes = std::fs::read(target.join("wasm32-wasip2/wasm-rules/rules_fixture.wasm")).unwrap();
    built.insert(behaviour.into(), bytes.clone());
    bytes
}

/// Limits for tests: the defaults, with a small instance pool.
pub fn limits() -> Limits {
    Limits {
        max_concurrent: 16,
        ..Limits::default()
    }
}

/// The provider key every test server starts with.
pub const PROVIDER_KEY: &str = "rk_test_provider_key";

/// An HTTP client that sends `key` as its bearer token.
pub fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A daemon serving HTTP (or HTTPS, when its config has a certificate) on
/// 127.0.0.1 with an ephemeral port.
pub struct TestServer {
    pub base: String,
    daemon: Arc<Daemon>,
    /// Kept alive for the server's lifetime.
    _data: tempfile::TempDir,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(rules_dir: Option<&Path>) -> TestServer {
        Self::start_with(rules_dir, limits()).await
    }

    pub async fn start_with(rules_dir: Option<&Path>, limits: Limits) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
        config.rules_dir = rules_dir.map(Path::to_path_buf);
        config.limits = limits;
        Self::start_config(config, data).await
    }

    /// Start with a full config; `data` is the config's data dir, kept alive.
    pub async fn start_config(mut config: Config, data: tempfile::TempDir) -> TestServer {
        config.provider_key = Some(PROVIDER_KEY.into());
        let daemon = Arc::new(Daemon::build(&config).unwrap());
        let listener = server::bind(config.listen).await.unwrap();
        let base = format!("{}://{}", daemon.scheme(), listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let d = daemon.clone();
        tokio::spawn(async move {
            server::serve(&d, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base,
            daemon,
            _data: data,
            client: client_with_key(PROVIDER_KEY),
            stop: Some(stop),
        }
    }

    /// The in-process API behind the server.
    pub fn app(&self) -> Arc<rulesd::app::App> {
        self.daemon.app.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn quote(&self, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url("/v1/quotes"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// `GET /metrics` as the provider: the Prometheus text.
    pub async fn metrics(&self) -> String {
        let r = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.text().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(&self.client, path).await
    }

    pub async fn get_as(&self, client: &reqwest::Client, path: &str) -> (u16, Value) {
        let r = client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POST JSON as `client`, optionally with an Idempotency-Key.
    pub async fn post_as(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let mut req = client.post(self.url(path)).json(body);
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Create a reseller as the provider; returns (id, a client with its key).
    pub async fn reseller(&self, name: &str) -> (u64, reqwest::Client) {
        let (status, body) = self
            .post_as(&self.client, "/v1/resellers", &json!({"name": name}), None)
            .await;
        assert_eq!(status, 201, "{body:#}");
        (
            body["id"].as_u64().unwrap(),
            client_with_key(body["api_key"].as_str().unwrap()),
        )
    }

    /// Poll `GET /v1/rules` until `pred` holds (reloads are asynchronous).
    pub async fn wait_for_rules(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, rules) = self.get("/v1/rules").await;
            if pred(&rules) {
                return rules;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {rules:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The sha256 of the module serving `hook` globally, from a `/v1/rules` report.
pub fn bound_sha(rules: &Value, hook: &str) -> String {
    rules["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["hook"] == hook && b.get("reseller").is_none())
        .map(|b| b["module"]["sha256"].as_str().unwrap().to_string())
        .unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    rulesd::runtime::sha256_hex(bytes)
}

/// Write a file the way deploy tools do: a temp file renamed over the target.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

pub fn tariff() -> Value {
    json!({
        "name": "Basic",
        "currency": "EUR",
        "prices": [{"months": 1, "price": "10.00"}, {"months": 12, "price": "100.00"}],
        "setup_fee": "5.00",
        "renewal_prices": [{"months": 1, "price": "9.50"}]
    })
}

/// A quote body for `reseller`'s rule bindings (by reseller id).
pub fn order(reseller: Option<u64>) -> Value {
    let mut body = json!({
        "tariff": tariff(),
        "months": 1,
        "at": "2026-01-31T10:00:00Z"
    });
    if let Some(r) = reseller {
        body["reseller_id"] = json!(r);
    }
    body
}

/// The real `rulesd serve` binary on 127.0.0.1:0 with `data` as its data
/// directory (and `provider_key`, if given, for a new one).
pub struct Binary {
    pub child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Binary {
    pub fn spawn(data: &Path, provider_key: Option<&str>) -> Binary {
        Self::spawn_with(data, provider_key, &[])
    }

    /// [`Binary::spawn`] with more arguments for `rulesd serve`.
    pub fn spawn_with(data: &Path, provider_key: Option<&str>, args: &[&str]) -> Binary {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rulesd"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(args)
            .env_remove("RULESD_RULES_DIR")
            .env_remove("RULESD_PROVIDER_KEY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if let Some(key) = provider_key {
            cmd.env("RULESD_PROVIDER_KEY", key);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        Binary { child, stdout }
    }

    /// The next line the daemon prints on stdout, which must start with `prefix`;
    /// returns the rest.
    pub fn expect_line(&mut self, prefix: &str) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
            .to_string()
    }

    /// The base URL, from the "listening on" line.
    pub fn base_url(&mut self) -> String {
        self.expect_line("rulesd listening on ")
    }
}

/// Start a daemon on the rules directory `rules` and a fresh data directory,
/// expecting the start to be refused; returns why. A refused start must not
/// have created the store.
pub fn refused_start(rules: &Path) -> String {
    let keep = tempfile::tempdir().unwrap();
    let data = keep.path().join("data");
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.clone());
    config.rules_dir = Some(rules.to_path_buf());
    let err = match Daemon::build(&config) {
        Ok(_) => panic!("the daemon started"),
        Err(e) => e.to_string(),
    };
    assert!(
        !data.join(rulesd::store::FILE_NAME).exists(),
        "the store was created"
    );
    err
}
