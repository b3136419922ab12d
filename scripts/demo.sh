#!/usr/bin/env bash
# demo.sh -- on a fresh machine: install what is missing, build the picoacme
# command, start a local internal CA (Pebble, loopback only, its own ECDSA
# P-256 TLS root), enrol demo.internal over http-01, show the certificate and
# the stored state, stop the CA.
#
#   scripts/demo.sh            (build dir: build/, work files in a temp dir)
set -eu

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/${PICOACME_BUILD_DIR:-build}
. "$REPO/scripts/deps.sh"
. "$REPO/tests/e2e/pebble_env.sh"

say() { printf '\n### %s\n' "$*"; }

say "dependencies"
picoacme_deps

say "wolfSSL source (scripts/fw-deps.sh)"
WOLFSSL_SRC=$(sh "$REPO/scripts/fw-deps.sh" | sed -n 's/^WOLFSSL_SRC=//p' | tail -n 1)
echo "WOLFSSL_SRC=$WOLFSSL_SRC"

say "build ($BUILD)"
cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPICOACME_WOLFSSL_SRC="$WOLFSSL_SRC" >/dev/null
cmake --build "$BUILD" --target picoacme
PICOACME=$BUILD/platform/linux/picoacme

WORK=$(mktemp -d /tmp/picoacme-demo.XXXXXX)
trap 'pebble_stop' EXIT

say "starting the internal CA (Pebble) on 127.0.0.1"
pebble_start "$WORK/ca"
echo "directory:         $PEBBLE_DIR_URL"
echo "CA TLS root:       $PEBBLE_TLS_ROOT"
echo "issuing root:      $PEBBLE_ISSUER_ROOT"
echo "http-01 port:      $PEBBLE_HTTP01_PORT (every name resolves to 127.0.0.1)"

say "picoacme issue --domain demo.internal"
mkdir -p "$WORK/out"
set -x
"$PICOACME" issue --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" \
    --state "$WORK/state" --domain demo.internal \
    --http01-port "$PEBBLE_HTTP01_PORT" --out "$WORK/out" --email admin@demo.internal
{ set +x; } 2>/dev/null
ls -l "$WORK/out"

say "the certificate (leaf)"
openssl x509 -in "$WORK/out/cert.pem" -noout -text

say "chain check: openssl verify against Pebble's issuing root"
awk -v leaf="$WORK/leaf.pem" -v rest="$WORK/chain.pem" '
    /-----BEGIN CERTIFICATE-----/ { n++ } n == 1 { print > leaf } n > 1 { print > rest }' \
    "$WORK/out/cert.pem"
openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$WORK/chain.pem" "$WORK/leaf.pem"

say "picoacme status"
"$PICOACME" status --state "$WORK/state"

say "stopping the CA"
pebble_stop
echo "work files kept in $WORK"
