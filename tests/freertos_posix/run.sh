#!/usr/bin/env bash
# run.sh BINARY WORKDIR - the keeper task on FreeRTOS's POSIX simulator
# (ASan/UBSan build) enrols against a local Pebble by http-01; the chain it
# prints verifies against Pebble's root. BINARY empty: skipped (no kernel).
set -u
bin=$1
work=$2
if [ -z "$bin" ]; then
    echo "skipped: no FreeRTOS kernel tarball (../shared/third_party/FreeRTOS-Kernel-V11.3.0.tar.gz)"
    exit 77
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/tests/e2e/pebble_env.sh"
rm -rf "$work"
mkdir -p "$work"
trap pebble_stop EXIT
PEBBLE_WFE_NONCEREJECT=0 pebble_start "$work/pebble" >/dev/null || { echo "FAIL: Pebble did not start"; exit 1; }
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    timeout 150 "$bin" "$PEBBLE_DIR_URL" "$PEBBLE_TLS_ROOT" "$work/state.bin" \
    "$PEBBLE_HTTP01_PORT" device.internal >"$work/out.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '^ENROLLED' "$work/out.log"; then
    echo "FAIL: exit $rc"; tail -n 30 "$work/out.log"; exit 1
fi
if grep -qE 'runtime error|AddressSanitizer' "$work/out.log"; then
    echo "FAIL: sanitizer report"; grep -E -A5 'runtime error|AddressSanitizer' "$work/out.log"; exit 1
fi
sed -n '/^chain begin$/,/^chain end$/p' "$work/out.log" | grep -v '^chain ' >"$work/chain.pem"
awk '/BEGIN CERTIFICATE/{n++} n==1{print}' "$work/chain.pem" >"$work/leaf.pem"
awk '/BEGIN CERTIFICATE/{n++} n>1{print}' "$work/chain.pem" >"$work/inter.pem"
openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$work/inter.pem" "$work/leaf.pem" >/dev/null \
    || { echo "FAIL: the chain does not verify"; exit 1; }
echo "PASS: $(grep '^ENROLLED' "$work/out.log"), chain verifies, no sanitizer report"
