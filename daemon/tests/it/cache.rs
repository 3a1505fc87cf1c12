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
