#!/usr/bin/env bash
# POST /v1/quotes against GET /healthz with wrk: the daemon in its own process
# (the release `rulesd serve`), the load from another (wrk, 1 thread, 64
# connections). A cross-check of `cargo bench -p rulesd --bench http`, whose
# client is reqwest in the same process as the server. Also prints the
# daemon's CPU time per request, read from /proc.
#
#   bash daemon/benches/wrk.sh            (from the repository root)
#
# Installs wrk from Debian's packages if it is missing.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-3}
ADDR=127.0.0.1:18181
KEY=rk_wrk_bench_provider_key

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p rulesd --quiet
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$data"' EXIT
target/release/rulesd serve --listen "$ADDR" --data-dir "$data" --provider-key "$KEY" \
  >"$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.1; done

cat >"$data/quote.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"tariff":{"name":"Basic","currency":"EUR","prices":[{"months":1,"price":"10.00"},{"months":12,"price":"100.00"}],"setup_fee":"5.00"},"months":1,"at":"2026-01-31T10:00:00Z"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
EOF

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

# Prints "requests/s server-CPU-us-per-request"; fails on any non-2xx answer.
load() {
  local before after out n
  before=$(cpu_ticks)
  out=$(wrk -t1 -c64 -d"${SECONDS_PER_LOAD}s" "$@")
  after=$(cpu_ticks)
  if grep -q "Non-2xx" <<<"$out"; then echo "unexpected status: $out" >&2; exit 1; fi
  n=$(grep -o "[0-9]* requests in" <<<"$out" | cut -d' ' -f1)
  printf '%s %s\n' "$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")" \
    "$(awk -v t=$((after - before)) -v u="$tick_us" -v n="$n" 'BEGIN {printf "%.1f", t * u / n}')"
}

wrk -t1 -c64 -d1s "http://$ADDR/healthz" >/dev/null # warm-up
wrk -t1 -c64 -d1s -s "$data/quote.lua" "http://$ADDR/v1/quotes" >/dev/null
echo "wrk -t1 -c64, $ROUNDS rounds of ${SECONDS_PER_LOAD} s per endpoint, daemon in its own process"
ratios=()
for round in $(seq "$ROUNDS"); do
  read -r h hcpu < <(load "http://$ADDR/healthz")
  read -r q qcpu < <(load -s "$data/quote.lua" "http://$ADDR/v1/quotes")
  r=$(awk -v q="$q" -v h="$h" 'BEGIN {printf "%.2f", q / h}')
  ratios+=("$r")
  echo "round $round: GET /healthz $h req/s (server ${hcpu} us CPU/req), POST /v1/quotes $q req/s (server ${qcpu} us CPU/req), ratio $r"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "ratio quotes/healthz: median of rounds $median"
