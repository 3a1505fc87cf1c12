//! The real binary: `rulesd serve` on its embedded defaults, and a clean stop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn serve_on_embedded_defaults_answers_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulesd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env_remove("RULESD_RULES_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A new data directory: the generated provider key is printed once, then
    // the address.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut read_line = || {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        line.trim().to_string()
    };
    let key_line = read_line();
    let key = key_line
        .strip_prefix("provider API key (shown once, keep it safe): ")
        .unwrap_or_else(|| panic!("unexpected first line: {key_line:?}"))
        .to_string();
    assert!(key.starts_with("rk_") && key.len() == 67, "{key}");
    let addr_line = read_line();
    let base = addr_line
        .strip_prefix("rulesd listening on ")
        .unwrap_or_else(|| panic!("unexpected second line: {addr_line:?}"))
        .to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let health: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(health["status"], "ok");
    let clients: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/v1/clients"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(clients, serde_json::json!([]));
    assert!(data.path().join("rulesd.redb").exists());

    // SAFETY-free signal via the kill command: SIGTERM asks for a graceful stop.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "rulesd exited with {exit}");
}
