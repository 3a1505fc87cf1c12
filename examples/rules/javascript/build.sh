#!/bin/sh
# Build the rule (rule.js and the modules it imports) into rule.wasm, a
# component of the world `rules` (every hook).
#
# Needs Node.js (tested with 20.20) and npm, and access to the npm registry for
# @bytecodealliance/componentize-js and @bytecodealliance/jco (versions
# pinned in package.json). node_modules goes under $WORK (default: a new
# temporary directory), never into the repository.
# Usage: [WORK=/some/dir] ./build.sh [OUT.wasm] [--no-wasi]
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
WIT="$HERE/../../../rules-sdk/wit"
# The first argument, unless it is an option, is the output file.
case "${1:-}" in
    -*|"") OUT="$HERE/rule.wasm" ;;
    *) OUT=$1; shift ;;
esac
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/rulesd-js-rule.XXXXXX")}

# The toolchain: installed again unless it is the version package.json pins.
mkdir -p "$WORK/js"
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
cp "$HERE"/*.js "$HERE/build.mjs" "$SRC/"
cd "$SRC"
node build.mjs --wit "$WIT" --out "$OUT" "$@"
