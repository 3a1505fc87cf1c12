#!/bin/sh
# What a pricing module costs in the daemon: its size, the first load (a
# fresh compile, before the daemon listens), a restart (the compile cache),
# the fuel one quote reports, the smallest --rule-memory-mib it loads with,
# and the round trip of sequential quotes over HTTP (keep-alive).
# The figures of docs/rules-in-other-languages.md come from this script.
#
#   [RULESD=path/to/rulesd] [QUOTES=300] examples/rules/costs.sh MODULE.wasm...
#
# Needs python3 (the HTTP client) and curl. RULESD defaults to
# target/release/rulesd of this repository.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
RULESD=${RULESD:-$HERE/../../target/release/rulesd}
QUOTES=${QUOTES:-300}
PORT=${PORT:-18641}
KEY=costs-sh-provider-key-0123

now() { python3 -c 'import time; print(time.monotonic())'; }

# serve DIR MEMORY_MIB: start the daemon on DIR/data with DIR/rules; prints
# the seconds until it answers, or "refused" if it exits first. Called in a
# command substitution (a subshell), so the pid goes to a file for `stop`.
serve() {
    "$RULESD" serve --listen "127.0.0.1:$PORT" --data-dir "$1/data" --rules-dir "$1/rules" \
        --provider-key "$KEY" --rule-memory-mib "$2" >"$1/serve.log" 2>&1 &
    pid=$!
    echo "$pid" >"$1/pid"
    start=$(now)
    while ! curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then echo refused; return; fi
        sleep 0.05
    done
    python3 -c "print(f'{$(now) - $start:.2f}')"
}

work=
stop() {
    [ -n "$work" ] && [ -f "$work/pid" ] || return 0
    pid=$(cat "$work/pid")
    rm "$work/pid"
    kill "$pid" 2>/dev/null || true
    # Not our child (started in a subshell): wait for it to be gone.
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
trap stop EXIT

if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
    echo "something already answers on port $PORT; set PORT" >&2
    exit 1
fi

for module in "$@"; do
    work=$(mktemp -d "${TMPDIR:-/tmp}/rulesd-costs.XXXXXX")
    mkdir "$work/rules"
    cp "$module" "$work/rules/pricing.wasm"
    size=$(wc -c <"$module")

    first=$(serve "$work" 32)
    [ "$first" = refused ] && { echo "$module: refused at 32 MiB:"; tail -3 "$work/serve.log"; exit 1; }
    python3 - "$PORT" "$KEY" "$QUOTES" >"$work/quotes.txt" <<'EOF'
import http.client, json, sys, time
port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = json.dumps({"tariff": {"name": "Basic", "currency": "EUR",
        "prices": [{"months": 1, "price": "10.00"}, {"months": 12, "price": "100.00"}],
        "setup_fee": "5.00"}, "months": 1, "at": "2026-01-31T10:00:00Z"})
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port)
times, fuel = [], None
for i in range(n + 10):
    t = time.perf_counter()
    conn.request("POST", "/v1/quotes", body, headers)
    reply = conn.getresponse()
    answer = json.loads(reply.read())
    if reply.status != 200:
        sys.exit(f"quote answered {reply.status}: {answer}")
    if i >= 10:  # warm-up
        times.append(time.perf_counter() - t)
    fuel = answer["rule"]["fuel_used"]
times.sort()
print(f"{fuel} {times[len(times) // 2] * 1000:.2f} {times[len(times) * 99 // 100] * 1000:.2f}")
EOF
    read -r fuel p50 p99 <"$work/quotes.txt"
    stop
    cache=$(du -sm "$work/data/compiled" | cut -f1)
    restart=$(serve "$work" 32)
    stop

    # The smallest memory limit it loads with (each try a restart from the cache).
    mib=1
    while [ "$(serve "$work" "$mib")" = refused ]; do mib=$((mib + 1)); done
    stop

    echo "$(basename "$module"): $size bytes; first load ${first} s; restart ${restart} s;" \
        "fuel $fuel per quote; loads with --rule-memory-mib $mib;" \
        "quote round trip p50 ${p50} ms, p99 ${p99} ms ($QUOTES quotes); compile cache ${cache} MiB"
    rm -rf "$work"
done
