#!/bin/sh
# Build the rule (app.py and the modules it imports) into rule.wasm, a
# component of the world `rules` (every hook).
#
# Needs python3 (3.10+) with venv, and access to PyPI for componentize-py.
# The venv goes under $WORK (default: a new temporary directory), never
# into the repository.
#
# Usage: [WORK=/some/dir] ./build.sh [OUT.wasm] [--stub-wasi]
#
# --stub-wasi builds a component that imports no WASI: about 20% less fuel per
# decision, but any use of WASI (print, time, random, os.environ) then traps.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
WIT="$HERE/../../../rules-sdk/wit"
# The first argument, unless it is an option, is the output file.
case "${1:-}" in
    -*|"") OUT="$HERE/rule.wasm" ;;
    *) OUT=$1; shift ;;
esac
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/rulesd-python-rule.XXXXXX")}
VENV="$WORK/venv"

if ! "$VENV/bin/pip" show componentize-py 2>/dev/null | grep -qx "Version: 0.25.1"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet componentize-py==0.25.1
fi

# Build from a copy of its own, so no __pycache__ lands next to the source
# and builds sharing a WORK do not meet.
SRC=$(mktemp -d "$WORK/src.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
cp "$HERE"/*.py "$SRC/"

# -d: the WIT package; -w: the world to build; `componentize app`: the module
# app.py, found on the search path -p. The component imports WASI, which the
# daemon provides frozen (see docs/rules-in-other-languages.md).
cd "$SRC"
"$VENV/bin/componentize-py" -d "$WIT" -w rules componentize "$@" app -p "$SRC" -o "$OUT"
echo "built $OUT"
