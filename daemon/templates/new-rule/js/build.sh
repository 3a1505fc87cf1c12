#!/bin/sh
# Build rule.js and the hook modules it imports into build/rules/rule.wasm (a
# component of the world `rule` in wit/world.wit, which exports this
# project's hooks) and put rules.toml, which binds them, next to it:
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
cp "$HERE/package.json" "$HERE/build.mjs" "$HERE"/*.js "$WORK/js/"
cd "$WORK/js"
if [ ! -d node_modules/@bytecodealliance/componentize-js ]; then
    npm install --no-audit --no-fund --loglevel=error
fi
node build.mjs --wit "$HERE/wit" --world rule --out "$HERE/build/rules/rule.wasm"
cp "$HERE/rules.toml" "$HERE/build/rules/rules.toml"
