#!/bin/sh
# run_tls_smoke.sh - boot the qemu-mps2 firmware and have it fetch a page
# over TLS from an openssl s_server on this machine's loopback.
#
# The guest only sees QEMU's restricted user network: 10.0.2.100:PORT is a
# guestfwd whose per-connection command relays to 127.0.0.1:PORT (socat).
# Passes when the console shows the HTTP 200 answer and QEMU exits 0.
#
#   tests/qemu/run_tls_smoke.sh [BUILD_DIR]     (default: <repo>/build-fw-smoke)
# Env: FW_SMOKE_PORT (default 14433), FW_SMOKE_HTTP_PORT (default 18080), FW_SMOKE_TIMEOUT (s, default 120),
#      WOLFSSL_SRC / LWIP_SRC (default: what scripts/fw-deps.sh unpacked),
#      FW_SMOKE_POOL_KB (wolfSSL static pool, KiB, default 64), FW_SRC_ROOT (tree
#      with core/ and ports/wolfssl/, default the repo).
# Cases: TLS 1.3 and TLS 1.2 GET (exit 0, HTTP 200) after which the device
# serves one plain HTTP request through hostfwd 127.0.0.1:HTTP_PORT -> :80
# (the lwIP transport's listen/accept, as http-01 uses it), a server from an
# untrusted CA and one with another name (exit 18, nothing received).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build-fw-smoke}
port=${FW_SMOKE_PORT:-14433}
hport=${FW_SMOKE_HTTP_PORT:-18080}
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

# The page: 48 KB in 600 numbered lines, served by s_server -WWW from $work,
# so the firmware sees full 16 KB TLS records and a filled TCP window.
i=1
while [ $i -le 600 ]; do
    printf 'smoke line %05d 0123456789abcdef0123456789abcdef0123456789abcdef0123456\n' $i
    i=$((i + 1))
done > fw-smoke.txt

# A server certificate from a CA the firmware does not trust.
openssl ecparam -name prime256v1 -genkey -noout -out evil-ca.key 2>/dev/null
openssl req -x509 -new -key evil-ca.key -sha256 -days 30 -subj "/CN=untrusted CA" \
    -addext "basicConstraints=critical,CA:TRUE" -out evil-ca.pem 2>/dev/null
openssl x509 -req -in srv.csr -CA evil-ca.pem -CAkey evil-ca.key -CAcreateserial -days 7 \
    -sha256 -extfile srv.ext -out evil-srv.pem 2>/dev/null

# A certificate from the trusted CA for another name.
openssl req -new -key srv.key -subj "/CN=other.test" -out other.csr 2>/dev/null
printf 'subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth\n' > other.ext
openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -sha256 \
    -extfile other.ext -out other-srv.pem 2>/dev/null

# --- firmware with this CA compiled in -----------------------------------
cmake -S "$repo/platform/qemu-mps2" -B "$build" -G Ninja \
    -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${LWIP_SRC%/}" \
    -DFW_APP=tls-smoke -DFW_SRC_ROOT="${FW_SRC_ROOT:-$repo}" \
    -DFW_CA_ROOT_DER="$work/ca.der" -DFW_TLS_HOST="$host" -DFW_TLS_PORT="$port" \
    -DFW_HTTP_PATH=/fw-smoke.txt -DFW_LISTEN_PORT=80 -DFW_WALL_CLOCK_BASE="$(date +%s)" -DFW_WOLF_POOL_KB="${FW_SMOKE_POOL_KB:-64}" >/dev/null
cmake --build "$build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "FAIL: build"; exit 1; }
grep -A2 'text' "$work/build.log" | tail -n 2


srv=
trap '[ -z "$srv" ] || kill $srv 2>/dev/null || true' EXIT INT TERM
fails=0

# run_case NAME WANT_RC WANT_WOLFSSL_ERR CERT S_SERVER_ARGS...
run_case() {
    name=$1 want=$2 werr=$3 cert=$4
    shift 4
    # loopback-only TLS server, one connection; ready once it prints ACCEPT
    openssl s_server -WWW -accept "127.0.0.1:$port" -cert "$cert" -key srv.key -naccept 1 \
        "$@" >"s_server-$name.log" 2>&1 &
    srv=$!
    i=0
    until grep -q '^ACCEPT' "s_server-$name.log" || [ $i -ge 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    timeout "$tmo" qemu-system-arm -M mps2-an385 -nographic -monitor none \
        -kernel "$build/fw.elf" -semihosting-config enable=on,target=native \
        -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$port-cmd:socat - TCP:127.0.0.1:$port,hostfwd=tcp:127.0.0.1:$hport-:80" \
        >"console-$name.log" 2>&1 &
    qemu=$!
    : >"http-$name.log"
    if [ "$want" -eq 0 ]; then
        # the device listens once its GET is done: poll through the hostfwd
        i=0
        while kill -0 $qemu 2>/dev/null && [ $i -lt 300 ]; do
            printf 'GET /.well-known/acme-challenge/x HTTP/1.0\r\n\r\n' |
                socat -T 2 - "TCP:127.0.0.1:$hport" >"http-$name.log" 2>/dev/null || true
            grep -q 'hello-from-device' "http-$name.log" && break
            sleep 0.2; i=$((i + 1))
        done
    fi
    set +e
    wait $qemu
    rc=$?
    set -e
    kill $srv 2>/dev/null || true; wait $srv 2>/dev/null || true
    srv=
    ok=yes
    [ "$rc" -eq "$want" ] || ok=no
    if [ "$want" -eq 0 ]; then
        grep -q '^HTTP/1.0 200 ok' "console-$name.log" || ok=no
        grep -q 'fw: HTTP status line 200 OK' "console-$name.log" || ok=no
        [ "$(grep -c '^smoke line [0-9]* 0123456789abcdef' "console-$name.log")" -eq 600 ] || ok=no
        grep -q '^smoke line 00600 ' "console-$name.log" || ok=no
        grep -q '^HTTP/1.0 200 OK' "http-$name.log" || ok=no
        grep -q '^hello-from-device$' "http-$name.log" || ok=no
        grep -q 'fw: served one HTTP request' "console-$name.log" || ok=no
    else
        ! grep -q '^HTTP/1.0 200' "console-$name.log" || ok=no
        grep -q "TLS failed: .*(wolfSSL error $werr)" "console-$name.log" || ok=no
    fi
    if [ "$ok" = yes ]; then
        echo "PASS $name: exit $rc; $(grep -E 'handshake done|TLS failed' "console-$name.log" | sed 's/^fw: //')"
        grep -E 'pool|bucket|closed|^fw: exit' "console-$name.log" | sed 's/^/    /'
    else
        echo "FAIL $name: exit $rc, wanted $want"
        sed 's/^/    console: /' "console-$name.log"
        sed 's/^/    s_server: /' "s_server-$name.log" | tail -n 20
        sed 's/^/    http: /' "http-$name.log"
        fails=$((fails + 1))
    fi
}

run_case tls13 0 - srv.pem -tls1_3
run_case tls12 0 - srv.pem -tls1_2
run_case untrusted 18 -188 evil-srv.pem    # ASN_NO_SIGNER_E
run_case wrongname 18 -322 other-srv.pem   # DOMAIN_NAME_MISMATCH

if [ "$fails" -ne 0 ]; then
    echo "FAIL: $fails case(s)"
    exit 1
fi
echo "PASS: TLS 1.3 and 1.2 GET from the emulated device, HTTP served through hostfwd; untrusted CA and wrong name refused"
