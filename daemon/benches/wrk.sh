#!/usr/bin/env bash
# POST /v1/quotes against GET /healthz with wrk: the daemon in its own process
# (the release `rulesd serve`), the load from another (wrk, 1 thread, 64
# connections), over plain HTTP and over HTTPS in one run: two daemons, one
# of them with --tls-cert/--tls-key (a self-signed certificate made here with
# the openssl command; wrk does not verify it; TLS 1.3). A cross-check of
# `cargo bench -p rulesd --bench http`, whose client is reqwest in the same
# process as the server. Also prints each daemon's CPU time per request,
# read from /proc.
#
#   bash daemon/benches/wrk.sh            (from the repository root)
#   RULESD=path/to/rulesd bash daemon/benches/wrk.sh   (that binary, unbuilt)
#
# Installs wrk from Debian's packages if it is missing.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
SECONDS_PER_LOAD=${SECONDS_PER_LOAD:-3}
ADDR=127.0.0.1:18181
TLS_ADDR=127.0.0.1:18182
KEY=rk_wrk_bench_provider_key

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if [[ -z ${RULESD:-} ]]; then
  cargo build --release -p rulesd --quiet
  RULESD=${CARGO_TARGET_DIR:-target}/release/rulesd
fi
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$data"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$data/key.pem" -out "$data/cert.pem" 2>/dev/null
mkdir "$data/plain" "$data/tls"
"$RULESD" serve --listen "$ADDR" --data-dir "$data/plain" --provider-key "$KEY" \
  >"$data/plain.log" 2>&1 &
pid=$!
"$RULESD" serve --listen "$TLS_ADDR" --data-dir "$data/tls" --provider-key "$KEY" \
  --tls-cert "$data/cert.pem" --tls-key "$data/key.pem" >"$data/tls.log" 2>&1 &
tls_pid=$!
pids=("$pid" "$tls_pid")
for url in "http://$ADDR" "https://$TLS_ADDR"; do
  for _ in $(seq 50); do curl -sfk "$url/healthz" >/dev/null && break; sleep 0.1; done
  curl -sfk "$url/healthz" >/dev/null || { cat "$data"/*.log >&2; exit 1; }
done

cat >"$data/quote.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"tariff":{"name":"Basic","currency":"EUR","prices":[{"months":1,"price":"10.00"},{"months":12,"price":"100.00"}],"setup_fee":"5.00"},"months":1,"at":"2026-01-31T10:00:00Z"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
EOF

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

# load PID WRK-ARGS...: prints "requests/s server-CPU-us-per-request" (the
# CPU of the daemon PID); fails on any non-2xx answer.
load() {
  local p=$1 before after out n
  shift
  before=$(cpu_ticks "$p")
  out=$(wrk -t1 -c64 -d"${SECONDS_PER_LOAD}s" "$@")
  after=$(cpu_ticks "$p")
  if grep -q "Non-2xx" <<<"$out"; then echo "unexpected status: $out" >&2; exit 1; fi
  n=$(grep -o "[0-9]* requests in" <<<"$out" | cut -d' ' -f1)
  printf '%s %s\n' "$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")" \
    "$(awk -v t=$((after - before)) -v u="$tick_us" -v n="$n" 'BEGIN {printf "%.1f", t * u / n}')"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

for url in "http://$ADDR" "https://$TLS_ADDR"; do # warm-up
  wrk -t1 -c64 -d1s "$url/healthz" >/dev/null
  wrk -t1 -c64 -d1s -s "$data/quote.lua" "$url/v1/quotes" >/dev/null
done
echo "wrk -t1 -c64, $ROUNDS rounds of ${SECONDS_PER_LOAD} s per endpoint and scheme, each daemon in its own process"
ratios=() tls_ratios=() tls_healthz=() tls_quotes=()
for round in $(seq "$ROUNDS"); do
  read -r h hcpu < <(load "$pid" "http://$ADDR/healthz")
  read -r q qcpu < <(load "$pid" -s "$data/quote.lua" "http://$ADDR/v1/quotes")
  read -r th thcpu < <(load "$tls_pid" "https://$TLS_ADDR/healthz")
  read -r tq tqcpu < <(load "$tls_pid" -s "$data/quote.lua" "https://$TLS_ADDR/v1/quotes")
  r=$(ratio "$q" "$h")
  ratios+=("$r")
  tls_ratios+=("$(ratio "$tq" "$th")")
  tls_healthz+=("$(ratio "$th" "$h")")
  tls_quotes+=("$(ratio "$tq" "$q")")
  echo "round $round: GET /healthz $h req/s (server ${hcpu} us CPU/req), POST /v1/quotes $q req/s (server ${qcpu} us CPU/req), ratio $r"
  echo "    over TLS: GET /healthz $th req/s (server ${thcpu} us CPU/req), POST /v1/quotes $tq req/s (server ${tqcpu} us CPU/req), ratio ${tls_ratios[-1]}"
done
echo "ratio quotes/healthz: median of rounds $(median "${ratios[@]}") (over TLS $(median "${tls_ratios[@]}"))"
echo "TLS/plain: GET /healthz $(median "${tls_healthz[@]}"), POST /v1/quotes $(median "${tls_quotes[@]}") (medians of rounds)"
