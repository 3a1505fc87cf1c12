//! The on-disk compile cache: a restart does not recompile, and a damaged
//! cache entry is ignored rather than trusted.

use crate::support::{fixture, limits, sha256};
use rulesd::runtime::{ModuleSource, Runtime, block_on};

fn cache_entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect()
}

#[test]
fn compiled_modules_are_cached_by_sha256_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = fixture("");
    let first = Runtime::new(limits(), Some(dir.path().to_path_buf())).unwrap();
    first
        .load("a.wasm", &bytes, ModuleSource::Embedded)
        .unwrap();
    let entries = cache_entries(dir.path());
    assert_eq!(entries.len(), 1);
    let name = entries[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with(&sha256(&bytes)), "{name}");
    let written = std::fs::metadata(&entries[0]).unwrap().modified().unwrap();
    drop(first);

    // A "restart": a new runtime with the same cache loads without writing.
    let second = Runtime::new(limits(), Some(dir.path().to_path_buf())).unwrap();
    let module = second
        .load("a.wasm", &bytes, ModuleSource::Embedded)
        .unwrap();
    assert_eq!(
        std::fs::metadata(&entries[0]).unwrap().modified().unwrap(),
        written
    );
    assert!(block_on(module.price(&crate::sandbox::price_request())).is_ok());

    // A damaged entry is ignored and replaced by a fresh compile.
    std::fs::write(&entries[0], b"not a compiled artifact").unwrap();
    let third = Runtime::new(limits(), Some(dir.path().to_path_buf())).unwrap();
    let module = third
        .load("a.wasm", &bytes, ModuleSource::Embedded)
        .unwrap();
    assert!(block_on(module.price(&crate::sandbox::price_request())).is_ok());
    assert_ne!(
        std::fs::read(&entries[0]).unwrap(),
        b"not a compiled artifact"
    );
}

/// A reload drops the cached artifacts of modules no longer in use (a
/// compiled Python rule is tens of MiB: every version tried would pile up)
/// and those of other engine builds, and keeps what serves and the default.
#[test]
fn a_reload_removes_cache_entries_of_modules_no_longer_in_use() {
    let cache = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    let runtime = std::sync::Arc::new(
        Runtime::new(limits(), Some(cache.path().to_path_buf()))
            .unwrap()
            .pruning_cache(),
    );
    let default = runtime
        .load(
            rulesd::rules::DEFAULT_MODULE_NAME,
            rulesd::rules::DEFAULT_MODULE,
            ModuleSource::Embedded,
        )
        .unwrap();
    let registry = rulesd::rules::Registry::new(
        runtime,
        std::sync::Arc::new(default),
        Some(rules.path().to_path_buf()),
    );
    let (v1, v2) = (fixture(""), fixture("v2"));
    let default_sha = sha256(rulesd::rules::DEFAULT_MODULE);
    // Not the daemon's: left alone. Another engine build's: removed.
    std::fs::write(cache.path().join("README"), "notes").unwrap();
    let stale = format!("{}-0123456789abcdef.cwasm", sha256(&v1));
    std::fs::write(cache.path().join(&stale), "old engine").unwrap();
    let names = || {
        let mut names: Vec<String> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let shas = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter(|n| n.ends_with(".cwasm"))
            .map(|n| n[..64].to_owned())
            .collect()
    };

    std::fs::write(rules.path().join("pricing.wasm"), &v1).unwrap();
    registry.reload();
    registry.prune_cache();
    let after_v1 = names();
    assert!(after_v1.contains(&"README".to_owned()), "{after_v1:?}");
    assert!(!after_v1.contains(&stale), "{after_v1:?}");
    let mut want = vec![sha256(&v1), default_sha.clone()];
    want.sort();
    let mut got = shas(&after_v1);
    got.sort();
    assert_eq!(got, want);

    std::fs::write(rules.path().join("pricing.wasm"), &v2).unwrap();
    registry.reload();
    registry.prune_cache();
    let mut want = vec![sha256(&v2), default_sha];
    want.sort();
    let mut got = shas(&names());
    got.sort();
    assert_eq!(got, want);
}

/// A start that is refused (here: the bound module is broken) leaves the
/// cache as it was: the next good start must not recompile what it had.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_start_leaves_the_compile_cache_alone() {
    let keep = tempfile::tempdir().unwrap();
    let rules = keep.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let v1 = fixture("");
    std::fs::write(rules.join("pricing.wasm"), &v1).unwrap();
    let mut config =
        rulesd::server::Config::new("127.0.0.1:0".parse().unwrap(), keep.path().join("data"));
    config.rules_dir = Some(rules.clone());
    let daemon = rulesd::server::Daemon::build(&config).unwrap();
    drop(daemon);
    let cache = keep.path().join("data").join("compiled");
    let has_v1 = || {
        cache_entries(&cache).iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&sha256(&v1))
        })
    };
    assert!(has_v1());

    std::fs::write(rules.join("pricing.wasm"), b"garbage").unwrap();
    assert!(rulesd::server::Daemon::build(&config).is_err());
    assert!(has_v1(), "the refused start pruned the cache");
}
