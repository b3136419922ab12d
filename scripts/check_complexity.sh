#!/usr/bin/env bash
# check_complexity.sh [FILE.c ...] -- the complexity gate of the core
# (default: core/src/*.c), measured with pmccabe (Debian package pmccabe):
# fails when a function has a modified cyclomatic complexity (pmccabe's
# first column) above 20 or is longer than 80 lines, and prints each
# offender. Also prints how many functions are above 15 (the goal) and the
# largest complexity and length. ctest static.complexity.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
MAX_MCC=20
MAX_LINES=80
GOAL_MCC=15
command -v pmccabe >/dev/null 2>&1 || { echo "pmccabe not installed (scripts/deps.sh)"; exit 1; }
if [ $# -eq 0 ]; then
    set -- core/src/*.c
fi
# pmccabe: modified-ccn ccn statements first-line lines file(line): function
pmccabe "$@" | awk -F'\t' -v max_mcc=$MAX_MCC -v max_lines=$MAX_LINES -v goal=$GOAL_MCC '
{
    mcc = $1 + 0; len = $5 + 0; where = $6
    n++
    if (mcc > goal) above++
    if (mcc > top_mcc) { top_mcc = mcc; top_mcc_at = where }
    if (len > top_len) { top_len = len; top_len_at = where }
    why = ""
    if (mcc > max_mcc) why = "complexity " mcc " > " max_mcc
    if (len > max_lines) why = why (why == "" ? "" : ", ") len " lines > " max_lines
    if (why != "") { bad++; printf "OFFENDER %s: %s\n", where, why }
}
END {
    printf "%d functions; %d above complexity %d; max complexity %d (%s); longest %d lines (%s)\n", \
        n, above + 0, goal, top_mcc, top_mcc_at, top_len, top_len_at
    if (bad > 0) {
        printf "FAIL: %d functions over the limits (complexity %d, %d lines)\n", bad, max_mcc, max_lines
        exit 1
    }
    printf "PASS: no function over complexity %d or %d lines\n", max_mcc, max_lines
}'
