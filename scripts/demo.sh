#!/usr/bin/env bash
# The Quick start demo: installs what is missing, builds, makes development
# certificates, starts the simulated national systems and the gateway with
# deploy/examples/gateway.yaml, and makes real calls with the `lienthong` CLI
# as the sample provincial systems would.
#
#   scripts/demo.sh          run the demo, then stop both servers
#   scripts/demo.sh --keep   leave the simulator and gateway running
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep" ] && keep=1

scripts/install-deps.sh
scripts/build.sh
build=${BUILD_DIR:-build}
certs/make-dev-certs.sh certs/out

mkdir -p var
# Each demo starts from empty audit and outbox stores, so that its story (a
# first status push, the first records of the audit log) reads the same on
# every run; the audit keys are kept.
# The journal and its anchors go together: an anchor file without its
# journal makes the gateway start not ready (a cut journal).
rm -rf var/audit.db var/audit.db-wal var/audit.db-shm var/audit-journal \
  var/audit-anchors.jsonl var/audit-tampered \
  var/outbox.db var/outbox.db-wal var/outbox.db-shm
# The simulated national procedure database holds the sample catalogue's
# national codes (and made-up others).
"$build/tests/national_sim/lienthong-sim" --listen 127.0.0.1:9443 \
  --cert certs/out/sim.pem --key certs/out/sim.key \
  --portal-catalogue deploy/examples/catalogue.json > var/sim.out 2> var/sim.log &
sim_pid=$!
"$build/gateway/server/lienthong-gateway" --config deploy/examples/gateway.yaml \
  > var/gateway.out 2> var/gateway.log &
gateway_pid=$!
cleanup() {
  if [ $keep -eq 0 ]; then
    kill "$gateway_pid" "$sim_pid" 2>/dev/null || true
    wait "$gateway_pid" "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# Readiness: each server prints one line when it listens.
for i in $(seq 1 100); do
  if grep -q "listening" var/sim.out && grep -q "listening" var/gateway.out; then break; fi
  if ! kill -0 "$gateway_pid" 2>/dev/null || ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "demo: a server failed to start:"; cat var/sim.log var/gateway.log; exit 1
  fi
  sleep 0.1
done
if ! grep -q "listening" var/sim.out || ! grep -q "listening" var/gateway.out; then
  echo "demo: the servers were not listening after 10 s:"
  cat var/sim.log var/gateway.log
  exit 1
fi

cli="$build/gateway/cli/lienthong"
# Lookups and identity checks are made on behalf of a named officer
# (synthetic: ID 001085004321, unit 000.00.31.H31, account nguyenvana).
export LIENTHONG_OFFICER_ID=001085004321 LIENTHONG_OFFICER_UNIT=000.00.31.H31 \
  LIENTHONG_OFFICER_ACCOUNT=nguyenvana
as() {  # as CLIENT lienthong-args...
  local client=$1; shift
  LIENTHONG_SERVER=127.0.0.1:8443 LIENTHONG_CA=certs/out/ca.pem \
    LIENTHONG_CERT="certs/out/$client.pem" LIENTHONG_KEY="certs/out/$client.key" \
    "$cli" "$@"
}
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }
show() {  # show DESCRIPTION CLIENT args... (prints, never stops the demo)
  local what=$1 client=$2; shift 2
  step "$what" "lienthong $* (as $client)"
  as "$client" "$@" || true
}

id=033085012345        # synthetic: born in Hưng Yên (033), male, 1985
missing=033085012021   # the simulator has no citizen with this number

show "Population lookup for a birth-registration dossier" dossier-system \
  lookup --id $id --purpose 1.001193 --dossier 000.00.01.H31-251127-00042
# The record's name and birth date for the identity checks below; a failed
# lookup (shown above) leaves them empty, and those checks show that.
name=$( (as dossier-system lookup --id $id --purpose 1.001193 \
  --dossier 000.00.01.H31-251127-00042 --fields name --json 2>/dev/null || true) |
  sed -n 's/.*"full": *"\([^"]*\)".*/\1/p' | head -1)
dob=$( (as dossier-system lookup --id $id --purpose 1.001193 \
  --dossier 000.00.01.H31-251127-00042 --fields birth_date --json 2>/dev/null || true) |
  tr -d ' \n' | sed -n 's/.*"year":\([0-9]*\),"month":\([0-9]*\),"day":\([0-9]*\).*/\1-\2-\3/p')
dob=$(echo "$dob" | awk -F- '{ printf "%04d-%02d-%02d", $1, $2, $3 }')
show "Identity check (population database) with the recorded name: MATCH" citizen-portal \
  verify --id $id --name "$name" --dob "$dob"
show "Identity check with another name: NO_MATCH, never which field differs" citizen-portal \
  verify --id $id --name "Trần Thị Bình" --dob 1985
show "Identity check of an ID the national system does not know: the same NO_MATCH" citizen-portal \
  verify --id $missing --name "Lê Văn Tám"
step "A lookup without a named officer is refused before any upstream call" \
  "lienthong lookup --id $id ... (no officer)"
env -u LIENTHONG_OFFICER_ID -u LIENTHONG_OFFICER_UNIT -u LIENTHONG_OFFICER_ACCOUNT \
  LIENTHONG_SERVER=127.0.0.1:8443 LIENTHONG_CA=certs/out/ca.pem \
  LIENTHONG_CERT=certs/out/dossier-system.pem LIENTHONG_KEY=certs/out/dossier-system.key \
  "$cli" lookup --id $id --purpose 1.001193 --dossier 000.00.01.H31-251127-00042 || true

# VNeID sign-in: the citizen portal sent the citizen to VNeID (here the
# simulated realm signs in the ID given as login_hint, without a browser)
# and got an authorisation code back on its redirect URI.
redirect=https://1022.hungyen.gov.vn/auth/vneid
vneid_code() {  # vneid_code NONCE: the code VNeID appends to the redirect URI
  curl -s --cacert certs/out/ca.pem -o /dev/null -w '%{redirect_url}' \
    "https://127.0.0.1:9443/vneid/realms/citizen/protocol/openid-connect/auth?client_id=lienthong-dev&redirect_uri=https%3A%2F%2F1022.hungyen.gov.vn%2Fauth%2Fvneid&response_type=code&scope=openid%20profile&state=demo&nonce=$1&login_hint=$id&acr_values=2" |
    sed -n 's/.*[?&]code=\([^&]*\).*/\1/p'
}
nonce=demo-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
code=$(vneid_code "$nonce")
show "Citizen portal: who signed in with VNeID? (code exchanged, ID token verified)" citizen-portal \
  vneid signin --code "$code" --redirect-uri $redirect --nonce "$nonce"
show "The same code again: VNeID honours a code once" citizen-portal \
  vneid signin --code "$code" --redirect-uri $redirect --nonce "$nonce"
show "A redirect URI the gateway does not allow for this portal" citizen-portal \
  vneid signin --code "$code" --redirect-uri https://evil.example/cb --nonce "$nonce"
show "A lookup asking for more than the grant (refused, naming the fields)" dossier-system \
  lookup --id $id --purpose 2.000001 --dossier 000.00.01.H31-251127-00043 \
  --fields name,father
show "A malformed ID never reaches the national system" dossier-system \
  lookup --id 033485012345 --purpose 1.001193 --dossier 000.00.01.H31-251127-00044
show "A system with no rights is denied" no-rights \
  lookup --id $id --purpose 1.001193 --dossier 000.00.01.H31-251127-00045
show "A certificate from another CA fails the TLS handshake itself" rogue-client \
  lookup --id $id --purpose 1.001193 --dossier 000.00.01.H31-251127-00046 --timeout 3

show "Operator: read the national procedure database (LayDanhSachTTHC, LayThuTuc)" dossier-system \
  catalogue pull
show "Operator: publish the province's 415 online services to the national portal" dossier-system \
  sync procedures --file deploy/examples/catalogue.json --wait 120
dossier=000.00.01.H31-251127-00042
show "A new dossier: registered at the portal (DongBoHoSoMC) before its first progress" dossier-system \
  sync push --dossier $dossier --procedure 1.001193.000.00.00.H31 --status 1 \
  --procedure-name "Đăng ký khai sinh" --field-code LV01 --field-name "Hộ tịch" \
  --applicant-name "Bùi Văn An" --applicant-id $id --phone 0912345678 \
  --email an.bui@example.vn --summary "Đăng ký khai sinh cho con" \
  --received "2026-11-27T08:30:00+07:00" --due "2026-12-02T17:00:00+07:00" \
  --handling-unit "UBND xã Tân Hưng" --handler "Nguyễn Thị Hoa" \
  --title "Công chức tư pháp - hộ tịch" --department "Bộ phận một cửa" --note "Tiếp nhận hồ sơ"
show "Its progress (CapNhatTienDoHoSoMC): accepted, then processing" dossier-system \
  sync push --dossier $dossier --procedure 1.001193.000.00.00.H31 --status 2 \
  --handler "Nguyễn Thị Hoa" --note "Hồ sơ hợp lệ"
as dossier-system sync push --dossier $dossier --procedure 1.001193.000.00.00.H31 --status 4 \
  --handler "Nguyễn Thị Hoa" --note "Đang xử lý" > /dev/null || true
show "A first update without the dossier's registration is refused, naming what is missing" dossier-system \
  sync push --dossier 000.00.01.H31-251127-00099 --procedure 1.001193.000.00.00.H31 --status 1
show "A procedure code the national database does not hold is refused" dossier-system \
  sync push --dossier $dossier --procedure 1.999999.000.00.00.H31 --status 4
step "What the simulated portal applied for the dossier, in order" \
  "curl -s https://127.0.0.1:9443/_sim/portal/applied"
for i in $(seq 1 50); do  # delivery is asynchronous: wait for the three
  applied=$(curl -s --cacert certs/out/ca.pem https://127.0.0.1:9443/_sim/portal/applied |
    tr '{' '\n' | grep -- "$dossier" || true)
  [ "$(printf '%s\n' "$applied" | grep -c .)" -ge 3 ] && break
  sleep 0.2
done
printf '%s\n' "$applied" | sed -n 's/.*"kind":"\([a-z_]*\)".*/\1/p'

show "Security team: who looked up this citizen? (the server hashes the ID to search)" auditor \
  audit query --citizen $id --limit 5
show "Security team: is the audit chain intact and signed?" auditor audit verify
show "Security team: the searches themselves are in the audit log" auditor \
  audit query --method lienthong.v1.AuditService/QueryAudit --limit 3
step "Security team, offline: the journal's checkpoints against the anchors shipped off the host" \
  "lienthong audit verify --journal var/audit-journal --public-key var/audit-signing.pem --anchors var/audit-anchors.jsonl"
"$cli" audit verify --journal var/audit-journal --public-key var/audit-signing.pem \
  --anchors var/audit-anchors.jsonl || true
step "... and one changed byte in a copy of the journal is caught" \
  "lienthong audit verify --journal var/audit-tampered ..."
cp -r var/audit-journal var/audit-tampered
seg=$(ls var/audit-tampered/*.seg | head -1)
printf 'X' | dd of="$seg" bs=1 seek=200 conv=notrunc status=none
"$cli" audit verify --journal var/audit-tampered --public-key var/audit-signing.pem || true
step "Operators: Prometheus metrics on the loopback admin endpoint" \
  "curl -s http://127.0.0.1:9464/metrics | grep lienthong_calls_total"
curl -s http://127.0.0.1:9464/metrics | grep '^lienthong_calls_total' | head -6 || true
step "Operators: readiness" "curl -s http://127.0.0.1:9464/readyz"
curl -s http://127.0.0.1:9464/readyz; echo

printf '\nThe gateway logged one line per call (caller, method, masked ID, code, latency):\n'
grep '"msg":"access"' var/gateway.log | tail -3
if [ $keep -eq 1 ]; then
  echo; echo "Simulator (pid $sim_pid) on https://127.0.0.1:9443, gateway (pid $gateway_pid) on 127.0.0.1:8443."
  echo "Logs: var/sim.log var/gateway.log. Stop with: kill $gateway_pid $sim_pid"
fi
