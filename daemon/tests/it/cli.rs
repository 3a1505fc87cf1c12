//! The real binary: `rulesd serve` on its embedded defaults, and a clean stop.

use crate::support::Binary;
use std::process::Command;

#[test]
fn serve_on_embedded_defaults_answers_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut daemon = Binary::spawn(data.path(), None);
    // A new data directory: the generated provider key is printed once, then
    // the address.
    let key = daemon.expect_line("provider API key (shown once, keep it safe): ");
    assert!(key.starts_with("rk_") && key.len() == 67, "{key}");
    let base = daemon.base_url();

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
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = daemon.child.wait().unwrap();
    assert!(exit.success(), "rulesd exited with {exit}");
}
