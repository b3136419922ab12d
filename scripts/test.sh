#!/usr/bin/env bash
# test.sh -- install what is missing, build everything, run every test.
# .ci/run calls exactly this.
#
#   build/       host build (ports, linux command, unit + e2e + static tests)
#   build-m3/    core cross-built for Cortex-M3 (cmake/arm-none-eabi.cmake),
#                checked for heap allocator references with arm-none-eabi-nm
#   build-fuzz/  clang build with -DPICOACME_FUZZ=ON, fuzz tests run
#   build-variants/  Release and Debug with gcc and clang, no warning
#                (scripts/check_builds.sh)
#
# wolfSSL for the host and fuzz builds is compiled from the Debian source
# package (scripts/fw-deps.sh unpacks it into build-deps/) with
# ports/wolfssl/user_settings_host.h; without it, the system libwolfssl.
#
# Ends with one line "N passed, N failed": the sum over all ctest runs plus
# the M3 no-heap check and check_builds.sh, with every build step that fails counted as one
# failure. Exits non-zero on any failure. PICOACME_BUILD_PREFIX=build-x
# uses build-x/, build-x-m3/, build-x-fuzz/, build-x-variants/ instead.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$REPO/scripts/deps.sh"
B=$REPO/${PICOACME_BUILD_PREFIX:-build}   # build dirs: $B, $B-m3, $B-fuzz
JOBS=$(nproc 2>/dev/null || echo 2)
PASSED=0
FAILED=0
FAILURES=()

step() { printf '\n=== %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); FAILURES+=("$1"); echo "FAILED: $1"; }

# run_ctest NAME DIR [ctest args]: run, add its counts to the totals.
run_ctest() {
    local name=$1 dir=$2; shift 2
    local log=$dir/ctest-summary.log rc=0
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    local line failed total
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        failed=$(echo "$line" | sed -E 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
        total=$(echo "$line" | sed -E 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/')
        PASSED=$((PASSED + total - failed))
        FAILED=$((FAILED + failed))
        [ "$failed" -eq 0 ] || FAILURES+=("$name: $failed of $total tests")
        if [ "$failed" -eq 0 ] && [ "$rc" -ne 0 ]; then bad "$name: ctest exited $rc"; fi
    elif grep -q 'No tests were found' "$log"; then
        echo "($name: no tests)"
    else
        bad "$name: ctest did not run (exit $rc)"
    fi
}

step "dependencies"
picoacme_deps || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

step "wolfSSL and lwIP sources, cross/QEMU packages (scripts/fw-deps.sh)"
WOLFSSL_SRC=""
if FW_DEPS_OUT=$(sh "$REPO/scripts/fw-deps.sh"); then
    echo "$FW_DEPS_OUT"
    WOLFSSL_SRC=$(echo "$FW_DEPS_OUT" | sed -n 's/^WOLFSSL_SRC=//p' | tail -n 1)
else
    echo "$FW_DEPS_OUT"
    bad "fw-deps.sh (host build falls back to the system libwolfssl)"
fi

# Pebble 2.10.1 (ARI, profiles, ECDSA chains) for the e2e.pebble2-* cases,
# when ../shared/ca is there; without it those cases say "skipped".
if [ -f "$REPO/../shared/ca/build-pebble.sh" ]; then
    step "Pebble 2.10.1 (../shared/ca/build-pebble.sh)"
    P2=$(bash "$REPO/../shared/ca/build-pebble.sh" | sed -n 's/^PEBBLE2_DIR=//p' | tail -n 1)
    if [ -n "$P2" ] && [ -x "$P2/pebble" ]; then
        export PICOACME_PEBBLE2_DIR=$P2
    else
        bad "build-pebble.sh (the e2e.pebble2-* cases will say skipped)"
    fi
fi

step "host build (${B#$REPO/}/)"
if cmake -S "$REPO" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPICOACME_WOLFSSL_SRC="$WOLFSSL_SRC" -DPICOACME_ASSERTS=ON -DPICOACME_HWKEYS=ON \
   && cmake --build "$B" -j "$JOBS"; then
    step "host tests (all labels)"
    run_ctest host "$B"
else
    bad "host build"
fi

step "Release and Debug builds with gcc and clang, warning-free (${B#$REPO/}-variants/)"
# host targets only, -j2, system libwolfssl: ~2 min on 2 cores
if bash "$REPO/scripts/check_builds.sh" "$B-variants"; then
    PASSED=$((PASSED + 1))
else
    bad "check_builds.sh (a build type or compiler warns or fails)"
fi

step "Cortex-M3 core build (${B#$REPO/}-m3/)"
if cmake -S "$REPO" -B "$B-m3" -G Ninja \
        -DCMAKE_TOOLCHAIN_FILE="$REPO/cmake/arm-none-eabi.cmake" \
   && cmake --build "$B-m3" -j "$JOBS" --target picoacme_core; then
    # the whole cross tree too (firmware targets, when present)
    cmake --build "$B-m3" -j "$JOBS" || bad "build-m3 (all targets)"
    step "Cortex-M3 core: no heap allocator"
    if bash "$REPO/scripts/check_no_heap.sh" arm-none-eabi-nm "$B-m3/core/libpicoacme_core.a"; then
        PASSED=$((PASSED + 1))
    else
        bad "m3 core references a heap allocator"
    fi
    arm-none-eabi-size -t "$B-m3/core/libpicoacme_core.a" | tail -n 1
else
    bad "build-m3 (picoacme_core)"
fi

step "fuzz build (${B#$REPO/}-fuzz/, clang)"
if CC=clang cmake -S "$REPO" -B "$B-fuzz" -G Ninja -DPICOACME_FUZZ=ON -DPICOACME_ASSERTS=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICOACME_WOLFSSL_SRC="$WOLFSSL_SRC" \
   && cmake --build "$B-fuzz" -j "$JOBS"; then
    step "fuzz tests"
    run_ctest fuzz "$B-fuzz" -L fuzz
else
    bad "fuzz build"
fi

step "summary"
for f in "${FAILURES[@]+"${FAILURES[@]}"}"; do echo "  failed: $f"; done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
