#!/usr/bin/env bash
# check_profiles.sh JSMN_DIR: compile every core file for Cortex-M3 with the
# core's warnings as errors in several option profiles, so options that are
# off by default cannot rot. Prints one line per profile; exits non-zero on
# the first failure.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
jsmn=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-mcpu=cortex-m3 -mthumb -Os -std=c11 -Wall -Wextra -Werror -Wconversion
       -Wsign-conversion -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla)
profiles=(
    ""
    "-DPICOACME_TLSALPN01=0 -DPICOACME_DNS01=0 -DPICOACME_LOG_LEVEL=0 -DPICOACME_ERROR_TEXT=0 -DPICOACME_JSON_STRICT=0 -DPICOACME_EAB=0"
    "-DPICOACME_HTTP01=0 -DPICOACME_LOG_LEVEL=4"
    "-DPICOACME_LOG_LEVEL=1 -DPICOACME_MAX_IDENTIFIERS=1 -DPICOACME_RX_BUF_SIZE=4096U -DPICOACME_CERT_MAX=3072U"
    "-DPICOACME_ARI=0 -DPICOACME_LOG_LEVEL=4"
    "-DPICOACME_LIFECYCLE=0 -DPICOACME_LOG_LEVEL=1"
    "-DPICOACME_ASSERT_ENABLE=1 -DPICOACME_DNS01=0 -DPICOACME_HTTP_LINK=0 -DPICOACME_LOG_LEVEL=4"
)
for p in "${profiles[@]}"; do
    for f in "$repo"/core/src/*.c; do
        # shellcheck disable=SC2086
        arm-none-eabi-gcc "${flags[@]}" $p -I"$repo/core/include/picoacme" -I"$jsmn" \
            -c "$f" -o "$out/$(basename "$f" .c).o"
    done
    echo "ok: core builds for Cortex-M3 with ${p:-the defaults}"
done
