#!/bin/sh
# Build the rule into build/rules/rule.wasm (a wasm32-wasip2 component) and
# put rules.toml, which binds its hooks, next to it: build/rules is then a
# rules directory for `rulesd replay --rules` and `rulesd serve --rules-dir`.
#
# Needs rustup and cargo; the target is added here. Crates come from
# crates.io, at the versions of the rulesd tree's Cargo.lock (copied here).
# RULE_TARGET_DIR: where cargo builds (default ./target).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
rustup target add wasm32-wasip2
# A CARGO_TARGET_DIR or RUSTFLAGS of the calling shell must not apply here.
env -u CARGO_TARGET_DIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
    cargo build --release --target wasm32-wasip2 --target-dir "${RULE_TARGET_DIR:-$HERE/target}"
mkdir -p build/rules
cp "${RULE_TARGET_DIR:-$HERE/target}/wasm32-wasip2/release/rule.wasm" build/rules/rule.wasm
cp rules.toml build/rules/rules.toml
echo "built $HERE/build/rules/rule.wasm"
