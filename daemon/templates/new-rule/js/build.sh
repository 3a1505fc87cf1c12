#!/bin/sh
# Build rule.js into build/rules/rule.wasm (a component of the world
# `{{WORLD}}`) and put rules.toml, which binds its hook, next to it:
# build/rules is then a rules directory for `rulesd replay --rules` and
# `rulesd serve --rules-dir`.
#
# Needs Node.js (20+) and npm, and the npm registry for componentize-js and
# jco (pinned in package.json). node_modules goes under $WORK (default
# ./.toolchain).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HERE/.toolchain}
mkdir -p "$WORK/js" "$HERE/build/rules"
cp "$HERE/package.json" "$HERE/build.mjs" "$HERE/rule.js" "$WORK/js/"
cd "$WORK/js"
if [ ! -d node_modules/@bytecodealliance/componentize-js ]; then
    npm install --no-audit --no-fund --loglevel=error
fi
node build.mjs --wit "$HERE/wit" --out "$HERE/build/rules/rule.wasm"
cp "$HERE/rules.toml" "$HERE/build/rules/rules.toml"
