#!/usr/bin/env bash
# Two gateway builds (or more) side by side on one load: what a change to the
# call path costs or saves, without scripts/bench.sh's nine targets. On
# loopback only, it starts one lienthong-bench-upstream and, for each
# NAME=BINARY, a lienthong-gateway of that binary with bench.sh's lt-noaudit
# route (grpc-upstream, mutual TLS, policy, auditing off; AUDITED=1 audits
# instead, answers waiting for durability). NAME=relay and NAME=direct add
# the bare relay and the upstream itself, for reference (NAME=relay-cq: the
# bare relay on gRPC's completion-queue API). Then, ROUNDS times,
# it runs lienthong-loadgen at 32 calls in flight against each in turn and
# prints each one's server CPU per call (user+system from /proc/PID/stat,
# warm-up calls included) and its calls answered OK out of all.
#
#   scripts/bench-ab.sh [--rounds N] [--duration S] NAME=BINARY...
#   e.g. scripts/bench-ab.sh before=/tmp/old/build/gateway/server/lienthong-gateway \
#          after=build/gateway/server/lienthong-gateway relay=relay
#
# The builds alternate within each round, so a machine that slows down
# slows both; compare them round by round. Figures are for comparing builds
# on one machine in one run; the README's table comes from bench.sh.
# BUILD_DIR (default build) holds the upstream, relay and load generator.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-gateway.sh
. scripts/bench-gateway.sh
build=${BUILD_DIR:-build}
rounds=5
duration=4
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *=*) targets+=("$1"); shift ;;
    *) echo "bench-ab: unknown argument '$1' (NAME=BINARY expected)" >&2; exit 2 ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "bench-ab: give at least one NAME=BINARY (see --help)" >&2
  exit 2
fi

cmake --build "$build" --target lienthong-bench-upstream lienthong-bench-relay \
  lienthong-loadgen >&2
certs=$PWD/$build/bench-certs
certs/make-dev-certs.sh "$certs" >/dev/null
tmp=$(mktemp -d /tmp/lienthong-bench-ab.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_port LOG PID: the port a server says it listens on, once it has.
wait_port() {
  local _
  for _ in $(seq 1 300); do
    if grep -m1 -oE 'listening on port [0-9]+' "$1" 2>/dev/null | grep -oE '[0-9]+$'; then
      return 0
    fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench-ab: nothing listens; $1 says:" >&2
  tail -20 "$1" >&2
  return 1
}

"$build/tests/bench/lienthong-bench-upstream" --listen 127.0.0.1:0 \
  --cert "$certs/sim.pem" --key "$certs/sim.key" > "$tmp/upstream.log" 2>&1 &
upstream_pid=$!; pids+=("$upstream_pid")
upstream_port=$(wait_port "$tmp/upstream.log" "$upstream_pid")

audit="disabled: true"
[ "${AUDITED:-0}" = 1 ] && audit="wait_for_durable: true"
declare -A pid port
names=()
for target in "${targets[@]}"; do
  name=${target%%=*}; binary=${target#*=}
  names+=("$name")
  mkdir -p "$tmp/$name"
  case "$binary" in
    direct)
      pid[$name]=$upstream_pid; port[$name]=$upstream_port; continue ;;
    relay|relay-cq)
      api=callback; [ "$binary" = relay-cq ] && api=cq
      "$build/tests/bench/lienthong-bench-relay" --listen 127.0.0.1:0 \
        --upstream "127.0.0.1:$upstream_port" --cert "$certs/gateway.pem" \
        --key "$certs/gateway.key" --client-ca "$certs/ca.pem" \
        --ca "$certs/ca.pem" --api "$api" > "$tmp/$name/log" 2>&1 & ;;
    *)
      [ -x "$binary" ] || { echo "bench-ab: $binary is not an executable" >&2; exit 2; }
      bench_gateway_yaml "$name" "$(bench_route4 "$upstream_port" "$certs")" \
        "  $audit" "$tmp/$name" "$certs" > "$tmp/$name/gateway.yaml"
      chmod 600 "$tmp/$name/gateway.yaml"
      "$binary" --config "$tmp/$name/gateway.yaml" > "$tmp/$name/log" 2>&1 & ;;
  esac
  pid[$name]=$!; pids+=("$!")
  port[$name]=$(wait_port "$tmp/$name/log" "${pid[$name]}")
done

hz=$(getconf CLK_TCK)
warmup=640
echo "server CPU us/call at 32 in flight (ok/calls), $rounds rounds of ${duration}s"
for r in $(seq 1 "$rounds"); do
  line="round $r:"
  for name in "${names[@]}"; do
    t0=$(stat_ticks "/proc/${pid[$name]}/stat")
    out=$("$build/tests/bench/lienthong-loadgen" --server "127.0.0.1:${port[$name]}" \
      --ca "$certs/ca.pem" --cert "$certs/dossier-system.pem" \
      --key "$certs/dossier-system.key" -c 32 --duration "$duration" \
      --warmup $warmup 2>&1 || true)
    t1=$(stat_ticks "/proc/${pid[$name]}/stat")
    calls=$(grep -oE '(^| )calls=[0-9]+' <<<"$out" | head -1 | cut -d= -f2)
    ok=$(grep -oE '(^| )ok=[0-9]+' <<<"$out" | head -1 | cut -d= -f2)
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="${calls:-0}" -v w=$warmup \
      'BEGIN { printf "%.1f", t * 1e6 / hz / (n + w) }')
    line="$line $name=$cpu (${ok:-0}/${calls:-0})"
  done
  echo "$line"
done
