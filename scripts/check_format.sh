#!/usr/bin/env bash
# check_format.sh [--all]: every C file of the repository (core, all ports
# including ports/lwip, platform including qemu-mps2, tests, scripts: the
# files git knows plus new ones git does not ignore) follows .clang-format
# (clang-format 14, Debian package clang-format). --all is the default and
# is still accepted.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
case "${1:-}" in
--all | "")
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | sort -u)
    else
        files=$(find . -path './build*' -prune -o \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
    fi
    ;;
*)
    echo "usage: $0 [--all]" >&2
    exit 2
    ;;
esac
# shellcheck disable=SC2086
clang-format --style=file --dry-run --Werror $files
echo "$(echo "$files" | wc -w) files follow .clang-format"
