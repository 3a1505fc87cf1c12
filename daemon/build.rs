//! Builds the default rule modules (`rules/*`) for wasm32-wasip2 and puts them in
//! OUT_DIR, so the daemon binary embeds them and `rulesd serve` needs no rules
//! directory. Rule crates are built by a nested cargo with its own target dir
//! (`target/wasm-rules`): the outer cargo holds the lock on the main one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The default modules: (crate name, file name of the built component).
const MODULES: &[(&str, &str)] = &[("rules-default", "rules_default.wasm")];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("wasm-rules");

    for dir in [
        "rules",
        "rules-sdk/src",
        "rules-sdk/wit",
        "rules-sdk/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }

    ensure_wasm_target();
    for (krate, file) in MODULES {
        let status = nested_cargo(&workspace)
            .args(["build", "--locked", "--quiet", "-p", krate])
            .args(["--target", "wasm32-wasip2", "--profile", "wasm-rules"])
            .arg("--target-dir")
            .arg(&target_dir)
            .status()
            .expect("failed to run cargo for the rule modules");
        assert!(
            status.success(),
            "building rule module {krate} for wasm32-wasip2 failed: see cargo's error above"
        );
        let built = target_dir.join("wasm32-wasip2/wasm-rules").join(file);
        copy_if_changed(&built, &out_dir.join(file));
    }
}

/// The README promises two commands on a fresh machine; the wasm target is the
/// one prerequisite rustup can add, so add it (with a visible warning) rather
/// than fail with a missing-std error.
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot.is_some_and(|s| s.join("lib/rustlib/wasm32-wasip2").exists());
    if !installed {
        println!(
            "cargo:warning=installing the wasm32-wasip2 target with rustup (needed to build the rule modules)"
        );
        let _ = Command::new("rustup")
            .args(["target", "add", "wasm32-wasip2"])
            .status();
    }
}

/// A cargo command that does not inherit the outer build's configuration
/// (flags meant for the host must not reach the wasm build).
fn nested_cargo(workspace: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_ENCODED_RUSTFLAGS")
            || key == "RUSTFLAGS"
            || key == "CARGO_TARGET_DIR"
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_PROFILE_")
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key == "CARGO_MAKEFLAGS"
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}

fn copy_if_changed(from: &Path, to: &Path) {
    let new = std::fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    if std::fs::read(to).ok().as_deref() != Some(&new[..]) {
        std::fs::write(to, new).unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
    }
}
