#!/bin/bash
# run_freertos.sh - the FreeRTOS sample (platform/freertos-mps2) in QEMU
# mps2-an385 against a local Pebble, with QEMU's restricted user network
# (restrict=on; guestfwd 10.0.2.100:<wfe> -> one socat to 127.0.0.1 per
# connection; hostfwd 127.0.0.1:<pebble httpPort> -> guest :80).
#
#   tests/qemu/run_freertos.sh [CASE...]   CASE: enroll stored renew (default all)
#
#   enroll  empty flash -> the keeper task enrols by http-01; the chain
#           verifies against Pebble's root; every task's stack mark printed
#   stored  the same flash again -> the keeper finds the stored certificate
#           and plans its renewal; no new order at Pebble
#   powercut  a renewal (renew-now) with the power cut after 0, 700 and
#           2000 bytes of its save (exit 42): every next boot finds the
#           old certificate (same serial), which verifies
#   https   the FW_HTTPS image, 90 s certificates: after the enrolment the
#           host's curl --cacert <Pebble root> to the device's HTTPS port
#           (hostfwd to :443) succeeds; after the keeper's renewal the same
#           port, same boot, serves the new serial
#   renew   PEBBLE_CERT_VALIDITY=90: the keeper renews by itself (renewals=1,
#           its own plan, no renew-now); the new serial differs and a later
#           boot finds it
#
# The FreeRTOS kernel comes from FREERTOS_TARBALL (default
# <repo>/../shared/third_party/FreeRTOS-Kernel-V11.3.0.tar.gz), unpacked
# into the build dir; without it: "skipped", exit 77. Env: FW_BUILD (build
# dir, default <repo>/build-freertos), FW_QEMU_TIMEOUT (s per boot, 120).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${FW_BUILD:-$repo/build-freertos}
tmo=${FW_QEMU_TIMEOUT:-120}
cases=${*:-enroll stored powercut renew https}
tarball=${FREERTOS_TARBALL:-$repo/../shared/third_party/FreeRTOS-Kernel-V11.3.0.tar.gz}

if [ ! -f "$tarball" ]; then
    echo "skipped: no FreeRTOS kernel tarball ($tarball; see ../shared/third_party/README.md)"
    exit 77
fi
for tool in qemu-system-arm socat openssl arm-none-eabi-gcc cmake timeout pebble pebble-challtestsrv python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "skipped: $tool missing (scripts/fw-deps.sh, scripts/deps.sh)"; exit 77; }
done
WOLFSSL_SRC=${WOLFSSL_SRC:-$(ls -d "$repo"/build-deps/wolfssl-*/ 2>/dev/null | tail -n 1)}
LWIP_SRC=${LWIP_SRC:-$(ls -d "$repo"/build-deps/lwip-*/ 2>/dev/null | tail -n 1)}
if [ -z "$WOLFSSL_SRC" ] || [ -z "$LWIP_SRC" ]; then
    echo "skipped: wolfSSL/lwIP sources missing (run scripts/fw-deps.sh)"; exit 77
fi

. "$repo/tests/e2e/pebble_env.sh"
mkdir -p "$build"
work=$build/qemu-tests
rm -rf "$work"
mkdir -p "$work"
trap 'pebble_stop' EXIT INT TERM
kernel=$build/FreeRTOS-Kernel-V11.3.0
[ -f "$kernel/tasks.c" ] || tar -xzf "$tarball" -C "$build" || { echo "FAIL: cannot unpack $tarball"; exit 1; }
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# ca_up NAME [VALIDITY [IMAGE_DIR CMAKE_ARG...]]: Pebble, and the image
# built with its root and URL (in $build/fw, or IMAGE_DIR)
img=$build/fw
ca_up() {
    local name=$1 validity=${2:-}
    img=${3:-$build/fw}
    shift; shift; shift
    pebble_stop
    PEBBLE_WFE_NAMES=acme.internal PEBBLE_CERT_VALIDITY=$validity PEBBLE_WFE_NONCEREJECT=0 \
        pebble_start "$work/pebble-$name" || return 1
    cmake -S "$repo/platform/freertos-mps2" -B "$img" -G Ninja "$@" \
        -DFREERTOS_KERNEL_PATH="$kernel" -DFW_FAULT_INJECTION=ON \
        -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${LWIP_SRC%/}" \
        -DFW_CA_ROOT_DER="$PEBBLE_TLS_ROOT" \
        -DFW_DIRECTORY_URL="https://acme.internal:$PEBBLE_WFE_PORT/dir" \
        -DFW_WALL_CLOCK_BASE="$(date +%s)" ${FW_CMAKE_ARGS:-} >"$work/cmake-$name.log" 2>&1 \
        || { cat "$work/cmake-$name.log"; return 1; }
    cmake --build "$img" >"$work/build-$name.log" 2>&1 || { tail -n 40 "$work/build-$name.log"; return 1; }
}

# boot DIR NAME [ARG...]: one power-on with the flash files in DIR; sets rc
boot() {
    local dir=$1 name=$2 sh="enable=on,target=native,arg=fw.elf" a
    shift 2
    for a in "$@"; do sh="$sh,arg=$a"; done
    mkdir -p "$dir"
    ( cd "$dir" && exec timeout "$tmo" qemu-system-arm -M mps2-an385 -nographic -monitor none \
        -kernel "$img/fw.elf" -semihosting-config "$sh" \
        -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$PEBBLE_WFE_PORT-cmd:socat - TCP:127.0.0.1:$PEBBLE_WFE_PORT,hostfwd=tcp:127.0.0.1:$PEBBLE_HTTP01_PORT-:80${https_fwd:-}" \
        </dev/null >"console-$name.raw" 2>&1 )
    rc=$?
    tr -d '\r' <"$dir/console-$name.raw" >"$dir/console-$name.log"
}

# chain LOG IDX OUT [KIND]: the chain the console printed (KIND issued|stored)
chain() {
    sed -n "/^fw: ${4:-issued} chain $2 begin\$/,/^fw: ${4:-issued} chain $2 end\$/p" "$1" | grep -v '^fw: ' >"$3"
    grep -q 'BEGIN CERTIFICATE' "$3"
}
verify() {
    local d
    d=$(mktemp -d "$work/verify.XXXX")
    awk -v d="$d" '/BEGIN CERTIFICATE/{n++} n{print > (d "/c" n ".pem")}' "$1"
    : >"$d/inter.pem"
    for f in "$d"/c[2-9].pem; do [ -f "$f" ] && cat "$f" >>"$d/inter.pem"; done
    openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$d/inter.pem" "$d/c1.pem" >/dev/null 2>&1 \
        && openssl x509 -in "$d/c1.pem" -noout -text | grep -Eq "DNS:device.internal(,|\$)"
}
serial() { awk '/BEGIN CERTIFICATE/{n++} n==1{print}' "$1" | openssl x509 -noout -serial | cut -d= -f2; }
orders() { grep -c 'POST /order-plz' "$PEBBLE_WORKDIR/pebble.log"; }
show() { grep -v -- '-----\|^[A-Za-z0-9+/=]\{40,\}$' "$1" | tail -n "${2:-30}" | sed 's/^/    | /'; }

case_enroll() {
    local d=$work/enroll c
    boot "$d" enroll
    c=$d/console-enroll.log
    if [ "$rc" -ne 0 ] || ! grep -q '^ENROLLED' "$c" || ! chain "$c" 0 "$d/chain.pem"; then
        fail "enroll: exit $rc, no ENROLLED chain"; show "$c"; return
    fi
    verify "$d/chain.pem" || { fail "enroll: the chain does not verify"; return; }
    grep -q '^fw: stack keeper' "$c" || { fail "enroll: no stack marks"; return; }
    pass "enroll: $(grep '^ENROLLED' "$c"), serial $(serial "$d/chain.pem")"
    grep -E '^fw: (address|stack|exit)' "$c" | sed 's/^/    /'
}

case_stored() {
    local d=$work/enroll c before
    before=$(orders)
    boot "$d" stored
    c=$d/console-stored.log
    if [ "$rc" -ne 0 ] || ! grep -q '^stored certificate found' "$c"; then
        fail "stored: exit $rc"; show "$c"; return
    fi
    [ "$(orders)" -eq "$before" ] || { fail "stored: a new order was made"; return; }
    pass "stored: $(grep '^stored certificate found' "$c"), no new order"
}

case_powercut() {
    local src=$work/enroll n d c old
    old=$(serial "$src/chain.pem" 2>/dev/null) || { fail "powercut: no enrolled chain (run enroll first)"; return; }
    for n in 0 700 2000; do
        d=$work/powercut-$n
        rm -rf "$d"; mkdir -p "$d"
        cp "$src"/picoacme-flash.bin* "$d/"
        boot "$d" cut renew-now "cut=$n"
        if [ "$rc" -ne 42 ]; then fail "powercut $n: exit $rc, not the power cut (42)"; show "$d/console-cut.log"; return; fi
        boot "$d" after
        c=$d/console-after.log
        if [ "$rc" -ne 0 ] || ! chain "$c" 0 "$d/after.pem" stored; then
            fail "powercut $n: the next boot found no certificate (exit $rc)"; show "$c"; return
        fi
        [ "$(serial "$d/after.pem")" = "$old" ] || { fail "powercut $n: another serial after the cut"; return; }
        verify "$d/after.pem" || { fail "powercut $n: the kept chain does not verify"; return; }
    done
    pass "powercut: cut after 0, 700, 2000 bytes of the save: the old certificate ($old) stays"
}

case_renew() {
    local d=$work/renew c s0 s1
    ca_up renew 90 || { fail "renew: Pebble/build"; return; }
    boot "$d" renew renewals=1
    c=$d/console-renew.log
    if [ "$rc" -ne 0 ] || ! grep -q '^ENROLLED' "$c" || ! grep -q '^RENEWED' "$c" \
        || ! chain "$c" 0 "$d/c0.pem" || ! chain "$c" 1 "$d/c1.pem"; then
        fail "renew: exit $rc, no ENROLLED + RENEWED"; show "$c"; return
    fi
    verify "$d/c1.pem" || { fail "renew: the new chain does not verify"; return; }
    s0=$(serial "$d/c0.pem"); s1=$(serial "$d/c1.pem")
    [ "$s0" != "$s1" ] || { fail "renew: same serial"; return; }
    pass "renew: $(grep '^RENEWED' "$c"); serial $s0 -> $s1"
}

# https_get PORT OUT: the page over TLS verified with Pebble's root (curl),
# and the serial of the certificate the device presents (openssl)
https_get() {
    curl -sS --max-time 20 --cacert "$PEBBLE_ISSUER_ROOT" --resolve "device.internal:$1:127.0.0.1" \
        "https://device.internal:$1/" >"$2" 2>"$2.err" || return 1
    grep -q '^picoacme device status' "$2" || return 1
    openssl s_client -connect "127.0.0.1:$1" -servername device.internal </dev/null 2>/dev/null \
        | openssl x509 -noout -serial | cut -d= -f2
}

# wait_for FILE REGEX SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 2; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}

case_https() {
    local d=$work/https c p s0 s1 qpid
    ca_up https 90 "$build/fw-https" -DFW_HTTPS=ON || { fail "https: Pebble/build"; return; }
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    https_fwd=",hostfwd=tcp:127.0.0.1:$p-:443"
    mkdir -p "$d"
    boot "$d" https renewals=1 serve=15 &
    qpid=$!
    c=$d/console-https.raw
    if ! wait_for "$c" '^ENROLLED' 60; then
        wait "$qpid"; fail "https: no enrolment"; show "$d/console-https.log"; https_fwd=; return
    fi
    s0=$(https_get "$p" "$d/page0.txt") || { wait "$qpid"; fail "https: curl --cacert to the device failed: $(cat "$d/page0.txt.err")"; https_fwd=; return; }
    if ! wait_for "$c" '^RENEWED' 120 || ! wait_for "$c" 'serving for' 10; then
        wait "$qpid"; fail "https: no renewal"; show "$d/console-https.log"; https_fwd=; return
    fi
    s1=$(https_get "$p" "$d/page1.txt") || { wait "$qpid"; fail "https: curl after the renewal failed"; https_fwd=; return; }
    wait "$qpid"
    https_fwd=
    [ -n "$s0" ] && [ -n "$s1" ] && [ "$s0" != "$s1" ] || { fail "https: served serial $s0 then $s1"; return; }
    grep -q '^fw: stack https' "$d/console-https.log" || { fail "https: no stack mark of the https task"; return; }
    pass "https: curl --cacert Pebble's root OK; served serial $s0, after the renewal $s1 (same boot)"
    grep -E '^(ENROLLED|RENEWED|fw: stack|fw: https)' "$d/console-https.log" | sed 's/^/    /'
}

if ! ca_up main; then
    echo "FAIL: Pebble or the image did not come up"; exit 1
fi
for c in $cases; do "case_$c"; done
[ "$fails" -eq 0 ]
