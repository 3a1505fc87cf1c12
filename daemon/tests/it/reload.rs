//! Hot reload: modules replaced on disk while requests flow.

use crate::support::{TestServer, bound_sha, fixture, order, sha256, write_atomically};
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
