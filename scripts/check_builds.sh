#!/usr/bin/env bash
# check_builds.sh [OUT_DIR] -- the plain build types compile warning-free:
# Release and Debug, with gcc and with clang (CC=clang). Builds the host
# targets only (core, ports, the picoacme command, the unit tests; no test
# is run), -j2, in OUT_DIR/<cc>-<type> (default <repo>/build-variants/).
# Fails when a build fails (the project builds with -Werror) or when the
# compiler printed any warning.
#
# wolfSSL: the system libwolfssl (libwolfssl-dev) unless
# PICOACME_WOLFSSL_SRC names a source tree (then it is compiled 4 times).
# Env: CHECK_BUILDS_CCS (default "gcc clang"), CHECK_BUILDS_TYPES (default
# "Release Debug"), JOBS (default 2).
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build-variants}
jobs=${JOBS:-2}
wsrc=${PICOACME_WOLFSSL_SRC:-system}
static=OFF
[ "$wsrc" = system ] || static=ON

targets="picoacme_core picoacme_posix picoacme_wolfssl picoacme"
for t in "$repo"/tests/unit/test_*.c; do
    targets="$targets $(basename "$t" .c)"
done

failed=0
t_all=$(date +%s)
for cc in ${CHECK_BUILDS_CCS:-gcc clang}; do
    command -v "$cc" >/dev/null 2>&1 || { echo "FAIL $cc: not installed"; failed=$((failed + 1)); continue; }
    for type in ${CHECK_BUILDS_TYPES:-Release Debug}; do
        name=$cc-$(echo "$type" | tr 'A-Z' 'a-z')
        b=$out/$name
        log=$out/$name.log
        mkdir -p "$out"
        t0=$(date +%s)
        # shellcheck disable=SC2086
        if CC=$cc cmake -S "$repo" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE="$type" \
               -DPICOACME_WOLFSSL_SRC="$wsrc" -DPICOACME_LINUX_STATIC=$static >"$log" 2>&1 \
           && nice cmake --build "$b" -j "$jobs" --target $targets >>"$log" 2>&1; then
            if grep -E '(^|: )warning: ' "$log" >/dev/null; then
                echo "FAIL $name: warnings ($log)"
                grep -E -B2 -A4 '(^|: )warning: ' "$log" | head -n 40
                failed=$((failed + 1))
            else
                echo "ok   $name ($(($(date +%s) - t0)) s)"
            fi
        else
            echo "FAIL $name: build failed ($log)"
            grep -E -B2 -A6 'error|warning' "$log" | head -n 60
            failed=$((failed + 1))
        fi
    done
done
echo "check_builds: $failed failed, $(($(date +%s) - t_all)) s"
[ "$failed" -eq 0 ]
