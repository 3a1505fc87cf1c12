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

/// `rulesd serve` with `args` (after `serve`), expected to refuse to start:
/// its exit code and stderr.
fn refused_serve(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rulesd"))
        .arg("serve")
        .args(args)
        .env_remove("RULESD_RULES_DIR")
        .env_remove("RULESD_PROVIDER_KEY")
        .env_remove("RULESD_DATA_DIR")
        .env("RULESD_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_refuses_bad_settings_before_creating_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a_file = tmp.path().join("a-file");
    std::fs::write(&a_file, "").unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);
    let base = |data: &std::path::Path| {
        vec![
            os("--listen"),
            os("127.0.0.1:0"),
            os("--data-dir"),
            data.as_os_str().to_owned(),
        ]
    };
    let cases: Vec<(Vec<std::ffi::OsString>, Option<i32>, Vec<&str>)> = vec![
        // An explicitly named rules directory must exist (the daemon has no
        // default one to create).
        (
            [
                base(&data),
                vec![os("--rules-dir"), tmp.path().join("no-such-rules").into()],
            ]
            .concat(),
            Some(1),
            vec!["no-such-rules", "does not exist"],
        ),
        (
            [base(&data), vec![os("--rules-dir"), a_file.clone().into()]].concat(),
            Some(1),
            vec!["a-file", "is not a directory"],
        ),
        (
            base(&a_file),
            Some(1),
            vec!["data directory", "a-file", "is not a directory"],
        ),
        // Limits out of range are refused when the command line is parsed,
        // naming the flag and the accepted range.
        (
            [base(&data), vec![os("--rule-fuel"), os("0")]].concat(),
            Some(2),
            vec!["--rule-fuel", "1000000..=1000000000000"],
        ),
        (
            [base(&data), vec![os("--rule-memory-mib"), os("0")]].concat(),
            Some(2),
            vec!["--rule-memory-mib", "1..=4096"],
        ),
        (
            [base(&data), vec![os("--rule-timeout-ms"), os("0")]].concat(),
            Some(2),
            vec!["--rule-timeout-ms", "10..=60000"],
        ),
        // A chosen provider key is long enough not to be guessed.
        (
            [base(&data), vec![os("--provider-key"), os("x")]].concat(),
            Some(2),
            vec!["--provider-key", "at least 16"],
        ),
    ];
    for (args, code, says) in cases {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (status, stderr) = refused_serve(&args);
        assert_eq!(status, code, "{args:?}: {stderr}");
        for s in says {
            assert!(stderr.contains(s), "{args:?}: {s:?} not in {stderr}");
        }
        assert!(!data.exists(), "{args:?} created the data directory");
    }
}

#[test]
fn serve_on_a_taken_port_creates_no_data_directory_and_no_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d2");
    let (status, stderr) = refused_serve(&[
        "--listen".as_ref(),
        addr.as_ref(),
        "--data-dir".as_ref(),
        data.as_os_str(),
        "--provider-key".as_ref(),
        "a-provider-key-long-enough".as_ref(),
    ]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!data.exists(), "the data directory was created");
}
