#!/bin/sh
# Build app.py and the hook modules it imports into build/rules/rule.wasm (a
# component of the world `rule` in wit/world.wit, which exports this
# project's hooks) and put rules.toml, which binds them, next to it:
# build/rules is then a rules directory for `rulesd replay --rules` and
# `rulesd serve --rules-dir`.
#
# Needs python3 (3.10+) with venv, and PyPI for componentize-py (pinned
# below). The venv goes under $WORK (default ./.toolchain).
set -eu
COMPONENTIZE_PY=0.25.1
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HERE/.toolchain}
VENV="$WORK/venv"
if ! "$VENV/bin/pip" show componentize-py 2>/dev/null | grep -qx "Version: $COMPONENTIZE_PY"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "componentize-py==$COMPONENTIZE_PY"
fi
# Build from a copy of its own, so no __pycache__ lands next to the source
# and builds sharing a WORK do not meet.
SRC=$(mktemp -d "$WORK/src.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
mkdir -p "$HERE/build/rules"
cp "$HERE"/*.py "$SRC/"
cd "$SRC"
"$VENV/bin/componentize-py" -d "$HERE/wit" -w rule componentize app -p "$SRC" \
    -o "$HERE/build/rules/rule.wasm"
cp "$HERE/rules.toml" "$HERE/build/rules/rules.toml"
echo "built $HERE/build/rules/rule.wasm"
