#!/usr/bin/env bash
# Makes development certificates for Lienthong: a CA, the gateway's and the
# simulator's server certificates, client certificates for sample provincial
# systems, and a second, unrelated CA with a client certificate that must be
# refused. For development and tests only; never for production.
#
#   certs/make-dev-certs.sh [--force] OUTDIR
#
# Does nothing when OUTDIR/ca.pem exists, unless --force. Prints one line per
# file made. Keys are ECDSA P-256, readable only by their owner; leaf
# certificates are valid for 825 days, the CAs for 10 years. See README.md.
set -euo pipefail

usage() {
  echo "usage: make-dev-certs.sh [--force] OUTDIR" >&2
  exit 2
}

force=0
out=
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) usage ;;
    -*) echo "make-dev-certs: unknown option '$arg'" >&2; usage ;;
    *) [ -z "$out" ] || usage; out=$arg ;;
  esac
done
[ -n "$out" ] || usage
command -v openssl >/dev/null || { echo "make-dev-certs: openssl not found" >&2; exit 1; }

if [ -f "$out/ca.pem" ] && [ $force -eq 0 ]; then
  echo "make-dev-certs: $out/ca.pem exists; keeping the certificates (--force to remake)"
  exit 0
fi

mkdir -p "$out"
# Everything is made in a staging folder beside the results and moved in at
# the end, ca.pem last: an interrupted run leaves no ca.pem, so the next run
# starts over instead of keeping half a set.
stage=$(mktemp -d "$out/.make-dev-certs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
umask 077

readonly LEAF_DAYS=825
readonly CA_DAYS=3650
readonly ORG="Lienthong development (not for production)"
readonly SPIFFE=spiffe://lienthong.local

# A config of our own, so the system's openssl.cnf adds nothing.
cat > "$stage/req.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

newkey() {  # file
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null
}

serial() { echo "0x$(openssl rand -hex 16)"; }

make_ca() {  # name cn
  local name=$1 cn=$2
  newkey "$stage/$name.key"
  openssl req -config "$stage/req.cnf" -x509 -new -key "$stage/$name.key" \
    -sha256 -days $CA_DAYS -set_serial "$(serial)" \
    -subj "/O=$ORG/CN=$cn" -extensions ca_ext -out "$stage/$name.pem"
}

make_leaf() {  # ca name cn usage san
  local ca=$1 name=$2 cn=$3 usage=$4 san=$5
  newkey "$stage/$name.key"
  openssl req -config "$stage/req.cnf" -new -key "$stage/$name.key" \
    -subj "/O=$ORG/CN=$cn" -out "$stage/$name.csr"
  cat > "$stage/$name.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $usage
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EXT
  openssl x509 -req -in "$stage/$name.csr" -CA "$stage/$ca.pem" \
    -CAkey "$stage/$ca.key" -set_serial "$(serial)" -days $LEAF_DAYS -sha256 \
    -extfile "$stage/$name.ext" -out "$stage/$name.pem" 2>/dev/null
  rm -f "$stage/$name.csr" "$stage/$name.ext"
}

# The development CA and everything it signs.
make_ca ca "Lienthong development CA"
make_leaf ca gateway lienthong-gateway serverAuth "DNS:localhost, IP:127.0.0.1"
make_leaf ca sim lienthong-sim serverAuth "DNS:localhost, IP:127.0.0.1"
clients=(dossier-system citizen-portal no-rights auditor)
for client in "${clients[@]}"; do
  make_leaf ca "$client" "$client" clientAuth "URI:$SPIFFE/$client"
done

# An unrelated CA, and a client certificate from it that claims to be
# dossier-system: the gateway must refuse it during the handshake.
make_ca rogue-ca "Unrelated rogue CA"
make_leaf rogue-ca rogue-client dossier-system clientAuth \
  "URI:$SPIFFE/dossier-system"

# Check what was made before handing it out.
for leaf in gateway sim "${clients[@]}"; do
  openssl verify -CAfile "$stage/ca.pem" "$stage/$leaf.pem" >/dev/null
done
openssl verify -CAfile "$stage/rogue-ca.pem" "$stage/rogue-client.pem" >/dev/null
if openssl verify -CAfile "$stage/ca.pem" "$stage/rogue-client.pem" >/dev/null 2>&1; then
  echo "make-dev-certs: rogue-client.pem verifies against ca.pem" >&2
  exit 1
fi

chmod 600 "$stage"/*.key
chmod 644 "$stage"/*.pem
files=(ca.key)
for name in gateway sim "${clients[@]}" rogue-ca rogue-client; do
  files+=("$name.key" "$name.pem")
done
files+=(ca.pem)  # last: its presence means the set is complete
rm -f "$out/ca.pem"
for file in "${files[@]}"; do
  mv -f "$stage/$file" "$out/$file"
  echo "made $out/$file"
done
