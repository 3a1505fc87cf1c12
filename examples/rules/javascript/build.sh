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

# Install and build in the work directory, from copies of the sources.
mkdir -p "$WORK/js"
cp "$HERE/package.json" "$HERE"/*.js "$HERE/build.mjs" "$WORK/js/"
cd "$WORK/js"
if [ ! -d node_modules/@bytecodealliance/componentize-js ]; then
    npm install --no-audit --no-fund --loglevel=error
fi
node build.mjs --wit "$WIT" --out "$OUT" "$@"
