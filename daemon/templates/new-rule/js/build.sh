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
# The toolchain: installed again unless it is the version package.json pins.
pinned() { node -p "require('$1').devDependencies['@bytecodealliance/componentize-js']"; }
installed() { node -p "try { require('$WORK/js/node_modules/@bytecodealliance/componentize-js/package.json').version } catch { '' }"; }
if [ "$(installed)" != "$(pinned "$HERE/package.json")" ]; then
    cp "$HERE/package.json" "$WORK/js/"
    (cd "$WORK/js" && npm install --no-audit --no-fund --loglevel=error)
fi
# Build from a copy of its own (node finds node_modules in the directory
# above), so builds sharing a WORK do not meet.
SRC=$(mktemp -d "$WORK/js/src.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
cp "$HERE/build.mjs" "$HERE"/*.js "$SRC/"
cd "$SRC"
node build.mjs --wit "$HERE/wit" --world rule --out "$HERE/build/rules/rule.wasm"
cp "$HERE/rules.toml" "$HERE/build/rules/rules.toml"
