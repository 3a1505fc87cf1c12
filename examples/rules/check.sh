#!/bin/sh
# Build the example rules in Python and JavaScript and check that each hook
# they export decides its scenario (scenarios/HOOK.toml) exactly as the
# embedded default rule does: `rulesd check` each module, replay every
# scenario with it, and diff it against the default's stored decisions;
# all of it twice, with a fresh instance per call and with instances kept
# between calls (rules.toml `reuse`), which must decide the same.
#
# NEEDS NETWORK ACCESS to PyPI (componentize-py) and the npm registry
# (componentize-js, jco) for the first build, plus python3 with venv, Node.js
# and npm, and a built rulesd binary.
#
#   [RULESD=path/to/rulesd] [WORK=dir] examples/rules/check.sh
#
# RULESD defaults to target/release/rulesd of this repository, else `rulesd`
# on PATH. WORK (default: a new temporary directory) holds the venv,
# node_modules, the built modules and the replayed stores; reuse one to skip
# the installs. Modules are compiled once, into RULESD_COMPILE_CACHE
# (default: WORK/compiled). Exit status 0 when every check passed, 1 otherwise.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
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
export RULESD_COMPILE_CACHE=${RULESD_COMPILE_CACHE:-$WORK/compiled}
echo "rulesd: $RULESD; work directory: $WORK"

failed=""
check() { # check NAME COMMAND...: run it, remember a failure, go on
    name=$1
    shift
    echo "--- $name"
    if "$@"; then echo "--- $name: ok"; else echo "--- $name: FAILED"; failed="$failed $name"; fi
}

# `rulesd check` must accept the module, every hook must answer its sample
# request, and answer it the same on a reused instance (the lines it prints
# are the evidence in the log). The hooks it exports are bound to it in
# rules.toml next to it, and in RULES_DIR-reused, whose rules.toml also
# lists it in `reuse`.
check_module() { # check_module RULES_DIR
    out=$("$RULESD" check "$1/rule.wasm") || { echo "$out"; return 1; }
    echo "$out" | grep -v '^           '
    if echo "$out" | grep -qE '^reuse .*(DIFFERENT|FAILED)'; then return 1; fi
    hooks=$("$RULESD" check --json "$1/rule.wasm" | python3 -c '
import json, sys
for hook in json.load(sys.stdin)["hooks"]:
    print(f"{hook} = \"rule.wasm\"")
')
    printf '[hooks]\n%s\n' "$hooks" >"$1/rules.toml"
    mkdir -p "$1-reused"
    cp "$1/rule.wasm" "$1-reused/rule.wasm"
    printf 'reuse = ["rule.wasm"]\n[hooks]\n%s\n' "$hooks" >"$1-reused/rules.toml"
}

# A candidate must re-decide every stored decision of the default's replay
# of its hook's scenario identically (with --reuse-instances: on reused
# instances).
diff_unchanged() { # diff_unchanged MODULE HOOK DATA [--reuse-instances]
    out=$("$RULESD" diff --json --candidate "$1" --hook "$2" --data "$3" ${4:-}) || { echo "$out"; return 1; }
    echo "$out" | tr -d ' \n' | grep -q '"changed":0,"failed":0' || { echo "$out"; return 1; }
    echo "$out" | tr -d ' \n' | grep -o '"examined":[0-9]*'
}

rm -f "$WORK/python/rules/rule.wasm" "$WORK/javascript/rules/rule.wasm"
check build-python env WORK="$WORK/python" "$HERE/python/build.sh" "$WORK/python/rules/rule.wasm"
check build-javascript env WORK="$WORK/javascript" "$HERE/javascript/build.sh" "$WORK/javascript/rules/rule.wasm"
for lang in python javascript; do
    if [ -f "$WORK/$lang/rules/rule.wasm" ]; then
        check "check-$lang" check_module "$WORK/$lang/rules"
    fi
done

# The default's decisions, one store per scenario (a diff reads one store).
rm -rf "$WORK/default-data"
for scenario in "$HERE"/scenarios/*.toml; do
    hook=$(basename "$scenario" .toml)
    check "replay-default-$hook" "$RULESD" replay --keep-data "$WORK/default-data/$hook" "$scenario"
done
for lang in python javascript; do
    [ -f "$WORK/$lang/rules/rules.toml" ] || continue
    check "replay-$lang" "$RULESD" replay --rules "$WORK/$lang/rules" "$HERE/scenarios"
    check "replay-$lang-reused" "$RULESD" replay --rules "$WORK/$lang/rules-reused" "$HERE/scenarios"
    for hook in $(sed -n 's/^\([a-z-]*\) = "rule.wasm"$/\1/p' "$WORK/$lang/rules/rules.toml"); do
        if [ -d "$WORK/default-data/$hook" ]; then
            check "diff-$lang-$hook" diff_unchanged "$WORK/$lang/rules/rule.wasm" "$hook" "$WORK/default-data/$hook"
            check "diff-$lang-$hook-reused" diff_unchanged "$WORK/$lang/rules/rule.wasm" "$hook" "$WORK/default-data/$hook" --reuse-instances
        else
            echo "--- diff-$lang-$hook: FAILED (no scenarios/$hook.toml)"
            failed="$failed diff-$lang-$hook"
        fi
    done
done

if [ -n "$failed" ]; then
    echo "FAILED:$failed"
    exit 1
fi
echo "all checks passed"
