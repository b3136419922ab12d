#!/bin/sh
# run_tls_smoke.sh - boot the qemu-mps2 firmware and have it fetch a page
# over TLS from an openssl s_server on this machine's loopback.
#
# The guest only sees QEMU's restricted user network: 10.0.2.100:PORT is a
# guestfwd whose per-connection command relays to 127.0.0.1:PORT (socat).
# Passes when the console shows the HTTP 200 answer and QEMU exits 0.
#
#   tests/qemu/run_tls_smoke.sh [BUILD_DIR]     (default: <repo>/build-fw-smoke)
# Env: FW_SMOKE_PORT (default 14433), FW_SMOKE_TIMEOUT (s, default 120),
#      WOLFSSL_SRC / LWIP_SRC (default: what scripts/fw-deps.sh unpacked),
#      FW_SMOKE_TLS_ARGS (extra s_server args, e.g. -tls1_2).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build-fw-smoke}
port=${FW_SMOKE_PORT:-14433}
tmo=${FW_SMOKE_TIMEOUT:-120}
host=fw-tls.test
work=$build/smoke
mkdir -p "$work"

for tool in qemu-system-arm socat openssl arm-none-eabi-gcc cmake timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool missing (run scripts/fw-deps.sh)"; exit 77; }
done
WOLFSSL_SRC=${WOLFSSL_SRC:-$(ls -d "$repo"/build-deps/wolfssl-*/ 2>/dev/null | tail -n 1)}
LWIP_SRC=${LWIP_SRC:-$(ls -d "$repo"/build-deps/lwip-*/ 2>/dev/null | tail -n 1)}
if [ -z "$WOLFSSL_SRC" ] || [ -z "$LWIP_SRC" ]; then
    echo "SKIP: wolfSSL/lwIP sources missing (run scripts/fw-deps.sh)"; exit 77
fi

# --- a P-256 CA and a server certificate for $host ----------------------
cd "$work"
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=picoacme fw smoke CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem 2>/dev/null
openssl x509 -in ca.pem -outform DER -out ca.der
openssl ecparam -name prime256v1 -genkey -noout -out srv.key 2>/dev/null
openssl req -new -key srv.key -subj "/CN=$host" -out srv.csr 2>/dev/null
printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$host" > srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -sha256 \
    -extfile srv.ext -out srv.pem 2>/dev/null

# --- firmware with this CA compiled in -----------------------------------
cmake -S "$repo/platform/qemu-mps2" -B "$build" -G Ninja \
    -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${LWIP_SRC%/}" \
    -DFW_CA_ROOT_DER="$work/ca.der" -DFW_TLS_HOST="$host" -DFW_TLS_PORT="$port" \
    -DFW_WALL_CLOCK_BASE="$(date +%s)" >/dev/null
cmake --build "$build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "FAIL: build"; exit 1; }
grep -A2 'text' "$work/build.log" | tail -n 2

# --- loopback-only TLS server ---------------------------------------------
# shellcheck disable=SC2086
openssl s_server -www -accept "127.0.0.1:$port" -cert srv.pem -key srv.key -naccept 1 \
    ${FW_SMOKE_TLS_ARGS:-} >s_server.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT INT TERM
i=0
until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || [ $i -ge 50 ]; do
    sleep 0.1; i=$((i + 1))
done

# --- the device -----------------------------------------------------------
set +e
timeout "$tmo" qemu-system-arm -M mps2-an385 -nographic -monitor none \
    -kernel "$build/fw.elf" -semihosting-config enable=on,target=native \
    -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$port-cmd:socat - TCP:127.0.0.1:$port" \
    >console.log 2>&1
rc=$?
set -e
cat console.log
if [ "$rc" -ne 0 ]; then
    echo "--- s_server.log"; cat s_server.log
    echo "FAIL: qemu exit status $rc"
    exit 1
fi
if ! grep -q '^HTTP/1.0 200 ok' console.log || ! grep -q 'fw: HTTP status line 200 OK' console.log; then
    echo "FAIL: no HTTP 200 in the console"
    exit 1
fi
echo "PASS: TLS GET from the emulated device ($(grep 'handshake done' console.log | sed 's/^fw: //'))"
