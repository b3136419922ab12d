#!/usr/bin/env bash
# hwkeys.sh -- the "keys in hardware" section of scripts/bench.sh (issue 11),
# also run alone: wall time of one issuance (fresh state: new account key,
# account, order, http-01, finalize, download) and of one ECDSA P-256
# signature (scripts/bench/hw_sign.c through the crypto port) with software
# keys (wolfCrypt), a SoftHSM2 token (ports/pkcs11) and swtpm over loopback
# TCP (ports/tpm2), as ratios to software, all in one run.
#
#   bash scripts/bench/hwkeys.sh     (BENCH_RUNS issuances per kind, default 3;
#                                     BENCH_HW_BUILD build dir, default build-hwkeys/)
#
# Markdown to stdout, progress to stderr. Everything listens on 127.0.0.1.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HWB=${BENCH_HW_BUILD:-$REPO/build-hwkeys}
RUNS=${BENCH_RUNS:-3}
. "$REPO/scripts/deps.sh"
. "$REPO/tests/e2e/pebble_env.sh"

hlog() { echo "bench-hwkeys: $*" >&2; }

picoacme_deps $PICOACME_HW_PKGS >&2 || exit 1
WSRC=$(sh "$REPO/scripts/fw-deps.sh" 2>/dev/null | sed -n 's/^WOLFSSL_SRC=//p' | tail -n 1)
{ cmake -S "$REPO" -B "$HWB" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPICOACME_WOLFSSL_SRC="$WSRC" -DPICOACME_HWKEYS=ON \
  && cmake --build "$HWB" --target picoacme hw_sign; } >&2 || { hlog "build failed"; exit 1; }
PA=$HWB/platform/linux/picoacme
SIGN=$HWB/tests/e2e/hw_sign

HW=$(mktemp -d /tmp/picoacme-bench-hw.XXXXXX)
HPIDS=()
hw_cleanup() {
    local p
    for p in "${HPIDS[@]+"${HPIDS[@]}"}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    pebble_stop
    rm -rf "$HW"
}
trap hw_cleanup EXIT
PEBBLE_WFE_NONCEREJECT=0 pebble_start "$HW/ca" PEBBLE_AUTHZREUSE=0 >&2 || { hlog "pebble failed"; exit 1; }

# SoftHSM2: a private token
P11=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -n 1)
mkdir -p "$HW/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$HW/tokens" >"$HW/softhsm2.conf"
export SOFTHSM2_CONF=$HW/softhsm2.conf PICOACME_PKCS11_PIN=4321
softhsm2-util --init-token --free --label bench --so-pin 87654321 --pin 4321 >&2 || exit 1

# swtpm on loopback TCP (the TCTI's control channel is port + 1)
read -r TP _ <<<"$(python3 -c '
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p, p + 1); break')"
mkdir -p "$HW/tpm"
swtpm_setup --tpm2 --tpmstate "$HW/tpm" --createek --overwrite >/dev/null 2>&1 || { hlog "swtpm_setup failed"; exit 1; }
swtpm socket --tpm2 --tpmstate dir="$HW/tpm" --server type=tcp,port="$TP",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((TP + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
    >"$HW/swtpm.log" 2>&1 &
HPIDS+=($!)
TCTI="swtpm:host=127.0.0.1,port=$TP"
for _ in $(seq 1 50); do tpm2_getcap -T "$TCTI" properties-fixed >/dev/null 2>&1 && break; sleep 0.1; done

# issue_ms KIND RUN: one fresh issuance, its wall time in ms on stdout
issue_ms() {
    local kind=$1 r=$2 d=$HW/$1.$2 t0 t1
    local -a extra=()
    case $kind in
    pkcs11) extra=(--pkcs11-module "$P11" --pkcs11-token bench) ;;
    tpm2) extra=(--tpm2-tcti "$TCTI") ;;
    esac
    mkdir -p "$d"
    t0=$(date +%s%N)
    "$PA" issue --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" --state "$d/state" \
        --domain "$kind$r.bench.internal" --http01-port "$PEBBLE_HTTP01_PORT" --out "$d/out" \
        "${extra[@]}" >"$d/log" 2>&1 || { hlog "$kind run $r failed: $(tail -n 1 "$d/log")"; return 1; }
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

declare -A ISS SIG
for kind in soft pkcs11 tpm2; do
    ISS[$kind]=$(for r in $(seq 1 "$RUNS"); do issue_ms "$kind" "$r"; done | median)
done
SIG[soft]=$("$SIGN" soft 500)
SIG[pkcs11]=$("$SIGN" pkcs11 "$P11" bench 200)
SIG[tpm2]=$("$SIGN" tpm2 "$TCTI" 50)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f×", a / b; else print "—" }'; }
echo
echo "## keys in hardware"
echo
echo "One fresh issuance (median of $RUNS; Pebble on 127.0.0.1, http-01, one name) and one"
echo "ECDSA P-256 signature through the crypto port (mean), on $(nproc) CPUs ($(uname -m))."
echo
echo "| keys | port | one issuance (ms) | × software | one signature (µs) | × software |"
echo "|---|---|---:|---:|---:|---:|"
for kind in soft pkcs11 tpm2; do
    case $kind in
    soft) name="software (wolfCrypt)"; port="ports/wolfssl" ;;
    pkcs11) name="SoftHSM2 $(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null)"; port="ports/pkcs11" ;;
    tpm2) name="swtpm $(dpkg-query -W -f='${Version}' swtpm 2>/dev/null), TCP"; port="ports/tpm2" ;;
    esac
    echo "| $name | $port | ${ISS[$kind]:-failed} | $(ratio "${ISS[$kind]:-0}" "${ISS[soft]:-0}") | ${SIG[$kind]:-failed} | $(ratio "${SIG[$kind]:-0}" "${SIG[soft]:-0}") |"
done
echo
echo "An issuance makes 2 key pairs (account, certificate) and about 9 signatures; with keys in"
echo "hardware it also looks the keys up again and prunes the replaced ones. The software"
echo "signature is wolfCrypt as the command builds it (WOLFSSL_SP_SMALL C code, -Os, blinded);"
echo "SoftHSM2 and libtpms sign with OpenSSL's assembly P-256, swtpm one TCP round trip away."
