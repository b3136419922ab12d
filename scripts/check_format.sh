#!/usr/bin/env bash
# check_format.sh: the core, the POSIX and wolfSSL ports and the Linux
# command follow .clang-format (clang-format 14, Debian package clang-format).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
files=$(ls core/src/*.c core/src/*.h core/include/picoacme/*.h ports/posix/src/*.c \
        ports/posix/include/*.h ports/wolfssl/src/*.c ports/wolfssl/include/*.h \
        platform/linux/main.c 2>/dev/null)
# shellcheck disable=SC2086
clang-format --style=file --dry-run --Werror $files
echo "$(echo "$files" | wc -w) files follow .clang-format"
