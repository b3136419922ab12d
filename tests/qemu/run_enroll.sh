#!/bin/bash
# run_enroll.sh - the emulated device enrols against a local Pebble.
#
# The qemu-mps2 ACME firmware (Cortex-M3, no heap, lwIP + wolfSSL) boots in
# qemu-system-arm with QEMU's restricted user network; the only ways out are
#   guestfwd 10.0.2.100:<wfe> -> one `socat - TCP:127.0.0.1:<wfe>` per
#            connection (the CA, "acme.internal" in the firmware's name table)
#   hostfwd  127.0.0.1:<pebble httpPort> -> guest :80 (Pebble's http-01
#            validation of device.internal, which challtestsrv maps to 127.0.0.1)
# Its flash is a host file reached through semihosting.
#
#   tests/qemu/run_enroll.sh [CASE...]   CASE: enroll stored renew powercut
#                                        (default: all four)
# Cases:
#   enroll    empty flash -> http-01 enrolment; the console's chain passes
#             `openssl verify` against Pebble's issuing root, leaf key P-256
#   stored    the same flash again -> "stored certificate found", no order
#             (no POST on the console, no new order in Pebble's log)
#   renew     PEBBLE_CERT_VALIDITY=120: the device renews by itself at ~2/3
#             of the lifetime; the new certificate (other serial) replaces
#             the old in flash and a later boot finds it
#   powercut  power cut at several byte counts of a renewal's save -> the
#             next boot still has the old certificate, which verifies
# Env: FW_BUILD (build dir, default <repo>/build-fw-enroll), FW_SRC_ROOT (tree
#      with core/ and ports/wolfssl/, default the repo), FW_QEMU_TIMEOUT (s,
#      per boot, default 120), WOLFSSL_SRC / LWIP_SRC (default build-deps/).
# Prints PASS/FAIL per case; exit 0 only when every case passed (77: skip).
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${FW_BUILD:-$repo/build-fw-enroll}
tmo=${FW_QEMU_TIMEOUT:-120}
cases=${*:-enroll stored renew powercut}

for tool in qemu-system-arm socat openssl arm-none-eabi-gcc cmake timeout pebble pebble-challtestsrv curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool missing (scripts/fw-deps.sh, scripts/deps.sh)"; exit 77; }
done
WOLFSSL_SRC=${WOLFSSL_SRC:-$(ls -d "$repo"/build-deps/wolfssl-*/ 2>/dev/null | tail -n 1)}
LWIP_SRC=${LWIP_SRC:-$(ls -d "$repo"/build-deps/lwip-*/ 2>/dev/null | tail -n 1)}
if [ -z "$WOLFSSL_SRC" ] || [ -z "$LWIP_SRC" ]; then
    echo "SKIP: wolfSSL/lwIP sources missing (run scripts/fw-deps.sh)"; exit 77
fi

. "$repo/tests/e2e/pebble_env.sh"
mkdir -p "$build"
work=$build/qemu-tests
rm -rf "$work"
mkdir -p "$work"
trap 'pebble_stop' EXIT INT TERM
fails=0
passes=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# ---- Pebble + a firmware built for it ------------------------------------
# ca_up NAME [VALIDITY]: start Pebble (its WFE certificate also names
# acme.internal) and build the firmware with its TLS root and directory.
ca_up() {
    pebble_stop
    PEBBLE_WFE_NAMES=acme.internal PEBBLE_CERT_VALIDITY=${2:-} PEBBLE_WFE_NONCEREJECT=0 \
        pebble_start "$work/pebble-$1" || return 1
    cmake -S "$repo/platform/qemu-mps2" -B "$build" -G Ninja \
        -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${LWIP_SRC%/}" \
        -DFW_SRC_ROOT="${FW_SRC_ROOT:-$repo}" -DFW_APP=acme -DFW_FAULT_INJECTION=ON \
        -DFW_CA_ROOT_DER="$PEBBLE_TLS_ROOT" \
        -DFW_DIRECTORY_URL="https://acme.internal:$PEBBLE_WFE_PORT/dir" \
        -DFW_CA_HOST=acme.internal -DFW_DEVICE_NAME=device.internal \
        -DFW_WALL_CLOCK_BASE="$(date +%s)" >"$work/cmake-$1.log" 2>&1 \
        || { cat "$work/cmake-$1.log"; return 1; }
    cmake --build "$build" >"$work/build-$1.log" 2>&1 || { tail -n 40 "$work/build-$1.log"; return 1; }
}

# boot DIR NAME [SEMIHOSTING_ARG...]: one power-on of the device with the
# flash file DIR/picoacme-flash.bin; console in DIR/console-NAME.log; sets rc.
boot() {
    local dir=$1 name=$2 sh="enable=on,target=native,arg=fw.elf" a
    shift 2
    for a in "$@"; do sh="$sh,arg=$a"; done
    mkdir -p "$dir"
    ( cd "$dir" && exec timeout "$tmo" qemu-system-arm -M mps2-an385 -nographic -monitor none \
        -kernel "$build/fw.elf" -semihosting-config "$sh" \
        -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$PEBBLE_WFE_PORT-cmd:socat - TCP:127.0.0.1:$PEBBLE_WFE_PORT,hostfwd=tcp:127.0.0.1:$PEBBLE_HTTP01_PORT-:80" \
        </dev/null >"console-$name.raw" 2>&1 )
    rc=$?
    tr -d '\r' <"$dir/console-$name.raw" >"$dir/console-$name.log"
}

# chain LOG KIND IDX OUT: the PEM chain the console printed between
# "fw: KIND chain IDX begin" and "... end".
chain() {
    sed -n "/^fw: $2 chain $3 begin\$/,/^fw: $2 chain $3 end\$/p" "$1" | grep -v '^fw: ' >"$4"
    grep -q 'BEGIN CERTIFICATE' "$4"
}

# verify PEM: leaf verifies against Pebble's issuing root with the rest of
# the chain as intermediates; leaf key is P-256; names device.internal.
verify() {
    local d
    d=$(mktemp -d "$work/verify.XXXX")
    awk -v d="$d" '/BEGIN CERTIFICATE/{n++} n{print > (d "/c" n ".pem")}' "$1"
    [ -f "$d/c1.pem" ] || return 1
    : >"$d/inter.pem"
    for f in "$d"/c[2-9].pem; do [ -f "$f" ] && cat "$f" >>"$d/inter.pem"; done
    openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$d/inter.pem" "$d/c1.pem" >"$d/verify.log" 2>&1 \
        || { cat "$d/verify.log"; return 1; }
    openssl x509 -in "$d/c1.pem" -noout -text >"$d/leaf.txt"
    grep -Eq 'ASN1 OID: prime256v1|NIST CURVE: P-256' "$d/leaf.txt" || { echo "leaf key is not P-256"; return 1; }
    grep -q 'DNS:device.internal' "$d/leaf.txt" || { echo "leaf does not name device.internal"; return 1; }
}

serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
orders() { grep -c 'POST /order-plz' "$PEBBLE_WORKDIR/pebble.log"; }
show() { sed 's/^/    | /' "$1" | grep -v -- '-----\|^    | [A-Za-z0-9+/=]\{40,\}$' | tail -n "${2:-40}"; }

# ---- cases ---------------------------------------------------------------
case_enroll() {
    local d=$work/enroll
    boot "$d" enroll
    local c=$d/console-enroll.log
    if [ "$rc" -ne 0 ] || ! grep -q '^ENROLLED' "$c" || ! chain "$c" issued 0 "$d/chain.pem"; then
        fail "enroll: exit $rc, no ENROLLED chain"; show "$c"; return
    fi
    if ! verify "$d/chain.pem"; then fail "enroll: the chain does not verify"; return; fi
    [ -s "$d/picoacme-flash.bin" ] || { fail "enroll: flash file empty"; return; }
    ENROLL_SERIAL=$(serial "$d/chain.pem")
    pass "enroll: $(grep '^ENROLLED' "$c"); serial $ENROLL_SERIAL verifies against Pebble's root, leaf P-256"
    grep -E '^fw: (address|stored in flash|wolfSSL|exit)' "$c" | sed 's/^/    /'
}

case_stored() {
    local d=$work/enroll before after
    [ -n "${ENROLL_SERIAL:-}" ] || { fail "stored: needs the enroll case"; return; }
    before=$(orders)
    boot "$d" stored
    after=$(orders)
    local c=$d/console-stored.log
    if [ "$rc" -ne 0 ] || ! grep -q '^stored certificate found, renew at' "$c"; then
        fail "stored: exit $rc, no 'stored certificate found'"; show "$c"; return
    fi
    if grep -q '^ENROLLED\|^acme INF: POST' "$c" || [ "$after" -ne "$before" ]; then
        fail "stored: an order was made (Pebble orders $before -> $after)"; show "$c"; return
    fi
    chain "$c" stored 0 "$d/stored.pem" && verify "$d/stored.pem" \
        && [ "$(serial "$d/stored.pem")" = "$ENROLL_SERIAL" ] \
        || { fail "stored: the stored chain is not the enrolled one"; return; }
    pass "stored: $(grep '^stored certificate found' "$c"); no request, Pebble orders $before -> $after"
}

case_powercut() {
    local base=$work/enroll n d c ok=0
    [ -n "${ENROLL_SERIAL:-}" ] || { fail "powercut: needs the enroll case"; return; }
    # bytes one save programs, from the enrolment's console
    local total
    total=$(sed -n 's/.*flash \([0-9]*\) bytes programmed.*/\1/p' "$base/console-enroll.log" | tail -n 1)
    for n in 0 1 700 $((total / 2)) $((total - 1)); do
        d=$work/powercut-$n
        mkdir -p "$d"
        cp "$base/picoacme-flash.bin" "$d/"
        boot "$d" cut renew-now "cut=$n"
        c=$d/console-cut.log
        if [ "$rc" -ne 42 ] || ! grep -q 'fault injection: power cut after' "$c"; then
            fail "powercut $n/$total: exit $rc, wanted 42 (power cut)"; show "$c"; continue
        fi
        boot "$d" after
        c=$d/console-after.log
        if [ "$rc" -ne 0 ] || ! grep -q '^stored certificate found' "$c" \
           || ! chain "$c" stored 0 "$d/stored.pem" || ! verify "$d/stored.pem" \
           || [ "$(serial "$d/stored.pem")" != "$ENROLL_SERIAL" ]; then
            fail "powercut $n/$total: after the cut the old certificate is not there"; show "$c"; continue
        fi
        ok=$((ok + 1))
    done
    [ "$ok" -eq 5 ] && pass "powercut: cut after 0, 1, 700, $((total / 2)), $((total - 1)) of $total bytes of a renewal's save: every next boot has the old certificate ($ENROLL_SERIAL), which verifies"
}

case_renew() {
    local d=$work/renew c s0 s1 t0 t1
    ca_up renew 120 || { fail "renew: Pebble/firmware setup"; return; }
    boot "$d" renew renewals=1
    c=$d/console-renew.log
    if [ "$rc" -ne 0 ] || [ "$(grep -c '^ENROLLED' "$c")" -ne 2 ] \
       || ! chain "$c" issued 0 "$d/c0.pem" || ! chain "$c" issued 1 "$d/c1.pem"; then
        fail "renew: exit $rc, wanted an enrolment and a renewal"; show "$c"; return
    fi
    verify "$d/c0.pem" && verify "$d/c1.pem" || { fail "renew: a chain does not verify"; return; }
    s0=$(serial "$d/c0.pem"); s1=$(serial "$d/c1.pem")
    [ "$s0" != "$s1" ] || { fail "renew: same serial twice"; return; }
    grep -q '^fw: renewal due' "$c" || { fail "renew: the renewal was not timed by renew_at"; return; }
    # the renewal comes at ~2/3 of the 120 s lifetime, not before
    t0=$(openssl x509 -in "$d/c0.pem" -noout -startdate | cut -d= -f2)
    t1=$(openssl x509 -in "$d/c1.pem" -noout -startdate | cut -d= -f2)
    local gap=$(( $(date -d "$t1" +%s) - $(date -d "$t0" +%s) ))
    if [ "$gap" -lt 70 ] || [ "$gap" -gt 110 ]; then
        fail "renew: renewed $gap s after the first certificate, wanted ~80"; return
    fi
    boot "$d" later
    c=$d/console-later.log
    if [ "$rc" -ne 0 ] || ! grep -q '^stored certificate found' "$c" || ! chain "$c" stored 0 "$d/s.pem" \
       || [ "$(serial "$d/s.pem")" != "$s1" ]; then
        fail "renew: a later boot does not find the new certificate"; show "$c"; return
    fi
    pass "renew: 120 s certificate $s0 renewed by the device after $gap s as $s1; a later boot finds $s1"
}

ENROLL_SERIAL=
need_default=no
for c in $cases; do case $c in enroll|stored|powercut) need_default=yes ;; esac; done
if [ "$need_default" = yes ]; then
    ca_up default || { echo "FAIL: Pebble/firmware setup"; exit 1; }
    grep -A1 'text' "$work/build-default.log" | tail -n 2
fi
# fixed order: the first three share one Pebble, renew starts its own
ordered=
for c in enroll stored powercut renew; do
    case " $cases " in *" $c "*) ordered="$ordered $c" ;; esac
done
for c in $cases; do
    case " enroll stored powercut renew " in *" $c "*) ;; *) fail "unknown case $c" ;; esac
done
for c in $ordered; do
    case $c in
    enroll) case_enroll ;;
    stored) [ -n "$ENROLL_SERIAL" ] || case_enroll >/dev/null; case_stored ;;
    powercut) [ -n "$ENROLL_SERIAL" ] || case_enroll >/dev/null; case_powercut ;;
    renew) case_renew ;;
    esac
done
if [ "$fails" -ne 0 ]; then
    echo "FAIL: $fails case(s) failed, $passes passed"
    exit 1
fi
echo "PASS: $passes case(s): the emulated device enrols, keeps, renews and survives power cuts"
