#!/bin/sh
# Build the example rules in Python and JavaScript and check that they price
# scenario.toml exactly as the embedded default rule does: `rulesd check`
# each module, replay the scenario with it, diff it against the default's
# decisions.
#
# NEEDS NETWORK ACCESS to PyPI (componentize-py) and the npm registry
# (componentize-js, jco) for the first build, plus python3 with venv, Node.js
# and npm, and a built rulesd binary.
#
#   [RULESD=path/to/rulesd] [WORK=dir] examples/rules/check.sh
#
# RULESD defaults to target/release/rulesd of this repository, else `rulesd`
# on PATH. WORK (default: a new temporary directory) holds the venv,
# node_modules, the built modules and the replayed store; reuse one to skip
# the installs. Exit status 0 when every check passed, 1 otherwise.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCENARIO="$HERE/scenario.toml"
if [ -z "${RULESD:-}" ]; then
    if [ -x "$ROOT/target/release/rulesd" ]; then
        RULESD="$ROOT/target/release/rulesd"
    elif command -v rulesd >/dev/null 2>&1; then
        RULESD=rulesd
    else
        echo "no rulesd binary: build it (cargo build --release -p rulesd) or set RULESD" >&2
        exit 1
    fi
fi
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/rulesd-example-rules.XXXXXX")}
mkdir -p "$WORK/python/rules" "$WORK/javascript/rules"
echo "rulesd: $RULESD; work directory: $WORK"

failed=""
check() { # check NAME COMMAND...: run it, remember a failure, go on
    name=$1
    shift
    echo "--- $name"
    if "$@"; then echo "--- $name: ok"; else echo "--- $name: FAILED"; failed="$failed $name"; fi
}

# A candidate must re-decide every stored decision of the default's replay
# identically: lines (amounts, periods, descriptions) and expiry.
diff_unchanged() { # diff_unchanged MODULE
    out=$("$RULESD" diff --json --candidate "$1" --data "$WORK/default-data") || { echo "$out"; return 1; }
    echo "$out" | tr -d ' \n' | grep -q '"changed":0,"failed":0' || { echo "$out"; return 1; }
    echo "$out" | tr -d ' \n' | grep -o '"examined":[0-9]*'
}

# `rulesd check` must accept the module and its pricing must answer the
# sample order (the lines it prints are the evidence in the log).
check_module() { # check_module MODULE
    out=$("$RULESD" check "$1") || { echo "$out"; return 1; }
    echo "$out" | grep -v '^           '
    echo "$out" | grep -q '^smoke      pricing: answered'
}

rm -f "$WORK/python/rules/pricing.wasm" "$WORK/javascript/rules/pricing.wasm"
check build-python env WORK="$WORK/python" "$HERE/python/build.sh" "$WORK/python/rules/pricing.wasm"
check build-javascript env WORK="$WORK/javascript" "$HERE/javascript/build.sh" "$WORK/javascript/rules/pricing.wasm"

for lang in python javascript; do
    if [ -f "$WORK/$lang/rules/pricing.wasm" ]; then
        check "check-$lang" check_module "$WORK/$lang/rules/pricing.wasm"
    fi
done

rm -rf "$WORK/default-data"
check replay-default "$RULESD" replay --keep-data "$WORK/default-data" "$SCENARIO"
for lang in python javascript; do
    if [ -f "$WORK/$lang/rules/pricing.wasm" ]; then
        check "replay-$lang" "$RULESD" replay --rules "$WORK/$lang/rules" "$SCENARIO"
        if [ -d "$WORK/default-data" ]; then
            check "diff-$lang" diff_unchanged "$WORK/$lang/rules/pricing.wasm"
        fi
    fi
done

if [ -n "$failed" ]; then
    echo "FAILED:$failed"
    exit 1
fi
echo "all checks passed"
