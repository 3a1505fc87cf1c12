//! `rulesd check`: the verdict and the daemon's own words for each kind of
//! module, from the binary as a person runs it. (The Python and JavaScript
//! examples and the `new-rule` projects are checked by
//! .ci/rule-languages, which needs PyPI and npm.)

use crate::support::fixture;
use rulesd::contract::hook::CONTRACT_VERSION;
use serde_json::Value;
use std::process::Command;

struct Checked {
    status: i32,
    text: String,
    json: Value,
}

/// Runs `rulesd check` on `bytes` twice, as text and as JSON.
fn check(bytes: &[u8], args: &[&str]) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("module.wasm");
    std::fs::write(&path, bytes).unwrap();
    let run = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesd"));
        cmd.arg("check").arg(&path).args(args);
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let text = run(false);
    let json = run(true);
    assert_eq!(text.status.code(), json.status.code());
    Checked {
        status: text.status.code().unwrap(),
        text: String::from_utf8(text.stdout).unwrap(),
        json: serde_json::from_slice(&json.stdout).unwrap(),
    }
}

/// The default module with its contract version replaced (same length).
fn default_for_contract(version: &str) -> Vec<u8> {
    let current = format!("@{CONTRACT_VERSION}");
    let wanted = format!("@{version}");
    assert_eq!(current.len(), wanted.len());
    let mut bytes = rulesd::rules::DEFAULT_MODULE.to_vec();
    let mut replaced = 0;
    for i in 0..=bytes.len() - current.len() {
        if bytes[i..].starts_with(current.as_bytes()) {
            bytes[i..i + current.len()].copy_from_slice(wanted.as_bytes());
            replaced += 1;
        }
    }
    assert!(replaced > 0);
    bytes
}

#[test]
fn the_default_module_is_accepted_and_answers_every_sample_it_has() {
    let c = check(rulesd::rules::DEFAULT_MODULE, &[]);
    assert_eq!(c.status, 0, "{}", c.text);
    assert!(
        c.text.contains(&format!(
            "contract   rulesd:rules@{CONTRACT_VERSION}: accepted"
        )),
        "{}",
        c.text
    );
    // no_std: the contract's types are all it imports.
    assert!(
        c.text.contains(&format!(
            "imports    rulesd:rules/types@{CONTRACT_VERSION} (the contract's types)\nmemory"
        )),
        "{}",
        c.text
    );
    assert!(
        c.text
            .ends_with("ok         the daemon would load and serve it\n"),
        "{}",
        c.text
    );
    let j = &c.json;
    assert_eq!(j["accepted"], true);
    assert_eq!(j["ok"], true);
    assert_eq!(j["contract"], CONTRACT_VERSION);
    assert_eq!(j["hooks"].as_array().unwrap().len(), 6, "{j:#}");
    assert!(
        j["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == "contract-types"),
        "{j:#}"
    );
    // The default module needs one 64 KiB page.
    assert_eq!(j["memory"]["bytes"], 65536, "{j:#}");
    assert_eq!(j["memory"]["rule_memory_mib"], 1);
    let smoke = j["smoke"].as_array().unwrap();
    let outcome = |hook: &str| {
        smoke
            .iter()
            .find(|s| s["hook"] == hook)
            .unwrap_or_else(|| panic!("no smoke call of {hook}: {j:#}"))
    };
    for hook in [
        "pricing",
        "tariff-change",
        "proration",
        "ip-allocation",
        "license-pool",
        "wholesale",
    ] {
        let s = outcome(hook);
        assert_eq!(s["outcome"], "answered", "{s:#}");
        assert!(s["fuel"].as_u64().unwrap() > 0, "{s:#}");
    }
    // The default takes the one free license the sample offers.
    let license = outcome("license-pool");
    assert!(
        license["answer"].as_str().unwrap().contains("\"take\""),
        "{license:#}"
    );
    let price = outcome("pricing");
    assert!(
        price["answer"].as_str().unwrap().contains("\"amount\""),
        "{price:#}"
    );
    // It keeps no state: every hook answers the same on a reused instance.
    let reuse = j["reuse"].as_array().unwrap();
    assert_eq!(reuse.len(), 6, "{j:#}");
    assert!(reuse.iter().all(|r| r["same"] == true), "{j:#}");
    assert!(
        c.text
            .contains("reuse      pricing: the same answer on a reused instance (")
            && c.text
                .contains("for this sample; replay your scenarios with `reuse` before listing it"),
        "{}",
        c.text
    );
}

#[test]
fn a_module_of_another_contract_version_is_refused_naming_both_versions() {
    for version in ["0.1.0", "9.9.9"] {
        let c = check(&default_for_contract(version), &[]);
        assert_eq!(c.status, 1, "{}", c.text);
        assert!(
            c.text.contains(&format!(
                "contract   rulesd:rules@{version}: refused, this daemon serves rulesd:rules@{CONTRACT_VERSION}"
            )),
            "{}",
            c.text
        );
        // The daemon's load error, word for word.
        assert!(
            c.text.contains(&format!(
                "REFUSED    {}: built for the rule contract rulesd:rules@{version}, but this \
                 daemon serves rulesd:rules@{CONTRACT_VERSION}; rebuild it against the WIT of \
                 this daemon (rules-sdk/wit)",
                c.json["file"].as_str().unwrap()
            )),
            "{}",
            c.text
        );
        assert_eq!(c.json["contract"], version);
        assert_eq!(c.json["accepted"], false);
    }
}

#[test]
fn a_module_importing_outside_wasi_is_loaded_but_fails_its_smoke_call() {
    let c = check(&fixture("foreign-import"), &[]);
    assert_eq!(c.status, 1, "{}", c.text);
    assert!(
        c.text
            .contains("elsewhere:host/host (NOT PROVIDED: traps when called)"),
        "{}",
        c.text
    );
    assert!(
        c.text.contains("smoke      pricing: failed")
            && c.text
                .contains("the rule called `ask`, which the sandbox does not provide"),
        "{}",
        c.text
    );
    assert!(
        c.text
            .contains("FAILED     the daemon would load it, but a hook failed"),
        "{}",
        c.text
    );
    assert_eq!(c.json["accepted"], true);
    let traps: Vec<&Value> = c.json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "traps")
        .collect();
    assert_eq!(traps.len(), 1, "{:#}", c.json);
}

#[test]
fn a_module_over_the_memory_limit_is_refused_naming_the_setting_that_fits() {
    let bytes = fixture("ballast");
    let c = check(&bytes, &["--rule-memory-mib", "2"]);
    assert_eq!(c.status, 1, "{}", c.text);
    assert!(
        c.text.contains("REFUSED ") && c.text.contains("needs more than the sandbox allows"),
        "{}",
        c.text
    );
    assert!(
        c.text
            .contains("which needs --rule-memory-mib 4 or more (it is 2)"),
        "{}",
        c.text
    );
    assert_eq!(c.json["memory"]["rule_memory_mib"], 4, "{:#}", c.json);
    assert_eq!(c.json["memory"]["limit_mib"], 2);
    // Loaded without the limit, its contract is known.
    assert_eq!(c.json["contract"], CONTRACT_VERSION, "{:#}", c.json);
    // With what it needs, it is served; but it sees what its previous
    // call left in memory, so it must not be kept between calls.
    let c = check(&bytes, &["--rule-memory-mib", "4"]);
    assert_eq!(c.status, 0, "{}", c.text);
    assert_eq!(c.json["reuse"][0]["same"], false, "{:#}", c.json);
    assert!(
        c.json["reuse"][0]["different"]
            .as_str()
            .unwrap()
            .contains("left by earlier calls: 384"),
        "{:#}",
        c.json
    );
    assert!(
        c.text.contains(
            "reuse      pricing: a DIFFERENT answer on a reused instance: the rule keeps \
             state between calls; do not list it in rules.toml's `reuse` (reused: "
        ),
        "{}",
        c.text
    );
}

/// A rule that fails on every reused call answers the same in the end (each
/// call is made again fresh), but check says it failed.
#[test]
fn a_module_failing_on_reused_instances_is_told_not_to_be_reused() {
    let c = check(&fixture("warm-fails"), &[]);
    assert_eq!(c.status, 0, "{}", c.text);
    assert_eq!(c.json["reuse"][0]["same"], false, "{:#}", c.json);
    assert_eq!(c.json["reuse"][0]["failures"], 2, "{:#}", c.json);
    assert!(
        c.text.contains(
            "reuse      pricing: FAILED on a reused instance (2 of 3 calls, each made again \
             fresh): the rule keeps state between calls; do not list it in rules.toml's `reuse`"
        ),
        "{}",
        c.text
    );
}

#[test]
fn garbage_and_core_modules_are_refused_with_the_load_error() {
    let c = check(b"garbage bytes, not a component", &[]);
    assert_eq!(c.status, 1, "{}", c.text);
    assert!(
        c.text.contains(
            "not a WebAssembly component: the file starts with bytes 67 61 72 62 \
             (expected 00 61 73 6d, \"\\0asm\")"
        ),
        "{}",
        c.text
    );
    assert!(c.json["contract"].is_null());

    let c = check(b"\0asm\x01\0\0\0", &[]);
    assert_eq!(c.status, 1, "{}", c.text);
    assert!(
        c.text.contains(
            "this is a core WebAssembly module, not a component; build it for wasm32-wasip2"
        ),
        "{}",
        c.text
    );
}

#[test]
fn an_unreadable_file_is_exit_status_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_rulesd"))
        .args(["check", "/nonexistent/module.wasm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("rulesd: cannot read /nonexistent/module.wasm"),
        "{out:?}"
    );
}

/// `--compile-cache` (RULESD_COMPILE_CACHE) keeps the compiled module for
/// the next run of check, replay or diff: one file per module version, and
/// the same verdict from it.
#[test]
fn a_compile_cache_serves_the_next_run() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("compiled");
    let args = ["--compile-cache", dir.to_str().unwrap()];
    let first = check(rulesd::rules::DEFAULT_MODULE, &args);
    assert_eq!(first.status, 0, "{}", first.text);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let again = check(rulesd::rules::DEFAULT_MODULE, &args);
    assert_eq!(again.status, 0, "{}", again.text);
    // The same answers and fuel; only the timings differ.
    let answers = |c: &Checked| {
        c.json["smoke"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["hook"].clone(), s["answer"].clone(), s["fuel"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(answers(&again), answers(&first));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}
