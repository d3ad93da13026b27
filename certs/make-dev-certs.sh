#!/usr/bin/env bash
# Makes development certificates for Lienthong: a CA, the gateway's and the
# simulator's server certificates, client certificates for sample provincial
# systems, and a second, unrelated CA with a client certificate that must be
# refused. For development and tests only; never for production.
#
#   certs/make-dev-certs.sh [--force] OUTDIR
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
out=${1:?usage: make-dev-certs.sh [--force] OUTDIR}
if [ -f "$out/ca.pem" ] && [ $force -eq 0 ]; then
  echo "make-dev-certs: $out/ca.pem exists; keeping the certificates (--force to remake)"
  exit 0
fi
mkdir -p "$out"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() {  # name cn
  newkey "$out/$1.key"
  openssl req -x509 -new -key "$out/$1.key" -sha256 -days 3650 \
    -subj "/O=Lienthong development/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/$1.pem"
  echo "made $out/$1.pem"
}

make_leaf() {  # ca name cn usage san
  local ca=$1 name=$2 cn=$3 usage=$4 san=$5
  newkey "$out/$name.key"
  openssl req -new -key "$out/$name.key" -subj "/O=Lienthong development/CN=$cn" \
    -out "$tmp/$name.csr"
  cat > "$tmp/$name.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$usage
subjectAltName=$san
EXT
  openssl x509 -req -in "$tmp/$name.csr" -CA "$out/$ca.pem" -CAkey "$out/$ca.key" \
    -CAcreateserial -CAserial "$tmp/$ca.srl" -days 825 -sha256 \
    -extfile "$tmp/$name.ext" -out "$out/$name.pem" 2>/dev/null
  echo "made $out/$name.pem"
}

make_ca ca "Lienthong development CA"
make_leaf ca gateway lienthong-gateway serverAuth "DNS:localhost,IP:127.0.0.1"
make_leaf ca sim lienthong-sim serverAuth "DNS:localhost,IP:127.0.0.1"
for client in dossier-system citizen-portal no-rights auditor; do
  make_leaf ca "$client" "$client" clientAuth "URI:spiffe://lienthong.local/$client"
done
make_ca rogue-ca "Unrelated CA"
make_leaf rogue-ca rogue-client dossier-system clientAuth \
  "URI:spiffe://lienthong.local/dossier-system"
chmod 600 "$out"/*.key
chmod 644 "$out"/*.pem
