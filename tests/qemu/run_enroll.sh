#!/bin/bash
# run_enroll.sh - the emulated device enrols against a local Pebble.
#
# The qemu-mps2 ACME firmware (Cortex-M3, no heap, lwIP + wolfSSL) boots in
# qemu-system-arm with QEMU's restricted user network; the only ways out are
#   guestfwd 10.0.2.100:<wfe> -> one `socat - TCP:127.0.0.1:<wfe>` per
#            connection (the CA, "acme.internal" in the firmware's name table)
#   hostfwd  127.0.0.1:<pebble httpPort> -> guest :80 (Pebble's http-01
#            validation of device.internal, which challtestsrv maps to 127.0.0.1)
# and, for the other challenge variants of the firmware (FW_CHALLENGE):
#   tls-alpn-01: hostfwd 127.0.0.1:<pebble tlsPort> -> guest :443 instead of :80
#   dns-01:      no inbound forward; guestfwd 10.0.2.101:53 -> one
#                `socat - TCP:127.0.0.1:<BIND port>` per connection (the
#                device's RFC 2136 UPDATE + TSIG and TXT queries over TCP)
# Its flash is a host file reached through semihosting.
#
#   tests/qemu/run_enroll.sh [CASE...]   CASE: enroll stored renew powercut
#                                        tlsalpn dns01 (default: all six)
# Cases:
#   enroll    empty flash -> http-01 enrolment; the console's chain passes
#             `openssl verify` against Pebble's issuing root, leaf key P-256
#   stored    the same flash again -> "stored certificate found", no order
#             (no POST on the console, no new order in Pebble's log)
#   renew     PEBBLE_CERT_VALIDITY=120: the device's keeper renews by itself
#             at the point it announced (its phase, within [8, 80] s of the
#             120 s lifetime: never after 2/3); the new certificate (other
#             serial) replaces the old in flash and a later boot finds it
#   powercut  power cut at several byte counts of a renewal's save -> the
#             next boot still has the old certificate, which verifies (or
#             the new one when tests/qemu/flash_whole.py finds its record
#             already whole: unprogrammed header bytes that were 0xFF)
#   chain12   Pebble 2.10.1 (PICOACME_PEBBLE2_DIR) with PEBBLE_CHAIN_LENGTH=12:
#             the ~15 KB chain (longer than the device's 4 KiB rx) is
#             streamed into the flash; the console's chain, read back from
#             the flash in pieces, verifies, and a later boot finds it
#   tlsalpn   the FW_CHALLENGE=tls-alpn-01 image (no http-01 in it, nothing
#             forwarded to :80): enrols device.internal by tls-alpn-01 on
#             :443; chain checked as in enroll
#   dns01     the FW_CHALLENGE=dns-01 image, BIND (tests/e2e/bind_env.sh)
#             with zone acme.test and a TSIG key compiled into the firmware,
#             Pebble resolving through BIND, no inbound forward: enrols
#             device.acme.test; chain checked as in enroll; BIND logged the
#             device's add and delete, TCP queries; the TXT record is gone
# Env: FW_BUILD (build dir, default <repo>/build-fw-enroll; the variants
#      build in FW_BUILD-tlsalpn and FW_BUILD-dns01), FW_SRC_ROOT (tree
#      with core/ and ports/wolfssl/, default the repo), FW_QEMU_TIMEOUT (s,
#      per boot, default 120), WOLFSSL_SRC / LWIP_SRC (default build-deps/).
# Prints PASS/FAIL per case; exit 0 only when every case passed (77: skip).
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${FW_BUILD:-$repo/build-fw-enroll}
tmo=${FW_QEMU_TIMEOUT:-120}
cases=${*:-enroll stored renew powercut tlsalpn dns01}

for tool in qemu-system-arm socat openssl arm-none-eabi-gcc cmake timeout pebble pebble-challtestsrv curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool missing (scripts/fw-deps.sh, scripts/deps.sh)"; exit 77; }
done
# dns01 needs BIND (bind9, bind9-dnsutils): without it that case is skipped
case " $cases " in *" dns01 "*)
    if ! command -v named >/dev/null 2>&1 || ! command -v dig >/dev/null 2>&1; then
        cases=$(echo " $cases " | sed 's/ dns01 / /')
        echo "SKIP dns01: named/dig missing (scripts/deps.sh: bind9 bind9-dnsutils)"
        [ -n "${cases// /}" ] || exit 77
    fi ;;
esac
WOLFSSL_SRC=${WOLFSSL_SRC:-$(ls -d "$repo"/build-deps/wolfssl-*/ 2>/dev/null | tail -n 1)}
LWIP_SRC=${LWIP_SRC:-$(ls -d "$repo"/build-deps/lwip-*/ 2>/dev/null | tail -n 1)}
if [ -z "$WOLFSSL_SRC" ] || [ -z "$LWIP_SRC" ]; then
    echo "SKIP: wolfSSL/lwIP sources missing (run scripts/fw-deps.sh)"; exit 77
fi

. "$repo/tests/e2e/pebble_env.sh"
. "$repo/tests/e2e/bind_env.sh"
mkdir -p "$build"
work=$build/qemu-tests
rm -rf "$work"
mkdir -p "$work"
trap 'pebble_stop; bind_stop' EXIT INT TERM
# set by ca_up for its variant: the image QEMU boots, the forwards besides
# the CA's, the name the device enrols
fw=$build/fw.elf
nic_fwd=
DEVICE=device.internal
fails=0
passes=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# ---- Pebble + a firmware built for it ------------------------------------
# tsig_header TSIG OUT: bind_env.sh's BIND_TSIG (name:hmac-sha256:base64)
# as the C header the dns-01 firmware compiles in (FW_TSIG_HEADER).
tsig_header() {
    python3 -c '
import base64, sys
name, alg, secret = sys.argv[1].split(":", 2)
assert alg == "hmac-sha256", alg
key = base64.b64decode(secret)
with open(sys.argv[2], "w") as f:
    f.write("/* generated by tests/qemu/run_enroll.sh: the test BIND TSIG key */\n")
    f.write("#define FW_TSIG_NAME \"%s\"\n" % name)
    f.write("static const uint8_t fw_tsig_secret[%d] = {%s};\n"
            % (len(key), ", ".join("0x%02x" % b for b in key)))
' "$1" "$2"
}

# ca_up NAME [VALIDITY [CHALLENGE]]: start Pebble (its WFE certificate also
# names acme.internal) and build the firmware with its TLS root and
# directory. CHALLENGE: http-01 (default; build dir FW_BUILD), tls-alpn-01
# (FW_BUILD-tlsalpn) or dns-01 (FW_BUILD-dns01: BIND first, its TSIG key
# compiled in, Pebble resolving through BIND).
ca_up() {
    local name=$1 validity=${2:-} chal=${3:-http-01} b=$build dns=
    local -a extra=()
    pebble_stop
    bind_stop
    DEVICE=device.internal
    case $chal in
    http-01) ;;
    tls-alpn-01) b=$build-tlsalpn; extra=(-DFW_FLASH_KB=176) ;; # wolfSSL server: see CMakeLists.txt
    dns-01)
        b=$build-dns01
        DEVICE=device.acme.test
        bind_start "$work/bind-$name" || return 1
        dns=127.0.0.1:$BIND_PORT
        tsig_header "$BIND_TSIG" "$work/fw_tsig-$name.h" || return 1
        extra=(-DFW_TSIG_HEADER="$work/fw_tsig-$name.h")
        ;;
    *) echo "ca_up: challenge $chal?"; return 1 ;;
    esac
    PEBBLE_WFE_NAMES=acme.internal PEBBLE_CERT_VALIDITY=$validity PEBBLE_WFE_NONCEREJECT=0 \
        PEBBLE_DNS_SERVER=$dns pebble_start "$work/pebble-$name" || return 1
    case $chal in
    http-01) nic_fwd="hostfwd=tcp:127.0.0.1:$PEBBLE_HTTP01_PORT-:80" ;;
    tls-alpn-01) nic_fwd="hostfwd=tcp:127.0.0.1:$PEBBLE_TLSALPN_PORT-:443" ;;
    dns-01) nic_fwd="guestfwd=tcp:10.0.2.101:53-cmd:socat - TCP:127.0.0.1:$BIND_PORT" ;;
    esac
    fw=$b/fw.elf
    cmake -S "$repo/platform/qemu-mps2" -B "$b" -G Ninja \
        -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${LWIP_SRC%/}" \
        -DFW_SRC_ROOT="${FW_SRC_ROOT:-$repo}" -DFW_APP=acme -DFW_FAULT_INJECTION=ON \
        -DFW_CHALLENGE="$chal" "${extra[@]}" \
        -DFW_CA_ROOT_DER="$PEBBLE_TLS_ROOT" \
        -DFW_DIRECTORY_URL="https://acme.internal:$PEBBLE_WFE_PORT/dir" \
        -DFW_CA_HOST=acme.internal -DFW_DEVICE_NAME="$DEVICE" \
        -DFW_WALL_CLOCK_BASE="$(date +%s)" >"$work/cmake-$name.log" 2>&1 \
        || { cat "$work/cmake-$name.log"; return 1; }
    cmake --build "$b" >"$work/build-$name.log" 2>&1 || { tail -n 40 "$work/build-$name.log"; return 1; }
}

# boot DIR NAME [SEMIHOSTING_ARG...]: one power-on of the device with the
# flash file DIR/picoacme-flash.bin; console in DIR/console-NAME.log; sets rc.
boot() {
    local dir=$1 name=$2 sh="enable=on,target=native,arg=fw.elf" a
    shift 2
    for a in "$@"; do sh="$sh,arg=$a"; done
    mkdir -p "$dir"
    ( cd "$dir" && exec timeout "$tmo" qemu-system-arm -M mps2-an385 -nographic -monitor none \
        -kernel "$fw" -semihosting-config "$sh" \
        -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$PEBBLE_WFE_PORT-cmd:socat - TCP:127.0.0.1:$PEBBLE_WFE_PORT,$nic_fwd" \
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
# the chain as intermediates; leaf key is P-256; names $DEVICE.
verify() {
    local d
    d=$(mktemp -d "$work/verify.XXXX")
    awk -v d="$d" '/BEGIN CERTIFICATE/{n++} n{print > (d "/c" n ".pem")}' "$1"
    [ -f "$d/c1.pem" ] || return 1
    : >"$d/inter.pem"
    for f in "$d"/c*.pem; do [ "$f" != "$d/c1.pem" ] && cat "$f" >>"$d/inter.pem"; done
    openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$d/inter.pem" "$d/c1.pem" >"$d/verify.log" 2>&1 \
        || { cat "$d/verify.log"; return 1; }
    openssl x509 -in "$d/c1.pem" -noout -text >"$d/leaf.txt"
    grep -Eq 'ASN1 OID: prime256v1|NIST CURVE: P-256' "$d/leaf.txt" || { echo "leaf key is not P-256"; return 1; }
    grep -Eq "DNS:$DEVICE(,|\$)" "$d/leaf.txt" || { echo "leaf does not name $DEVICE"; return 1; }
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
    local base=$work/enroll n d c ok=0 whole=0 why
    [ -n "${ENROLL_SERIAL:-}" ] || { fail "powercut: needs the enroll case"; return; }
    # bytes one renewal's save programs: a renewal of a copy of the enrolled
    # flash, measured (an enrolment programs more: the new account's own
    # record before the certificate's)
    local total
    d=$work/powercut-measure
    mkdir -p "$d"
    cp "$base/picoacme-flash.bin" "$d/"
    boot "$d" measure renew-now
    total=$(sed -n 's/.*flash \([0-9]*\) bytes programmed.*/\1/p' "$d/console-measure.log" | tail -n 1)
    if [ "$rc" -ne 0 ] || [ -z "$total" ] || [ "$total" -lt 700 ]; then
        fail "powercut: the measuring renewal failed (exit $rc, ${total:-no} bytes)"; show "$d/console-measure.log"; return
    fi
    local cuts="" m tries
    for n in 0 1 700 $((total / 2)) $((total - 1)); do
        # each renewal's certificate is another, and its save can be a few
        # bytes shorter (DER lengths vary with serial and key): a cut past
        # that save's end cuts nothing and the renewal ends well; then the
        # same cut again, one byte before the end of the save it measured
        for tries in 1 2 3; do
            d=$work/powercut-$n
            mkdir -p "$d"
            cp "$base/picoacme-flash.bin" "$d/"
            boot "$d" cut renew-now "cut=$n"
            c=$d/console-cut.log
            m=$(sed -n 's/.*flash \([0-9]*\) bytes programmed.*/\1/p' "$c" | tail -n 1)
            [ "$rc" -eq 0 ] && [ -n "$m" ] && [ "$m" -le "$n" ] && [ "$m" -gt 0 ] || break
            echo "    powercut $n/$total: this renewal's save took $m bytes: cut after $((m - 1)) instead"
            n=$((m - 1))
        done
        cuts="$cuts${cuts:+, }$n"
        if [ "$rc" -ne 42 ] || ! grep -q 'fault injection: power cut after' "$c"; then
            fail "powercut $n/$total: exit $rc, wanted 42 (power cut)"; show "$c"; continue
        fi
        cp "$d/picoacme-flash.bin" "$d/flash-at-cut.bin"
        boot "$d" after
        c=$d/console-after.log
        if [ "$rc" -ne 0 ] || ! grep -q '^stored certificate found' "$c" \
           || ! chain "$c" stored 0 "$d/stored.pem" || ! verify "$d/stored.pem"; then
            fail "powercut $n/$total: after the cut no certificate that verifies"; show "$c"; continue
        fi
        # The old certificate, unless the new record is already whole: a
        # cut in the header whose unprogrammed bytes are 0xFF (erased NOR
        # holds them; 1 save in 256 ends in one) or after a save shorter
        # than the measured one. The store's own unit test allows the same.
        if [ "$(serial "$d/stored.pem")" != "$ENROLL_SERIAL" ]; then
            if ! why=$(python3 "$repo/tests/qemu/flash_whole.py" "$d/flash-at-cut.bin" "$n"); then
                fail "powercut $n/$total: after the cut a new certificate, from a torn record: $why"
                continue
            fi
            echo "    powercut $n/$total: the new certificate $(serial "$d/stored.pem"): $why"
            whole=$((whole + 1))
        fi
        ok=$((ok + 1))
    done
    [ "$ok" -eq 5 ] && pass "powercut: cut after $cuts of $total bytes of a renewal's save: every next boot has a certificate that verifies, the old one ($ENROLL_SERIAL) in $((ok - whole)) and a whole new record in $whole"
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
    # the keeper renews at its announced point: the device's phase of a
    # period 10% shorter than 2/3 of the 120 s lifetime, so in [8, 80] s
    # after notBefore (picoacme_keeper_fraction_point()), never later
    t0=$(openssl x509 -in "$d/c0.pem" -noout -startdate | cut -d= -f2)
    t1=$(openssl x509 -in "$d/c1.pem" -noout -startdate | cut -d= -f2)
    local gap=$(( $(date -d "$t1" +%s) - $(date -d "$t0" +%s) ))
    local nb0 at
    nb0=$(sed -n 's/^fw: stored in flash, valid \([0-9]*\)\.\.[0-9]*, renew at \([0-9]*\).*/\1/p' "$c" | head -n 1)
    at=$(sed -n 's/^fw: stored in flash, valid \([0-9]*\)\.\.[0-9]*, renew at \([0-9]*\).*/\2/p' "$c" | head -n 1)
    if [ -z "$at" ] || [ $((at - nb0)) -lt 7 ] || [ $((at - nb0)) -gt 81 ]; then
        fail "renew: planned renewal ${at:-?} is not within [8, 80] s of notBefore ${nb0:-?}"; return
    fi
    # slack as before: QEMU's clock lags the host's when the host is busy
    if [ "$gap" -lt $((at - nb0 - 3)) ] || [ "$gap" -gt $((at - nb0 + 30)) ]; then
        fail "renew: renewed $gap s after the first certificate, planned $((at - nb0))"; return
    fi
    boot "$d" later
    c=$d/console-later.log
    if [ "$rc" -ne 0 ] || ! grep -q '^stored certificate found' "$c" || ! chain "$c" stored 0 "$d/s.pem" \
       || [ "$(serial "$d/s.pem")" != "$s1" ]; then
        fail "renew: a later boot does not find the new certificate"; show "$c"; return
    fi
    pass "renew: 120 s certificate $s0 renewed by the device after $gap s as $s1; a later boot finds $s1"
}

# variant_enroll NAME CHALLENGE: boot the variant's image (ca_up done) on an
# empty flash; PASS text in $variant_ok, else a FAIL was reported.
variant_enroll() {
    local d=$work/$1 c
    variant_ok=
    boot "$d" enroll
    c=$d/console-enroll.log
    if [ "$rc" -ne 0 ] || ! grep -q '^ENROLLED' "$c" || ! chain "$c" issued 0 "$d/chain.pem"; then
        fail "$1: exit $rc, no ENROLLED chain"; show "$c"; return 1
    fi
    grep -q "^fw: challenge $2 " "$c" || { fail "$1: the image is not the $2 variant"; return 1; }
    verify "$d/chain.pem" || { fail "$1: the chain does not verify"; return 1; }
    variant_ok="$(grep '^ENROLLED' "$c"); serial $(serial "$d/chain.pem") for $DEVICE verifies against Pebble's root, leaf P-256"
    grep -E '^fw: (challenge|stored in flash|wolfSSL|exit)' "$c" | sed 's/^/    /'
}

case_chain12() {
    local d=$work/chain12 c n saved_path=$PATH
    if [ ! -x "${PICOACME_PEBBLE2_DIR:-}/pebble" ]; then
        echo "skipped: chain12 needs Pebble 2.10.1 (PICOACME_PEBBLE2_DIR unset)"; return
    fi
    mkdir -p "$work/p2.bin" && ln -sf "$PICOACME_PEBBLE2_DIR/pebble" "$work/p2.bin/pebble"
    export PATH="$work/p2.bin:$PATH" PEBBLE_CHAIN_LENGTH=12
    ca_up chain12 || { PATH=$saved_path; unset PEBBLE_CHAIN_LENGTH; fail "chain12: Pebble/firmware setup"; return; }
    PATH=$saved_path
    unset PEBBLE_CHAIN_LENGTH
    boot "$d" chain12
    c=$d/console-chain12.log
    if [ "$rc" -ne 0 ] || ! grep -q '^ENROLLED' "$c" || ! chain "$c" issued 0 "$d/chain.pem"; then
        fail "chain12: exit $rc, no ENROLLED chain"; show "$c"; return
    fi
    n=$(grep -c 'BEGIN CERTIFICATE' "$d/chain.pem")
    [ "$n" -ge 11 ] || { fail "chain12: $n certificates in the chain"; return; }
    verify "$d/chain.pem" || { fail "chain12: the chain does not verify"; return; }
    boot "$d" chain12-stored
    if [ "$rc" -ne 0 ] || ! chain "$d/console-chain12-stored.log" stored 0 "$d/stored.pem" \
        || ! cmp -s "$d/chain.pem" "$d/stored.pem"; then
        fail "chain12: a later boot does not find the same chain"; show "$d/console-chain12-stored.log"; return
    fi
    pass "chain12: $(grep '^ENROLLED' "$c"); $n certificates, $(wc -c <"$d/chain.pem") bytes of PEM, verify; found again after a reboot"
}

case_tlsalpn() {
    ca_up tlsalpn "" tls-alpn-01 || { fail "tlsalpn: Pebble/firmware setup"; return; }
    variant_enroll tlsalpn tls-alpn-01 || return
    # the image has no http-01 responder and only :443 is forwarded in
    pass "tlsalpn: $variant_ok; validated by tls-alpn-01 on :443 (no http-01 in the image, nothing forwarded to :80)"
}

case_dns01() {
    local log txt
    ca_up dns01 "" dns-01 || { fail "dns01: Pebble/BIND/firmware setup"; return; }
    variant_enroll dns01 dns-01 || return
    log=$BIND_WORKDIR/named.log
    grep -q "updating zone 'acme.test/IN': adding an RR at '_acme-challenge.$DEVICE' TXT" "$log" \
        || { fail "dns01: BIND logged no TXT add for _acme-challenge.$DEVICE"; return; }
    grep -Eq "updating zone 'acme.test/IN': deleting (an RR|rrset) at '?_acme-challenge.$DEVICE'? TXT" "$log" \
        || { fail "dns01: BIND logged no TXT delete (clean-up)"; return; }
    # BIND's query log marks queries that came over TCP with a T flag
    grep -Eq "query: _acme-challenge\.${DEVICE//./\\.} IN TXT [^ ]*T" "$log" \
        || { fail "dns01: no propagation query over TCP in BIND's log"; return; }
    txt=$(dig @127.0.0.1 -p "$BIND_PORT" +time=2 +tries=2 +norecurse +short "_acme-challenge.$DEVICE" TXT)
    [ -z "$txt" ] || { fail "dns01: TXT record left behind: $txt"; return; }
    pass "dns01: $variant_ok; BIND logged the TSIG-signed add and delete and TCP TXT queries; the TXT record is gone"
    bind_stop
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
for c in enroll stored powercut renew chain12 tlsalpn dns01; do
    case " $cases " in *" $c "*) ordered="$ordered $c" ;; esac
done
for c in $cases; do
    case " enroll stored powercut renew chain12 tlsalpn dns01 " in *" $c "*) ;; *) fail "unknown case $c" ;; esac
done
for c in $ordered; do
    case $c in
    enroll) case_enroll ;;
    stored) [ -n "$ENROLL_SERIAL" ] || case_enroll >/dev/null; case_stored ;;
    powercut) [ -n "$ENROLL_SERIAL" ] || case_enroll >/dev/null; case_powercut ;;
    renew) case_renew ;;
    chain12) case_chain12 ;;
    tlsalpn) case_tlsalpn ;;
    dns01) case_dns01 ;;
    esac
done
if [ "$fails" -ne 0 ]; then
    echo "FAIL: $fails case(s) failed, $passes passed"
    exit 1
fi
echo "PASS: $passes case(s) of: enrols (http-01, tls-alpn-01, dns-01), keeps, renews, survives power cuts"
