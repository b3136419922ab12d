#!/usr/bin/env bash
# demo.sh -- on a fresh machine: install what is missing, build the picoacme
# command, start a local internal CA (Pebble, loopback only, its own ECDSA
# P-256 TLS root), enrol demo.internal over http-01, show the certificate and
# the stored state, stop the CA. Then the main job: the emulated device
# (qemu-mps2 firmware: Cortex-M3, lwIP, wolfSSL, no heap) enrols with a
# fresh internal CA that issues 60-second certificates, prints its
# certificate, renews it by itself at ~2/3 of the lifetime (~40 s) and
# stops (about 1 minute).
#
#   scripts/demo.sh            (build dirs: build/ and build-fw-demo/,
#                               work files in a temp dir)
set -eu

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/${PICOACME_BUILD_DIR:-build}
. "$REPO/scripts/deps.sh"
. "$REPO/tests/e2e/pebble_env.sh"

say() { printf '\n### %s\n' "$*"; }

say "dependencies"
picoacme_deps

say "wolfSSL and lwIP sources, cross compiler, QEMU (scripts/fw-deps.sh)"
FW_DEPS=$(sh "$REPO/scripts/fw-deps.sh")
WOLFSSL_SRC=$(printf '%s\n' "$FW_DEPS" | sed -n 's/^WOLFSSL_SRC=//p' | tail -n 1)
LWIP_SRC=$(printf '%s\n' "$FW_DEPS" | sed -n 's/^LWIP_SRC=//p' | tail -n 1)
echo "WOLFSSL_SRC=$WOLFSSL_SRC"
echo "LWIP_SRC=$LWIP_SRC"

say "build ($BUILD)"
cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPICOACME_WOLFSSL_SRC="$WOLFSSL_SRC" >/dev/null
cmake --build "$BUILD" --target picoacme
PICOACME=$BUILD/platform/linux/picoacme

WORK=$(mktemp -d /tmp/picoacme-demo.XXXXXX)
trap 'pebble_stop || true' EXIT

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
pebble_stop || true  # (its `wait` reports the killed CA's status)

# ---- the main job: an emulated device enrols and renews ----------------
FW_BUILD=$REPO/build-fw-demo
DEV=$WORK/device
mkdir -p "$DEV"

say "device: a fresh internal CA issuing 60-second certificates"
PEBBLE_WFE_NAMES=acme.internal PEBBLE_CERT_VALIDITY=60 PEBBLE_WFE_NONCEREJECT=0 \
    pebble_start "$WORK/ca-device"
echo "directory (as the device sees it): https://acme.internal:$PEBBLE_WFE_PORT/dir"
echo "acme.internal is 10.0.2.100 in the device's name table; QEMU forwards"
echo "that address to 127.0.0.1:$PEBBLE_WFE_PORT, and Pebble's http-01 port"
echo "$PEBBLE_HTTP01_PORT to the device's :80. Nothing else leaves the emulator."

say "device: build the qemu-mps2 firmware ($FW_BUILD)"
cmake -S "$REPO/platform/qemu-mps2" -B "$FW_BUILD" -G Ninja \
    -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${LWIP_SRC%/}" -DFW_APP=acme \
    -DFW_CA_ROOT_DER="$PEBBLE_TLS_ROOT" \
    -DFW_DIRECTORY_URL="https://acme.internal:$PEBBLE_WFE_PORT/dir" \
    -DFW_CA_HOST=acme.internal -DFW_DEVICE_NAME=device.internal \
    -DFW_WALL_CLOCK_BASE="$(date +%s)" >"$DEV/cmake.log"
cmake --build "$FW_BUILD" >"$DEV/build.log" || { tail -n 30 "$DEV/build.log"; exit 1; }
grep -A2 'Memory region' "$DEV/build.log"
grep 'no malloc' "$DEV/build.log" | sed 's/^-- //'

say "device: power on (QEMU mps2-an385; console below, certificate bodies left out)"
echo "It enrols device.internal over http-01, keeps serving the network until"
echo "2/3 of the 60 s lifetime, renews with a new key, then powers off (~45 s)."
# renewals=1: enrol, wait for the renewal time, renew once, power off
set +e
( cd "$DEV" && exec timeout 120 qemu-system-arm -M mps2-an385 -nographic -monitor none \
    -kernel "$FW_BUILD/fw.elf" \
    -semihosting-config enable=on,target=native,arg=fw.elf,arg=renewals=1 \
    -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$PEBBLE_WFE_PORT-cmd:socat - TCP:127.0.0.1:$PEBBLE_WFE_PORT,hostfwd=tcp:127.0.0.1:$PEBBLE_HTTP01_PORT-:80" \
    </dev/null ) 2>&1 | tr -d '\r' | tee "$DEV/console.log" \
    | grep --line-buffered -v -e '^[A-Za-z0-9+/=]\{40,\}$' -e '^-----' -e 'chain [0-9] \(begin\|end\)$' \
    | sed -u 's/^/  device | /'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "the device exited with status $rc"; exit 1; }

# the PEM chains the device printed between "fw: issued chain N begin/end"
for n in 0 1; do
    sed -n "/^fw: issued chain $n begin\$/,/^fw: issued chain $n end\$/p" "$DEV/console.log" \
        | grep -v '^fw: ' >"$DEV/chain$n.pem"
    awk '/BEGIN CERTIFICATE/{n++} n==1' "$DEV/chain$n.pem" >"$DEV/leaf$n.pem"
    awk '/BEGIN CERTIFICATE/{n++} n>1' "$DEV/chain$n.pem" >"$DEV/inter$n.pem"
    if [ "$n" -eq 0 ]; then say "device: the certificate it enrolled"; else say "device: the certificate it renewed to"; fi
    openssl x509 -in "$DEV/leaf$n.pem" -noout -subject -issuer -dates -serial -ext subjectAltName
    openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$DEV/inter$n.pem" "$DEV/leaf$n.pem"
done

say "stopping the CA"
pebble_stop || true  # (its `wait` reports the killed CA's status)
echo "work files kept in $WORK (device console: $DEV/console.log)"
