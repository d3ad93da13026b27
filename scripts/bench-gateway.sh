# shellcheck shell=bash
# Sourced by scripts/bench.sh and scripts/bench-ab.sh: the benchmark
# gateway's config and how CPU time is read, so that both measure the same
# route the same way.

# bench_route4 UPSTREAM_PORT CERTS: the adapters block of route 4, a
# grpc-upstream adapter to the fake upstream.
bench_route4() {
  cat <<EOF
adapters:
  - name: population
    type: grpc-upstream
    config:
      target: 127.0.0.1:$1
      ca_file: $2/ca.pem
EOF
}

# bench_gateway_yaml NAME ADAPTERS_YAML AUDIT_EXTRA_YAML FOLDER CERTS: the
# config of a benchmark gateway serving LookupCitizen through ADAPTERS_YAML,
# its audit store in FOLDER.
bench_gateway_yaml() {
  cat <<EOF
node_name: bench-$1
listener:
  address: 127.0.0.1:0
  tls:
    cert_file: $5/gateway.pem
    key_file: $5/gateway.key
    client_ca_file: $5/ca.pem
$2
routes:
  - method: lienthong.v1.PopulationService/LookupCitizen
    adapter: population
    timeout_ms: 30000
clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    # One load generator is one client at full speed: the default per-client
    # limit (1000/s, burst 10000) would refuse most of its calls.
    rate_limit: {requests_per_second: 1000000, burst: 1000000}
    grants:
      - purposes: ["*"]
        fields: [name, birth_date]
admin:
  address: 127.0.0.1:0
audit:
  store_file: $4/audit.db
$3
logging:
  level: info
EOF
}

# stat_ticks /proc/.../stat FILE: its user+system ticks.
stat_ticks() {
  local f
  f=$(sed 's/.*) //' "$1" 2>/dev/null) || return 1
  # shellcheck disable=SC2086  # the fields, split at spaces
  set -- $f
  echo $((${12} + ${13}))  # fields 14 and 15 of stat, after pid and comm
}
