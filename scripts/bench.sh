#!/usr/bin/env bash
# The gateway benchmark (issue 6): what each hop adds to a call, side by side
# with the proxies a province would otherwise use. On loopback only, it starts
#
#   direct    lienthong-bench-upstream: gRPC over TLS, answers at once (floor)
#   nginx     nginx grpc_pass, TLS h2 in (client cert verified), grpcs:// out
#             with keepalive to the upstream and no per-connection limits
#   haproxy   HAProxy mode http, TLS h2 in (client cert verified), TLS h2 out
#   lienthong lienthong-gateway, grpc-upstream route, mutual TLS, policy and
#             audit on
#   c06-gw    (route 5) lienthong-gateway, c06-population-soap route to
#             lienthong-sim
#   c06-soap  (route 5) lienthong-sim called directly over HTTPS/SOAP with
#             h2load --h1 (from nghttp2-client; skipped when absent)
#
# then runs, interleaved, ROUNDS rounds of each target at 1 call in flight
# (added latency) and at 32 (throughput) with lienthong-loadgen, always with
# the dossier-system client certificate, and prints medians with min-max and
# ratios to direct. CPU per call is read from /proc/<pid>/stat (user+system
# of the target's own processes) around each run; peak memory is VmHWM.
#
#   scripts/bench.sh [--rounds N] [--duration S] [--no-route5] [--breakdown]
#                    [--keep] [--perf PREFIX]
#
# It also prints the disk's "fdatasync p50 N us" (fdatasync_probe, in the
# folder of the gateways' journals, after the rounds; then the same with
# 500 us between writes, for reference) and, with --breakdown,
# whether auditing meets issue 13's targets against lt-noaudit.
#
# --breakdown adds two more route-4 gateways, to show what the audit log
# costs: lt-noaudit (auditing off) and lt-nowait (audited, but answers do
# not wait for the record to be durable); and direct-cq, the same upstream
# on gRPC C++'s completion-queue API instead of the callback API, to show
# what gRPC C++ itself costs per call with either; and relay, a bare gRPC
# C++ relay of the same call (mutual TLS in, TLS out, nothing else), the
# floor under lt-noaudit.
#
# --perf PREFIX: after the rounds, one unmeasured 32-in-flight run per gateway
# under `perf record --call-graph dwarf`, written to PREFIX.<target>.data
# (lienthong, c06-gw, and with --breakdown lt-noaudit and lt-nowait); read
# them with `perf report -i FILE` (add `--sort comm` for the cost per thread). PERF_ARGS
# replaces the sampling options (e.g. PERF_ARGS="-F 4999" for a flat profile).
#
# BUILD_DIR (default build) picks the build folder. Installs nginx, haproxy
# and nghttp2-client with apt-get when missing and run as root. Every process
# it starts is stopped on exit; --keep keeps the temporary folder (configs,
# logs, raw results).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-gateway.sh
. scripts/bench-gateway.sh
root=$PWD
build=${BUILD_DIR:-build}
rounds=3
duration=3
route5=1
breakdown=0
keep=0
perf_prefix=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --no-route5) route5=0; shift ;;
    --breakdown) breakdown=1; shift ;;
    --keep) keep=1; shift ;;
    --perf) perf_prefix=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

log() { echo "bench: $*" >&2; }

# --- Dependencies and build -------------------------------------------------
scripts/install-deps.sh >&2
optional=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || optional+=(nginx)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || optional+=(haproxy)
[ $route5 -eq 0 ] || command -v h2load >/dev/null || optional+=(nghttp2-client)
if [ ${#optional[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing ${optional[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${optional[@]}" >&2 || log "could not install ${optional[*]}"
  else
    log "missing ${optional[*]} (run as root to install them)"
  fi
fi
PATH=$PATH:/usr/sbin
command -v nginx >/dev/null || { log "nginx is required"; exit 1; }
command -v haproxy >/dev/null || { log "haproxy is required"; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build "$build" -j "$(nproc)" --target lienthong-bench-upstream \
  lienthong-bench-relay lienthong-loadgen lienthong-gateway lienthong-sim fdatasync_probe >&2
upstream_bin=$build/tests/bench/lienthong-bench-upstream
relay_bin=$build/tests/bench/lienthong-bench-relay
loadgen_bin=$build/tests/bench/lienthong-loadgen
gateway_bin=$build/gateway/server/lienthong-gateway
sim_bin=$build/tests/national_sim/lienthong-sim
probe_bin=$build/tests/bench/fdatasync_probe

certs=$root/$build/bench-certs
certs/make-dev-certs.sh "$certs" >/dev/null

# --- Processes --------------------------------------------------------------
tmp=$(mktemp -d /tmp/lienthong-bench.XXXXXX)
chmod 755 "$tmp"  # nginx workers run as an unprivileged user
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $keep -eq 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line FILE PATTERN PID: waits until FILE has a line matching PATTERN
# and prints it; fails when PID exits first or after 30 s.
wait_line() {
  local i
  for i in $(seq 1 300); do
    if grep -m1 -E "$2" "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then break; fi
    sleep 0.1
  done
  log "no '$2' in $1:"; tail -20 "$1" >&2; return 1
}
port_of() { grep -oE '[0-9]+$' <<<"$1"; }

# A port nobody listens on, for the servers that cannot bind port 0 and
# report it (nginx, HAProxy). Loopback only.
# Below the kernel's ephemeral range (32768 and up by default), so that no
# outgoing connection takes the port between this check and the bind.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Htan "sport = :$p")" ]; then echo "$p"; return; fi
  done
}
wait_listen() {  # PORT PID LOG
  local i
  for i in $(seq 1 300); do
    [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  log "nothing listens on $1:"; tail -20 "$3" >&2; return 1
}

"$upstream_bin" --listen 127.0.0.1:0 --cert "$certs/sim.pem" --key "$certs/sim.key" \
  > "$tmp/upstream.log" 2>&1 &
upstream_pid=$!; pids+=("$upstream_pid")
up_port=$(port_of "$(wait_line "$tmp/upstream.log" 'listening on port' $upstream_pid)")

# nginx: one request per upstream connection at a time (nginx does not
# multiplex upstream HTTP/2), so keep enough idle connections for 32 in flight.
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  upstream fake {
    server 127.0.0.1:$up_port;
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
  }
  server {
    listen 127.0.0.1:$nginx_port ssl http2;
    ssl_certificate $certs/gateway.pem;
    ssl_certificate_key $certs/gateway.key;
    ssl_client_certificate $certs/ca.pem;
    ssl_verify_client on;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    http2_max_concurrent_streams 1024;
    location / {
      grpc_pass grpcs://fake;
      grpc_ssl_trusted_certificate $certs/ca.pem;
      grpc_ssl_verify on;
      grpc_ssl_name localhost;
      grpc_ssl_session_reuse on;
      grpc_socket_keepalive on;
    }
  }
}
EOF
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" > "$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!; pids+=("$nginx_pid")
wait_listen "$nginx_port" $nginx_pid "$tmp/nginx/error.log"

# HAProxy: the certificate and key in one file, as it wants them.
haproxy_port=$(free_port)
cat "$certs/gateway.pem" "$certs/gateway.key" > "$tmp/haproxy-cert.pem"
cat > "$tmp/haproxy.cfg" <<EOF
global
  nbthread 2
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 600s
  http-reuse always
frontend fe
  bind 127.0.0.1:$haproxy_port ssl crt $tmp/haproxy-cert.pem ca-file $certs/ca.pem verify required alpn h2
  default_backend be
backend be
  server up 127.0.0.1:$up_port ssl verify required ca-file $certs/ca.pem alpn h2 proto h2
EOF
haproxy -db -f "$tmp/haproxy.cfg" > "$tmp/haproxy.log" 2>&1 &
haproxy_pid=$!; pids+=("$haproxy_pid")
wait_listen "$haproxy_port" $haproxy_pid "$tmp/haproxy.log"

# start_gateway NAME ADAPTERS_YAML [AUDIT_EXTRA_YAML]: starts a gateway; sets
# gw_pid and gw_port.
start_gateway() {
  local name=$1 adapters=$2 audit_extra=${3:-}
  mkdir -p "$tmp/$name"
  bench_gateway_yaml "$name" "$adapters" "$audit_extra" "$tmp/$name" "$certs" \
    > "$tmp/$name/gateway.yaml"
  chmod 600 "$tmp/$name/gateway.yaml"  # it holds the simulated systems' credentials inline
  "$gateway_bin" --config "$tmp/$name/gateway.yaml" > "$tmp/$name/gateway.log" 2>&1 &
  gw_pid=$!; pids+=("$gw_pid")
  gw_port=$(port_of "$(wait_line "$tmp/$name/gateway.log" 'listening on port' $gw_pid)")
}

route4_adapter=$(bench_route4 "$up_port" "$certs")
start_gateway lienthong "$route4_adapter"
lienthong_pid=$gw_pid; lienthong_port=$gw_port

targets=(direct nginx haproxy lienthong)
declare -A port=([direct]=$up_port [nginx]=$nginx_port [haproxy]=$haproxy_port
                 [lienthong]=$lienthong_port)
declare -A server_pid=([direct]=$upstream_pid [nginx]=$nginx_pid
                       [haproxy]=$haproxy_pid [lienthong]=$lienthong_pid)

if [ $breakdown -eq 1 ]; then
  "$upstream_bin" --listen 127.0.0.1:0 --cert "$certs/sim.pem" --key "$certs/sim.key" \
    --api cq > "$tmp/upstream-cq.log" 2>&1 &
  cq_pid=$!; pids+=("$cq_pid")
  targets+=(direct-cq)
  port[direct-cq]=$(port_of "$(wait_line "$tmp/upstream-cq.log" 'listening on port' $cq_pid)")
  server_pid[direct-cq]=$cq_pid
  "$relay_bin" --listen 127.0.0.1:0 --upstream "127.0.0.1:$up_port" \
    --cert "$certs/gateway.pem" --key "$certs/gateway.key" \
    --client-ca "$certs/ca.pem" --ca "$certs/ca.pem" > "$tmp/relay.log" 2>&1 &
  relay_pid=$!; pids+=("$relay_pid")
  targets+=(relay)
  port[relay]=$(port_of "$(wait_line "$tmp/relay.log" 'listening on port' $relay_pid)")
  server_pid[relay]=$relay_pid
  start_gateway lt-noaudit "$route4_adapter" "  disabled: true"
  targets+=(lt-noaudit); port[lt-noaudit]=$gw_port; server_pid[lt-noaudit]=$gw_pid
  start_gateway lt-nowait "$route4_adapter" "  wait_for_durable: false"
  targets+=(lt-nowait); port[lt-nowait]=$gw_port; server_pid[lt-nowait]=$gw_pid
fi

if [ $route5 -eq 1 ]; then
  "$sim_bin" --listen 127.0.0.1:0 --cert "$certs/sim.pem" --key "$certs/sim.key" \
    > "$tmp/sim.log" 2>&1 &
  sim_pid=$!; pids+=("$sim_pid")
  sim_port=$(port_of "$(wait_line "$tmp/sim.log" 'listening on' $sim_pid)")
  start_gateway c06-gw "adapters:
  - name: population
    type: c06-population-soap
    config:
      upstream:
        base_url: https://127.0.0.1:$sim_port
        ca_file: $certs/ca.pem
      path: /c06/soap
      xroad_client: VN/GOV/000.00.00.H31/LIENTHONG
      api_key: dev-population-key
      username: lienthong-dev
      secret: dev-population-secret
      auth_url: https://c06.sim.lienthong.local/xacthuc
      integration_code: \"037\"
      identity_service_code: \"033\""
  targets+=(c06-gw)
  port[c06-gw]=$gw_port; server_pid[c06-gw]=$gw_pid
  if command -v h2load >/dev/null; then
    targets+=(c06-soap)
    port[c06-soap]=$sim_port; server_pid[c06-soap]=$sim_pid
  else
    log "h2load not found: route 5 runs without the direct SOAP baseline"
  fi
fi

# --- Measuring --------------------------------------------------------------
clk_tck=$(getconf CLK_TCK)
# The process and its children (nginx's workers).
family() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }
cpu_ticks() {  # PID -> user+system ticks of the family
  local p t=0 n
  for p in $(family "$1"); do
    n=$(stat_ticks "/proc/$p/stat") || continue
    t=$((t + n))
  done
  echo $t
}
peak_rss_kib() {  # PID -> sum of VmHWM over the family
  local p t=0 v
  for p in $(family "$1"); do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo $t
}

# The SOAP request a c06 adapter sends, signed as the simulator expects
# (the signature's timestamp is good for 300 s, longer than one run).
soap_request() {
  local ts sig
  ts=$(date +%s%3N)  # milliseconds
  sig=$(printf '%s' "https://c06.sim.lienthong.local/xacthuclienthong-dev${ts}dev-population-secret" |
        openssl dgst -sha256 -hex | awk '{print $NF}')
  soap_headers=(-H "content-type: text/xml; charset=utf-8"
    -H 'soapaction: ""'
    -H "x-road-client: VN/GOV/000.00.00.H31/LIENTHONG"
    -H "apikey: dev-population-key" -H "timestamp: $ts"
    -H "authorization: Basic $(printf 'lienthong-dev:%s' "$sig" | base64 -w0)")
  cat > "$tmp/soap.xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:dan="http://dancuquocgia.bca"><soapenv:Header/><soapenv:Body><dan:TraCuuThongTinCongDan><dan:MaYeuCau>LT-bench-1</dan:MaYeuCau><dan:MaDVC>1.001193</dan:MaDVC><dan:MaTichHop>037</dan:MaTichHop><dan:MaCanBo>001085004321</dan:MaCanBo><dan:MaDonVi>000.00.31.H31</dan:MaDonVi><dan:TaiKhoan>bench</dan:TaiKhoan><dan:SoDinhDanh>033085012345</dan:SoDinhDanh></dan:TraCuuThongTinCongDan></soapenv:Body></soapenv:Envelope>
EOF
}

results=$tmp/results.tsv
: > "$results"
# Per-thread CPU of the gateways, to show where a call's CPU goes (event
# threads, audit writer, indexer, ...): target inflight name ticks calls.
threads=$tmp/threads.tsv
: > "$threads"

# thread_ticks PID: "tid name ticks" (user+system) for each thread of PID.
thread_ticks() {
  local t n
  for t in /proc/"$1"/task/*; do
    n=$(stat_ticks "$t/stat") || continue
    echo "${t##*/} $(tr ' ' _ < "$t/comm" 2>/dev/null) $n"
  done
}

# run_one TARGET INFLIGHT ROUND: one measured run, appended to $results as
# target inflight round calls/s p50 p99 p999 errors cpu_us_per_call.
run_one() {
  local target=$1 c=$2 r=$3 pid=${server_pid[$1]} out t0 t1 calls cps p50 p99 p999 errs
  # Enough calls to open connections and warm caches; the SOAP targets are
  # far slower per call, so fewer.
  local warmup=$((c == 1 ? 100 : 640))
  case "$target" in c06-*) warmup=$((c == 1 ? 20 : 200)) ;; esac
  if [ "$target" = c06-soap ]; then
    soap_request
    # h2load has no time-only mode with a warm-up count: warm up, then
    # measure a fixed duration. Latency is its mean, not a percentile.
    h2load --h1 -c "$c" -n $warmup -d "$tmp/soap.xml" "${soap_headers[@]}" \
      "https://127.0.0.1:$sim_port/c06/soap" > /dev/null 2>&1 || true
    t0=$(cpu_ticks "$pid")
    out=$(h2load --h1 -c "$c" -D "$duration" -d "$tmp/soap.xml" "${soap_headers[@]}" \
      "https://127.0.0.1:$sim_port/c06/soap" 2>&1 || true)
    t1=$(cpu_ticks "$pid")
    echo "$out" >> "$tmp/h2load.log"
    cps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<<"$out")
    # "requests: N total, N started, N done, N succeeded, N failed, ..."
    calls=$(awk '/^requests:/ {print $6}' <<<"$out")
    errs=$(awk '/^requests:/ {print $10 + $12}' <<<"$out")
    local non2xx
    non2xx=$(awk '/^status codes:/ {print $5 + $7 + $9}' <<<"$out")
    errs=$((errs + ${non2xx:-0}))
    p50=$(awk '/^time for request:/ {print $6}' <<<"$out")
    p50=$(to_us "$p50"); p99=-; p999=-
  else
    local gateway=0
    case "$target" in lienthong|lt-*|c06-gw) gateway=1 ;; esac
    [ $gateway -eq 0 ] || thread_ticks "$pid" > "$tmp/threads.before"
    t0=$(cpu_ticks "$pid")
    out=$("$loadgen_bin" --server "127.0.0.1:${port[$target]}" --ca "$certs/ca.pem" \
      --cert "$certs/dossier-system.pem" --key "$certs/dossier-system.key" \
      -c "$c" --duration "$duration" --warmup $warmup 2>&1 || true)
    t1=$(cpu_ticks "$pid")
    [ $gateway -eq 0 ] || thread_ticks "$pid" > "$tmp/threads.after"
    echo "$target c=$c r=$r $out" >> "$tmp/loadgen.log"
    kv() { grep -oE "(^| )$1=[^ ]+" <<<"$out" | head -1 | cut -d= -f2; }
    calls=$(kv calls); cps=$(kv calls_per_s); p50=$(kv p50_us); p99=$(kv p99_us)
    p999=$(kv p999_us)
    errs=$(( ${calls:-0} - $(kv ok || echo 0) ))
    if [ $gateway -eq 1 ]; then
      # Threads that ended during the run are missed; new ones count whole.
      awk -v t="$target" -v c="$c" -v n=$((${calls:-0} + warmup)) '
        NR == FNR { before[$1] = $3; next }
        { d = $3 - before[$1]; if (d > 0) print t "\t" c "\t" $2 "\t" d "\t0" }
        END { print t "\t" c "\t-\t0\t" n }' \
        "$tmp/threads.before" "$tmp/threads.after" >> "$threads"
    fi
  fi
  # Warm-up calls are counted in the CPU window too; include them.
  local cpu_us
  cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$clk_tck" -v n="${calls:-0}" -v w=$warmup \
    'BEGIN { if (n + w > 0) printf "%.1f", t * 1e6 / hz / (n + w); else print "-" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$c" "$r" "${cps:-0}" \
    "${p50:-0}" "${p99:-0}" "${p999:-0}" "${errs:-?}" "$cpu_us" >> "$results"
  log "round $r c=$c $target: ${cps:-0} calls/s p50 ${p50:-?} us errors ${errs:-?} server cpu ${cpu_us} us/call"
}
to_us() {  # h2load time like 1.23ms / 456us / 1.2s -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
                         else if (v ~ /s$/) print n * 1e6; else print "-" }'
}

log "targets: ${targets[*]}; $rounds rounds of ${duration}s at 1 and 32 in flight"
for r in $(seq 1 "$rounds"); do
  for c in 1 32; do
    for target in "${targets[@]}"; do run_one "$target" "$c" "$r"; done
  done
done

if [ -n "$perf_prefix" ] && command -v perf >/dev/null; then
  for target in lienthong lt-noaudit lt-nowait c06-gw; do
    [ -n "${port[$target]:-}" ] || continue
    # shellcheck disable=SC2086  # PERF_ARGS is a list of perf options
    perf record -q ${PERF_ARGS:--F 199 --call-graph dwarf,16384} -p "${server_pid[$target]}" -o "$perf_prefix.$target.data" \
      -- sleep "$duration" > /dev/null 2>&1 &
    perf_pid=$!
    "$loadgen_bin" --server "127.0.0.1:${port[$target]}" --ca "$certs/ca.pem" \
      --cert "$certs/dossier-system.pem" --key "$certs/dossier-system.key" \
      -c 32 --duration "$duration" > /dev/null 2>&1 || true
    wait "$perf_pid" || true
    log "profile of $target in $perf_prefix.$target.data"
  done
fi

# The disk's fdatasync latency, in the folder the gateways' audit journals
# are in, right after the rounds: what auditing at 1 in flight is held to
# (at most one fdatasync p50 + 300 us added to the p50).
fdatasync_line=$("$probe_bin" --dir "$tmp" --writes 300 | tail -1)
# For reference, not the target: the same with the disk idle before each
# write, as it is at 1 in flight.
paced_us=$("$probe_bin" --dir "$tmp" --writes 300 --gap-us 500 | tail -1 | awk '{print $3}')

# --- Report -----------------------------------------------------------------
declare -A rss
for target in "${targets[@]}"; do rss[$target]=$(peak_rss_kib "${server_pid[$target]}"); done
rss_list=""
for target in "${targets[@]}"; do rss_list+="$target=${rss[$target]} "; done

echo
echo "Lienthong benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $rounds rounds x ${duration}s, loopback"
echo "Medians over rounds, [min-max]. 'vs direct': throughput ratio at 32, added p50 at 1."
echo "server CPU: user+system of the target's own processes (direct: the upstream;"
echo "proxies: the proxy only, not the upstream behind it) per call, from /proc."
fdatasync_us=$(echo "$fdatasync_line" | awk '{print $3}')
awk -F'\t' -v rss="$rss_list" -v fsync_us="$fdatasync_us" '
function median(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  if (n == 0) return "-"
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
function hi(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
function span(list) { return sprintf("%.0f [%.0f-%.0f]", median(list), lo(list), hi(list)) }
{
  k = $1 SUBSEP $2
  if (!(k in seen)) { seen[k] = 1; order[++n] = k }
  if (!($1 in tseen)) { tseen[$1] = 1; torder[++nt] = $1 }
  cps[k] = cps[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
  errs[k] += $8; cpu[k] = cpu[k] " " $9
}
END {
  split(rss, rl, " "); for (i in rl) { split(rl[i], kv, "="); mem[kv[1]] = kv[2] }
  for (c = 1; c <= 32; c += 31) {
    printf "\n%d in flight\n", c
    printf "%-10s %-22s %-22s %-22s %-9s %-18s %s\n", "target", "calls/s", "p50 us", "p99 us", "errors", "server CPU us/call", "vs direct"
    dk = "direct" SUBSEP c
    for (i = 1; i <= nt; i++) {
      t = torder[i]; k = t SUBSEP c
      if (!(k in seen)) continue
      vs = ""
      if (t == "direct" || t == "c06-soap") vs = "-"
      else if (t == "c06-gw" && (("c06-soap" SUBSEP c) in seen)) {
        sk = "c06-soap" SUBSEP c
        vs = (c == 1) ? sprintf("%+.0f us p50 vs c06-soap mean", median(p50[k]) - median(p50[sk])) \
                      : sprintf("%.2fx c06-soap", median(cps[k]) / median(cps[sk]))
      } else if (dk in seen && t != "c06-gw") {
        vs = (c == 1) ? sprintf("%+.0f us p50", median(p50[k]) - median(p50[dk])) \
                      : sprintf("%.2fx", median(cps[k]) / median(cps[dk]))
      }
      p99s = (t == "c06-soap") ? "-" : span(p99[k])
      printf "%-10s %-22s %-22s %-22s %-9d %-18s %s\n", t, span(cps[k]), span(p50[k]) (t == "c06-soap" ? "*" : ""), p99s, errs[k], sprintf("%.1f [%.1f-%.1f]", median(cpu[k]), lo(cpu[k]), hi(cpu[k])), vs
    }
  }
  printf "\npeak RSS (VmHWM, MiB):"
  for (i = 1; i <= nt; i++) printf " %s %.1f", torder[i], mem[torder[i]] / 1024
  printf "\n"
  # The audit targets of issue 13, when lt-noaudit ran.
  a1 = "lienthong" SUBSEP 1; n1 = "lt-noaudit" SUBSEP 1
  a32 = "lienthong" SUBSEP 32; n32 = "lt-noaudit" SUBSEP 32
  if ((a1 in seen) && (n1 in seen)) {
    added = median(p50[a1]) - median(p50[n1])
    printf "auditing at 1 in flight adds %.0f us to the p50 (target: fdatasync p50 + 300 = %.0f us): %s\n", \
      added, fsync_us + 300, (added <= fsync_us + 300) ? "met" : "NOT met"
  }
  if ((a32 in seen) && (n32 in seen)) {
    ratio = median(cpu[a32]) / median(cpu[n32])
    printf "audited CPU per call at 32 in flight: %.2fx lt-noaudit (target: at most 1.25x): %s\n", \
      ratio, (ratio <= 1.25) ? "met" : "NOT met"
  }
  # The targets of issue 12, and the relay floor when it ran.
  d32 = "direct" SUBSEP 32; r32 = "relay" SUBSEP 32
  if ((n32 in seen) && (d32 in seen)) {
    ratio = median(cpu[n32]) / median(cpu[d32])
    printf "lt-noaudit CPU per call at 32 in flight: %.2fx direct (target: at most 2.2x): %s\n", \
      ratio, (ratio <= 2.2) ? "met" : "NOT met"
  }
  if ((r32 in seen) && (d32 in seen) && (n32 in seen))
    printf "bare relay CPU per call at 32 in flight: %.2fx direct; lt-noaudit %.2fx the relay (+%.1f us)\n", \
      median(cpu[r32]) / median(cpu[d32]), median(cpu[n32]) / median(cpu[r32]), median(cpu[n32]) - median(cpu[r32])
  g32 = "c06-gw" SUBSEP 32
  if ((g32 in seen) && (a32 in seen)) {
    ratio = median(cpu[g32]) / median(cpu[a32])
    printf "c06-gw CPU per call at 32 in flight: %.2fx the audited route (target: at most 1.15x): %s\n", \
      ratio, (ratio <= 1.15) ? "met" : "NOT met"
  }
  x32 = "nginx" SUBSEP 32
  if ((x32 in seen) && (a32 in seen)) {
    ratio = median(cps[a32]) / median(cps[x32])
    printf "audited calls/s at 32 in flight: %.2fx nginx'"'"'s (target: at least 1x): %s\n", \
      ratio, (ratio >= 1) ? "met" : "NOT met"
  }
  if (("c06-soap" SUBSEP 1) in seen) printf "* c06-soap latency is h2load'"'"'s mean, not a median.\n"
}' "$results"
echo "$fdatasync_line"
echo "(with 500 us between writes, as at 1 in flight: fdatasync p50 $paced_us us)"
if [ -s "$threads" ]; then
  echo
  echo "gateway CPU by thread, us/call (all rounds; threads of one name summed):"
  awk -F'\t' -v hz="$clk_tck" '
    { k = $1 " c=" $2; if (!(k in calls)) order[++n] = k; calls[k] += $5
      if ($3 != "-") { if (!((k, $3) in ticks)) names[k] = names[k] " " $3; ticks[k, $3] += $4 } }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; m = split(names[k], a, " "); line = ""
        # Largest first.
        for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++)
          if (ticks[k, a[y]] > ticks[k, a[x]]) { tmp = a[x]; a[x] = a[y]; a[y] = tmp }
        for (x = 1; x <= m; x++)
          line = line sprintf("%s%s %.1f", x > 1 ? ", " : "", a[x], ticks[k, a[x]] * 1e6 / hz / calls[k])
        printf "%-16s %s\n", k, line
      }
    }' "$threads"
fi
echo "lienthong gateway threads at the end: $(awk '/^Threads/ {print $2}' /proc/$lienthong_pid/status)"
