//! Hot reload: modules replaced on disk while requests flow.

use crate::support::{
    TestServer, bound_sha, fixture, order, refused_start, sha256, write_atomically,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn replacing_the_pricing_module_under_load_drops_no_request() {
    let rules = tempfile::tempdir().unwrap();
    let v1 = fixture("");
    let v2 = fixture("v2");
    write_atomically(rules.path(), "pricing.wasm", &v1);
    let server = Arc::new(TestServer::start(Some(rules.path())).await);
    let report = server.get("/v1/rules").await.1;
    assert_eq!(bound_sha(&report, "pricing"), sha256(&v1));

    // Four clients quote continuously until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (server, stop) = (server.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = server.quote(&order(None)).await;
                assert_eq!(status, 200, "{body:#}");
                let sha = body["rule"]["sha256"].as_str().unwrap().to_string();
                let total = body["total"].as_str().unwrap().to_string();
                seen.push((sha, total));
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    write_atomically(rules.path(), "pricing.wasm", &v2);
    let swapped = Instant::now();
    server
        .wait_for_rules("v2 to be bound", |r| bound_sha(r, "pricing") == sha256(&v2))
        .await;
    let took = swapped.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let (sha1, sha2) = (sha256(&v1), sha256(&v2));
    for client in clients {
        let seen = client.await.unwrap();
        assert!(!seen.is_empty());
        let mut on_v2 = false;
        for (sha, total) in &seen {
            // Every answer comes from exactly one version, and the amount
            // matches the version that claims it.
            if *sha == sha1 {
                assert!(!on_v2, "a client went back to v1 after seeing v2");
                assert_eq!(total, "1.00");
            } else {
                assert_eq!(*sha, sha2, "unknown module answered");
                assert_eq!(total, "2.00");
                on_v2 = true;
            }
        }
        assert!(on_v2, "the client never saw v2");
    }
    eprintln!("module landed to serving: {took:?}");

    // A corrupt replacement is rejected and v2 keeps serving.
    write_atomically(
        rules.path(),
        "pricing.wasm",
        b"\0asm\x0d\0\x01\0 truncated garbage",
    );
    let report = server
        .wait_for_rules("the corrupt file's error", |r| {
            r["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["file"] == "pricing.wasm")
        })
        .await;
    assert_eq!(bound_sha(&report, "pricing"), sha2);
    let (status, body) = server.quote(&order(None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["rule"]["sha256"], sha2.as_str());

    // Deleting the file returns the hook to the embedded default.
    std::fs::remove_file(rules.path().join("pricing.wasm")).unwrap();
    server
        .wait_for_rules("the default to be bound again", |r| {
            r["bindings"][0]["module"]["source"] == "embedded"
        })
        .await;
    assert_eq!(server.quote(&order(None)).await.1["total"], "15.00");
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_binds_hooks_per_reseller() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "cheap.wasm", &fixture(""));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[resellers.1]\npricing = \"cheap.wasm\"\n",
    );
    let server = TestServer::start(Some(rules.path())).await;
    assert_eq!(server.quote(&order(Some(1))).await.1["total"], "1.00");
    assert_eq!(server.quote(&order(Some(2))).await.1["total"], "15.00");
    assert_eq!(server.quote(&order(None)).await.1["total"], "15.00");

    // A broken manifest is reported and the previous bindings stay.
    write_atomically(rules.path(), "rules.toml", b"[resellers.1\npricing = ");
    server
        .wait_for_rules("the manifest error", |r| {
            r["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["file"] == "rules.toml")
        })
        .await;
    assert_eq!(server.quote(&order(Some(1))).await.1["total"], "1.00");

    // A reseller key that is not a reseller id could never bind anything:
    // it is a manifest error too, and the previous bindings stay.
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[resellers.r-1]\npricing = \"cheap.wasm\"\n",
    );
    let report = server
        .wait_for_rules("the reseller key error", |r| {
            r["errors"].as_array().unwrap().iter().any(|e| {
                e["file"] == "rules.toml"
                    && e["error"]
                        .as_str()
                        .unwrap()
                        .contains("[resellers.r-1]: a reseller is named by its id")
            })
        })
        .await;
    assert!(
        !report.to_string().contains("\"reseller\":\"r-1\""),
        "{report:#}"
    );
    assert_eq!(server.quote(&order(Some(1))).await.1["total"], "1.00");
}

/// rules.toml's `reuse` switches a module's instance reuse on and off
/// without a reload of the module, and a name not in the directory is
/// reported. The ballast fixture shows which: a kept instance sees what the
/// previous call left.
#[tokio::test(flavor = "multi_thread")]
async fn manifest_reuse_keeps_instances_of_the_listed_modules() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "ballast.wasm", &fixture("ballast"));
    let manifest = |reuse: &str| {
        format!("reuse = [{reuse}]\n[hooks]\npricing = \"ballast.wasm\"\n").into_bytes()
    };
    write_atomically(rules.path(), "rules.toml", &manifest("\"ballast.wasm\""));
    let server = TestServer::start(Some(rules.path())).await;
    let seen = async || {
        let (_, quote) = server.quote(&order(None)).await;
        quote["lines"][0]["description"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let module = |r: &serde_json::Value| {
        r["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "ballast.wasm")
            .cloned()
            .unwrap()
    };
    let (_, report) = server.get("/v1/rules").await;
    assert_eq!(module(&report)["reuse_instances"], true, "{report:#}");
    seen().await;
    assert_eq!(seen().await, "left by earlier calls: 384");

    write_atomically(rules.path(), "rules.toml", &manifest("\"missing.wasm\""));
    let report = server
        .wait_for_rules("reuse off", |r| module(r)["reuse_instances"] == false)
        .await;
    assert_eq!(
        errors_of(&report, "missing.wasm"),
        [
            "missing.wasm is listed in rules.toml's reuse but is not in the rules directory \
          (reuse binds no hook: nothing else changes)"
        ]
    );
    for _ in 0..3 {
        assert_eq!(seen().await, "left by earlier calls: 0");
    }
}

/// The load errors listed for `file` in a `/v1/rules` report.
fn errors_of(report: &serde_json::Value, file: &str) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["file"] == file)
        .map(|e| e["error"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_module_whose_file_disappears_keeps_serving_until_the_manifest_unbinds_it() {
    let rules = tempfile::tempdir().unwrap();
    let (v1, v2) = (fixture(""), fixture("v2"));
    write_atomically(rules.path(), "mine.wasm", &v1);
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[hooks]\npricing = \"mine.wasm\"\n",
    );
    let server = TestServer::start(Some(rules.path())).await;
    assert_eq!(server.quote(&order(None)).await.1["total"], "1.00");

    // A deploy that removes the file before copying the new one, or a slip
    // of rm: the last loaded version keeps serving, and the problem shows.
    std::fs::remove_file(rules.path().join("mine.wasm")).unwrap();
    let report = server
        .wait_for_rules("the missing file's error", |r| {
            errors_of(r, "mine.wasm")
                .iter()
                .any(|e| e.contains("is not in the rules directory"))
        })
        .await;
    assert_eq!(bound_sha(&report, "pricing"), sha256(&v1), "{report:#}");
    let error = &errors_of(&report, "mine.wasm")[0];
    assert!(error.contains("keeps serving pricing"), "{error}");
    assert_eq!(server.quote(&order(None)).await.1["total"], "1.00");

    // Still so after another rescan (a change elsewhere in the directory).
    write_atomically(rules.path(), "unrelated.wasm", &v2);
    server
        .wait_for_rules("the unrelated module", |r| {
            r["modules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == "unrelated.wasm")
        })
        .await;
    assert_eq!(server.quote(&order(None)).await.1["total"], "1.00");

    // The new version arrives: it serves, and the error is gone.
    write_atomically(rules.path(), "mine.wasm", &v2);
    let report = server
        .wait_for_rules("v2 to be bound", |r| bound_sha(r, "pricing") == sha256(&v2))
        .await;
    assert!(errors_of(&report, "mine.wasm").is_empty(), "{report:#}");
    assert_eq!(server.quote(&order(None)).await.1["total"], "2.00");

    // Only the manifest moves the hook back to the default: remove the file
    // again, then unbind the hook.
    std::fs::remove_file(rules.path().join("mine.wasm")).unwrap();
    server
        .wait_for_rules("the missing file's error", |r| {
            !errors_of(r, "mine.wasm").is_empty()
        })
        .await;
    assert_eq!(server.quote(&order(None)).await.1["total"], "2.00");
    write_atomically(rules.path(), "rules.toml", b"[hooks]\n");
    let report = server
        .wait_for_rules("the default to be bound", |r| {
            r["bindings"][0]["module"]["source"] == "embedded"
        })
        .await;
    assert!(errors_of(&report, "mine.wasm").is_empty(), "{report:#}");
    assert_eq!(server.quote(&order(None)).await.1["total"], "15.00");
}

#[tokio::test(flavor = "multi_thread")]
async fn restoring_the_serving_version_clears_its_load_error() {
    let rules = tempfile::tempdir().unwrap();
    let v1 = fixture("");
    write_atomically(rules.path(), "mine.wasm", &v1);
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[hooks]\npricing = \"mine.wasm\"\n",
    );
    let server = TestServer::start(Some(rules.path())).await;

    write_atomically(rules.path(), "mine.wasm", b"abcdefgh not wasm at all");
    let report = server
        .wait_for_rules("the garbage file's error", |r| {
            !errors_of(r, "mine.wasm").is_empty()
        })
        .await;
    assert_eq!(bound_sha(&report, "pricing"), sha256(&v1));
    // A readable one-line error, not a dump of the expected bytes.
    assert_eq!(
        errors_of(&report, "mine.wasm"),
        [
            "mine.wasm: not a WebAssembly component: the file starts with bytes 61 62 63 64 \
          (expected 00 61 73 6d, \"\\0asm\")"
        ]
    );

    // The serving bytes are back: nothing is wrong with the file any more.
    write_atomically(rules.path(), "mine.wasm", &v1);
    let report = server
        .wait_for_rules("the error to clear", |r| {
            errors_of(r, "mine.wasm").is_empty()
        })
        .await;
    assert_eq!(bound_sha(&report, "pricing"), sha256(&v1));
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
}

/// With nothing loaded before, a hook bound to a file that is not there
/// would be served by the embedded default rules: the daemon refuses to
/// start, before it opens the store. (A bound file that is there but does not
/// load is reported and the start goes on: see sandbox.rs.)
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_refuses_to_start_when_the_manifest_binds_a_missing_file() {
    for manifest in [
        &b"[hooks]\npricing = \"mine.wasm\"\n"[..],
        b"[resellers.7]\npricing = \"mine.wasm\"\n",
    ] {
        let rules = tempfile::tempdir().unwrap();
        write_atomically(rules.path(), "rules.toml", manifest);
        write_atomically(rules.path(), "other.wasm", &fixture(""));
        let err = refused_start(rules.path());
        assert!(
            err.contains(
                "mine.wasm is bound to the pricing hook but is not in the rules directory"
            ) && err.contains("refusing to start"),
            "{err}"
        );
    }
}

/// A rules.toml rejected at start has no earlier version to fall back on:
/// the daemon refuses to start rather than serve every hook from the
/// defaults. A `reuse` naming a file that is not there binds no hook: the
/// daemon starts, and /v1/rules says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_manifest_refuses_a_start_and_a_missing_reuse_file_does_not() {
    for manifest in [
        &b"reuse = \"rule.wasm\"\n[hooks]\npricing = \"rule.wasm\"\n"[..],
        b"[hooks]\nprorate = \"rule.wasm\"\n",
    ] {
        let rules = tempfile::tempdir().unwrap();
        write_atomically(rules.path(), "rule.wasm", &fixture(""));
        write_atomically(rules.path(), "rules.toml", manifest);
        let err = refused_start(rules.path());
        assert!(
            err.contains("rules.toml") && err.contains("refusing to start"),
            "{err}"
        );
    }
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "rule.wasm", &fixture(""));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"reuse = [\"gone.wasm\"]\n[hooks]\npricing = \"rule.wasm\"\n",
    );
    let server = TestServer::start(Some(rules.path())).await;
    assert_eq!(server.quote(&order(None)).await.1["total"], "1.00");
    let (_, report) = server.get("/v1/rules").await;
    assert_eq!(
        errors_of(&report, "gone.wasm"),
        [
            "gone.wasm is listed in rules.toml's reuse but is not in the rules directory \
          (reuse binds no hook: nothing else changes)"
        ]
    );
}
